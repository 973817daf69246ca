#!/usr/bin/env bash
# Comparison 2 (paper §5.3, Fig. 6): Optim4RL meta-trained with pipeline training (MetaA2C, reset interval 32)
# and without it (MetapA2C, agents never reset), two meta-training seeds each, on small_dense_long and
# big_dense_long; each φ then trains fresh A2C agents (3 seeds).
source "$(dirname "$0")/../common.sh"
SEEDS=${SEEDS:-3}
LOG=logs/exp2.log; mkdir -p logs; : >"$LOG"
sweep_bg experiments/pipeline_ablation/exp2_meta_bdl.json 1 2
sweep_bg experiments/pipeline_ablation/exp2_metap_bdl.json 1 2; wait
sweep_bg experiments/pipeline_ablation/exp2_meta_sdl.json 1 2
sweep_bg experiments/pipeline_ablation/exp2_metap_sdl.json 1 2; wait
# Evaluation: 2 φ (meta-training seeds k = 1, 2) x SEEDS seeds, for each variant.
n=$((2 * SEEDS))
sweep_bg experiments/pipeline_ablation/exp2_eval_pipe_sdl.json 1 "$n"
sweep_bg experiments/pipeline_ablation/exp2_eval_nopipe_sdl.json 1 "$n"; wait
sweep_bg experiments/pipeline_ablation/exp2_eval_pipe_bdl.json 1 "$n"
sweep_bg experiments/pipeline_ablation/exp2_eval_nopipe_bdl.json 1 "$n"; wait
out=docs/results/pipeline_ablation; mkdir -p "$out"
for t in sdl bdl; do
  # One line per variant: both meta-training seeds and all evaluation seeds pooled.
  $O plot logs/exp2_eval_pipe_$t logs/exp2_eval_nopipe_$t --group-by exp --output "$out/curves_$t" \
    --title "Optim4RL with / without pipeline training, A2C on $t"
  $O report logs/exp2_eval_pipe_$t logs/exp2_eval_nopipe_$t --group-by exp --best-by exp --output "$out/report_$t.md"
done
for t in sdl bdl; do for v in meta metap; do for k in 1 2; do
  tail -n 1 logs/exp2_${v}_$t/$k/meta_train.csv | sed "s|^|exp2_${v}_$t/$k,|"
done; done; done >"$out/meta_training_last_rows.csv"
