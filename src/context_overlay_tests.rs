//! The analysis context's DestinationRule index across fix-verification overlays: an index built before an overlay
//! is rebuilt for the overlaid mesh and restored after it; one first built during an overlay is dropped with it
//! (kept, it would answer for the overlaid mesh ever after).

use super::MeshContext;
use crate::manifest::{load_file, yaml::Limits};
use crate::mesh::{Mesh, Placed};
use crate::posture::DrIndex;
use crate::posture::fixtures::{deployment, injected, service};
use crate::settings::MeshSettings;
use std::sync::Arc;

fn dr(ns: &str, name: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  host: \"*.{ns}.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: {mode}\n"
    )
}

/// Namespace `a` with a Service, its Deployment and an ISTIO_MUTUAL DestinationRule (the last object).
fn context() -> MeshContext {
    let y = injected("a")
        + &service("a", "web", &[(80, "80")])
        + &deployment("a", "web", &[80], &[])
        + &dr("a", "d", "ISTIO_MUTUAL");
    let file = load_file("t.yaml", y.as_bytes(), &Limits::default());
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    MeshContext::new(Mesh::build(&[file], MeshSettings::default(), Default::default()))
}

/// The DestinationRule replaced by one that disables TLS.
fn disabling(cx: &MeshContext) -> (std::ops::Range<usize>, Vec<Placed>) {
    let file = load_file("d.yaml", dr("a", "d", "DISABLE").as_bytes(), &Limits::default());
    let last = cx.objects.len() - 1;
    (last..last + 1, vec![Placed::New(file.objects[0].clone(), "a".to_string())])
}

fn client_tls(cx: &MeshContext) -> Vec<String> {
    cx.posture().rows.iter().map(|r| r.client_tls.clone()).collect()
}

#[test]
fn an_index_built_before_the_overlay_follows_it_and_comes_back() {
    for built_before in [true, false] {
        let mut cx = context();
        let before = client_tls(&cx);
        if !built_before {
            cx = MeshContext::new(cx.mesh().clone());
        }
        let original = DrIndex::build(cx.mesh());
        let (range, placed) = disabling(&cx);
        let overlay = cx.overlay(range, placed).expect("a DestinationRule edit overlays");
        let during = client_tls(&cx);
        assert_ne!(during, before, "built before: {built_before}");
        assert_eq!(*cx.dr_index(), DrIndex::build(cx.mesh()));
        cx.remove_overlay(overlay);
        assert_eq!(*cx.dr_index(), original, "built before: {built_before}");
        // A posture computed afresh after the overlay reads the restored index.
        let fresh = MeshContext::new(cx.mesh().clone());
        assert_eq!(client_tls(&fresh), before);
        assert!(Arc::ptr_eq(&cx.dr_index(), &cx.dr_index()));
    }
}
