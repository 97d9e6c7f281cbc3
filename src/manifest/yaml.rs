//! YAML text to span-carrying node trees: strict parsing with hard limits, no alias expansion.
//!
//! We consume `saphyr-parser`'s event stream (iterative, strict, with a line/column for every event) and build
//! a flat arena of nodes. Aliases become references to the anchored node, never copies, so an alias bomb costs
//! nothing. Nesting depth, documents per file and aliases per document are capped; a cheap pre-scan refuses
//! pathological nesting before the parser sees it.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};
use std::collections::HashMap;

/// Index of a node inside one [`YamlDoc`].
pub type NodeId = usize;

/// Hard limits on hostile input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Most documents in one file.
    pub max_documents: usize,
    /// Most nodes in one document.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 8 * 1024 * 1024, max_depth: 128, max_documents: 20_000, max_nodes: 2_000_000 }
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// A node's value.
#[derive(Debug, Clone)]
pub enum Value {
    Scalar {
        text: compact_str::CompactString,
        style: Style,
    },
    Seq {
        items: Vec<NodeId>,
        flow: bool,
    },
    Map {
        entries: Vec<(NodeId, NodeId)>,
        flow: bool,
    },
    /// An alias: points at the anchored node, which is not copied.
    Alias(NodeId),
}

/// One node with its 1-based line span and 0-based start column.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
}

/// A key that appears twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub line: usize,
    pub first_line: usize,
}

/// One parsed YAML document.
#[derive(Debug, Clone, Default)]
pub struct YamlDoc {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
    /// First and last line of the document's text (including its `---` line), 1-based.
    pub start_line: usize,
    pub end_line: usize,
    /// Line of the `---` marker that opens this document, if any.
    pub marker_line: Option<usize>,
    pub duplicates: Vec<DuplicateKey>,
}

/// Why a chunk of YAML was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Result of parsing one file: the documents that parsed and the errors of those that did not.
#[derive(Debug, Default)]
pub struct ParsedStream {
    pub docs: Vec<YamlDoc>,
    pub errors: Vec<YamlError>,
}

impl YamlDoc {
    /// Releases the spare capacity the parser's growing vectors left (up to half of a document's memory); for
    /// documents that are kept for the rest of a run.
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        for n in &mut self.nodes {
            match &mut n.value {
                Value::Seq { items, .. } => items.shrink_to_fit(),
                Value::Map { entries, .. } => entries.shrink_to_fit(),
                Value::Scalar { .. } | Value::Alias(_) => {}
            }
        }
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Follows aliases (bounded) to the node that carries the value.
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..16 {
            match self.nodes[id].value {
                Value::Alias(target) => id = target,
                _ => return id,
            }
        }
        id
    }

    /// The scalar text of a node, if it is a non-null scalar.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[self.resolve(id)].value {
            Value::Scalar { text, style } => {
                if *style == Style::Plain && is_null_text(text) {
                    None
                } else {
                    Some(text.as_str())
                }
            }
            _ => None,
        }
    }

    /// True when the node is missing-equivalent: a null scalar.
    pub fn is_null(&self, id: NodeId) -> bool {
        matches!(&self.nodes[self.resolve(id)].value, Value::Scalar { text, style } if *style == Style::Plain && is_null_text(text))
    }

    /// Entries of a mapping node (empty for anything else).
    pub fn entries(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match &self.nodes[self.resolve(id)].value {
            Value::Map { entries, .. } => entries,
            _ => &[],
        }
    }

    /// Items of a sequence node (empty for anything else).
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match &self.nodes[self.resolve(id)].value {
            Value::Seq { items, .. } => items,
            _ => &[],
        }
    }

    pub fn is_map(&self, id: NodeId) -> bool {
        matches!(self.nodes[self.resolve(id)].value, Value::Map { .. })
    }

    pub fn is_flow(&self, id: NodeId) -> bool {
        matches!(self.nodes[self.resolve(id)].value, Value::Map { flow: true, .. } | Value::Seq { flow: true, .. })
    }

    /// Looks a key up in a mapping: the last occurrence wins (as Kubernetes decodes), then `<<` merge keys.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        // One pass: the hot path of every field read (most lookups of optional fields miss).
        let mut merge = None;
        for (k, v) in self.entries(map).iter().rev() {
            match self.key_text(*k) {
                Some(t) if t == key => return Some(*v),
                Some("<<") if merge.is_none() => merge = Some(*v),
                _ => {}
            }
        }
        let merged = self.resolve(merge?);
        match &self.nodes[merged].value {
            Value::Map { .. } => self.get(merged, key),
            Value::Seq { items, .. } => items.iter().find_map(|m| {
                let m = self.resolve(*m);
                if self.is_map(m) { self.get_direct(m, key) } else { None }
            }),
            _ => None,
        }
    }

    fn get_direct(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entries(map).iter().rev().find(|(k, _)| self.key_text(*k) == Some(key)).map(|(_, v)| *v)
    }

    /// The key node (not the value) of `key` in `map`, last occurrence.
    pub fn key_node(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entries(map).iter().rev().find(|(k, _)| self.key_text(*k) == Some(key)).map(|(k, _)| *k)
    }

    /// Text of a key node: any scalar, including ones that would read as null or numbers.
    pub fn key_text(&self, id: NodeId) -> Option<&str> {
        if let Value::Scalar { text, .. } = &self.nodes[id].value {
            return Some(text.as_str());
        }
        match &self.nodes[self.resolve(id)].value {
            Value::Scalar { text, .. } => Some(text.as_str()),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, from: NodeId, keys: &[&str]) -> Option<NodeId> {
        let mut at = from;
        for k in keys {
            at = self.get(at, k)?;
        }
        Some(at)
    }

    /// Scalar text at a path of mapping keys.
    pub fn str_at(&self, from: NodeId, keys: &[&str]) -> Option<&str> {
        self.path(from, keys).and_then(|n| self.scalar(n))
    }

    /// A mapping of scalar keys to scalar values (labels, annotations, matchLabels).
    pub fn string_map(&self, id: NodeId) -> Vec<(String, String)> {
        self.entries(id)
            .iter()
            .filter_map(|(k, v)| Some((self.key_text(*k)?.to_string(), self.scalar(*v).unwrap_or("").to_string())))
            .collect()
    }
}

