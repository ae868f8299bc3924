"""Evidently 0.7's DataDriftPreset on the benchmark pair, as a user runs it: read both CSVs with pandas, build
the datasets, run the preset. Prints the drifted share and each phase's seconds (JSON) on stdout.

    python evidently_drift.py reference.csv current.csv
"""
import json
import sys
import time

t0 = time.perf_counter()
import pandas as pd  # noqa: E402
from evidently import Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

t1 = time.perf_counter()
ref = pd.read_csv(sys.argv[1])
cur = pd.read_csv(sys.argv[2])
t2 = time.perf_counter()
report = Report([DataDriftPreset()])
snapshot = report.run(Dataset.from_pandas(cur), Dataset.from_pandas(ref))
t3 = time.perf_counter()
share = None
for m in snapshot.dict().get("metrics", []):
    name = str(m.get("metric_name", "")) + str(m.get("config", {}).get("type", ""))
    if "DriftedColumnsCount" in name:
        share = m.get("value", {}).get("share")
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "drift_s": t3 - t2, "total_s": t3 - t0, "drifted_share": share}))
