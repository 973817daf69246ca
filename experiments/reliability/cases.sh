#!/usr/bin/env bash
# Re-runs the bad-input cases named in the reliability issue through the CLI and classifies each
# outcome: "clear error" (non-zero exit, one `error:` line, no stack trace), "stack trace",
# "silent" (exit 0 where the input is wrong), "unclear" (non-zero exit but not one error line),
# or "hang" (killed after 60 s). The data-loss and interruption cases are fault tests in the test
# suite (RunDirectoryFaultTests). Output: a Markdown table on stdout.
set -uo pipefail
cd "$(dirname "$0")/../.."
O=${OPTIM4RL:-./optim4rl}
./optim4rl --help >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
logs="$tmp/logs"

# A small valid A2C file and a small valid meta file to mutate.
a2c() { cat <<JSON
{"env": [{"name": [["catch"]], "num_envs": [${NUM_ENVS:-8}], "train_steps": [${STEPS:-8000}]}],
 "agent": [{"name": ["A2C"], "rollout_steps": [20]${AGENT_EXTRA:-}}],
 "agent_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [${LR:-1e-3}]}]}],
 "discount": [0.995], "seed": [1]${TOP_EXTRA:-}}
JSON
}
meta() { cat <<JSON
{"env": [{"name": [["small_sparse_short"]], "num_envs": [${NUM_ENVS:-4}], "train_steps": [${STEPS:-4000}]}],
 "agent": [{"name": ["MetaA2C"], "inner_updates": [${INNER:-4}], "rollout_steps": [20], "reset_interval": [3]}],
 "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [""], "learning_rate": [${ALPHA:-3e-3}], "grad_clip": [1]}]}],
 "meta_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [${META_LR:-1e-3}], "grad_clip": [1.0]}]}],
 "discount": [0.995], "seed": [1], "display_interval": [${DISPLAY:-5}]}
JSON
}
ppo() { cat <<JSON
{"env": [{"name": [["inverted_pendulum"]], "num_envs": [8], "train_steps": [2000], "num_evals": [${EVALS:-1}]}],
 "agent": [{"name": ["PPO"], "rollout_steps": [5], "num_minibatches": [2], "update_epochs": [1]}],
 "batch_size": [8], "optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [3e-4]}]}],
 "discount": [0.97], "seed": [1]}
JSON
}

echo "| case | exit | outcome | message |"
echo "|---|---|---|---|"
case_() { # name, then the command's words
  local name=$1; shift
  local out err rc
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  err=$(tr -d '\r' <"$tmp/err" | sed 's/\x1b\[[0-9;]*m//g')
  local lines; lines=$(printf '%s' "$err" | grep -c . || true)
  local outcome
  if [ $rc -eq 124 ]; then outcome=hang
  elif grep -q "   at \|Unhandled exception" "$tmp/err" "$tmp/out"; then outcome="stack trace"
  elif [ $rc -eq 0 ]; then outcome=${EXPECT_OK:+works}; outcome=${outcome:-silent}
  elif [ "$lines" -eq 1 ] && printf '%s' "$err" | grep -q '^error:'; then outcome="clear error"
  else outcome=unclear; fi
  printf '| %s | %s | %s | %s |\n' "$name" "$rc" "$outcome" "$(printf '%s' "$err" | head -1 | cut -c1-220 | sed 's/|/\\|/g')"
}
file() { local f="$tmp/$1.json"; cat >"$f"; echo "$f"; }

case_ "unknown key agent.entropy_weigth" $O run --logs "$logs" --config "$(AGENT_EXTRA=', "entropy_weigth": [0.01]' a2c | file typo)"
case_ "agent learning rate 0" $O run --logs "$logs" --config "$(LR=0 a2c | file lr0)"
case_ "agent learning rate -1e-3" $O run --logs "$logs" --config "$(LR=-1e-3 a2c | file lrneg)"
case_ "meta learning rate 0" $O run --logs "$logs" --config "$(META_LR=0 meta | file metalr0)"
case_ "learned-optimizer α -3e-3" $O run --logs "$logs" --config "$(ALPHA=-3e-3 meta | file alphaneg)"
case_ "A2C train_steps 0" $O run --logs "$logs" --config "$(STEPS=0 a2c | file steps0)"
case_ "A2C train_steps 1" $O run --logs "$logs" --config "$(STEPS=1 a2c | file steps1)"
case_ "A2C train_steps -5" $O run --logs "$logs" --config "$(STEPS=-5 a2c | file stepsneg)"
case_ "meta train_steps 1" $O run --logs "$logs" --config "$(STEPS=1 meta | file msteps1)"
case_ "display_interval 0" $O run --logs "$logs" --config "$(DISPLAY=0 meta | file display0)"
case_ "PPO num_evals 0" $O run --logs "$logs" --config "$(EVALS=0 ppo | file evals0)"
case_ "A2C num_envs -4" $O run --logs "$logs" --config "$(NUM_ENVS=-4 a2c | file envsneg)"
case_ "A2C num_envs 0" $O run --logs "$logs" --config "$(NUM_ENVS=0 a2c | file envs0)"
case_ "A2C num_envs 1e30" $O run --logs "$logs" --config "$(NUM_ENVS=1e30 a2c | file envs1e30)"
case_ "A2C num_envs 2e9 (was a hang)" $O run --logs "$logs" --config "$(NUM_ENVS=2e9 STEPS=1e12 a2c | file envs2e9)"
case_ "meta num_envs 1e8 (was a stack trace)" $O run --logs "$logs" --config "$(NUM_ENVS=1e8 STEPS=1e12 meta | file menvs1e8)"
case_ "--config a directory (run)" $O run --logs "$logs" --config configs
case_ "--config a directory (sweep, was a stack trace)" $O sweep --config configs
case_ "--config \"\"" $O run --logs "$logs" --config ""
case_ "--logs \"\"" $O run --logs "" --config configs/quick_meta_rl_catch.json
case_ "missing φ file" $O run --logs "$logs" --config "$(a2c | sed 's/"Adam"], "kwargs": \[{/"Optim4RL"], "kwargs": [{"param_load_path": ["\/nonexistent.json"], /' | file nophi)"
case_ "--threads 0" $O run --logs "$logs" --config "$(a2c | file threads)" --threads 0

# Resume with changed settings, a damaged checkpoint, a second writer, an existing directory.
m=$(meta | file resume)
$O run --logs "$logs" --config "$m" --checkpoint-every 2 >/dev/null 2>&1
META_LR=3e-4 INNER=2 meta >"$m"
case_ "--resume with changed meta lr and inner_updates" $O run --logs "$logs" --config "$m" --resume
meta >"$m"
ck="$logs/resume/1/checkpoint.bin"; printf '\x00' | dd of="$ck" bs=1 seek=5000 conv=notrunc 2>/dev/null
case_ "--resume from a damaged checkpoint" $O run --logs "$logs" --config "$m" --resume
case_ "run into an existing run directory" $O run --logs "$logs" --config "$m"
case_ "--resume and --overwrite together" $O run --logs "$logs" --config "$m" --resume --overwrite
g=$(meta | sed 's/"train_steps": \[4000\]/"train_steps": [4000000]/' | file busy)
$O run --logs "$logs" --config "$g" >/dev/null 2>&1 & busy=$!
sleep 3
case_ "second run of a directory in use" $O run --logs "$logs" --config "$g" --overwrite
kill $busy 2>/dev/null; wait $busy 2>/dev/null
EXPECT_OK=1 case_ "sweep --config configs/meta_rl_grid.json (a valid file)" $O sweep --config configs/meta_rl_grid.json
