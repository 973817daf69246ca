#!/usr/bin/env bash
# One reference-scale big_dense_long meta-training with the default settings (B = 512, 585 meta-iterations,
# reference network, bfloat16 recurrent state, one autodiff graph per worker thread), to confirm the bench's
# projection (meta_bdl_512) with a real run: wall time and peak memory go to confirm_time.txt. Run it on an
# otherwise idle machine (≈ 26 min on 2 cores). The earlier float32 run's files stay one folder up.
source "$(dirname "$0")/../common.sh"
out=docs/results/paper_scale/big_dense_long/confirm_bf16; mkdir -p "$out"
run=logs/big_dense_long_confirm/1
/usr/bin/time -o "$out/confirm_time.txt" -f "%e s wall, %M KB peak, %U s user, %S s sys" \
  $O run --config experiments/paper_scale/big_dense_long/big_dense_long_confirm.json --config-idx 1 --overwrite --checkpoint-every 100 >"$out/confirm_run.log" 2>&1
cp "$run"/{config.json,log.txt,meta_train.csv,metrics.csv,param.json,param_init.json,meta_state.bin} "$out/"
cp -r "$run/phi" "$out/"
echo "built from commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (sources modified)')" >"$out/build.txt"
cat "$out/confirm_time.txt"
