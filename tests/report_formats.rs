//! The reports a person or a tool reads, on the demo tree and on a change to it: the SARIF log validated against
//! the SARIF 2.1.0 schema, the Markdown summary (with its graph) and the text output as snapshots, colour.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCHEMA: &str = include_str!("data/sarif-schema-2.1.0.json");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-review"));
    c.current_dir(dir).args(args).env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run mtls-review")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").filter_map(Result::ok) {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(|_| ()).expect("copy") }
    }
}

/// The demo as a change: `base` is `fixtures/kustomize-envs` before the dev overlay's patch disabled mTLS
/// (PERMISSIVE), `head` the fixture as it is.
fn demo_change(tmp: &Path) -> (PathBuf, PathBuf) {
    let (base, head) = (tmp.join("base"), tmp.join("head"));
    copy_dir(&root().join("fixtures/kustomize-envs"), &base);
    copy_dir(&root().join("fixtures/kustomize-envs"), &head);
    let patch = base.join("overlays/dev/peer-authentication.yaml");
    let text = std::fs::read_to_string(&patch).unwrap().replace("mode: DISABLE", "mode: PERMISSIVE");
    std::fs::write(&patch, text).unwrap();
    (base, head)
}

fn validate(sarif: &str) -> Value {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let log: Value = serde_json::from_str(sarif).expect("SARIF is JSON");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF 2.1.0 schema violations:\n{}", errors.join("\n"));
    log
}

#[test]
fn the_schema_rejects_what_it_should() {
    // The validator is not vacuous: a log without `version`, or with an unknown level, fails.
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"runs": []})));
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "level": "fatal"}]}]});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn sarif_of_a_snapshot_and_of_a_change_is_valid_sarif_2_1_0() {
    let out = run(&root(), &["check", "--format", "sarif", "fixtures/demo"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let log = validate(&String::from_utf8(out.stdout).unwrap());
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["properties"]["security-severity"].as_str().is_some(), "{r}");
        assert!(r["properties"]["tags"].as_array().unwrap().contains(&Value::from("security")), "{r}");
        assert!(r["help"]["markdown"].as_str().unwrap().starts_with(&format!("# {}: ", r["id"].as_str().unwrap())));
    }
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r.get("baselineState").is_none()), "a snapshot has no baseline");

    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = demo_change(tmp.path());
    let args = ["check", "--format", "sarif", "--base-dir", base.to_str().unwrap(), head.to_str().unwrap()];
    let out = run(tmp.path(), &args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let log = validate(&String::from_utf8(out.stdout).unwrap());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let states: Vec<&str> = results.iter().map(|r| r["baselineState"].as_str().unwrap()).collect();
    assert!(states.contains(&"new"), "{states:?}");
    assert!(results.iter().any(|r| r.get("relatedLocations").is_some()));
    assert!(results.iter().all(|r| r["locations"][0]["physicalLocation"]["region"]["startColumn"].as_u64() > Some(0)));
    // Fingerprints are stable: the same change gives the same ones.
    let again: Value = serde_json::from_slice(&run(tmp.path(), &args, &[]).stdout).unwrap();
    let fps = |l: &Value| -> Vec<Value> {
        l["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].clone()).collect()
    };
    assert_eq!(fps(&log), fps(&again));
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&root().join("fixtures/demo"), &repo.join("clusters/prod"));
    git2::Repository::init(&repo).unwrap();
    let out = run(&repo, &["check", "--format", "sarif", "clusters/prod"], &[]);
    let log = validate(&String::from_utf8(out.stdout).unwrap());
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert!(!uris.is_empty() && uris.iter().all(|u| u.starts_with("clusters/prod/")), "{uris:?}");
    // Outside a repository the paths stay relative to the scanned directory.
    let plain = tmp.path().join("plain");
    copy_dir(&root().join("fixtures/demo"), &plain);
    let out = run(tmp.path(), &["check", "--format", "sarif", "plain"], &[]);
    let log = validate(&String::from_utf8(out.stdout).unwrap());
    let uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone();
    assert!(!uri.as_str().unwrap().starts_with("plain/"), "{uri}");
}

#[test]
fn the_demo_change_summary_and_text() {
    let tmp = tempfile::tempdir().unwrap();
    demo_change(tmp.path());
    let review = |format: &str| {
        let out = run(tmp.path(), &["check", "--format", format, "--base-dir", "base", "head"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let md = review("markdown");
    assert!(md.contains("```mermaid\nflowchart LR\n"), "{md}");
    assert!(md.contains("❌ **1 client path starts failing** (services in namespace `shop`, mesh `dev`)"), "{md}");
    insta::assert_snapshot!("demo_change_markdown", md);
    let text = review("text");
    assert!(text.ends_with("\nfails: fail-on error: 3 introduced errors\n"), "{text}");
    insta::assert_snapshot!("demo_change_text", text);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let r = root();
    let text = |args: &[&str], env: &[(&str, &str)]| String::from_utf8(run(&r, args, env).stdout).unwrap();
    // stdout is a pipe here: `auto` means no colour.
    assert!(!text(&["check", "fixtures/demo"], &[]).contains('\x1b'));
    let always = text(&["check", "--color", "always", "fixtures/demo"], &[]);
    assert!(always.contains("\x1b[1;31merror["), "{always}");
    assert!(
        text(&["check", "--color", "always", "fixtures/demo"], &[("NO_COLOR", "1")]).contains('\x1b'),
        "a flag that asks for colour wins"
    );
    assert!(!text(&["check", "--color", "never", "fixtures/demo"], &[]).contains('\x1b'));
    let out = run(&r, &["check", "--color", "sometimes", "fixtures/demo"], &[]);
    assert_eq!(out.status.code(), Some(2));
}
