#!/usr/bin/env python3
"""Write the example repositories under examples/ from datasets that ship
inside scikit-learn (no download at run time).

    python examples/make_examples.py

Everything is deterministic (fixed seeds, sorted rows, fixed float format),
so running it again must leave `git status` clean.

* breast-cancer/  clean data: every dataset must pass.
* wine-bugs/      a clean train batch and an incoming batch with three
                  injected bugs; expected.json + EXPECTED.md say exactly
                  which cells are wrong (verify with verify_frictionless.py).
"""
import json
import math
import re
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 0


# ---------------------------------------------------------------- helpers
def snake(name):
    """'mean radius' -> 'mean_radius', 'od280/od315_of...' -> 'od280_od315_of...'."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def fmt(x):
    """Shortest round-trip text for a float, never in exponent notation
    (so any CSV reader parses it), and integral values without '.0'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""  # the schema's only missing value
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return np.format_float_positional(x, trim="-")


def clean_round(x, ndigits):
    """round() that does not leave 0.30000000000000004 behind."""
    return float(f"{x:.{max(ndigits, 0)}f}")


def bounds(col, margin=0.05):
    """Bounds a little wider than the data: min/max widened by `margin` of
    the range, then rounded outwards to 2 significant digits of the range.
    A non-negative column keeps a lower bound >= 0 (it is a physical size)."""
    lo, hi = float(np.min(col)), float(np.max(col))
    span = hi - lo
    step_exp = math.floor(math.log10(span)) - 1
    step = 10.0**step_exp
    lo_w, hi_w = lo - margin * span, hi + margin * span
    if lo >= 0:
        lo_w = max(lo_w, 0.0)
    nd = -step_exp
    return (clean_round(math.floor(lo_w / step) * step, nd),
            clean_round(math.ceil(hi_w / step) * step, nd))


def write_csv(path, header, rows):
    # Plain CSV: no field here contains a comma or a quote, so no quoting;
    # '\n' line ends so that physical line == Frictionless row number.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def numeric_field(name, title, lo, hi):
    return {"name": name, "title": title, "type": "number",
            "constraints": {"required": True, "minimum": lo, "maximum": hi}}


def id_field():
    return {"name": "id", "type": "integer",
            "description": "Row number in the original scikit-learn dataset (1-based); stable across splits.",
            "constraints": {"required": True, "unique": True, "minimum": 1}}


def column_stats(values):
    """What the x-mlgate table checks look at. `values` holds None for a
    missing cell. Statistics are over the non-missing cells."""
    present = [v for v in values if v is not None]
    num = [v for v in present if isinstance(v, (int, float))]
    return {
        "rows": len(values),
        "null_fraction": (len(values) - len(present)) / len(values),
        "distinct": len(set(present)),
        "min": min(num) if num else None,
        "max": max(num) if num else None,
        "mean": sum(num) / len(num) if num else None,
    }


def table_check_failures(ext, columns):
    """Evaluate the x-mlgate table checks (rows, max_null_fraction, min, max,
    mean, max_distinct) on {field: [values]}; return the failures."""
    fails = []
    n = len(next(iter(columns.values())))
    r = ext.get("rows", {})
    if not (r.get("min", 0) <= n <= r.get("max", math.inf)):
        fails.append({"check": "rows", "actual": n, "expected": r})
    for name, spec in ext.get("fields", {}).items():
        s = column_stats(columns[name])
        if "max_null_fraction" in spec and s["null_fraction"] > spec["max_null_fraction"]:
            fails.append({"field": name, "check": "max_null_fraction",
                          "actual": s["null_fraction"], "expected": spec["max_null_fraction"]})
        for stat in ("min", "max", "mean"):
            if stat in spec:
                rng = spec[stat]
                if not (rng.get("min", -math.inf) <= s[stat] <= rng.get("max", math.inf)):
                    fails.append({"field": name, "check": stat, "actual": s[stat], "expected": rng})
        if "max_distinct" in spec and s["distinct"] > spec["max_distinct"]:
            fails.append({"field": name, "check": "max_distinct",
                          "actual": s["distinct"], "expected": spec["max_distinct"]})
    return fails


def write_config(folder, datasets):
    """mlgate.yml, config version 1; paths relative to the config's folder."""
    lines = ["version: 1", "datasets:"]
    for name, d in datasets.items():
        lines.append(f"  {name}:")
        lines.append(f"    path: {d['path']}")
        lines.append(f"    schema: {d['schema']}")
        if "format" in d:
            lines.append(f"    format: {d['format']}")
        if "dialect" in d:
            lines.append("    dialect:")
            lines.append('      delimiter: ","')
            lines.append('      quote_char: "\\""')
            lines.append("      header: true")
    (folder / "mlgate.yml").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------- breast-cancer
