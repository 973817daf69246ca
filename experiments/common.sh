# Shared by the experiment scripts. Run them from anywhere; they cd to the repository root.
# OPTIM4RL overrides the command (default: the ./optim4rl launcher, which builds when needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
O=${OPTIM4RL:-./optim4rl}
# Build once up front, so parallel jobs never race to rebuild.
[ -n "${OPTIM4RL:-}" ] || ./optim4rl --help >/dev/null
# Runs "sweep --run" over indices FROM..TO of a config, in the background.
sweep_bg() { $O sweep --config "$1" --run --from "$2" --to "$3" --threads 1 >>"$LOG" 2>&1 & }
