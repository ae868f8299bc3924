#!/usr/bin/env bash
# Release channel benchmark (issue 15): wall time and peak RSS of `mlgate publish`
#   1. 200 bundles of ~10 MB published one after another (a new targets version each time),
#   2. one ~1 GB bundle (hashing and copying stream; bundle *checking* reads the archive, see README),
#   3. the size of targets.json after 1,000 versions,
#   4. `publish --github` of the big bundle against a local fake GitHub (fake_github.py): uploads stream,
# and python-tuf's repository API (tuf.api.metadata) doing the same 200 additions, as the peer.
# usage: MLGATE=target/release/mlgate bash bench/channel/run.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mlgate="${MLGATE:-$here/../../target/release/mlgate}"
work="${1:-$(mktemp -d)}"
n10="${N10:-200}"; nver="${NVER:-1000}"; big_mb="${BIG_MB:-1024}"
mkdir -p "$work"; cd "$work"
venv="$work/.venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q -r "$here/requirements.txt"; }
py="$venv/bin/python"
export SOURCE_DATE_EPOCH=1700000000
rss() { /usr/bin/time -f '%e s, %M KiB' "$@" 2>&1 >/dev/null | tail -1; }

"$mlgate" keygen --name mlgate --force >/dev/null
"$mlgate" keygen --name channel --force >/dev/null
echo '{"version":1,"verdict":"pass","checks":[]}' > report.json
"$py" "$here/make_model.py" 10 m10.onnx

bundle() { # MODEL VERSION -> dist/bench-VERSION-linux-x86_64.tar.gz
  "$mlgate" bundle "$1" --target linux-x86_64 --name bench --bundle-version "$2" --report report.json \
    --key mlgate.key --commit 0000000 -o dist >/dev/null
}

if [ -z "${SKIP1:-}" ]; then
echo "== 1. $n10 bundles of 10 MB, published one after another"
rm -rf ch1 dist; "$mlgate" channel init --dir ch1 --key channel.key --bundle-pubkey mlgate.pub >/dev/null
for i in $(seq 1 "$n10"); do bundle m10.onnx "1.0.$i"; done
start=$(date +%s.%N); peak=0
for i in $(seq 1 "$n10"); do
  r=$(/usr/bin/time -f '%M' "$mlgate" publish "dist/bench-1.0.$i-linux-x86_64.tar.gz" --channel ch1 --key channel.key 2>&1 >/dev/null | tail -1)
  [ "$r" -gt "$peak" ] && peak=$r
done
end=$(date +%s.%N)
echo "mlgate: $(echo "$end - $start" | bc) s total, peak RSS $peak KiB, targets.json $(stat -c %s ch1/$((n10 + 1)).targets.json) bytes"

echo "== 1b. python-tuf's Metadata API: the same $n10 additions (sign targets, snapshot, timestamp each time)"
/usr/bin/time -f 'python-tuf: %e s, peak RSS %M KiB' "$py" "$here/peer_python_tuf.py" dist "$n10"
fi

if [ -z "${SKIP2:-}" ]; then
echo "== 2. one ${big_mb} MB bundle"
"$py" "$here/make_model.py" "$big_mb" big.onnx
echo "bundle: $(stat -c %s big.onnx) bytes of model"
echo "mlgate bundle: $(rss "$mlgate" bundle big.onnx --target linux-x86_64 --name bench --bundle-version 9.0.0 \
  --report report.json --key mlgate.key --commit 0000000 -o dist)"
rm -rf ch2; "$mlgate" channel init --dir ch2 --key channel.key --bundle-pubkey mlgate.pub >/dev/null
echo "mlgate publish: $(rss "$mlgate" publish dist/bench-9.0.0-linux-x86_64.tar.gz --channel ch2 --key channel.key)"
fi

if [ -z "${SKIP2:-}" ]; then
echo "== 4. publish --github of the ${big_mb} MB bundle to a local fake GitHub (API and uploads on 127.0.0.1)"
port=$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$py" "$here/fake_github.py" "$port" & fake=$!
trap 'kill $fake 2>/dev/null || true' EXIT
sleep 1
rm -rf ch4; "$mlgate" channel init --dir ch4 --key channel.key --bundle-pubkey mlgate.pub >/dev/null
echo "mlgate publish --github: $(GITHUB_TOKEN=bench GITHUB_API_URL="http://127.0.0.1:$port" \
  MLGATE_GITHUB_UPLOAD_URL="http://127.0.0.1:$port" rss "$mlgate" publish dist/bench-9.0.0-linux-x86_64.tar.gz \
  --channel ch4 --key channel.key --github bench/bench --tag v9.0.0)"
kill "$fake"
fi

echo "== 3. targets.json after $nver versions (one small bundle republished under $nver versions)"
"$py" "$here/make_model.py" 0.01 tiny.onnx
rm -rf ch3 dist; "$mlgate" channel init --dir ch3 --key channel.key --bundle-pubkey mlgate.pub >/dev/null
for i in $(seq 1 "$nver"); do bundle tiny.onnx "2.0.$i"; done
# One publish of all of them, in version order (a publish checks each bundle against those before it): the size
# depends on the number of targets, not on how they were added.
# shellcheck disable=SC2046
"$mlgate" publish $(ls dist/bench-2.0.*-linux-x86_64.tar.gz | sort -V) --channel ch3 --key channel.key >/dev/null
echo "targets.json with $nver targets: $(stat -c %s ch3/2.targets.json) bytes"
