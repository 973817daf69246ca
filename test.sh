#!/usr/bin/env bash
# Builds and runs the whole test suite (README command 2), then prints the totals as
# "N passed, N failed, N skipped" on a line of its own. Exit status is non-zero when a test fails.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
scripts/setup.sh || exit 1
results="$root/.build/test-results"
rm -rf "$results"
dotnet test "$root/Optim4RL.slnx" -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@"
status=$?
trx="$results/tests.trx"
if [ ! -f "$trx" ]; then
  echo "test.sh: no test results file was written (build failure?)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
get() { echo "$counters" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
skipped=$(( total - executed ))
failed=$(( failed + $(get error) + $(get timeout) + $(get aborted) ))
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
exit 0
