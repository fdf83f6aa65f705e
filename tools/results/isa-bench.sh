#!/usr/bin/env bash
# TinyLlama-1.1B-shaped bench natively and with the JIT limited to AVX2 and to 128-bit vectors (NEON's width), each a
# fresh process with a cold kernel cache; prints one markdown row per run with the CPU it ran on.
# Usage: tools/results/isa-bench.sh [OUT_DIR] [extra bench args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-target/isa-bench}"; shift || true
mkdir -p "$out"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'); flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|f16c|avx512.*|sse4_2|asimd.*|sve.*)$' | tr '\n' ' ')"
echo "| JVM vector flags | kernel | FP32 prefill / decode | BF16 prefill / decode | ternary prefill / decode | decode vs BF16 | decode vs FP32 | prefill vs FP32 | wall |"
echo "|---|---|---|---|---|---|---|---|---|"
for opts in "" "-XX:UseAVX=2" "-XX:UseAVX=2 -XX:MaxVectorSize=16"; do
  name=$(echo "${opts:-native}" | sed 's/ /_/g; s/[=:]/-/g')
  cache=$(mktemp -d)
  start=$(date +%s)
  XDG_CACHE_HOME="$cache" TERN_JAVA_OPTS="$opts" ./tern bench --synthetic tinyllama-1.1b --json -v "$@" > "$out/$name.txt" 2>&1
  wall=$(( $(date +%s) - start ))
  rm -rf "$cache"
  tail -n 1 "$out/$name.txt" | python3 -c '
import json, sys
j = json.loads(sys.stdin.read()); f, b, t = j["f32"], j["bf16"], j["ternary"]
print("| %s | %s | %.1f / %.2f | %.1f / %.2f | %.1f / %.2f | %.2f | %.2f | %.2f | %s s |" % (
    j["jvm_vector_flags"] or "native (%d-bit)" % j["vector_bits"], j.get("kernel", "?"), f["prefill_tps"], f["decode_tps"],
    b["prefill_tps"], b["decode_tps"], t["prefill_tps"], t["decode_tps"], j["decode_ratio_ternary_vs_bf16"],
    j["decode_ratio_ternary_vs_f32"], j["prefill_ratio_ternary_vs_f32"], sys.argv[1]))' "$wall"
done
