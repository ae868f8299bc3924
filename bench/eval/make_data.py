"""Tiles the 450 held-out digits to N rows (default 10,000) for the benchmark: CNN input [N, 8, 8, 1] and MLP
input [N, 64], float32, with their labels, as .npz files in OUT."""
import argparse
from pathlib import Path

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--fixtures", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--rows", type=int, default=10_000)
a = ap.parse_args()
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
d = np.load(Path(a.fixtures) / "data" / "digits_test.npz")
reps = -(-a.rows // len(d["y"]))
x = np.tile(d["x"], (reps, 1, 1, 1))[: a.rows]
y = np.tile(d["y"], reps)[: a.rows]
np.savez(out / "digits_cnn_10k.npz", x=x, y=y)
np.savez(out / "digits_mlp_10k.npz", x=x.reshape(len(x), 64), y=y)
