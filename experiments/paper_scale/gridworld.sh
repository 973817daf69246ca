#!/usr/bin/env bash
# One gridworld at the reference scale with the paper's evaluation protocol (docs/evaluation-protocol.md).
#   usage: experiments/paper_scale/gridworld.sh TASK       (TASK: small_dense_long, big_dense_long, …)
# Meta-training: B = 512 agents, 3e7 environment steps (585 meta-iterations), K = 4, the learned
# optimizer's α from the reference's file (configs/meta_rl_<abbr>.json). Evaluation: A2C with 512
# environments for 3e7 steps. Stages (FROM=n starts at stage n; earlier stages' logs must exist):
#  1. pre-screen 8 of the reference's 40 meta-configurations at ¼ of the iterations (reset intervals
#     72/144, so every agent lives through several pipeline resets): 2 × 3 meta learning rates with
#     grad_norm 0.5, and 2 with grad_clip 1 at reset interval 144;
#  2. score each pre-screened φ with one A2C run on a selection seed (1000), keep the best 3;
#  3. meta-train those 3 at full scale (checkpoints, hence φ snapshots in phi/, every 100 meta-iterations),
#     and the best one's settings without pipeline (MetapA2C);
#  4. select the best full-scale φ on 3 selection seeds (2000…) among each run's final φ and its φ after 200
#     meta-iterations (early stopping: truncated back-propagation can keep lowering the meta-loss while the
#     agents it trains get worse, docs/results/estimators/README.md); tune Adam and RMSProp over
#     {3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4} on 3 selection seeds (3000…);
#  5. evaluate the best φ, its untrained φ (param_init.json, same α), the no-pipeline φ, tuned Adam and
#     tuned RMSProp on 10 reported seeds each (one seed per run from 42 on, so 42…101 for six optimizers); report (normalised by tuned Adam) and figures. Where stage 4
#     selected a φ from other settings or another meta-iteration than the no-pipeline run's, the pipeline run with
#     the no-pipeline run's settings (its final φ) is evaluated too: the ablation then differs in the pipeline only.
# (The committed small_dense_long results predate stage 4's snapshot candidates: they selected among final φ only.)
# NOPIPE=0 skips the no-pipeline ablation (stage 3's MetapA2C run and its evaluation rows).
# Every run writes into docs/results/paper_scale/<task>/runs/<task>_{pre,pre_clip,pre_eval,full,full_clip,nopipe,
# select,tune,eval}/<index>/ (committed; checkpoints, policies and per-update metrics stay out), and a rerun skips
# each run whose wall.txt exists: the protocol (about 12 h on 2 cores for big_dense_long) goes on over several
# working sessions and machines, losing at most the run in flight (run_once in experiments/common.sh). Delete a
# run's folder to redo it. JOBS=2 runs the A2C runs (stages 2, 4, 5) two at a time with one thread each, the same
# numbers as one after the other (on 2 cores: 236 s per big_dense_long run against 295 s one at a time, 20 % more runs
# per hour); meta-training always runs alone on every core. Reports, tables and figures:
# docs/results/paper_scale/<task>/.
source "$(dirname "$0")/../common.sh"
T=${1:?usage: gridworld.sh TASK}
case $T in
  small_dense_long) abbr=sdl ;; small_dense_short) abbr=sds ;; small_sparse_long) abbr=ssl ;; small_sparse_short) abbr=sss ;;
  big_dense_long) abbr=bdl ;; big_dense_short) abbr=bds ;; big_sparse_long) abbr=bsl ;; big_sparse_short) abbr=bss ;;
  *) echo "unknown task $T" >&2; exit 1 ;;
