#!/usr/bin/env bash
# Six-gridworld meta-training at the reference scale, the shipped φ (pretrained/optim4rl-grid6.json),
# and its evaluation on tasks it never saw (docs/evaluation-protocol.md).
#  1. meta-train Optim4RL with MetaA2C on the six gridworlds of configs/meta_rl_grid.json (their α and
#     reward scaling), B = 512 agents per task, 3e7 environment steps per task (585 meta-iterations),
#     K = 4, reset interval 144, meta Adam 3e-4 with grad_norm 0.5 (the setting that won the
#     small_dense_long protocol); checkpoints every 100 meta-iterations. Survives a stop: a rerun
#     resumes exactly from checkpoint.bin, or, when only the small meta_state.bin is left (a new
#     machine), continues with --restart-population;
#  2. unseen gridworlds (small_sparse_short, small_sparse_long; A2C, 512 envs, 3e7 steps): the φ's α
#     from {3e-2, 1e-2, 3e-3, 1e-3} and Adam's from {3e-2 … 1e-4} chosen on 3 selection seeds (1000…);
#     then the φ, the untrained φ (param_init.json, same α) and tuned Adam on 10 reported seeds (42…);
#  3. transfer: PPO on Ant, Humanoid, Walker2d and InvertedDoublePendulum (64 envs, 3e6 steps, 3 seeds)
#     with the φ, the untrained φ and Adam, with each task's reference PPO settings (experiments/transfer/) and one
#     α for all three (3e-5 on Walker2d, 3e-4 elsewhere), gradient clip 1; it reads the committed copies
#     of the two φ files and writes its runs into the committed transfer_logs/, so it resumes on a new machine.
# FROM=n starts at stage n (earlier stages' logs must exist); TASKS="…" picks the transfer tasks and their order. Results: docs/results/paper_scale/grid6/.
source "$(dirname "$0")/../common.sh"
E=experiments/paper_scale/grid6
out=docs/results/paper_scale/grid6; mkdir -p "$out"
LOG=$out/run.log
FROM=${FROM:-1}
timed() { /usr/bin/time -a -o "$out/time.log" -f "%e s wall, %M KB peak: $*" "$@" >>"$LOG" 2>&1; }
run_dir=logs/grid6_meta/1
phi=$run_dir/param.json
init=$run_dir/param_init.json

if [ "$FROM" -le 1 ]; then
  if [ -f "$run_dir/checkpoint.bin" ]; then how=--resume
  elif [ -f "$run_dir/meta_state.bin" ]; then how=--restart-population
  else how=""; fi
  timed $O run --config $E/grid6_meta.json --config-idx 1 --checkpoint-every 100 $how
  cp "$run_dir/meta_train.csv" "$run_dir/metrics.csv" "$run_dir/config.json" "$phi" "$init" "$out/"
fi

a2c_file() { # $1 = task, $2 = seed, then optimizer alternatives as JSON objects
  local t=$1 seed=$2; shift 2
  local opts; opts=$(printf '%s,' "$@"); opts="[${opts%,}]"
  jq -n --arg t "$t" --argjson seed "$seed" --argjson opts "$opts" '{
    env: [{name: [[$t]], num_envs: [512], train_steps: [3e7]}],
    agent: [{name: ["A2C"], gae_lambda: [0.95], rollout_steps: [20], critic_loss_weight: [0.5], entropy_weight: [0.01]}],
    agent_optim: $opts, discount: [0.995], seed: [$seed], generate_random_seed: [true]}'
}
lopt() { printf '{"name": ["Optim4RL"], "kwargs": [{"param_load_path": %s, "learning_rate": %s, "grad_clip": [1]}]}' "$1" "$2"; }
adam() { printf '{"name": ["Adam"], "kwargs": [{"learning_rate": %s, "grad_clip": [-1]}]}' "$1"; }

if [ "$FROM" -le 2 ]; then
  for t in small_sparse_short small_sparse_long; do
    a2c_file $t 1000 "$(lopt "[\"$phi\"]" '[3e-2, 1e-2, 3e-3, 1e-3]')" "$(adam '[3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4]')" >"$E/${t}_tune.json"
    rm -rf logs/${t}_tune; timed $O sweep --config "$E/${t}_tune.json" --run --from 1 --to 30
    $O report logs/${t}_tune --best-by agent_optim.name --normalise-by none --best-json "$out/${t}_tune_best.json" --output "$out/${t}_tune.md" >/dev/null
    a_phi=$(jq -r --arg t $t '.[$t].Optim4RL.config["agent_optim.kwargs.learning_rate"]' "$out/${t}_tune_best.json")
    a_adam=$(jq -r --arg t $t '.[$t].Adam.config["agent_optim.kwargs.learning_rate"]' "$out/${t}_tune_best.json")
    a2c_file $t 42 "$(lopt "[\"$phi\", \"$init\"]" "[$a_phi]")" "$(adam "[$a_adam]")" >"$E/${t}_eval.json"
    rm -rf logs/${t}_eval; timed $O sweep --config "$E/${t}_eval.json" --run --from 1 --to 30
    $O report logs/${t}_eval --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
      --compare-with "agent_optim.kwargs.param_load_path=*param_init.json" --title "$t (unseen), six-gridworld φ: 10 reported seeds" --output "$out/report_$t.md" >/dev/null
    $O plot logs/${t}_eval --output "$out/curves_$t" --title "A2C on $t (unseen; 10 seeds, 90% CI)" >/dev/null
    mkdir -p "$out/curves_$t"; for f in logs/${t}_eval/*/result_$t.csv; do k=$(basename "$(dirname "$f")"); cp "$f" "$out/curves_$t/run$k.csv"; done
  done
fi

if [ "$FROM" -le 3 ]; then
  # Each run writes straight into the committed folder transfer_logs/ (its own .gitignore keeps the policies and
  # event files out, and metrics.csv in), one index at a time (run_range, experiments/common.sh), so a stop loses
  # at most the run in flight: a rerun skips every index whose wall.txt exists and redoes the others from scratch.
  runs=$out/transfer_logs
  for t in ${TASKS:-ant humanoid walker2d inverted_double_pendulum}; do
    # The task's own PPO settings and α (the reference's per-task files: 3e-5 for walker2d, 3e-4 elsewhere).
    jq --arg phi "$out/param.json" --arg init "$out/param_init.json" '.env[0].train_steps = [3e6] | .seed = [42]
      | (.optim[0].kwargs[0].learning_rate) as $a
      | .optim = [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [$phi, $init], "learning_rate": $a, "grad_clip": [1]}]},
                  {"name": ["Adam"], "kwargs": [{"learning_rate": $a, "grad_clip": [1]}]}]' \
      experiments/transfer/exp4_ppo_$t.json >"$E/transfer_$t.json"
    run_range "$E/transfer_$t.json" 1 9 "$runs"
    $O report "$runs/transfer_$t" --normalise-by optim.name=Adam --untrained "optim.kwargs.param_load_path=*param_init.json" \
      --compare-with "optim.kwargs.param_load_path=*param_init.json" --title "PPO on $t, six-gridworld φ (3 seeds)" --output "$out/transfer_$t.md" >/dev/null
    $O plot "$runs/transfer_$t" --output "$out/transfer_$t" --title "PPO on $t, six-gridworld φ (3 seeds)" >/dev/null
  done
fi
echo "done: $out"
