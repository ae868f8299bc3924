#!/usr/bin/env python3
"""Write a CSV of about SIZE bytes for the scale benchmark, fast: one seeded block of rows (about 8 MiB), written
over and over with the `id` column continuing, so the file is as large as asked without Python formatting every
row. Standard library only.

    python bench/scale/gen.py --bytes 10000000000 --out bench/out/scale.csv

Also writes SCHEMA (default: next to the CSV, scale.schema.json): types and range checks, no unique or primary
key, so what the validation remembers does not grow with the rows (a unique key costs 8-16 bytes per distinct
value by design; see README "Readers").
"""
import argparse
import json
import random
from pathlib import Path

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "minimum": 0}},
        {"name": "user", "type": "string", "constraints": {"pattern": "^u[0-9]{6}$"}},
        {"name": "age", "type": "integer", "constraints": {"minimum": 18, "maximum": 90}},
        {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
        {"name": "country", "type": "string", "constraints": {"enum": ["US", "GB", "DE", "FR", "JP"]}},
        {"name": "signup", "type": "date"},
    ]
}


def block(rng, rows):
    out = []
    for i in range(rows):
        age = rng.randint(18, 90) if i % 5000 else 150  # one planted violation per 5,000 rows
        out.append(
            (f"u{rng.randint(0, 999999):06d}", str(age), f"{rng.random():.6f}",
             rng.choice(SCHEMA["fields"][4]["constraints"]["enum"]),
             f"20{rng.randint(10, 23)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--schema", type=Path)
    a = ap.parse_args()
    rng = random.Random(42)
    rows = block(rng, 100_000)
    schema = a.schema or a.out.with_name("scale.schema.json")
    schema.write_text(json.dumps(SCHEMA, indent=2))
    written, next_id = 0, 0
    with open(a.out, "w", buffering=1 << 20) as f:
        header = "id,user,age,score,country,signup\n"
        f.write(header)
        written += len(header)
        while written < a.bytes:
            chunk = "".join(f"{next_id + i},{','.join(r)}\n" for i, r in enumerate(rows))
            next_id += len(rows)
            f.write(chunk)
            written += len(chunk)
    print(f"{a.out}: {written} bytes, {next_id} rows")


if __name__ == "__main__":
    main()
