//! Tests of kustomize namespaces and of `Mesh::overlay` (issue 15: mutants of `kustomize_namespaces`, of
//! `Mesh::build`'s per-file namespace lookup and of two conditions of `Mesh::overlay` survived the lib tests).

use super::*;
use crate::manifest::{load_file, yaml::Limits};

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

fn pa_text(name: &str, namespace: Option<&str>) -> String {
    let ns = namespace.map(|n| format!("\n  namespace: {n}")).unwrap_or_default();
    format!(
        "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}{ns}\nspec:\n  mtls:\n    mode: STRICT\n"
    )
}

fn dr_text(name: &str, namespace: &str, host: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  host: {host}\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n"
    )
}

fn kustomization(namespace: &str) -> String {
    format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {namespace}\n")
}

/// (name, effective namespace) of every PeerAuthentication, in order.
fn pa_namespaces(m: &Mesh) -> Vec<(String, String)> {
    m.peer_authentications.iter().map(|p| (p.name.clone(), p.namespace.clone())).collect()
}

/// An object without `metadata.namespace` takes the `namespace:` of the nearest enclosing `kustomization.yaml`
/// (each file its own), else `default`; a written namespace wins.
#[test]
fn objects_without_a_namespace_take_their_kustomization_s_or_default() {
    let files = vec![
        load("base/pa.yaml", &pa_text("base", None)),
        load("overlays/prod/kustomization.yaml", &kustomization("prod")),
        load("overlays/prod/pa.yaml", &(pa_text("prod-1", None) + &pa_text("prod-2", None))),
        load("overlays/prod/extra/pa.yaml", &pa_text("prod-extra", None)),
        load("overlays/dev/kustomization.yaml", &kustomization("dev")),
        load("overlays/dev/pa.yaml", &(pa_text("dev", None) + &pa_text("written", Some("other")))),
        load("top.yaml", &pa_text("top", None)),
    ];
    let m = Mesh::build(&files, MeshSettings::default(), Default::default());
    let expected = [
        ("base", "default"),
        ("prod-1", "prod"),
        ("prod-2", "prod"),
        ("prod-extra", "prod"),
        ("dev", "dev"),
        ("written", "other"),
        ("top", "default"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(pa_namespaces(&m), expected);
    assert_eq!(m.namespace_mode("prod"), PaMode::Strict);
    assert_eq!(m.namespace_mode("default"), PaMode::Strict);
    let kustomize = kustomize_namespaces(&files);
    assert_eq!(
        kustomize.into_iter().collect::<Vec<_>>(),
        [("overlays/dev".to_string(), "dev".to_string()), ("overlays/prod".to_string(), "prod".to_string())]
    );
}

/// A tree without kustomizations: no kustomize namespaces, every object without one in `default`.
#[test]
fn without_kustomizations_there_is_no_kustomize_namespace() {
    let files = vec![load("a/pa.yaml", &pa_text("a", None)), load("b/pa.yaml", &pa_text("b", None))];
    assert!(kustomize_namespaces(&files).is_empty());
    let m = Mesh::build(&files, MeshSettings::default(), Default::default());
    assert_eq!(pa_namespaces(&m), [("a".to_string(), "default".to_string()), ("b".to_string(), "default".to_string())]);
}

/// Everything of the mesh's typed views, as comparable text.
fn typed(m: &Mesh) -> String {
    let pas: Vec<String> = m.peer_authentications.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
    let drs: Vec<String> = m.destination_rules.iter().map(|d| format!("{}/{}", d.namespace, d.name)).collect();
    format!("{pas:?} {drs:?} {}", m.objects.len())
}

/// An edit that takes out an object of another kind than PeerAuthentication and DestinationRule (a Service) cannot
/// be overlaid (the inventory would keep it): the overlay refuses it and changes nothing.
#[test]
fn an_overlay_that_removes_a_service_is_refused() {
    let svc =
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: a\nspec:\n  ports:\n  - port: 80\n";
    let files = vec![load("a/one.yaml", &(svc.to_string() + &pa_text("p", Some("a"))))];
    let mut m = Mesh::build(&files, MeshSettings::default(), Default::default());
    let before = typed(&m);
    let edited = load("a/one.yaml", &pa_text("p2", Some("a")));
    let new = Placed::New(edited.objects[0].clone(), "a".to_string());
    assert!(m.overlay(0..2, vec![new.clone()]).is_none());
    assert_eq!(typed(&m), before);
    // Keeping the Service, the PeerAuthentication's edit is overlaid.
    let overlay = m.overlay(0..2, vec![Placed::Kept(0), new]);
    assert!(overlay.is_some());
    assert_eq!(pa_namespaces(&m), [("p2".to_string(), "a".to_string())]);
    m.remove_overlay(overlay.unwrap_or_else(|| unreachable!()));
    assert_eq!(typed(&m), before);
}

/// A DestinationRule added to a file that had none goes where a rebuild puts it: after the rules of the files
/// before, before those of the files after (Istio's oldest-wins ties between equal creation times go by it).
#[test]
fn an_overlay_puts_a_new_rule_of_a_file_without_rules_in_file_order() {
    let files = vec![
        load("a/1.yaml", &dr_text("first", "a", "x.a.svc.cluster.local")),
        load("a/2.yaml", &pa_text("p", Some("a"))),
        load("a/3.yaml", &dr_text("third", "a", "x.a.svc.cluster.local")),
    ];
    let mut m = Mesh::build(&files, MeshSettings::default(), Default::default());
    let before = typed(&m);
    let edited = load("a/2.yaml", &(pa_text("p", Some("a")) + &dr_text("second", "a", "x.a.svc.cluster.local")));
    let rebuilt =
        Mesh::build(&[files[0].clone(), edited.clone(), files[2].clone()], MeshSettings::default(), Default::default());
    let overlay = m
        .overlay(1..2, vec![Placed::Kept(1), Placed::New(edited.objects[1].clone(), "a".to_string())])
        .unwrap_or_else(|| panic!("a PeerAuthentication kept and a DestinationRule added: overlaid"));
    let names = |m: &Mesh| m.destination_rules.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&m), ["first", "second", "third"]);
    assert_eq!(names(&m), names(&rebuilt));
    m.remove_overlay(overlay);
    assert_eq!(typed(&m), before);
}
