//! Fixes: turns a rule's semantic fix plan into one line-range replacement that keeps the file's style
//! (indentation, quoting, line endings, flow or block style, apiVersion). Verification (applying it to an
//! in-memory copy and analyzing again) is the analysis layer's: [`crate::analysis::verify`].

use crate::finding::Fix;
use crate::manifest::yaml::{NodeId, Style, Value};
use crate::manifest::{LoadedFile, Object, SourceText};
use crate::mesh::{Mesh, ObjId};
use crate::rules::{FixEdit, FixPlan, NewObject};
use std::sync::Arc;

/// One edit as lines: replace `start..=end` (1-based) with `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineEdit {
    path: String,
    start: usize,
    end: usize,
    lines: Vec<String>,
}

/// Applies a fix to a text, keeping its line endings.
pub fn apply(text: &str, crlf: bool, fix: &Fix) -> String {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let start = fix.start_line.saturating_sub(1).min(lines.len());
    let end = fix.end_line.min(lines.len()).max(start);
    let new: Vec<&str> = if fix.replacement.is_empty() { Vec::new() } else { fix.replacement.split('\n').collect() };
    lines.splice(start..end, new);
    lines.join(nl)
}

pub(crate) fn render_plan(files: &[LoadedFile], mesh: &Mesh, plan: &FixPlan) -> Result<Fix, Vec<String>> {
    let mut edits = Vec::new();
    for e in &plan.edits {
        edits.push(render_edit(files, mesh, e)?);
    }
    let first = edits.first().ok_or_else(Vec::new)?;
    let path = first.path.clone();
    if edits.iter().any(|e| e.path != path) {
        return Err(vec![format!("{} (edits more than one file; apply by hand)", plan.description)]);
    }
    let src = source_of(files, &path).ok_or_else(Vec::new)?;
    let orig = src.lines();
    edits.sort_by_key(|e| e.start);
    for w in edits.windows(2) {
        if w[1].start <= w[0].end {
            return Err(Vec::new());
        }
    }
    let start = edits.iter().map(|e| e.start).min().unwrap_or(1);
    let end = edits.iter().map(|e| e.end).max().unwrap_or(start);
    let mut out: Vec<String> = Vec::new();
    let mut line = start;
    for e in &edits {
        while line < e.start {
            out.push(orig.get(line - 1).copied().unwrap_or("").to_string());
            line += 1;
        }
        out.extend(e.lines.iter().cloned());
        line = e.end + 1;
    }
    Ok(Fix {
        description: plan.description.clone(),
        path,
        start_line: start,
        end_line: end,
        replacement: out.join("\n"),
    })
}

pub(crate) fn source_of<'a>(files: &'a [LoadedFile], path: &str) -> Option<&'a SourceText> {
    files
        .iter()
        .filter_map(|f| f.source.as_deref())
        .find(|s| s.path == path)
        .or_else(|| files.iter().flat_map(|f| f.inputs.iter()).map(|s| &**s).find(|s| s.path == path))
}

/// The document a fix of `field` edits and its text: the object itself when it was read from a source file; for a
/// rendered object, the source document or patch file that writes the field last (the overlay's patch when a
/// patch sets it, not the base). `None` when no line edit can reach it (an inline patch, a generated value).
fn edit_target<'a>(files: &'a [LoadedFile], o: &Arc<Object>, field: &[&str]) -> Option<(Arc<Object>, &'a SourceText)> {
    let doc = match &o.provenance {
        Some(p) => p.editable_source(field)?.clone(),
        None => o.clone(),
    };
    let src = source_of(files, &doc.path)?;
    Some((doc, src))
}

fn render_edit(files: &[LoadedFile], mesh: &Mesh, edit: &FixEdit) -> Result<LineEdit, Vec<String>> {
    match edit {
        FixEdit::SetField { object, field, value } => {
            let (o, src) = edit_target(files, &mesh.objects[*object], field).ok_or_else(Vec::new)?;
            set_field(src, &o, field, value).ok_or_else(Vec::new)
        }
        FixEdit::AddObject { after, object } => add_object(files, mesh, *after, object),
        FixEdit::RemoveField { object, field } => {
            let (o, src) = edit_target(files, &mesh.objects[*object], field).ok_or_else(Vec::new)?;
            remove_field(src, &o, field).ok_or_else(Vec::new)
        }
        FixEdit::SetPortLevelTlsMode { object, port, mode } => {
            let field = ["spec", "trafficPolicy", "portLevelSettings"];
            let (o, src) = edit_target(files, &mesh.objects[*object], &field).ok_or_else(Vec::new)?;
            set_port_level_tls(src, &o, *port, mode).ok_or_else(Vec::new)
        }
        FixEdit::RenamePortLevelMtlsKey { object, from, to } => {
            let field = ["spec", "portLevelMtls"];
            let (o, src) = edit_target(files, &mesh.objects[*object], &field).ok_or_else(Vec::new)?;
            rename_port_key(src, &o, from, *to).ok_or_else(Vec::new)
        }
    }
}

/// How the file writes things.
struct FileStyle {
    indent: usize,
    quote: Option<char>,
    json: bool,
}

fn file_style(o: &Object) -> FileStyle {
    let t = &o.tree;
    let json = o.path.to_ascii_lowercase().ends_with(".json");
    let mut indent = 2;
    if let Some(meta) = t.get(o.root, "metadata")
        && let Some((k, _)) = t.entries(meta).first()
        && let Some((rk, _)) = t.entries(o.root).first()
    {
        let d = t.node(*k).col.saturating_sub(t.node(*rk).col);
        if (1..=8).contains(&d) && !t.is_flow(meta) {
            indent = d;
        }
    }
    let quote = t.path(o.root, &["metadata", "name"]).and_then(|n| match &t.node(t.resolve(n)).value {
        Value::Scalar { style: Style::DoubleQuoted, .. } => Some('"'),
        Value::Scalar { style: Style::SingleQuoted, .. } => Some('\''),
        _ => None,
    });
    FileStyle { indent, quote: if json { Some('"') } else { quote }, json }
}

/// The quote character a scalar was written with.
fn quote_of(style: Style) -> Option<char> {
    match style {
        Style::DoubleQuoted => Some('"'),
        Style::SingleQuoted => Some('\''),
        _ => None,
    }
}

fn quoted(value: &str, quote: Option<char>) -> String {
    match quote {
        Some('\'') => format!("'{}'", value.replace('\'', "''")),
        Some(_) => format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")),
        None => value.to_string(),
    }
}

/// A value that must be quoted in YAML whatever the file's style (hosts start with `*`).
fn must_quote(value: &str, style: &FileStyle) -> String {
    if style.quote.is_some() { quoted(value, style.quote) } else { quoted(value, Some('"')) }
}

fn key(k: &str, style: &FileStyle) -> String {
    if style.json { format!("\"{k}\"") } else { k.to_string() }
}

/// Byte range of the scalar token that starts at char column `col` on `line`.
fn scalar_token(line: &str, col: usize, style: Style, text: &str) -> Option<(usize, usize)> {
    let start = line.char_indices().nth(col).map(|(i, _)| i)?;
    let rest = &line[start..];
    let len = match style {
        Style::Plain => {
            if !rest.starts_with(text) {
                return None;
            }
            text.len()
        }
        Style::DoubleQuoted => {
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            end?
        }
        Style::SingleQuoted => {
            let b = rest.as_bytes();
            let mut i = 1;
            loop {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break i + 1;
                }
                i += 1;
            }
        }
        Style::Literal | Style::Folded => return None,
    };
    Some((start, start + len))
}

fn set_field(src: &SourceText, o: &Object, field: &[&str], value: &str) -> Option<LineEdit> {
    set_field_under(src, o, o.root, field, value)
}

