//! Fixes: turns a rule's semantic fix plan into one line-range replacement that keeps the file's style
//! (indentation, quoting, line endings, flow or block style, apiVersion), then verifies it by applying it to an
//! in-memory copy and analyzing again. A fix that does not make its finding go away, or that brings a new error,
//! is not offered.

use crate::finding::{Finding, Fix, ObjectRef, Severity};
use crate::manifest::yaml::{Limits, NodeId, Style, Value};
use crate::manifest::{LoadedFile, Object, SourceText, load_file};
use crate::mesh::{Mesh, ObjId};
use crate::reanalysis::{finding_keys, rule_keys};
use crate::rules::{FixEdit, FixPlan, NewObject, RuleFinding};
use crate::settings::AnalysisOptions;
use std::collections::HashSet;
use std::sync::Arc;

/// One edit as lines: replace `start..=end` (1-based) with `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineEdit {
    path: String,
    start: usize,
    end: usize,
    lines: Vec<String>,
}

/// The error-severity findings of a snapshot as (code, object, port), from all its rule findings (suppressed
/// ones included): a verified fix may bring no error outside this set. Computed once per snapshot by the caller.
pub type ErrorSet = HashSet<(&'static str, ObjectRef, Option<u32>)>;

/// The [`ErrorSet`] of `mesh`, given `rules::run_all(mesh)`.
pub fn error_set(mesh: &Mesh, raw: &[RuleFinding]) -> ErrorSet {
    raw.iter().filter(|f| f.severity == Severity::Error).map(|f| (f.code, mesh.object_ref(f.subject), f.port)).collect()
}

/// Re-analyses for fix verification. A candidate fix edits one file; rebuilding the mesh of the whole tree for
/// every candidate cost findings x tree. The verifier keeps its own copy of the mesh and splices the edited
/// file's objects in and out of it ([`Mesh::splice_file`]), which gives the mesh a rebuild would give as long as
/// the mesh is laid out from `files` with the settings `opts` resolve to and the edit touches neither mesh
/// settings (ConfigMaps, IstioOperators) nor kustomize namespaces; otherwise it rebuilds.
pub struct Verifier<'a> {
    files: &'a [LoadedFile],
    errors_before: &'a ErrorSet,
    newer: HashSet<ObjectRef>,
    /// The mesh copy, the first object of each file in it, the kustomize namespaces; `None`: always rebuild.
    splice: Option<(Mesh, Vec<usize>, std::collections::BTreeMap<String, String>)>,
    /// Re-analyses of what an edit can change (with `splice`).
    scoped: Option<crate::reanalysis::scoped::Scoped<'a>>,
}

impl<'a> Verifier<'a> {
    /// For fixes to the snapshot `files` whose mesh is `mesh`; `errors_before` is [`error_set`] of `mesh`.
    pub fn new(files: &'a [LoadedFile], mesh: &'a Mesh, opts: &AnalysisOptions, errors_before: &'a ErrorSet) -> Self {
        let mut starts = Vec::with_capacity(files.len());
        let mut at = 0;
        for f in files {
            starts.push(at);
            at += f.objects.len();
        }
        let laid_out = at == mesh.objects.len()
            && files.iter().flat_map(|f| f.objects.iter()).zip(&mesh.objects).all(|(a, b)| Arc::ptr_eq(a, b))
            && crate::reanalysis::resolve_settings(files, opts) == mesh.settings;
        let splice = laid_out.then(|| {
            let mut copy = mesh.clone();
            copy.suggest_mode = opts.suggest_mode();
            (copy, starts, crate::mesh::kustomize_namespaces(files))
        });
        let scoped = splice.is_some().then(|| crate::reanalysis::scoped::Scoped::new(mesh, opts));
        Verifier { files, errors_before, newer: mesh.newer.clone(), splice, scoped }
    }

