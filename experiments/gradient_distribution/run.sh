#!/usr/bin/env bash
# Comparison 3 (paper §3, Fig. 1): the distribution of agent gradients, log10(|g| + 1e-8), at the first,
# middle and last tenth of training, for A2C on big_dense_long (RMSProp and Adam) and for a supervised
# classifier on a generated Gaussian-mixture task.
source "$(dirname "$0")/../common.sh"
LOG=logs/exp3.log; mkdir -p logs; : >"$LOG"
sweep_bg configs/quick_collect_bdl.json 1 2
sweep_bg configs/collect_sl.json 1 2; wait
out=docs/results/gradient_distribution; mkdir -p "$out"
$O analyze gradients logs/quick_collect_bdl/1 logs/quick_collect_bdl/2 logs/collect_sl/2 --output-dir "$out" \
  --title "Agent gradients drift and span many orders of magnitude; supervised gradients do not" | tee "$out/summary.txt"