/// Sets the scalar at `field` (keys under the node `base`) to `value`, inserting missing keys.
fn set_field_under(src: &SourceText, o: &Object, base: NodeId, field: &[&str], value: &str) -> Option<LineEdit> {
    let t = &o.tree;
    let lines = src.lines();
    let style = file_style(o);
    let path = src.path.clone();
    // The field exists: rewrite its scalar in place, keeping the quoting.
    if let Some(n) = t.path(base, field) {
        let n = t.resolve(n);
        let node = t.node(n);
        let Value::Scalar { text, style: sstyle } = &node.value else { return None };
        let (last, parent) = field.split_last()?;
        if t.is_null(n) {
            // `mode: ~` or `"mode": null`: replace the null token, keeping what follows it on the line (a flow
            // mapping's other entries and brackets, a comma, a comment).
            if !text.is_empty()
                && node.line == node.end_line
                && let Some(line) = lines.get(node.line - 1)
                && let Some((a, b)) = scalar_token(line, node.col, Style::Plain, text)
            {
                let new = format!("{}{}{}", &line[..a], quoted(value, style.quote), &line[b..]);
                return Some(LineEdit { path, start: node.line, end: node.line, lines: vec![new] });
            }
            // `mode:` with nothing after it: rewrite from the key (block style; in a flow mapping the line goes on).
            let p = t.path(base, parent)?;
            if t.is_flow(p) {
                return None;
            }
            let k = t.node(t.key_node(p, last)?);
            let line = lines.get(k.line - 1)?;
            let kstart = line.char_indices().nth(k.col).map(|(i, _)| i)?;
            let new = format!("{}{last}: {}", &line[..kstart], quoted(value, style.quote));
            return Some(LineEdit { path, start: k.line, end: k.line, lines: vec![new] });
        }
        if node.line != node.end_line {
            return None;
        }
        let line = lines.get(node.line - 1)?;
        let (a, b) = scalar_token(line, node.col, *sstyle, text)?;
        let q = quote_of(*sstyle);
        let new = format!("{}{}{}", &line[..a], quoted(value, q), &line[b..]);
        return Some(LineEdit { path, start: node.line, end: node.line, lines: vec![new] });
    }
    // The field is missing: find the deepest existing parent and insert the rest beneath it.
    // `k` keys of `field` exist (the whole field does not: handled above); the parent is `base` when none does.
    let (k, parent) =
        (1..field.len()).rev().find_map(|k| t.path(base, &field[..k]).map(|n| (k, t.resolve(n)))).unwrap_or((0, base));
    let rest = &field[k..];
    // A null parent (`mtls:`, `mtls: ~`) below an existing key `field[kp]` (never `base` itself, an object or a
    // list item).
    if let Some(kp) = k.checked_sub(1)
        && t.is_null(parent)
    {
        let pp = t.path(base, &field[..kp])?;
        if style.json || t.is_flow(pp) {
            // `"mtls": null`, `{mtls: ~}` or `{mtls: }` (an empty null stands where its value would): the null token
            // becomes a flow mapping, the rest of the line stays.
            let pn = t.node(parent);
            let Value::Scalar { text, .. } = &pn.value else { return None };
            if pn.line != pn.end_line {
                return None;
            }
            let line = lines.get(pn.line - 1)?;
            let (a, b) = scalar_token(line, pn.col, Style::Plain, text)?;
            let new = format!("{}{}{}", &line[..a], flow_nest(rest, value, &style), &line[b..]);
            return Some(LineEdit { path, start: pn.line, end: pn.line, lines: vec![new] });
        }
        // `mtls:` (or `mtls: ~`) in a block mapping: keep the key line, add the children under it.
        let keynode = t.node(t.key_node(pp, field[kp])?);
        let line = lines.get(keynode.line - 1)?;
        let kstart = line.char_indices().nth(keynode.col).map(|(i, _)| i)?;
        let mut out = vec![format!("{}{}:", &line[..kstart], field[kp])];
        out.extend(block_nest(rest, value, keynode.col + style.indent, &style));
        return Some(LineEdit { path, start: keynode.line, end: keynode.line, lines: out });
    }
    if !t.is_map(parent) {
        return None;
    }
    let pnode = t.node(parent);
    if t.is_flow(parent) {
        let entries = t.entries(parent);
        if pnode.line == pnode.end_line {
            let line = lines.get(pnode.line - 1)?;
            let open = line.char_indices().nth(pnode.col).map(|(i, _)| i)?;
            let close = matching_close(line, open)?;
            let inner = line[open + 1..close].trim();
            let entry = format!("{}: {}", key(rest[0], &style), flow_nest(&rest[1..], value, &style));
            let new_inner =
                if inner.is_empty() { entry } else { format!("{}, {entry}", line[open + 1..close].trim_end()) };
            let new_inner = if inner.is_empty() { new_inner } else { new_inner.trim_start().to_string() };
            let pad = if line[open + 1..].starts_with(' ') { " " } else { "" };
            let new = format!("{}{{{pad}{new_inner}{pad}}}{}", &line[..open], &line[close + 1..]);
            return Some(LineEdit { path, start: pnode.line, end: pnode.line, lines: vec![new] });
        }
        // A multi-line flow mapping (pretty JSON): a new first entry on its own line after the `{` line.
        let (first_key, _) = entries.first()?;
        let fk = t.node(*first_key);
        if fk.line == pnode.line {
            return None;
        }
        let open_line = lines.get(pnode.line - 1)?.to_string();
        let entry =
            format!("{}{}: {},", " ".repeat(fk.col), key(rest[0], &style), flow_nest(&rest[1..], value, &style));
        return Some(LineEdit { path, start: pnode.line, end: pnode.line, lines: vec![open_line, entry] });
    }
    // A block mapping: add after its last line, at its keys' indentation.
    let col = t.entries(parent).first().map(|(k, _)| t.node(*k).col)?;
    let end = pnode.end_line;
    let last = lines.get(end - 1)?.to_string();
    let mut out = vec![last];
    out.extend(block_nest(rest, value, col, &style));
    Some(LineEdit { path, start: end, end, lines: out })
}

fn block_nest(keys: &[&str], value: &str, col: usize, style: &FileStyle) -> Vec<String> {
    let mut out = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let pad = " ".repeat(col + i * style.indent);
        if i + 1 == keys.len() {
            out.push(format!("{pad}{k}: {}", quoted(value, style.quote)));
        } else {
            out.push(format!("{pad}{k}:"));
        }
    }
    out
}

fn flow_nest(keys: &[&str], value: &str, style: &FileStyle) -> String {
    let mut s = quoted(value, style.quote);
    for k in keys.iter().rev() {
        s = format!("{{{}: {s}}}", key(k, style));
    }
    s
}

