#!/usr/bin/env bash
# Does meta-training with agents of several environments give a φ that trains big_dense_long's evaluation agents
# better? In the reference's meta-training (agent.envs_per_agent 1) each of the 512 agents learns from 20
# transitions of one environment per update and never gets past a random policy's return in its lifetime, while
# the evaluation's A2C agent averages each gradient over 512 environments (10,240 transitions) and reaches 25
# (analysis.md). This meta-trains with the selected φ's settings (full_clip/1: reset interval 144, meta Adam 3e-4
# with grad_clip 1, α 3e-3, 585 meta-iterations) but 16 agents of 32 environments each (same 512 environments,
# same environment steps); RUNS="1 2" adds reset interval 576 (agents then live 2,304 updates, the reference's
# largest R). Each run's final φ and its φ after 200 meta-iterations then train A2C for 3e7 steps on 3 selection
# seeds each (2000-2005, one per run, from select.md's pool 2000-2017), and envs.md reports them beside the six
# candidates of select.md. agent.envs_per_agent needs a build from commit 06d1e63 on (OPTIM4RL=… a newer frozen CLI).
# Runs go to docs/results/paper_scale/big_dense_long/runs/big_dense_long_envs/<k>/, their evaluations to
# big_dense_long_envs_eval/ (RUNS=1) or big_dense_long_envs_eval_<runs>/ (other RUNS; skipped when finished); envs.md
# reports every such folder there is, so RUNS=2 after RUNS=1 adds reset interval 576 without redoing 144.
source "$(dirname "$0")/bdl_common.sh"
RUNS=${RUNS:-1}
jq '.agent[0].envs_per_agent = [32] | .agent[0].reset_interval = [144, 576]
  | .meta_optim[0].kwargs[0].learning_rate = [3e-4]' "$E/${T}_full_clip.json" >"$E/${T}_envs.json"
phis=()
for k in $RUNS; do
  JOBS=1 run_once "$E/${T}_envs.json" "$k" "$R" --checkpoint-every 100
  phis+=("$R/${T}_envs/$k/param.json" "$R/${T}_envs/$k/phi/param_200.json")
done
paths=$(printf '%s\n' "${phis[@]}" | jq -R . | jq -s -c .)
name=${T}_envs_eval; [ "$RUNS" = 1 ] || name=${name}_${RUNS// /_}
jq --argjson paths "$paths" '.agent_optim[0].kwargs[0].param_load_path = $paths' "$E/${T}_select.json" >"$E/$name.json"
run_range "$E/$name.json" 1 $((3 * ${#phis[@]})) "$R"
$O report "$R/${T}"_envs_eval* "$R/${T}_select" --best-by agent_optim.kwargs.param_load_path --normalise-by none \
  --title "$T: φ meta-trained with 32 environments per agent beside the six candidates of select.md (selection seeds)" \
  --output "$out/envs.md" >/dev/null
echo "done: $out/envs.md"
