#!/usr/bin/env bash
# Catch at the reference's own scale, with the paper's evaluation protocol (docs/evaluation-protocol.md):
#  1. meta-train Optim4RL with every configuration of the reference's Catch sweep (20: reset interval
#     32/64 × 5 meta learning rates × grad_norm/grad_clip; 64 agents, 5e5 steps = 78 meta-iterations);
#  2. select the best φ on 3 selection seeds (1000…) and tune Adam and RMSProp over
#     {3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4} on 3 selection seeds (2000…);
#  3. evaluate the best φ, its run's untrained φ (param_init.json, same α), tuned Adam and tuned RMSProp
#     on 10 reported seeds (42…51, disjoint from the selection seeds), A2C with 64 envs for 5e5 steps;
#  4. report (normalised by tuned Adam, R_random from docs/results/random_returns.json) and figures.
# FROM=2 or FROM=3 starts at a later stage (the earlier stages' logs must exist).
source "$(dirname "$0")/../common.sh"
E=experiments/paper_scale
out=docs/results/paper_scale/catch; mkdir -p "$out"
LOG=$out/run.log
FROM=${FROM:-1}
timed() { /usr/bin/time -a -o "$out/time.log" -f "%e s wall, %M KB peak: $*" "$@" >>"$LOG" 2>&1; }
if [ "$FROM" -le 1 ]; then
  : >"$out/time.log"
  rm -rf logs/catch_meta logs/catch_select logs/catch_tune logs/catch_eval
  timed $O sweep --config $E/catch_meta.json --run --from 1 --to 20
fi
if [ "$FROM" -le 2 ]; then
  rm -rf logs/catch_select logs/catch_tune
  timed $O sweep --config $E/catch_select.json --run --from 1 --to 60
  timed $O sweep --config $E/catch_tune.json --run --from 1 --to 36
  $O report logs/catch_select --best-by agent_optim.name --normalise-by none --best-json "$out/select_best.json" --output "$out/select.md" >/dev/null
  $O report logs/catch_tune --best-by agent_optim.name --normalise-by none --best-json "$out/tune_best.json" --output "$out/tune.md" >/dev/null
fi
phi=$(selected_phi "$out" catch)
init="${phi%param.json}param_init.json"
adam=$(jq -r '.catch.Adam.config["agent_optim.kwargs.learning_rate"]' "$out/tune_best.json")
rms=$(jq -r '.catch.RMSProp.config["agent_optim.kwargs.learning_rate"]' "$out/tune_best.json")
cat >$E/catch_eval.json <<JSON
{
  "env": [{"name": [["catch"]], "num_envs": [64], "train_steps": [5e5]}],
  "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
  "agent_optim": [
    {"name": ["Optim4RL"], "kwargs": [{"param_load_path": ["$phi", "$init"], "learning_rate": [1e-3], "grad_clip": [-1]}]},
    {"name": ["Adam"], "kwargs": [{"learning_rate": [$adam], "grad_clip": [-1]}]},
    {"name": ["RMSProp"], "kwargs": [{"learning_rate": [$rms], "grad_clip": [-1]}]}
  ],
  "discount": [0.995], "seed": [42], "generate_random_seed": [true]
}
JSON
rm -rf logs/catch_eval
timed $O sweep --config $E/catch_eval.json --run --from 1 --to 40
$O report logs/catch_eval --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
  --compare-with "agent_optim.kwargs.param_load_path=*param_init.json" --title "Catch, paper scale: 10 reported seeds" --output "$out/report.md" >/dev/null
$O plot logs/catch_eval --output "$out/curves" --title "A2C on Catch (10 seeds, 90% CI)" >/dev/null
for f in logs/catch_eval/*/result_catch.csv; do k=$(basename "$(dirname "$f")"); cp "$f" "$out/curves_run$k.csv"; done
cp "$phi" "$out/param_best.json"
echo "done: $out"