/// Byte index of the bracket that closes the one at `open` on the same line (quotes respected).
fn matching_close(line: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    // Inside a quote only its closing quote matters (every other character falls to the last arm).
    for (i, c) in line[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The apiVersion the repository already uses for a kind (most common), else the default.
fn api_version_for(mesh: &Mesh, kind: &str, default: &str) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for o in mesh.objects.iter().filter(|o| o.kind == kind && !o.api_version.is_empty()) {
        *counts.entry(o.api_version.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(v, c)| (*c, *v == default))
        .map(|(v, _)| v.to_string())
        .unwrap_or_else(|| default.to_string())
}

/// A name not yet taken by `kind` in `namespace`: `base`, then `base-mtls`, `base-mtls-2`, ... (for names
/// that already end in `-mtls`: `base-2`, `base-3`, ...).
pub fn free_name(mesh: &Mesh, kind: &str, namespace: &str, base: &str) -> String {
    let taken = mesh.names_in(kind, namespace);
    if !taken.contains(base) {
        return base.to_string();
    }
    let stem = if base.ends_with("-mtls") { base.to_string() } else { format!("{base}-mtls") };
    if !taken.contains(stem.as_str()) {
        return stem;
    }
    (2..).map(|i| format!("{stem}-{i}")).find(|n| !taken.contains(n.as_str())).unwrap_or(stem)
}

/// A small YAML tree for objects and subtrees that fixes add.
#[derive(Debug, Clone)]
enum Y {
    /// A string, quoted as the file quotes (always quoted when YAML needs it, e.g. `*.local`).
    Str(String),
    /// A number, never quoted.
    Num(u32),
    Map(Vec<(String, Y)>),
    List(Vec<Y>),
}

fn ystr(s: &str) -> Y {
    Y::Str(s.to_string())
}

fn ymap(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn scalar_text(y: &Y, style: &FileStyle) -> String {
    match y {
        Y::Str(v) if v.starts_with('*') || v.contains(": ") || v.contains('#') => must_quote(v, style),
        Y::Str(v) => quoted(v, style.quote),
        Y::Num(n) => n.to_string(),
        Y::Map(_) | Y::List(_) => emit_flow(y, style),
    }
}

/// Emits a mapping in block style with its keys at column `col`; with `dash`, the first key sits on a `- ` line
/// (a sequence item whose dash is at `col - 2`).
fn emit_map(entries: &[(String, Y)], col: usize, dash: bool, style: &FileStyle, out: &mut Vec<String>) {
    for (i, (k, v)) in entries.iter().enumerate() {
        let lead = if dash && i == 0 { format!("{}- ", " ".repeat(col.saturating_sub(2))) } else { " ".repeat(col) };
        let k = key(k, style);
        match v {
            Y::Map(children) if !children.is_empty() => {
                out.push(format!("{lead}{k}:"));
                emit_map(children, col + style.indent, false, style, out);
            }
            Y::List(items) if !items.is_empty() => {
                out.push(format!("{lead}{k}:"));
                for item in items {
                    match item {
                        Y::Map(c) => emit_map(c, col + style.indent + 2, true, style, out),
                        other => out.push(format!("{}- {}", " ".repeat(col + style.indent), scalar_text(other, style))),
                    }
                }
            }
            other => out.push(format!("{lead}{k}: {}", scalar_text(other, style))),
        }
    }
}

fn emit_flow(y: &Y, style: &FileStyle) -> String {
    match y {
        Y::Map(entries) => {
            let parts: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}: {}", key(k, style), emit_flow(v, style))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Y::List(items) => format!("[{}]", items.iter().map(|i| emit_flow(i, style)).collect::<Vec<_>>().join(", ")),
        other => scalar_text(other, style),
    }
}

/// A `portLevelSettings` item.
fn port_item(port: u32, mode: &str) -> Y {
    ymap(vec![("port", ymap(vec![("number", Y::Num(port))])), ("tls", ymap(vec![("mode", ystr(mode))]))])
}

/// The whole object a fix adds, in the apiVersion style the repository uses.
fn new_object_tree(mesh: &Mesh, object: &NewObject) -> Y {
    let (api, kind, name, ns, spec) = match object {
        NewObject::PeerAuthentication { namespace, name_base, mode } => (
            api_version_for(mesh, "PeerAuthentication", "security.istio.io/v1"),
            "PeerAuthentication",
            free_name(mesh, "PeerAuthentication", namespace, name_base),
            namespace,
            ymap(vec![("mtls", ymap(vec![("mode", ystr(mode))]))]),
        ),
        NewObject::DestinationRule { namespace, name_base, host, mode } => (
            api_version_for(mesh, "DestinationRule", "networking.istio.io/v1"),
            "DestinationRule",
            free_name(mesh, "DestinationRule", namespace, name_base),
            namespace,
            ymap(vec![("host", ystr(host)), ("trafficPolicy", ymap(vec![("tls", ymap(vec![("mode", ystr(mode))]))]))]),
        ),
        NewObject::PortDestinationRule { namespace, name_base, host, top_mode, ports } => {
            let mut policy = Vec::new();
            if let Some(m) = top_mode {
                policy.push(("tls", ymap(vec![("mode", ystr(m))])));
            }
            if !ports.is_empty() {
                policy.push(("portLevelSettings", Y::List(ports.iter().map(|(p, m)| port_item(*p, m)).collect())));
            }
            (
                api_version_for(mesh, "DestinationRule", "networking.istio.io/v1"),
                "DestinationRule",
                free_name(mesh, "DestinationRule", namespace, name_base),
                namespace,
                ymap(vec![("host", ystr(host)), ("trafficPolicy", ymap(policy))]),
            )
        }
    };
    ymap(vec![
        ("apiVersion", Y::Str(api)),
        ("kind", ystr(kind)),
        ("metadata", ymap(vec![("name", Y::Str(name)), ("namespace", ystr(ns))])),
        ("spec", spec),
    ])
}

/// Renders a new object as block YAML at column 0 with the file's indentation and quoting (apiVersion and kind
/// stay plain, as nearly every manifest writes them).
fn render_block(mesh: &Mesh, object: &NewObject, style: &FileStyle) -> Vec<String> {
    let mut out = Vec::new();
    if let Y::Map(entries) = new_object_tree(mesh, object) {
        let (head, rest) = entries.split_at(2.min(entries.len()));
        for (k, v) in head {
            if let Y::Str(v) = v {
                out.push(format!("{}: {v}", key(k, style)));
            }
        }
        emit_map(rest, 0, false, style, &mut out);
    }
    out
}

/// Renders a new object as one line of flow YAML.
fn render_flow(mesh: &Mesh, object: &NewObject, style: &FileStyle) -> String {
    emit_flow(&new_object_tree(mesh, object), style)
}

/// Deletes the key at `field` with its value; a parent left empty goes too (never `spec` or above). Block style only.
fn remove_field(src: &SourceText, o: &Object, field: &[&str]) -> Option<LineEdit> {
    let t = &o.tree;
    let mut field = field;
    loop {
        let (last, parent_path) = field.split_last()?;
        let parent = t.resolve(t.path(o.root, parent_path).unwrap_or(o.root));
        if parent_path.len() >= 2 && t.entries(parent).len() == 1 && !t.is_flow(parent) {
            field = parent_path;
            continue;
        }
        if t.is_flow(parent) {
            return None;
        }
        let k = t.node(t.key_node(parent, last)?);
        let v = t.node(t.get(parent, last)?);
        return Some(LineEdit {
            path: src.path.clone(),
            start: k.line,
            end: v.end_line.max(k.line),
            lines: Vec::new(),
        });
    }
}

/// Renames a `portLevelMtls` key, keeping its quoting.
fn rename_port_key(src: &SourceText, o: &Object, from: &str, to: u32) -> Option<LineEdit> {
    let t = &o.tree;
    let plm = t.path(o.root, &["spec", "portLevelMtls"])?;
    let (k, _) = t.entries(plm).iter().find(|(k, _)| t.key_text(*k) == Some(from))?;
    let node = t.node(*k);
    let Value::Scalar { text, style } = &node.value else { return None };
    let lines = src.lines();
    let line = lines.get(node.line - 1)?;
    let (a, b) = scalar_token(line, node.col, *style, text)?;
    let q = quote_of(*style);
    let new = format!("{}{}{}", &line[..a], quoted(&to.to_string(), q), &line[b..]);
    Some(LineEdit { path: src.path.clone(), start: node.line, end: node.line, lines: vec![new] })
}

/// Sets `tls.mode` for one port in `portLevelSettings`, appending the item (and the list) when missing.
fn set_port_level_tls(src: &SourceText, o: &Object, port: u32, mode: &str) -> Option<LineEdit> {
    let t = &o.tree;
    let style = file_style(o);
    let lines = src.lines();
    let port_text = port.to_string();
    if let Some(pls) = t.path(o.root, &["spec", "trafficPolicy", "portLevelSettings"]).map(|n| t.resolve(n)) {
        let items = t.items(pls);
        if let Some(item) = items.iter().find(|i| t.str_at(**i, &["port", "number"]) == Some(port_text.as_str())) {
            return set_field_under(src, o, t.resolve(*item), &["tls", "mode"], mode);
        }
        if t.is_flow(pls) || style.json {
            return None;
        }
        let first = t.node(t.resolve(*items.first()?));
        let end = t.node(pls).end_line;
        let mut out = vec![lines.get(end - 1)?.to_string()];
        if let Y::Map(entries) = port_item(port, mode) {
            emit_map(&entries, first.col, true, &style, &mut out);
        }
        return Some(LineEdit { path: src.path.clone(), start: end, end, lines: out });
    }
    if style.json {
        return None;
    }
    // No list yet: add `portLevelSettings` under `trafficPolicy` (or `trafficPolicy` under `spec`).
    let list = Y::List(vec![port_item(port, mode)]);
    let (parent, value) = match t.path(o.root, &["spec", "trafficPolicy"]) {
        Some(tp) => (t.resolve(tp), ymap(vec![("portLevelSettings", list)])),
        None => (
            t.resolve(t.path(o.root, &["spec"])?),
            ymap(vec![("trafficPolicy", ymap(vec![("portLevelSettings", list)]))]),
        ),
    };
    if t.is_flow(parent) || !t.is_map(parent) {
        return None;
    }
    let col = t.entries(parent).first().map(|(k, _)| t.node(*k).col)?;
    let end = t.node(parent).end_line;
    let mut out = vec![lines.get(end - 1)?.to_string()];
    if let Y::Map(entries) = value {
        emit_map(&entries, col, false, &style, &mut out);
    }
    Some(LineEdit { path: src.path.clone(), start: end, end, lines: out })
}

fn add_object(files: &[LoadedFile], mesh: &Mesh, after: ObjId, object: &NewObject) -> Result<LineEdit, Vec<String>> {
    // A rendered object: the new document goes after its source document.
    let o = match &mesh.objects[after].provenance {
        Some(p) => p.origin.as_ref().ok_or_else(Vec::new)?,
        None => &mesh.objects[after],
    };
    let style = file_style(o);
    if style.json {
        let yaml = render_block(mesh, object, &FileStyle { indent: 2, quote: None, json: false }).join("\n");
        return Err(vec![format!(
            "`{}` is JSON and cannot take a second document; add this object in a YAML file:\n{yaml}",
            o.path
        )]);
    }
    let src = source_of(files, &o.path).ok_or_else(Vec::new)?;
    let lines = src.lines();
    let end = o.tree.end_line.max(o.end_line);
    let last = lines.get(end - 1).ok_or_else(Vec::new)?.to_string();
    let mut out = vec![last, "---".to_string()];
    if o.tree.is_flow(o.tree.root.unwrap_or(o.root)) {
        out.push(render_flow(mesh, object, &style));
    } else {
        out.extend(render_block(mesh, object, &style));
    }
    Ok(LineEdit { path: src.path.clone(), start: end, end, lines: out })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::analysis::verify::*;
    use crate::finding::Side;
    use crate::finding::{ObjectRef, Severity};
    use crate::manifest::load_file;
    use crate::manifest::yaml::Limits;
    use crate::reanalysis::finding_keys;
    use crate::rules::RuleFinding;
    use crate::settings::{AnalysisOptions, SuggestMode};

    fn run(files: &[(&str, &str)], opts: &AnalysisOptions) -> (Vec<LoadedFile>, crate::analysis::Analysis) {
        let loaded: Vec<LoadedFile> =
            files.iter().map(|(p, t)| load_file(p, t.as_bytes(), &Limits::default())).collect();
        let a = analyze(&loaded, opts, Side::Head, Default::default());
        (loaded, a)
    }

    /// Applies every offered fix and checks the finding is gone.
    fn assert_fixes_hold(files: &[(&str, &str)], opts: &AnalysisOptions) -> Vec<Fix> {
        let (loaded, a) = run(files, opts);
        let mut fixes = Vec::new();
        for f in a.findings.iter().filter(|f| f.fix.is_some()) {
            let fix = f.fix.clone().unwrap();
            let src = a.sources[&fix.path].clone();
            let new = apply(src.text(), src.crlf, &fix);
            let mut copy = loaded.clone();
            let i = copy.iter().position(|l| l.source.as_ref().unwrap().path == fix.path).unwrap();
            copy[i] = load_file(&fix.path, new.as_bytes(), &Limits::default());
            assert!(copy[i].errors.is_empty(), "{:?}\n{new}", copy[i].errors);
            let after = analyze(&copy, opts, Side::Head, Default::default());
            assert!(!after.findings.iter().any(|g| g.identity() == f.identity()), "{new}");
            fixes.push(fix);
        }
        fixes
    }

    const DR: &str = "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: bookinfo\nspec:\n  host: \"*.bookinfo.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";

    #[test]
    fn tis0206_adds_a_peer_authentication_after_the_dr() {
        let fixes = assert_fixes_hold(&[("a.yaml", DR)], &AnalysisOptions::default());
        assert_eq!(fixes.len(), 1);
        let f = &fixes[0];
        assert_eq!((f.start_line, f.end_line), (10, 10));
        assert_eq!(
            f.replacement,
            "      mode: ISTIO_MUTUAL\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: bookinfo\nspec:\n  mtls:\n    mode: PERMISSIVE"
        );
    }

    #[test]
    fn tis0206_edits_an_existing_namespace_pa_keeping_quotes_and_crlf() {
        let pa = "apiVersion: security.istio.io/v1beta1\r\nkind: PeerAuthentication\r\nmetadata:\r\n  name: \"default\"\r\n  namespace: bookinfo\r\nspec:\r\n  mtls:\r\n    mode: \"DISABLE\" # off\r\n";
        let opts = AnalysisOptions { suggest_mode: Some(SuggestMode::Strict), ..Default::default() };
        let fixes = assert_fixes_hold(&[("a.yaml", DR), ("b.yaml", pa)], &opts);
        let f = fixes.iter().find(|f| f.path == "b.yaml").unwrap();
        assert_eq!((f.start_line, f.replacement.as_str()), (8, "    mode: \"STRICT\" # off"));
    }

    #[test]
    fn tis0206_inserts_a_missing_mode() {
        let pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n    name: default\n    namespace: bookinfo\nspec:\n    selector: {}\n";
        let fixes = assert_fixes_hold(&[("a.yaml", DR), ("b.yaml", pa)], &AnalysisOptions::default());
        let f = fixes.iter().find(|f| f.path == "b.yaml").unwrap();
        assert_eq!(f.replacement, "    selector: {}\n    mtls:\n        mode: PERMISSIVE");
    }

    #[test]
    fn flow_document_gets_a_flow_object_and_json_gets_help() {
        let flow = "{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: d, namespace: ns}, spec: {host: '*.ns.svc.cluster.local', trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}}\n";
        let fixes = assert_fixes_hold(&[("f.yaml", flow)], &AnalysisOptions::default());
        assert!(
            fixes[0].replacement.contains("---\n{apiVersion: security.istio.io/v1, kind: PeerAuthentication"),
            "{}",
            fixes[0].replacement
        );
        let json = r#"{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "d", "namespace": "ns"}, "spec": {"host": "*.ns.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}}"#;
        let (_, a) = run(&[("f.json", json)], &AnalysisOptions::default());
        assert!(a.findings[0].fix.is_none());
        assert!(a.findings[0].help.as_deref().unwrap().contains("kind: PeerAuthentication"));
    }

    #[test]
    fn list_gets_a_new_document_after_the_list() {
        let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: networking.istio.io/v1\n    kind: DestinationRule\n    metadata:\n      name: d\n      namespace: ns\n    spec:\n      host: \"*.ns.svc.cluster.local\"\n      trafficPolicy:\n        tls:\n          mode: ISTIO_MUTUAL\n";
        let fixes = assert_fixes_hold(&[("l.yaml", list)], &AnalysisOptions::default());
        assert_eq!(fixes[0].start_line, 13);
        assert!(fixes[0].replacement.contains("\n---\napiVersion: security.istio.io/v1\n"));
    }

    #[test]
    fn taken_name_gets_a_suffix() {
        let pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: bookinfo\nspec:\n  selector:\n    matchLabels: {app: x}\n  mtls:\n    mode: STRICT\n";
        let fixes = assert_fixes_hold(&[("a.yaml", DR), ("b.yaml", pa)], &AnalysisOptions::default());
        assert_eq!(fixes.len(), 1);
        assert_eq!((fixes[0].path.as_str(), fixes[0].start_line, fixes[0].end_line), ("a.yaml", 10, 10));
        assert_eq!(
            fixes[0].replacement,
            "      mode: ISTIO_MUTUAL\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default-mtls\n  namespace: bookinfo\nspec:\n  mtls:\n    mode: PERMISSIVE"
        );
        // `default-mtls` taken as well: the next free number.
        let taken = format!("{pa}---\n{}", pa.replace("name: default", "name: default-mtls"));
        let fixes = assert_fixes_hold(&[("a.yaml", DR), ("b.yaml", &taken)], &AnalysisOptions::default());
        assert_eq!(fixes.len(), 1);
        assert!(
            fixes[0].replacement.ends_with(
                "metadata:\n  name: default-mtls-2\n  namespace: bookinfo\nspec:\n  mtls:\n    mode: PERMISSIVE"
            ),
            "{}",
            fixes[0].replacement
        );
    }

    #[test]
    fn free_name_suffixes() {
        let pa = |name: &str| {
            format!(
                "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n"
            )
        };
        let (_, a) = run(
            &[("a.yaml", &(pa("x") + &pa("x-mtls") + &pa("x-mtls-2") + &pa("y-mtls")))],
            &AnalysisOptions::default(),
        );
        let m = &a.mesh;
        assert_eq!(free_name(m, "PeerAuthentication", "ns", "free"), "free");
        assert_eq!(free_name(m, "PeerAuthentication", "other", "x"), "x");
        assert_eq!(free_name(m, "DestinationRule", "ns", "x"), "x");
        assert_eq!(free_name(m, "PeerAuthentication", "ns", "x"), "x-mtls-3");
        // A base already ending in `-mtls` is numbered, not suffixed twice.
        assert_eq!(free_name(m, "PeerAuthentication", "ns", "y-mtls"), "y-mtls-2");
        assert_eq!(free_name(m, "PeerAuthentication", "ns", "x-mtls"), "x-mtls-3");
    }

    #[test]
    fn verifier_splices_unless_the_edit_can_change_mesh_settings_or_namespaces() {
        let opts = AnalysisOptions::default();
        let pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: a\nspec:\n  mtls:\n    mode: STRICT\n";
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    enableAutoMtls: false\n";
        let (files, a) = run(&[("a.yaml", pa), ("b.yaml", cm)], &opts);
        let errors = error_set(&a.mesh, &crate::rules::run_all(&a.mesh));
        let mut v = Verifier::new(&files, &a.mesh, &opts, &errors);
        assert!(v.splice.is_some());
        let edited = load_file("a.yaml", pa.replace("STRICT", "DISABLE").as_bytes(), &Limits::default());
        let keys = v.keys_with(0, edited.clone(), &opts, false);
        let mut copy = files.clone();
        copy[0] = edited;
        assert_eq!(keys, finding_keys(&copy, &opts, Default::default()));
        // Not laid out from these files: always rebuilds.
        assert!(Verifier::new(&files[..1], &a.mesh, &opts, &errors).splice.is_none());
        // An edit of the mesh config file rebuilds (the settings may change), with the same answer.
        let edited = load_file("b.yaml", cm.replace("false", "true").as_bytes(), &Limits::default());
        let mut copy = files.clone();
        copy[1] = edited.clone();
        assert_eq!(v.keys_with(1, edited, &opts, false), finding_keys(&copy, &opts, Default::default()));
    }

    #[test]
    fn apply_keeps_crlf() {
        let fix = Fix {
            description: String::new(),
            path: "x".into(),
            start_line: 2,
            end_line: 2,
            replacement: "b\nc".into(),
        };
        assert_eq!(apply("a\r\nB\r\nd\r\n", true, &fix), "a\r\nb\r\nc\r\nd\r\n");
        let del = Fix { replacement: String::new(), ..fix };
        assert_eq!(apply("a\nB\nd\n", false, &del), "a\nd\n");
    }

    /// A fix as (path, start line, end line, replacement).
    type Edit = (String, usize, usize, String);

    /// The fixes `analyze` offers for `files`, each checked as [`assert_fixes_hold`] does: applied, parsed back
    /// without errors, re-analyzed without its finding.
    fn offered(files: &[(&str, &str)]) -> Vec<Edit> {
        assert_fixes_hold(files, &AnalysisOptions::default())
            .into_iter()
            .map(|f| (f.path, f.start_line, f.end_line, f.replacement))
            .collect()
    }

    fn pa_with_spec(spec: &str) -> String {
        format!(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: bookinfo\nspec:{spec}"
        )
    }

    /// Every shape `set_field_under` edits, through TIS0206's fix of the namespace's PeerAuthentication.
    #[test]
    fn set_field_edit_shapes_parse_back_and_clear_the_finding() {
        let e = |path: &str, line: usize, text: &str| vec![(path.to_string(), line, line, text.to_string())];
        let cases: Vec<(&str, String, Vec<Edit>)> = vec![
            // A null value: `mode:`, `mode: ~` (what follows the token stays).
            ("b.yaml", pa_with_spec("\n  mtls:\n    mode:\n"), e("b.yaml", 8, "    mode: PERMISSIVE")),
            ("b.yaml", pa_with_spec("\n  mtls:\n    mode: ~ # unset\n"), e("b.yaml", 8, "    mode: PERMISSIVE # unset")),
            ("b.yaml", pa_with_spec("\n  mtls:\n    mode: null\n  selector: {}\n"), e("b.yaml", 8, "    mode: PERMISSIVE")),
            // An empty parent: `mtls:` at the end of the document and followed by a key, `mtls: ~`.
            ("b.yaml", pa_with_spec("\n  mtls:\n"), e("b.yaml", 7, "  mtls:\n    mode: PERMISSIVE")),
            ("b.yaml", pa_with_spec("\n  mtls: # off\n  selector: {}\n"), e("b.yaml", 7, "  mtls:\n    mode: PERMISSIVE")),
            ("b.yaml", pa_with_spec("\n    mtls: ~\n"), e("b.yaml", 7, "    mtls:\n      mode: PERMISSIVE")),
            // A missing key in a one-line flow mapping: empty, padded, nested brackets, quoted brackets.
            ("b.yaml", pa_with_spec(" {}\n"), e("b.yaml", 6, "spec: {mtls: {mode: PERMISSIVE}}")),
            ("b.yaml", pa_with_spec(" { }\n"), e("b.yaml", 6, "spec: { mtls: {mode: PERMISSIVE} }")),
            (
                "b.yaml",
                pa_with_spec(" { selector: {matchLabels: {}} } # c\n"),
                e("b.yaml", 6, "spec: { selector: {matchLabels: {}}, mtls: {mode: PERMISSIVE} } # c"),
            ),
            ("b.yaml", pa_with_spec("\n  mtls: {}\n"), e("b.yaml", 7, "  mtls: {mode: PERMISSIVE}")),
            // Flow documents: the value in place, a null in place, a null parent in place.
            (
                "b.yaml",
                "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: {mode: DISABLE}}}\n".into(),
                e("b.yaml", 1, "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: {mode: PERMISSIVE}}}"),
            ),
            (
                "b.yaml",
                "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: {mode: ~}}}\n".into(),
                e("b.yaml", 1, "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: {mode: PERMISSIVE}}}"),
            ),
            (
                "b.yaml",
                "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: null, selector: {}}}\n".into(),
                e("b.yaml", 1, "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: bookinfo}, spec: {mtls: {mode: PERMISSIVE}, selector: {}}}"),
            ),
            // One-line JSON: a missing key, an empty object, null values.
            (
                "b.json",
                r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {}}"#.into(),
                e("b.json", 1, r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}"#),
            ),
            (
                "b.json",
                r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"selector": {}, "mtls": {}}}"#.into(),
                e("b.json", 1, r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"selector": {}, "mtls": {"mode": "PERMISSIVE"}}}"#),
            ),
            (
                "b.json",
                r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": null}}"#.into(),
                e("b.json", 1, r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}"#),
            ),
            (
                "b.json",
                r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": null}}}"#.into(),
                e("b.json", 1, r#"{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}"#),
            ),
            // Pretty-printed JSON: a new first entry after the `{` line, a null parent and a null value with
            // their commas.
            (
                "b.json",
                "{\n  \"apiVersion\": \"security.istio.io/v1\",\n  \"kind\": \"PeerAuthentication\",\n  \"metadata\": {\n    \"name\": \"default\",\n    \"namespace\": \"bookinfo\"\n  },\n  \"spec\": {\n    \"selector\": {}\n  }\n}\n".into(),
                e("b.json", 8, "  \"spec\": {\n    \"mtls\": {\"mode\": \"PERMISSIVE\"},"),
            ),
            (
                "b.json",
                "{\n  \"apiVersion\": \"security.istio.io/v1\",\n  \"kind\": \"PeerAuthentication\",\n  \"metadata\": {\n    \"name\": \"default\",\n    \"namespace\": \"bookinfo\"\n  },\n  \"spec\": {\n    \"mtls\": null,\n    \"selector\": null\n  }\n}\n".into(),
                e("b.json", 9, "    \"mtls\": {\"mode\": \"PERMISSIVE\"},"),
            ),
            (
                "b.json",
                "{\n  \"apiVersion\": \"security.istio.io/v1\",\n  \"kind\": \"PeerAuthentication\",\n  \"metadata\": {\n    \"name\": \"default\",\n    \"namespace\": \"bookinfo\"\n  },\n  \"spec\": {\n    \"mtls\": {\n      \"mode\": null,\n      \"x\": 1\n    }\n  }\n}\n".into(),
                e("b.json", 10, "      \"mode\": \"PERMISSIVE\","),
            ),
        ];
        for (path, pa, want) in cases {
            let (loaded, _) = run(&[(path, &pa)], &AnalysisOptions::default());
            assert!(loaded[0].errors.is_empty(), "{pa}: {:?}", loaded[0].errors);
            // (A DISABLE mode also gets TIS0502, fixed in a.yaml.)
            let edits: Vec<_> = offered(&[("a.yaml", DR), (path, &pa)]).into_iter().filter(|f| f.0 == path).collect();
            assert_eq!(edits, want, "{pa}");
        }
    }

    /// Quoted values keep their quotes: single quotes (with a doubled quote inside), double quotes with escapes.
    #[test]
    fn quoted_values_are_rewritten_in_their_quotes() {
        let pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: 'default'\n  namespace: bookinfo\nspec:\n  mtls:\n    mode: 'DISABLE' # it''s off\n";
        let fixes = offered(&[("a.yaml", DR), ("b.yaml", pa)]);
        assert!(fixes.contains(&("b.yaml".into(), 8, 8, "    mode: 'PERMISSIVE' # it''s off".into())), "{fixes:?}");
        assert_eq!(scalar_token("  mode: 'it''s' # 'c'", 8, Style::SingleQuoted, "it's"), Some((8, 15)));
        assert_eq!(scalar_token("  mode: 'it''s", 8, Style::SingleQuoted, "it's"), None);
        assert_eq!(scalar_token("  mode: ''", 8, Style::SingleQuoted, ""), Some((8, 10)));
        assert_eq!(scalar_token(r#"  m: "a\"b" # "c""#, 5, Style::DoubleQuoted, "a\"b"), Some((5, 11)));
        assert_eq!(scalar_token(r#"  m: "a\\" x"#, 5, Style::DoubleQuoted, "a\\"), Some((5, 10)));
        assert_eq!(scalar_token(r#"  m: "open"#, 5, Style::DoubleQuoted, "open"), None);
        assert_eq!(scalar_token("  m: plain # c", 5, Style::Plain, "plain"), Some((5, 10)));
        assert_eq!(scalar_token("  m: other", 5, Style::Plain, "plain"), None);
        // Columns count characters, ranges are bytes.
        assert_eq!(scalar_token("é: 'x'", 3, Style::SingleQuoted, "x"), Some((4, 7)));
        assert_eq!(scalar_token("m: x", 9, Style::Plain, "x"), None);
        assert_eq!(scalar_token("m: |", 3, Style::Literal, ""), None);
    }

    #[test]
    fn matching_close_skips_quotes_and_nested_brackets() {
        let line = r#"spec: {a: "}", b: '{', c: [1, {d: 2}]} # }"#;
        assert_eq!(matching_close(line, 6), Some(line.len() - 5));
        assert_eq!(matching_close("x: [a, {b: c}] y", 3), Some(13));
        assert_eq!(matching_close("{a: {b: c}", 0), None);
        assert_eq!(matching_close("{a: '}'", 0), None);
        assert_eq!(matching_close("} x", 0), None);
        assert_eq!(matching_close("{a: \"it's\"}", 0), Some(10));
    }

    /// A multi-line flow mapping whose first entry shares the `{` line has nowhere safe for a new line: no fix is
    /// offered rather than a wrong one.
    #[test]
    fn flow_mapping_with_entries_on_its_open_line_gets_no_line_fix() {
        let pa = pa_with_spec(" {selector:\n  {}}\n");
        let (_, a) = run(&[("a.yaml", DR), ("b.yaml", &pa)], &AnalysisOptions::default());
        let f = a.findings.iter().find(|f| f.code == "TIS0206").unwrap();
        assert!(f.fix.is_none(), "{:?}", f.fix);
    }

    /// Runs TIS0206 on `files` with `plans` as its fix candidates, through [`best_fix`].
    fn best_of(
        files: &[(&str, &str)],
        opts: &AnalysisOptions,
        plans: impl Fn(&Mesh, &RuleFinding) -> Vec<FixPlan>,
    ) -> (Option<Fix>, Option<String>) {
        let (loaded, a) = run(files, &AnalysisOptions { no_fixes: true, ..opts.clone() });
        let raw = crate::rules::run_all(&a.mesh);
        let errors = error_set(&a.mesh, &raw);
        let ours = |code: &str, object: &ObjectRef| code == "TIS0206" && object.namespace == "bookinfo";
        let mut rf = raw.iter().find(|f| ours(f.code, &a.mesh.object_ref(f.subject))).unwrap().clone();
        rf.fixes = plans(&a.mesh, &rf);
        let finding = a.findings.iter().find(|f| ours(f.code, &f.object)).unwrap();
        let mut v = Verifier::new(&loaded, &a.mesh, opts, &errors);
        best_fix(&loaded, &a.mesh, &rf, finding, opts, &mut v)
    }

    fn set(object: ObjId, field: &'static [&'static str], value: &str) -> FixPlan {
        FixPlan {
            description: format!("set {} to {value}", field.join(".")),
            edits: vec![FixEdit::SetField { object, field, value: value.into() }],
        }
    }

    fn add_pa(after: ObjId, namespace: &str, mode: &str) -> FixPlan {
        FixPlan {
            description: format!("add PA {namespace} {mode}"),
            edits: vec![FixEdit::AddObject {
                after,
                object: NewObject::PeerAuthentication {
                    namespace: namespace.into(),
                    name_base: "default",
                    mode: mode.into(),
                },
            }],
        }
    }

    const LABELS: &[&str] = &["metadata", "labels", "team"];

    /// Verification refuses a candidate that leaves its finding, and the next candidate is offered.
    #[test]
    fn a_fix_that_leaves_its_finding_is_not_offered() {
        let opts = AnalysisOptions::default();
        let (fix, help) = best_of(&[("a.yaml", DR)], &opts, |_, rf| vec![set(rf.subject, LABELS, "x")]);
        assert_eq!((fix, help), (None, None));
        let (fix, help) = best_of(&[("a.yaml", DR)], &opts, |_, rf| {
            vec![
                set(rf.subject, LABELS, "x"),
                add_pa(rf.subject, "bookinfo", "STRICT"),
                add_pa(rf.subject, "bookinfo", "PERMISSIVE"),
            ]
        });
        let fix = fix.unwrap();
        assert_eq!(fix.description, "add PA bookinfo STRICT");
        assert!(fix.replacement.ends_with("mode: STRICT"), "{}", fix.replacement);
        assert_eq!(help.as_deref(), Some("alternatively: add PA bookinfo PERMISSIVE"));
        // A PeerAuthentication in another namespace leaves the finding too.
        let (fix, _) = best_of(&[("a.yaml", DR)], &opts, |_, rf| vec![add_pa(rf.subject, "other", "STRICT")]);
        assert_eq!(fix, None);
    }

    /// Verification refuses a candidate that clears its finding but brings an error-severity finding that was not
    /// there before.
    #[test]
    fn a_fix_that_adds_an_error_is_not_offered() {
        // A mesh-wide DestinationRule disabling mTLS: a STRICT mesh-wide PeerAuthentication clears TIS0206 but
        // makes TIS0208 (an error) fire on it; PERMISSIVE clears it without.
        let off = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: off\n  namespace: istio-system\nspec:\n  host: \"*.local\"\n  trafficPolicy:\n    tls:\n      mode: DISABLE\n";
        let files = [("a.yaml", DR), ("m.yaml", off)];
        let opts = AnalysisOptions::default();
        let (fix, _) = best_of(&files, &opts, |_, rf| vec![add_pa(rf.subject, "istio-system", "STRICT")]);
        assert_eq!(fix, None);
        let (fix, _) = best_of(&files, &opts, |_, rf| {
            vec![add_pa(rf.subject, "istio-system", "STRICT"), add_pa(rf.subject, "istio-system", "PERMISSIVE")]
        });
        assert_eq!(fix.unwrap().description, "add PA istio-system PERMISSIVE");
        // Errors that were there before the fix do not count against it: namespace `other` has TIS0206 and
        // TIS0502 errors that the fix of `bookinfo` leaves alone.
        let other = DR.replace("bookinfo", "other")
            + "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: other\nspec:\n  mtls:\n    mode: DISABLE\n";
        let files = [("a.yaml", DR), ("o.yaml", other.as_str())];
        let (_, a) = run(&files, &opts);
        let errors: Vec<_> = a.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.code).collect();
        assert_eq!(errors, ["TIS0206", "TIS0502"]);
        let (fix, _) = best_of(&files, &opts, |_, rf| vec![add_pa(rf.subject, "bookinfo", "STRICT")]);
        assert_eq!(fix.unwrap().path, "a.yaml");
    }

    /// Verification refuses a candidate whose edit breaks the file's parsing (the finding "goes away" with the
    /// document); a file that was already broken elsewhere still gets fixes.
    #[test]
    fn a_fix_that_breaks_parsing_is_not_offered() {
        let opts = AnalysisOptions::default();
        for bad in ["[", "{a: b", "'open", "x\n  - y"] {
            let (fix, _) =
                best_of(&[("a.yaml", DR)], &opts, |_, rf| vec![set(rf.subject, crate::rules::DR_TLS_MODE, bad)]);
            assert_eq!(fix, None, "{bad}");
        }
        let broken = format!("{DR}---\nkind: [\n");
        let (loaded, _) = run(&[("a.yaml", &broken)], &opts);
        assert_eq!(loaded[0].errors.iter().filter(|e| e.kind.is_fatal()).count(), 1);
        let (fix, _) = best_of(&[("a.yaml", &broken)], &opts, |_, rf| vec![add_pa(rf.subject, "bookinfo", "STRICT")]);
        assert_eq!(fix.map(|f| (f.start_line, f.end_line)), Some((10, 10)));
        // The same through `analyze`: the rule's own fix, with the broken document left as it is.
        let fixes = offered_with_errors(&[("a.yaml", &broken)]);
        assert_eq!(fixes.len(), 1);
    }

    /// The user's path: the rule's own candidate is refused when it would break another path. With STRICT
    /// suggested, the new namespace PeerAuthentication would make the plaintext DestinationRule for `cart` fail
    /// (MTLS001, an error); PERMISSIVE is offered.
    #[test]
    fn analyze_offers_only_the_rule_fixes_that_verify() {
        use crate::posture::fixtures::{deployment, injected, service};
        let shop_dr = DR.replace("bookinfo", "shop");
        let world = injected("shop")
            + &service("shop", "cart", &[(80, "8080")])
            + &deployment("shop", "cart", &[8080], &[])
            + &crate::rules::testing::dr("shop", "cart", "cart", Some("DISABLE"));
        let files = [("a.yaml", shop_dr.as_str()), ("w.yaml", world.as_str())];
        let strict = AnalysisOptions { suggest_mode: Some(SuggestMode::Strict), ..Default::default() };
        let (_, a) = run(&files, &strict);
        let f = a.findings.iter().find(|f| f.code == "TIS0206").unwrap();
        assert!(f.fix.is_none(), "{:?}", f.fix);
        let fixes = offered(&files);
        assert_eq!(fixes.len(), 1);
        assert!(fixes[0].3.ends_with("namespace: shop\nspec:\n  mtls:\n    mode: PERMISSIVE"), "{fixes:?}");
    }

    /// A plan of several edits in one file becomes one replacement from the first edited line to the last, with
    /// the lines between kept; edits in two files, overlapping edits and an empty plan give no fix.
    #[test]
    fn multi_edit_plans() {
        let pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: bookinfo\n  labels:\n    team: a\nspec:\n  mtls:\n    mode: DISABLE\n";
        let files = [("a.yaml", DR), ("b.yaml", pa)];
        let opts = AnalysisOptions::default();
        let pa_of = |m: &Mesh| m.objects.iter().position(|o| o.kind == "PeerAuthentication").unwrap();
        let two = |first: FixEdit, second: FixEdit| FixPlan { description: "two".into(), edits: vec![first, second] };
        let mode = |o: ObjId, v: &str| FixEdit::SetField { object: o, field: crate::rules::PA_MODE, value: v.into() };
        let team = |o: ObjId, v: &str| FixEdit::SetField {
            object: o,
            field: &["metadata", "labels", "team"],
            value: v.into(),
        };
        // Given last edit first: sorted by line.
        let (fix, help) = best_of(&files, &opts, |m, _| vec![two(mode(pa_of(m), "PERMISSIVE"), team(pa_of(m), "b"))]);
        let fix = fix.unwrap();
        assert_eq!((fix.path.as_str(), fix.start_line, fix.end_line), ("b.yaml", 7, 10));
        assert_eq!(fix.replacement, "    team: b\nspec:\n  mtls:\n    mode: PERMISSIVE");
        assert_eq!(help, None);
        assert_eq!(apply(pa, false, &fix), pa.replace("team: a", "team: b").replace("DISABLE", "PERMISSIVE"));
        // Two files: help instead of a fix.
        let (fix, help) =
            best_of(&files, &opts, |m, rf| vec![two(mode(pa_of(m), "PERMISSIVE"), team(rf.subject, "b"))]);
        assert_eq!((fix, help.as_deref()), (None, Some("two (edits more than one file; apply by hand)")));
        // The same line twice, and no edit at all.
        let (fix, help) =
            best_of(&files, &opts, |m, _| vec![two(mode(pa_of(m), "PERMISSIVE"), mode(pa_of(m), "STRICT"))]);
        assert_eq!((fix, help), (None, None));
        let (fix, help) = best_of(&files, &opts, |_, _| vec![FixPlan { description: "none".into(), edits: vec![] }]);
        assert_eq!((fix, help), (None, None));
    }

    /// Applies `edit` (made from the first object of `text`) and parses the result back: the new text, which
    /// must load without errors.
    fn edited(text: &str, edit: impl Fn(&SourceText, &Object) -> Option<LineEdit>) -> Option<String> {
        let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
        let e = edit(f.source.as_ref().unwrap(), &f.objects[0])?;
        let fix = Fix {
            description: String::new(),
            path: e.path,
            start_line: e.start,
            end_line: e.end,
            replacement: e.lines.join("\n"),
        };
        let new = apply(text, false, &fix);
        let back = load_file("x.yaml", new.as_bytes(), &Limits::default());
        assert!(back.errors.is_empty(), "{:?}\n{new}", back.errors);
        assert_eq!(back.objects.len(), f.objects.len(), "{new}");
        Some(new)
    }

    /// The string at `path` in the first object of `text`.
    fn at(text: &str, path: &[&str]) -> Option<String> {
        let f = load_file("x.yaml", text.as_bytes(), &Limits::default());
        let o = &f.objects[0];
        o.tree.str_at(o.root, path).map(str::to_string)
    }

    const DR_HEAD: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  host: cart\n";

    #[test]
    fn port_level_tls_shapes() {
        let set = |text: &str, port: u32| edited(text, |s, o| set_port_level_tls(s, o, port, "DISABLE"));
        let tp = "  trafficPolicy:\n    portLevelSettings:\n    - port:\n        number: 80\n      tls:\n        mode: ISTIO_MUTUAL\n";
        // The port's item exists: its mode changes in place.
        let new = set(&format!("{DR_HEAD}{tp}"), 80).unwrap();
        assert_eq!(new, format!("{DR_HEAD}{}", tp.replace("ISTIO_MUTUAL", "DISABLE")));
        // The item has no tls: added under it.
        let no_tls = "  trafficPolicy:\n    portLevelSettings:\n    - port:\n        number: 80\n      loadBalancer:\n        simple: ROUND_ROBIN\n";
        let new = set(&format!("{DR_HEAD}{no_tls}"), 80).unwrap();
        assert_eq!(new, format!("{DR_HEAD}{no_tls}      tls:\n        mode: DISABLE\n"));
        // Another port: a new item at the end of the list, at the items' indentation.
        let new = set(&format!("{DR_HEAD}{tp}"), 9090).unwrap();
        assert_eq!(new, format!("{DR_HEAD}{tp}    - port:\n        number: 9090\n      tls:\n        mode: DISABLE\n"));
        // No list: under trafficPolicy; no trafficPolicy: under spec.
        let tls = "  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
        let new = set(&format!("{DR_HEAD}{tls}"), 80).unwrap();
        // (A new list indents its items by the file's indentation.)
        assert_eq!(
            new,
            format!(
                "{DR_HEAD}{tls}    portLevelSettings:\n      - port:\n          number: 80\n        tls:\n          mode: DISABLE\n"
            )
        );
        let new = set(DR_HEAD, 80).unwrap();
        assert_eq!(
            new,
            format!(
                "{DR_HEAD}  trafficPolicy:\n    portLevelSettings:\n      - port:\n          number: 80\n        tls:\n          mode: DISABLE\n"
            )
        );
        assert_eq!(at(&new, &["spec", "host"]).as_deref(), Some("cart"));
        // Flow lists and JSON take no new item; a flow item of the port is still edited in place.
        let flow = format!(
            "{DR_HEAD}  trafficPolicy:\n    portLevelSettings: [{{port: {{number: 80}}, tls: {{mode: ISTIO_MUTUAL}}}}]\n"
        );
        assert_eq!(set(&flow, 9090), None);
        assert_eq!(set(&flow, 80).unwrap(), flow.replace("ISTIO_MUTUAL", "DISABLE"));
        assert_eq!(set(&format!("{DR_HEAD}  trafficPolicy: {{}}\n"), 80), None);
        let json = r#"{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "c", "namespace": "s"}, "spec": {"host": "c"}}"#;
        let f = load_file("x.json", json.as_bytes(), &Limits::default());
        assert_eq!(set_port_level_tls(f.source.as_ref().unwrap(), &f.objects[0], 80, "DISABLE"), None);
    }

    #[test]
    fn remove_field_shapes() {
        let rm = |text: &str| edited(text, |s, o| remove_field(s, o, crate::rules::DR_TLS));
        // `tls` with a sibling: only its lines go.
        let both = format!(
            "{DR_HEAD}  trafficPolicy:\n    tls:\n      mode: DISABLE\n      sni: x\n    connectionPool: {{}}\n"
        );
        assert_eq!(rm(&both).unwrap(), format!("{DR_HEAD}  trafficPolicy:\n    connectionPool: {{}}\n"));
        // `tls` alone: `trafficPolicy` goes with it, `spec` stays.
        let alone = format!("{DR_HEAD}  trafficPolicy:\n    tls: {{}}\n");
        assert_eq!(rm(&alone).unwrap(), DR_HEAD);
        let only = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: cart\nspec:\n  trafficPolicy:\n    tls: {}\n";
        assert_eq!(
            rm(only).unwrap(),
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: cart\nspec:\n"
        );
        // In a flow mapping no line edit can remove it.
        assert_eq!(rm(&format!("{DR_HEAD}  trafficPolicy: {{tls: {{mode: DISABLE}}, connectionPool: {{}}}}\n")), None);
    }

    #[test]
    fn rename_port_key_keeps_quoting() {
        let pa = |key: &str| {
            format!(
                "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {{app: cart}}\n  portLevelMtls:\n    {key}: # the port\n      mode: DISABLE\n"
            )
        };
        let rename = |text: &str, from: &str| edited(text, |s, o| rename_port_key(s, o, from, 8080));
        assert_eq!(rename(&pa("80"), "80").unwrap(), pa("8080"));
        assert_eq!(rename(&pa("\"80\""), "80").unwrap(), pa("\"8080\""));
        assert_eq!(rename(&pa("'80'"), "80").unwrap(), pa("'8080'"));
        assert_eq!(rename(&pa("80"), "81"), None);
    }

    #[test]
    fn new_objects_render_in_the_file_style() {
        let two = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n    name: \"a\"\n    namespace: shop\nspec:\n    host: a\n";
        let (_, a) = run(&[("x.yaml", two)], &AnalysisOptions { no_fixes: true, ..Default::default() });
        let style = file_style(&a.mesh.objects[0]);
        assert_eq!((style.indent, style.quote, style.json), (4, Some('"'), false));
        let obj = NewObject::PortDestinationRule {
            namespace: "shop".into(),
            name_base: "a".into(),
            host: "*.shop.svc.cluster.local".into(),
            top_mode: Some("ISTIO_MUTUAL".into()),
            ports: vec![(80, "DISABLE".into()), (9090, "SIMPLE".into())],
        };
        let block = render_block(&a.mesh, &obj, &style).join("\n");
        assert_eq!(
            block,
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n    name: \"a-mtls\"\n    namespace: \"shop\"\nspec:\n    host: \"*.shop.svc.cluster.local\"\n    trafficPolicy:\n        tls:\n            mode: \"ISTIO_MUTUAL\"\n        portLevelSettings:\n            - port:\n                  number: 80\n              tls:\n                  mode: \"DISABLE\"\n            - port:\n                  number: 9090\n              tls:\n                  mode: \"SIMPLE\"",
        );
        let back = load_file("y.yaml", block.as_bytes(), &Limits::default());
        assert!(back.errors.is_empty(), "{:?}", back.errors);
        let o = &back.objects[0];
        assert_eq!(o.tree.str_at(o.root, &["spec", "trafficPolicy", "tls", "mode"]), Some("ISTIO_MUTUAL"));
        let flow = render_flow(&a.mesh, &obj, &FileStyle { indent: 2, quote: None, json: false });
        assert_eq!(
            flow,
            "{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: a-mtls, namespace: shop}, spec: {host: \"*.shop.svc.cluster.local\", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, portLevelSettings: [{port: {number: 80}, tls: {mode: DISABLE}}, {port: {number: 9090}, tls: {mode: SIMPLE}}]}}}"
        );
        assert!(load_file("y.yaml", flow.as_bytes(), &Limits::default()).errors.is_empty());
        // Values YAML would misread are quoted whatever the file does; single quotes double inner quotes.
        let plain = FileStyle { indent: 2, quote: None, json: false };
        assert_eq!(scalar_text(&ystr("a: b"), &plain), "\"a: b\"");
        assert_eq!(scalar_text(&ystr("a#b"), &plain), "\"a#b\"");
        assert_eq!(scalar_text(&ystr("ab"), &plain), "ab");
        let single = FileStyle { indent: 2, quote: Some('\''), json: false };
        assert_eq!(scalar_text(&ystr("*.it's"), &single), "'*.it''s'");
        assert_eq!(quoted("a\"b\\c", Some('"')), "\"a\\\"b\\\\c\"");
        // The apiVersion most used for the kind wins, the default on a tie.
        let v1beta1 = two.replace("networking.istio.io/v1\n", "networking.istio.io/v1beta1\n");
        let (_, a) =
            run(&[("x.yaml", &v1beta1), ("y.yaml", two)], &AnalysisOptions { no_fixes: true, ..Default::default() });
        assert_eq!(api_version_for(&a.mesh, "DestinationRule", "networking.istio.io/v1"), "networking.istio.io/v1");
        assert_eq!(api_version_for(&a.mesh, "PeerAuthentication", "security.istio.io/v1"), "security.istio.io/v1");
        let (_, a) = run(&[("x.yaml", &v1beta1)], &AnalysisOptions { no_fixes: true, ..Default::default() });
        assert_eq!(
            api_version_for(&a.mesh, "DestinationRule", "networking.istio.io/v1"),
            "networking.istio.io/v1beta1"
        );
    }

    /// A renderer for tests: a target's output is its one input as it is (target `u` moves `bookinfo` to
    /// `other`), optionally failing, reporting a render error, or saying the input feeds another mesh.
    #[derive(Debug, Default)]
    pub(crate) struct Identity {
        feeds_others: bool,
        fails: bool,
        render_error: bool,
    }

    impl crate::target::Rerender for Identity {
        fn rerender(&self, target: &str, path: &str, bytes: &[u8]) -> Option<LoadedFile> {
            if self.fails {
                return None;
            }
            let mut f = rendered(target, path, bytes);
            if self.render_error {
                f.errors.push(crate::finding::LoadError {
                    path: path.into(),
                    line: 1,
                    message: "render failed".into(),
                    kind: crate::finding::ErrorKind::Render,
                });
            }
            Some(f)
        }

        fn feeds_others(&self, targets: &[&str], _path: &str) -> bool {
            assert!(!targets.is_empty());
            self.feeds_others
        }
    }

    pub(crate) fn rendered(target: &str, path: &str, bytes: &[u8]) -> LoadedFile {
        let text = String::from_utf8_lossy(bytes);
        let text = if target == "u" { text.replace("bookinfo", "other") } else { text.to_string() };
        let mut f = load_file(path, text.as_bytes(), &Limits::default());
        f.inputs = f.source.take().into_iter().collect();
        f.target = Some(target.to_string());
        f
    }

    /// A fix of a rendered object edits its source file and is verified by rendering every target it feeds again.
    #[test]
    fn fixes_of_rendered_objects_are_verified_by_rendering_again() {
        let fix_of = |files: &[LoadedFile], r: Option<Identity>| {
            let rerender = r.map(|r| Arc::new(r) as Arc<dyn crate::target::Rerender>);
            let opts = AnalysisOptions { rerender, ..Default::default() };
            let a = analyze(files, &opts, Side::Head, Default::default());
            let f = a.findings.iter().find(|f| f.code == "TIS0206" && f.object.namespace == "bookinfo").unwrap();
            f.fix.clone()
        };
        let one = [rendered("t", "base/dr.yaml", DR.as_bytes())];
        let fix = fix_of(&one, Some(Identity::default())).unwrap();
        assert_eq!((fix.path.as_str(), fix.start_line, fix.end_line), ("base/dr.yaml", 10, 10));
        assert!(
            fix.replacement.ends_with("namespace: bookinfo\nspec:\n  mtls:\n    mode: PERMISSIVE"),
            "{}",
            fix.replacement
        );
        // Without a renderer, with an input another mesh renders, when it no longer renders or renders with an
        // error: no fix.
        assert_eq!(fix_of(&one, None), None);
        assert_eq!(fix_of(&one, Some(Identity { feeds_others: true, ..Default::default() })), None);
        assert_eq!(fix_of(&one, Some(Identity { fails: true, ..Default::default() })), None);
        assert_eq!(fix_of(&one, Some(Identity { render_error: true, ..Default::default() })), None);
        // Two targets render the input: both again (target `u` gets its PeerAuthentication in `other`).
        let two = [rendered("t", "base/dr.yaml", DR.as_bytes()), rendered("u", "base/dr.yaml", DR.as_bytes())];
        assert_eq!(fix_of(&two, Some(Identity::default())), Some(fix));
        // A plan that leaves the finding is refused on this path too.
        let a =
            analyze(&one, &AnalysisOptions { no_fixes: true, ..Default::default() }, Side::Head, Default::default());
        let opts = AnalysisOptions { rerender: Some(Arc::new(Identity::default())), ..Default::default() };
        let finding = a.findings.iter().find(|f| f.code == "TIS0206").unwrap();
        let errors = error_set(&a.mesh, &crate::rules::run_all(&a.mesh));
        for files in [&one[..], &two[..]] {
            let mut v = Verifier::new(files, &a.mesh, &opts, &errors);
            let noop = Fix {
                description: String::new(),
                path: "base/dr.yaml".into(),
                start_line: 1,
                end_line: 1,
                replacement: DR.lines().next().unwrap().into(),
            };
            assert!(!verify(files, &noop, finding, &opts, &mut v));
            let other = Fix { path: "elsewhere.yaml".into(), ..noop };
            assert!(!verify(files, &other, finding, &opts, &mut v));
        }
    }

    /// [`offered`] for files that may carry load errors before the fix (the same number after it).
    fn offered_with_errors(files: &[(&str, &str)]) -> Vec<Fix> {
        let opts = AnalysisOptions::default();
        let (loaded, a) = run(files, &opts);
        let mut out = Vec::new();
        for f in a.findings.iter().filter(|f| f.fix.is_some()) {
            let fix = f.fix.clone().unwrap();
            let src = &a.sources[&fix.path];
            let mut copy = loaded.clone();
            let i = copy.iter().position(|l| l.source.as_ref().unwrap().path == fix.path).unwrap();
            copy[i] = load_file(&fix.path, apply(src.text(), src.crlf, &fix).as_bytes(), &Limits::default());
            assert_eq!(copy[i].errors.len(), loaded[i].errors.len());
            let after = analyze(&copy, &opts, Side::Head, Default::default());
            assert!(!after.findings.iter().any(|g| g.identity() == f.identity()));
            out.push(fix);
        }
        out
    }
}

#[cfg(test)]
#[path = "fix_edit_tests.rs"]
mod edit_tests;
