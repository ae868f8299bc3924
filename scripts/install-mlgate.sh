#!/usr/bin/env bash
# Installs mlgate for the GitHub Action (action.yml): the release archive for this runner's OS and architecture,
# downloaded and verified, never built (a runner should not spend many minutes compiling mlgate on every pull
# request). Every failure is a `::error::` and exit 1; there is no fallback to building from source.
#
# Verification (MLGATE_VERIFY):
#   auto (default)  the SHA-256 pinned in this action's own tag (scripts/mlgate-release.sha256, SHA256SUMS
#                   format); when the tag pins no line for the archive, `gh attestation verify` if `gh` and a
#                   token (GH_TOKEN or GITHUB_TOKEN) are there, else an error
#   checksum        the pinned SHA-256 only
#   attestation     `gh attestation verify ARCHIVE --repo $MLGATE_REPO` (GitHub's build provenance of release.yml)
# MLGATE_VERSION=source builds the action's own source with `cargo install --locked` instead (asked for, only).
#
# Environment: MLGATE_VERSION (required), MLGATE_VERIFY, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH,
# GITHUB_ACTION_PATH; MLGATE_REPO (default mlgate/mlgate); MLGATE_RELEASE_BASE_URL overrides where releases are
# downloaded from (tests serve a fake release locally).
set -euo pipefail

version="${MLGATE_VERSION:?MLGATE_VERSION is required}"
version="${version#v}"
verify="${MLGATE_VERIFY:-auto}"
repo="${MLGATE_REPO:-mlgate/mlgate}"
base_url="${MLGATE_RELEASE_BASE_URL:-https://github.com/$repo/releases/download}"
action_dir="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
sums_file="$action_dir/scripts/mlgate-release.sha256"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-$version"

fail() {
  echo "::error::mlgate install: $1" >&2
  exit 1
}

add_to_path() {
  local dir="$1"
  # Windows runners read GITHUB_PATH as Windows paths.
  if command -v cygpath >/dev/null 2>&1; then dir="$(cygpath -w "$dir")"; fi
  if [ -n "${GITHUB_PATH:-}" ]; then
    echo "$dir" >>"$GITHUB_PATH"
  fi
  echo "mlgate installed in $dir"
}

# version: source, and only then: a build of this action's checkout.
build_from_source() {
  echo "building mlgate from the action's source (version: source): cargo install --locked"
  command -v cargo >/dev/null 2>&1 || fail "version: source needs cargo on PATH (e.g. dtolnay/rust-toolchain first)"
  cargo install --locked --root "$dest" --path "$action_dir" || fail "cargo install --locked --path $action_dir failed"
  add_to_path "$dest/bin"
}

# The Rust target of the release archive for this runner; empty when mlgate ships none for it.
target_for() {
  case "$1/$2" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64) echo aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

pinned_sum() {
  [ -f "$sums_file" ] || return 0
  awk -v a="$1" '$2 == a || $2 == "*" a { print $1 }' "$sums_file" | head -n 1
}

have_gh_and_token() {
  command -v gh >/dev/null 2>&1 && [ -n "${GH_TOKEN:-${GITHUB_TOKEN:-}}" ]
}

verify_checksum() {
  local file="$1" asset="$2" expected="$3" actual
  actual="$(sha256_of "$file")"
  [ "$actual" = "$expected" ] || fail "checksum mismatch for $asset: expected $expected (pinned in scripts/mlgate-release.sha256), got $actual; refusing to install it"
  echo "verified $asset (sha256 $actual, pinned in the action)"
}

verify_attestation() {
  local file="$1" asset="$2"
  # GitHub's build provenance, signed for this repository's release workflow at this version's tag.
  GH_TOKEN="${GH_TOKEN:-${GITHUB_TOKEN:-}}" gh attestation verify "$file" --repo "$repo" \
    --signer-workflow "$repo/.github/workflows/release.yml" --source-ref "refs/tags/v$version" >&2 ||
    fail "gh attestation verify refused $asset (repository $repo, workflow release.yml, tag v$version); refusing to install it"
  echo "verified $asset (GitHub attestation of $repo release.yml at v$version)"
}

unpack() {
  local archive="$1" into="$2"
  mkdir -p "$into"
  case "$archive" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$archive" -d "$into"
      elif command -v 7z >/dev/null 2>&1; then
        7z x -y -o"$into" "$archive" >/dev/null
      else
        fail "cannot unpack $archive: neither unzip nor 7z found"
      fi
      ;;
    *) tar -xzf "$archive" -C "$into" ;;
  esac
}

install_release() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  local target exe=mlgate ext=tar.gz
  target="$(target_for "$os" "$arch")"
  [ -n "$target" ] || fail "mlgate $version has no release build for $os/$arch (there are: Linux X64 and ARM64, macOS X64 and ARM64, Windows X64); use one of those runners, or version: source to build it"
  if [ "$os" = Windows ]; then
    exe=mlgate.exe
    ext=zip
  fi
  local asset="mlgate-v$version-$target.$ext"
  local expected="" how
  expected="$(pinned_sum "$asset")"
  case "$verify" in
    checksum)
      [ -n "$expected" ] || fail "no checksum for $asset in this action's scripts/mlgate-release.sha256: use an action tag that pins mlgate $version, or verify: attestation"
      how=checksum
      ;;
    attestation) how=attestation ;;
    auto)
      if [ -n "$expected" ]; then
        how=checksum
      elif have_gh_and_token; then
        how=attestation
      else
        fail "no checksum for $asset in this action's scripts/mlgate-release.sha256, and no gh CLI with a token to verify its attestation instead: use an action tag that pins mlgate $version, pass a token, or version: source"
      fi
      ;;
    *) fail "verify must be auto, checksum or attestation, not '$verify'" ;;
  esac
  if [ "$how" = attestation ] && ! have_gh_and_token; then
    fail "cannot verify $asset by attestation: needs the gh CLI and a token (GH_TOKEN or GITHUB_TOKEN; the action's token input)"
  fi

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  local url="$base_url/v$version/$asset"
  curl --fail --silent --show-error --location --retry 3 --output "$work/$asset" "$url" ||
    fail "could not download $url"
  if [ "$how" = checksum ]; then
    verify_checksum "$work/$asset" "$asset" "$expected"
  else
    verify_attestation "$work/$asset" "$asset"
  fi
  unpack "$work/$asset" "$work/x"
  local found
  found="$(find "$work/x" -type f -name "$exe" | head -n 1)"
  [ -n "$found" ] || fail "$asset has no $exe inside"
  mkdir -p "$dest/bin"
  install -m 0755 "$found" "$dest/bin/$exe"
  add_to_path "$dest/bin"
}

if [ "$version" = source ]; then
  build_from_source
else
  install_release
fi
