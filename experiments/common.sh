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
# (a RUNS/.gitignore, written when the folder has none, keeps checkpoints, policies, event files and per-update
# metrics out), unless its wall.txt shows it finished. A run
# stopped part-way resumes exactly from its checkpoint.bin, or, on a machine without that file, continues from its
# small meta_state.bin with a fresh population (--restart-population, docs/run-directories.md); any other run is
# redone. So a stop loses at most the run in flight, and the next session, on any machine, goes on from there.
# A finished run's checkpoints are deleted.
run_once() {
  local cfg=$1 k=$2 runs=$3; shift 3
  local name; name=$(basename "$cfg" .json)
  local d=$runs/$name/$k tmp=$runs/.$name.$k.wall.tmp
  [ -f "$d/wall.txt" ] && return 0
  local how=--overwrite
  if [ -f "$d/checkpoint.bin" ]; then how=--resume; elif [ -f "$d/meta_state.bin" ]; then how=--restart-population; fi
  mkdir -p "$runs"
  [ -f "$runs/.gitignore" ] || printf 'checkpoint*.bin\npolicy_*.bin\nevents.out.tfevents.*\nmetrics.csv\n.lock*\n.*.tmp\n' >"$runs/.gitignore"
  # Checked here, not left to set -e, which a caller's `run_once … || …` would switch off.
  if ! /usr/bin/time -o "$tmp" -f "%e s wall, %M KB peak" $O run --config "$cfg" --config-idx "$k" --logs "$runs" $how "$@" >>"$LOG" 2>&1; then
    rm -f "$tmp"; echo "run_once: $name #$k failed; see $LOG" >&2; return 1
  fi
  { cat "$tmp"; [ "$how" = --overwrite ] || echo "(last part only: continued with $how)"; } >"$d/wall.txt"
  rm -f "$d"/checkpoint*.bin   # a finished run's population (gigabytes for B = 512) is not needed again; φ and meta_state.bin stay
  echo "$(head -1 "$d/wall.txt"): $name #$k${JOBS_NOTE:-}" >>"${TIMELOG:-/dev/null}"
  rm -f "$tmp"
}
# run_range CONFIG FROM TO RUNS [OPTIONS…]: run_once for every index FROM..TO. With JOBS=n (n > 1), n runs at a
# time, one thread each: for runs whose own threads do not keep the cores busy (A2C on a gridworld). The numbers
# are the same as one after the other (a seed's results do not depend on the thread count); wall times are not
# comparable with sequential ones, so time.log marks them. A failed run stops the script, as it does sequentially.
run_range() {
  local cfg=$1 from=$2 to=$3 runs=$4; shift 4
  local jobs=${JOBS:-1} k
  if [ "$jobs" -le 1 ]; then
    for k in $(seq "$from" "$to"); do run_once "$cfg" "$k" "$runs" "$@" || return 1; done
    return 0
  fi
  local failed=$runs/.failed.tmp
  mkdir -p "$runs"; rm -f "$failed"
  for k in $(seq "$from" "$to"); do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    [ -e "$failed" ] && break
    { JOBS_NOTE=" ($jobs at a time, 1 thread each)" run_once "$cfg" "$k" "$runs" --threads 1 "$@" || echo "$k" >>"$failed"; } &
  done
  wait
  if [ -e "$failed" ]; then echo "run_range: $(basename "$cfg" .json) index $(head -1 "$failed") failed; see $LOG" >&2; rm -f "$failed"; return 1; fi
}
# selected_phi OUT TASK: the φ file the selection picked, as `report --best-json` wrote it into OUT/select_best.json.
selected_phi() { jq -r --arg t "$2" '.[$t].Optim4RL.config["agent_optim.kwargs.param_load_path"]' "$1/select_best.json"; }
# run_of PHI: the run directory a φ file belongs to (its param.json, or a snapshot in its phi/ folder).
run_of() { local d; d=$(dirname "$1"); [ "$(basename "$d")" = phi ] && d=$(dirname "$d"); echo "$d"; }
