#!/usr/bin/env python3
"""Check the examples against the reference implementation, frictionless.

    python examples/verify_frictionless.py [--write]

For every dataset in every examples/*/mlgate.yml it runs
`frictionless validate --schema SCHEMA DATA --json` (the CLI, exactly as a
user would) and compares the (row, field, field number, code) list with
what we expect: nothing for breast-cancer and wine-bugs/train, the
injected cells of wine-bugs/expected.json for wine-bugs/incoming.
Exit 0 when everything matches. --write puts frictionless's list into
wine-bugs/EXPECTED.md between the frictionless markers.

frictionless ignores the `x-mlgate` block (unknown schema properties are
allowed), so the table checks are not verified here; make_examples.py
asserts those itself.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml  # a frictionless dependency

HERE = Path(__file__).resolve().parent
FRICTIONLESS = shutil.which("frictionless") or str(Path(sys.executable).parent / "frictionless")


def frictionless_errors(folder, data, schema):
    # Run from the example's folder so the paths match the ones in mlgate.yml.
    p = subprocess.run([FRICTIONLESS, "validate", "--schema", schema, data, "--json"],
                       cwd=folder, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"frictionless failed on {folder}/{data}:\n{p.stderr}")
    report = json.loads(p.stdout)
    # Any warning (e.g. about the schema) would show up here.
    assert not report.get("warnings") and not report["tasks"][0].get("warnings"), report
    return [(e.get("rowNumber"), e.get("fieldName"), e.get("fieldNumber"), e["type"], e["note"])
            for t in report["tasks"] for e in t["errors"]]


def main():
    write = "--write" in sys.argv
    version = subprocess.run([FRICTIONLESS, "--version"], capture_output=True, text=True).stdout.strip()
    ok = True
    for cfg in sorted(HERE.glob("*/mlgate.yml")):
        folder = cfg.parent
        expected_file = folder / "expected.json"
        expected = json.loads(expected_file.read_text()) if expected_file.exists() else None
        datasets = yaml.safe_load(cfg.read_text())["datasets"]
        for name, d in datasets.items():
            got = frictionless_errors(folder, d["path"], d["schema"])
            want = []
            if expected:
                want = [(e["row"], e["field"], e["field_number"], e["code"])
                        for e in expected["datasets"][name]["cell_errors"]]
            match = [g[:4] for g in got] == want
            ok &= match
            print(f"{folder.name}/{name}: frictionless {len(got)} errors, expected {len(want)}: "
                  f"{'OK' if match else 'MISMATCH'}")
            if not match:
                for g in got:
                    print("   got ", g)
                for w in want:
                    print("   want", w)
            if write and expected and got:
                fill_expected_md(folder, d, got, version)
    sys.exit(0 if ok else 1)


def fill_expected_md(folder, d, got, version):
    lines = [
        f"Verified with frictionless {version} (run from `examples/{folder.name}/`):",
        "",
        "```",
        f"frictionless validate --schema {d['schema']} {d['path']} --json",
        "```",
        "",
        f"exit code 1, `valid: false`, {len(got)} errors, no warnings (the `x-mlgate` block is",
        "accepted as a custom property and ignored). `data/train.csv` gives `valid: true`.",
        "",
        "| row | field | field number | code | note |",
        "| ---: | --- | ---: | --- | --- |",
    ]
    lines += [f"| {r} | {f} | {n} | {c} | {note} |" for r, f, n, c, note in got]
    md = folder / "EXPECTED.md"
    text = md.read_text()
    text = re.sub(r"(<!-- frictionless:begin -->\n).*?(<!-- frictionless:end -->)",
                  lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text, flags=re.S)
    md.write_text(text)


if __name__ == "__main__":
    main()
