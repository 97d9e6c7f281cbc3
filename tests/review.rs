//! Change review end to end, in git mode (real repositories built with the git CLI) and directory mode: the same
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
//! scenarios, the same expectations.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const NS_PA_STRICT: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: STRICT\n";
const DR_MUTUAL: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
const DEPLOY: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 1\n";

fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtls-review")).current_dir(dir).args(args).output().expect("run")
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

type Tree<'a> = &'a [(&'a str, &'a str)];

fn write_tree(dir: &Path, files: Tree) {
    for (p, text) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A repository whose `main` holds `base`, whose `feature` branch replaces the tree with `head`, and whose `main`
/// moves on after the branch point (so the merge base differs from the base tip).
fn repo(base: Tree, head: Tree) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    write_tree(p, base);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "base"]);
    git(p, &["checkout", "-qb", "feature"]);
    git(p, &["rm", "-rq", "--ignore-unmatch", "."]);
    write_tree(p, head);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "head", "--allow-empty"]);
    git(p, &["checkout", "-q", "main"]);
    write_tree(p, &[("README.md", "main moved on\n")]);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "later on main"]);
    d
}

/// Runs the review in git mode and in directory mode; both must agree; returns the git-mode JSON and exit code.
fn review(base: Tree, head: Tree, extra: &[&str]) -> (Value, i32) {
    let r = repo(base, head);
    let mut args = vec!["check", "--format", "json", "--base", "main", "--head", "feature"];
    args.extend_from_slice(extra);
    let out = bin(r.path(), &args);
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", String::from_utf8_lossy(&out.stderr));
    let g: Value = serde_json::from_slice(&out.stdout).unwrap();

    let dirs = tempfile::tempdir().unwrap();
    let (b, h) = (dirs.path().join("base"), dirs.path().join("head"));
    std::fs::create_dir_all(&b).unwrap();
    std::fs::create_dir_all(&h).unwrap();
    write_tree(&b, base);
    write_tree(&h, head);
    let mut args = vec!["check", "--format", "json", "--base-dir", b.to_str().unwrap(), h.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = bin(dirs.path(), &args);
    assert_eq!(out.status.code().unwrap(), code, "dir mode exit code");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(g["findings"], d["findings"], "git and directory modes agree");
    assert_eq!(g["posture"], d["posture"]);
    (g, code)
}

fn findings(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let anchors: Vec<String> = f["anchors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|a| {
                            format!(
                                "{}:{}:{}-{}",
                                a["side"].as_str().unwrap(),
                                a["path"].as_str().unwrap(),
                                a["line"],
                                a["end_line"]
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} {} {} {}/{} @{}:{}:{} [{}]",
                f["status"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["object"]["kind"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap(),
                f["location"]["side"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["location"]["line"],
                anchors.join(" ")
            )
        })
        .collect()
}

#[test]
fn adding_a_destination_rule_introduces_tis0206_on_its_lines() {
    let (v, code) =
        review(&[("shop/deploy.yaml", DEPLOY)], &[("shop/deploy.yaml", DEPLOY), ("shop/dr.yaml", DR_MUTUAL)], &[]);
    assert_eq!(
        findings(&v),
        vec!["introduced TIS0206 warning DestinationRule/shop-mtls @head:shop/dr.yaml:10 [head:shop/dr.yaml:1-10]"]
    );
    assert_eq!(code, 0, "a warning does not fail by default");
    let fix = &v["findings"][0]["fix"];
    assert_eq!(fix["path"], "shop/dr.yaml");
    assert!(fix["replacement"].as_str().unwrap().contains("kind: PeerAuthentication"));
    assert_eq!(v["posture"]["changed"], serde_json::json!(["shop"]));
}

#[test]
fn editing_a_peer_authentication_mode_is_anchored_on_the_edited_line() {
    let pa_disable = NS_PA_STRICT.replace("STRICT", "DISABLE");
    let (v, code) = review(
        &[("shop/pa.yaml", NS_PA_STRICT), ("shop/dr.yaml", DR_MUTUAL)],
        &[("shop/pa.yaml", &pa_disable), ("shop/dr.yaml", DR_MUTUAL)],
        &[],
    );
    assert_eq!(
        findings(&v),
        vec![
            "introduced TIS0206 error DestinationRule/shop-mtls @head:shop/dr.yaml:10 [head:shop/pa.yaml:8-8]",
            "introduced TIS0502 error PeerAuthentication/default @head:shop/pa.yaml:8 [head:shop/pa.yaml:8-8]",
            "introduced MTLS003 warning PeerAuthentication/default @head:shop/pa.yaml:8 [head:shop/pa.yaml:8-8]",
        ]
    );
    // One change, the same line: one cause group, the errors first.
    let groups: Vec<&Value> = v["findings"].as_array().unwrap().iter().map(|f| &f["group"]).collect();
    assert!(groups[0].is_string() && groups.iter().all(|g| *g == groups[0]), "{groups:?}");
    assert_eq!(code, 1);
    let after = v["posture"]["after"].as_array().unwrap().iter().find(|p| p["scope"] == "shop").unwrap().clone();
    assert_eq!(after["server_mode"], "DISABLE");
}

#[test]
fn deleting_a_peer_authentication_is_anchored_on_the_base_side() {
    let (v, _) =
        review(&[("shop/pa.yaml", NS_PA_STRICT), ("shop/dr.yaml", DR_MUTUAL)], &[("shop/dr.yaml", DR_MUTUAL)], &[]);
    assert_eq!(
        findings(&v),
        vec![
            "introduced TIS0206 warning DestinationRule/shop-mtls @head:shop/dr.yaml:10 [base:shop/pa.yaml:1-8]",
            // Deleting the STRICT PA drops the namespace to the PERMISSIVE default: a downgrade on the left side.
            "introduced MTLS003 warning PeerAuthentication/default @base:shop/pa.yaml:8 [base:shop/pa.yaml:1-8]",
        ]
    );
}

#[test]
fn an_unrelated_edit_leaves_findings_existing() {
    let deploy2 = DEPLOY.replace("replicas: 1", "replicas: 3");
    let pa_disable = NS_PA_STRICT.replace("STRICT", "DISABLE");
    let (v, code) = review(
        &[("shop/pa.yaml", &pa_disable), ("shop/dr.yaml", DR_MUTUAL), ("shop/deploy.yaml", DEPLOY)],
        &[("shop/pa.yaml", &pa_disable), ("shop/dr.yaml", DR_MUTUAL), ("shop/deploy.yaml", &deploy2)],
        &[],
    );
    assert_eq!(
        findings(&v),
        vec![
            "existing TIS0206 error DestinationRule/shop-mtls @head:shop/dr.yaml:10 []",
            "existing TIS0502 error PeerAuthentication/default @head:shop/pa.yaml:8 []",
        ]
    );
    assert_eq!(code, 0, "existing errors do not fail a change");
}

#[test]
fn a_fixed_finding_is_resolved_on_the_base_side() {
    let (v, code) =
        review(&[("shop/dr.yaml", DR_MUTUAL)], &[("shop/dr.yaml", DR_MUTUAL), ("shop/pa.yaml", NS_PA_STRICT)], &[]);
    assert_eq!(findings(&v), vec!["resolved TIS0206 warning DestinationRule/shop-mtls @base:shop/dr.yaml:10 []"]);
    assert_eq!(code, 0);
}

#[test]
fn a_renamed_file_keeps_its_findings_existing() {
    let (v, _) = review(&[("shop/dr.yaml", DR_MUTUAL)], &[("apps/shop/destination-rule.yaml", DR_MUTUAL)], &[]);
    assert_eq!(
        findings(&v),
        vec!["existing TIS0206 warning DestinationRule/shop-mtls @head:apps/shop/destination-rule.yaml:10 []"]
    );
}

#[test]
fn a_severity_rise_counts_as_introduced() {
    let mesh_disable = NS_PA_STRICT.replace("STRICT", "DISABLE").replace("namespace: shop", "namespace: istio-system");
    let (v, code) = review(
        &[("shop/dr.yaml", DR_MUTUAL)],
        &[("shop/dr.yaml", DR_MUTUAL), ("mesh/pa.yaml", &mesh_disable)],
        &["--ignore", "TIS0503"],
    );
    assert_eq!(
        findings(&v),
        vec![
            "introduced TIS0206 error DestinationRule/shop-mtls @head:shop/dr.yaml:10 [head:mesh/pa.yaml:1-8]",
            "introduced MTLS003 warning PeerAuthentication/default @head:mesh/pa.yaml:8 [head:mesh/pa.yaml:1-8]",
        ]
    );
    assert_eq!(code, 1);
}

#[test]
fn a_file_the_change_breaks_is_an_introduced_error() {
    let broken = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: [oops\n";
    let (v, code) = review(&[("shop/pa.yaml", NS_PA_STRICT)], &[("shop/pa.yaml", broken)], &[]);
    assert_eq!(v["errors"][0]["introduced"], true);
    assert_eq!(v["errors"][0]["path"], "shop/pa.yaml");
    assert_eq!(code, 1);
}

#[test]
fn the_config_file_is_read_from_the_base_side() {
    let (v, code) = review(
        &[("shop/deploy.yaml", DEPLOY)],
        &[("shop/dr.yaml", DR_MUTUAL), (".mtls-review.yaml", "ignore: [TIS0206]\nfail_on: never\n")],
        &["--fail-on", "warning"],
    );
    assert_eq!(findings(&v).len(), 1, "the change cannot silence its own finding");
    assert_eq!(v["config_changed"], true);
    assert_eq!(code, 1);
}

#[test]
fn markdown_summary() {
    let pa_disable = NS_PA_STRICT.replace("STRICT", "DISABLE");
    let r = repo(
        &[("shop/pa.yaml", NS_PA_STRICT), ("shop/dr.yaml", DR_MUTUAL)],
        &[("shop/pa.yaml", &pa_disable), ("shop/dr.yaml", DR_MUTUAL)],
    );
    let out = bin(r.path(), &["check", "--format", "markdown", "--base", "main", "--head", "feature"]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn a_missing_base_commit_exits_2_with_advice() {
    let r = repo(&[("shop/dr.yaml", DR_MUTUAL)], &[("shop/dr.yaml", DR_MUTUAL)]);
    let out = bin(r.path(), &["check", "--base", "0123456789abcdef0123456789abcdef01234567"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // A full clone: the commit was never fetched; nothing to do with shallow clones (see tests/git_diagnostics.rs).
    assert!(err.contains("the base revision") && err.contains("not in this repository"), "{err}");
    assert!(
        err.contains("git fetch origin 0123456789abcdef0123456789abcdef01234567") && !err.contains("shallow"),
        "{err}"
    );
    let out = bin(r.path(), &["check", "--base", "origin/nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_shallow_clone_without_the_base_exits_2() {
    let r = repo(&[("shop/dr.yaml", DR_MUTUAL)], &[("shop/dr.yaml", DR_MUTUAL), ("shop/pa.yaml", NS_PA_STRICT)]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    git(clone.path(), &["clone", "-q", "--depth", "1", "--branch", "feature", &url, "c"]);
    let c = clone.path().join("c");
    let base = String::from_utf8(
        Command::new("git").current_dir(r.path()).args(["rev-parse", "main"]).output().unwrap().stdout,
    )
    .unwrap();
    let out = bin(&c, &["check", "--base", base.trim()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch-depth: 0"));
}

#[test]
fn paths_restrict_to_subtrees_in_git_mode() {
    let other = DR_MUTUAL.replace("shop", "other");
    let r = repo(&[("README.md", "x\n")], &[("shop/dr.yaml", DR_MUTUAL), ("other/dr.yaml", &other)]);
    let out = bin(r.path(), &["check", "--format", "json", "--base", "main", "--head", "feature", "shop"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings(&v),
        vec!["introduced TIS0206 warning DestinationRule/shop-mtls @head:shop/dr.yaml:10 [head:shop/dr.yaml:1-10]"]
    );
}

#[test]
fn posture_diff_shows_only_changed_paths_and_mtls003() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n    targetPort: 8080\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        ports:\n        - containerPort: 8080\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n";
    let pa_permissive = NS_PA_STRICT.replace("STRICT", "PERMISSIVE");
    let (v, _) = review(
        &[("shop/app.yaml", svc), ("shop/pa.yaml", NS_PA_STRICT)],
        &[("shop/app.yaml", svc), ("shop/pa.yaml", &pa_permissive)],
        &[],
    );
    let f = findings(&v);
    assert_eq!(
        f,
        vec!["introduced MTLS003 warning PeerAuthentication/default @head:shop/pa.yaml:8 [head:shop/pa.yaml:8-8]"]
    );
    let changes = v["connectivity"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["before"]["server_mode"], "STRICT");
    assert_eq!(changes[0]["after"]["server_mode"], "PERMISSIVE");
    let r = repo(
        &[("shop/app.yaml", svc), ("shop/pa.yaml", NS_PA_STRICT)],
        &[("shop/app.yaml", svc), ("shop/pa.yaml", &pa_permissive)],
    );
    let out = bin(r.path(), &["posture", "--base", "main", "--head", "feature"]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn an_object_the_api_server_rejects_is_an_introduced_error_only_when_the_change_brings_it() {
    // `portLevelMtls` on a namespace-wide PeerAuthentication: Istio's CRD rule "portLevelMtls requires selector".
    let rejected = format!("{NS_PA_STRICT}  portLevelMtls:\n    8080:\n      mode: DISABLE\n");
    let (v, code) = review(&[("shop/pa.yaml", NS_PA_STRICT)], &[("shop/pa.yaml", &rejected)], &[]);
    let e = &v["errors"][0];
    assert_eq!(e["kind"], "rejected", "{v}");
    assert_eq!(e["introduced"], true);
    assert_eq!(e["line"], 6);
    assert!(e["message"].as_str().unwrap().contains("portLevelMtls requires selector"), "{e}");
    assert_eq!(code, 1);
    // Already rejected on the base side: existing, not introduced.
    let (v, _) = review(&[("shop/pa.yaml", &rejected)], &[("shop/pa.yaml", &rejected)], &[]);
    assert_eq!(v["errors"][0]["introduced"], false, "{v}");
}