esac
E=experiments/paper_scale/$T; mkdir -p "$E"
out=docs/results/paper_scale/$T; mkdir -p "$out"
LOG=$out/run.log
TIMELOG=$out/time.log
R=$out/runs
FROM=${FROM:-1}
NOPIPE=${NOPIPE:-1}
ALPHA=$(jq -r '.agent_optim[0].kwargs[0].learning_rate[0]' configs/meta_rl_$abbr.json)
CLIP=$(jq -r '.agent_optim[0].kwargs[0].grad_clip[0]' configs/meta_rl_$abbr.json)
meta_file() { # $1 = agent name, $2 = train steps → the 8 pre-screen configurations as a sweep file
  jq --arg agent "$1" --argjson steps "$2" '
    .env[0].train_steps = [$steps] | .agent[0].name = [$agent]
    | .agent[0].reset_interval = (if $agent == "MetapA2C" then [-1] else [72, 144] end)
    | .meta_optim = [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-4, 3e-4, 1e-3], "grad_norm": [0.5]}]}]
    | .display_interval = [50]' configs/meta_rl_$abbr.json
}
a2c_file() { # $1 = seed, then optimizer alternatives as JSON objects
  local seed=$1; shift
  local opts; opts=$(printf '%s,' "$@"); opts="[${opts%,}]"
  jq -n --arg t "$T" --argjson seed "$seed" --argjson opts "$opts" '{
    env: [{name: [[$t]], num_envs: [512], train_steps: [3e7]}],
    agent: [{name: ["A2C"], gae_lambda: [0.95], rollout_steps: [20], critic_loss_weight: [0.5], entropy_weight: [0.01]}],
    agent_optim: $opts, discount: [0.995], seed: [$seed], generate_random_seed: [true]}'
}
lopt() { printf '{"name": ["Optim4RL"], "kwargs": [{"param_load_path": %s, "learning_rate": [%s], "grad_clip": [%s]}]}' "$1" "$ALPHA" "$CLIP"; }
lr_grid='[3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4]'

if [ "$FROM" -le 1 ]; then
  meta_file MetaA2C 7.5e6 >"$E/${T}_pre.json"   # ¼ of 3e7
  JOBS=1 run_range "$E/${T}_pre.json" 1 6 "$R" --checkpoint-every 50
  jq '.agent[0].reset_interval = [144] | .meta_optim[0].kwargs[0] = {"learning_rate": [3e-4, 1e-3], "grad_clip": [1.0]}' "$E/${T}_pre.json" >"$E/${T}_pre_clip.json"
  JOBS=1 run_range "$E/${T}_pre_clip.json" 1 2 "$R" --checkpoint-every 50
fi
if [ "$FROM" -le 2 ]; then
  paths=$( (for k in 1 2 3 4 5 6; do echo "$R/${T}_pre/$k/param.json"; done; for k in 1 2; do echo "$R/${T}_pre_clip/$k/param.json"; done) | jq -R . | jq -s -c .)
  a2c_file 1000 "$(lopt "$paths")" >"$E/${T}_pre_eval.json"
  run_range "$E/${T}_pre_eval.json" 1 8 "$R"
  $O report $R/${T}_pre_eval --best-by agent_optim.kwargs.param_load_path --normalise-by none --best-json "$out/pre_eval.json" --output "$out/pre_eval.md" >/dev/null
