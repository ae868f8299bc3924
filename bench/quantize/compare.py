"""ORT's quantizers against `mlgate quantize`, everything measured in tract by mlgate itself.

Usage: compare.py MLGATE OUT_DIR   (run.sh sets it up)
"""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "tests", "fixtures", "models")
MLGATE, OUT = sys.argv[1], sys.argv[2]
LATENCY_RUNS = "200"


def mlgate(*args, ok=(0, 1)):
    p = subprocess.run([MLGATE, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        raise RuntimeError(f"mlgate {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def evaluate(model, data, label, task=None):
    """Accuracy, latency p50 (batch 1) and size, from `mlgate eval` (tract)."""
    args = ["eval", model, "--data", data, "--label", label, "--format", "json", "--latency-runs", LATENCY_RUNS]
    if task:
        args += ["--task", task]
    report = json.loads(mlgate(*args).stdout)
    metrics = {m["name"]: m["value"] for m in report["checks"][0]["figures"]["metrics"]}
    return metrics


def gate(float_model, quantized, data, label=None, mode="dynamic-int8", extra=()):
    """Agreement and max output difference of `quantized` against the float model, from `mlgate quantize`'s
    report: it re-quantizes the float model, so for ORT's variants only mlgate's own figures are taken here.
    `--keep-failed`: the bench measures every variant, even one over the gate's drop."""
    args = ["quantize", float_model, "--mode", mode, "-o", quantized, "--data", data, "--format", "json",
            "--keep-failed", *extra]
    if label:
        args += ["--label", label]
    p = mlgate(*args, ok=(0, 1, 2))
    if p.returncode == 2:
        print(f"mlgate quantize --mode {mode} refused {os.path.basename(float_model)}: {p.stderr[:500]}",
              file=sys.stderr)
        return None
    report = json.loads(p.stdout)
    return report["checks"][0]["figures"]["variants"][1]


# mlgate's static-int8 variants: (label, --calibrate); calibrated on --calibration, default --data.
STATIC = [("mlgate static-int8 (minmax)", "minmax"), ("mlgate static-int8 (percentile)", "percentile")]


def ort_outputs(path, x, batch):
    import onnxruntime as ort

    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    outs = [s.run(None, {name: x[i : i + batch]}) for i in range(0, len(x), batch)]
    return [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))]


class Reader(CalibrationDataReader):
    def __init__(self, name, x, batch):
        self.items = iter([{name: x[i : i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self.items, None)


def input_name(path):
    return onnx.load(path).graph.input[0].name


def digits(rows):
    cases = [
        ("digits_mlp", "digits_mlp.onnx", "data/digits_flat_test.npz"),
        ("digits_cnn", "digits_cnn.onnx", "data/digits_test.npz"),
    ]
    for name, file, data in cases:
        src = os.path.join(MODELS, file)
        data_path = os.path.join(MODELS, data)
        x = np.load(data_path)["x"]
        variants = {"float": src}
        variants["ORT quantize_dynamic (per-tensor)"] = os.path.join(OUT, f"{name}.ort_dynamic.onnx")
        quantize_dynamic(src, variants["ORT quantize_dynamic (per-tensor)"], weight_type=QuantType.QInt8)
        variants["ORT quantize_dynamic (per-channel)"] = os.path.join(OUT, f"{name}.ort_dynamic_pc.onnx")
        quantize_dynamic(src, variants["ORT quantize_dynamic (per-channel)"], weight_type=QuantType.QInt8, per_channel=True)
        # Static QDQ, per-channel S8S8, calibrated (MinMax) on the first 100 eval rows; Softmax left in float
        # (tract's Q/DQ-around-Softmax bug, see /work/shared/notes/tract.md).
        variants["ORT quantize_static (QDQ, MinMax)"] = os.path.join(OUT, f"{name}.ort_static.onnx")
        batch = 1 if name == "digits_cnn" else 100
        quantize_static(
            src,
            variants["ORT quantize_static (QDQ, MinMax)"],
            Reader(input_name(src), x[:100], batch),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm", "Conv"],
        )
        variants["mlgate dynamic-int8"] = os.path.join(OUT, f"{name}.mlgate_int8.onnx")
        agreement = {"mlgate dynamic-int8": gate(src, variants["mlgate dynamic-int8"], data_path, "y")}
        for label, how in STATIC:
            path = os.path.join(OUT, f"{name}.mlgate_static_{how}.onnx")
            g = gate(src, path, data_path, "y", mode="static-int8", extra=("--calibrate", how))
            if g is not None:
                variants[label], agreement[label] = path, g
        variants["mlgate fp16 (NNEF)"] = os.path.join(OUT, f"{name}.mlgate_fp16.nnef.tgz")
        mlgate("quantize", src, "--mode", "fp16", "-o", variants["mlgate fp16 (NNEF)"], "--data", data_path, "--label", "y")
        float_acc = None
        for label, path in variants.items():
            m = evaluate(path, data_path, "y")
            acc = m["accuracy"]
            if label == "float":
                float_acc = acc
            size = os.path.getsize(path)
            rows.append(
                {
                    "model": name,
                    "variant": label,
                    "size": size,
                    "ratio": size / os.path.getsize(src),
                    "accuracy": acc,
                    "drop": float_acc - acc,
                    "latency_ms": m["latency_p50"],
                    "agreement": agreement[label]["argmax_agreement"] if label in agreement else None,
                }
            )


def face(rows):
    tfl = os.path.join(OUT, "mediapipe", "face_detection_short_range.tflite")
    if not os.path.exists(tfl):
        print("mediapipe 0.10.14 could not be downloaded: face detection skipped", file=sys.stderr)
        return
    src = os.path.join(OUT, "face_detection_short_range.onnx")
    subprocess.run(
        [sys.executable, "-m", "tf2onnx.convert", "--tflite", tfl, "--output", src, "--opset", "17"],
        check=True,
        capture_output=True,
    )
    # No labelled faces ship with the model. Real photographs do: scikit-learn's two sample images (china.jpg and
    # flower.jpg, 427x640), cut into 128x128 crops with a stride of 64 (90 crops), scaled to [-1, 1] (the model's
    # input range). Even crops calibrate the static variants, odd crops are the eval set; the figures are agreement
    # with the float model and the largest output difference.
    from sklearn.datasets import load_sample_images

    crops = []
    for img in load_sample_images().images:
        h, w, _ = img.shape
        for top in range(0, h - 128 + 1, 64):
            for left in range(0, w - 128 + 1, 64):
                crops.append(img[top : top + 128, left : left + 128])
    crops = np.stack(crops).astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    calib_x, x = crops[0::2], crops[1::2]
    data = os.path.join(OUT, "face_inputs.npz")
    calib = os.path.join(OUT, "face_calibration.npz")
    np.savez(data, input=x, x=x, y=np.zeros(len(x), dtype=np.int64))
    np.savez(calib, input=calib_x, x=calib_x, y=np.zeros(len(calib_x), dtype=np.int64))
    variants = {"float": src}
    variants["ORT quantize_dynamic (per-tensor)"] = os.path.join(OUT, "face.ort_dynamic.onnx")
    quantize_dynamic(src, variants["ORT quantize_dynamic (per-tensor)"], weight_type=QuantType.QInt8)
    variants["mlgate dynamic-int8"] = os.path.join(OUT, "face.mlgate_int8.onnx")
    p = mlgate("quantize", src, "--mode", "dynamic-int8", "-o", variants["mlgate dynamic-int8"], "--data", data,
               "--format", "json", ok=(0, 1, 2))
    if p.returncode == 2:
        print("mlgate quantize refused the face detector:", p.stderr, file=sys.stderr)
        del variants["mlgate dynamic-int8"]
    # ORT's static QDQ (per-channel S8S8, MinMax) on the same calibration crops, for comparison.
    variants["ORT quantize_static (QDQ, MinMax)"] = os.path.join(OUT, "face.ort_static.onnx")
    quantize_static(
        src,
        variants["ORT quantize_static (QDQ, MinMax)"],
        Reader(input_name(src), calib_x, 1),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gemm", "Conv"],
    )
    for label, how in STATIC:
        path = os.path.join(OUT, f"face.mlgate_static_{how}.onnx")
        if gate(src, path, data, mode="static-int8", extra=("--calibrate", how, "--calibration", calib)) is not None:
            variants[label] = path
    fp16 = os.path.join(OUT, "face.mlgate_fp16.nnef.tgz")
    p = mlgate("quantize", src, "--mode", "fp16", "-o", fp16, "--data", data, "--format", "json", ok=(0, 1, 2))
    if p.returncode == 2:
        print("mlgate quantize --mode fp16 refused the face detector:", p.stderr, file=sys.stderr)
    else:
        variants["mlgate fp16 (NNEF)"] = fp16
    ref = ort_outputs(src, x, 1)
    order = ["float", "ORT quantize_dynamic (per-tensor)", "ORT quantize_static (QDQ, MinMax)", "mlgate dynamic-int8",
             *(label for label, _ in STATIC), "mlgate fp16 (NNEF)"]
    for label in [v for v in order if v in variants]:
        path = variants[label]
        agreement = diff = None
        if path.endswith(".onnx"):
            outs = ort_outputs(path, x, 1)
            diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ref, outs))
            # The face score per anchor is output `classificators` [1, 896, 1]: agreement on the best anchor.
            scores = [o for o in outs if o.shape[-1] == 1][0].reshape(len(x), -1)
            ref_scores = [o for o in ref if o.shape[-1] == 1][0].reshape(len(x), -1)
            agreement = float(np.mean(scores.argmax(1) == ref_scores.argmax(1)))
        try:
            latency = evaluate(path, data, "y", task="classification")["latency_p50"]
        except RuntimeError as e:
            print(f"{label}: tract: {str(e)[:300]}", file=sys.stderr)
            latency = None
        size = os.path.getsize(path)
        rows.append(
            {
                "model": "face_detection_short_range",
                "variant": label,
                "size": size,
                "ratio": size / os.path.getsize(src),
                "accuracy": None,
                "drop": None,
                "latency_ms": latency,
                "agreement": agreement,
                "max_diff_ort": diff,
            }
        )


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def main():
    rows = []
    digits(rows)
    face(rows)
    lines = [
        "| model | variant | size (bytes) | × float | accuracy | drop | agreement with float | max output diff (ORT) | latency p50 in tract (ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['variant']} | {r['size']} | {r['ratio']:.3f} | {fmt(r['accuracy'], '.4f')} | "
            f"{fmt(r['drop'], '+.4f')} | {fmt(r['agreement'], '.3f')} | {fmt(r.get('max_diff_ort'), '.3g')} | "
            f"{fmt(r['latency_ms'], '.3f')} |"
        )
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
