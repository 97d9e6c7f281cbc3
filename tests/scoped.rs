//! Differential test of the scoped re-analysis fix verification runs (`analysis::scoped`, `Mesh::overlay`): for
//! every PeerAuthentication and DestinationRule of every fixture tree, edits of the kinds fixes make (every other
//! mode, the object removed, a new namespace-wide object added after it) are re-analyzed scoped and by rebuilding
//! the mesh of the whole tree; the findings must be the same.

use mtls_review::analysis::scoped::{
    Scoped, changed_objects, placed, posture_keys, posture_keys_by_row, posture_keys_within, posture_scope,
};
use mtls_review::analysis::{finding_keys, resolve_settings};
use mtls_review::context::MeshContext;
use mtls_review::finding::Side;
use mtls_review::manifest::{LoadedFile, load_file, yaml::Limits};
use mtls_review::mesh::{Mesh, kustomize_namespaces};
use mtls_review::rules::mtls003::{self, Downgrade, Unit, downgrades_within};
use mtls_review::settings::AnalysisOptions;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

fn yaml_files(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read(&p).unwrap_or_default()));
        }
    }
}

/// Every directory of test trees as one snapshot each, every Kiali scenario file on its own.
fn trees() -> Vec<(String, Vec<LoadedFile>)> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    // Kiali's scenario files each stand alone.
    let mut kiali = Vec::new();
    yaml_files(&base.join("tests/fixtures/kiali"), &base.join("tests/fixtures/kiali"), &mut kiali);
    for (p, b) in &kiali {
        out.push((p.clone(), vec![load_file(p, b, &Limits::default())]));
    }
    for group in ["fixtures", "tests/fixtures/cases"] {
        let mut dirs: Vec<_> =
            std::fs::read_dir(base.join(group)).into_iter().flatten().flatten().map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs.into_iter().filter(|d| d.is_dir()) {
            let mut files = Vec::new();
            yaml_files(&d, &d, &mut files);
            let loaded = files.iter().map(|(p, b)| load_file(p, b, &Limits::default())).collect();
            out.push((d.display().to_string(), loaded));
        }
    }
    out.push(("synthetic".into(), synthetic()));
    out
}

/// Namespaces that depend on each other: cross-namespace hosts, a mesh-wide DestinationRule, selector policies,
/// workloads without sidecars, a legacy namespace.
fn synthetic() -> Vec<LoadedFile> {
    let mut files = vec![(
        "mesh.yaml".to_string(),
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n".to_string(),
    )];
    for (i, (pa, dr)) in [
        ("STRICT", "ISTIO_MUTUAL"),
        ("DISABLE", "DISABLE"),
        ("PERMISSIVE", "ISTIO_MUTUAL"),
        ("DISABLE", "ISTIO_MUTUAL"),
    ]
    .iter()
    .enumerate()
    {
        let ns = format!("n{i}");
        let other = format!("n{}", (i + 1) % 4);
        let inject = if i == 1 { "disabled" } else { "enabled" };
        files.push((
            format!("{ns}/policy.yaml"),
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{istio-injection: {inject}}}}}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: default, namespace: {ns}}}\nspec: {{mtls: {{mode: {pa}}}}}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  mtls: {{mode: {pa}}}\n  portLevelMtls: {{\"8080\": {{mode: DISABLE}}}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: all, namespace: {ns}}}\nspec: {{host: \"*.{ns}.svc.cluster.local\", trafficPolicy: {{tls: {{mode: {dr}}}}}}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: to-{other}, namespace: {ns}}}\nspec: {{host: api.{other}.svc.cluster.local, trafficPolicy: {{tls: {{mode: ISTIO_MUTUAL}}}}}}\n"
            ),
        ));
        files.push((
            format!("{ns}/app.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: api, image: x, ports: [{{containerPort: 8080}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: {ns}}}\nspec: {{selector: {{app: api}}, ports: [{{port: 80, targetPort: 8080}}]}}\n"
            ),
        ));
    }
    // n0's api is routed to a subset of n1's (its rows read n1's rules and endpoints), and n2's to n3's.
    files.push((
        "routes.yaml".to_string(),
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: n0}\nspec:\n  hosts: [api.n0.svc.cluster.local]\n  http:\n  - route:\n    - destination: {host: api.n1.svc.cluster.local, subset: v1}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: api-subsets, namespace: n1}\nspec:\n  host: api.n1.svc.cluster.local\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n  subsets:\n  - name: v1\n    labels: {app: api}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: n2}\nspec:\n  hosts: [api]\n  tcp:\n  - route:\n    - destination: {host: api.n3.svc.cluster.local}\n".to_string(),
    ));
    files.push((
        "n0/mesh-dr.yaml".to_string(),
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: everything, namespace: n0}\nspec: {host: \"*.local\", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n".to_string(),
    ));
    files.iter().map(|(p, t)| load_file(p, t.as_bytes(), &Limits::default())).collect()
}

