#!/usr/bin/env bash
# The pickle scan side by side: mlgate, picklescan and modelscan on every file of the corpus that
# tests/fixtures/pickles/make_corpus.py writes (the samples of picklescan's and modelscan's own test suites and
# the 2024-2025 bypasses). Verdicts only; no timing.
#
#   bash bench/pickle-scan/run.sh
#
# Environment: OUT (default bench/out/pickle-scan); MLGATE=/path/to/mlgate uses that binary instead of building one.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/pickle-scan
OUT=${OUT:-$ROOT/bench/out/pickle-scan}
mkdir -p "$OUT"

VENV=$OUT/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi

"$VENV/bin/python" "$HERE/compare.py" --mlgate "$MLGATE" --venv "$VENV" \
  --corpus "$ROOT/tests/fixtures/pickles/corpus" --out "$OUT"
