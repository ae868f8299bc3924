#!/usr/bin/env bash
# Sharded checks (issue 18, point 6): `mlgate check --shard I/4` four times, then `mlgate merge`, against one
# `mlgate check` on the same data: wall times, the merge's peak memory, and `cmp` of the two reports (they hold no
# timings, so they must be identical byte for byte).
#
#   bash bench/scale/shard.sh
#
# Two layouts of the same rows (gen.py's, with `id` as primary key, so keys cross shards): one CSV file (each
# shard reads its quarter of the bytes, cut at record boundaries) and the same rows as four part files
# of a partitioned dataset (each shard reads one part). Shards run one after another, then as 4 processes at once.
# Environment: SIZE (bytes, default 100000000), OUT (default bench/out/shard), MLGATE (default: a release build).
# Needs GNU time (/usr/bin/time).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/bench/out/shard}
SIZE=${SIZE:-100000000}
N=4
if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install time"; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT/parts"
trap 'rm -rf "$OUT/one.csv" "$OUT/parts"' EXIT
cd "$OUT"

python3 "$ROOT/bench/scale/gen.py" --bytes "$SIZE" --out one.csv --schema scale.schema.json > /dev/null
python3 - "$N" <<'PY'
import json, sys
n = int(sys.argv[1])
s = json.load(open("scale.schema.json"))
s["primaryKey"] = "id"
json.dump(s, open("scale.schema.json", "w"), indent=2)
lines = open("one.csv").read().splitlines(keepends=True)
header, rows = lines[0], lines[1:]
for i in range(n):
    with open(f"parts/part-{i}.csv", "w") as f:
        f.write(header)
        f.writelines(rows[len(rows) * i // n:len(rows) * (i + 1) // n])
PY
for layout in file parts; do
  path=$([ "$layout" = file ] && echo one.csv || echo parts)
  printf 'version: 1\ndatasets:\n  scale:\n    path: %s\n    schema: scale.schema.json\n' "$path" > "$layout.yml"
done

# GNU time writes "Command exited with non-zero status 1" first when a gate fails: the figures are the last line.
secs() { /usr/bin/time -f '%e' -o "$1" "${@:2}"; }
last() { tail -1 "$1"; }

printf '%-6s %-26s %s\n' layout run seconds
for layout in file parts; do
  secs t "$MLGATE" check -c "$layout.yml" --format json > "$layout-one.json" || [ $? -eq 1 ]
  printf '%-6s %-26s %s\n' "$layout" "one run" "$(last t)"
  total=0
  for i in $(seq 1 $N); do
    secs t "$MLGATE" check -c "$layout.yml" --shard "$i/$N" --report-dir "$layout-seq" > /dev/null
    printf '%-6s %-26s %s\n' "$layout" "shard $i/$N (sequential)" "$(last t)"
  done
  start=$(date +%s.%N)
  for i in $(seq 1 $N); do
    "$MLGATE" check -c "$layout.yml" --shard "$i/$N" --report-dir "$layout-par" > /dev/null &
  done
  wait
  printf '%-6s %-26s %.2f\n' "$layout" "$N shards at once" "$(echo "$(date +%s.%N) - $start" | bc)"
  /usr/bin/time -f '%e %M' -o t "$MLGATE" merge "$layout"-seq/partial-*-of-$N.json -o "$layout-merged.json" \
    --format json > /dev/null || [ $? -eq 1 ]
  read -r merge_s merge_kib < <(last t)
  printf '%-6s %-26s %s (peak RSS %d MiB, partials %s)\n' "$layout" "merge" "$merge_s" $((merge_kib / 1024)) \
    "$(du -ch "$layout"-seq/partial-* | tail -1 | cut -f1)"
  "$MLGATE" merge "$layout"-par/partial-*-of-$N.json -o "$layout-merged-par.json" --format json > /dev/null || true
  cmp "$layout-one.json" "$layout-merged.json" && cmp "$layout-one.json" "$layout-merged-par.json" \
    && echo "$layout: merged reports identical to the one run's ($(stat -c %s "$layout-one.json") bytes)"
done
