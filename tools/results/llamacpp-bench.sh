#!/usr/bin/env bash
# llama.cpp (../shared/tools/llama.cpp, an AVX2 build) against Tern on TinyLlama-1.1B shapes, one after the other on
# this machine: llama-bench on the anchor model (seeded random weights, see the README there) in TQ2_0 with the head
# in TQ2_0 (--pure), in llama-quantize's default TQ2_0 mix (head Q6_K, embeddings Q4_K) and in F16, in Q4_0 and in F16; then Tern's bench at the same 128/128 tokens.
# Usage: tools/results/llamacpp-bench.sh [WORK_DIR]   (needs python3 with numpy for the anchor model, ~3 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${TERN_SHARED:-../shared}"
bin="$shared/tools/llama.cpp/bin"
work="${1:-target/llamacpp}"
mkdir -p "$work"
[ -f "$work/tl-F16.gguf" ] || PYTHONPATH="$shared/tools/gguf-py" python3 "$shared/tools/make_random_tinyllama_gguf.py" "$work/tl-F16.gguf"
[ -f "$work/tl-TQ2_0.gguf" ] || "$bin/llama-quantize" --pure "$work/tl-F16.gguf" "$work/tl-TQ2_0.gguf" TQ2_0 2 > "$work/q1.log" 2>&1
[ -f "$work/tl-TQ2_0-f16head.gguf" ] || "$bin/llama-quantize" --pure --output-tensor-type f16 "$work/tl-F16.gguf" "$work/tl-TQ2_0-f16head.gguf" TQ2_0 2 > "$work/q2.log" 2>&1
[ -f "$work/tl-TQ2_0-default.gguf" ] || "$bin/llama-quantize" "$work/tl-F16.gguf" "$work/tl-TQ2_0-default.gguf" TQ2_0 2 > "$work/q4.log" 2>&1
[ -f "$work/tl-Q4_0.gguf" ] || "$bin/llama-quantize" --pure "$work/tl-F16.gguf" "$work/tl-Q4_0.gguf" Q4_0 2 > "$work/q3.log" 2>&1
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
# llama-bench's mean of 3 repetitions and its best one (Tern's bench reports its best round: compare best with best).
# The files Tern is compared with run again after Tern ("after"): on a shared host speed drifts within minutes, and a
# Tern figure between two llama.cpp figures shows how far.
llama() {
  local when="$1"; shift
  for m in "$@"; do
    "$bin/llama-bench" -m "$work/tl-$m.gguf" -t 2 -p 128 -n 128 -r 3 -o json 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    kind = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
    print("llama.cpp %s %s %s: mean %.2f tok/s, best %.2f" % (sys.argv[1], sys.argv[2], kind, r["avg_ts"], max(r["samples_ts"])))' "$when" "$m"
  done
}
llama before TQ2_0 TQ2_0-default TQ2_0-f16head Q4_0 F16
./tern bench --synthetic tinyllama-1.1b --prompt 128 --decode 128 --formats f32,bf16,ternary --rounds 3 --no-matmul 2>&1 | grep -E '^(f32|bf16|ternary|ternary kernel)'
llama after TQ2_0 TQ2_0-f16head F16
