//! GitHub-flavoured Markdown: the step summary and the review body, narrow enough for a pull request page.
//!
//! A headline says what breaks (how many client paths start failing, to which namespaces, in which meshes), then
//! the introduced findings as one short line each (rule title and clause, object, `path:line`, docs link; a cause
//! group as one item with its other members under it), the connectivity changes as a Mermaid graph, and inside
//! `<details>` the posture and connectivity tables, the resolved findings (as resolved, without severity badges),
//! the existing ones, and files that could not be analyzed.

use super::{counts, line_range, plural, rule_url, title};
use crate::finding::{Finding, Severity, Side, Status};
use crate::posture::{OTHER_NAMESPACES, RowChange};
use crate::review::{NamespacePosture, Review};
use std::collections::BTreeSet;

/// The most client paths drawn as a graph; above it the graph is left out (the table lists them all).
pub const MAX_GRAPH_EDGES: usize = 30;

/// Escapes text for a Markdown table cell or inline text.
pub fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;").replace('\n', " ")
}

/// `what decides it` as a reader understands it: Istio's built-in default is named as such, never `default`
/// (which reads like the PeerAuthentication commonly named `default`).
pub fn decided_by(text: &str) -> String {
    if text == "default" { "Istio default (PERMISSIVE)".to_string() } else { text.to_string() }
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "🔴",
        Severity::Warning => "🟡",
        Severity::Note => "🔵",
    }
}

/// True when a path's verdict is a failure after the change and was not before.
fn starts_failing(c: &RowChange) -> bool {
    c.after.as_ref().is_some_and(|r| r.verdict.is_failure())
        && !c.before.as_ref().is_some_and(|r| r.verdict.is_failure())
}

fn stops_failing(c: &RowChange) -> bool {
    c.before.as_ref().is_some_and(|r| r.verdict.is_failure())
        && !c.after.as_ref().is_some_and(|r| r.verdict.is_failure())
}

fn code_list(items: &BTreeSet<&str>) -> String {
    let v: Vec<String> = items.iter().map(|s| format!("`{}`", escape(s))).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        _ => format!("{} and {}", v[..v.len() - 1].join(", "), v[v.len() - 1]),
    }
}

/// The headline: what breaks, then the counts.
fn headline(review: &Review) -> String {
    let (e, w, n) = counts(review);
    let mut parts = vec![plural(e, "error"), plural(w, "warning")];
    if n > 0 {
        parts.push(plural(n, "note"));
    }
    let counts = format!("**{}**", parts.join("** and **"));
    if !review.diff {
        return format!("Found {counts}.\n");
    }
    let resolved = review.findings.iter().filter(|f| f.status == Status::Resolved).count();
    let existing = review.findings.iter().filter(|f| f.status == Status::Existing).count();
    let mut out = String::new();
    let breaking: Vec<&RowChange> = review.connectivity.iter().filter(|c| starts_failing(c)).collect();
    if !breaking.is_empty() {
        let namespaces: BTreeSet<&str> = breaking.iter().map(|c| c.key.namespace.as_str()).collect();
        let meshes: BTreeSet<&str> = breaking.iter().map(|c| c.mesh.as_str()).filter(|m| !m.is_empty()).collect();
        let word = if namespaces.len() == 1 { "namespace" } else { "namespaces" };
        let verb = if breaking.len() == 1 { "starts" } else { "start" };
        let mut line = format!(
            "❌ **{} {verb} failing** (services in {word} {}",
            plural(breaking.len(), "client path"),
            code_list(&namespaces)
        );
        if !meshes.is_empty() {
            line.push_str(&format!(", {} {}", if meshes.len() == 1 { "mesh" } else { "meshes" }, code_list(&meshes)));
        }
        line.push_str(").\n\n");
        out.push_str(&line);
    }
    let fixed = review.connectivity.iter().filter(|c| stops_failing(c)).count();
    if fixed > 0 {
        let verb = if fixed == 1 { "stops" } else { "stop" };
        out.push_str(&format!("✅ {} {verb} failing.\n\n", plural(fixed, "client path")));
    }
    out.push_str(&format!("This change introduces {counts}; it resolves {resolved}, and {existing} existed before.\n"));
    out
}

