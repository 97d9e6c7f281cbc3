//! Work shared between the base and head sides of a review: a file with the same path and content on both sides
//! is parsed once (both meshes hold the same objects, each validated once), and a mesh whose inputs are identical
//! on both sides is analyzed once. Sharing must not change a review: every review here is compared, byte for byte
//! as JSON, with the same review through an assembly that shares nothing (every file parsed again per side, mesh
//! keys blanked so no mesh counts as unchanged).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use mtls_review::app::{self, Format};
use mtls_review::finding::{Side, Status};
use mtls_review::manifest::{LoadedFile, Object, load_file, yaml::Limits};
use mtls_review::review::build::{Assemble, review_with};
use mtls_review::review::{ReviewInput, TreeFile};
use mtls_review::rules::parse_project_config;
use mtls_review::settings::{AnalysisOptions, ProjectConfig};
use mtls_review::target::Rerender;
use mtls_review::target::assemble::MeshFiles;
use mtls_review::target::glue::{Targets, file_map};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn tree_file(path: &str, bytes: &[u8]) -> TreeFile {
    let id = git2::Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap().to_string();
    TreeFile { path: path.to_string(), id, bytes: Arc::from(bytes) }
}

/// Every file under `dir` (relative `/` paths, sorted).
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn files(tree: &BTreeMap<String, Vec<u8>>) -> Vec<TreeFile> {
    tree.iter().filter(|(p, _)| mtls_review::manifest::is_manifest_path(p)).map(|(p, b)| tree_file(p, b)).collect()
}

fn input(base: &BTreeMap<String, Vec<u8>>, head: &BTreeMap<String, Vec<u8>>) -> ReviewInput {
    let (base, head) = (files(base), files(head));
    ReviewInput {
        renames: mtls_review::review::build::detect_renames(&base, &head),
        base,
        head,
        base_label: "base".into(),
        head_label: "head".into(),
        ..ReviewInput::default()
    }
}

fn targets(input: &ReviewInput, config: &ProjectConfig) -> Targets {
    Targets::new(
        config.clone(),
        app::render_service(),
        file_map(&input.base, &input.base_support),
        file_map(&input.head, &input.head_support),
    )
}

/// The same meshes with nothing shared: each file parsed again from its text (fresh objects, fresh validation),
/// and no content key, so every mesh is analyzed on both sides.
struct Unshared<'a>(&'a Targets);

fn reparsed(f: &LoadedFile) -> LoadedFile {
    match &f.source {
        Some(s) => {
            let mut bytes = Vec::new();
            if s.bom {
                bytes.extend_from_slice(b"\xEF\xBB\xBF");
            }
            bytes.extend_from_slice(s.text().as_bytes());
            load_file(&s.path, &bytes, &Limits::configured())
        }
        None => f.clone(),
    }
}

impl Assemble for Unshared<'_> {
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let fresh: Vec<LoadedFile> = parsed.iter().map(reparsed).collect();
        let mut meshes = self.0.meshes(side, &fresh);
        for m in &mut meshes {
            m.key.clear();
        }
        meshes
    }
    fn rerender(&self) -> Option<Arc<dyn Rerender>> {
        self.0.rerender()
    }
}

/// The objects of every parsed file, by side and path.
type Seen = BTreeMap<(Side, String), Vec<Arc<Object>>>;

/// Records, per side, the objects of every parsed file by path.
struct Spy<'a> {
    inner: &'a Targets,
    seen: Mutex<Seen>,
}

impl Assemble for Spy<'_> {
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let mut seen = self.seen.lock().unwrap();
        for f in parsed {
            if let Some(s) = &f.source {
                seen.insert((side, s.path.clone()), f.objects.clone());
            }
        }
        drop(seen);
        self.inner.meshes(side, parsed)
    }
    fn rerender(&self) -> Option<Arc<dyn Rerender>> {
        self.inner.rerender()
    }
}

fn json(input: &ReviewInput, opts: &AnalysisOptions, assemble: &dyn Assemble) -> String {
    app::render(&review_with(input, opts, assemble), Format::Json, None)
}

fn opts(config: &ProjectConfig) -> AnalysisOptions {
    AnalysisOptions { project: config.clone(), ..AnalysisOptions::default() }
}

fn plain_config(meshes: &[(&str, &str)]) -> ProjectConfig {
    let mut text = String::from("meshes:\n");
    for (name, path) in meshes {
        text.push_str(&format!("  - name: {name}\n    targets:\n      - path: {path}\n        render: plain\n"));
    }
    parse_project_config("config", &text).unwrap()
}

/// Replaces the first `from` in a file with `to` (the edit must apply).
fn edit(tree: &mut BTreeMap<String, Vec<u8>>, path: &str, from: &str, to: &str) {
    let text = String::from_utf8(tree[path].clone()).unwrap();
    assert!(text.contains(from), "{path} holds {from:?}");
    tree.insert(path.to_string(), text.replacen(from, to, 1).into_bytes());
}

const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: NS\nspec:\n  mtls:\n    mode: STRICT\n";
const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: NS-mtls\n  namespace: NS\nspec:\n  host: \"*.NS.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: NS\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: web:1\n        ports:\n        - containerPort: 8080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: NS\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n";

