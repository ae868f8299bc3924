#!/usr/bin/env bash
# Scale benchmark: peak memory (RSS) of `mlgate validate` on CSV files of growing size, which must stay flat:
# a dataset is streamed once and memory grows with columns and remembered keys, never with rows.
#
#   bash bench/scale/run.sh
#
# Environment: SIZES (default "1000000000 10000000000", bytes) the files to generate, validate and delete one at
# a time; OUT (default bench/out); MLGATE=/path/to/mlgate uses that binary instead of building a release one.
# Needs GNU time (/usr/bin/time -v) and free disk for the largest size (checked first).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/scale
OUT=${OUT:-$ROOT/bench/out}
SIZES=${SIZES:-"1000000000 10000000000"}
mkdir -p "$OUT"

if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install time"; exit 2; }

largest=0
for s in $SIZES; do [ "$s" -gt "$largest" ] && largest=$s; done
free=$(df -B1 --output=avail "$OUT" | tail -1)
if [ "$free" -lt $((largest + largest / 10)) ]; then
  echo "not enough disk in $OUT for $largest bytes (free: $free)"; exit 2
fi

DATA=$OUT/scale.csv SCHEMA=$OUT/scale.schema.json
trap 'rm -f "$DATA"' EXIT
printf '%-14s %-12s %-10s %-12s %s\n' bytes rows seconds peak_rss_mib findings
for s in $SIZES; do
  python3 "$HERE/gen.py" --bytes "$s" --out "$DATA" --schema "$SCHEMA" > /dev/null
  # Exit 1 (planted violations found) is expected; 2 would be a failure.
  /usr/bin/time -v -o "$OUT/scale-time.txt" "$MLGATE" validate "$DATA" --schema "$SCHEMA" --format json \
    > "$OUT/scale-report.json" || [ $? -eq 1 ]
  rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/scale-time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/scale-time.txt")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rows=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=r["checks"][0]; print(c["figures"]["rows"], c["figures"]["errors"])' "$OUT/scale-report.json")
  printf '%-14s %-12s %-10s %-12s %s\n' "$(stat -c %s "$DATA")" "${rows% *}" "$secs" "$((rss_kib / 1024))" "${rows#* }"
  rm -f "$DATA"
done
