#!/usr/bin/env bash
# Model evaluation benchmark (issue 4, point 9), on the digits CNN and the digits MLP over 10,000 rows (the 450
# held-out digits tiled):
#  1. inference: tract inside `mlgate eval` (its `throughput` figure: wall time of the batched runs only) against
#     onnxruntime's session.run time in Python, same model, data and batch (256), interleaved: one thread each,
#     then each tool's default threads (mlgate: batches on every core; ORT: its default intra-op pool);
#  2. end to end: `mlgate check` (two models, metrics, gates) against the same work in a Python script
#     (onnxruntime + scikit-learn), both as whole processes with hyperfine (interpreter start included).
#
#   bash bench/eval/run.sh
#
# Environment: RUNS (default 5), OUT (default bench/out/eval), MLGATE=/path/to/mlgate to skip the build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/eval
FIX=$ROOT/tests/fixtures/models
OUT=${OUT:-$ROOT/bench/out/eval}
RUNS=${RUNS:-5}
mkdir -p "$OUT"

VENV=$OUT/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi
PY=$VENV/bin/python

if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi

"$PY" "$HERE/make_data.py" --fixtures "$FIX" --out "$OUT" --rows 10000
cp "$FIX/digits_cnn.onnx" "$FIX/digits_mlp.onnx" "$OUT/"

# Two settings: one thread each (mlgate --threads 1, ORT intra_op_num_threads=1), and each tool's default on this
# machine (mlgate: one thread per core, batches spread over them; ORT: intra_op_num_threads=0, its default pool).
for setting in one default; do
  if [ "$setting" = one ]; then mt=1; ot=1; else mt=0; ot=0; fi
  echo "== inference, 10,000 rows, batch 256, threads: $setting, $RUNS interleaved runs (median seconds)"
  for m in cnn mlp; do
    : > "$OUT/$m.$setting.tract" ; : > "$OUT/$m.$setting.ort"
    for _ in $(seq "$RUNS"); do
      "$MLGATE" eval "$OUT/digits_$m.onnx" --data "$OUT/digits_${m}_10k.npz" --label y --latency-runs 0 --threads "$mt" --format json \
        | "$PY" -c "import json,sys; c=json.load(sys.stdin)['checks'][0]; t=[x for x in c['figures']['metrics'] if x['name']=='throughput'][0]['value']; print(c['figures']['rows']/t)" >> "$OUT/$m.$setting.tract"
      "$PY" "$HERE/ort_infer.py" "$OUT/digits_$m.onnx" "$OUT/digits_${m}_10k.npz" --threads "$ot" \
        | "$PY" -c "import json,sys; print(json.load(sys.stdin)['seconds'])" >> "$OUT/$m.$setting.ort"
    done
    tr=$(sort -g "$OUT/$m.$setting.tract" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    ort=$(sort -g "$OUT/$m.$setting.ort" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    printf "digits %s, threads %s: tract %.4f s, onnxruntime %.4f s, tract/ORT %.2fx\n" "$m" "$setting" "$tr" "$ort" "$(echo "$tr / $ort" | bc -l)"
  done
done

cat > "$OUT/mlgate.yml" <<YML
version: 1
models:
  digits_cnn:
    path: digits_cnn.onnx
    eval: {data: digits_cnn_10k.npz, label: y}
    gates:
      accuracy: {min: 0.9}
  digits_mlp:
    path: digits_mlp.onnx
    eval: {data: digits_mlp_10k.npz, label: y}
    gates:
      accuracy: {min: 0.9}
YML

echo "== end to end: mlgate check vs Python (onnxruntime + scikit-learn), whole processes"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/e2e.json" \
  "$MLGATE check -c $OUT/mlgate.yml --format json" \
  "$PY $HERE/python_gate.py $OUT/digits_cnn.onnx $OUT/digits_cnn_10k.npz $OUT/digits_mlp.onnx $OUT/digits_mlp_10k.npz"
