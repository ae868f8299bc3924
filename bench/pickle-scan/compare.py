"""Runs mlgate, picklescan and modelscan on every corpus file and tabulates their verdicts against the labels in
corpus/MANIFEST.tsv. Each tool is run as its command line is run in CI, one file at a time; its verdict is its exit
code:

- mlgate scan FILE: 0 pass, 1 fail, 2 could not run;
- picklescan -p FILE: 0 no issue, 1 issues, 2 scan error;
- modelscan -p FILE: 0 no issue, 1 issues, 2 scan error, 3 no supported file (nothing scanned).

A malicious file counts as caught when the tool reports it (exit 1); a benign one as passed when the tool reports
nothing (0, or modelscan's 3). Scan errors are counted apart: CI fails on them, but they name no danger.
"""

import argparse
import subprocess
from collections import Counter
from pathlib import Path


def run(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120).returncode
    except subprocess.TimeoutExpired:
        return "timeout"


def verdict(code):
    if code == 1:
        return "flagged"
    if code in (0, 3):
        return "clean"
    return "error"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlgate", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    corpus, venv, out = Path(a.corpus), Path(a.venv), Path(a.out)
    tools = {
        "mlgate": lambda f: [a.mlgate, "scan", str(f)],
        "picklescan": lambda f: [str(venv / "bin/picklescan"), "-p", str(f)],
        "modelscan": lambda f: [str(venv / "bin/modelscan"), "-p", str(f)],
    }
    rows = [line.split("\t") for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]]
    results = []
    for file, expect, proof, source, what in rows:
        v = {t: verdict(run(cmd(corpus / file))) for t, cmd in tools.items()}
        results.append((file, expect, proof, source, what, v))
        print(file, expect, *(v[t] for t in tools), flush=True)

    with open(out / "results.tsv", "w") as f:
        f.write("file\texpect\tproof\tsource\t" + "\t".join(tools) + "\n")
        for file, expect, proof, source, what, v in results:
            f.write(f"{file}\t{expect}\t{proof}\t{source}\t" + "\t".join(v[t] for t in tools) + "\n")

    groups = [
        ("picklescan's and modelscan's malicious samples", lambda r: r[1] == "fail" and "bypass" not in r[3] and r[3] != "mlgate"),
        ("2024-25 bypasses and mlgate's own", lambda r: r[1] == "fail" and ("bypass" in r[3] or r[3] == "mlgate")),
        ("all malicious: caught", lambda r: r[1] == "fail"),
        ("benign: passed", lambda r: r[1] == "pass"),
    ]
    lines = ["| files | " + " | ".join(tools) + " |", "|---|" + "---|" * len(tools)]
    for label, keep in groups:
        sel = [r for r in results if keep(r)]
        cells = []
        for t in tools:
            c = Counter(r[5][t] for r in sel)
            good = c["flagged"] if sel and sel[0][1] == "fail" else c["clean"]
            err = f" ({c['error']} errors)" if c["error"] else ""
            cells.append(f"{good} / {len(sel)}{err}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    misses = []
    for t in tools:
        missed = [
            r[0]
            for r in results
            if (r[1] == "fail" and r[5][t] == "clean") or (r[1] == "pass" and r[5][t] != "clean")
        ]
        misses.append(f"- {t}: {len(missed)} wrong: " + (", ".join(f"`{m}`" for m in missed) if missed else "none"))
    table = "\n".join(lines) + "\n\nWrong verdicts (a malicious file neither flagged nor refused with an error; a benign file flagged or refused with an error):\n\n" + "\n".join(misses) + "\n"
    (out / "table.md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
