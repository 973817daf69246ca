# Shared by the experiment scripts. Run them from anywhere; they cd to the repository root.
# OPTIM4RL overrides the command (default: the ./optim4rl launcher, which builds when needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
O=${OPTIM4RL:-./optim4rl}
# Build once up front, so parallel jobs never race to rebuild.
[ -n "${OPTIM4RL:-}" ] || ./optim4rl --help >/dev/null
# Runs "sweep --run" over indices FROM..TO of a config, in the background.
sweep_bg() { $O sweep --config "$1" --run --from "$2" --to "$3" --threads 1 >>"$LOG" 2>&1 & }
# run_once CONFIG K RUNS [OPTIONS…]: runs index K of CONFIG into RUNS/<config name>/K, a folder meant to be committed
# (RUNS/.gitignore keeps checkpoints, policies and event files out), unless its wall.txt shows it finished. A run
# stopped part-way resumes exactly from its checkpoint.bin, or, on a machine without that file, continues from its
# small meta_state.bin with a fresh population (--restart-population, docs/run-directories.md); any other run is
# redone. So a stop loses at most the run in flight, and the next session, on any machine, goes on from there.
run_once() {
  local cfg=$1 k=$2 runs=$3; shift 3
  local d; d=$runs/$(basename "$cfg" .json)/$k
  [ -f "$d/wall.txt" ] && return 0
  local how=--overwrite
  if [ -f "$d/checkpoint.bin" ]; then how=--resume; elif [ -f "$d/meta_state.bin" ]; then how=--restart-population; fi
  mkdir -p "$runs"
  printf 'checkpoint*.bin\npolicy_*.bin\nevents.out.tfevents.*\nmetrics.csv\n.lock*\n.*.tmp\n' >"$runs/.gitignore"
  /usr/bin/time -o "$runs/.wall.tmp" -f "%e s wall, %M KB peak" $O run --config "$cfg" --config-idx "$k" --logs "$runs" $how "$@" >>"$LOG" 2>&1
  { cat "$runs/.wall.tmp"; [ "$how" = --overwrite ] || echo "(last part only: continued with $how)"; } >"$d/wall.txt"
  echo "$(cat "$d/wall.txt" | head -1): $(basename "$cfg" .json) #$k" >>"${TIMELOG:-/dev/null}"
  rm -f "$runs/.wall.tmp"
}
# run_range CONFIG FROM TO RUNS [OPTIONS…]: run_once for every index FROM..TO.
run_range() { local cfg=$1 from=$2 to=$3 runs=$4; shift 4; for k in $(seq "$from" "$to"); do run_once "$cfg" "$k" "$runs" "$@"; done; }
