#!/usr/bin/env bash
# Fuzzes every parser target one after another (Jazzer fuzzes one test per JVM).
# Usage: tools/fuzz-all.sh [DURATION per target, default 10m] [TARGET ...]   e.g. tools/fuzz-all.sh 30s ModelConfigFuzzTest#read
# Logs go to target/fuzz-logs/; a finding is written as crash-<sha1> into the target's inputs folder and the
# target's Maven run fails, which this script reports at the end.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" && source bin/find-jdk.sh
DUR="${1:-10m}"; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(SafetensorsFuzzTest#open ShardedSafetensorsFuzzTest#open ModelConfigFuzzTest#read
  HfTokenizerFuzzTest#load Llama2cFuzzTest#checkpoint Llama2cFuzzTest#tokenizer TernCheckpointFuzzTest#read
  TernCheckpointFuzzTest#packing TaskDataFuzzTest#load GgufFuzzTest#open)
mkdir -p target/fuzz-logs
failed=()
for t in "${TARGETS[@]}"; do
  log="target/fuzz-logs/${t/\#/-}.log"
  echo "fuzzing $t for $DUR (log: $log)"
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="$DUR" ./mvnw -q -B test -Dtest="dev.tern.fuzz.$t" -Dtern.test.heap=512m \
    -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-timeout=10 > "$log" 2>&1 || failed+=("$t")
  grep -E '(DONE|pulse) +cov' "$log" | tail -1
done
if [ ${#failed[@]} -gt 0 ]; then echo "findings or failures in: ${failed[*]}"; exit 1; fi
echo "no findings"
