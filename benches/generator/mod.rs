//! Synthetic GitOps repositories for the benchmark and the scale test: namespaces of Deployments, Services,
//! ConfigMaps, Secrets, ServiceAccounts, PeerAuthentications and DestinationRules spread over
//! `apps/<team>/<namespace>/` directories of multi-document files (one `kustomization.yaml` each), committed as a
//! base commit (`refs/heads/main`) and a head commit (`refs/heads/change`) that edits about 1% of the files.
//!
//! Deterministic: the same options give byte-identical trees and commit ids (a seeded LCG, fixed signatures).
//! Objects are written straight into a bare repository with git2: no work tree, no git CLI.
//!
//! Shared by `benches/review.rs` and `tests/generated_repo.rs` (`#[path]` module), so not every item is used by
//! both.
#![allow(dead_code)]

use git2::{IndexEntry, IndexTime, Oid, Repository, Signature, Time};
use std::collections::BTreeMap;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenOptions {
    /// Kubernetes documents wanted in the base tree (rounded up to whole namespaces of 20 documents, plus the 2 mesh
    /// documents of `platform/istio-system`).
    pub documents: usize,
    pub seed: u64,
    /// Files the head commit changes, per thousand files of the base tree (10 = 1%).
    pub changed_per_mille: usize,
    /// Lower bound on the files the head commit changes (small trees in tests still get every kind of edit).
    pub min_changed_files: usize,
    /// Store the objects in one pack, as a clone (a CI checkout) has them, instead of loose files.
    pub pack: bool,
    /// Exactly this many finding-introducing edits (each introduces one error finding with a fix), made first;
    /// the rest of the change is edits that change no finding. `None`: the edit cycle decides (about 3 in 14).
    pub introduced: Option<usize>,
}

impl GenOptions {
    pub fn new(documents: usize) -> Self {
        GenOptions {
            documents,
            seed: 0x6d74_6c73,
            changed_per_mille: 10,
            min_changed_files: 1,
            pack: true,
            introduced: None,
        }
    }
}

/// A finding the change is built to introduce or resolve: (rule code, kind, namespace, name).
pub type Expected = (&'static str, &'static str, String, String);

/// The generated repository.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Base and head commit ids (also `refs/heads/main` and `refs/heads/change`).
    pub base: String,
    pub head: String,
    /// Kubernetes documents in the base tree (kustomization files not counted).
    pub documents: usize,
    /// Files in the base tree, kustomization files included.
    pub files: usize,
    /// Bytes of all base files.
    pub bytes: usize,
    pub namespaces: usize,
    /// Paths added, deleted or modified by the head commit (a rename counts once per side).
    pub changed_files: usize,
    /// Findings the head introduces / resolves / that exist on both sides, by construction.
    pub introduced: Vec<Expected>,
    pub resolved: Vec<Expected>,
    pub existing: Vec<Expected>,
    /// (old path, new path) of the renamed file(s).
    pub renames: Vec<(String, String)>,
    pub deleted: Vec<String>,
}

/// Knuth's MMIX LCG: enough randomness for picking names and edits, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

const WORDS: &[&str] = &[
    "orders",
    "billing",
    "catalog",
    "checkout",
    "search",
    "ledger",
    "shipping",
    "pricing",
    "ratings",
    "profile",
    "inventory",
    "gateway",
    "notify",
    "reports",
    "wallet",
    "loyalty",
    "fraud",
    "identity",
    "media",
    "session",
    "tracking",
    "quotes",
    "refunds",
    "tickets",
    "reviews",
];

/// How a namespace is set up on the base side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Namespace PeerAuthentication STRICT, namespace-wide DestinationRule ISTIO_MUTUAL (clean).
    Strict,
    /// No namespace PeerAuthentication (inherits the mesh's STRICT), DestinationRule ISTIO_MUTUAL (clean).
    Inherit,
    /// Namespace PeerAuthentication DISABLE and DestinationRule DISABLE: a sidecar-less legacy namespace (clean).
    Legacy,
    /// No namespace PeerAuthentication, DestinationRule DISABLE under the STRICT mesh: an existing TIS0208.
    Broken,
}

struct Namespace {
    name: String,
    team: String,
    dir: String,
    variant: Variant,
    apps: Vec<String>,
}

