#!/usr/bin/env bash
# Is α what keeps the selected big_dense_long φ below tuned Adam? The protocol (gridworld.sh) evaluates the learned
# φ at the α it was meta-trained with (3e-3), while Adam and RMSProp each pick theirs from six values. This trains
# A2C with the selected φ (select_best.json) and its untrained φ (param_init.json of the same run) at α 1e-3, 3e-3
# and 1e-2 on 3 selection seeds (2100-2117, disjoint from the selection's 2000-2017, the tuning's 3000-3035 and the
# reported 42-101), 3e7 steps each, and reports them beside the tuning runs (Adam and RMSProp at every α, seeds
# 3000-3035), normalised by the best Adam. Learned against untrained at each α says whether meta-training helped
# at any α.
# Runs go to docs/results/paper_scale/big_dense_long/runs/big_dense_long_alpha/<k>/ (skipped when finished; about
# 5 min each on 2 cores, JOBS=2 runs two at a time: 18 runs ≈ 75 min). alpha.md is written when the runs are done.
source "$(dirname "$0")/bdl_common.sh"
phi=$(selected_phi "$out" "$T")
jq --arg phi "$phi" --arg init "$(run_of "$phi")/param_init.json" '.seed = [2100]
  | .agent_optim = [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [$phi, $init], "learning_rate": [1e-3, 3e-3, 1e-2], "grad_clip": [1]}]}]' \
  "$E/${T}_select.json" >"$E/${T}_alpha.json"
run_range "$E/${T}_alpha.json" 1 18 "$R"
$O report "$R/${T}_alpha" "$R/${T}_tune" --best-by agent_optim.name --normalise-by agent_optim.name=Adam \
  --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
  --title "$T: the selected φ and its untrained φ at three α beside the tuning runs (selection seeds)" --output "$out/alpha.md" >/dev/null
echo "done: $out/alpha.md"
