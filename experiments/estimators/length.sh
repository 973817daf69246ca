#!/usr/bin/env bash
# Follow-up to compare.sh: on Catch, BPTT's φ after 3e7 meta-training steps no longer trains agents
# (final return at the random policy's level), while the same run's first 78 meta-iterations (5e5 steps,
# the paper-scale Catch run, identical seed and settings) gave a φ near Adam. This runs the same BPTT
# meta-training for 3e6 and 1e7 steps (est_catch_length.json; same seed, so each is a prefix of the
# 3e7 run) and evaluates the φ at every length with the same protocol (A2C, 64 envs, 5e5 steps,
# 10 reported seeds), so the report shows where along meta-training φ stops working.
source "$(dirname "$0")/../common.sh"
E=experiments/estimators
out=docs/results/estimators; mkdir -p "$out"
LOG=$out/run.log
timed() { /usr/bin/time -a -o "$out/time.log" -f "%e s wall, %M KB peak: $*" "$@" >>"$LOG" 2>&1; }
for k in 1 2; do
  if [ ! -f "logs/est_catch_length/$k/param.json" ]; then
    resume=(); [ -d "logs/est_catch_length/$k" ] && resume=(--resume)
    timed $O run --config $E/est_catch_length.json --config-idx $k "${resume[@]}"
  fi
  cp "logs/est_catch_length/$k/param.json" "$out/param_catch_bptt_len$k.json"
  cp "logs/est_catch_length/$k/meta_train.csv" "$out/meta_train_catch_bptt_len$k.csv"
done
cat >$E/est_catch_length_eval.json <<JSON
{
  "env": [{"name": [["catch"]], "num_envs": [64], "train_steps": [5e5]}],
  "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
  "agent_optim": [
    {"name": ["Optim4RL"], "kwargs": [{"param_load_path": ["docs/results/paper_scale/catch/param_best.json", "$out/param_catch_bptt_len1.json", "$out/param_catch_bptt_len2.json", "$out/param_catch_1.json"], "learning_rate": [1e-3], "grad_clip": [-1]}]}
  ],
  "discount": [0.995], "seed": [42], "generate_random_seed": [true]
}
JSON
rm -rf logs/est_catch_length_eval
timed $O sweep --config $E/est_catch_length_eval.json --run --from 1 --to 40
$O report logs/est_catch_length_eval --normalise-by none --title "Catch: BPTT's φ after 5e5, 3e6, 1e7 and 3e7 meta-training steps (10 reported seeds)" --output "$out/report_catch_length.md" >/dev/null
echo "done: $out/report_catch_length.md"