fn namespace_yaml(ns: &Namespace) -> String {
    let mut s = format!(
        "# Namespace {ns} of {team}: owned by the {team} on-call rotation.\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n    team: {team}\n    app.kubernetes.io/managed-by: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n    owner: {team}@example.com\n",
        ns = ns.name,
        team = ns.team
    );
    let mode = match ns.variant {
        Variant::Strict => Some("STRICT"),
        Variant::Legacy => Some("DISABLE"),
        Variant::Inherit | Variant::Broken => None,
    };
    match mode {
        Some(mode) => s.push_str(&format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\n  labels:\n    team: {team}\n    app.kubernetes.io/managed-by: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"0\"\nspec:\n  mtls:\n    mode: {mode}\n",
            ns = ns.name,
            team = ns.team
        )),
        // Same document count: these namespaces carry a NetworkPolicy instead (a kind the review skips).
        None => s.push_str(&format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-same-namespace\n  namespace: {ns}\n  labels:\n    team: {team}\nspec:\n  podSelector: {{}}\n  policyTypes:\n    - Ingress\n  ingress:\n    - from:\n        - podSelector: {{}}\n",
            ns = ns.name,
            team = ns.team
        )),
    }
    s
}

fn mtls_yaml(ns: &Namespace) -> String {
    let mode = match ns.variant {
        Variant::Strict | Variant::Inherit => "ISTIO_MUTUAL",
        Variant::Legacy | Variant::Broken => "DISABLE",
    };
    format!(
        "# Client-side TLS for everything in {ns}.\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {ns}-mtls\n  namespace: {ns}\n  labels:\n    team: {team}\nspec:\n  host: \"*.{ns}.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: {mode}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    team: {team}\nspec:\n  host: {app}.{ns}.svc.cluster.local\n  trafficPolicy:\n    connectionPool:\n      http:\n        http2MaxRequests: 1000\n        maxRequestsPerConnection: 100\n    outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 30s\n      baseEjectionTime: 60s\n",
        ns = ns.name,
        team = ns.team,
        app = ns.apps[0],
    )
}

/// Deployment + Service + ConfigMap of one app. Every object names its namespace (as rendered manifests do), and
/// the directory's kustomization sets the same one: the benchmark reads the tree as plain files, which ignore
/// kustomizations, and without `metadata.namespace` every app object would land in `default`, where all but the
/// first of each name are dropped as defined twice (a mesh of about 4,000 objects instead of 12,000).
fn app_yaml(ns: &Namespace, app: &str, tag: &str, replicas: usize) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    app.kubernetes.io/part-of: {ns}\n    team: {team}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {app}\n        team: {team}\n      annotations:\n        prometheus.io/scrape: \"true\"\n        prometheus.io/port: \"9090\"\n    spec:\n      serviceAccountName: {app}\n      containers:\n        - name: {app}\n          image: registry.example.com/{team}/{app}:{tag}\n          ports:\n            - name: http\n              containerPort: 8080\n            - name: metrics\n              containerPort: 9090\n          resources:\n            requests:\n              cpu: 100m\n              memory: 256Mi\n            limits:\n              memory: 512Mi\n          readinessProbe:\n            httpGet:\n              path: /healthz/ready\n              port: http\n            periodSeconds: 10\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    team: {team}\nspec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {app}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n    - name: metrics\n      port: 9090\n      targetPort: metrics\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    team: {team}\ndata:\n  LOG_LEVEL: info\n  UPSTREAM_TIMEOUT: 5s\n  application.yaml: |\n    server:\n      port: 8080\n    management:\n      port: 9090\n    upstream: http://{up}.{ns}.svc.cluster.local\n",
        ns = ns.name,
        team = ns.team,
        up = ns.apps[0],
    )
}

fn secrets_yaml(ns: &Namespace, rng: &mut Lcg) -> String {
    let mut s = String::new();
    for (i, app) in ns.apps.iter().take(2).enumerate() {
        if i > 0 {
            s.push_str("---\n");
        }
        let token: String =
            (0..32).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)])).collect();
        s.push_str(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-credentials\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    team: {team}\n  annotations:\n    reloader.stakater.com/match: \"true\"\ntype: Opaque\ndata:\n  username: YXBwLXVzZXI=\n  password: {token}\n",
            ns = ns.name,
            team = ns.team
        ));
    }
    s
}

