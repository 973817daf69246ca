#!/usr/bin/env bash
# Back-propagation through time (BPTT) against evolution strategies (ES) as the meta-gradient
# estimator of Optim4RL, on Catch and small_dense_long, with the paper's evaluation protocol
# (docs/evaluation-protocol.md). Both estimators get the same budget, 3·10⁷ environment steps of
# meta-training per task (an ES meta-iteration runs N + 1 = 33 inner runs, so it makes 33× fewer
# meta-iterations), and the same settings otherwise: 64 agents, K = 4, the pipeline's reset
# interval, meta-optimizer Adam α 3e-3 with grad_clip 1 (Catch's paper-scale sweep's best), one seed
# per task so both start from the same φ (param_init.json). ES: 32 members (16 antithetic pairs),
# σ 0.1, centred ranks, truncated inner runs on the pipeline schedule. Chosen before the runs;
# no sweep over ES settings.
#  1. meta-train (est_catch_meta.json, est_sdl_meta.json: index 1 BPTT, index 2 ES);
#  2. evaluate every φ, the untrained φ and tuned Adam (its α from the paper-scale tuning) on 10 reported
#     seeds (42…51): Catch A2C 64 envs 5·10⁵ steps; small_dense_long A2C 512 envs 3·10⁷ steps, with the
#     paper-scale BPTT φ (512 agents) as a further row;
#  3. report (normalised by Adam, R_random from docs/results/random_returns.json) and figures.
# FROM=2 starts at the evaluation (stage 1's logs must exist). Each stage-1 run resumes with --resume.
source "$(dirname "$0")/../common.sh"
E=experiments/estimators
out=docs/results/estimators; mkdir -p "$out"
LOG=$out/run.log
FROM=${FROM:-1}
timed() { /usr/bin/time -a -o "$out/time.log" -f "%e s wall, %M KB peak: $*" "$@" >>"$LOG" 2>&1; }
if [ "$FROM" -le 1 ]; then
  for t in catch sdl; do
    for k in 1 2; do
      [ -f "logs/est_${t}_meta/$k/param.json" ] && continue
      resume=(); [ -d "logs/est_${t}_meta/$k" ] && resume=(--resume)
      timed $O run --config $E/est_${t}_meta.json --config-idx $k "${resume[@]}"
      cp "logs/est_${t}_meta/$k/meta_train.csv" "$out/meta_train_${t}_$k.csv"
      cp "logs/est_${t}_meta/$k/param.json" "$out/param_${t}_$k.json"
    done
    cp "logs/est_${t}_meta/1/param_init.json" "$out/param_init_$t.json"
    # the files differ only in their config_idx metadata line when both runs start from the same φ
    diff -q <(grep -v config_idx "logs/est_${t}_meta/1/param_init.json") <(grep -v config_idx "logs/est_${t}_meta/2/param_init.json") >/dev/null \
      || { echo "the two $t runs start from different φ" >&2; exit 1; }
  done
fi
cat >$E/est_catch_eval.json <<JSON
{
  "env": [{"name": [["catch"]], "num_envs": [64], "train_steps": [5e5]}],
  "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
  "agent_optim": [
    {"name": ["Optim4RL"], "kwargs": [{"param_load_path": ["$out/param_catch_1.json", "$out/param_catch_2.json", "$out/param_init_catch.json"], "learning_rate": [1e-3], "grad_clip": [-1]}]},
    {"name": ["Adam"], "kwargs": [{"learning_rate": [0.03], "grad_clip": [-1]}]}
  ],
  "discount": [0.995], "seed": [42], "generate_random_seed": [true]
}
JSON
cat >$E/est_sdl_eval.json <<JSON
{
  "env": [{"name": [["small_dense_long"]], "num_envs": [512], "train_steps": [3e7]}],
  "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
  "agent_optim": [
    {"name": ["Optim4RL"], "kwargs": [{"param_load_path": ["$out/param_sdl_1.json", "$out/param_sdl_2.json", "docs/results/paper_scale/small_dense_long/param_small_dense_long_full_4.json", "$out/param_init_sdl.json"], "learning_rate": [0.03], "grad_clip": [1]}]},
    {"name": ["Adam"], "kwargs": [{"learning_rate": [0.01], "grad_clip": [-1]}]}
  ],
  "discount": [0.995], "seed": [42], "generate_random_seed": [true]
}
JSON
for t in catch sdl; do
  n=$([ $t = catch ] && echo 40 || echo 50)
  if [ ! -f "$out/report_$t.md" ]; then
    rm -rf logs/est_${t}_eval
    timed $O sweep --config $E/est_${t}_eval.json --run --from 1 --to $n
  fi
  $O report logs/est_${t}_eval --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init_$t.json" \
    --compare-with "agent_optim.kwargs.param_load_path=*param_init_$t.json" --title "$t: BPTT vs ES (10 reported seeds)" --output "$out/report_$t.md" >/dev/null
  $O plot logs/est_${t}_eval --output "$out/curves_$t" --title "A2C on $t: φ meta-trained by BPTT (param_${t}_1) and by ES (param_${t}_2), 10 seeds, 90% CI" >/dev/null
  mkdir -p "$out/curves_${t}_runs"
  for f in logs/est_${t}_eval/*/result_*.csv; do k=$(basename "$(dirname "$f")"); cp "$f" "$out/curves_${t}_runs/run$k.csv"; done
done
echo "done: $out"
