#!/usr/bin/env bash
# Builds the README's results table for one model: quantizes it with every method and ablation, then measures
# WikiText-2 and TinyStories perplexity of each checkpoint. Usage:
#   tools/results/quant-table.sh MODEL_DIR [CALIB] [OUT_ROOT]      (CALIB defaults to wikitext2)
# Prints one markdown row per configuration; the commands are printed above the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="$1"; CALIB="${2:-wikitext2}"; OUT="${3:-/tmp/tern-table}"
TERN="$ROOT/tern"
VALID="$ROOT/../shared/data/tinystories/valid-snippet.txt"
mkdir -p "$OUT"
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
  "**PT²-LLM (full: ITF+AGA, SSR)**|--method pt2"
  "PT²-LLM, block-at-once feedback (METHOD.md default)|--method pt2 --propagation block"
  "PTQTP (data-free)|--method ptqtp"
  "PTQTP + GPTQ|--method ptqtp --gptq"
)
ppl() { "$TERN" eval --model "$1" "${@:2}" --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["perplexity"])'; }
echo "model $name, calibration $CALIB (128 windows, seed 0); commands: $TERN quantize --model $MODEL --out DIR --calib $CALIB FLAGS" >&2
echo "| configuration | flags | bits/weight | quant time (s) | WikiText-2 PPL | TinyStories PPL |"
echo "|---|---|---|---|---|---|"
echo "| FP32 | — | 32 | — | $(ppl "$MODEL" --dataset wikitext2) | $(ppl "$MODEL" --text "$VALID") |"
for c in "${configs[@]}"; do
  label="${c%%|*}"; flags="${c#*|}"
  dir="$OUT/$name-$(echo "$flags" | tr -c 'a-z0-9' '_')"
  # shellcheck disable=SC2086
  "$TERN" quantize --model "$MODEL" --out "$dir" --calib "$CALIB" $flags > "$dir.log" 2>&1 || { echo "| $label | \`$flags\` | failed | | | |"; continue; }
  bits=$(sed -n 's/^bits\/weight *\([0-9.]*\).*/\1/p' "$dir.log")
  secs=$(sed -n 's/^time *\([0-9.]*\) s/\1/p' "$dir.log")
  echo "| $label | \`$flags\` | $bits | $secs | $(ppl "$dir" --dataset wikitext2) | $(ppl "$dir" --text "$VALID") |"
done