fn serviceaccounts_yaml(ns: &Namespace) -> String {
    let mut s = String::new();
    for (i, app) in ns.apps.iter().take(2).enumerate() {
        if i > 0 {
            s.push_str("---\n");
        }
        s.push_str(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    team: {team}\n  annotations:\n    iam.example.com/role: {team}-{app}\nautomountServiceAccountToken: false\n",
            ns = ns.name,
            team = ns.team
        ));
    }
    s
}

fn kustomization_yaml(ns: &str, resources: &[String]) -> String {
    let mut s = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\ncommonLabels:\n  app.kubernetes.io/managed-by: argocd\nresources:\n"
    );
    for r in resources {
        s.push_str(&format!("  - {r}\n"));
    }
    s
}

const MESH_YAML: &str = "# Mesh-wide policy: every server requires mTLS unless its namespace says otherwise.\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    rootNamespace: istio-system\n    enableAutoMtls: true\n    defaultConfig:\n      holdApplicationUntilProxyStarts: true\n";

/// The edits the head commit is made of, in the order they are used (the finding-changing ones first, so even
/// a small change holds one of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// STRICT namespace PA -> DISABLE while the namespace DR sends ISTIO_MUTUAL: introduces TIS0502.
    PaDisable,
    /// Namespace DR ISTIO_MUTUAL -> DISABLE under a STRICT namespace PA: introduces TIS0207.
    DrDisable,
    /// Legacy namespace DR DISABLE -> ISTIO_MUTUAL under its DISABLE PA: introduces TIS0502.
    DrMutual,
    /// Broken namespace DR DISABLE -> ISTIO_MUTUAL: resolves its TIS0208.
    DrFix,
    /// Image tag bump (unrelated to mTLS).
    Image,
    /// File renamed with a small edit (kustomization updated).
    Rename,
    /// Replica count change.
    Replicas,
    /// ServiceAccounts file deleted (kustomization updated).
    Delete,
    /// ConfigMap value change.
    Config,
    /// New app file added (kustomization updated).
    Add,
}

const EDIT_CYCLE: &[Edit] = &[
    Edit::PaDisable,
    Edit::DrDisable,
    Edit::DrMutual,
    Edit::Image,
    Edit::Rename,
    Edit::DrFix,
    Edit::Replicas,
    Edit::Delete,
    Edit::Config,
    Edit::Image,
    Edit::Add,
    Edit::Replicas,
    Edit::Image,
    Edit::Config,
];

fn replace_once(files: &mut BTreeMap<String, String>, path: &str, from: &str, to: &str) {
    let text = files.get_mut(path).unwrap_or_else(|| panic!("generator: no file {path}"));
    assert!(text.contains(from), "generator: `{from}` not in {path}");
    *text = text.replacen(from, to, 1);
}

fn resources(files: &BTreeMap<String, String>, dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    files
        .keys()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|name| !name.contains('/') && *name != "kustomization.yaml")
        .map(str::to_string)
        .collect()
}

