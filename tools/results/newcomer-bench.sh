#!/usr/bin/env bash
# The README's first command (quantize tinystories-656k, evaluate WikiText-2) natively, with -XX:UseAVX=2 and at
# 128-bit vectors, each with an empty kernel cache, timed; then the checkpoint's eval against the float model's in
# one process (eval --vs, the two taking turns window by window); prints one markdown row per run (kernel, times,
# eval tokens/s of both from the --vs run, their ratio, perplexity).
# Usage: tools/results/newcomer-bench.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
for opts in "" "-XX:UseAVX=2" "-XX:UseAVX=2 -XX:MaxVectorSize=16"; do
  cache=$(mktemp -d); out=$(mktemp -d)/tinystories-pt2
  export XDG_CACHE_HOME=$cache TERN_JAVA_OPTS="$opts"
  s=$(date +%s.%N)
  ./tern quantize --model ../shared/models/tinystories-656k --out $out > "$out.q.log" 2>&1
  m=$(date +%s.%N)
  ./tern eval --model $out --dataset wikitext2 --json -v > "$out.e.log" 2>&1
  e=$(date +%s.%N)
  ./tern eval --model $out --vs ../shared/models/tinystories-656k --dataset wikitext2 --json > "$out.f.log" 2>&1
  k=$(grep -o "kernel [a-z0-9-]* ([^)]*)" "$out.e.log" | head -1)
  tj=$(tail -1 "$out.e.log"); fj=$(tail -1 "$out.f.log")
  python3 - "$opts" "$s" "$m" "$e" "$k" "$tj" "$fj" <<'PY'
import json,sys
o,s,m,e,k,tj,fj=sys.argv[1:]
t=json.loads(tj); f=json.loads(fj)
tt=f['tokens_per_second']; ft=f['vs_tokens_per_second']
print("| %s | %s | %.1f s | %.1f s | **%.1f s** | %.0f | %.0f | %.3f | %.8f |" % (o or "native", k, float(m)-float(s), float(e)-float(m), float(e)-float(s), tt, ft, f['speed_ratio_model_vs'], t['perplexity']))
PY
  rm -rf $cache
done
