//! Differential tests of fix verification under a posture scope when every posture finding is wanted (issue 10):
//! a candidate that edits only PeerAuthentications and DestinationRules gets its posture findings from the
//! snapshot's rows outside the scope of its edit plus the scope's rows recomputed, and its downgrades (MTLS003)
//! likewise. Both must equal a rebuild of the edited tree, including for a service whose
//! traffic a VirtualService routes to another namespace's host.

use super::{Verifier, error_set};
use crate::context::MeshContext;
use crate::finding::Side;
use crate::manifest::{LoadedFile, load_file, yaml::Limits};
use crate::mesh::Mesh;
use crate::posture::fixtures::{deployment, injected, service, workload_pa};
use crate::reanalysis::scoped::{changed_objects, placed, posture_scope};
use crate::reanalysis::{finding_keys, resolve_settings};
use crate::rules::mtls003::{Downgrade, Unit, downgrades, downgrades_within};
use crate::rules::testing::{dr, pa};
use crate::settings::AnalysisOptions;
use std::collections::BTreeSet;
use std::sync::Arc;

const NAMESPACES: [&str; 3] = ["a", "b", "c"];

/// The policies of a namespace: a namespace-wide PeerAuthentication, a workload one with a DISABLE port, a rule for
/// every host of the namespace (`None`: no rule).
fn policy(ns: &str, pa_mode: &str, dr_mode: Option<&str>) -> String {
    let mut s =
        pa(ns, "default", Some(pa_mode), false) + &workload_pa(ns, "api", "api", pa_mode, &[("8081", "DISABLE")]);
    if let Some(m) = dr_mode {
        s += &dr(ns, "all", &format!("*.{ns}.svc.cluster.local"), Some(m));
    }
    s
}

fn app(ns: &str) -> String {
    let mut s = injected(ns);
    for name in ["api", "web"] {
        s += &service(ns, name, &[(80, "8080"), (81, "8081")]);
        s += &deployment(ns, name, &[8080, 8081], &[]);
    }
    s
}

/// `a`'s api is routed to a subset of `b`'s api, whose rule gives the subset its own TLS (TCP routes: the ports are
/// `tcp-*`, where HTTP routes do not apply).
fn routes(subset_mode: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: api, namespace: a}}\nspec:\n  \
         hosts: [api.a.svc.cluster.local]\n  tcp:\n  - route:\n    - destination: {{host: api.b.svc.cluster.local, subset: v1}}\n\
         ---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: api-subsets, namespace: b}}\n\
         spec:\n  host: api.b.svc.cluster.local\n  subsets:\n  - name: v1\n    labels: {{app: api}}\n    trafficPolicy:\n      \
         tls: {{mode: {subset_mode}}}\n"
    )
}

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{path}: {:?}", f.errors);
    f
}

/// The tree: per namespace its policy file and its app file, then the routes. `modes` gives each namespace's
/// (PeerAuthentication mode, DestinationRule mode).
fn tree(modes: &[(&str, Option<&str>); 3], subset_mode: &str) -> Vec<LoadedFile> {
    let mut files = Vec::new();
    for (ns, (p, d)) in NAMESPACES.iter().zip(modes) {
        files.push(load(&format!("{ns}/policy.yaml"), &policy(ns, p, *d)));
        files.push(load(&format!("{ns}/app.yaml"), &app(ns)));
    }
    files.push(load("routes.yaml", &routes(subset_mode)));
    files
}

const SNAPSHOT: [(&str, Option<&str>); 3] =
    [("STRICT", Some("DISABLE")), ("PERMISSIVE", Some("ISTIO_MUTUAL")), ("STRICT", Some("DISABLE"))];

/// Every edit of one file: each namespace's modes changed one at a time (its rule removed too), the subset's mode.
fn edits() -> Vec<(usize, LoadedFile)> {
    let mut out = Vec::new();
    for (i, ns) in NAMESPACES.iter().enumerate() {
        let (p0, d0) = SNAPSHOT[i];
        for p in ["STRICT", "PERMISSIVE", "DISABLE"].into_iter().filter(|p| *p != p0) {
            out.push((2 * i, load(&format!("{ns}/policy.yaml"), &policy(ns, p, d0))));
        }
        for d in [Some("ISTIO_MUTUAL"), Some("DISABLE"), None].into_iter().filter(|d| *d != d0) {
            out.push((2 * i, load(&format!("{ns}/policy.yaml"), &policy(ns, p0, d))));
        }
    }
    for m in ["DISABLE", "SIMPLE"] {
        out.push((6, load("routes.yaml", &routes(m))));
    }
    out
}

fn context(files: &[LoadedFile], opts: &AnalysisOptions) -> MeshContext {
    let mut mesh = Mesh::build(files, resolve_settings(files, opts), Default::default());
    mesh.suggest_mode = opts.suggest_mode();
    MeshContext::new(mesh)
}