/// Writes the repository into `dir` (created as a bare repository) and returns what was generated.
pub fn generate(dir: &Path, opts: &GenOptions) -> Result<Generated, git2::Error> {
    let mut rng = Lcg(opts.seed);
    let n_ns = opts.documents.saturating_sub(2).div_ceil(20).max(4);
    let mut namespaces = Vec::with_capacity(n_ns);
    for i in 0..n_ns {
        let team = format!("team-{:02}", i / 10);
        let name = format!("{}-{i:04}", WORDS[rng.below(WORDS.len())]);
        // A few namespaces of each rarer variant exist at every size; the rest are drawn: 80% STRICT, 12%
        // inheriting, 6% legacy, 2% broken.
        let variant = match i {
            1 => Variant::Legacy,
            2 => Variant::Inherit,
            3 => Variant::Broken,
            _ => match rng.below(100) {
                0..=79 => Variant::Strict,
                80..=91 => Variant::Inherit,
                92..=97 => Variant::Legacy,
                _ => Variant::Broken,
            },
        };
        let mut apps: Vec<String> = Vec::new();
        while apps.len() < 4 {
            let a = format!("{}-{}", WORDS[rng.below(WORDS.len())], ["api", "worker", "web", "sync"][apps.len()]);
            if !apps.contains(&a) {
                apps.push(a);
            }
        }
        let dir = format!("apps/{team}/{name}");
        namespaces.push(Namespace { name, team, dir, variant, apps });
    }

    // Base tree.
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    files.insert("platform/istio-system/mesh.yaml".into(), MESH_YAML.into());
    files.insert(
        "platform/istio-system/kustomization.yaml".into(),
        kustomization_yaml("istio-system", &["mesh.yaml".to_string()]),
    );
    let mut existing = Vec::new();
    for ns in &namespaces {
        files.insert(format!("{}/namespace.yaml", ns.dir), namespace_yaml(ns));
        files.insert(format!("{}/mtls.yaml", ns.dir), mtls_yaml(ns));
        for (k, app) in ns.apps.iter().enumerate() {
            let tag = format!("1.{}.{}", rng.below(30), rng.below(10));
            files.insert(format!("{}/{app}.yaml", ns.dir), app_yaml(ns, app, &tag, 2 + k % 3));
        }
        files.insert(format!("{}/secrets.yaml", ns.dir), secrets_yaml(ns, &mut rng));
        files.insert(format!("{}/serviceaccounts.yaml", ns.dir), serviceaccounts_yaml(ns));
        let res = resources(&files, &ns.dir);
        files.insert(format!("{}/kustomization.yaml", ns.dir), kustomization_yaml(&ns.name, &res));
        if ns.variant == Variant::Broken {
            existing.push(("TIS0208", "DestinationRule", ns.name.clone(), format!("{}-mtls", ns.name)));
        }
    }
    let documents = 2 + namespaces.len() * 20;
    let base_files = files.clone();

    // Head: edits on distinct namespaces until ~changed_per_mille of the files changed.
    let target = (base_files.len() * opts.changed_per_mille / 1000).max(opts.min_changed_files);
    let mut order: Vec<usize> = (0..namespaces.len()).collect();
    rng.shuffle(&mut order);
    let mut used = vec![false; namespaces.len()];
    let mut introduced = Vec::new();
    let mut resolved = Vec::new();
    let mut renames = Vec::new();
    let mut deleted = Vec::new();
    let changed = |files: &BTreeMap<String, String>| -> usize {
        let modified_or_added = files.iter().filter(|(p, t)| base_files.get(*p) != Some(*t)).count();
        modified_or_added + base_files.keys().filter(|p| !files.contains_key(*p)).count()
    };
    let mut step = 0;
    let mut misses = 0;
    let introduces = |e: Edit| matches!(e, Edit::PaDisable | Edit::DrDisable | Edit::DrMutual);
    while (changed(&files) < target || opts.introduced.is_some_and(|n| introduced.len() < n))
        && misses < EDIT_CYCLE.len()
    {
        let edit = EDIT_CYCLE[step % EDIT_CYCLE.len()];
        step += 1;
        // With a fixed count: finding edits while more are wanted, then only the others.
        if let Some(n) = opts.introduced
            && (introduces(edit) != (introduced.len() < n) || edit == Edit::DrFix)
        {
            misses += 1;
            continue;
        }
        let wants = match edit {
            Edit::PaDisable | Edit::DrDisable => Some(Variant::Strict),
            Edit::DrMutual => Some(Variant::Legacy),
            Edit::DrFix => Some(Variant::Broken),
            _ => None,
        };
        let Some(&i) = order.iter().find(|&&i| !used[i] && wants.is_none_or(|v| namespaces[i].variant == v)) else {
            misses += 1;
            continue;
        };
        misses = 0;
        used[i] = true;
        let ns = &namespaces[i];
        let (nsp, mtls) = (format!("{}/namespace.yaml", ns.dir), format!("{}/mtls.yaml", ns.dir));
        let app = &ns.apps[1 + step % 3];
        let app_path = format!("{}/{app}.yaml", ns.dir);
        match edit {
            Edit::PaDisable => {
                replace_once(&mut files, &nsp, "mode: STRICT", "mode: DISABLE");
                introduced.push(("TIS0502", "PeerAuthentication", ns.name.clone(), "default".to_string()));
            }
            Edit::DrDisable => {
                replace_once(&mut files, &mtls, "mode: ISTIO_MUTUAL", "mode: DISABLE");
                introduced.push(("TIS0207", "DestinationRule", ns.name.clone(), format!("{}-mtls", ns.name)));
            }
            Edit::DrMutual => {
                replace_once(&mut files, &mtls, "mode: DISABLE", "mode: ISTIO_MUTUAL");
                introduced.push(("TIS0502", "PeerAuthentication", ns.name.clone(), "default".to_string()));
            }
            Edit::DrFix => {
                replace_once(&mut files, &mtls, "mode: DISABLE", "mode: ISTIO_MUTUAL");
                existing.retain(|e| e.2 != ns.name);
                resolved.push(("TIS0208", "DestinationRule", ns.name.clone(), format!("{}-mtls", ns.name)));
            }
            Edit::Image => {
                let text = files[&app_path].clone();
                let start = text.find(&format!("/{app}:")).map(|p| p + app.len() + 2).unwrap_or(0);
                let end = start + text[start..].find('\n').unwrap_or(0);
                let new = format!("{}{}-rc{}{}", &text[..start], &text[start..end], rng.below(9) + 1, &text[end..]);
                files.insert(app_path, new);
            }
            Edit::Replicas => {
                let text = files[&app_path].clone();
                let new = text.replacen("replicas: ", "replicas: 1", 1);
                files.insert(app_path, new);
            }
            Edit::Config => replace_once(&mut files, &app_path, "LOG_LEVEL: info", "LOG_LEVEL: debug"),
            Edit::Rename => {
                let to = format!("{}/{app}-deployment.yaml", ns.dir);
                // Moved and lightly edited, as such PRs go: git still pairs the paths by similarity.
                let text = files.remove(&app_path).unwrap_or_default();
                files.insert(to.clone(), text.replacen("UPSTREAM_TIMEOUT: 5s", "UPSTREAM_TIMEOUT: 10s", 1));
                renames.push((app_path, to));
            }
            Edit::Delete => {
                let p = format!("{}/serviceaccounts.yaml", ns.dir);
                files.remove(&p);
                deleted.push(p);
            }
            Edit::Add => {
                let new_app = format!("{}-batch", ns.apps[0]);
                files.insert(format!("{}/{new_app}.yaml", ns.dir), app_yaml(ns, &new_app, "0.1.0", 1));
            }
        }
        if matches!(edit, Edit::Rename | Edit::Delete | Edit::Add) {
            let res = resources(&files, &ns.dir);
            files.insert(format!("{}/kustomization.yaml", ns.dir), kustomization_yaml(&ns.name, &res));
        }
    }
    let changed_files = changed(&files);

    let repo = Repository::init_bare(dir)?;
    let sig = Signature::new("bench", "bench@example.invalid", &Time::new(1_700_000_000, 0))?;
    let base_tree = write_tree(&repo, &base_files)?;
    let base_commit = repo.commit(
        Some("refs/heads/main"),
        &sig,
        &sig,
        "base: synthetic GitOps tree",
        &repo.find_tree(base_tree)?,
        &[],
    )?;
    let head_tree = write_tree(&repo, &files)?;
    let parent = repo.find_commit(base_commit)?;
    let head_commit = repo.commit(
        Some("refs/heads/change"),
        &sig,
        &sig,
        "change: about 1% of the files",
        &repo.find_tree(head_tree)?,
        &[&parent],
    )?;
    repo.set_head("refs/heads/change")?;
    if opts.pack {
        let mut pb = repo.packbuilder()?;
        pb.insert_commit(base_commit)?;
        pb.insert_commit(head_commit)?;
        let objects = repo.path().join("objects");
        pb.write(&objects.join("pack"), 0o644)?;
        // Drop the loose copies (`objects/<2 hex digits>/`).
        for entry in std::fs::read_dir(&objects).map_err(|e| git2::Error::from_str(&e.to_string()))?.flatten() {
            let name = entry.file_name();
            if name.len() == 2 && name.to_string_lossy().bytes().all(|b| b.is_ascii_hexdigit()) {
                std::fs::remove_dir_all(entry.path()).map_err(|e| git2::Error::from_str(&e.to_string()))?;
            }
        }
    }
    introduced.sort();
    resolved.sort();
    existing.sort();
    Ok(Generated {
        base: base_commit.to_string(),
        head: head_commit.to_string(),
        documents,
        files: base_files.len(),
        bytes: base_files.values().map(String::len).sum(),
        namespaces: namespaces.len(),
        changed_files,
        introduced,
        resolved,
        existing,
        renames,
        deleted,
    })
}

/// Writes the blobs of `files`, then their trees through an in-memory index.
fn write_tree(repo: &Repository, files: &BTreeMap<String, String>) -> Result<Oid, git2::Error> {
    let mut index = git2::Index::new()?;
    for (path, text) in files {
        let id = repo.blob(text.as_bytes())?;
        let entry = IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(text.len()).unwrap_or(u32::MAX),
            id,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry)?;
    }
    index.write_tree_to(repo)
}