fi
top3=$(jq -r --arg t "$T" '.[$t] | to_entries | sort_by(-.value.final) | .[:3][] | .key' "$out/pre_eval.json")
if [ "$FROM" -le 3 ]; then
  # Full scale: the same sweep indices with 3e7 steps; MetapA2C with the best pre-screened settings.
  jq '.env[0].train_steps = [3e7]' "$E/${T}_pre.json" >"$E/${T}_full.json"
  jq '.env[0].train_steps = [3e7]' "$E/${T}_pre_clip.json" >"$E/${T}_full_clip.json"
  for p in $top3; do
    k=$(basename "$(dirname "$p")"); f=${T}_full; [[ $p == *_pre_clip/* ]] && f=${T}_full_clip
    run_once "$E/$f.json" "$k" "$R" --checkpoint-every 100
  done
  best=$(echo "$top3" | head -1); k=$(basename "$(dirname "$best")")
  if [[ $best == *_pre_clip/* ]]; then src=${T}_full_clip; else src=${T}_full; fi
  if [ "$NOPIPE" = 1 ]; then
    jq '.agent[0].name = ["MetapA2C"] | .agent[0].reset_interval = [-1]' "$E/$src.json" >"$E/${T}_nopipe.json"
    run_once "$E/${T}_nopipe.json" "$k" "$R" --checkpoint-every 100
    echo "$R/${T}_nopipe/$k/param.json" >"$out/nopipe_phi.txt"
    echo "$R/$src/$k/param.json" >"$out/nopipe_matched_phi.txt"   # the pipeline φ with the same settings
  fi
fi
if [ "$FROM" -le 4 ]; then
  fulls=$(for p in $top3; do f=$(echo "$p" | sed "s#_pre_clip/#_full_clip/#; s#_pre/#_full/#"); echo "$f"; echo "${f%param.json}phi/param_200.json"; done | jq -R . | jq -s -c .)
  a2c_file 2000 "$(lopt "$fulls")" >"$E/${T}_select.json"
  n=$(jq '.agent_optim[0].kwargs[0].param_load_path | length' "$E/${T}_select.json")
  run_range "$E/${T}_select.json" 1 $((3 * n)) "$R"
  $O report $R/${T}_select --best-by agent_optim.name --normalise-by none --best-json "$out/select_best.json" --output "$out/select.md" >/dev/null
  a2c_file 3000 "{\"name\": [\"Adam\", \"RMSProp\"], \"kwargs\": [{\"learning_rate\": $lr_grid, \"grad_clip\": [-1]}]}" >"$E/${T}_tune.json"
  run_range "$E/${T}_tune.json" 1 36 "$R"
  $O report $R/${T}_tune --best-by agent_optim.name --normalise-by none --best-json "$out/tune_best.json" --output "$out/tune.md" >/dev/null
fi
phi=$(selected_phi "$out" "$T")
init="$(run_of "$phi")/param_init.json"
nopipe=""; [ "$NOPIPE" = 1 ] && nopipe=$(cat "$out/nopipe_phi.txt")
phis="\"$phi\", \"$init\""; [ -n "$nopipe" ] && phis="$phis, \"$nopipe\""
matched=""; [ -n "$nopipe" ] && [ -f "$out/nopipe_matched_phi.txt" ] && matched=$(cat "$out/nopipe_matched_phi.txt")
[ -n "$matched" ] && [ "$matched" != "$phi" ] && phis="$phis, \"$matched\""
adam=$(jq -r --arg t "$T" '.[$t].Adam.config["agent_optim.kwargs.learning_rate"]' "$out/tune_best.json")
rms=$(jq -r --arg t "$T" '.[$t].RMSProp.config["agent_optim.kwargs.learning_rate"]' "$out/tune_best.json")
a2c_file 42 "$(lopt "[$phis]")" "{\"name\": [\"Adam\"], \"kwargs\": [{\"learning_rate\": [$adam], \"grad_clip\": [-1]}]}" \
  "{\"name\": [\"RMSProp\"], \"kwargs\": [{\"learning_rate\": [$rms], \"grad_clip\": [-1]}]}" >"$E/${T}_eval.json"
n=$(( 10 * ($(jq '.agent_optim[0].kwargs[0].param_load_path | length' "$E/${T}_eval.json") + 2) ))
run_range "$E/${T}_eval.json" 1 $n "$R"
$O report $R/${T}_eval --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
  --compare-with "agent_optim.kwargs.param_load_path=*param_init.json" --title "$T, paper scale: 10 reported seeds" --output "$out/report.md" >/dev/null
$O plot $R/${T}_eval --output "$out/curves.png" --title "A2C on $T (10 seeds, 90% CI)" >/dev/null
cp "$phi" "$out/param_selected.json"
echo "done: $out"
