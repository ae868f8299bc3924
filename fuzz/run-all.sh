#!/bin/sh
# Runs every fuzz target (or those named) for SECONDS each on its committed corpus, appends what it did to
# fuzz/runs.tsv and merges what it found into the corpus, minimized (libFuzzer's -merge=1) and kept under 80 KiB
# (trim-corpus.sh).
#   nice -n 19 fuzz/run-all.sh SECONDS [TARGET...]
# (two at once: run it twice with disjoint TARGET lists; runs.tsv takes lines from both)
# Built on the stable toolchain: libFuzzer from libfuzzer-sys, coverage instrumentation of mlgate and the targets
# by fuzz/rustc-sancov.sh (the flags cargo-fuzz passes), in the main target folder so that the dependencies
# already built there are reused. A crash leaves its input in fuzz/artifacts/TARGET/ and stops the script:
# minimize it (`target/debug/TARGET -minimize_crash=1 -runs=100000 FILE`), fix the bug, commit the input as
# fuzz/regressions/TARGET/NAME (tests/fuzz_corpus.rs replays it) and list it in README "Reliability".
set -eu
seconds=${1:?usage: run-all.sh SECONDS [TARGET...]}
shift
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
export CARGO_TARGET_DIR="$root/target"
export RUSTC_WRAPPER="$fuzz/rustc-sancov.sh"
# Harnesses whose entry point takes a path write each input to a temporary file: on a disk that other processes
# write to, ext4's journal made that 5 ms an execution (200 a second, nearly all of it waiting); in memory (tmpfs)
# the same targets run 5,000 to 17,000 a second.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
# FUZZ_NO_BUILD=1: the targets are built already (another cargo holds the target folder).
[ "${FUZZ_NO_BUILD:-}" = 1 ] || (cd "$fuzz" && cargo build --locked --bins)
targets=${*:-$(ls "$fuzz/fuzz_targets" | sed 's/\.rs$//')}
[ -f "$fuzz/runs.tsv" ] || printf 'date\ttarget\tseconds\texecutions\tresult\n' >"$fuzz/runs.tsv"
for t in $targets; do
    mkdir -p "$fuzz/artifacts/$t" "$fuzz/corpus/$t"
    new=$(mktemp -d)
    log=$(mktemp)
    status=0
    "$CARGO_TARGET_DIR/debug/$t" "$new" "$fuzz/corpus/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$fuzz/artifacts/$t/" \
        >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    result=ok
    [ "$status" -eq 0 ] || result="crash(exit $status)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "${execs:-0}" "$result" >>"$fuzz/runs.tsv"
    echo "$t: ${execs:-0} executions in ${seconds}s, $result"
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log"
        echo "crash input: $(ls -t "$fuzz/artifacts/$t" | head -n 1)" >&2
        exit 1
    fi
    # The corpus, minimized: only inputs that add coverage stay.
    merged=$(mktemp -d)
    "$CARGO_TARGET_DIR/debug/$t" -merge=1 -rss_limit_mb=2048 -timeout=10 "$merged" "$fuzz/corpus/$t" "$new" \
        >/dev/null 2>&1
    if [ -n "$(ls "$merged")" ]; then
        rm -rf "$fuzz/corpus/$t"
        mv "$merged" "$fuzz/corpus/$t"
    fi
    "$fuzz/trim-corpus.sh" "$fuzz/corpus/$t"
    rm -rf "$new" "$merged" "$log"
done
"$fuzz/totals.sh"