/// Why a finding on a deleted file is there: the deletion. `None` when no anchor is a deleted file.
pub fn deletion_cause(review: &Review, f: &Finding) -> Option<String> {
    let paths: BTreeSet<&str> = f
        .anchors
        .iter()
        .flatten()
        .filter(|a| a.side == Side::Base && super::deleted_file(review, &a.path))
        .map(|a| a.path.as_str())
        .collect();
    (!paths.is_empty()).then(|| format!("caused by deleting {}", code_list(&paths)))
}

/// One short line of a finding: icon, linked code, title and clause, object, `path:line`.
fn finding_line(review: &Review, f: &Finding, docs_base: &str, badge: bool) -> String {
    let lead = if badge { format!("{} ", icon(f.severity)) } else { String::new() };
    let side = if review.diff && f.location.side == Side::Base { " (base)" } else { "" };
    let mut s = format!(
        "{lead}[{code}]({url}) **{title}**: {clause}. {obj}, `{path}:{line}`{side}{mesh}",
        code = f.code,
        url = rule_url(docs_base, f.code),
        title = escape(title(f.code)),
        clause = escape(&f.short_clause()),
        obj = escape(&f.object.to_string()),
        path = escape(&f.location.path),
        line = line_range(f.location.line, f.location.end_line),
        mesh = escape(&super::mesh_note(review, f)),
    );
    if f.status == Status::Introduced {
        if let Some(cause) = deletion_cause(review, f) {
            s.push_str(&format!(" — {cause}"));
        } else if f.anchors.as_ref().is_some_and(Vec::is_empty) {
            s.push_str(" (no changed line)");
        }
    }
    s
}

/// Renders the review as Markdown with rule links under `docs_base`.
pub fn render(review: &Review, docs_base: &str) -> String {
    let mut out = String::from("## mtls-review\n\n");
    out.push_str(&headline(review));
    if review.config_changed {
        out.push_str(
            "\n> [!NOTE]\n> This change edits `.mtls-review.yaml`. The review used the base branch's version, so a change \
             cannot silence its own findings.\n",
        );
    }
    let status_main = if review.diff { Status::Introduced } else { Status::Existing };
    let main: Vec<&Finding> = review.findings.iter().filter(|f| f.status == status_main).collect();
    if !main.is_empty() {
        let heading = if review.diff { "Introduced" } else { "Findings" };
        out.push_str(&format!("\n### {heading} ({})\n\n", main.len()));
        for block in blocks(&main) {
            out.push_str(&format!("- {}\n", finding_line(review, block[0], docs_base, true)));
            if let Some(fix) = &block[0].fix {
                let all = if block.len() > 1 { " (resolves the whole group)" } else { "" };
                out.push_str(&format!("  - **Fix**{all}: {}\n", escape(&fix.description)));
            }
            for m in &block[1..] {
                out.push_str(&format!("  - same cause: {}\n", finding_line(review, m, docs_base, true)));
            }
            let group_fix = block[0].fix.as_ref().map(|x| x.description.as_str());
            for m in &block[1..] {
                if let Some(fix) = m.fix.as_ref().filter(|x| Some(x.description.as_str()) != group_fix) {
                    out.push_str(&format!("  - alternative fix: {}\n", escape(&fix.description)));
                }
            }
        }
    }
    if review.diff {
        out.push_str(&graph_section(review));
        out.push_str(&posture_section(review));
        if !review.connectivity.is_empty() {
            let n = review.connectivity.len();
            out.push_str(&format!(
                "\n<details><summary>Connectivity changes: {}</summary>\n\n{}\n</details>\n",
                plural(n, "client path"),
                connectivity_table(&review.connectivity)
            ));
        }
        let resolved: Vec<&Finding> = review.findings.iter().filter(|f| f.status == Status::Resolved).collect();
        if !resolved.is_empty() {
            out.push_str(&format!("\n### Resolved ({})\n\n", resolved.len()));
            for f in resolved {
                out.push_str(&format!("- ✅ resolved: {}\n", finding_line(review, f, docs_base, false)));
            }
        }
        let existing: Vec<&Finding> = review.findings.iter().filter(|f| f.status == Status::Existing).collect();
        if !existing.is_empty() {
            out.push_str(&format!(
                "\n<details><summary>Existing before this change ({})</summary>\n\n",
                existing.len()
            ));
            for f in existing {
                out.push_str(&format!("- {} {}\n", f.severity, finding_line(review, f, docs_base, false)));
            }
            out.push_str("\n</details>\n");
        }
    }
    let errors: Vec<_> = review.errors.iter().filter(|e| e.error.kind.is_fatal()).collect();
    if !errors.is_empty() {
        out.push_str(&format!("\n### Files not analyzed ({})\n\n", errors.len()));
        for e in errors {
            let intro = if review.diff && e.introduced { " — **introduced by this change**" } else { "" };
            out.push_str(&format!(
                "- `{}:{}`: {}{intro}\n",
                escape(&e.error.path),
                e.error.line,
                escape(&e.error.message)
            ));
        }
    }
    if review.findings.is_empty() && review.errors.is_empty() {
        out.push_str("\nNo mTLS findings. ✅\n");
    }
    out
}

