//! No silent pass of a required check: reading nothing, a path or `paths:` entry that matches nothing, an unknown
//! rule code to ignore, and a change that breaks the project config are all failures, never a green exit 0.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::git;

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n";

fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtls-review")).current_dir(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A repository with `base` on `main` and `head` on `feature`.
fn repo(base: &[(&str, &str)], head: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    write(p, base);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "base", "--allow-empty"]);
    git(p, &["checkout", "-qb", "feature"]);
    write(p, head);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "head", "--allow-empty"]);
    d
}

#[test]
fn an_empty_directory_is_exit_2_not_a_pass() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("clusters")).unwrap();
    write(d.path(), &[("clusters/README.md", "not a manifest\n")]);
    let o = bin(d.path(), &["check", "clusters"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no manifests read from clusters: nothing was checked"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no report when nothing was read");
}

#[test]
fn two_empty_directories_are_exit_2_in_directory_mode() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("a")).unwrap();
    std::fs::create_dir_all(d.path().join("b")).unwrap();
    let o = bin(d.path(), &["check", "--base-dir", "a", "b"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no manifests read from the base (a) and head (b) sides"), "{}", stderr(&o));
}

#[test]
fn a_change_that_deletes_every_manifest_is_still_reviewed() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("a/pa.yaml", PA)]);
    std::fs::create_dir_all(d.path().join("b")).unwrap();
    let o = bin(d.path(), &["check", "--base-dir", "a", "b", "--format", "json"]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_git_subtree_that_does_not_exist_is_exit_2() {
    let r = repo(&[("shop/pa.yaml", PA)], &[("shop/pa.yaml", &PA.replace("STRICT", "PERMISSIVE"))]);
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature", "shopp"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("path `shopp` matches no file in the base (") && e.contains(") or head ("), "{e}");
    // The right subtree reviews.
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature", "shop"]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_git_change_without_manifests_is_exit_2() {
    let r = repo(&[("README.md", "a\n")], &[("README.md", "b\n")]);
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no manifests read from the base ("), "{}", stderr(&o));
    // A subtree that exists but holds no manifest.
    let r = repo(&[("docs/a.md", "a\n"), ("shop/pa.yaml", PA)], &[("docs/a.md", "b\n")]);
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature", "docs"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("commits under docs: nothing was checked"), "{}", stderr(&o));
}

#[test]
fn a_config_paths_entry_that_matches_nothing_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("shop/pa.yaml", PA), (".mtls-review.yaml", "paths:\n  - shop\n  - payments\n")]);
    let o = bin(d.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("config `paths` entry `payments` matches no file"), "{}", stderr(&o));
    // In a review too (the base side's config, both sides' files).
    let base = tempfile::tempdir().unwrap();
    write(base.path(), &[("shop/pa.yaml", PA), (".mtls-review.yaml", "paths: [payments]\n")]);
    let o = bin(d.path(), &["check", "--base-dir", base.path().to_str().unwrap(), "."]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("config `paths` entry `payments` matches no file"), "{}", stderr(&o));
    // Entries that match pass.
    write(d.path(), &[(".mtls-review.yaml", "paths:\n  - shop\n")]);
    let o = bin(d.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_unknown_rule_code_to_ignore_is_exit_2_naming_the_nearest() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("shop/pa.yaml", PA)]);
    let o = bin(d.path(), &["check", "--ignore", "TIS9999"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--ignore: unknown rule code `TIS9999`; the rule codes are TIS0205, "), "{e}");
    assert!(e.contains("MTLS003") && e.contains("(or `*` for all)"), "{e}");
    let o = bin(d.path(), &["check", "--ignore", "TIS0206,TIS0260"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown rule code `TIS0260`; did you mean `TIS0206`?"), "{}", stderr(&o));
    let o = bin(d.path(), &["check", "--ignore", "mtls002"]);
    assert!(stderr(&o).contains("did you mean `MTLS002`?"), "{}", stderr(&o));
    // Known codes and `*` are fine.
    let o = bin(d.path(), &["check", "--ignore", "TIS0206", "--ignore", "*"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_unknown_rule_code_in_the_config_is_exit_2_on_its_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[("shop/pa.yaml", PA), (".mtls-review.yaml", "fail_on: error\nignore:\n  - TIS0206\n  - MTLS0003\n")],
    );
    let o = bin(d.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".mtls-review.yaml:4: ignore: unknown rule code `MTLS0003`; did you mean `MTLS003`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_change_that_breaks_the_head_config_is_an_introduced_error_on_its_line() {
    let cfg = "fail_on: error\nignore: [TIS0206]\n";
    let broken = "fail_on: error\nignore: [TIS0206]\nfail_onn: never\n";
    let r = repo(&[("shop/pa.yaml", PA), (".mtls-review.yaml", cfg)], &[(".mtls-review.yaml", broken)]);
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "the change fails the check: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = v["errors"].as_array().unwrap().iter().find(|e| e["path"] == ".mtls-review.yaml").expect("config error");
    assert_eq!(e["introduced"], true);
    assert_eq!(e["line"], 3, "{e}");
    assert!(e["message"].as_str().unwrap().contains("unknown field `fail_onn`"), "{e}");
    // An unknown rule code on the head side too; the base config (valid) is the one used meanwhile.
    let r = repo(&[("shop/pa.yaml", PA), (".mtls-review.yaml", cfg)], &[(".mtls-review.yaml", "ignore: [TIS0260]\n")]);
    let o = bin(r.path(), &["check", "--base", "main", "--head", "feature", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = v["errors"].as_array().unwrap().iter().find(|e| e["path"] == ".mtls-review.yaml").unwrap();
    assert_eq!((e["line"].as_u64(), e["introduced"].as_bool()), (Some(1), Some(true)), "{e}");
    // Directory mode as well.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path(), &[("shop/pa.yaml", PA), (".mtls-review.yaml", cfg)]);
    write(b.path(), &[("shop/pa.yaml", PA), (".mtls-review.yaml", broken)]);
    let o = bin(a.path(), &["check", "--base-dir", ".", b.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A valid head config change is no error.
    write(b.path(), &[(".mtls-review.yaml", "fail_on: warning\n")]);
    let o = bin(a.path(), &["check", "--base-dir", ".", b.path().to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["errors"].as_array().unwrap().iter().all(|e| e["path"] != ".mtls-review.yaml"), "{v}");
}
