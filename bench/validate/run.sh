#!/usr/bin/env bash
# Validation benchmark: mlgate vs frictionless vs pandera, each validating
# the same 1,000,000-row CSV against the same Table Schema. Every tool is
# timed as a whole process (start-up, imports, reading included).
#
#   bash bench/validate/run.sh
#
# Environment: RUNS (default 3) runs per tool; OUT (default bench/out);
# MLGATE=/path/to/mlgate uses that binary instead of building one;
# TOOLS="mlgate pandera frictionless" picks the tools; NO_HYPERFINE=1
# times with /usr/bin/time even when hyperfine is installed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/validate
OUT=${OUT:-$ROOT/bench/out}
RUNS=${RUNS:-3}
TOOLS=${TOOLS:-"mlgate pandera frictionless"}
mkdir -p "$OUT"

# 1. Python tools in their own venv, pinned (never the system Python).
VENV=$OUT/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"  # reinstall when the pins change
fi
PY=$VENV/bin/python

# 2. mlgate, built in release mode from the repository root.
if [[ " $TOOLS " != *" mlgate "* ]]; then
  :  # not asked for: no build
elif [ -n "${MLGATE:-}" ]; then
  echo "using mlgate at $MLGATE"
elif command -v cargo >/dev/null && [ -f "$ROOT/Cargo.toml" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
else
  echo "cargo or Cargo.toml missing: skipping mlgate"
fi
if [[ " $TOOLS " == *" mlgate "* ]] && { [ -z "${MLGATE:-}" ] || [ ! -x "$MLGATE" ]; }; then
  echo "no mlgate binary: skipping mlgate"
  TOOLS=${TOOLS//mlgate/}
fi

# 3. The data (seeded; generated once).
DATA=$OUT/data.csv SCHEMA=$OUT/schema.json
[ -f "$DATA" ] && [ -f "$SCHEMA" ] || "$PY" "$HERE/gen.py" --out "$OUT"

# 4. One command line per tool. Each writes its report to OUT/report-TOOL.txt
#    so the error count can be read after timing (the last run's report).
#    mlgate exits 1 when it finds violations (expected here); 2 is a failure.
cmd_for() {
  case $1 in
    mlgate) echo "'$MLGATE' validate '$DATA' --schema '$SCHEMA' --format json > '$OUT/report-mlgate.txt'; [ \$? -le 1 ]" ;;
    pandera|frictionless) echo "'$PY' '$HERE/${1}_validate.py' '$DATA' '$SCHEMA' > '$OUT/report-$1.txt' 2>/dev/null" ;;
  esac
}

for tool in $TOOLS; do
  echo "== $tool ($RUNS runs)"
  if command -v hyperfine >/dev/null && [ "${NO_HYPERFINE:-}" != 1 ]; then
    hyperfine --runs "$RUNS" --export-json "$OUT/time-$tool.json" --command-name "$tool" "$(cmd_for "$tool")"
  else  # fall back to /usr/bin/time, written in hyperfine's JSON shape
    : > "$OUT/times-$tool.txt"
    for _ in $(seq "$RUNS"); do
      /usr/bin/time -f "%e %U %S" -a -o "$OUT/times-$tool.txt" sh -c "$(cmd_for "$tool")"
    done
    "$PY" - "$OUT/times-$tool.txt" "$OUT/time-$tool.json" <<'PYEOF'
import json, sys
runs = [[float(x) for x in line.split()] for line in open(sys.argv[1]) if line.strip()]
mean = lambda i: sum(r[i] for r in runs) / len(runs)
json.dump({"results": [{"mean": mean(0), "user": mean(1), "system": mean(2),
                        "times": [r[0] for r in runs]}]}, open(sys.argv[2], "w"))
PYEOF
  fi
done

# 5. The table (also saved as OUT/results.md).
"$PY" "$HERE/report.py" "$OUT" $TOOLS | tee "$OUT/results.md"
