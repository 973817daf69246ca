#!/usr/bin/env bash
# Transfer (paper §5.4, Fig. 7): Optim4RL meta-trained only on six gridworlds (MetaA2C, pipeline training),
# then used to train PPO agents on unseen MuJoCo tasks (Ant, Humanoid, InvertedDoublePendulum, Walker2d),
# against Adam and RMSProp, with each task's PPO settings from the reference's files and one α for all three
# optimizers (3e-5 on Walker2d, 3e-4 elsewhere), gradient clip 1.
# Scale: meta-training B = 16 agents per gridworld, 150 meta-iterations; PPO with 64 environments and
# 3e5 (Ant, Humanoid) or 5e5 (InvertedDoublePendulum, Walker2d) steps, 2 seeds per optimizer.
source "$(dirname "$0")/../common.sh"
SEEDS=${SEEDS:-2}
LOG=logs/exp4.log; mkdir -p logs; : >"$LOG"
$O run --config experiments/transfer/exp4_meta_grid.json --config-idx 1 >>"$LOG" 2>&1
n=$((3 * SEEDS))
sweep_bg experiments/transfer/exp4_ppo_ant.json 1 "$n"
sweep_bg experiments/transfer/exp4_ppo_humanoid.json 1 "$n"; wait
sweep_bg experiments/transfer/exp4_ppo_inverted_double_pendulum.json 1 "$n"
sweep_bg experiments/transfer/exp4_ppo_walker2d.json 1 "$n"; wait
out=docs/results/transfer; mkdir -p "$out"
for t in ant humanoid inverted_double_pendulum walker2d; do
  $O plot logs/exp4_ppo_$t --group-by optim.name --output "$out/curves_$t" --title "PPO on $t, gridworld-trained Optim4RL ($SEEDS seeds)"
  $O report logs/exp4_ppo_$t --group-by optim.name --best-by optim.name --output "$out/report_$t.md"
done
