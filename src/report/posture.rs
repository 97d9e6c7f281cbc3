//! The posture table (`mtls-review posture`) as aligned text and as Markdown, for a snapshot and for a diff.

use crate::posture::{OTHER_NAMESPACES, Row, RowChange, RowKey, SharedRef};

/// Column headers, in order.
pub const HEADERS: [&str; 7] =
    ["SERVICE:PORT", "CLIENT NS", "SERVER MODE", "CLIENT TLS", "VERDICT", "PEERAUTHENTICATION", "DESTINATIONRULE"];

type Cells = [String; 7];

fn refs(list: &[SharedRef]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.iter().map(|r| format!("{}/{}", r.namespace, r.name)).collect::<Vec<_>>().join(", ")
}

fn service_cell(key: &RowKey) -> String {
    format!("{}/{}:{}", key.namespace, key.name, key.port)
}

fn client_cell(key: &RowKey, others: usize) -> String {
    let mut s = key.client_namespace.clone();
    if key.client_namespace == OTHER_NAMESPACES && others > 0 {
        s.push_str(&format!(" ({others} other namespace{})", if others == 1 { "" } else { "s" }));
    }
    if let Some(sel) = &key.client_selector {
        s.push_str(&format!(" [{sel}]"));
    }
    if key.client_kind != crate::posture::ClientKind::Sidecar {
        s.push_str(&format!(" ({})", key.client_kind.as_str()));
    }
    s
}

/// The five cells that describe a row's state (after SERVICE:PORT and CLIENT NS).
fn state_cells(r: &Row) -> [String; 5] {
    [
        r.server_mode.clone(),
        r.client_tls.clone(),
        r.verdict.as_str().to_string(),
        refs(&r.peer_authentications),
        refs(&r.destination_rules),
    ]
}

fn row_cells(r: &Row) -> Cells {
    let key = r.key();
    let [a, b, c, d, e] = state_cells(r);
    [service_cell(&key), client_cell(&key, r.other_namespaces), a, b, c, d, e]
}

fn change_cells(ch: &RowChange) -> Cells {
    const NONE: &str = "(none)";
    let before = ch.before.as_ref().map(state_cells);
    let after = ch.after.as_ref().map(state_cells);
    let cell = |i: usize| -> String {
        let b = before.as_ref().map(|c| c[i].as_str()).unwrap_or(NONE);
        let a = after.as_ref().map(|c| c[i].as_str()).unwrap_or(NONE);
        if a == b { a.to_string() } else { format!("{b} -> {a}") }
    };
    [service_cell(&ch.key), client_cell(&ch.key, 0), cell(0), cell(1), cell(2), cell(3), cell(4)]
}

fn text_table(rows: Vec<Cells>, empty: &str) -> String {
    if rows.is_empty() {
        return format!("{empty}\n");
    }
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&HEADERS);
    for r in &rows {
        out.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    out
}

fn markdown_table(rows: Vec<Cells>, empty: &str) -> String {
    if rows.is_empty() {
        return format!("_{empty}_\n");
    }
    let esc = |c: &str| c.replace('|', "\\|");
    let mut out = format!("| {} |\n|{}\n", HEADERS.join(" | "), "---|".repeat(HEADERS.len()));
    for r in &rows {
        out.push_str(&format!("| {} |\n", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

/// The posture table as aligned text.
pub fn render_text(rows: &[std::sync::Arc<Row>]) -> String {
    text_table(rows.iter().map(|r| row_cells(r)).collect(), "no client paths found")
}

/// The posture table as a Markdown table.
pub fn render_markdown(rows: &[std::sync::Arc<Row>]) -> String {
    markdown_table(rows.iter().map(|r| row_cells(r)).collect(), "no client paths found")
}

/// The posture diff as aligned text: changed cells read `before -> after`.
pub fn render_diff_text(changes: &[RowChange]) -> String {
    text_table(changes.iter().map(change_cells).collect(), "no client path changes")
}

/// The posture diff as a Markdown table: changed cells read `before -> after`.
pub fn render_diff_markdown(changes: &[RowChange]) -> String {
    markdown_table(changes.iter().map(change_cells).collect(), "no client path changes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::{compute, diff};
    use crate::rules::testing::{dr, mesh};

    const TREE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: shop}\nspec:\n  selector: {app: cart}\n  ports: [{port: 80}]\n";

    #[test]
    fn empty_tables_say_so() {
        assert_eq!(render_text(&[]), "no client paths found\n");
        assert_eq!(render_markdown(&[]), "_no client paths found_\n");
        assert_eq!(render_diff_text(&[]), "no client path changes\n");
    }

    #[test]
    fn text_columns_line_up_and_diff_cells_show_both_sides() {
        let before = compute(&mesh(&(TREE.to_string() + &dr("shop", "cart", "cart", Some("ISTIO_MUTUAL")))));
        let after = compute(&mesh(&(TREE.to_string() + &dr("shop", "cart", "cart", Some("DISABLE")))));
        let text = render_text(&before.rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].find("CLIENT NS"), lines[1].find("shop "));
        let md = render_diff_markdown(&diff(&before, &after));
        assert!(md.contains("| ISTIO_MUTUAL -> DISABLE |"), "{md}");
        assert!(md.starts_with("| SERVICE:PORT | CLIENT NS |"));
    }
}
