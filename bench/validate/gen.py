#!/usr/bin/env python3
"""Generate the validation benchmark's input (seeded, so every run and every
machine validates the same bytes).

    python bench/validate/gen.py [--rows 1000000] [--out bench/out]

Writes OUT/data.csv (10 mixed-type columns, about 0.1% of rows with exactly
one violation each), OUT/schema.json (a plain Table Schema, no x-mlgate
block) and OUT/expected.json (how many violations of each kind were
planted, so every tool's error count can be checked against it).
Needs only the standard library.
"""
import argparse
import csv
import datetime as dt
import json
import random
from pathlib import Path

COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "JP", "BR"]
WORDS = ("fast ok slow great bad love hate refund again late box item, price "
         "\"quoted\" works broken nice meh").split(" ")
SIGNUP0 = dt.date(2015, 1, 1)
TS0 = dt.datetime(2024, 1, 1)

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "user", "type": "string",
         "constraints": {"required": True, "pattern": "^u[0-9]{6}$"}},
        {"name": "age", "type": "integer",
         "constraints": {"required": True, "minimum": 18, "maximum": 90}},
        {"name": "score", "type": "number",
         "constraints": {"required": True, "minimum": 0, "maximum": 1}},
        {"name": "amount", "type": "number",
         "constraints": {"required": True, "minimum": 0, "maximum": 10000}},
        {"name": "country", "type": "string",
         "constraints": {"required": True, "enum": COUNTRIES}},
        {"name": "active", "type": "boolean", "constraints": {"required": True}},
        {"name": "signup", "type": "date", "constraints": {"required": True}},
        {"name": "ts", "type": "datetime", "constraints": {"required": True}},
        # Optional free text: an empty cell is fine, over 40 characters is not.
        {"name": "comment", "type": "string", "constraints": {"maxLength": 40}},
    ],
    "missingValues": [""],
}

# Each planted violation: (kind, column, function giving the bad cell text).
# One violation per bad row, so the expected error count = bad rows.
VIOLATIONS = [
    ("age below minimum", "age", lambda r: "17"),
    ("age above maximum", "age", lambda r: str(r.randint(91, 130))),
    ("score above maximum", "score", lambda r: f"{r.uniform(1.01, 2):.4f}"),
    ("amount below minimum", "amount", lambda r: f"-{r.uniform(1, 500):.2f}"),
    ("country not in enum", "country", lambda r: r.choice(["XX", "us", "UK"])),
    ("user pattern mismatch", "user", lambda r: r.choice(["u12345", "U123456", "u1234567"])),
    ("empty required cell", "score", lambda r: ""),
    ("empty required cell", "country", lambda r: ""),
    ("age not an integer (type)", "age", lambda r: r.choice(["42.5", "forty"])),
    ("signup not a date (type)", "signup", lambda r: r.choice(["2024-02-30", "2023/05/01"])),
    ("comment too long", "comment", lambda r: "x" * r.randint(41, 60)),
]


def good_row(r, i):
    comment = ""
    if r.random() < 0.8:  # 20% empty comments (allowed)
        comment = " ".join(r.choice(WORDS) for _ in range(r.randint(1, 6)))[:40]
    return {
        "id": str(i),
        "user": f"u{r.randint(0, 999999):06d}",
        "age": str(r.randint(18, 90)),
        "score": f"{r.random():.4f}",
        "amount": f"{r.uniform(0, 10000):.2f}",
        "country": r.choice(COUNTRIES),
        "active": r.choice(("true", "false")),
        "signup": (SIGNUP0 + dt.timedelta(days=r.randint(0, 3650))).isoformat(),
        "ts": (TS0 + dt.timedelta(seconds=r.randint(0, 366 * 86400 - 1))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "comment": comment,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=0.001, help="share of rows with a violation")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="bench/out")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    r = random.Random(a.seed)
    names = [f["name"] for f in SCHEMA["fields"]]
    # Bad rows spread through the whole file (uniform sample of row indices).
    bad = set(r.sample(range(a.rows), int(a.rows * a.rate)))
    counts = {}
    with open(out / "data.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")  # quotes only cells that need it
        w.writerow(names)
        for i in range(a.rows):
            row = good_row(r, i + 1)
            if i in bad:
                kind, col, make = VIOLATIONS[r.randrange(len(VIOLATIONS))]
                row[col] = make(r)
                counts[kind] = counts.get(kind, 0) + 1
            w.writerow([row[n] for n in names])
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
    expected = {"rows": a.rows, "seed": a.seed, "bad_rows": len(bad),
                "expected_errors": sum(counts.values()), "by_kind": dict(sorted(counts.items()))}
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    size = (out / "data.csv").stat().st_size
    print(f"wrote {out/'data.csv'}: {a.rows} rows, {size/1e6:.1f} MB, {len(bad)} planted violations")


if __name__ == "__main__":
    main()
