#!/usr/bin/env bash
# Mutation testing of a change (issue 15): cargo-mutants on the core lines the change touches (the core: `core`
# below; the lib-only test run is set in .cargo/mutants.toml). The change is `git diff BASE HEAD -- src`, BASE being
# $MTLS_MUTANTS_BASE, else the merge base with origin/main or main, else HEAD~1 (HEAD~1 also when HEAD is on main).
# At most $MTLS_MUTANTS_MAX mutants (default 15) run: a larger change is sampled, one round-robin shard of its
# mutants picked by a hash of their list. Fails when fewer than $MTLS_MUTANTS_MIN_SCORE% (default 90) of the mutants run
# are caught (a timeout, a mutant that hangs the tests, counts as caught); the survivors are printed either way.
# docs/mutation.md explains the figures and the list of equivalent mutants (excluded in .cargo/mutants.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
version=27.1.0
max="${MTLS_MUTANTS_MAX:-15}"
min_score="${MTLS_MUTANTS_MIN_SCORE:-90}"
out="${CARGO_TARGET_DIR:-target}/mutants-in-diff"
# The core: everything between parsing and the review (no I/O, tested in memory by the lib tests).
core=(-f 'src/manifest/**/*.rs' -f src/mesh.rs -f src/context.rs -f 'src/rules/**/*.rs' -f 'src/posture/**/*.rs'
  -f src/fix.rs -f 'src/analysis/**/*.rs' -f src/plan.rs -f src/reanalysis.rs
  -f 'src/reanalysis/**/*.rs' -f 'src/review/**/*.rs' -f src/target/provenance.rs -f src/target/closure.rs)

base="${MTLS_MUTANTS_BASE:-}"
if [ -n "$base" ] && ! git cat-file -e "$base^{commit}" 2>/dev/null; then
  echo "mutants-in-diff: base $base is not in this clone; comparing with the default base instead" >&2
  base=""
fi
if [ -z "$base" ]; then
  for ref in origin/main main; do
    if mb=$(git merge-base HEAD "$ref" 2>/dev/null) && [ "$mb" != "$(git rev-parse HEAD)" ]; then
      base="$mb"
      break
    fi
  done
fi
if [ -z "$base" ]; then
  base=$(git rev-parse -q --verify HEAD~1 || true)
fi
if [ -z "$base" ]; then
  echo "mutants-in-diff: no base commit (a clone of one commit); nothing to compare, not run" >&2
  exit 0
fi

mkdir -p "$out"
git diff "$base" HEAD -- src >"$out/change.diff"
if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $version" ]; then
  cargo install cargo-mutants --locked --version "$version"
fi
cargo mutants --list "${core[@]}" --in-diff "$out/change.diff" 2>/dev/null >"$out/mutants.list"
count=$(wc -l <"$out/mutants.list")
echo "mutants-in-diff: $count mutants in the core lines changed since $(git rev-parse --short "$base")" >&2
if [ "$count" -eq 0 ]; then
  exit 0
fi
args=("${core[@]}" --in-diff "$out/change.diff" --in-place --timeout 120 --output "$out")
shards=$(((count + max - 1) / max))
if [ "$shards" -gt 1 ]; then
  # Picked by the list of the change's mutants (not the commit id or the whole diff), so commits that add tests in
  # their own files or touch nothing outside src/ keep the same sample.
  shard=$((0x$(sha1sum "$out/mutants.list" | cut -c1-7) % shards))
  echo "mutants-in-diff: more than $max; running shard $shard/$shards (round-robin)" >&2
  args+=(--shard "$shard/$shards" --sharding round-robin)
fi
rc=0
cargo mutants "${args[@]}" || rc=$?
# cargo-mutants exits 2 when a mutant was missed, 3 when some timed out (a hang: the tests noticed); anything else
# (4: the tests fail without a mutation, 1: usage) is an error here.
case "$rc" in
  0 | 2 | 3) ;;
  *) exit "$rc" ;;
esac
n() { if [ -f "$out/mutants.out/$1.txt" ]; then wc -l <"$out/mutants.out/$1.txt"; else echo 0; fi; }
caught=$(n caught)
missed=$(n missed)
timeout=$(n timeout)
unviable=$(n unviable)
tested=$((caught + missed + timeout))
echo "mutants-in-diff: caught $caught, missed $missed, timeout $timeout, unviable $unviable" >&2
if [ "$missed" -gt 0 ]; then
  echo "mutants-in-diff: surviving mutants (each needs a test, or a reason in docs/mutation.md):" >&2
  cat "$out/mutants.out/missed.txt" >&2
fi
# The issue's target: at least $min_score% of the (non-equivalent: equivalents are excluded in the config) mutants
# caught.
if [ "$tested" -gt 0 ] && [ $(((caught + timeout) * 100)) -lt $((min_score * tested)) ]; then
  echo "mutants-in-diff: score $(((caught + timeout) * 100 / tested))% is below ${min_score}%" >&2
  exit 1
fi
