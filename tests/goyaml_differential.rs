//! Differential test against go-yaml v2 and v3 (what kubectl, Argo CD, kustomize and Flux read with).
//!
//! `tools/goyaml` prints each document of each file as Kubernetes reads it (split at `---` lines, then decoded
//! into Go values); we print ours the same way (`go_value`). Run by `.ci/run` after building the tool:
//! `MTLS_GOYAML=target/goyaml cargo test --test goyaml_differential -- --ignored --nocapture`.
//! Any difference on an input both go-yaml versions accept fails, except the files listed with their reason in
//! `tests/data/goyaml-known-differences.txt`.

use mtls_review::manifest::yaml::{Limits, Schema, go_value, parse_stream};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
            out.push(p);
        }
    }
}

/// Our reading of a file as (docs under v2, docs under v3), or the reason we refuse it.
fn ours(bytes: &[u8]) -> Result<(Vec<Value>, Vec<Value>), String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let s = parse_stream(text, &Limits::default());
    if let Some(e) = s.errors.first() {
        return Err(e.message.clone());
    }
    let mut v2 = Vec::new();
    let mut v3 = Vec::new();
    for d in &s.docs {
        v2.push(go_value(d, Schema::V2, 1_000_000)?);
        v3.push(go_value(d, Schema::V3, 1_000_000)?);
    }
    Ok((v2, v3))
}

#[test]
#[ignore = "needs the go-yaml tool: run by .ci/run with MTLS_GOYAML set"]
fn agrees_with_go_yaml() {
    let tool = std::env::var("MTLS_GOYAML").expect("MTLS_GOYAML: path of the tools/goyaml binary");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for d in ["tests/data/yaml-test-suite", "tests/data/k8s-shaped", "fixtures"] {
        files(&root.join(d), &mut paths);
    }
    paths.sort();
    let known_text = std::fs::read_to_string(root.join("tests/data/goyaml-known-differences.txt")).unwrap_or_default();
    let known: Vec<&str> = known_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let out = std::process::Command::new(&tool).args(&paths).output().expect("run the go-yaml tool");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (mut n, mut both, mut agree2, mut agree3, mut accept_agree2, mut accept_agree3) = (0, 0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).expect("tool output");
        let path = v["path"].as_str().unwrap_or("");
        let rel = Path::new(path).strip_prefix(root).unwrap_or(Path::new(path)).to_string_lossy().to_string();
        let bytes = std::fs::read(path).expect("read");
        let mine = ours(&bytes);
        n += 1;
        let go_ok = |s: &str| v[s]["errors"].as_array().is_some_and(|e| e.is_empty());
        let (ok2, ok3) = (go_ok("v2"), go_ok("v3"));
        let same = |s: &str, docs: &Vec<Value>| v[s]["docs"].as_array() == Some(docs);
        let a2 = match &mine {
            Ok((d2, _)) => ok2 && same("v2", d2),
            Err(_) => !ok2,
        };
        let a3 = match &mine {
            Ok((_, d3)) => ok3 && same("v3", d3),
            Err(_) => !ok3,
        };
        agree2 += usize::from(a2);
        agree3 += usize::from(a3);
        if ok2 && ok3 {
            both += 1;
            accept_agree2 += usize::from(a2);
            accept_agree3 += usize::from(a3);
            let agreed = a2 && a3;
            if !agreed && !known.contains(&rel.as_str()) {
                failures.push(format!("{rel}: ours {mine:?}\n  go {}", v));
            }
        }
    }
    println!(
        "go-yaml differential: {n} files; agreement with v2 {agree2}/{n}, with v3 {agree3}/{n}; \
         on the {both} both accept: v2 {accept_agree2}/{both}, v3 {accept_agree3}/{both}"
    );
    assert!(n > 400, "too few inputs: {n}");
    assert!(
        failures.is_empty(),
        "{} differences on inputs both go-yaml versions accept:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
