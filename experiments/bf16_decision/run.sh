#!/usr/bin/env bash
# Should a bfloat16 recurrent state become the default? The curve half of the rule (the meta-gradient half,
# cos ≥ 0.999 and rel. err ≤ 1e-3, is in docs/results/performance_bounds.md): meta-train MetaA2C + Optim4RL on
# big_dense_long at the reference scale (B = 512 agents, reference network, K = 4, reset interval 144, meta Adam
# 3e-4 with grad_norm 0.5, the confirm run's settings) for 100 meta-iterations, 3 seeds (42, 43, 44) × {float32,
# bfloat16} state (bf16_decision.json: k = 1, 3, 5 float32, k = 2, 4, 6 bfloat16, seeds paired), one run after the
# other, each with its wall time and peak memory; then report.py writes report.md: per dtype the mean over seeds
# of meta_loss and agents_mean_return (meta_train.csv) at every iteration, the seed spread, the difference between
# the dtypes against it, the final-20-iteration means, and the wall time and peak memory of every run.
# Needs an idle machine: about 5 min per run on 2 idle cores (2.6 s per meta-iteration), ≈ 30 min in all; peak
# ≈ 3.6 GB (float32) and ≈ 2.3 GB (bfloat16) per run.
#   CONFIG=experiments/bf16_decision/bf16_decision_tiny.json OUT=/tmp/bf16_tiny experiments/bf16_decision/run.sh
# checks the script end to end in a minute (3 meta-iterations of B = 16; its report says nothing about bfloat16).
# Results: docs/results/bf16_decision/ (report.md, curves.csv, time.log, run.log, runs/<k>_<dtype>_seed<s>_{meta_train,metrics}.csv).
source "$(dirname "$0")/../common.sh"
E=experiments/bf16_decision
CONFIG=${CONFIG:-$E/bf16_decision.json}
name=$(basename "$CONFIG" .json)
out=${OUT:-docs/results/bf16_decision}; mkdir -p "$out/runs"
LOG=$out/run.log
LOGS=${LOGS:-logs}
timed() { /usr/bin/time -a -o "$out/time.log" -f "%e s wall, %M KB peak: $*" "$@" >>"$LOG" 2>&1; }
: >"$out/time.log"
: >"$LOG"
runs=$($O sweep --config "$CONFIG" | sed -n 's/^[^:]*: \([0-9]*\) combination.*/\1/p')
[ -n "$runs" ] || { echo "could not count the configurations of $CONFIG" >&2; exit 1; }
for k in $(seq 1 "$runs"); do
  # No checkpoint before the end (--checkpoint-every above the run's length); the end's checkpoint.bin (≈ 1.4 GB at
  # float32) is deleted once the CSVs are copied, meta_state.bin and param.json stay.
  timed $O run --config "$CONFIG" --config-idx "$k" --logs "$LOGS" --overwrite --checkpoint-every 100000
  d=$LOGS/$name/$k
  tag="${k}_$(jq -r '.provenance.numerics.state_dtype' "$d/config.json")_seed$(jq -r '.seed' "$d/config.json")"
  cp "$d/meta_train.csv" "$out/runs/${tag}_meta_train.csv"
  cp "$d/metrics.csv" "$out/runs/${tag}_metrics.csv"
  rm -f "$d/checkpoint.bin" "$d/checkpoint.prev.bin"
done
python3 $E/report.py --runs "$LOGS/$name" --time-log "$out/time.log" --config "$CONFIG" --curves-csv "$out/curves.csv" >"$out/report.md"
echo "wrote $out/report.md"