/// Findings in blocks: each alone, or the adjacent findings of one cause group (the worst first).
fn blocks<'a>(items: &[&'a Finding]) -> Vec<Vec<&'a Finding>> {
    let mut out: Vec<Vec<&Finding>> = Vec::new();
    for f in items {
        match out.last_mut() {
            Some(last) if f.group.is_some() && last[0].group == f.group => last.push(f),
            _ => out.push(vec![f]),
        }
    }
    out
}

/// The scopes whose modes change, inside `<details>`: one narrow row each (scope, server mode, client TLS); what
/// decides them below the table.
fn posture_section(review: &Review) -> String {
    let p = &review.posture;
    if p.changed.is_empty() {
        return "\nmTLS posture: unchanged.\n".to_string();
    }
    let mut table = String::from("| Scope | Server mode | Client TLS |\n|---|---|---|\n");
    let mut notes = String::new();
    for scope in &p.changed {
        let before = p.before.iter().find(|x| &x.scope == scope);
        let after = p.after.iter().find(|x| &x.scope == scope);
        let cell = |f: fn(&NamespacePosture) -> String| {
            let b = before.map(f).unwrap_or_else(|| "—".into());
            let a = after.map(f).unwrap_or_else(|| "—".into());
            if a == b { escape(&b) } else { format!("{} → **{}**", escape(&b), escape(&a)) }
        };
        let server = cell(|x| x.server_mode.clone());
        let client = cell(|x| x.client_tls.clone());
        let scope_label =
            if scope == "mesh" || scope.ends_with(": mesh") { escape(scope) } else { format!("`{}`", escape(scope)) };
        table.push_str(&format!("| {scope_label} | {server} | {client} |\n"));
        if let Some(x) = after.or(before) {
            let mut d = format!("server mode by {}", decided_by(&x.server_decided_by));
            if let Some(c) = &x.client_decided_by {
                d.push_str(&format!("; client TLS by {c}"));
            }
            notes.push_str(&format!("- {scope_label}: {}\n", escape(&d)));
        }
    }
    format!(
        "\n<details><summary>mTLS posture: {} changed</summary>\n\n{table}\n{notes}\n</details>\n",
        plural(p.changed.len(), "scope")
    )
}

/// Who the clients of a path are, in a few words.
fn clients(c: &RowChange) -> String {
    let k = &c.key;
    let mut s = if k.client_namespace == OTHER_NAMESPACES {
        "other namespaces".to_string()
    } else {
        format!("`{}`", escape(&k.client_namespace))
    };
    if let Some(sel) = &k.client_selector {
        s.push_str(&format!(" [{}]", escape(sel)));
    }
    if k.client_kind != crate::posture::ClientKind::Sidecar {
        s.push_str(&format!(" ({})", k.client_kind.as_str()));
    }
    s
}

/// One side of a path: its verdict, and the server mode and client TLS where they differ from the other side.
fn state(r: Option<&crate::posture::Row>, other: Option<&crate::posture::Row>) -> String {
    let Some(r) = r else { return "(none)".to_string() };
    let mut s = r.verdict.as_str().to_string();
    let mut what = Vec::new();
    if other.is_none_or(|o| o.server_mode != r.server_mode) {
        what.push(format!("server {}", r.server_mode));
    }
    if other.is_none_or(|o| o.client_tls != r.client_tls) {
        what.push(format!("client {}", r.client_tls));
    }
    if !what.is_empty() {
        s.push_str(&format!(" ({})", what.join(", ")));
    }
    s
}

