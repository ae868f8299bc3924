#!/bin/sh
# Executions per target over every run recorded in fuzz/runs.tsv, with the corpus's files and size now.
fuzz=$(cd "$(dirname "$0")" && pwd)
printf '%-20s %14s %8s %8s\n' target executions files KiB
for t in $(ls "$fuzz/fuzz_targets" | sed 's/\.rs$//'); do
    execs=$(awk -F'\t' -v t="$t" '$2 == t { s += $4 } END { printf "%d", s }' "$fuzz/runs.tsv")
    files=$(ls "$fuzz/corpus/$t" | wc -l)
    kib=$(du -sk "$fuzz/corpus/$t" | cut -f1)
    printf '%-20s %14s %8s %8s\n' "$t" "$execs" "$files" "$kib"
done
