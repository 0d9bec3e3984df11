#!/usr/bin/env bash
# Runs every libFuzzer harness for a bounded time on its seed corpus.
#
#   tests/fuzz/run.sh [SECONDS]     default 3 seconds per harness (what the test command runs)
#   HSPY_FUZZ_SECONDS=3600 tests/fuzz/run.sh     an hour per harness
#
# Builds with clang, libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in
# $HSPY_BUILD-fuzz (default build-fuzz). New inputs found go to a scratch folder (the seed
# corpus in the repository is not changed; -seed=1 keeps the mutation sequence the same from run
# to run); a crash leaves its reproducer in that folder and
# fails the run, printing its path. Exit 77 when clang is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${HSPY_BUILD:-$top/build}-fuzz
secs=${1:-${HSPY_FUZZ_SECONDS:-3}}
jobs=${HSPY_JOBS:-$(nproc 2>/dev/null || echo 2)}
command -v clang >/dev/null || { echo "SKIP: clang not installed: fuzzing not run"; exit 77; }

harnesses=()
for f in "$top"/tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$f" .c)"); done
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang cmake -S "$top" -B "$build" -DHSPY_FUZZ=ON -DHSPY_SANITIZE=ON \
        -DCMAKE_BUILD_TYPE=Debug -DHSPY_WERROR=ON >/dev/null
fi
cmake --build "$build" -j "$jobs" --target "${harnesses[@]}" -- --no-print-directory >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/hspy-fuzz.XXXXXX")
status=0
run_one() {
    local name=$1 entry=${1#fuzz_}
    local dir="$scratch/$entry"
    mkdir -p "$dir"
    cp -r "$top/tests/fuzz/corpus/$entry/." "$dir/" 2>/dev/null || true
    local bin
    bin=$(find "$build" -name "$name" -type f -perm -u+x | head -1)
    if ! (cd "$dir" && "$bin" -seed=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$dir" >"$dir.log" 2>&1); then
        echo "FAIL: $name: $(grep -m1 -E 'ERROR|invariant|runtime error' "$dir.log" || true)"
        echo "      log and reproducer in $dir"
        return 1
    fi
    echo "ok: $name: $(grep -m1 -oE 'number_of_executed_units: [0-9]+' "$dir.log" | grep -oE '[0-9]+') inputs in ${secs}s"
}
pids=()
for h in "${harnesses[@]}"; do
    run_one "$h" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status -eq 0 ] && rm -rf "$scratch"
echo "fuzzing: ${#harnesses[@]} harnesses, ${secs}s each: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
