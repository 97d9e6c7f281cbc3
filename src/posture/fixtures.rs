//! YAML builders for posture and MTLS rule tests: Namespaces, Services and Deployments.

/// A Namespace with labels.
pub fn namespace(name: &str, labels: &[(&str, &str)]) -> String {
    let mut s = format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        s.push_str("  labels:\n");
        for (k, v) in labels {
            s.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    s
}

/// A Namespace with `istio-injection=enabled`.
pub fn injected(name: &str) -> String {
    namespace(name, &[("istio-injection", "enabled")])
}

/// A Service `name` selecting `app: <name>`, with (port, targetPort) pairs (`targetPort` as written).
pub fn service(ns: &str, name: &str, ports: &[(u32, &str)]) -> String {
    let mut s = format!(
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    app: {name}\n  ports:\n"
    );
    for (p, t) in ports {
        s.push_str(&format!("  - name: tcp-{p}\n    port: {p}\n    targetPort: {t}\n"));
    }
    s
}

/// A Deployment `name` with pod label `app: <name>`, named container ports `port-<n>`, and pod annotations.
pub fn deployment(ns: &str, name: &str, ports: &[u32], annotations: &[(&str, &str)]) -> String {
    let mut s = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n"
    );
    if !annotations.is_empty() {
        s.push_str("      annotations:\n");
        for (k, v) in annotations {
            s.push_str(&format!("        {k}: \"{v}\"\n"));
        }
    }
    s.push_str(&format!("    spec:\n      containers:\n      - name: {name}\n        image: example/{name}\n"));
    if !ports.is_empty() {
        s.push_str("        ports:\n");
        for p in ports {
            s.push_str(&format!("        - name: port-{p}\n          containerPort: {p}\n"));
        }
    }
    s
}

/// A workload PeerAuthentication selecting `app: <app>` with a mode and `portLevelMtls` entries.
pub fn workload_pa(ns: &str, name: &str, app: &str, mode: &str, port_level: &[(&str, &str)]) -> String {
    let mut s = format!(
        "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  mtls:\n    mode: {mode}\n"
    );
    if !port_level.is_empty() {
        s.push_str("  portLevelMtls:\n");
        for (k, m) in port_level {
            s.push_str(&format!("    {k}:\n      mode: {m}\n"));
        }
    }
    s
}

/// A Deployment `reviews-<version>` in `shop` with pod labels `app: reviews`, `version: <version>` and container
/// port 9080 named `port_name`.
pub fn reviews_version(version: &str, port_name: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: reviews-{version}, namespace: shop}}\nspec:\n  \
         selector: {{matchLabels: {{app: reviews, version: {version}}}}}\n  template:\n    metadata:\n      \
         labels: {{app: reviews, version: {version}}}\n    spec:\n      containers:\n      - name: reviews\n        \
         image: example/reviews\n        ports:\n        - {{name: {port_name}, containerPort: 9080}}\n"
    )
}
