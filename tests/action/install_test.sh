#!/usr/bin/env bash
# Tests of action/install.sh against a fake release directory (file:// URLs): platform mapping, checksum
# verification, failure on a bad or missing checksum, outputs. Run by .ci/run: bash tests/action/install_test.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../action/install.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
env_bin=$(command -v env)
bash_bin=$(command -v bash)
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A fake release v9.8.7 for every target: a script that prints its target.
release="$work/release/v9.8.7"
mkdir -p "$release"
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl aarch64-apple-darwin x86_64-apple-darwin x86_64-pc-windows-msvc; do
  b=mtls-review; case "$t" in *windows*) b=mtls-review.exe ;; esac
  mkdir -p "$work/pkg/$t"
  printf '#!/bin/sh\necho "fake mtls-review %s $*"\n' "$t" >"$work/pkg/$t/$b"
  chmod +x "$work/pkg/$t/$b"
  tar -czf "$release/mtls-review-v9.8.7-$t.tar.gz" -C "$work/pkg/$t" "$b"
done
(cd "$release" && sha256sum ./*.tar.gz | sed 's| \./| |' >mtls-review-v9.8.7-sha256sums.txt)

# run OS ARCH SUBCOMMAND [VAR=VALUE...]: runs the script in a clean environment; sets $out (its GITHUB_OUTPUT),
# $log (stdout and stderr) and $rc.
run() {
  local os=$1 arch=$2 cmd=$3
  shift 3
  out="$work/output.$RANDOM"
  : >"$out"
  log=$("$env_bin" -i PATH="$PATH" HOME="$work" RUNNER_OS="$os" RUNNER_ARCH="$arch" RUNNER_TOOL_CACHE="$work/cache" \
    MTLS_VERSION=v9.8.7 MTLS_RELEASE_URL="file://$work/release" GITHUB_OUTPUT="$out" "$@" \
    "$bash_bin" "$script" "$cmd" 2>&1)
  rc=$?
}
get() { sed -n "s/^$1=//p" "$out" | tail -n 1; }

# Platform mapping.
for case in Linux/X64/x86_64-unknown-linux-musl Linux/ARM64/aarch64-unknown-linux-musl \
  macOS/ARM64/aarch64-apple-darwin macOS/X64/x86_64-apple-darwin Windows/X64/x86_64-pc-windows-msvc; do
  IFS=/ read -r os arch want <<<"$case"
  run "$os" "$arch" plan
  [ "$rc" -eq 0 ] || fail "plan $os/$arch exited $rc: $log"
  [ "$(get target)" = "$want" ] || fail "plan $os/$arch: target '$(get target)', want $want"
  [ "$(get archive)" = "mtls-review-v9.8.7-$want.tar.gz" ] || fail "plan $os/$arch: archive '$(get archive)'"
  [ "$(get dir)" = "$work/cache/mtls-review/v9.8.7/$want" ] || fail "plan $os/$arch: dir '$(get dir)'"
  [ "$(get key)" = "mtls-review-v9.8.7-$want" ] || fail "plan $os/$arch: key '$(get key)'"
done
run Windows X64 plan
[ "$(get path)" = "$work/cache/mtls-review/v9.8.7/x86_64-pc-windows-msvc/mtls-review.exe" ] || fail "windows path '$(get path)'"
for bad in Linux/X86 Windows/ARM64 FreeBSD/X64 /; do
  IFS=/ read -r os arch <<<"$bad"
  run "$os" "$arch" plan
  [ "$rc" -eq 2 ] || fail "plan $bad should exit 2, got $rc"
  grep -q '^::error.*no mtls-review release binary' <<<"$log" || fail "plan $bad: no error annotation: $log"
  [ ! -s "$out" ] || fail "plan $bad wrote outputs"
done
for v in 1.0.0 latest "v1.0.0/../../x" "v1.0"; do
  run Linux X64 plan MTLS_VERSION="$v"
  [ "$rc" -eq 2 ] || fail "version '$v' should be refused, got $rc"
  grep -q "^::error.*version must be a release tag" <<<"$log" || fail "version '$v': no error annotation: $log"
done

# A good install: verified, unpacked, the output names a binary that runs.
run Linux ARM64 install
[ "$rc" -eq 0 ] || fail "install exited $rc: $log"
bin=$(get path)
[ "$bin" = "$work/cache/mtls-review/v9.8.7/aarch64-unknown-linux-musl/mtls-review" ] || fail "install path '$bin'"
[ -x "$bin" ] && [ "$("$bin" check)" = "fake mtls-review aarch64-unknown-linux-musl check" ] || fail "installed binary does not run"
[ ! -e "$(dirname "$bin")/mtls-review-v9.8.7-aarch64-unknown-linux-musl.tar.gz" ] || fail "archive left behind"
run macOS X64 install
[ "$rc" -eq 0 ] && [ "$("$(get path)")" = "fake mtls-review x86_64-apple-darwin " ] || fail "macOS X64 install: $log"

# A tampered archive: refused, nothing installed.
cp -r "$work/release" "$work/release.good"
printf tampered >>"$release/mtls-review-v9.8.7-x86_64-unknown-linux-musl.tar.gz"
run Linux X64 install
[ "$rc" -eq 2 ] || fail "tampered archive: exit $rc, want 2"
grep -q 'SHA-256 mismatch' <<<"$log" || fail "tampered archive: no mismatch message: $log"
[ -z "$(get path)" ] || fail "tampered archive: path output written"
[ ! -e "$work/cache/mtls-review/v9.8.7/x86_64-unknown-linux-musl/mtls-review" ] || fail "tampered archive: binary installed"

# A checksums file without the archive's line: refused.
rm -rf "$work/release" && cp -r "$work/release.good" "$work/release"
sed -i '/x86_64-pc-windows-msvc/d' "$release/mtls-review-v9.8.7-sha256sums.txt"
run Windows X64 install
[ "$rc" -eq 2 ] && grep -q 'has no SHA-256' <<<"$log" || fail "missing checksum line: exit $rc: $log"
[ -z "$(get path)" ] || fail "missing checksum line: path output written"

# No checksums file at all, or no archive: refused.
rm "$release/mtls-review-v9.8.7-sha256sums.txt"
run macOS ARM64 install
[ "$rc" -eq 2 ] && grep -q 'could not download' <<<"$log" || fail "missing checksums file: exit $rc: $log"
rm -rf "$work/release" && cp -r "$work/release.good" "$work/release"
rm "$release/mtls-review-v9.8.7-aarch64-apple-darwin.tar.gz"
run macOS ARM64 install
[ "$rc" -eq 2 ] || fail "missing archive: exit $rc"

# shasum instead of sha256sum (macOS runners): same verdicts.
if command -v shasum >/dev/null 2>&1; then
  mkdir -p "$work/bin" && for c in bash curl tar gzip awk sed mkdir rm chmod cat shasum perl; do
    p=$(command -v "$c") && ln -sf "$p" "$work/bin/$c"
  done
  rm -rf "$work/release" "$work/cache" && cp -r "$work/release.good" "$work/release"
  PATH_SAVE=$PATH; PATH="$work/bin"
  run macOS ARM64 install
  PATH=$PATH_SAVE
  [ "$rc" -eq 0 ] || fail "install with shasum only: exit $rc: $log"
fi

if [ "$failures" -gt 0 ]; then
  echo "action install tests: $failures failed"
  exit 1
fi
echo "action install tests: ok"
