#!/usr/bin/env bash
# Signing benchmark on a 1 GiB file: SHA-256 (mlgate attest vs `openssl dgst -sha256` vs `sha256sum`), and
# minisign signatures (mlgate sign / verify vs the `minisign` tool, both prehashed: BLAKE2b-512 of the file).
# Every tool is timed as a whole process with hyperfine, the file in the page cache (one warm-up run each), so the
# figures are hashing speed, not disk speed.
#
#   bash bench/sign/run.sh
#
# Needs: hyperfine, openssl, coreutils, minisign (apt-get install hyperfine minisign).
# Environment: RUNS (default 5); OUT (default bench/out/sign); SIZE_MB (default 1024);
# MLGATE=/path/to/mlgate uses that binary instead of building one.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/bench/out/sign}
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-1024}
mkdir -p "$OUT"

if [ -z "${MLGATE:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  MLGATE=$ROOT/target/release/mlgate
fi
for tool in hyperfine openssl sha256sum minisign; do
  command -v "$tool" > /dev/null || { echo "bench/sign: $tool is not installed" >&2; exit 2; }
done

DATA=$OUT/model.bin
if [ ! -f "$DATA" ] || [ "$(stat -c %s "$DATA")" != "$((SIZE_MB * 1024 * 1024))" ]; then
  # Seeded pseudo-random bytes (incompressible, the same on every run).
  # head closes the pipe once it has enough: openssl's SIGPIPE is expected, so pipefail is off for this line.
  (set +o pipefail; openssl enc -aes-256-ctr -pass pass:mlgate-bench -nosalt -pbkdf2 -in /dev/zero 2>/dev/null \
    | head -c "$((SIZE_MB * 1024 * 1024))" > "$DATA")
fi
cd "$OUT"
# Keys: mlgate's, and a password-less minisign key for the minisign tool.
[ -f mlgate.key ] || "$MLGATE" keygen > /dev/null
[ -f minisign.key ] || minisign -G -W -f -p minisign.pub -s minisign.key > /dev/null
echo '{"version": 1, "verdict": "pass", "checks": []}' > report.json
export SOURCE_DATE_EPOCH=1700000000 GITHUB_ACTIONS=false

# The digests must agree before anything is timed.
want=$(sha256sum model.bin | cut -d' ' -f1)
"$MLGATE" attest model.bin -k mlgate.key --report report.json --commit 0000000 -o att.jsonl > /dev/null
got=$("$MLGATE" verify --attestation att.jsonl --pubkey mlgate.pub --format json \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); print([c for c in r["checks"] if c["kind"]=="digest"][0]["figures"]["sha256"])')
[ "$want" = "$got" ] || { echo "bench/sign: mlgate's SHA-256 $got is not sha256sum's $want" >&2; exit 1; }

hyperfine --warmup 1 --runs "$RUNS" --export-json sha256.json --export-markdown sha256.md \
  -n "openssl dgst -sha256" "openssl dgst -sha256 model.bin" \
  -n "sha256sum" "sha256sum model.bin" \
  -n "mlgate attest (SHA-256 + DSSE)" "$MLGATE attest model.bin -k mlgate.key --report report.json --commit 0000000 -o att.jsonl"

hyperfine --warmup 1 --runs "$RUNS" --export-json sign.json --export-markdown sign.md \
  -n "minisign -S (BLAKE2b-512)" "minisign -S -s minisign.key -m model.bin -x model.bin.minisign.sig" \
  -n "mlgate sign (BLAKE2b-512 + SHA-256)" "$MLGATE sign model.bin -k mlgate.key" \
  -n "minisign -V" "minisign -V -q -p minisign.pub -m model.bin -x model.bin.minisign.sig" \
  -n "mlgate verify (BLAKE2b-512 + SHA-256)" "$MLGATE verify model.bin --pubkey mlgate.pub"

python3 - "$SIZE_MB" <<'PY'
import json, sys
mb = int(sys.argv[1])
for f in ("sha256.json", "sign.json"):
    res = json.load(open(f))["results"]
    for r in res:
        print(f"{r['command']:42s} {r['mean']:7.3f} s ± {r['stddev'] or 0:.3f}  {mb / r['mean']:8.0f} MiB/s")
res = {r["command"]: r["mean"] for r in json.load(open("sha256.json"))["results"]}
ratio = res["openssl dgst -sha256"] / res["mlgate attest (SHA-256 + DSSE)"]
print(f"mlgate SHA-256 throughput / openssl's: {ratio:.2f}x (target >= 0.9x)")
res = {r["command"]: r["mean"] for r in json.load(open("sign.json"))["results"]}
ratio = res["minisign -S (BLAKE2b-512)"] / res["mlgate sign (BLAKE2b-512 + SHA-256)"]
print(f"mlgate sign speed / minisign -S's: {ratio:.2f}x (target >= 1.0x)")
ratio = res["minisign -V"] / res["mlgate verify (BLAKE2b-512 + SHA-256)"]
print(f"mlgate verify speed / minisign -V's: {ratio:.2f}x")
PY