def breast_cancer():
    out = HERE / "breast-cancer"
    ds = load_breast_cancer()
    X, y = ds.data, ds.target
    names = [snake(n) for n in ds.feature_names]
    labels = [str(t) for t in ds.target_names]  # 0 -> malignant, 1 -> benign
    idx = np.arange(len(y))
    tr, ho = train_test_split(idx, test_size=114, stratify=y, random_state=SEED)

    header = ["id"] + names + ["diagnosis"]

    def rows(ix):
        return [[str(i + 1)] + [fmt(v) for v in X[i]] + [labels[y[i]]] for i in sorted(ix)]

    write_csv(out / "data/train.csv", header, rows(tr))
    write_csv(out / "data/holdout.csv", header, rows(ho))

    fields = [id_field()]
    for j, (n, t) in enumerate(zip(names, ds.feature_names)):
        lo, hi = bounds(X[:, j])
        fields.append(numeric_field(n, str(t), lo, hi))
    fields.append({"name": "diagnosis", "type": "string",
                   "constraints": {"required": True, "enum": labels}})

    # Table checks: ranges chosen around the whole dataset so that both
    # splits pass with room to spare (asserted below).
    ext = {
        "severity": "fail",
        "rows": {"min": 100, "max": 1000000},
        "fields": {
            "id": {"max_null_fraction": 0.0},
            "mean_radius": {
                "constraints": {"maximum": {"mostly": 0.99, "severity": "warn"}},
                "min": {"min": 5.0, "max": 10.0},
                "max": {"min": 20.0, "max": 30.0},
                "mean": {"min": 13.0, "max": 15.5},
            },
            "mean_area": {"mean": {"min": 550.0, "max": 750.0}},
            "worst_concave_points": {"max_null_fraction": 0.0},
            "diagnosis": {"severity": "fail", "max_null_fraction": 0.0, "max_distinct": 2},
        },
    }
    schema = {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "title": "Breast cancer Wisconsin (diagnostic) cells",
        "description": "Cell-nucleus features from load_breast_cancer; one row per sample.",
        "fields": fields,
        "primaryKey": "id",
        "missingValues": [""],
        "x-mlgate": ext,
    }
    write_json(out / "schemas/cells.schema.json", schema)
    write_config(out, {
        "train": {"path": "data/train.csv", "schema": "schemas/cells.schema.json",
                  "format": "csv", "dialect": True},
        "holdout": {"path": "data/holdout.csv", "schema": "schemas/cells.schema.json"},
    })

    for name, ix in (("train", tr), ("holdout", ho)):
        cols = {"id": [int(i + 1) for i in ix], "diagnosis": [labels[y[i]] for i in ix]}
        for j, n in enumerate(names):
            cols[n] = [float(X[i, j]) for i in ix]
        fails = table_check_failures(ext, cols)
        assert not fails, (name, fails)
        for f in fields[1:-1]:  # every value inside the bounds
            v = cols[f["name"]]
            assert f["constraints"]["minimum"] <= min(v) and max(v) <= f["constraints"]["maximum"], f
    print(f"breast-cancer: train {len(tr)} rows, holdout {len(ho)} rows")


# ---------------------------------------------------------------- wine-bugs
CULTIVARS = ["barolo", "grignolino", "barbera"]  # classes 0 / 1 / 2