/// Plain scalars that YAML reads as null.
pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Splits a file into chunks that each start at a `---` line (or the file start), so that one broken document
/// does not hide the others. A `---` at column 0 always starts a document in YAML, even inside block scalars.
fn split_chunks(text: &str) -> Vec<(usize, &str)> {
    let mut chunks = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut pending_directive: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.starts_with('%') && pending_directive.is_none() {
            pending_directive = Some((offset, line_no));
        } else if is_doc_start(line) {
            let (cut, cut_line) = pending_directive.unwrap_or((offset, line_no));
            if cut > start_byte {
                chunks.push((start_line, &text[start_byte..cut]));
            }
            start_byte = cut;
            start_line = cut_line;
            pending_directive = None;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            pending_directive = None;
        }
        offset += raw.len();
    }
    if start_byte < text.len() {
        chunks.push((start_line, &text[start_byte..]));
    }
    chunks
}

fn is_doc_start(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

/// Cheap guard run before the parser: refuses nesting that no manifest has (deep block sequences `- - -`,
/// deep indentation, deep flow brackets), so no recursive or quadratic path is ever reached.
fn prescan_depth(chunk: &str, first_line: usize, limits: &Limits) -> Result<(), YamlError> {
    let mut flow_depth: usize = 0;
    for (i, line) in chunk.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut pos = 0;
        let mut dashes = 0;
        while pos < bytes.len() {
            match bytes[pos] {
                b' ' => pos += 1,
                b'-' if bytes.get(pos + 1).is_none_or(|b| *b == b' ') => {
                    dashes += 1;
                    pos += 1;
                }
                _ => break,
            }
        }
        // Rough structural depth of a block line: indentation plus inline sequence entries.
        if dashes > limits.max_depth || pos > limits.max_depth * 8 {
            return Err(YamlError {
                line: first_line + i,
                message: format!("nesting deeper than {} levels; refused", limits.max_depth),
            });
        }
        let mut in_single = false;
        let mut in_double = false;
        let mut prev = b' ';
        for &b in bytes {
            match b {
                b'#' if !in_single && !in_double && (prev == b' ' || prev == b'\t') => break,
                b'\'' if !in_double => in_single = !in_single,
                b'"' if !in_single && prev != b'\\' => in_double = !in_double,
                b'[' | b'{' if !in_single && !in_double => {
                    flow_depth += 1;
                    if flow_depth > limits.max_depth {
                        return Err(YamlError {
                            line: first_line + i,
                            message: format!("flow nesting deeper than {} levels; refused", limits.max_depth),
                        });
                    }
                }
                b']' | b'}' if !in_single && !in_double => flow_depth = flow_depth.saturating_sub(1),
                _ => {}
            }
            prev = b;
        }
        // Quotes do not span lines in manifests often; reset to avoid a stray quote poisoning the count.
    }
    Ok(())
}

