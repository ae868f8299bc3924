#!/bin/sh
# Keeps a corpus folder under a byte budget (default 80 KiB; FUZZ_CORPUS_BUDGET) so that the committed corpora stay
# small (about 1.7 MB for all targets): the smallest inputs are kept, the largest dropped first. run-all.sh calls
# it after each merge.  Usage: trim-corpus.sh DIR
set -eu
dir=${1:?usage: trim-corpus.sh DIR}
budget=${FUZZ_CORPUS_BUDGET:-81920}
total=0
for f in $(ls -S -r "$dir"); do
    size=$(stat -c %s "$dir/$f")
    if [ $((total + size)) -gt "$budget" ]; then
        rm -f "$dir/$f"
    else
        total=$((total + size))
    fi
done
