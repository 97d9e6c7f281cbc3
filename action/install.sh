#!/usr/bin/env bash
# The composite action's shell logic (action.yml runs it with `shell: bash` on Linux, macOS and Windows runners).
#
#   install.sh plan     maps RUNNER_OS / RUNNER_ARCH to a release target; writes the outputs `target`, `archive`,
#                       `dir` (where the binary lives, the cached path) and `key` (the cache key)
#   install.sh install  downloads the archive and the release's checksums file, verifies the archive's SHA-256,
#                       unpacks it into `dir`; writes the output `path` (the binary)
#
# Environment: MTLS_VERSION (a release tag, vX.Y.Z), RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE (else RUNNER_TEMP),
# MTLS_RELEASE_URL (base URL of the release downloads: <base>/<tag>/<file>; the action passes
# ${GITHUB_SERVER_URL}/<the action's repository>/releases/download; tests pass a file:// URL), GITHUB_OUTPUT.
set -euo pipefail

die() {
  # A workflow error annotation, and exit 2 like the CLI's usage errors.
  printf '::error title=mtls-review::%s\n' "$*"
  exit 2
}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# The release's file names; release.yml writes the same ones.
checksums_name() { printf 'mtls-review-%s-sha256sums.txt' "$1"; }
archive_name() { printf 'mtls-review-%s-%s.tar.gz' "$1" "$2"; }

target_for() {
  case "$1/$2" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

# Sets VERSION, TARGET and DIR, or dies (not in a subshell, so the annotation reaches the log).
resolve() {
  VERSION="${MTLS_VERSION:-}"
  # A tag only: it becomes part of a URL and of a path.
  [[ "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] ||
    die "version must be a release tag such as v0.1.0, got '${VERSION}'"
  TARGET=$(target_for "${RUNNER_OS:-}" "${RUNNER_ARCH:-}") ||
    die "no mtls-review release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} (there are Linux X64 and ARM64, macOS ARM64 and X64, Windows X64); use the container image instead"
  local base="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-}}"
  [ -n "$base" ] || die "neither RUNNER_TOOL_CACHE nor RUNNER_TEMP is set"
  DIR="${base}/mtls-review/${VERSION}/${TARGET}"
}

# A path bash can use (Git Bash on Windows gets C:\... from the runner).
unix_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s' "$1"; fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  else
    shasum -a 256 "$1" | awk '{print $1}'
  fi
}

binary_name() {
  case "$1" in *windows*) echo mtls-review.exe ;; *) echo mtls-review ;; esac
}

plan() {
  resolve
  local v="$VERSION" target="$TARGET" dir="$DIR"
  output target "$target"
  output archive "$(archive_name "$v" "$target")"
  output dir "$dir"
  output key "mtls-review-${v}-${target}"
  # The binary's path for the run step (a bash path on Windows too); the cache takes `dir` as the runner gave it.
  output path "$(unix_path "$dir")/$(binary_name "$target")"
  echo "mtls-review ${v} for ${target}"
}

fetch() {
  curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" || die "could not download $1"
}

install() {
  resolve
  local v="$VERSION" target="$TARGET" dir archive sums expected actual bin
  [ -n "${MTLS_RELEASE_URL:-}" ] || die "MTLS_RELEASE_URL is not set"
  command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 || die "neither sha256sum nor shasum is available"
  dir=$(unix_path "$DIR")
  archive=$(archive_name "$v" "$target")
  sums=$(checksums_name "$v")
  mkdir -p "$dir"
  cd "$dir"
  rm -f "$archive" "$sums"
  fetch "${MTLS_RELEASE_URL%/}/${v}/${sums}" "$sums"
  fetch "${MTLS_RELEASE_URL%/}/${v}/${archive}" "$archive"
  # sha256sum lines: "<hex>  <name>" (or "<hex> *<name>" in binary mode).
  expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f {print tolower($1); exit}' "$sums")
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "${sums} has no SHA-256 for ${archive}"
  actual=$(sha256_of "$archive")
  if [ "$actual" != "$expected" ]; then
    rm -f "$archive"
    die "SHA-256 mismatch for ${archive}: expected ${expected}, got ${actual}; nothing was installed"
  fi
  bin=$(binary_name "$target")
  # Relative names only: GNU tar on Windows reads "C:..." as a remote host.
  tar -xzf "$archive" "$bin" || die "${archive} does not contain ${bin}"
  rm -f "$archive" "$sums"
  chmod +x "$bin"
  output path "$dir/$bin"
  echo "installed ${dir}/${bin} (sha256 of ${archive}: ${actual})"
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  *) die "usage: install.sh plan|install" ;;
esac
