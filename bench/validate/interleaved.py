"""mlgate against frictionless in the same minutes: ROUNDS times, one frictionless run then 7 mlgate runs.

This machine's speed swings by a fifth or more within minutes, so a ratio of two tools timed minutes apart says
little; interleaving them does. Run after `bash bench/validate/run.sh` has made bench/out/ (data, schema, venv):

    python3 bench/validate/interleaved.py 3 target/release/mlgate

Prints each round's frictionless time, mlgate's median and the ratio, then the medians over all rounds.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"


def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, done


def main():
    rounds, mlgate = int(sys.argv[1]), sys.argv[2]
    data, schema = str(OUT / "data.csv"), str(OUT / "schema.json")
    frictionless = [str(OUT / ".venv" / "bin" / "python"), str(Path(__file__).with_name("frictionless_validate.py")), data, schema]
    ours = [mlgate, "validate", data, "--schema", schema, "--format", "json"]
    fl_all, mg_all = [], []
    for r in range(rounds):
        fl, done = timed(frictionless)
        mg = [timed(ours)[0] for _ in range(7)]
        fl_all.append(fl)
        mg_all += mg
        m = statistics.median(mg)
        print(f"round {r + 1}: frictionless {fl:.2f} s ({done.stdout.strip()}); mlgate median {m * 1000:.1f} ms"
              f" (min {min(mg) * 1000:.1f}); {fl / m:.1f}x", flush=True)
    fl, mg = statistics.median(fl_all), statistics.median(mg_all)
    print(f"over all: frictionless median {fl:.2f} s, mlgate median {mg * 1000:.1f} ms, {fl / mg:.1f}x")


if __name__ == "__main__":
    main()
