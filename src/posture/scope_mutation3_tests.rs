//! Tests of what a fix verification's posture scope includes (issue 15: mutants of `PostureScope::includes_parts`
//! and of the VirtualService expansion in `PostureScope::of` survived; over-inclusion only costs time, so the
//! differential tests cannot see it, but a scope that names too much is no scope).

use super::PostureScope;
use crate::manifest::{Object, load_file, yaml::Limits};
use crate::rules::testing::{dr, mesh, pa};
use std::sync::Arc;

#[test]
fn a_short_host_names_the_service_of_its_rules_namespace_only() {
    let scope = PostureScope { hosts: vec![("cart".into(), "shop".into())], ..PostureScope::default() };
    assert!(scope.includes_parts("shop", "cart", "cart.shop.svc.cluster.local"));
    assert!(!scope.includes_parts("web", "cart", "cart.web.svc.cluster.local"));
    assert!(!scope.includes_parts("shop", "orders", "orders.shop.svc.cluster.local"));
    // A qualified host: that service, and the hosts under it; a wildcard: by suffix.
    let scope = PostureScope {
        hosts: vec![("cart.shop".into(), "web".into()), ("*.pay.svc.cluster.local".into(), "pay".into())],
        ..PostureScope::default()
    };
    assert!(scope.includes_parts("shop", "cart", "cart.shop.svc.cluster.local"));
    assert!(!scope.includes_parts("shop", "carts", "carts.shop.svc.cluster.local"));
    assert!(scope.includes_parts("pay", "api", "api.pay.svc.cluster.local"));
    assert!(!scope.includes_parts("web", "api", "api.web.svc.cluster.local"));
}

fn objects(yaml: &str) -> Vec<Arc<Object>> {
    let f = load_file("edit.yaml", yaml.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f.objects
}

/// A VirtualService in `a` routes `api.a` to `api.b`: an edit in `b` reaches `api.a`'s paths, an edit in `c` does
/// not; an edit of `api.a`'s namespace reads `b`'s endpoints.
#[test]
fn the_scope_follows_routes_to_the_hosts_it_reaches_and_no_further() {
    let route = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: a}\n\
                 spec:\n  hosts: [api.a.svc.cluster.local]\n  tcp:\n  - route:\n    - destination: {host: api.b.svc.cluster.local}\n";
    let m = mesh(route);
    let api_a = ("api.a.svc.cluster.local".to_string(), "a".to_string());
    let of = |yaml: &str| PostureScope::of(&m, objects(yaml).iter().map(|o| &**o)).unwrap_or_else(|| unreachable!());
    let b = of(&pa("b", "default", Some("STRICT"), false));
    assert!(b.hosts.contains(&api_a), "{b:?}");
    assert!(b.endpoint_namespaces.iter().all(|n| n == "b"), "{b:?}");
    let c = of(&pa("c", "default", Some("STRICT"), false));
    assert!(c.hosts.is_empty() && c.endpoint_namespaces.is_empty(), "{c:?}");
    let rule_c = of(&dr("c", "all", "*.c.svc.cluster.local", Some("DISABLE")));
    assert!(!rule_c.hosts.contains(&api_a), "{rule_c:?}");
    let a = of(&pa("a", "default", Some("STRICT"), false));
    assert!(a.endpoint_namespaces.contains("b"), "{a:?}");
    assert!(!a.endpoint_namespaces.contains("c"), "{a:?}");
}
