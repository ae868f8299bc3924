#!/usr/bin/env bash
# S3 throughput: `mlgate validate` of one large CSV read from a local S3 server (moto, on 127.0.0.1) against the
# same file read from disk. Wall time and peak RSS of the whole process, each run RUNS times; the best is kept.
#
#   bash bench/scale/s3.sh
#
# Environment: SIZE_MB (default 1024) the CSV's size; RUNS (default 3); OUT (default bench/out/s3);
# MLGATE=/path/to/mlgate uses that binary instead of building a release one; PYTHON a python with moto[server]
# and boto3 (default .venv-interop/bin/python, which .ci/run installs from tests/interop/requirements.txt).
# Moto is a Python server: its GET speed, not S3's, is the ceiling measured here.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/bench/out/s3}
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-1024}
PY=${PYTHON:-$ROOT/.venv-interop/bin/python}
mkdir -p "$OUT"

"$PY" -c "import moto.server, boto3" || { echo "error: $PY has no moto[server] (tests/interop/requirements.txt)" >&2; exit 1; }

if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi

# 1. The data: id,name,score rows up to SIZE_MB, and its schema.
CSV=$OUT/big-$SIZE_MB.csv
if [ ! -f "$CSV" ]; then
  "$PY" - "$CSV" "$SIZE_MB" <<'EOF'
import sys
path, mb = sys.argv[1], int(sys.argv[2])
target = mb * 1024 * 1024
with open(path, "w") as f:
    f.write("id,name,score\n")
    written, i = 0, 0
    while written < target:
        rows = "".join(f"{j},name-{j % 9973},{(j * 7919) % 1000 / 10}\n" for j in range(i, i + 100000))
        f.write(rows)
        written += len(rows)
        i += 100000
EOF
fi
cat > "$OUT/big.schema.json" <<'EOF'
{"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
            {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 100}}]}
EOF

# 2. The server, stopped on exit.
PORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$PY" -m moto.server -H 127.0.0.1 -p "$PORT" >"$OUT/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
"$PY" - "$CSV" <<'EOF'
import sys, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
s3.create_bucket(Bucket="bench")
s3.upload_file(sys.argv[1], "bench", "big.csv")
EOF

# 3. The runs: best wall time and its peak RSS, per source.
bytes=$(stat -c %s "$CSV")
best() {
  local label=$1; shift
  local best_s="" best_kb=""
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$MLGATE" validate "$@" --schema "$OUT/big.schema.json" --format json \
      >"$OUT/$label.json" || [ $? -eq 1 ]
    read -r s kb <"$OUT/time"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; best_kb=$kb; fi
  done
  awk -v l="$label" -v s="$best_s" -v kb="$best_kb" -v b="$bytes" \
    'BEGIN{printf "%-5s %7.2f s  %7.1f MB/s  peak RSS %6.1f MiB\n", l, s, b/1048576/s, kb/1024}'
}
echo "mlgate validate, $(awk -v b="$bytes" 'BEGIN{printf "%.0f MiB", b/1048576}') CSV, best of $RUNS ($MLGATE)"
best disk "$CSV"
best s3 "s3://bench/big.csv"
# The same verdict and counts either way.
"$PY" - "$OUT/disk.json" "$OUT/s3.json" <<'EOF'
import json, sys
a, b = (json.load(open(p))["checks"][0] for p in sys.argv[1:])
same = a.get("counts") == b.get("counts") and a["figures"]["rows"] == b["figures"]["rows"]
assert same, (a.get("counts"), b.get("counts"))
print(f"same report: {a['figures']['rows']} rows, counts {a.get('counts', {})}")
EOF
