#!/usr/bin/env bash
# bench/pull: `mlgate pull` (the device build) against `curl -o` + `sha256sum -c` + `tar xzf` of the same bundle,
# served from a local channel on 127.0.0.1 (python3 -m http.server), side by side in one run, for each size.
# Wall time and peak RSS from GNU time (`/usr/bin/time -v`); the median of RUNS runs, alternating the two.
#
#   bench/pull/run.sh                      # sizes 200 and 50 MB, 3 runs each
#   SIZES="200 1000" RUNS=5 bench/pull/run.sh
#
# MLGATE_DEVICE: the binary measured (default target/device/mlgate, from
#   `cargo build --profile device --no-default-features --features device`).
# MLGATE_FULL: a full build, to make keys, the bundle and the channel (default target/debug/mlgate).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
device=${MLGATE_DEVICE:-$root/target/device/mlgate}
full=${MLGATE_FULL:-$root/target/debug/mlgate}
sizes=${SIZES:-200 50}
runs=${RUNS:-3}
for tool in "$device" "$full" /usr/bin/time curl sha256sum tar python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

# Keys, a passing gate report, a channel whose root the device pins.
for name in mlgate channel; do "$full" keygen --name "$name" >/dev/null; done
echo '{"version":1,"verdict":"pass","checks":[]}' >report.json
"$full" channel init --dir channel --key channel.key --bundle-pubkey mlgate.pub >/dev/null
cp channel/root.json pinned-root.json

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory channel "$port" >/dev/null 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port/"
for _ in $(seq 50); do curl -sf -o /dev/null "$url/root.json" && break; sleep 0.1; done

# "wall_seconds max_rss_kb" of a command, from GNU time.
measure() {
  /usr/bin/time -v -o time.txt "$@" >/dev/null 2>run.err || { cat run.err time.txt >&2; exit 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; w = s }
              /Maximum resident set size/ { r = $2 } END { printf "%.2f %d\n", w, r }' time.txt
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '%-8s %-10s %-32s %10s %12s\n' size bundle_MB tool wall_s peak_RSS_MB
n=0
for mb in $sizes; do
  # Each size is a newer version of the same model: the channel only takes newer versions.
  n=$((n + 1))
  python3 "$root/bench/pull/make_model.py" "bench-$mb.onnx" "$mb"
  "$full" bundle "bench-$mb.onnx" --target linux-x86_64 --name bench --bundle-version "$n.0.0" \
    --report report.json --key mlgate.key --commit c0ffee1234 -o dist >/dev/null
  bundle=dist/bench-$n.0.0-linux-x86_64.tar.gz
  "$full" publish "$bundle" --channel channel --key channel.key >/dev/null
  sha=$(sha256sum "$bundle" | cut -d' ' -f1)
  target=$(cd channel/targets && ls | grep "^$sha\.")
  bytes=$(stat -c %s "$bundle")
  : >pull.txt; : >peer.txt
  for i in $(seq "$runs"); do
    rm -rf device peer; mkdir peer
    measure "$device" pull --channel "$url" --root pinned-root.json --dir device --target linux-x86_64 \
      --pubkey mlgate.pub >>pull.txt
    measure sh -c "curl -sSf -o peer/b.tar.gz '$url/targets/$target' && echo '$sha  peer/b.tar.gz' | sha256sum -c --quiet \
      && mkdir peer/files && tar xzf peer/b.tar.gz -C peer/files" >>peer.txt
  done
  for f in pull peer; do
    name=$([ $f = pull ] && echo "mlgate pull (device build)" || echo "curl + sha256sum + tar xzf")
    wall=$(cut -d' ' -f1 $f.txt | median)
    rss=$(cut -d' ' -f2 $f.txt | median)
    printf '%-8s %-10s %-32s %10s %12.1f\n' "${mb}MB" "$(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }")" "$name" "$wall" "$(awk "BEGIN { print $rss / 1024 }")"
  done
  awk -v a="$(cut -d' ' -f1 pull.txt | median)" -v b="$(cut -d' ' -f1 peer.txt | median)" \
    'BEGIN { printf "%-8s ratio mlgate/peer wall time: %.2fx\n", "", a / b }'
  rm -f "bench-$mb.onnx"
done
