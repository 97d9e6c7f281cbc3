//! Git-mode messages that say what is wrong: a shallow clone told apart from a full one that lacks a revision,
//! the side (base or head) named, and the fetch command that brings it (`git fetch origin main` for
//! `origin/main`). Real repositories built with the git CLI, shallow ones cloned with `--depth 1`.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::git;

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n";

fn commit(dir: &Path, path: &str, text: &str, msg: &str) -> String {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// An upstream with three commits on `main` and a `feature` branch from the second; returns (dir, first commit).
fn upstream() -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    let first = commit(p, "shop/pa.yaml", PA, "one");
    commit(p, "README.md", "two\n", "two");
    git(p, &["checkout", "-qb", "feature"]);
    commit(p, "shop/pa.yaml", &PA.replace("STRICT", "PERMISSIVE"), "feature");
    git(p, &["checkout", "-q", "main"]);
    commit(p, "README.md", "three\n", "three");
    (d, first)
}

fn clone(up: &Path, into: &Path, extra: &[&str]) -> std::path::PathBuf {
    let url = format!("file://{}", up.display());
    let mut args = vec!["clone", "-q"];
    args.extend_from_slice(extra);
    args.push(&url);
    args.push("ws");
    git(into, &args);
    into.join("ws")
}

fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o: Output =
        Command::new(env!("CARGO_BIN_EXE_mtls-review")).current_dir(dir).arg("check").args(args).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_mistyped_base_is_not_blamed_on_a_shallow_clone() {
    let (up, _) = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let ws = clone(up.path(), tmp.path(), &[]);
    let (code, e) = check(&ws, &["--base", "mian"]);
    assert_eq!(code, Some(2));
    assert!(!e.contains("shallow"), "{e}");
    // Not in a shallow clone either: shallowness cuts history, not branch names.
    let tmp2 = tempfile::tempdir().unwrap();
    let shallow = clone(up.path(), tmp2.path(), &["--depth", "1"]);
    let (code, e2) = check(&shallow, &["--base", "origin/mian"]);
    assert_eq!(code, Some(2));
    assert!(e2.contains("no branch or tag of that name here") && !e2.contains("shallow"), "{e2}");
    assert!(e2.contains("`git fetch origin mian`"), "{e2}");
    assert!(
        e.contains("the base revision `mian` is not in this repository: no branch or tag of that name here"),
        "{e}"
    );
    assert!(!e.contains("shallow"), "{e}");
    assert!(e.contains("`git fetch origin mian`"), "{e}");
}

#[test]
fn a_missing_head_is_named_as_the_head() {
    let (up, _) = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let ws = clone(up.path(), tmp.path(), &[]);
    let (code, e) = check(&ws, &["--base", "origin/main", "--head", "origin/featur"]);
    assert_eq!(code, Some(2));
    assert!(e.contains("the head revision `origin/featur` is not in this repository"), "{e}");
    assert!(!e.contains("base revision"), "{e}");
    // A remote-tracking name is fetched from its remote by branch name, not `git fetch origin origin/featur`.
    assert!(e.contains("`git fetch origin featur`"), "{e}");
}

#[test]
fn a_remote_tracking_branch_not_fetched_gets_the_right_fetch_command() {
    let (up, _) = upstream();
    let tmp = tempfile::tempdir().unwrap();
    // Only `main` is fetched: `origin/feature` exists upstream but not here.
    let ws = clone(up.path(), tmp.path(), &["--single-branch", "--branch", "main"]);
    let (code, e) = check(&ws, &["--base", "origin/main", "--head", "origin/feature"]);
    assert_eq!(code, Some(2));
    assert!(e.contains("the head revision `origin/feature`"), "{e}");
    assert!(e.contains("`git fetch origin feature`"), "{e}");
    // `refs/remotes/...` spelled out, and a remote with another name.
    git(&ws, &["remote", "rename", "origin", "upstream"]);
    let (_, e) = check(&ws, &["--base", "refs/remotes/upstream/nope"]);
    assert!(
        e.contains("the base revision `refs/remotes/upstream/nope`") && e.contains("`git fetch upstream nope`"),
        "{e}"
    );
    // Once fetched as suggested, the review runs.
    git(&ws, &["fetch", "-q", "upstream", "feature"]);
    git(&ws, &["branch", "-q", "feature", "FETCH_HEAD"]);
    let (code, e) = check(&ws, &["--base", "upstream/main", "--head", "feature"]);
    assert_ne!(code, Some(2), "{e}");
}

#[test]
fn a_commit_cut_off_by_a_shallow_clone_says_so_and_names_fetch_depth() {
    let (up, first) = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let ws = clone(up.path(), tmp.path(), &["--depth", "1", "--branch", "main"]);
    let (code, e) = check(&ws, &["--base", &first]);
    assert_eq!(code, Some(2));
    assert!(e.contains(&format!("the base revision `{first}` is not in this repository, a shallow clone")), "{e}");
    assert!(e.contains("fetch-depth: 0") && e.contains(&format!("`git fetch origin {first}`")), "{e}");
    // The same commit missing from a full clone (it was never fetched) is not blamed on shallowness.
    let other = tempfile::tempdir().unwrap();
    let lone = other.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    git(&lone, &["init", "-q", "-b", "main"]);
    commit(&lone, "a.yaml", PA, "a");
    let (code, e) = check(&lone, &["--base", &first]);
    assert_eq!(code, Some(2));
    assert!(
        e.contains("(a full clone: no history is cut off, the commit was never fetched")
            && !e.contains("shallow clone"),
        "{e}"
    );
}

#[test]
fn no_merge_base_tells_a_shallow_clone_from_unrelated_histories() {
    let (up, _) = upstream();
    let tmp = tempfile::tempdir().unwrap();
    // Both tips at depth 1: the merge base is cut off.
    let ws = clone(up.path(), tmp.path(), &["--depth", "1", "--no-single-branch"]);
    let (code, e) = check(&ws, &["--base", "origin/main", "--head", "origin/feature"]);
    assert_eq!(code, Some(2));
    assert!(e.contains("no merge base between the base `origin/main` and the head `origin/feature`"), "{e}");
    assert!(e.contains("shallow clone") && e.contains("git fetch --unshallow"), "{e}");
    // Unrelated histories in a full repository.
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    commit(p, "a.yaml", PA, "a");
    git(p, &["checkout", "-q", "--orphan", "other"]);
    commit(p, "b.yaml", PA, "b");
    let (code, e) = check(p, &["--base", "main", "--head", "other"]);
    assert_eq!(code, Some(2));
    assert!(e.contains("they share no history (a full clone") && !e.contains("shallow clone"), "{e}");
}
