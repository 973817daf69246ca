#!/usr/bin/env bash
# Is α the cause of the six-gridworld φ's Humanoid miss? (docs/results/paper_scale/grid6/transfer_humanoid.md)
# At α 3e-4 the learned φ moves every coordinate by about 1.6 α per update, ten times Adam's step, and the value
# loss stays 10⁴ times Adam's. This runs the learned φ at α 1e-4 and 3e-5 on one selection seed (1000, disjoint
# from the reported seeds 42…44), with Humanoid's own PPO settings and 3e6 steps as in the transfer runs.
# Then the better of the two (by final return on seed 1000) runs on the reported seeds, the learned φ and its untrained
# φ at that α: indices 1, 2, 4, 5, 7, 8 of transfer_humanoid.json with that α (seeds 42, 43, 45, 46, 48, 49, as in the
# transfer runs). Adam's indices (3, 6, 9: α 3e-4, seeds 44, 47, 50) are the transfer runs themselves and are not rerun;
# the report reads both folders, so it shows the learned and untrained φ at both α against Adam.
# Runs go to docs/results/paper_scale/grid6/transfer_logs/humanoid_alpha{,_eval}/<k>/ (skipped when finished; 35–40 min
# each on 2 cores). The reports are regenerated on every run; what they show is written by hand in
# humanoid_alpha_analysis.md, which this script never touches.
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
$O report "$runs/humanoid_alpha" --best-by optim.name --normalise-by none --best-json "$out/humanoid_alpha_best.json" \
  --title "PPO on humanoid, six-gridworld φ at smaller α (selection seed 1000)" --output "$out/humanoid_alpha.md" >/dev/null
$O plot "$runs/humanoid_alpha" --output "$out/humanoid_alpha" --title "PPO on humanoid, learned φ at α 1e-4 and 3e-5 (seed 1000)" >/dev/null
alpha=$(jq -r '.humanoid.Optim4RL.config["optim.kwargs.learning_rate"]' "$out/humanoid_alpha_best.json")
jq --argjson a "$alpha" '(.optim[] | select(.name == ["Optim4RL"]) | .kwargs[0].learning_rate) = [$a]' \
  "$E/transfer_humanoid.json" >"$E/humanoid_alpha_eval.json"
for k in 1 4 7; do run_range "$E/humanoid_alpha_eval.json" "$k" $((k + 1)) "$runs"; done   # JOBS=2: a pair at a time
untrained="optim.kwargs.param_load_path=*param_init.json"
$O report "$runs/humanoid_alpha_eval" "$runs/transfer_humanoid" --best-by optim.name --normalise-by optim.name=Adam --untrained "$untrained" \
  --compare-with "$untrained,optim.kwargs.learning_rate=$alpha" \
  --title "PPO on humanoid, six-gridworld φ at α $alpha and 3e-4 (3 reported seeds)" --output "$out/humanoid_alpha_eval.md" >/dev/null
$O plot "$runs/humanoid_alpha_eval" "$runs/transfer_humanoid" --output "$out/humanoid_alpha_eval" \
  --title "PPO on humanoid, six-gridworld φ at α $alpha and 3e-4 (3 seeds)" >/dev/null
echo "done: $out/humanoid_alpha.md, $out/humanoid_alpha_eval.md"
