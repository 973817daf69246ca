#!/usr/bin/env bash
# Acceptance run for checkpoints past 2 GB: big_dense_long meta-training with B = 1024 agents
# (recurrent state 16 × 1024 × 39,482 floats ≈ 2.6 GB), 2 meta-iterations with a checkpoint after
# each, then --resume to 3. Both files describe the same run; only env.train_steps differs (the
# one setting a resume may change). Wall time and peak memory go to docs/results/checkpoint_2gb/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out=docs/results/checkpoint_2gb
logs=${LOGS:-/tmp/o4r-accept}
mkdir -p "$out"
rm -rf "$logs"
./optim4rl --help > /dev/null # build first, outside the timing
cp experiments/checkpoint_2gb/b1024_bdl_2it.json /tmp/b1024_bdl.json
/usr/bin/time -v ./optim4rl run --config /tmp/b1024_bdl.json --config-idx 1 --logs "$logs" --checkpoint-every 1 > "$out/first.txt" 2> "$out/first.time"
cp experiments/checkpoint_2gb/b1024_bdl_3it.json /tmp/b1024_bdl.json
/usr/bin/time -v ./optim4rl run --config /tmp/b1024_bdl.json --config-idx 1 --logs "$logs" --checkpoint-every 1 --resume > "$out/resume.txt" 2> "$out/resume.time"
ls -l "$logs/b1024_bdl/1" > "$out/files.txt"
cp "$logs/b1024_bdl/1/meta_train.csv" "$logs/b1024_bdl/1/log.txt" "$logs/b1024_bdl/1/config.json" "$out/"
grep -h "Elapsed\|Maximum resident" "$out/first.time" "$out/resume.time"