type Key = (&'static str, String, Option<u32>, Side);

fn keys<'a>(found: impl IntoIterator<Item = &'a Downgrade>, base: &MeshContext, head: &MeshContext) -> BTreeSet<Key> {
    found
        .into_iter()
        .map(|d| (d.finding.code, format!("{:?}", d.subject_ref(base, head)), d.finding.port, d.side))
        .collect()
}

/// Every posture finding of every edit through the verifier (posture findings wanted: not a subset) is a
/// rebuild's; the edits are scoped, and some change posture findings outside their namespace
/// through the route.
#[test]
fn merged_posture_findings_are_those_of_a_rebuild() {
    let opts = AnalysisOptions::default();
    let files = tree(&SNAPSHOT, "ISTIO_MUTUAL");
    let cx = context(&files, &opts);
    let errors = error_set(&cx, &crate::rules::run_all(&cx));
    let mut verifier = Verifier::new(&files, &cx, &opts, &errors);
    assert!(verifier.splice.is_some());
    let mut snapshot = finding_keys(&files, &opts, Default::default());
    snapshot.sort();
    let posture = |k: &&super::FindingKey| k.0 == "MTLS001" || k.0 == "MTLS002";
    assert!(snapshot.iter().filter(posture).count() >= 4, "{snapshot:?}");
    let mut changed = 0;
    for (idx, new) in edits() {
        let mut copy = files.clone();
        copy[idx] = new.clone();
        let mut want = finding_keys(&copy, &opts, Default::default());
        want.sort();
        let mut got = verifier.keys_with(idx, new, &opts, false);
        got.sort();
        assert_eq!(got, want, "{} edited", files[idx].source.as_ref().map_or("", |s| s.path.as_str()));
        changed += usize::from(got.iter().filter(posture).ne(snapshot.iter().filter(posture)));
    }
    assert!(changed >= 5, "{changed} edits changed posture findings");
}

/// The downgrades of each edit against a base where every policy is STRICT / ISTIO_MUTUAL: the snapshot's of the
/// units outside the edit's scope and the scope's recomputed on the scoped posture are a rebuild's.
#[test]
fn merged_downgrades_are_those_of_a_rebuild() {
    let opts = AnalysisOptions::default();
    let strong_modes = [("STRICT", Some("ISTIO_MUTUAL")); 3];
    let base = context(&tree(&strong_modes, "ISTIO_MUTUAL"), &opts);
    let files = tree(&SNAPSHOT, "ISTIO_MUTUAL");
    let cx = context(&files, &opts);
    let before = base.posture();
    let known: Vec<(Key, BTreeSet<Unit>)> = downgrades_within(&before, &cx.posture(), &base, &cx, None)
        .into_iter()
        .map(|(d, units)| (keys([&d], &base, &cx).into_iter().next().unwrap_or_else(|| unreachable!()), units))
        .collect();
    assert!(known.len() >= 3, "{known:?}");
    let kustomize = crate::mesh::kustomize_namespaces(&files);
    let starts: Vec<usize> = files.iter().scan(0, |at, f| Some(std::mem::replace(at, *at + f.objects.len()))).collect();
    let (mut work, mut kept, mut recomputed) = (cx.clone(), 0, 0);
    for (idx, new) in edits() {
        let old = &files[idx];
        let changes = changed_objects(old, &new);
        let scope = posture_scope(&cx, old, &new, &changes).map(Arc::new);
        let Some(scope) = scope else { panic!("{idx}: an edit of non-root policies has a scope") };
        let overlay = work
            .overlay(starts[idx]..starts[idx] + old.objects.len(), placed(&changes, starts[idx], &new, &kustomize))
            .unwrap_or_else(|| panic!("{idx}: policies only, overlaid"));
        work.set_scope(Some(scope.clone()));
        let mut got: BTreeSet<Key> =
            known.iter().filter(|(_, u)| u.iter().any(|u| u.outside(&scope))).map(|(k, _)| k.clone()).collect();
        kept += usize::from(!got.is_empty());
        let within = downgrades_within(&before, &work.posture(), &base, &work, Some(&scope));
        recomputed += usize::from(!within.is_empty());
        got.extend(keys(within.iter().map(|(d, _)| d), &base, &work));
        work.set_scope(None);
        work.remove_overlay(overlay);
        let mut copy = files.clone();
        copy[idx] = new;
        let rebuilt = context(&copy, &opts);
        let want = keys(&downgrades(&before, &rebuilt.posture(), &base, &rebuilt), &base, &rebuilt);
        assert_eq!(got, want, "{} edited", old.source.as_ref().map_or("", |s| s.path.as_str()));
    }
    assert!(kept >= 5 && recomputed >= 5, "kept {kept}, recomputed {recomputed}");
}
