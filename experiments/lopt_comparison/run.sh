#!/usr/bin/env bash
# Comparison 1 (paper §5.1, Fig. 3-4): Optim4RL, LinearOptim, L2LGD2 and STAR, each meta-trained with
# pipeline training on the task, against Adam and RMSProp, on Catch, small_dense_long and big_dense_long.
# Scale (see README.md beside this file): meta-training B = 32 agents (16 on bdl), 300 (150) meta-iterations;
# evaluation A2C with 64 environments, 5e5 / 3e6 / 1e6 steps, 3 seeds per optimizer.
source "$(dirname "$0")/../common.sh"
SEEDS=${SEEDS:-3}
LOG=logs/exp1.log; mkdir -p logs; : >"$LOG"
# Meta-training: 4 learned optimizers per task (indices 1-4).
sweep_bg experiments/lopt_comparison/exp1_meta_bdl.json 1 4
sweep_bg experiments/lopt_comparison/exp1_meta_catch.json 1 4; wait
sweep_bg experiments/lopt_comparison/exp1_meta_sdl.json 1 4
# Evaluation: 6 optimizers x SEEDS seeds (indices k, k+6, k+12 are seeds of optimizer k).
n=$((6 * SEEDS))
sweep_bg experiments/lopt_comparison/exp1_eval_catch.json 1 "$n"; wait
sweep_bg experiments/lopt_comparison/exp1_eval_sdl.json 1 "$n"
sweep_bg experiments/lopt_comparison/exp1_eval_bdl.json 1 $((n / 2)); wait
sweep_bg experiments/lopt_comparison/exp1_eval_bdl.json $((n / 2 + 1)) "$n"; wait
out=docs/results/lopt_comparison; mkdir -p "$out"
for t in catch sdl bdl; do
  $O plot logs/exp1_eval_$t --output "$out/curves_$t" --title "A2C on $t ($SEEDS seeds, 90% CI)"
  $O report logs/exp1_eval_$t --output "$out/report_$t.md"
done
