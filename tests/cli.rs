//! The binary on fixture trees: formats (snapshot-tested), exit codes, and the loader's edge cases.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-review"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run mtls-review")
}

fn json(args: &[&str]) -> Value {
    let mut a = vec!["check", "--format", "json"];
    a.extend_from_slice(args);
    let out = run(&a);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json output")
}

/// (code, severity, kind ns/name, path:line, has fix) of every finding.
fn summary(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}/{} {}:{} fix={}",
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["object"]["kind"].as_str().unwrap(),
                f["object"]["namespace"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["location"]["line"],
                !f["fix"].is_null()
            )
        })
        .collect()
}

#[test]
fn demo_text() {
    let out = run(&["check", "fixtures/demo"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn demo_json() {
    let out = run(&["check", "--format", "json", "fixtures/demo"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn demo_sarif() {
    let out = run(&["check", "--format", "sarif", "fixtures/demo"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap() > 0);
        assert!(r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"].is_string());
    }
    insta::assert_snapshot!(text);
}

#[test]
fn exit_codes() {
    assert_eq!(run(&["check", "fixtures/demo", "--fail-on", "never"]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "tests/fixtures/cases/flow"]).status.code(),
        Some(0),
        "a warning does not fail by default"
    );
    assert_eq!(run(&["check", "tests/fixtures/cases/flow", "--fail-on", "warning"]).status.code(), Some(1));
    assert_eq!(
        run(&["check", "tests/fixtures/cases/flow", "--ignore", "TIS0206", "--fail-on", "warning"]).status.code(),
        Some(0)
    );
    let missing = run(&["check", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/dir"));
    assert_eq!(run(&["check", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(run(&["check", "--bogus"]).status.code(), Some(2));
}

#[test]
fn errors_do_not_change_the_exit_code_and_do_not_hide_other_files() {
    let v = json(&["tests/fixtures/cases/broken", "--ignore", "TIS0206,TIS0502"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    let out = run(&["check", "tests/fixtures/cases/broken", "--ignore", "TIS0206,TIS0502"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&["tests/fixtures/cases/broken"]);
    let errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{} {}", e["path"].as_str().unwrap(), e["line"], e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, vec!["bad.yaml:8 parse", "dup.yaml:9 duplicate_key", "image.yaml:1 encoding"]);
    assert_eq!(
        summary(&v),
        vec![
            "TIS0502 error PeerAuthentication dup/default dup.yaml:9 fix=true",
            "TIS0206 error DestinationRule dup/dup-mtls dup.yaml:20 fix=true",
            "TIS0206 warning DestinationRule good/good-mtls good.yaml:10 fix=true",
        ]
    );
}

#[test]
fn multi_document_and_list_files() {
    assert_eq!(
        summary(&json(&["tests/fixtures/cases/multidoc"])),
        vec![
            "TIS0206 warning DestinationRule shop/shop-mtls all.yaml:13 fix=true",
            "TIS0502 error PeerAuthentication billing/default all.yaml:27 fix=true",
            "TIS0206 error DestinationRule billing/billing-mtls all.yaml:38 fix=true",
        ]
    );
}

#[test]
fn kustomize_namespace_flow_and_crlf() {
    assert_eq!(
        summary(&json(&["tests/fixtures/cases/kustomize"])),
        vec!["TIS0206 warning DestinationRule shop/shop-mtls apps/shop/dr.yaml:9 fix=true"]
    );
    assert_eq!(
        summary(&json(&["tests/fixtures/cases/flow"])),
        vec!["TIS0206 warning DestinationRule flow/flow-mtls flow.yaml:1 fix=true"]
    );
    let v = json(&["tests/fixtures/cases/crlf"]);
    assert_eq!(
        summary(&v),
        vec![
            "TIS0502 error PeerAuthentication crlf/default crlf.yaml:8 fix=true",
            "TIS0206 error DestinationRule crlf/crlf-mtls crlf.yaml:19 fix=true",
        ]
    );
    // The TIS0206 fix edits the existing namespace PA in place, keeping its double quotes.
    let f = &v["findings"][1]["fix"];
    assert_eq!((f["start_line"].as_u64(), f["replacement"].as_str()), (Some(8), Some("    mode: \"PERMISSIVE\"")));
}

#[test]
fn mesh_settings_from_tree_flags_and_mesh_config() {
    let v = json(&["tests/fixtures/cases/mesh-in-tree"]);
    assert_eq!(v["settings"]["root_namespace"], "platform-mesh");
    assert_eq!(v["settings"]["auto_mtls"], false);
    assert_eq!(v["settings"]["cluster_domain"], "cluster.local", "trustDomain never sets the cluster domain");
    assert_eq!(summary(&v), vec!["TIS0401 error PeerAuthentication platform-mesh/default apps/pa.yaml:8 fix=false"]);
    // The command line wins over the tree.
    let v = json(&["tests/fixtures/cases/mesh-in-tree", "--root-namespace", "istio-system"]);
    assert_eq!(v["settings"]["root_namespace"], "istio-system");
    // Now platform-mesh is an ordinary namespace: its STRICT PA without a DR breaks under auto mTLS off.
    assert_eq!(summary(&v), vec!["TIS0501 error PeerAuthentication platform-mesh/default apps/pa.yaml:8 fix=true"]);

    assert!(summary(&json(&["tests/fixtures/cases/custom-root"])).is_empty());
    let v = json(&[
        "tests/fixtures/cases/custom-root",
        "--root-namespace",
        "mesh-root",
        "--cluster-domain",
        "corp.example",
    ]);
    assert_eq!(
        summary(&v),
        vec![
            "TIS0503 error PeerAuthentication mesh-root/default mesh.yaml:8 fix=true",
            "TIS0205 error DestinationRule mesh-root/mesh-mtls mesh.yaml:19 fix=false",
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let mc = dir.path().join("mesh.yaml");
    std::fs::write(&mc, "rootNamespace: mesh-root\n").unwrap();
    let v = json(&[
        "tests/fixtures/cases/custom-root",
        "--mesh-config",
        mc.to_str().unwrap(),
        "--cluster-domain",
        "corp.example",
    ]);
    assert_eq!(v["settings"]["root_namespace"], "mesh-root");
}

#[test]
fn project_config_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new("tests/fixtures/cases/multidoc"), dir.path());
    std::fs::write(dir.path().join(".mtls-review.yaml"), "ignore: [TIS0502]\nsuggest_mode: strict\nfail_on: warning\n")
        .unwrap();
    let p = dir.path().to_str().unwrap();
    let v = json(&[p]);
    let codes: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["TIS0206", "TIS0206"]);
    assert!(v["findings"][0]["fix"]["replacement"].as_str().unwrap().contains("mode: STRICT"));
    std::fs::write(dir.path().join(".mtls-review.yaml"), "ignore: [TIS0502]\nunknown_key: 1\n").unwrap();
    let out = run(&["check", p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":2:") && err.contains("unknown_key"), "{err}");
}

#[test]
fn ignore_annotation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dr.yaml"),
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: n\n  annotations:\n    mtls-review.io/ignore: \"TIS0503, TIS0206\"\nspec:\n  host: \"*.n.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n",
    )
    .unwrap();
    assert!(summary(&json(&[dir.path().to_str().unwrap()])).is_empty());
}

#[test]
fn helm_templates_symlinks_and_git_dirs_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("chart/templates")).unwrap();
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::write(d.join("chart/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n").unwrap();
    let dr = std::fs::read_to_string("tests/fixtures/cases/kustomize/apps/shop/dr.yaml").unwrap();
    std::fs::write(d.join("chart/templates/dr.yaml"), "{{- if .Values.x }}\n".to_string() + &dr).unwrap();
    std::fs::write(d.join(".git/dr.yaml"), &dr).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(std::fs::canonicalize("tests/fixtures/cases/kustomize").unwrap(), d.join("link"))
        .unwrap();
    let v = json(&[d.to_str().unwrap()]);
    assert!(summary(&v).is_empty());
    // The chart is a Helm target: its templates are never read as manifests. Without helm on PATH it is one
    // render error on the chart (never a parse error of a template); with helm it renders.
    for e in v["errors"].as_array().unwrap() {
        assert_eq!(e["kind"], "render", "{e}");
        assert!(e["message"].as_str().unwrap().contains("helm"), "{e}");
        assert!(e["path"].as_str().unwrap().starts_with("chart"), "{e}");
    }
}

#[test]
fn hostile_files_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("deep.yaml"), "- ".repeat(200_000) + "x\n").unwrap();
    std::fs::write(d.join("flow.yaml"), "[".repeat(200_000)).unwrap();
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..40 {
        let prev = if i == 0 { "a".to_string() } else { format!("a{}", i - 1) };
        bomb.push_str(&format!(
            "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    std::fs::write(d.join("bomb.yaml"), bomb).unwrap();
    std::fs::write(d.join("dr.yaml"), std::fs::read("tests/fixtures/cases/flow/flow.yaml").unwrap()).unwrap();
    let v = json(&[d.to_str().unwrap()]);
    let errs: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(errs, vec!["deep.yaml", "flow.yaml"]);
    assert_eq!(summary(&v).len(), 1, "the valid file is still analyzed");
}

#[test]
fn every_offered_fix_applies_and_clears_its_finding() {
    for case in
        ["fixtures/demo", "tests/fixtures/cases/multidoc", "tests/fixtures/cases/flow", "tests/fixtures/cases/crlf"]
    {
        let v = json(&[case]);
        for f in v["findings"].as_array().unwrap().iter().filter(|f| !f["fix"].is_null()) {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(Path::new(case), dir.path());
            let fix = &f["fix"];
            let path = dir.path().join(fix["path"].as_str().unwrap());
            let text = std::fs::read_to_string(&path).unwrap();
            let crlf = text.contains("\r\n");
            let mut lines: Vec<String> = text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect();
            let (s, e) = (fix["start_line"].as_u64().unwrap() as usize, fix["end_line"].as_u64().unwrap() as usize);
            let repl: Vec<String> = fix["replacement"].as_str().unwrap().split('\n').map(str::to_string).collect();
            lines.splice(s - 1..e, repl);
            std::fs::write(&path, lines.join(if crlf { "\r\n" } else { "\n" })).unwrap();
            let after = json(&[dir.path().to_str().unwrap()]);
            assert!(after["errors"].as_array().unwrap().is_empty(), "{case}: {after}");
            let same = |g: &Value| g["code"] == f["code"] && g["object"] == f["object"];
            assert!(!after["findings"].as_array().unwrap().iter().any(same), "{case}: {} not fixed", f["code"]);
            let new_errors = after["findings"].as_array().unwrap().iter().filter(|g| g["severity"] == "error").count();
            let old_errors = v["findings"].as_array().unwrap().iter().filter(|g| g["severity"] == "error").count();
            assert!(new_errors <= old_errors, "{case}: fix for {} added errors", f["code"]);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&t).unwrap();
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

#[test]
fn posture_table_text_markdown_json() {
    let text = run(&["posture", "fixtures/demo"]);
    assert_eq!(text.status.code(), Some(0));
    insta::assert_snapshot!("posture_text", String::from_utf8(text.stdout).unwrap());
    let md = run(&["posture", "--format", "markdown", "fixtures/demo"]);
    insta::assert_snapshot!("posture_markdown", String::from_utf8(md.stdout).unwrap());
    let v: Value = serde_json::from_slice(&run(&["posture", "--format", "json", "fixtures/demo"]).stdout).unwrap();
    let row = &v["posture"]["rows"][0];
    assert_eq!(row["verdict"], "fail: mTLS to plaintext-only server");
    assert_eq!(row["client_namespace"], "payments");
    assert_eq!(run(&["posture", "--format", "sarif", "fixtures/demo"]).status.code(), Some(2));
}

#[test]
fn a_single_file_takes_its_namespace_from_the_kustomization_beside_it() {
    let v = json(&["fixtures/demo/apps/payments/mtls.yaml"]);
    assert_eq!(summary(&v), vec!["TIS0206 warning DestinationRule payments/payments-mtls mtls.yaml:10 fix=true"]);
    // Several paths: the root is the current directory, kustomizations above each path up to it still count.
    let v = json(&["fixtures/demo/apps/payments/mtls.yaml", "fixtures/demo/mesh"]);
    assert_eq!(v["findings"][0]["object"]["namespace"], "payments");
    assert_eq!(v["findings"][0]["location"]["path"], "fixtures/demo/apps/payments/mtls.yaml");
}
