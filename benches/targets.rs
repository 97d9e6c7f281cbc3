//! Benchmark of rendering: 50 kustomize overlays (`apps/app-NN/overlays/prod`, each over its own base) holding
//! 20,000 documents in all, read as one mesh `prod` of 50 targets, each rendered by the real kustomize.
//!
//! Run: `cargo bench --bench targets` (needs `kustomize` or `kubectl`). It times, in process:
//! - cold: `check` of the tree (every target rendered);
//! - a review of the tree against a copy with one overlay's patch changed (`--base-dir`): unchanged targets render
//!   once for both sides (cache by input content), so it renders 51 targets, not 100;
//! - a review of the tree against an identical copy: every target renders once, the mesh is analyzed once.
//!
//! Run as a test (`cargo test --benches`) it does one smoke run with 2 overlays. It prints figures and never fails
//! on them; it asserts the findings the generator planted.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use mtls_review::app::{self, CheckRequest, Format};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes `apps` overlays over `docs_per_app` documents each; overlay `app-00` of `disable` sets its
/// PeerAuthentication to DISABLE under an ISTIO_MUTUAL DestinationRule (one TIS0206 per such app).
fn generate(dir: &Path, apps: usize, docs_per_app: usize, disable: &[usize]) {
    for a in 0..apps {
        let ns = format!("app-{a:02}");
        let base = dir.join(format!("apps/{ns}/base"));
        let prod = dir.join(format!("apps/{ns}/overlays/prod"));
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&prod).unwrap();
        let mut y = String::new();
        writeln!(y, "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n---").unwrap();
        writeln!(y, "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: all\nspec:\n  host: \"*.{ns}.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n---").unwrap();
        let workloads = (docs_per_app.saturating_sub(2)) / 2;
        for w in 0..workloads {
            writeln!(y, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w{w}\nspec:\n  selector:\n    matchLabels: {{app: w{w}}}\n  template:\n    metadata:\n      labels: {{app: w{w}}}\n    spec:\n      containers:\n      - name: c\n        image: example/w:1\n        ports:\n        - containerPort: 8080\n---").unwrap();
            writeln!(y, "apiVersion: v1\nkind: Service\nmetadata:\n  name: w{w}\nspec:\n  selector: {{app: w{w}}}\n  ports:\n  - port: 80\n    targetPort: 8080\n---").unwrap();
        }
        std::fs::write(base.join("resources.yaml"), y).unwrap();
        std::fs::write(base.join("kustomization.yaml"), "resources:\n- resources.yaml\n").unwrap();
        let mode = if disable.contains(&a) { "DISABLE" } else { "STRICT" };
        std::fs::write(
            prod.join("pa.yaml"),
            format!("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: {mode}\n"),
        )
        .unwrap();
        std::fs::write(
            prod.join("kustomization.yaml"),
            format!("namespace: {ns}\nresources:\n- ../../base\npatches:\n- path: pa.yaml\n"),
        )
        .unwrap();
        // A Namespace so workloads have sidecars.
        std::fs::write(
            base.join("namespace.yaml"),
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n"
            ),
        )
        .unwrap();
        let k = base.join("kustomization.yaml");
        std::fs::write(k, "resources:\n- namespace.yaml\n- resources.yaml\n").unwrap();
    }
}

fn run(req: &CheckRequest) -> (Duration, usize) {
    let t = Instant::now();
    let out = app::check(req).unwrap();
    let introduced = out
        .review
        .findings
        .iter()
        .filter(|f| f.code == "TIS0206" && f.status != mtls_review::finding::Status::Resolved)
        .count();
    (t.elapsed(), introduced)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (apps, docs) = if bench { (50, 400) } else { (2, 10) };
    let root = tempfile_dir();
    let base = root.join("base");
    let head = root.join("head");
    generate(&base, apps, docs, &[]);
    generate(&head, apps, docs, &[0]);
    let snapshot = CheckRequest { paths: vec![head.clone()], format: Some(Format::Json), ..CheckRequest::default() };
    let review = CheckRequest { base_dir: Some(base.clone()), ..snapshot.clone() };
    let same = CheckRequest { base_dir: Some(head.clone()), ..snapshot.clone() };
    let runs = if bench { 3 } else { 1 };
    let mut rows = Vec::new();
    for (name, req, expect) in [
        ("cold check (every target rendered)", &snapshot, 1),
        ("review, one overlay changed", &review, 1),
        ("review against an identical copy", &same, 1),
    ] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let (d, found) = run(req);
            assert_eq!(found, expect, "{name}: the planted TIS0206");
            times.push(d);
        }
        times.sort();
        rows.push((name, times[times.len() / 2]));
    }
    println!("{apps} overlays, {} documents", apps * docs);
    for (name, d) in rows {
        println!("  {name}: median {:.2} s", d.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn tempfile_dir() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("mtls-bench-targets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}