/// The connectivity changes as a three-column table: the path, before, after.
fn connectivity_table(changes: &[RowChange]) -> String {
    let mut out = String::from("| Client path | Before | After |\n|---|---|---|\n");
    for c in changes {
        let mesh = if c.mesh.is_empty() { String::new() } else { format!("{}: ", escape(&c.mesh)) };
        let after = state(c.after.as_ref(), c.before.as_ref());
        let after = if starts_failing(c) { format!("**{}**", escape(&after)) } else { escape(&after) };
        out.push_str(&format!(
            "| {mesh}{} → `{}/{}:{}` | {} | {after} |\n",
            clients(c),
            escape(&c.key.namespace),
            escape(&c.key.name),
            c.key.port,
            escape(&state(c.before.as_ref(), c.after.as_ref())),
        ));
    }
    out
}

/// Text for a Mermaid label in double quotes.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;").replace('`', "")
}

/// The connectivity changes as a Mermaid flowchart: client namespaces and services as nodes (one subgraph per
/// mesh when there are several), each changed client path as an edge labelled `port: before → after`, paths
/// that start failing in red (and marked ❌), paths that stop failing in green. Only the changed paths and
/// the nodes they join are drawn; above [`MAX_GRAPH_EDGES`] paths the graph is left out.
pub fn mermaid(changes: &[RowChange]) -> Option<String> {
    if changes.is_empty() || changes.len() > MAX_GRAPH_EDGES {
        return None;
    }
    let mut nodes: Vec<(String, String, String)> = Vec::new(); // (mesh, key, label)
    let id = |nodes: &mut Vec<(String, String, String)>, mesh: &str, key: String, label: String| -> usize {
        match nodes.iter().position(|(m, k, _)| m == mesh && *k == key) {
            Some(i) => i,
            None => {
                nodes.push((mesh.to_string(), key, label));
                nodes.len() - 1
            }
        }
    };
    let mut edges: Vec<(usize, usize, String, Option<&str>)> = Vec::new();
    for c in changes {
        let k = &c.key;
        let client_label = clients(c).replace('`', "");
        let from = id(&mut nodes, &c.mesh, format!("c:{client_label}"), format!("clients in {client_label}"));
        let to =
            id(&mut nodes, &c.mesh, format!("s:{}/{}", k.namespace, k.name), format!("{}/{}", k.namespace, k.name));
        let short =
            |r: Option<&crate::posture::Row>| r.map(|r| r.verdict.as_str().to_string()).unwrap_or("(none)".into());
        let (b, a) = (short(c.before.as_ref()), short(c.after.as_ref()));
        let colour = if starts_failing(c) {
            Some("stroke:#d73a49,stroke-width:3px")
        } else if stops_failing(c) {
            Some("stroke:#2da44e,stroke-width:2px")
        } else {
            None
        };
        let mark = if starts_failing(c) { "❌ " } else { "" };
        edges.push((from, to, format!("{mark}{}: {b} → {a}", k.port), colour));
    }
    let mut out = String::from("```mermaid\nflowchart LR\n");
    let meshes: Vec<&str> = {
        let mut m: Vec<&str> = nodes.iter().map(|(m, _, _)| m.as_str()).collect();
        m.dedup();
        let set: BTreeSet<&str> = m.into_iter().collect();
        set.into_iter().collect()
    };
    for (mi, mesh) in meshes.iter().enumerate() {
        let indent = if mesh.is_empty() { "  " } else { "    " };
        if !mesh.is_empty() {
            out.push_str(&format!("  subgraph m{mi}[\"mesh {}\"]\n", mermaid_text(mesh)));
        }
        for (i, (m, key, label)) in nodes.iter().enumerate() {
            if m == mesh {
                let shape = if key.starts_with("c:") {
                    format!("([\"{}\"])", mermaid_text(label))
                } else {
                    format!("[\"{}\"]", mermaid_text(label))
                };
                out.push_str(&format!("{indent}n{i}{shape}\n"));
            }
        }
        if !mesh.is_empty() {
            out.push_str("  end\n");
        }
    }
    for (from, to, label, _) in &edges {
        out.push_str(&format!("  n{from} -->|\"{}\"| n{to}\n", mermaid_text(label)));
    }
    for (i, (_, _, _, colour)) in edges.iter().enumerate() {
        if let Some(c) = colour {
            out.push_str(&format!("  linkStyle {i} {c}\n"));
        }
    }
    out.push_str("```\n");
    Some(out)
}