/// Edited texts of a file: each PeerAuthentication / DestinationRule mode set to every other value, each such
/// object removed, a namespace-wide PeerAuthentication and DestinationRule added after it.
fn edits(f: &LoadedFile) -> Vec<String> {
    let Some(src) = &f.source else { return Vec::new() };
    let lines: Vec<&str> = src.text().split('\n').collect();
    let mut out = Vec::new();
    for o in &f.objects {
        let (field, modes): (&[&str], &[&str]) = match o.kind.as_str() {
            "PeerAuthentication" => (&["spec", "mtls", "mode"], &["STRICT", "PERMISSIVE", "DISABLE", "UNSET"]),
            "DestinationRule" => (&["spec", "trafficPolicy", "tls", "mode"], &["ISTIO_MUTUAL", "DISABLE", "SIMPLE"]),
            _ => continue,
        };
        let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
        if let (Some(current), Some((line, _))) = (o.str_at(field), o.field_lines(field)) {
            for m in modes.iter().filter(|m| **m != current) {
                let mut l = lines.clone();
                let edited = l[line - 1].replacen(current, m, 1);
                l[line - 1] = &edited;
                out.push(l.join("\n"));
            }
        }
        if o.list_index.is_none() {
            let mut l: Vec<&str> = lines.clone();
            l.drain(o.line - 1..o.end_line.min(l.len()));
            out.push(l.join("\n"));
            let added = format!(
                "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: added\n  namespace: {ns}\nspec:\n  mtls:\n    mode: DISABLE\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: added\n  namespace: {ns}\nspec:\n  host: \"*.{ns}.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL"
            );
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            l.insert(o.end_line.min(l.len()), added);
            out.push(l.join("\n"));
        }
    }
    out
}

/// The tree with every PeerAuthentication STRICT and every DestinationRule ISTIO_MUTUAL: a base side against which
/// the tree itself has downgrades in many places.
fn strengthened(files: &[LoadedFile]) -> Vec<LoadedFile> {
    files
        .iter()
        .map(|f| {
            let Some(src) = &f.source else { return f.clone() };
            let mut lines: Vec<String> = src.text().split('\n').map(str::to_string).collect();
            for o in &f.objects {
                let (field, strong): (&[&str], &str) = match o.kind.as_str() {
                    "PeerAuthentication" => (&["spec", "mtls", "mode"], "STRICT"),
                    "DestinationRule" => (&["spec", "trafficPolicy", "tls", "mode"], "ISTIO_MUTUAL"),
                    _ => continue,
                };
                if let (Some(current), Some((line, _))) = (o.str_at(field), o.field_lines(field)) {
                    lines[line - 1] = lines[line - 1].replacen(current, strong, 1);
                }
            }
            load_file(&src.path, lines.join("\n").as_bytes(), &Limits::default())
        })
        .collect()
}

type DowngradeKey = (&'static str, String, Option<u32>, Side);

/// The keys of downgrades found between `base` and `head`.
fn keys_of_downgrades<'a>(
    found: impl IntoIterator<Item = &'a Downgrade>,
    base: &MeshContext,
    head: &MeshContext,
) -> BTreeSet<DowngradeKey> {
    found
        .into_iter()
        .map(|d| (d.finding.code, format!("{:?}", d.subject_ref(base, head)), d.finding.port, d.side))
        .collect()
}

