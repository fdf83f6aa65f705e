#!/usr/bin/env bash
# Regenerates the tokenizer goldens under src/test/resources/tokenizer/ (needs node + npm; tests do not).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${TERN_SHARED:-$repo/../shared}"
res="$repo/src/test/resources/tokenizer"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$here"
npm ci --no-audit --no-fund >/dev/null
mkdir -p "$res"
node texts.mjs "$shared" "$tmp"
node golden.mjs train "$res/bytelevel-tokenizer.json" "$res/bytelevel-tokenizer_config.json" \
  "$shared/data/tinystories/train-head.txt"
node golden.mjs golden "$shared/models/tinystories-656k/tokenizer.json" \
  "$shared/models/tinystories-656k/tokenizer_config.json" "$tmp/texts-tinystories.json" "$res/golden-tinystories-656k.json"
node golden.mjs golden "$res/bytelevel-tokenizer.json" "$res/bytelevel-tokenizer_config.json" \
  "$tmp/texts-bytelevel.json" "$res/golden-bytelevel.json"
node golden.mjs sp "$res/sp-bytefallback-tokenizer.json" "$res/sp-bytefallback-tokenizer_config.json"
node golden.mjs golden "$res/sp-bytefallback-tokenizer.json" "$res/sp-bytefallback-tokenizer_config.json" \
  "$tmp/texts-sp.json" "$res/golden-sp-bytefallback.json"
