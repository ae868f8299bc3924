#!/usr/bin/env python3
"""Print run.sh's results as a markdown table.

    python bench/validate/report.py OUT TOOL...

Reads OUT/time-TOOL.json (hyperfine's --export-json shape), OUT/report-TOOL.txt
(the tool's output of the last run), OUT/expected.json and OUT/data.csv's size.
"""
import json
import re
import sys
from pathlib import Path


def mlgate_errors(text):
    """mlgate's JSON report format is not fixed yet: take a total if the
    report has one, else count the error objects (dicts with a "code")."""
    try:
        report = json.loads(text)
    except ValueError:
        return None
    for path in (("summary", "errors"), ("stats", "errors"), ("error_count",), ("errors",)):
        node = report
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int) and not isinstance(node, bool):
            return node

    def count(node):
        if isinstance(node, dict):
            return ("code" in node) + sum(count(v) for v in node.values())
        if isinstance(node, list):
            return sum(count(v) for v in node)
        return 0
    return count(report)


def errors_found(out, tool):
    path = out / f"report-{tool}.txt"
    if not path.exists():
        return None
    text = path.read_text()
    if tool == "mlgate":
        return mlgate_errors(text)
    m = re.search(r"errors: (\d+)", text)
    return int(m.group(1)) if m else None


def main():
    out, tools = Path(sys.argv[1]), sys.argv[2:]
    expected = json.loads((out / "expected.json").read_text())
    rows, mb = expected["rows"], (out / "data.csv").stat().st_size / 1e6
    print(f"{rows:,} rows, {mb:.1f} MB, {expected['expected_errors']} planted violations\n")
    # CPU seconds (user + sys) are shown too: on a shared 2-core machine they
    # move much less than wall time when something else is running.
    print("| tool | seconds (mean ± sd) | CPU s | rows/s | MB/s | errors found |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    secs = {}
    for tool in tools:
        res = json.loads((out / f"time-{tool}.json").read_text())["results"][0]
        t = max(res["mean"], 1e-3)  # /usr/bin/time rounds to 10 ms
        secs[tool] = t
        times = res.get("times") or [t]
        sd = (sum((x - t) ** 2 for x in times) / max(len(times) - 1, 1)) ** 0.5
        cpu = res.get("user", 0) + res.get("system", 0)
        print(f"| {tool} | {t:.2f} ± {sd:.2f} | {cpu:.2f} | {rows / t:,.0f} | {mb / t:.1f} "
              f"| {errors_found(out, tool)} |")
    print()
    if "mlgate" in secs:
        for other in (t for t in tools if t != "mlgate"):
            print(f"mlgate is {secs[other] / secs['mlgate']:.1f}x faster than {other}")
    else:
        print("mlgate was not run (no binary), so no speed-up figure.")


if __name__ == "__main__":
    main()
