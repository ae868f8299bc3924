"""What `mlgate check` does for bench/eval's two models, in Python: onnxruntime inference, scikit-learn metrics
(the same set mlgate reports), the accuracy gates, a verdict and an exit code. Timed as a whole process,
interpreter start and imports included, as a CI job would run it."""
import json
import sys

import numpy as np
import onnxruntime as ort
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score)

MODELS = [(sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])]
report = []
ok = True
for model, data in MODELS:
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    d = np.load(data)
    x, y = d["x"], d["y"]
    probs = []
    for i in range(0, len(x), 256):
        outs = sess.run(None, {name: x[i : i + 256]})
        probs.append([o for o in outs if o.ndim == 2][0])
    p = np.concatenate(probs).astype(np.float64)
    pred = p.argmax(axis=1)
    m = {"accuracy": accuracy_score(y, pred), "balanced_accuracy": balanced_accuracy_score(y, pred)}
    for avg in ("macro", "micro", "weighted"):
        m[f"precision_{avg}"] = precision_score(y, pred, average=avg, zero_division=0)
        m[f"recall_{avg}"] = recall_score(y, pred, average=avg, zero_division=0)
        m[f"f1_{avg}"] = f1_score(y, pred, average=avg, zero_division=0)
    m["roc_auc"] = roc_auc_score(y, p, multi_class="ovr", average="macro")
    m["log_loss"] = log_loss(y, p, labels=list(range(p.shape[1])))
    m["confusion_matrix"] = confusion_matrix(y, pred).tolist()
    passed = m["accuracy"] >= 0.9
    ok &= passed
    report.append({"model": model, "pass": bool(passed), "metrics": m})
print(json.dumps({"verdict": "pass" if ok else "fail", "checks": report}))
sys.exit(0 if ok else 1)