    /// The rule findings (as [`finding_keys`] gives them) of the snapshot with file `idx` replaced by `new`.
    /// The finding keys of the snapshot with file `idx` replaced by `new`. With `scoped`, the posture rules look only
    /// at the services the file's PeerAuthentications and DestinationRules can reach: enough to see every new
    /// posture error (rows of other services cannot change), not to list every posture finding.
    fn keys_with(&mut self, idx: usize, new: LoadedFile, opts: &AnalysisOptions, scoped: bool) -> Vec<FindingKey> {
        let old = &self.files[idx];
        let settings_source =
            |f: &LoadedFile| f.objects.iter().any(|o| o.kind == "ConfigMap" || o.kind == "IstioOperator");
        if let Some((mesh, starts, kustomize)) = &mut self.splice
            && old.kustomize_namespace == new.kustomize_namespace
            && !settings_source(old)
            && !settings_source(&new)
        {
            // The objects the edit changes (not the whole file) decide what the re-analysis must look at.
            let changes = crate::reanalysis::scoped::changed_objects(old, &new);
            let scope = if scoped {
                crate::posture::PostureScope::of(
                    mesh,
                    changes
                        .removed
                        .iter()
                        .map(|&i| &*old.objects[i])
                        .chain(changes.added.iter().map(|&i| &*new.objects[i])),
                )
            } else {
                None
            };
            #[cfg(debug_assertions)]
            let scoped = scope.is_some();
            let rules = self.scoped.as_ref().and_then(|s| s.keys_with(starts[idx], old, &new, kustomize, opts));
            mesh.posture_scope = scope.map(Arc::new);
            let keys = match rules {
                // The posture rules on the mesh with the changed PeerAuthentications and DestinationRules laid over
                // it (object ids stay, so the inventory is kept), the other rules from the scoped run.
                Some(mut keys) => {
                    let start = starts[idx];
                    let placed = crate::reanalysis::scoped::placed(&changes, start, &new, kustomize);
                    match mesh.overlay(start..start + old.objects.len(), placed) {
                        Some(overlay) => {
                            keys.extend(crate::reanalysis::scoped::posture_keys(mesh, opts));
                            mesh.remove_overlay(overlay);
                        }
                        None => {
                            let splice = mesh.splice_file(start, old.objects.len(), &new.objects, kustomize);
                            keys.extend(crate::reanalysis::scoped::posture_keys(mesh, opts));
                            mesh.unsplice_file(splice);
                        }
                    }
                    keys
                }
                None => {
                    let splice = mesh.splice_file(starts[idx], old.objects.len(), &new.objects, kustomize);
                    let keys = rule_keys(mesh, opts);
                    mesh.unsplice_file(splice);
                    keys
                }
            };
            mesh.posture_scope = None;
            // Debug builds (tests) check every spliced re-analysis against a rebuild.
            #[cfg(debug_assertions)]
            {
                let mut copy = self.files.to_vec();
                copy[idx] = new;
                let (mut rebuilt, mut spliced) = (finding_keys(&copy, opts, self.newer.clone()), keys.clone());
                if scoped {
                    // A scoped posture lists a subset of the posture findings; everything else must agree.
                    let posture = |k: &FindingKey| k.0 == "MTLS001" || k.0 == "MTLS002";
                    debug_assert!(spliced.iter().filter(|k| posture(k)).all(|k| rebuilt.contains(k)));
                    rebuilt.retain(|k| !posture(k));
                    spliced.retain(|k| !posture(k));
                }
                rebuilt.sort();
                spliced.sort();
                debug_assert_eq!(spliced, rebuilt, "spliced re-analysis differs from a rebuild");
            }
            return keys;
        }
        let mut copy = self.files.to_vec();
        copy[idx] = new;
        finding_keys(&copy, opts, self.newer.clone())
    }
}

