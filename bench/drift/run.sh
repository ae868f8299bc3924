#!/usr/bin/env bash
# Drift benchmark: mlgate drift vs Evidently's DataDriftPreset on the same 1M vs 1M rows x 10 mixed columns.
# Each tool is timed as a whole process (start-up, imports, reading both CSVs included).
#
#   bash bench/drift/run.sh
#
# Environment: RUNS (default 3); OUT (default bench/out/drift); ROWS (default 1000000);
# MLGATE=/path/to/mlgate uses that binary instead of building one.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/drift
OUT=${OUT:-$ROOT/bench/out/drift}
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
mkdir -p "$OUT"

# 1. Evidently in its own venv, pinned (never the system Python).
VENV=$OUT/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi
PY=$VENV/bin/python

# 2. mlgate, release build.
if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi

# 3. The data (seeded; generated once per size).
REF=$OUT/reference.csv CUR=$OUT/current.csv
if [ ! -f "$CUR" ] || [ "$(cat "$OUT/rows" 2>/dev/null)" != "$ROWS" ]; then
  "$PY" "$HERE/gen.py" --out "$OUT" --rows "$ROWS"
  echo "$ROWS" > "$OUT/rows"
fi

now() { date +%s.%N; }
best() { sort -g | head -1; }

: > "$OUT/mlgate.times"
for _ in $(seq "$RUNS"); do
  t0=$(now)
  "$MLGATE" drift "$REF" "$CUR" --format json > "$OUT/report-mlgate.json" || [ $? -le 1 ]
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$OUT/mlgate.times"
done
: > "$OUT/evidently.times"
for _ in $(seq "$RUNS"); do
  t0=$(now)
  "$PY" "$HERE/evidently_drift.py" "$REF" "$CUR" > "$OUT/report-evidently.json"
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$OUT/evidently.times"
done

m=$(best < "$OUT/mlgate.times")
e=$(best < "$OUT/evidently.times")
mshare=$("$PY" -c "import json;print(json.load(open('$OUT/report-mlgate.json'))['checks'][0]['figures']['drifted_share'])")
eshare=$("$PY" -c "import json;print(json.load(open('$OUT/report-evidently.json'))['drifted_share'])")
echo "rows per side: $ROWS, 10 columns, best of $RUNS (wall seconds, whole process)"
printf "mlgate drift:             %8.2f s  drifted share %s\n" "$m" "$mshare"
printf "Evidently DataDriftPreset: %8.2f s  drifted share %s  (phases of last run: %s)\n" "$e" "$eshare" "$(cat "$OUT/report-evidently.json")"
printf "speed-up: %.1fx\n" "$(echo "$e / $m" | bc -l)"