/// Parses a whole file's text into documents. Never panics on any input; errors carry 1-based lines.
pub fn parse_stream(text: &str, limits: &Limits) -> ParsedStream {
    let mut out = ParsedStream::default();
    if text.len() > limits.max_file_bytes {
        out.errors.push(YamlError {
            line: 1,
            message: format!("file is larger than {} bytes; refused", limits.max_file_bytes),
        });
        return out;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    for (first_line, chunk) in split_chunks(text) {
        if out.docs.len() >= limits.max_documents {
            out.errors.push(YamlError {
                line: first_line,
                message: format!("more than {} documents in one file; the rest is ignored", limits.max_documents),
            });
            break;
        }
        if let Err(e) = prescan_depth(chunk, first_line, limits) {
            out.errors.push(e);
            continue;
        }
        match parse_chunk(chunk, first_line, &lines, limits) {
            Ok(docs) => out.docs.extend(docs),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

struct Frame {
    id: NodeId,
    pending_key: Option<NodeId>,
    /// Latest line of each scalar key of a large mapping (duplicate detection). Small mappings, nearly all of
    /// them, scan their entries instead: no map and no key copies per mapping.
    seen: Option<HashMap<String, usize>>,
}

/// Mappings with more entries than this index their keys for duplicate detection.
const SCAN_KEYS_UP_TO: usize = 16;

/// Latest line of the scalar key `k` among a mapping's entries so far (the line a duplicate is reported against).
fn previous_key_line(doc: &YamlDoc, entries: &[(NodeId, NodeId)], k: &str) -> Option<usize> {
    entries.iter().rev().find_map(|(key, _)| match &doc.nodes[*key].value {
        Value::Scalar { text, .. } if text == k => Some(doc.nodes[*key].line),
        _ => None,
    })
}

fn scan_error(e: &ScanError, line_offset: usize) -> YamlError {
    YamlError { line: e.marker().line() + line_offset, message: e.info().to_string() }
}

fn parse_chunk(chunk: &str, first_line: usize, lines: &[&str], limits: &Limits) -> Result<Vec<YamlDoc>, YamlError> {
    let off = first_line - 1;
    let chunk_end_line = off + 1 + chunk.trim_end_matches(['\n', '\r']).bytes().filter(|b| *b == b'\n').count();
    let mut docs = Vec::new();
    let mut doc = YamlDoc::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, NodeId> = HashMap::new();
    let parser = Parser::new_from_str(chunk);
    for ev in parser {
        let (event, span) = ev.map_err(|e| scan_error(&e, off))?;
        let line = span.start.line() + off;
        let col = span.start.col();
        let mut new_node: Option<(Node, usize, bool)> = None; // node, anchor id, opens a collection
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(explicit) => {
                doc = YamlDoc { start_line: line, marker_line: explicit.then_some(line), ..YamlDoc::default() };
                anchors.clear();
            }
            Event::DocumentEnd => {
                let mut finished = std::mem::take(&mut doc);
                finished.end_line = last_content_line(lines, finished.start_line, chunk_end_line);
                if finished.root.is_some_and(|r| !finished.is_null(r)) {
                    docs.push(finished);
                }
            }
            Event::Alias(anchor) => {
                let target = *anchors
                    .get(&anchor)
                    .ok_or_else(|| YamlError { line, message: "alias to an unknown anchor".to_string() })?;
                new_node = Some((Node { value: Value::Alias(target), line, col, end_line: line }, 0, false));
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let end_line = (span.end.line() + off).max(line);
                new_node = Some((
                    Node {
                        value: Value::Scalar { text: compact_str::CompactString::from(text.as_ref()), style },
                        line,
                        col,
                        end_line,
                    },
                    anchor,
                    false,
                ));
            }
            Event::SequenceStart(anchor, _) => {
                let flow = char_at(lines, line, col) == Some('[');
                new_node = Some((
                    Node { value: Value::Seq { items: Vec::new(), flow }, line, col, end_line: line },
                    anchor,
                    true,
                ));
            }
            Event::MappingStart(anchor, _) => {
                let flow = char_at(lines, line, col) == Some('{');
                new_node = Some((
                    Node { value: Value::Map { entries: Vec::new(), flow }, line, col, end_line: line },
                    anchor,
                    true,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = stack.pop().ok_or_else(|| YamlError { line, message: "unbalanced collection".into() })?;
                let end_line = span.end.line() + off;
                let node_flow = doc.is_flow(frame.id);
                let child_end = child_max_end(&doc, frame.id);
                let n = &mut doc.nodes[frame.id];
                n.end_line = if node_flow { end_line.max(child_end) } else { child_end.max(n.line) };
            }
        }
        if let Some((node, anchor, opens)) = new_node {
            if doc.nodes.len() >= limits.max_nodes {
                return Err(YamlError {
                    line,
                    message: format!("more than {} nodes in one document; refused", limits.max_nodes),
                });
            }
            let id = doc.nodes.len();
            doc.nodes.push(node);
            if anchor != 0 {
                anchors.insert(anchor, id);
            }
            attach(&mut doc, &mut stack, id)?;
            if opens {
                if stack.len() >= limits.max_depth {
                    return Err(YamlError {
                        line,
                        message: format!("nesting deeper than {} levels; refused", limits.max_depth),
                    });
                }
                stack.push(Frame { id, pending_key: None, seen: None });
            }
        }
    }
    Ok(docs)
}

fn child_max_end(doc: &YamlDoc, id: NodeId) -> usize {
    match &doc.nodes[id].value {
        Value::Seq { items, .. } => items.iter().map(|c| doc.nodes[*c].end_line).max().unwrap_or(0),
        Value::Map { entries, .. } => {
            entries.iter().map(|(k, v)| doc.nodes[*k].end_line.max(doc.nodes[*v].end_line)).max().unwrap_or(0)
        }
        _ => 0,
    }
}

fn attach(doc: &mut YamlDoc, stack: &mut [Frame], id: NodeId) -> Result<(), YamlError> {
    let Some(frame) = stack.last_mut() else {
        doc.root = Some(id);
        return Ok(());
    };
    let parent = frame.id;
    match &mut doc.nodes[parent].value {
        Value::Seq { items, .. } => items.push(id),
        Value::Map { .. } => match frame.pending_key.take() {
            None => frame.pending_key = Some(id),
            Some(key) => {
                let mut duplicate = None;
                if let Value::Scalar { text: k, .. } = &doc.nodes[key].value
                    && k != "<<"
                {
                    let line = doc.nodes[key].line;
                    let entries = match &doc.nodes[parent].value {
                        Value::Map { entries, .. } => entries.as_slice(),
                        _ => &[],
                    };
                    if frame.seen.is_none() && entries.len() >= SCAN_KEYS_UP_TO {
                        let mut seen = HashMap::new();
                        for (ek, _) in entries {
                            if let Value::Scalar { text, .. } = &doc.nodes[*ek].value
                                && text != "<<"
                            {
                                seen.insert(text.to_string(), doc.nodes[*ek].line);
                            }
                        }
                        frame.seen = Some(seen);
                    }
                    let previous = match &mut frame.seen {
                        Some(seen) => seen.insert(k.to_string(), line),
                        None => previous_key_line(doc, entries, k),
                    };
                    if let Some(first_line) = previous {
                        duplicate = Some(DuplicateKey { key: k.to_string(), line, first_line });
                    }
                }
                doc.duplicates.extend(duplicate);
                if let Value::Map { entries, .. } = &mut doc.nodes[parent].value {
                    entries.push((key, id));
                }
            }
        },
        _ => {}
    }
    Ok(())
}

fn char_at(lines: &[&str], line: usize, col: usize) -> Option<char> {
    lines.get(line.checked_sub(1)?)?.chars().nth(col)
}

/// Last line of a document that holds content (not blank, not only a comment), within `start..=max`.
fn last_content_line(lines: &[&str], start: usize, max: usize) -> usize {
    let mut last = start;
    for l in start..=max.min(lines.len()) {
        let t = lines[l - 1].trim();
        if !t.is_empty() && !t.starts_with('#') && t != "..." {
            last = l;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedStream {
        parse_stream(text, &Limits::default())
    }

    #[test]
    fn multi_document_lines() {
        let s = parse("a: 1\n---\nb:\n  c: x\n\n---\n# only a comment\n---\nd: [1, 2]\n");
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        assert_eq!(s.docs.len(), 3);
        let d = &s.docs[1];
        let root = d.root.unwrap();
        let c = d.path(root, &["b", "c"]).unwrap();
        assert_eq!(d.node(c).line, 4);
        assert_eq!((d.start_line, d.end_line), (2, 4));
        assert_eq!(s.docs[2].start_line, 8);
    }

    #[test]
    fn duplicate_key_last_wins_and_is_reported() {
        let s = parse("spec:\n  mode: STRICT\n  mode: DISABLE\n");
        let d = &s.docs[0];
        assert_eq!(d.str_at(d.root.unwrap(), &["spec", "mode"]), Some("DISABLE"));
        assert_eq!(d.duplicates, vec![DuplicateKey { key: "mode".into(), line: 3, first_line: 2 }]);
    }

    #[test]
    fn duplicate_keys_point_at_the_previous_occurrence_in_small_and_large_mappings() {
        let dk = |key: &str, line, first_line| DuplicateKey { key: key.into(), line, first_line };
        let s = parse("a: 1\nb: 2\na: 3\n<<: {}\na: 4\n");
        assert_eq!(s.docs[0].duplicates, vec![dk("a", 3, 1), dk("a", 5, 3)]);
        // Past SCAN_KEYS_UP_TO entries the keys are indexed: same reports.
        let mut t: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
        t.push_str("k3: again\nk19: again\nk3: third\n");
        let s = parse(&t);
        assert_eq!(s.docs[0].duplicates, vec![dk("k3", 21, 4), dk("k19", 22, 20), dk("k3", 23, 21)]);
        assert_eq!(s.docs[0].str_at(s.docs[0].root.unwrap(), &["k3"]), Some("third"));
    }

    #[test]
    fn scalars_are_raw_text() {
        let s = parse("a: yes\nb: 0755\nc: 'on'\nd: ~\n");
        let d = &s.docs[0];
        let r = d.root.unwrap();
        assert_eq!(d.str_at(r, &["a"]), Some("yes"));
        assert_eq!(d.str_at(r, &["b"]), Some("0755"));
        assert_eq!(d.str_at(r, &["c"]), Some("on"));
        assert_eq!(d.str_at(r, &["d"]), None);
    }

    #[test]
    fn invalid_yaml_is_an_error_with_line_and_other_documents_survive() {
        let s = parse("a: 1\n---\nb: [1, 2\nc: d\n---\ne: 3\n");
        assert_eq!(s.docs.len(), 2);
        assert_eq!(s.errors.len(), 1);
        assert!(s.errors[0].line >= 3, "{:?}", s.errors);
    }

    #[test]
    fn alias_bomb_is_cheap() {
        let mut t = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 0..30 {
            let prev = if i == 0 { "a".to_string() } else { format!("a{}", i - 1) };
            t.push_str(&format!(
                "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let s = parse(&t);
        assert!(s.errors.is_empty());
        assert!(s.docs[0].nodes.len() < 1000);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let block = "- ".repeat(100_000) + "x\n";
        assert_eq!(parse(&block).errors.len(), 1);
        let flow = "[".repeat(100_000);
        assert_eq!(parse(&flow).errors.len(), 1);
        let mut indented = String::new();
        for i in 0..2000 {
            indented.push_str(&" ".repeat(i));
            indented.push_str("k:\n");
        }
        assert_eq!(parse(&indented).errors.len(), 1);
    }

    #[test]
    fn flow_style_and_crlf() {
        let s = parse("{kind: A,\r\n spec: {mode: STRICT}}\r\n");
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        let d = &s.docs[0];
        let m = d.path(d.root.unwrap(), &["spec", "mode"]).unwrap();
        assert_eq!(d.node(m).line, 2);
        assert!(d.is_flow(d.root.unwrap()));
        assert_eq!(d.node(d.root.unwrap()).end_line, 2);
    }

    #[test]
    fn merge_keys() {
        let s = parse("base: &b\n  mode: STRICT\nspec:\n  <<: *b\n  other: 1\n");
        let d = &s.docs[0];
        assert_eq!(d.str_at(d.root.unwrap(), &["spec", "mode"]), Some("STRICT"));
    }
}