/// MTLS003's findings of `head` against `base`, as keys.
fn downgrade_keys(base: &MeshContext, head: &MeshContext) -> Vec<(&'static str, String, Option<u32>, Side)> {
    let found = mtls003::downgrades(&base.posture(), &head.posture(), base, head);
    keys_of_downgrades(&found, base, head).into_iter().collect()
}

#[test]
fn scoped_re_analysis_gives_the_findings_of_a_full_re_analysis() {
    let opts = AnalysisOptions::default();
    let (mut compared, mut scoped_runs, mut overlays, mut downgrades) = (0usize, 0usize, 0usize, 0usize);
    let (mut merged, mut kept_outside) = (0usize, 0usize);
    for (name, files) in trees() {
        let mut mesh = Mesh::build(&files, resolve_settings(&files, &opts), HashSet::new());
        mesh.suggest_mode = opts.suggest_mode();
        let mesh = MeshContext::new(mesh);
        let kustomize = kustomize_namespaces(&files);
        let scoped = Scoped::new(&mesh, &opts);
        let mut work = mesh.clone();
        let mut start = 0;
        // The tree's downgrades against a stronger base, with their units: a merged re-analysis keeps those of the
        // units outside its scope and recomputes the others.
        let known_posture = posture_keys_by_row(&mesh, &opts);
        let strong_files = strengthened(&files);
        let strong =
            MeshContext::new(Mesh::build(&strong_files, resolve_settings(&strong_files, &opts), HashSet::new()));
        let known: Vec<(DowngradeKey, BTreeSet<Unit>)> =
            downgrades_within(&strong.posture(), &mesh.posture(), &strong, &mesh, None)
                .into_iter()
                .map(|(d, units)| (keys_of_downgrades([&d], &strong, &mesh).into_iter().next().unwrap(), units))
                .collect();
        for (idx, f) in files.iter().enumerate() {
            let settings_file = f.objects.iter().any(|o| o.kind == "ConfigMap" || o.kind == "IstioOperator");
            for text in if settings_file { Vec::new() } else { edits(f) } {
                let Some(path) = f.source.as_ref().map(|s| s.path.clone()) else { continue };
                let new = load_file(&path, text.as_bytes(), &Limits::default());
                if new.kustomize_namespace != f.kustomize_namespace {
                    continue;
                }
                let mut copy = files.clone();
                copy[idx] = new.clone();
                let mut full = finding_keys(&copy, &opts, HashSet::new());
                full.sort();
                let is_posture = |k: &(&str, _, _, _)| k.0 == "MTLS001" || k.0 == "MTLS002";
                compared += 1;
                if let Some(mut keys) = scoped.keys_with(start, f, &new, &kustomize, &opts) {
                    scoped_runs += 1;
                    keys.sort();
                    let want: Vec<_> = full.iter().filter(|k| !is_posture(k)).cloned().collect();
                    assert_eq!(keys, want, "{name}: {path} edited:\n{text}");
                }
                // The posture rules on the overlaid mesh (unscoped rows): the same as on a rebuild. So are the
                // downgrades against the unedited snapshot (MTLS003, as group verification computes them).
                let changes = changed_objects(f, &new);
                let scope = posture_scope(&mesh, f, &new, &changes).map(Arc::new);
                let placed = placed(&changes, start, &new, &kustomize);
                if let Some(overlay) = work.overlay(start..start + f.objects.len(), placed) {
                    overlays += 1;
                    let mut keys = posture_keys(&work, &opts);
                    let mut down = downgrade_keys(&mesh, &work);
                    // Every posture finding from the scope's rows and the snapshot's outside it: the same.
                    let (mut merged_keys, mut merged_down) = (keys.clone(), down.clone());
                    let mut merged_strong = None;
                    if let Some(sc) = scope.clone() {
                        merged += 1;
                        // Under the scope: the snapshot's posture findings from rows outside it, the scope's rows'
                        // anew; the downgrades against the unedited snapshot are the scope's alone.
                        work.set_scope(scope);
                        merged_keys = posture_keys_within(&work, &opts, &known_posture, &sc);
                        let within = downgrades_within(&mesh.posture(), &work.posture(), &mesh, &work, Some(&sc));
                        merged_down =
                            keys_of_downgrades(within.iter().map(|(d, _)| d), &mesh, &work).into_iter().collect();
                        // Against the stronger base: the snapshot's downgrades outside the scope, the scope's anew.
                        let mut got: BTreeSet<DowngradeKey> = known
                            .iter()
                            .filter(|(_, u)| u.iter().any(|u| u.outside(&sc)))
                            .map(|(k, _)| k.clone())
                            .collect();
                        kept_outside += usize::from(!got.is_empty());
                        let within = downgrades_within(&strong.posture(), &work.posture(), &strong, &work, Some(&sc));
                        got.extend(keys_of_downgrades(within.iter().map(|(d, _)| d), &strong, &work));
                        merged_strong = Some(got);
                        work.set_scope(None);
                    }
                    work.remove_overlay(overlay);
                    merged_keys.sort();
                    merged_down.sort();
                    keys.sort();
                    let want: Vec<_> = full.iter().filter(|k| is_posture(k)).cloned().collect();
                    assert_eq!(keys, want, "{name}: {path} edited (overlay):\n{text}");
                    assert_eq!(merged_keys, want, "{name}: {path} edited (overlay, merged scope):\n{text}");
                    let mut rebuilt = Mesh::build(&copy, resolve_settings(&copy, &opts), HashSet::new());
                    rebuilt.suggest_mode = opts.suggest_mode();
                    let rebuilt = MeshContext::new(rebuilt);
                    if let Some(got) = merged_strong {
                        let found = mtls003::downgrades(&strong.posture(), &rebuilt.posture(), &strong, &rebuilt);
                        let want = keys_of_downgrades(&found, &strong, &rebuilt);
                        assert_eq!(
                            got, want,
                            "{name}: {path} edited (merged scope, MTLS003 against a stronger base):\n{text}"
                        );
                    }
                    let mut want = downgrade_keys(&mesh, &rebuilt);
                    down.sort();
                    want.sort();
                    downgrades += usize::from(!want.is_empty());
                    assert_eq!(down, want, "{name}: {path} edited (overlay, MTLS003):\n{text}");
                    assert_eq!(merged_down, want, "{name}: {path} edited (overlay, merged scope, MTLS003):\n{text}");
                }
            }
            start += f.objects.len();
        }
        // The overlays were all undone.
        let mut again = finding_keys(&files, &opts, HashSet::new());
        again.sort();
        let mut before = mtls_review::analysis::rule_keys(&work, &opts);
        before.sort();
        assert_eq!(before, again, "{name}: mesh restored after the overlays");
    }
    // The test covers something: many edits, most of them scoped.
    assert!(
        compared > 200
            && scoped_runs > compared / 3
            && overlays > compared / 2
            && downgrades > 20
            && merged > overlays / 2
            && kept_outside >= 50,
        "{compared} {scoped_runs} {overlays} {downgrades} {merged} {kept_outside}"
    );
    eprintln!(
        "{compared} edits compared, {scoped_runs} scoped, {overlays} overlaid ({merged} merged, {kept_outside} keeping downgrades outside the scope), {downgrades} with downgrades"
    );
}

#[test]
fn is_newer_answers_as_the_newer_set_does() {
    let opts = AnalysisOptions::default();
    let mut asked = 0usize;
    for (_, files) in trees() {
        let mut mesh = Mesh::build(&files, resolve_settings(&files, &opts), HashSet::new());
        // Every third object is one the change adds, plus a reference no object has.
        mesh.newer = (0..mesh.objects.len()).step_by(3).map(|id| mesh.object_ref(id)).collect();
        mesh.newer.insert(mtls_review::finding::ObjectRef {
            kind: "DestinationRule".into(),
            namespace: "nowhere".into(),
            name: "x".into(),
        });
        for id in 0..mesh.objects.len() {
            assert_eq!(mesh.is_newer(id), mesh.newer.contains(&mesh.object_ref(id)), "{:?}", mesh.object_ref(id));
            asked += 1;
        }
    }
    assert!(asked > 100, "{asked}");
}
