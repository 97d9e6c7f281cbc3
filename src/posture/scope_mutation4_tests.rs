//! Tests of what a fix verification's posture scope includes (issue 15, fourth sample: a mutant of the
//! DestinationRule arm of `PostureScope::of_with` survived).
#![allow(clippy::unwrap_used)]

use super::PostureScope;
use crate::manifest::{Object, load_file, yaml::Limits};
use crate::rules::testing::{dr, mesh};
use std::sync::Arc;

fn objects(yaml: &str) -> Vec<Arc<Object>> {
    let f = load_file("edit.yaml", yaml.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f.objects
}

/// A DestinationRule written without `metadata.namespace` (its namespace comes from the mesh layer: a
/// kustomization's, else `default`) has no namespace the scope can name: the edit reaches every service.
#[test]
fn a_rule_without_a_namespace_has_no_scope() {
    let m = mesh(&dr("shop", "cart", "cart", Some("ISTIO_MUTUAL")));
    let unnamespaced = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: cart}\n\
                        spec:\n  host: cart\n  trafficPolicy: {tls: {mode: DISABLE}}\n";
    let edit = objects(unnamespaced);
    assert_eq!(edit[0].namespace, None);
    assert!(PostureScope::of(&m, edit.iter().map(|o| &**o)).is_none());
    // The same rule with its namespace: that host of that namespace.
    let edit = objects(&dr("shop", "cart", "cart", Some("DISABLE")));
    let scope = PostureScope::of(&m, edit.iter().map(|o| &**o)).unwrap();
    assert_eq!(scope.hosts, [("cart".to_string(), "shop".to_string())]);
    assert!(scope.namespaces.is_empty());
}