fn graph_section(review: &Review) -> String {
    let n = review.connectivity.len();
    if n == 0 {
        return String::new();
    }
    match mermaid(&review.connectivity) {
        Some(g) => format!("\n### Connectivity changes\n\n{g}"),
        None => format!(
            "\n### Connectivity changes\n\n{} change: more than {MAX_GRAPH_EDGES}, too many to draw; the table below \
             lists them.\n",
            plural(n, "client path")
        ),
    }
}

/// The review summary with the default rule links (the GitHub step summary and review body).
pub fn render_review(review: &Review) -> String {
    render(review, super::DEFAULT_DOCS_URL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_implicit_mode_is_named_as_istios_default() {
        assert_eq!(decided_by("default"), "Istio default (PERMISSIVE)");
        assert_eq!(
            decided_by("namespace PeerAuthentication shop/default"),
            "namespace PeerAuthentication shop/default"
        );
    }

    #[test]
    fn a_grouped_summary_is_short_lines_with_resolved_ones_without_badges() {
        let mut review = crate::report::text::tests::grouped_review();
        review.connectivity = changes(2, "STRICT", "DISABLE");
        let md = render(&review, crate::report::DEFAULT_DOCS_URL);
        insta::assert_snapshot!("markdown_grouped", md);
        assert_eq!(md.matches("\n- 🔴").count(), 1, "one item for the group: {md}");
        assert!(md.contains("  - same cause: 🔴 [TIS0206]"), "{md}");
        assert!(md.contains("- ✅ resolved: [TIS0207]"), "{md}");
        assert!(!md.contains("| | Rule |"), "no wide findings table: {md}");
        assert!(md.contains("❌ **2 client paths start failing** (services in namespace `shop`)"), "{md}");
        assert!(md.contains("```mermaid\n"), "{md}");
        for l in md.lines().filter(|l| l.starts_with('|')) {
            assert!(l.matches(" | ").count() <= 3, "at most three columns: {l}");
        }
    }

    /// The connectivity diff of `n` services in namespace `shop` when the namespace's PeerAuthentication goes
    /// from `before` to `after` under a DestinationRule originating ISTIO_MUTUAL.
    fn changes(n: usize, before: &str, after: &str) -> Vec<RowChange> {
        use crate::posture::{compute, diff};
        use crate::rules::testing::{dr, mesh, pa};
        let services: String = (0..n)
            .map(|i| {
                format!(
                    "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: shop}}\nspec:\n  selector: {{app: s{i}}}\n  ports: [{{port: 80}}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: s{i}, namespace: shop}}\nspec:\n  template:\n    metadata:\n      labels: {{app: s{i}}}\n      annotations: {{sidecar.istio.io/inject: \"true\"}}\n    spec:\n      containers: [{{name: app, ports: [{{containerPort: 80}}]}}]\n"
                )
            })
            .collect();
        let tree = |mode: &str| {
            services.clone()
                + &pa("shop", "default", Some(mode), false)
                + &dr("shop", "all", "*.shop.svc.cluster.local", Some("ISTIO_MUTUAL"))
        };
        diff(&compute(&mesh(&tree(before))), &compute(&mesh(&tree(after))))
    }

    #[test]
    fn the_graph_marks_failing_paths_and_is_left_out_when_large() {
        let breaking = changes(1, "STRICT", "DISABLE");
        assert!(!breaking.is_empty() && breaking.iter().all(starts_failing), "{breaking:?}");
        let g = mermaid(&breaking).expect("a graph");
        assert!(g.starts_with("```mermaid\nflowchart LR\n"), "{g}");
        assert!(g.contains("-->|\"❌ 80: mtls → fail: "), "{g}");
        assert!(g.contains("linkStyle 0 stroke:#d73a49"), "{g}");
        let fixing = changes(1, "DISABLE", "STRICT");
        assert!(mermaid(&fixing).expect("a graph").contains("linkStyle 0 stroke:#2da44e"));
        let many = changes(MAX_GRAPH_EDGES + 1, "STRICT", "DISABLE");
        assert!(many.len() > MAX_GRAPH_EDGES, "{}", many.len());
        assert!(mermaid(&many).is_none());
        assert!(mermaid(&many[..MAX_GRAPH_EDGES]).is_some());
    }
}
