#!/usr/bin/env bash
# Can an agent in big_dense_long's meta-training learn at all? A meta-training agent lives R × K updates (576 for the
# selected φ's reset interval 144; 2,304 at R 576) and each of its gradients comes from 20 transitions of one
# environment (agent.envs_per_agent 1), or 640 with 32 environments per agent (bdl_envs.sh). This trains A2C for
# 2,304 updates at those two batch sizes — 1 environment (46,080 steps) and 32 environments (1,474,560 steps) —
# with tuned Adam (α 3e-3), the selected φ and its untrained φ (α 3e-3, clip 1, as in meta-training), on 3
# diagnostic seeds (5000-5008, one per run, disjoint from every other seed of the protocol), and reports each batch
# size normalised by Adam at that batch size. About 10 s per run at 1 environment, 25 s at 32. Then, at 32
# environments, Adam and both φ at α 1e-3 and 3e-4 (seeds 5100-5117): does a smaller step let the φ learn from
# these noisier gradients?
# Runs go to docs/results/paper_scale/big_dense_long/runs/big_dense_long_batch{1,32,32_alpha}/<k>/ (skipped when finished).
source "$(dirname "$0")/bdl_common.sh"
phi=$(selected_phi "$out" "$T")
for n in 1 32; do
  jq --arg phi "$phi" --arg init "$(run_of "$phi")/param_init.json" --argjson n "$n" '.seed = [5000]
    | .env[0].num_envs = [$n] | .env[0].train_steps = [2304 * 20 * $n]
    | .agent_optim = [{"name": ["Adam"], "kwargs": [{"learning_rate": [3e-3], "grad_clip": [-1]}]},
                      {"name": ["Optim4RL"], "kwargs": [{"param_load_path": [$phi, $init], "learning_rate": [3e-3], "grad_clip": [1]}]}]' \
    "$E/${T}_tune.json" >"$E/${T}_batch$n.json"
  run_range "$E/${T}_batch$n.json" 1 9 "$R"
  $O report "$R/${T}_batch$n" --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
    --compare-with "agent_optim.kwargs.param_load_path=*param_init.json" \
    --title "$T: A2C for 2,304 updates with $n environment(s) per gradient (a meta-training agent's batch; diagnostic seeds)" \
    --output "$out/batch$n.md" >/dev/null
done
jq '.seed = [5100] | .agent_optim[].kwargs[0].learning_rate = [1e-3, 3e-4]' "$E/${T}_batch32.json" >"$E/${T}_batch32_alpha.json"
run_range "$E/${T}_batch32_alpha.json" 1 18 "$R"
$O report "$R/${T}_batch32_alpha" "$R/${T}_batch32" --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
  --title "$T: A2C for 2,304 updates with 32 environments per gradient at three α (diagnostic seeds)" \
  --output "$out/batch32_alpha.md" >/dev/null
echo "done: $out/batch1.md, $out/batch32.md, $out/batch32_alpha.md"
