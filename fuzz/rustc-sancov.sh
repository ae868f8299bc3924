#!/bin/sh
# RUSTC_WRAPPER for fuzz/run-all.sh: compiles mlgate and the fuzz targets with libFuzzer's coverage
# instrumentation (the flags cargo-fuzz passes, all stable `-C` options) and every other crate unchanged, so the
# dependencies built for the normal debug profile are reused instead of a cold instrumented build of tract, arrow
# and parquet. libFuzzer is then guided by mlgate's own code; the dependencies' code runs uninstrumented.
rustc="$1"
shift
case " $* " in
*" --crate-name mlgate "* | *"/fuzz_targets/"*)
    exec "$rustc" "$@" \
        -Cpasses=sancov-module \
        -Cllvm-args=-sanitizer-coverage-level=4 \
        -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
        -Cllvm-args=-sanitizer-coverage-pc-table \
        -Cllvm-args=-sanitizer-coverage-trace-compares \
        -Cllvm-args=-sanitizer-coverage-stack-depth \
        --cfg fuzzing
    ;;
esac
exec "$rustc" "$@"