type FindingKey = (&'static str, ObjectRef, Option<u32>, Severity);

/// Picks the first fix candidate that passes verification. Returns the fix and a help text (the other
/// candidates, or the YAML to add where no line fix is possible). `verifier` re-analyzes `files` (`mesh`).
pub fn best_fix(
    files: &[LoadedFile],
    mesh: &Mesh,
    rf: &RuleFinding,
    finding: &Finding,
    opts: &AnalysisOptions,
    verifier: &mut Verifier,
) -> (Option<Fix>, Option<String>) {
    let mut notes: Vec<String> = Vec::new();
    let mut chosen: Option<Fix> = None;
    for plan in &rf.fixes {
        if chosen.is_some() {
            notes.push(format!("alternatively: {}", plan.description));
            continue;
        }
        match render_plan(files, mesh, plan) {
            Ok(fix) => {
                if verify(files, &fix, finding, opts, verifier) {
                    chosen = Some(fix);
                } else {
                    tracing::debug!(code = finding.code, plan = %plan.description, "fix candidate failed re-analysis");
                }
            }
            Err(help) => notes.extend(help),
        }
    }
    let help = if notes.is_empty() { None } else { Some(notes.join("\n")) };
    (chosen, help)
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

fn verify(files: &[LoadedFile], fix: &Fix, finding: &Finding, opts: &AnalysisOptions, verifier: &mut Verifier) -> bool {
    let Some(src) = source_of(files, &fix.path).map(|s| Arc::new(s.clone())) else { return false };
    let mut bytes = Vec::new();
    if src.bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(apply(&src.text, src.crlf, fix).as_bytes());
    let reloaded = load_file(&fix.path, &bytes, &Limits::default());
    let before = load_file(&fix.path, src.text.as_bytes(), &Limits::default());
    let fatal = |f: &LoadedFile| f.errors.iter().filter(|e| e.kind.is_fatal()).count();
    if fatal(&reloaded) > fatal(&before) {
        return false;
    }
    let scoped = !finding.code.starts_with("MTLS");
    let after = match files.iter().position(|f| f.source.as_ref().is_some_and(|s| s.path == fix.path)) {
        // Posture findings need their full rows to tell whether they are gone; other fixes only need the rows the
        // edit can reach, to see new posture errors.
        Some(idx) => verifier.keys_with(idx, reloaded, opts, scoped),
        None => {
            // The edited file feeds rendered targets: render each again with the edit and re-analyze the mesh.
            let Some(rerender) = &opts.rerender else { return false };
            // An edit of a file that other meshes also render (a shared base) would change them unseen: offer
            // only fixes whose file feeds this mesh alone.
            let mesh_targets: Vec<&str> = files.iter().filter_map(|f| f.target.as_deref()).collect();
            if rerender.feeds_others(&mesh_targets, &fix.path) {
                return false;
            }
            let fed: Vec<usize> = files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.target.is_some() && f.inputs.iter().any(|s| s.path == fix.path))
                .map(|(i, _)| i)
                .collect();
            let mut copy: Vec<LoadedFile> = Vec::new();
            for &i in &fed {
                let Some(target) = files[i].target.as_deref() else { return false };
                let Some(new) = rerender.rerender(target, &fix.path, &bytes) else { return false };
                if fatal(&new) > fatal(&files[i]) {
                    return false;
                }
                if fed.len() == 1 {
                    copy.push(new);
                } else {
                    if copy.is_empty() {
                        copy = files.to_vec();
                    }
                    copy[i] = new;
                }
            }
            match (fed.as_slice(), copy.len()) {
                ([], _) => return false,
                ([idx], 1) => {
                    let new = copy.pop().unwrap_or_default();
                    verifier.keys_with(*idx, new, opts, scoped)
                }
                _ => finding_keys(&copy, opts, verifier.newer.clone()),
            }
        }
    };
    if after
        .iter()
        .any(|(code, object, port, _)| *code == finding.code && *object == finding.object && *port == finding.port)
    {
        return false;
    }
    after
        .into_iter()
        .filter(|(.., severity)| *severity == Severity::Error)
        .all(|(code, object, port, _)| verifier.errors_before.contains(&(code, object, port)))
}

fn render_plan(files: &[LoadedFile], mesh: &Mesh, plan: &FixPlan) -> Result<Fix, Vec<String>> {
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

fn source_of<'a>(files: &'a [LoadedFile], path: &str) -> Option<&'a SourceText> {
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
            // `mode:` or `mode: ~`: rewrite from the key.
            let p = t.path(base, parent)?;
            let k = t.node(t.key_node(p, last)?);
            let line = lines.get(k.line - 1)?;
            let kstart = line.char_indices().nth(k.col).map(|(i, _)| i)?;
            let sep = if style.json { "\": " } else { ": " };
            let rest_key = if style.json { format!("\"{last}") } else { last.to_string() };
            let new = format!("{}{rest_key}{sep}{}", &line[..kstart], quoted(value, style.quote));
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
    let mut k = field.len() - 1;
    let parent = loop {
        if k == 0 {
            break base;
        }
        if let Some(n) = t.path(base, &field[..k]) {
            break t.resolve(n);
        }
        k -= 1;
    };
    let rest = &field[k..];
    if t.is_null(parent) && k > 0 {
        // `mtls:` with no value: keep the key line, add the children under it.
        let pp = t.path(base, &field[..k - 1])?;
        let keynode = t.node(t.key_node(pp, field[k - 1])?);
        let line = lines.get(keynode.line - 1)?;
        let kstart = line.char_indices().nth(keynode.col).map(|(i, _)| i)?;
        let keytext = if style.json { format!("\"{}\":", field[k - 1]) } else { format!("{}:", field[k - 1]) };
        let mut out = vec![format!("{}{keytext}", &line[..kstart])];
        if style.json || t.is_flow(base) {
            out[0] = format!("{} {}", out[0], flow_nest(rest, value, &style));
        } else {
            out.extend(block_nest(rest, value, keynode.col + style.indent, &style));
        }
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
    for (i, c) in line[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
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
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::finding::Side;
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
            let new = apply(&src.text, src.crlf, &fix);
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
        assert!(fixes[0].replacement.contains("name: default-mtls"), "{}", fixes[0].replacement);
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
}
