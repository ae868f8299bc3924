#!/usr/bin/env bash
# Installs mlgate for the GitHub Action (action.yml): the pinned release binary for this runner's OS and
# architecture, verified against the SHA-256 committed beside this script (mlgate-release.sha256). A checksum
# that does not match is an error, never a fallback. When there is no release binary for this runner (or no
# checksum for it, or the download fails), mlgate is built from the action's own source with
# `cargo install --locked`.
#
# Environment: MLGATE_VERSION (required), RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_ACTION_PATH;
# MLGATE_RELEASE_BASE_URL overrides where releases are downloaded from (tests serve a fake release locally);
# MLGATE_NO_CARGO_FALLBACK=1 fails instead of building from source.
set -euo pipefail

version="${MLGATE_VERSION:?MLGATE_VERSION is required}"
version="${version#v}"
base_url="${MLGATE_RELEASE_BASE_URL:-https://github.com/mlgate/mlgate/releases/download}"
action_dir="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
sums_file="$action_dir/scripts/mlgate-release.sha256"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-$version"

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  *) target="" ;;
esac
exe=mlgate
archive_ext=tar.gz
if [ "$os" = Windows ]; then
  exe=mlgate.exe
  archive_ext=zip
fi

add_to_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then
    echo "$1" >>"$GITHUB_PATH"
  fi
  echo "mlgate installed in $1"
}

build_from_source() {
  echo "::warning::$1; building mlgate $version from the action's source (cargo install --locked)"
  if [ "${MLGATE_NO_CARGO_FALLBACK:-}" = 1 ]; then
    echo "error: no release binary and MLGATE_NO_CARGO_FALLBACK=1: not building from source" >&2
    exit 3
  fi
  cargo install --locked --root "$dest" --path "$action_dir"
  add_to_path "$dest/bin"
  exit 0
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

[ -n "$target" ] || build_from_source "no mlgate release binary for $os/$arch"
asset="mlgate-v$version-$target.$archive_ext"
expected=""
if [ -f "$sums_file" ]; then
  expected="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$sums_file" | head -n 1)"
fi
[ -n "$expected" ] || build_from_source "no committed checksum for $asset"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
url="$base_url/v$version/$asset"
if ! curl --fail --silent --show-error --location --retry 3 --output "$work/$asset" "$url"; then
  build_from_source "could not download $url"
fi
actual="$(sha256_of "$work/$asset")"
if [ "$actual" != "$expected" ]; then
  echo "::error::checksum mismatch for $asset: expected $expected, got $actual; refusing to install it" >&2
  exit 1
fi
mkdir -p "$dest/bin"
if [ "$archive_ext" = zip ]; then
  unzip -q -o "$work/$asset" -d "$work/x"
else
  mkdir -p "$work/x"
  tar -xzf "$work/$asset" -C "$work/x"
fi
found="$(find "$work/x" -type f -name "$exe" | head -n 1)"
if [ -z "$found" ]; then
  echo "::error::$asset has no $exe inside" >&2
  exit 1
fi
install -m 0755 "$found" "$dest/bin/$exe"
echo "verified $asset (sha256 $actual)"
add_to_path "$dest/bin"
