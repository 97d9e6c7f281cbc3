//! A tree reviewed against itself introduces and resolves nothing: every fixture tree (the bundled examples and
//! the test cases), in directory mode and in git mode (the same commit as base and head, and a commit that only
//! touches an unrelated file), with or without rendering.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-review")).args(args).current_dir(dir).output().expect("run");
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{args:?}: exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    (serde_json::from_slice(&out.stdout).expect("json"), code)
}

/// Every directory directly under `fixtures/` and `tests/fixtures/cases/`.
fn trees() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for d in [root.join("fixtures"), root.join("tests/fixtures/cases")] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .expect("fixtures")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        out.extend(entries);
    }
    assert!(out.len() >= 8, "fixture trees found: {out:?}");
    out
}

fn changed(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] != "existing")
        .map(|f| format!("{} {} {}", f["status"], f["code"], f["object"]))
        .collect();
    out.extend(
        v["errors"].as_array().expect("errors").iter().filter(|e| e["introduced"] == true).map(|e| e.to_string()),
    );
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").filter_map(Result::ok) {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_fixture_tree_reviewed_against_itself_introduces_and_resolves_nothing() {
    for tree in trees() {
        let t = tree.to_string_lossy().to_string();
        // Directory mode: the same directory twice.
        let (v, code) = bin(&tree, &["check", "--format", "json", "--base-dir", &t, &t]);
        assert_eq!(changed(&v), Vec::<String>::new(), "directory mode, {t}");
        assert_eq!(code, 0, "a review that introduces nothing passes: {t}");
        // The snapshot sees findings or not; its existing findings are what the self-review calls existing.
        let (snap, _) = bin(&tree, &["check", "--format", "json", "."]);
        let count = |v: &Value| v["findings"].as_array().map_or(0, Vec::len);
        assert_eq!(count(&v), count(&snap), "the self-review lists the snapshot's findings as existing: {t}");

        // Git mode: base = head, and a head that only adds an unrelated file.
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&tree, dir.path());
        git(dir.path(), &["init", "-q", "-b", "main"]);
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-qm", "base"]);
        let (v, _) = bin(dir.path(), &["check", "--format", "json", "--base", "main", "--head", "main"]);
        assert_eq!(changed(&v), Vec::<String>::new(), "git mode, same commit, {t}");
        std::fs::write(dir.path().join("NOTES.txt"), "unrelated\n").expect("write");
        git(dir.path(), &["checkout", "-qb", "feature"]);
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-qm", "unrelated"]);
        let (v, _) = bin(dir.path(), &["check", "--format", "json", "--base", "main", "--head", "feature"]);
        assert_eq!(changed(&v), Vec::<String>::new(), "git mode, unrelated change, {t}");
    }
}
