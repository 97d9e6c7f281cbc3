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

/// The namespaces a scope's rows and Services are looked up under: a wildcard host names one namespace only when
/// it is `*.<namespace>.svc.<cluster domain>` and Service hosts say their namespace (no dotted names).
#[test]
fn a_namespace_wildcard_host_names_its_namespace_and_a_wider_one_names_none() {
    let with = |hosts: &[(&str, &str)]| PostureScope {
        hosts: hosts.iter().map(|(h, n)| (h.to_string(), n.to_string())).collect(),
        namespaces: ["own".to_string()].into_iter().collect(),
        endpoint_namespaces: ["routed".to_string()].into_iter().collect(),
        cluster_domain: "cluster.local".into(),
    };
    fn names(s: Option<std::collections::BTreeSet<&str>>) -> Option<Vec<String>> {
        s.map(|s| s.into_iter().map(str::to_string).collect())
    }
    let v = |l: &[&str]| Some(l.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let scope = with(&[("*.pay.svc.cluster.local", "web"), ("cart", "shop"), ("api.b.svc.cluster.local", "web")]);
    assert_eq!(names(scope.service_namespaces(true)), v(&["b", "own", "pay", "shop"]));
    assert_eq!(names(scope.selectable_namespaces(true)), v(&["b", "own", "pay", "routed", "shop"]));
    // A dotted Service name somewhere: the wildcard's namespace is not certain.
    assert_eq!(names(scope.service_namespaces(false)), None);
    assert_eq!(names(scope.selectable_namespaces(false)), None);
    for wide in ["*.svc.cluster.local", "*.cluster.local", "*", "*.a.b.svc.cluster.local", "*.pay.svc.other.domain"] {
        assert_eq!(names(with(&[(wide, "web")]).service_namespaces(true)), None, "{wide}");
    }
    // Without a cluster domain (a scope not made by `PostureScope::of`) no wildcard names a namespace.
    let scope = PostureScope { cluster_domain: String::new(), ..with(&[("*.pay.svc.cluster.local", "web")]) };
    assert_eq!(names(scope.service_namespaces(true)), None);
    assert_eq!(scope.wildcard_namespace("*.pay.svc.cluster.local"), None);
    assert_eq!(with(&[]).wildcard_namespace("*.pay.svc.cluster.local"), Some("pay"));
    assert_eq!(with(&[]).wildcard_namespace("*..svc.cluster.local"), None);
    assert_eq!(with(&[]).wildcard_namespace("pay.svc.cluster.local"), None);
}

/// `Posture::rows_in` (rows looked up by namespace) gives exactly the rows and default rows that testing every row
/// gives, for scopes of each kind, and its index resolves the same keys.
#[test]
fn rows_looked_up_by_namespace_are_the_rows_every_row_tested_gives() {
    let mut yaml = String::new();
    for ns in ["pay", "shop", "web"] {
        for app in ["api", "db"] {
            yaml.push_str(&format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {app}, namespace: {ns}}}\nspec:\n  selector: {{app: {app}}}\n  ports: [{{port: 80}}]\n\
                 ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}, namespace: {ns}}}\nspec:\n  template:\n    metadata:\n      labels: {{app: {app}}}\n      annotations: {{sidecar.istio.io/inject: \"true\"}}\n    spec:\n      containers: [{{name: c, ports: [{{containerPort: 80}}]}}]\n"
            ));
        }
    }
    yaml.push_str(&dr("web", "to-api", "api.shop.svc.cluster.local", Some("DISABLE")));
    let cx = mesh(&yaml);
    let posture = cx.posture();
    assert!(posture.rows.len() >= 6, "{}", posture.rows.len());
    let scopes = [
        PostureScope { hosts: vec![("*.pay.svc.cluster.local".into(), "web".into())], ..PostureScope::default() },
        PostureScope {
            hosts: vec![("*.pay.svc.cluster.local".into(), "web".into())],
            cluster_domain: "cluster.local".into(),
            ..PostureScope::default()
        },
        PostureScope { hosts: vec![("api".into(), "shop".into())], ..PostureScope::default() },
        PostureScope { hosts: vec![("db.web.svc.cluster.local".into(), "pay".into())], ..PostureScope::default() },
        PostureScope { namespaces: ["web".to_string()].into_iter().collect(), ..PostureScope::default() },
        PostureScope { hosts: vec![("*".into(), "web".into())], ..PostureScope::default() },
    ];
    for scope in &scopes {
        let tested: Vec<usize> = (0..posture.rows.len()).filter(|i| scope.includes_row(&posture.rows[*i])).collect();
        let (rows, _) = posture.rows_in(scope);
        assert_eq!(rows, tested, "{scope:?}");
        assert!(!rows.is_empty(), "{scope:?}");
        let (fast, slow) = (posture.index_in(Some(scope)), posture.index_in_tested(Some(scope)));
        for r in &posture.rows {
            let key = r.key_ref();
            let name = |x: Option<&super::Row>| x.map(|r| (r.service.name.clone(), r.port, r.client_namespace.clone()));
            assert_eq!(name(posture.resolve_in(&fast, key)), name(posture.resolve_in(&slow, key)), "{scope:?}");
        }
    }
}

/// A Service in a dotted namespace (`x.pay`, which the API server would refuse) has a host that a wildcard for
/// `pay` matches: with such names the wildcard names no namespace, and the rows and the scoped posture still hold
/// that Service.
#[test]
fn a_dotted_namespace_turns_the_wildcard_lookup_off() {
    let yaml = |ns: &str| {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  selector: {{app: api}}\n  ports: [{{port: 80}}]\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  template:\n    metadata:\n      labels: {{app: api}}\n      annotations: {{sidecar.istio.io/inject: \"true\"}}\n    spec:\n      containers: [{{name: c, ports: [{{containerPort: 80}}]}}]\n"
        )
    };
    let scope = PostureScope {
        hosts: vec![("*.pay.svc.cluster.local".into(), "pay".into())],
        cluster_domain: "cluster.local".into(),
        ..PostureScope::default()
    };
    let plain = mesh(&yaml("pay"));
    assert!(plain.inventory().clients().plain_hosts);
    let dotted = mesh(&yaml("x.pay"));
    assert!(!dotted.inventory().clients().plain_hosts);
    let posture = dotted.posture();
    assert!(!posture.rows.is_empty());
    let tested: Vec<usize> = (0..posture.rows.len()).filter(|i| scope.includes_row(&posture.rows[*i])).collect();
    assert_eq!(tested.len(), posture.rows.len());
    assert_eq!(posture.rows_in(&scope).0, tested);
    // The rows' index says which: plain names let the wildcard name its namespace, a dotted one does not.
    assert_eq!(posture.by_namespace.get().map(|i| i.plain_hosts), Some(false));
    let plain_posture = plain.posture();
    assert_eq!(plain_posture.rows_in(&scope).0.len(), plain_posture.rows.len());
    assert_eq!(plain_posture.by_namespace.get().map(|i| i.plain_hosts), Some(true));
    let scoped = super::compute_scoped(&dotted, Some(&scope));
    assert_eq!(scoped.rows.len(), posture.rows.len());
    assert!(scoped.rows.iter().all(|r| r.service.namespace == "x.pay"));
}
