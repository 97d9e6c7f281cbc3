#![allow(clippy::unwrap_used)]
//! Meshes and targets end to end on the bundled layouts (kustomize overlays, Flux clusters, Argo CD): `targets`,
//! `check`, and reviews in git and directory mode with anchors and verified fixes on an overlay's patch line.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn bin(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-review")).args(args).current_dir(dir).output().expect("run");
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{args:?}: exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    (serde_json::from_slice(&out.stdout).expect("json"), code)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").filter_map(Result::ok) {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(|_| ()).expect("copy") }
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

fn mesh_names(v: &Value) -> Vec<String> {
    v["meshes"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn targets_lists_each_layout() {
    let (v, _) = bin(root(), &["targets", "--format", "json", "fixtures/kustomize-envs"]);
    assert_eq!(mesh_names(&v), vec!["dev", "prod"]);
    let dev = &v["meshes"][0]["targets"][0];
    assert_eq!(dev["name"], "overlays/dev");
    assert!(dev["renderer"].as_str().unwrap().contains("kustomize"), "{dev}");
    assert!(dev["objects"].as_u64().unwrap() > 0 && dev["error"].is_null(), "{dev}");
    assert!(v["patch_files"].as_array().unwrap().iter().any(|p| p == "overlays/dev/peer-authentication.yaml"));
    let (v, _) = bin(root(), &["targets", "--format", "json", "fixtures/flux-clusters"]);
    assert_eq!(mesh_names(&v), vec!["prod", "staging"]);
    let (v, _) = bin(root(), &["targets", "--format", "json", "fixtures/argocd"]);
    assert_eq!(mesh_names(&v), vec!["prod", "staging"]);
}

#[test]
fn check_judges_each_environment_on_its_own() {
    let (v, code) = bin(root(), &["check", "--format", "json", "fixtures/kustomize-envs"]);
    assert_eq!(code, 1);
    let tis: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "TIS0206").collect();
    assert_eq!(tis.len(), 1, "only dev disables mTLS");
    assert_eq!(tis[0]["meshes"], serde_json::json!(["dev"]));
    assert_eq!(tis[0]["targets"], serde_json::json!(["overlays/dev"]));
    // The fix edits the overlay's patch, where the DISABLE is written, not the shared base.
    assert_eq!(tis[0]["fix"]["path"], "overlays/dev/peer-authentication.yaml");
    assert_eq!(tis[0]["fix"]["start_line"], 7);
    // No fix edits a file that the other environment also renders.
    for f in v["findings"].as_array().unwrap() {
        if let Some(p) = f["fix"]["path"].as_str() {
            assert!(!p.starts_with("base/"), "a fix in the shared base changes prod unseen: {f}");
        }
    }
    // The text report names the mesh.
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-review"))
        .args(["check", "fixtures/kustomize-envs"])
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[mesh dev]"), "{text}");
}

#[test]
fn a_patch_that_disables_mtls_in_one_overlay_is_anchored_on_the_patch_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_dir(&root().join("fixtures/kustomize-envs"), d);
    let patch = d.join("overlays/dev/peer-authentication.yaml");
    let head_text = std::fs::read_to_string(&patch).unwrap();
    std::fs::write(&patch, head_text.replace("mode: DISABLE", "mode: PERMISSIVE")).unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "base"]);
    let base_dir = tempfile::tempdir().unwrap();
    copy_dir(d, base_dir.path());
    std::fs::remove_dir_all(base_dir.path().join(".git")).unwrap();
    git(d, &["checkout", "-qb", "feature"]);
    std::fs::write(&patch, &head_text).unwrap();
    git(d, &["commit", "-qam", "dev: disable mTLS"]);
    let (g, code) = bin(d, &["check", "--format", "json", "--base", "main", "--head", "feature"]);
    assert_eq!(code, 1, "an introduced error fails the check");
    let introduced: Vec<&Value> =
        g["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "introduced").collect();
    assert!(!introduced.is_empty());
    for f in &introduced {
        assert_eq!(f["meshes"], serde_json::json!(["dev"]), "prod is untouched: {f}");
    }
    let tis = introduced.iter().find(|f| f["code"] == "TIS0206").expect("TIS0206 introduced");
    assert_eq!(
        tis["anchors"],
        serde_json::json!([{"side": "head", "path": "overlays/dev/peer-authentication.yaml", "line": 7, "end_line": 7}])
    );
    assert_eq!(tis["fix"]["path"], "overlays/dev/peer-authentication.yaml");
    assert_eq!(tis["fix"]["replacement"], "    mode: PERMISSIVE");
    // Directory mode agrees.
    let (dm, _) =
        bin(d, &["check", "--format", "json", "--base-dir", base_dir.path().to_str().unwrap(), d.to_str().unwrap()]);
    let key = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {} {} {}", f["status"], f["code"], f["meshes"], f["anchors"]))
            .collect()
    };
    assert_eq!(key(&g), key(&dm));
}
