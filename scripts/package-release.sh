#!/usr/bin/env bash
# Packs one mlgate build into the release archive that scripts/install-mlgate.sh downloads (release.yml runs it
# on every build runner; tests/install_script.rs packs fake builds with it, so the names cannot drift apart):
#   mlgate-vVERSION-TARGET.tar.gz         the full build (Windows targets: .zip)
#   mlgate-device-vVERSION-TARGET.tar.gz  the device build (--no-default-features --features device)
# each holding one folder of the same name with the binary, README.md and CHANGELOG.md.
#
# Usage: package-release.sh full|device VERSION TARGET BINARY OUT_DIR   (prints the archive's path)
set -euo pipefail

[ $# -eq 5 ] || {
  echo "usage: $0 full|device VERSION TARGET BINARY OUT_DIR" >&2
  exit 2
}
variant="$1"
version="${2#v}"
target="$3"
binary="$4"
out_dir="$5"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "$variant" in
  full) name="mlgate-v$version-$target" ;;
  device) name="mlgate-device-v$version-$target" ;;
  *)
    echo "error: the variant is full or device, not '$variant'" >&2
    exit 2
    ;;
esac
[ -f "$binary" ] || {
  echo "error: no binary at $binary" >&2
  exit 2
}

exe=mlgate
case "$target" in *-windows-*) exe=mlgate.exe ;; esac

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out_dir"
cp "$binary" "$stage/$name/$exe"
chmod 0755 "$stage/$name/$exe"
cp "$root/README.md" "$root/CHANGELOG.md" "$stage/$name/"
out="$(cd "$out_dir" && pwd)"

case "$target" in
  *-windows-*)
    rm -f "$out/$name.zip"
    if command -v 7z >/dev/null 2>&1; then
      (cd "$stage" && 7z a -tzip -bso0 "$out/$name.zip" "$name")
    else
      (cd "$stage" && zip -q -r "$out/$name.zip" "$name")
    fi
    echo "$out/$name.zip"
    ;;
  *)
    tar -czf "$out/$name.tar.gz" -C "$stage" "$name"
    echo "$out/$name.tar.gz"
    ;;
esac
