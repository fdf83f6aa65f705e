#!/usr/bin/env bash
# Builds the README's results table for one model: quantizes it with every method and ablation, then measures
# WikiText-2 and TinyStories perplexity of each checkpoint. Usage:
#   tools/results/quant-table.sh MODEL_DIR [CALIB] [OUT_ROOT]      (CALIB defaults to wikitext2)
# Prints one markdown row per configuration; the commands are printed above the table.
# FROM=N starts at the N-th configuration (1-based) and skips the header and FP32 rows, to finish an interrupted run.
# ONLY="3 7 13" runs just those configurations (1-based, header and FP32 rows included).
# SEEDS="0 1 2" quantizes every configuration with each calibration seed and prints the means (bits/weight is the
# same for every seed); the per-seed TinyStories perplexities go to OUT_ROOT/seeds.tsv.
# Perplexity is measured on each checkpoint's dequantized float export (--export-dequantized), which computes the
# same Ŵ·x as the packed kernels; EVAL=packed measures the packed checkpoint instead. WIKI=0 skips WikiText-2 (about a
# minute per checkpoint) and prints "—" in its column.
# The jar is built once and copied, so editing sources while the table runs cannot change it half-way.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="$1"; CALIB="${2:-wikitext2}"; OUT="${3:-/tmp/tern-table}"
VALID="$ROOT/../shared/data/tinystories/valid-snippet.txt"
SEEDS="${SEEDS:-0}"; EVAL="${EVAL:-dequantized}"; WIKI="${WIKI:-1}"
mkdir -p "$OUT"
"$ROOT/tern" --version > /dev/null
cp "$ROOT/target/tern.jar" "$OUT/tern.jar"
source "$ROOT/bin/find-jdk.sh"
TERN() { "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -Xmx"${TERN_HEAP:-8g}" -jar "$OUT/tern.jar" "$@"; }
name=$(basename "$MODEL")
configs=(
  "RTN ternary (TWN, symmetric)|--method rtn-twn"
  "RTN ternary (asymmetric)|--method rtn-ternary"
  "GPTQ 2-bit g128|--method gptq --bits 2"
  "GPTQ 3-bit g128|--method gptq --bits 3"
  "GPTQ 4-bit g128|--method gptq --bits 4"
  "ATQ only (ITF+AGA, no GPTQ)|--method atq"
  "PT²-LLM, no ITF, no AGA|--method pt2 --no-itf --no-aga"
  "PT²-LLM, ITF only|--method pt2 --no-aga"
  "PT²-LLM, AGA only|--method pt2 --no-itf"
  "PT²-LLM order none|--method pt2 --order none"
  "PT²-LLM order act-order|--method pt2 --order act-order"
  "PT²-LLM order random|--method pt2 --order random"
  "**PT²-LLM (full: ITF+AGA, SSR, 2 refits)**|--method pt2"
  "PT²-LLM without the refits on the final trits (before this change)|--method pt2 --refits 0"
  "PT²-LLM with 1 refit|--method pt2 --refits 1"
  "PT²-LLM, AGA on the damped Hessian|--method pt2 --aga-gram damped"
  "PT²-LLM, block-at-once feedback (METHOD.md reading)|--method pt2 --propagation block"
  "PTQTP (data-free)|--method ptqtp"
  "PTQTP + GPTQ|--method ptqtp --gptq"
  "**PT²-LLM TQ-exact (symmetric grid, group 256, static groups)**|--method pt2 --tq-exact"
  "PT²-LLM symmetric grid, group 128, SSR|--method pt2 --grid symmetric"
  "PT²-LLM asymmetric, group 256, SSR|--method pt2 --group 256"
  "PT²-LLM TQ-exact settings with order none|--method pt2 --grid symmetric --group 256 --order none"
  "PT²-LLM TQ-exact with static groups in act-order|--method pt2 --tq-exact --order static-act-order"
)
ppl() { TERN eval --model "$1" "${@:2}" --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["perplexity"])'; }
mean() { python3 -c 'import sys; v=[float(x) for x in sys.argv[1:]]; print(("%.2f" if sum(v)/len(v) < 1000 else "%.1f") % (sum(v)/len(v)))' "$@"; }
echo "model $name, calibration $CALIB (128 windows), seeds $SEEDS; commands: ./tern quantize --model $MODEL --out DIR --calib $CALIB [--seed S] FLAGS --export-dequantized DIR-deq; perplexity of DIR-deq" >&2
FROM="${FROM:-1}"
if [ "$FROM" -le 1 ]; then
  echo "| configuration | flags | bits/weight | quant time (s) | WikiText-2 PPL | TinyStories PPL |"
  echo "|---|---|---|---|---|---|"
  fw="—"; [ "$WIKI" = 1 ] && fw=$(mean "$(ppl "$MODEL" --dataset wikitext2)")
  echo "| FP32 | — | 32 | — | $fw | $(mean "$(ppl "$MODEL" --text "$VALID")") |"
fi
idx=$((FROM - 1))
for c in "${configs[@]:$((FROM - 1))}"; do
  idx=$((idx + 1))
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $idx "* ]]; then continue; fi
  label="${c%%|*}"; flags="${c#*|}"
  wt=(); ts=(); secs=(); bits=""; failed=""
  for seed in $SEEDS; do
    dir="$OUT/$name-s$seed-$(echo "$flags" | tr -c 'a-z0-9' '_')"
    rm -rf "$dir" "$dir-deq"
    # shellcheck disable=SC2086
    TERN quantize --model "$MODEL" --out "$dir" --calib "$CALIB" --seed "$seed" --export-dequantized "$dir-deq" $flags > "$dir.log" 2>&1 \
      || { failed=1; break; }
    bits=$(sed -n 's/^bits\/weight *\([0-9.]*\).*/\1/p' "$dir.log")
    secs+=("$(sed -n 's/^time *\([0-9.]*\) s/\1/p' "$dir.log")")
    target="$dir-deq"; [ "$EVAL" = packed ] && target="$dir"
    [ "$WIKI" = 1 ] && wt+=("$(ppl "$target" --dataset wikitext2)")
    ts+=("$(ppl "$target" --text "$VALID")")
    printf '%s\t%s\t%s\t%s\n' "$name" "$flags" "$seed" "${ts[-1]}" >> "$OUT/seeds.tsv"
    rm -rf "$dir-deq"
  done
  if [ -n "$failed" ]; then echo "| $label | \`$flags\` | failed | | | |"; continue; fi
  w="—"; [ "$WIKI" = 1 ] && w=$(mean "${wt[@]}")
  echo "| $label | \`$flags\` | $bits | $(mean "${secs[@]}") | $w | $(mean "${ts[@]}") |"
done
