"""Seeded 1M vs 1M rows x 10 mixed columns for the drift benchmark (reference.csv, current.csv).

    python gen.py --out DIR [--rows N]
"""
import argparse
import os

import numpy as np
import pandas as pd


def table(rng, n, shift):
    cats = np.array(["north", "south", "east", "west", "centre"])
    p = [0.3, 0.25, 0.2, 0.15, 0.1] if not shift else [0.2, 0.2, 0.2, 0.2, 0.2]
    df = pd.DataFrame(
        {
            "age": rng.normal(40 + 2 * shift, 12, n).round(1),
            "income": rng.lognormal(10, 0.5 + 0.1 * shift, n).round(2),
            "score": rng.uniform(0, 1, n).round(6),
            "wait": rng.exponential(3, n).round(3),
            "visits": rng.integers(0, 200, n),
            "rooms": rng.integers(1, 6, n),
            "region": rng.choice(cats, n, p=p),
            "plan": rng.choice(["free", "basic", "pro"], n, p=[0.6, 0.3, 0.1]),
            "churned": rng.choice(["yes", "no"], n, p=[0.2, 0.8] if not shift else [0.3, 0.7]),
        }
    )
    temp = rng.normal(20 + shift, 5, n).round(2)
    df["temperature"] = np.where(rng.random(n) < 0.05, np.nan, temp)
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(7)
    table(rng, a.rows, 0).to_csv(os.path.join(a.out, "reference.csv"), index=False)
    table(rng, a.rows, 1).to_csv(os.path.join(a.out, "current.csv"), index=False)


if __name__ == "__main__":
    main()
