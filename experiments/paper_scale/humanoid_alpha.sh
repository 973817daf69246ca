#!/usr/bin/env bash
# Is α the cause of the six-gridworld φ's Humanoid miss? (docs/results/paper_scale/grid6/transfer_humanoid.md)
# At α 3e-4 the learned φ moves every coordinate by about 1.6 α per update, ten times Adam's step, and the value
# loss stays 10⁴ times Adam's. This runs the learned φ at α 1e-4 and 3e-5 on one selection seed (1000, disjoint
# from the reported seeds 42…44), with Humanoid's own PPO settings and 3e6 steps as in the transfer runs.
# A diagnostic, not a reported result: a better α found here would need the 3 reported seeds to count.
# Runs go to docs/results/paper_scale/grid6/transfer_logs/humanoid_alpha/<k>/ (skipped when finished).
source "$(dirname "$0")/../common.sh"
E=experiments/paper_scale/grid6
out=docs/results/paper_scale/grid6
LOG=$out/run.log
TIMELOG=$out/time.log
runs=$out/transfer_logs
jq --arg phi "$out/param.json" '.seed = [1000] | .generate_random_seed = [false]
  | .optim = [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [$phi], "learning_rate": [1e-4, 3e-5], "grad_clip": [1]}]}]' \
  "$E/transfer_humanoid.json" >"$E/humanoid_alpha.json"
run_range "$E/humanoid_alpha.json" 1 2 "$runs"
$O report "$runs/humanoid_alpha" --normalise-by none --title "PPO on humanoid, six-gridworld φ at smaller α (selection seed 1000)" \
  --output "$out/humanoid_alpha.md" >/dev/null
$O plot "$runs/humanoid_alpha" --output "$out/humanoid_alpha" --title "PPO on humanoid, learned φ at α 1e-4 and 3e-5 (seed 1000)" >/dev/null
echo "done: $out/humanoid_alpha.md"
