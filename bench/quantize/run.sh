#!/usr/bin/env bash
# Side by side: ONNX Runtime's quantize_dynamic / quantize_static against `mlgate quantize` on the digits MLP, the
# digits CNN and MediaPipe's face_detection_short_range (from the mediapipe 0.10.14 wheel, converted with tf2onnx).
# Size, accuracy (or agreement with the float model where there are no labels) and latency, all run in tract
# through `mlgate eval` / `mlgate quantize`. Writes bench/out/quantize/results.md.
#
#   bench/quantize/run.sh                 # builds mlgate (dev profile: tract's crates are optimised, see Cargo.toml)
#   MLGATE=path/to/mlgate VENV=path bench/quantize/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out/quantize"
mkdir -p "$out"
venv=${VENV:-$out/venv}
if [ ! -x "$venv/bin/python" ]; then
  python3.11 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$root/bench/quantize/requirements.txt"
fi
if [ -z "${MLGATE:-}" ]; then
  (cd "$root" && cargo build --locked --bin mlgate)
  MLGATE="$root/target/debug/mlgate"
fi
# mediapipe 0.10.14 needs Python 3.11 or older; only its .tflite file is used, so the wheel is unpacked, not installed.
wheel_dir="$out/mediapipe"
if [ ! -f "$wheel_dir/face_detection_short_range.tflite" ]; then
  mkdir -p "$wheel_dir"
  if "$venv/bin/pip" download -q mediapipe==0.10.14 --no-deps --python-version 3.11 --only-binary :all: -d "$wheel_dir"; then
    (cd "$wheel_dir" && "$venv/bin/python" -m zipfile -e mediapipe-0.10.14-*.whl unpacked >/dev/null \
      && cp unpacked/mediapipe/modules/face_detection/face_detection_short_range.tflite . && rm -rf unpacked)
  fi
fi
"$venv/bin/python" "$root/bench/quantize/compare.py" "$MLGATE" "$out"
