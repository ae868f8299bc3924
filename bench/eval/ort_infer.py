"""onnxruntime inference time on the same model, data and batch size as `mlgate eval`: the seconds spent in
session.run over all rows (model loading and data reading excluded, as mlgate's `throughput` excludes them).
Prints one JSON line: {"model", "rows", "seconds", "threads"}."""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("data")
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
x = np.load(a.data)["x"]
spent = 0.0
for i in range(0, len(x), a.batch):
    feed = {name: x[i : i + a.batch]}
    t0 = time.perf_counter()
    sess.run(None, feed)
    spent += time.perf_counter() - t0
print(json.dumps({"model": a.model, "rows": len(x), "seconds": spent, "threads": a.threads}))