def wine():
    out = HERE / "wine-bugs"
    ds = load_wine()
    X, y = ds.data, ds.target
    names = [snake(n) for n in ds.feature_names]
    idx = np.arange(len(y))
    tr, inc = train_test_split(idx, test_size=60, stratify=y, random_state=SEED)
    tr, inc = sorted(tr), sorted(inc)
    header = ["id"] + names + ["cultivar"]
    col = {n: j for j, n in enumerate(header)}  # 0-based field index

    # Rows as Python values (None = missing); formatted at the end.
    def table(ix):
        return [[int(i + 1)] + [float(v) for v in X[i]] + [CULTIVARS[y[i]]] for i in ix]

    train_rows, inc_rows = table(tr), table(inc)

    # ---- inject the bugs into the incoming batch (data rows, 0-based).
    rng = np.random.default_rng(SEED)
    n = len(inc_rows)
    start = int(rng.integers(5, n - 15))
    unit_rows = list(range(start, start + 10))               # (a) proline * 1000
    others = [r for r in range(n) if r not in unit_rows]
    picked = rng.choice(others, size=8, replace=False)
    new_cat_rows = sorted(int(r) for r in picked[:3])        # (b) cultivar = nebbiolo
    null_rows = sorted(int(r) for r in picked[3:])           # (c) alcohol empty
    for r in unit_rows:
        inc_rows[r][col["proline"]] *= 1000  # mg/L written as ug/L by an upstream job
    for r in new_cat_rows:
        inc_rows[r][col["cultivar"]] = "nebbiolo"
    for r in null_rows:
        inc_rows[r][col["alcohol"]] = None

    def render(rows):
        return [[str(r[0])] + [fmt(v) for v in r[1:-1]] + [r[-1]] for r in rows]

    write_csv(out / "data/train.csv", header, render(train_rows))
    write_csv(out / "data/incoming.csv", header, render(inc_rows))

    # ---- schema written for the clean data (the whole clean dataset).
    fields = [id_field()]
    for j, (nm, t) in enumerate(zip(names, ds.feature_names)):
        lo, hi = bounds(X[:, j])
        fields.append(numeric_field(nm, str(t), lo, hi))
    fields.append({"name": "cultivar", "type": "string",
                   "description": "Grape cultivar (load_wine classes 0/1/2).",
                   "constraints": {"required": True, "enum": CULTIVARS}})
    pro = X[:, col["proline"] - 1]
    ext = {
        "severity": "fail",
        "rows": {"min": 50, "max": 100000},
        "fields": {
            "alcohol": {"max_null_fraction": 0.0,
                        "mean": {"min": 12.5, "max": 13.5}},
            "proline": {"mean": {"min": 600.0, "max": 900.0},
                        "max": {"min": 1000.0, "max": 2000.0}},
            "cultivar": {"max_null_fraction": 0.0, "max_distinct": 3},
        },
    }
    assert 600 < pro.mean() < 900
    schema = {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "title": "Wine recognition",
        "description": "Chemical analysis of Italian wines from three cultivars (load_wine).",
        "fields": fields,
        "primaryKey": "id",
        "missingValues": [""],
        "x-mlgate": ext,
    }
    write_json(out / "schemas/wine.schema.json", schema)
    write_config(out, {
        "train": {"path": "data/train.csv", "schema": "schemas/wine.schema.json"},
        "incoming": {"path": "data/incoming.csv", "schema": "schemas/wine.schema.json"},
    })

    # ---- expectations: cell errors (Frictionless row == physical line,
    # header is line 1, so data row r (0-based) is line r + 2).
    fnum = {n: j + 1 for j, n in enumerate(header)}
    cons = {f["name"]: f["constraints"] for f in fields}
    cells = []
    for r in unit_rows:
        cells.append({"row": r + 2, "field": "proline", "field_number": fnum["proline"],
                      "code": "constraint-error", "constraint": "maximum",
                      "bug": "unit shift (x1000)", "cell": fmt(inc_rows[r][col["proline"]]),
                      "limit": cons["proline"]["maximum"]})
    for r in new_cat_rows:
        cells.append({"row": r + 2, "field": "cultivar", "field_number": fnum["cultivar"],
                      "code": "constraint-error", "constraint": "enum",
                      "bug": "new category", "cell": "nebbiolo", "limit": CULTIVARS})
    for r in null_rows:
        cells.append({"row": r + 2, "field": "alcohol", "field_number": fnum["alcohol"],
                      "code": "constraint-error", "constraint": "required",
                      "bug": "null in required column", "cell": "", "limit": True})
    cells.sort(key=lambda e: (e["row"], e["field_number"]))

    def columns(rows):
        return {n: [r[j] for r in rows] for n, j in col.items()}

    assert not table_check_failures(ext, columns(train_rows))
    table_fails = table_check_failures(ext, columns(inc_rows))
    expected = {
        "incoming_rows": n,
        "datasets": {
            "train": {"valid": True, "cell_errors": [], "table_check_failures": []},
            "incoming": {"valid": False, "cell_errors": cells, "table_check_failures": table_fails},
        },
    }
    write_json(out / "expected.json", expected)
    write_expected_md(out, expected, ext)
    print(f"wine-bugs: train {len(tr)} rows, incoming {n} rows, {len(cells)} bad cells, "
          f"{len(table_fails)} failing table checks")


