# Shared by the big_dense_long follow-up scripts (bdl_*.sh): the protocol's folders and logs, as gridworld.sh names them.
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
T=big_dense_long
E=experiments/paper_scale/$T
out=docs/results/paper_scale/$T
LOG=$out/run.log
TIMELOG=$out/time.log
R=$out/runs
