#!/usr/bin/env bash
# When do the optimizers of big_dense_long's stage 5 part ways? Reports the finished evaluation runs (those with a
# wall.txt) as if each had stopped after 144 updates (1,474,560 steps), 576 updates (5,898,240 steps: as many
# updates as an agent makes in the selected φ's meta-training, reset interval 144 × K = 4, though there each update
# sees 20 transitions of one environment, here 10,240), 1.5e7 and 29,992,960 steps (2,929 updates: the whole run), with report --at-step.
# Cheap (seconds); writes docs/results/paper_scale/big_dense_long/budgets.md.
source "$(dirname "$0")/bdl_common.sh"
runs=()
for d in "$out/runs/${T}_eval"/*/; do [ -f "$d/wall.txt" ] && runs+=("${d%/}"); done
[ ${#runs[@]} -gt 0 ] || { echo "no finished runs under $out/runs/${T}_eval" >&2; exit 1; }
md=$out/budgets.md
{
  echo "# $T stage 5 at four budgets (${#runs[@]} finished runs)"
  echo
  echo "Written by \`experiments/paper_scale/bdl_budgets.sh\`: each section is \`optim4rl report --at-step S\` over the finished"
  echo "evaluation runs, normalised by Adam at the same budget; the CI column compares every row with the untrained φ."
  for s in 1474560 5898240 15000000 29992960; do
    echo
    $O report "${runs[@]}" --at-step "$s" --normalise-by agent_optim.name=Adam --untrained "agent_optim.kwargs.param_load_path=*param_init.json" \
      --compare-with "agent_optim.kwargs.param_load_path=*param_init.json" --title "at $s environment steps ($((s / 10240)) updates)" | sed 's/^# /## /; s/^## big_dense_long$/### big_dense_long/; /^Best configuration per/,$d'
  done
} | awk '/^Final return of a run/ { if (seen++) next } { print }' | cat -s >"$md.tmp"
mv "$md.tmp" "$md"
echo "done: $md"