def write_expected_md(out, expected, ext):
    inc = expected["datasets"]["incoming"]
    cells = inc["cell_errors"]
    failed = {(f.get("field"), f["check"]) for f in inc["table_check_failures"]}
    passes = [] if (None, "rows") in failed else [f"rows {json.dumps(ext['rows'])}"]
    for name, spec in ext["fields"].items():
        for check in ("max_null_fraction", "min", "max", "mean", "max_distinct"):
            if check in spec and (name, check) not in failed:
                passes.append(f"`{name}` {check} `{json.dumps(spec[check])}`")
    unit = [e for e in cells if e["constraint"] == "maximum"]
    cat = [e for e in cells if e["constraint"] == "enum"]
    nul = [e for e in cells if e["constraint"] == "required"]
    md = [
        "# wine-bugs: what mlgate must report",
        "",
        "Generated by `examples/make_examples.py` (do not edit by hand; the",
        "frictionless section is filled in by `examples/verify_frictionless.py --write`).",
        "Machine-readable copy: `expected.json`.",
        "",
        "Line numbers are physical lines of `data/incoming.csv`; the header is line 1,",
        "so the first data row is line 2. For this plain CSV (no blank lines, no",
        "quoted newlines) the Frictionless row number equals the line number.",
        "Field numbers are 1-based (`id` is field 1).",
        "",
        "`data/train.csv` is clean: no cell errors, every table check passes.",
        "",
        "## Injected bugs in `data/incoming.csv`",
        "",
        f"1. **Unit shift** - `proline` (field {unit[0]['field_number']}) multiplied by 1000 in the contiguous",
        f"   block of lines {unit[0]['row']}-{unit[-1]['row']} ({len(unit)} rows), e.g. "
        f"{int(unit[0]['cell']) // 1000} -> {unit[0]['cell']}.",
        f"   The schema's maximum is {unit[0]['limit']:g}: `constraint-error` (maximum).",
        f"2. **New category** - `cultivar` (field {cat[0]['field_number']}) is `nebbiolo`, not in the enum,",
        f"   on lines {', '.join(str(e['row']) for e in cat)}: `constraint-error` (enum).",
        f"3. **Nulls in a required column** - `alcohol` (field {nul[0]['field_number']}) is empty on lines",
        f"   {', '.join(str(e['row']) for e in nul)}: `constraint-error` (required).",
        "   (Frictionless reports an empty required cell as `constraint-error`, not `missing-cell`;",
        "   `missing-cell` is for a row that has fewer cells than the header.)",
        "",
        "## Cell errors, in report order",
        "",
        "| line = row | field | field number | code | constraint | cell |",
        "| ---: | --- | ---: | --- | --- | --- |",
    ]
    for e in cells:
        md.append(f"| {e['row']} | {e['field']} | {e['field_number']} | {e['code']} | "
                  f"{e['constraint']} | {('`' + e['cell'] + '`') if e['cell'] else '(empty)'} |")
    md += [
        "",
        f"{len(cells)} cell errors in {len({e['row'] for e in cells})} rows (every bad row has exactly one bad cell).",
        "",
        "## x-mlgate table checks that fail on `incoming`",
        "",
        "Statistics are over non-missing cells; null fraction = empty cells / rows.",
        "",
        "| field | check | actual | expected |",
        "| --- | --- | --- | --- |",
    ]
    for f in inc["table_check_failures"]:
        act = f["actual"]
        act = f"{act:.4f}" if isinstance(act, float) else str(act)
        md.append(f"| {f.get('field', '(table)')} | {f['check']} | {act} | `{json.dumps(f['expected'])}` |")
    md += [
        "",
        "Every other table check passes: " + ", ".join(passes) + ".",
        "",
        "## Frictionless 5.21.0",
        "",
        "<!-- frictionless:begin -->",
        "(not verified yet: run `python examples/verify_frictionless.py --write`)",
        "<!-- frictionless:end -->",
        "",
    ]
    text = "\n".join(md)
    # Keep the section verify_frictionless.py wrote, so a re-run is a no-op.
    old = out / "EXPECTED.md"
    if old.exists():
        m = re.search(r"<!-- frictionless:begin -->.*?<!-- frictionless:end -->", old.read_text(), re.S)
        if m:
            text = re.sub(r"<!-- frictionless:begin -->.*?<!-- frictionless:end -->",
                          lambda _: m.group(0), text, flags=re.S)
    old.write_text(text)


if __name__ == "__main__":
    breast_cancer()
    wine()