/// Two clusters' directories, each a mesh of its own, with namespaces of PeerAuthentications, DestinationRules and
/// workloads.
fn two_mesh_tree() -> BTreeMap<String, Vec<u8>> {
    let mut t = BTreeMap::new();
    for cluster in ["east", "west"] {
        for ns in ["shop", "pay", "ops"] {
            for (name, text) in [("pa.yaml", PA), ("dr.yaml", DR), ("app.yaml", APP)] {
                t.insert(format!("{cluster}/{ns}/{name}"), text.replace("NS", ns).into_bytes());
            }
        }
    }
    t
}

fn two_meshes() -> ProjectConfig {
    plain_config(&[("east", "east"), ("west", "west")])
}

#[test]
fn a_multi_mesh_review_is_the_same_with_and_without_sharing() {
    let base = two_mesh_tree();
    let mut head = base.clone();
    // east changes (an introduced TIS0207-style mismatch and a resolved one), west does not.
    edit(&mut head, "east/shop/pa.yaml", "STRICT", "DISABLE");
    edit(&mut head, "east/pay/dr.yaml", "ISTIO_MUTUAL", "DISABLE");
    head.remove("east/ops/app.yaml");
    let config = two_meshes();
    let input = input(&base, &head);
    let t = targets(&input, &config);
    let shared = json(&input, &opts(&config), &t);
    let unshared = json(&input, &opts(&config), &Unshared(&t));
    assert_eq!(shared, unshared);
    // The review is not empty: the change introduces findings in east, and west (unchanged) contributes nothing
    // introduced or resolved.
    let review = review_with(&input, &opts(&config), &t);
    assert!(review.findings.iter().any(|f| f.status == Status::Introduced));
    for f in review.findings.iter().filter(|f| f.meshes.iter().any(|m| m == "west")) {
        assert!(
            f.status == Status::Existing || f.meshes.iter().any(|m| m == "east"),
            "unchanged mesh west gives only existing findings: {f:?}"
        );
    }
}

#[test]
fn an_unchanged_tree_reviews_the_same_with_and_without_sharing() {
    let base = two_mesh_tree();
    let config = two_meshes();
    let input = input(&base, &base);
    let t = targets(&input, &config);
    assert_eq!(json(&input, &opts(&config), &t), json(&input, &opts(&config), &Unshared(&t)));
    let review = review_with(&input, &opts(&config), &t);
    assert!(review.findings.iter().all(|f| f.status == Status::Existing));
}

/// The fixture trees, read as plain files (one mesh), each reviewed against an edit of itself.
#[test]
fn fixture_tree_reviews_are_the_same_with_and_without_sharing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for dir in ["fixtures/demo", "fixtures/kustomize-envs", "fixtures/argocd", "fixtures/flux-clusters"] {
        let base = read_dir(&root.join(dir));
        let mut head = base.clone();
        let mut edited = 0;
        // Weaken every STRICT / ISTIO_MUTUAL of the first two files that hold one.
        let paths: Vec<String> = head.keys().cloned().collect();
        for p in paths {
            let text = String::from_utf8_lossy(&head[&p]).into_owned();
            if edited < 2 && (text.contains("mode: STRICT") || text.contains("mode: ISTIO_MUTUAL")) {
                let new =
                    text.replace("mode: STRICT", "mode: PERMISSIVE").replace("mode: ISTIO_MUTUAL", "mode: DISABLE");
                head.insert(p, new.into_bytes());
                edited += 1;
            }
        }
        assert!(edited > 0, "{dir}: an mTLS mode to edit");
        let config = plain_config(&[("default", ".")]);
        let input = input(&base, &head);
        let t = targets(&input, &config);
        let shared = json(&input, &opts(&config), &t);
        assert_eq!(shared, json(&input, &opts(&config), &Unshared(&t)), "{dir}");
        compared += 1;
    }
    assert_eq!(compared, 4);
}

#[test]
fn an_unchanged_file_is_parsed_once_and_validated_once_for_both_sides() {
    let base = two_mesh_tree();
    let mut head = base.clone();
    edit(&mut head, "east/shop/pa.yaml", "STRICT", "DISABLE");
    let config = two_meshes();
    let input = input(&base, &head);
    let t = targets(&input, &config);
    let spy = Spy { inner: &t, seen: Mutex::new(BTreeMap::new()) };
    review_with(&input, &opts(&config), &spy);
    let seen = spy.seen.into_inner().unwrap();
    let objects = |side, path: &str| seen.get(&(side, path.to_string())).cloned().unwrap_or_default();
    // Unchanged: the very same objects on both sides (one parse), validated (the verdict is kept on the object,
    // so the second side reads it instead of validating again).
    for path in ["east/pay/pa.yaml", "west/shop/pa.yaml", "west/shop/dr.yaml", "east/ops/app.yaml"] {
        let (b, h) = (objects(Side::Base, path), objects(Side::Head, path));
        assert!(!b.is_empty(), "{path} parsed");
        assert_eq!(b.len(), h.len());
        assert!(b.iter().zip(&h).all(|(x, y)| Arc::ptr_eq(x, y)), "{path}: one parse shared by both sides");
    }
    for path in ["east/pay/pa.yaml", "west/shop/dr.yaml"] {
        let o = &objects(Side::Head, path)[0];
        assert!(mtls_review::validation::is_validated(o), "{path}: validated, and the verdict kept");
    }
    // Changed: two parses, two objects.
    let (b, h) = (objects(Side::Base, "east/shop/pa.yaml"), objects(Side::Head, "east/shop/pa.yaml"));
    assert!(!Arc::ptr_eq(&b[0], &h[0]));
    assert!(mtls_review::validation::is_validated(&b[0]) && mtls_review::validation::is_validated(&h[0]));
}
