//! YAML text to span-carrying node trees, read the way Kubernetes reads it, with hard limits and no alias expansion.
//!
//! We consume `libyaml-safer`'s event stream (a safe Rust port of libyaml, the C library that go-yaml v2 and v3
//! were ported from, so both accept and refuse the same inputs and read the same scalars) and build a flat arena
//! of nodes. The parser is a state machine (no recursion) and so is our builder; every byte offset of an event
//! is turned into a line and column with one line index and a forward-moving column cursor (linear in the input,
//! however long its lines). Aliases become references to the anchored node, never copies, so an alias bomb costs
//! nothing; an alias to a collection that is still open (a cycle) is refused, as go-yaml refuses it. Nesting
//! depth, documents per file, nodes per document and errors per file are capped.

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};
use std::collections::{HashMap, HashSet};

/// Index of a node inside one [`YamlDoc`].
pub type NodeId = usize;

/// Hard limits on hostile input. Everything here is configurable (see `Limits::from_env` and the README).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Most bytes read over all files of one side of a run; files past it are refused (reported, not read).
    pub max_total_bytes: usize,
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Most documents in one file.
    pub max_documents: usize,
    /// Most nodes in one document.
    pub max_nodes: usize,
    /// Most errors listed for one file; the rest become one summary entry.
    pub max_errors_per_file: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Rendered output of whole platforms (kubeflow's is 11.2 MB) fits with room to spare.
            max_file_bytes: 64 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_depth: 256,
            max_documents: 100_000,
            max_nodes: 8_000_000,
            max_errors_per_file: 20,
        }
    }
}

impl Limits {
    /// The defaults, with any of `MTLS_REVIEW_MAX_FILE_BYTES`, `MTLS_REVIEW_MAX_TOTAL_BYTES`,
    /// `MTLS_REVIEW_MAX_DEPTH`, `MTLS_REVIEW_MAX_DOCUMENTS`, `MTLS_REVIEW_MAX_NODES` and
    /// `MTLS_REVIEW_MAX_ERRORS_PER_FILE` taken from `get` (the environment, for the binary).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Limits {
        let mut l = Limits::default();
        let num = |name: &str, slot: &mut usize| {
            if let Some(v) = get(name).and_then(|v| v.trim().replace('_', "").parse::<usize>().ok()) {
                *slot = v;
            }
        };
        num("MTLS_REVIEW_MAX_FILE_BYTES", &mut l.max_file_bytes);
        num("MTLS_REVIEW_MAX_TOTAL_BYTES", &mut l.max_total_bytes);
        num("MTLS_REVIEW_MAX_DEPTH", &mut l.max_depth);
        num("MTLS_REVIEW_MAX_DOCUMENTS", &mut l.max_documents);
        num("MTLS_REVIEW_MAX_NODES", &mut l.max_nodes);
        num("MTLS_REVIEW_MAX_ERRORS_PER_FILE", &mut l.max_errors_per_file);
        l.max_errors_per_file = l.max_errors_per_file.max(1);
        l
    }

    /// [`Limits::from_vars`] on the process environment, read once.
    pub fn configured() -> Limits {
        static CONFIGURED: std::sync::OnceLock<Limits> = std::sync::OnceLock::new();
        *CONFIGURED.get_or_init(|| Limits::from_vars(|k| std::env::var(k).ok()))
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

/// One node with its 1-based line span and 0-based start column (in characters).
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
    /// The first duplicate keys (up to the per-file error cap); `more_duplicates` counts the rest.
    pub duplicates: Vec<DuplicateKey>,
    pub more_duplicates: usize,
    /// Explicit tags (`!!str 80`), by node, in node order; most documents have none.
    pub tags: Vec<(NodeId, compact_str::CompactString)>,
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

/// Which go-yaml's reading of merge keys and scalars: v2 (kubectl, Argo CD, the API server's YAML decoding) or
/// v3 (kustomize, Flux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    V2,
    V3,
}

const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

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

    /// Follows an alias to the node that carries the value (an anchored node is never itself an alias).
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..4 {
            match self.nodes[id].value {
                Value::Alias(target) => id = target,
                _ => return id,
            }
        }
        id
    }

    /// The explicit tag of a node, if it has one.
    pub fn tag(&self, id: NodeId) -> Option<&str> {
        self.tags.binary_search_by_key(&id, |(n, _)| *n).ok().map(|i| self.tags[i].1.as_str())
    }

    /// The scalar text of a node, if it is a non-null scalar.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        let id = self.resolve(id);
        match &self.nodes[id].value {
            Value::Scalar { text, style } => {
                if *style == Style::Plain && is_null_text(text) && self.tag(id).is_none() {
                    None
                } else {
                    Some(text.as_str())
                }
            }
            _ => None,
        }
    }

    /// An integer as go-yaml v2 (and v3) reads a plain scalar: YAML 1.1, so `0120` is 80, `0x50` is 80,
    /// `8_080` is 8080. A quoted scalar is a string, never a number, as for Kubernetes.
    pub fn int(&self, id: NodeId) -> Option<i64> {
        let id = self.resolve(id);
        match &self.nodes[id].value {
            Value::Scalar { text, style: Style::Plain } => match self.tag(id) {
                None | Some("tag:yaml.org,2002:int") => yaml11_int(text),
                Some(_) => None,
            },
            _ => None,
        }
    }

    /// A port number (0..=65535) at a path of keys: a plain scalar read as go-yaml v2 reads integers
    /// (`0120` is 80); a quoted one as a decimal, as before (the API server refuses it; we keep reading it).
    pub fn port_at(&self, from: NodeId, keys: &[&str]) -> Option<u32> {
        let n = self.resolve(self.path(from, keys)?);
        let v = match &self.nodes[n].value {
            Value::Scalar { style: Style::Plain, .. } => self.int(n)?,
            Value::Scalar { text, .. } => text.trim().parse::<i64>().ok()?,
            _ => return None,
        };
        u32::try_from(v).ok().filter(|p| *p <= 65535)
    }

    /// True when the node is missing-equivalent: a null scalar.
    pub fn is_null(&self, id: NodeId) -> bool {
        let id = self.resolve(id);
        matches!(&self.nodes[id].value, Value::Scalar { text, style } if *style == Style::Plain && is_null_text(text))
            && self.tag(id).is_none_or(|t| t == "tag:yaml.org,2002:null")
    }

    /// Entries of a mapping node as written (empty for anything else); `<<` merge keys are entries here, see
    /// [`YamlDoc::merged_entries`] for the mapping as Kubernetes reads it.
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

    /// True for a `<<` key that go-yaml reads as a merge: plain, untagged (or tagged `!!merge`).
    pub fn is_merge_key(&self, id: NodeId) -> bool {
        matches!(&self.nodes[id].value, Value::Scalar { text, style: Style::Plain } if text == "<<")
            && self.tag(id).is_none_or(|t| t == MERGE_TAG)
    }

    /// The mappings a `<<` value merges, in precedence order (first wins); `None` when the value is not a
    /// mapping, an alias to one, or a sequence of those (go-yaml refuses the document then).
    fn merge_sources(&self, value: NodeId) -> Option<Vec<NodeId>> {
        let v = self.resolve(value);
        match &self.nodes[v].value {
            Value::Map { .. } => Some(vec![v]),
            Value::Seq { items, .. } => items
                .iter()
                .map(|i| {
                    let m = self.resolve(*i);
                    self.is_map(m).then_some(m)
                })
                .collect(),
            _ => None,
        }
    }

    /// Visits the entries of a mapping in go-yaml's precedence order (the first visit of a key text wins),
    /// expanding merge keys; iterative, each mapping visited once (so no cycle or diamond can blow up; a
    /// mapping visited again cannot change which entry of a key comes first). Stops when `f` returns true.
    fn visit_entries(&self, map: NodeId, schema: Schema, mut f: impl FnMut(NodeId, NodeId) -> bool) {
        // (mapping, next position): positions count down for v2 (later entries and merges override earlier
        // ones), and for v3 run over explicit keys first (usize::MAX marks a mapping not yet started).
        let mut stack: Vec<(NodeId, usize)> = vec![(self.resolve(map), usize::MAX)];
        let mut visited: HashSet<NodeId> = HashSet::new();
        while let Some(top) = stack.last_mut() {
            let (m, pos) = *top;
            let entries = self.entries(m);
            if pos == usize::MAX {
                if !visited.insert(m) {
                    stack.pop();
                    continue;
                }
                top.1 = entries.len();
                if schema == Schema::V3 {
                    // Explicit keys first (v3 refuses duplicate keys, so their order does not matter), then
                    // the last `<<` only.
                    for (k, v) in entries.iter().rev() {
                        if !self.is_merge_key(*k) && f(*k, *v) {
                            return;
                        }
                    }
                    stack.pop();
                    if let Some((_, v)) = entries.iter().rev().find(|(k, _)| self.is_merge_key(*k)) {
                        for s in self.merge_sources(*v).unwrap_or_default().into_iter().rev() {
                            stack.push((s, usize::MAX));
                        }
                    }
                }
                continue;
            }
            if pos == 0 {
                stack.pop();
                continue;
            }
            top.1 = pos - 1;
            let (k, v) = entries[pos - 1];
            if self.is_merge_key(k) {
                for s in self.merge_sources(v).unwrap_or_default().into_iter().rev() {
                    stack.push((s, usize::MAX));
                }
            } else if f(k, v) {
                return;
            }
        }
    }

    /// Looks a key up in a mapping as go-yaml v2 reads it: the last occurrence wins (as Kubernetes decodes),
    /// `<<` merge keys count where they stand (later entries override what they merge).
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_in(map, key, Schema::V2)
    }

    /// [`YamlDoc::get`] with the merge reading of one go-yaml version.
    pub fn get_in(&self, map: NodeId, key: &str, schema: Schema) -> Option<NodeId> {
        // One pass without merge keys: the hot path of every field read (most lookups of optional fields miss).
        let entries = self.entries(map);
        let mut merges = false;
        for (k, v) in entries.iter().rev() {
            if self.is_merge_key(*k) {
                merges = true;
                if schema == Schema::V2 {
                    break;
                }
            } else if self.key_text(*k) == Some(key) {
                return Some(*v);
            }
        }
        if !merges {
            return None;
        }
        let mut found = None;
        self.visit_entries(map, schema, |k, v| {
            if self.key_text(k) == Some(key) {
                found = Some(v);
                true
            } else {
                false
            }
        });
        found
    }

    /// The entries of a mapping as go-yaml v2 reads it: merge keys expanded, one entry per key (the one that
    /// wins), in source order.
    pub fn merged_entries(&self, map: NodeId) -> Vec<(NodeId, NodeId)> {
        self.merged_entries_in(map, Schema::V2)
    }

    /// [`YamlDoc::merged_entries`] with the merge reading of one go-yaml version.
    pub fn merged_entries_in(&self, map: NodeId, schema: Schema) -> Vec<(NodeId, NodeId)> {
        let entries = self.entries(map);
        let mut out = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut complex = Vec::new();
        if !entries.iter().any(|(k, _)| self.is_merge_key(*k)) {
            for (k, v) in entries.iter().rev() {
                match self.key_text(*k) {
                    Some(t) if !seen.insert(t) => {}
                    Some(_) => out.push((*k, *v)),
                    None => complex.push((*k, *v)),
                }
            }
        } else {
            self.visit_entries(map, schema, |k, v| {
                match self.key_text(k) {
                    Some(t) if !seen.insert(t) => {}
                    Some(_) => out.push((k, v)),
                    None => complex.push((k, v)),
                }
                false
            });
        }
        out.extend(complex);
        out.reverse();
        out
    }

    /// The key node (not the value) of `key` in `map`, last occurrence written in the mapping itself.
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

    /// A mapping of scalar keys to scalar values (labels, annotations, matchLabels), merge keys expanded.
    pub fn string_map(&self, id: NodeId) -> Vec<(String, String)> {
        self.merged_entries(id)
            .iter()
            .filter_map(|(k, v)| Some((self.key_text(*k)?.to_string(), self.scalar(*v).unwrap_or("").to_string())))
            .collect()
    }
}

/// Plain scalars that YAML reads as null.
pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// An integer as go-yaml reads a plain scalar (`strconv.ParseInt(s, 0, 64)` after removing `_`, then
/// `ParseUint`, then `0b`/`-0b`, then v3's `0o`): decimal, `0x` hex, `0o` and YAML 1.1 leading-zero octal,
/// `0b` binary, with an optional sign. Values past `i64` are `None` here.
pub fn yaml11_int(text: &str) -> Option<i64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return None;
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(digits, radix).ok()?);
    let v = if neg { -magnitude } else { magnitude };
    i64::try_from(v).ok()
}

/// Line starts of a text, with line breaks as YAML parsers count them: LF, CRLF and a lone CR.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let b = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts, len: b.len() }
    }

    /// 1-based line of a byte offset (offsets past the end are on the last line that has text).
    pub fn line_of(&self, byte: usize) -> usize {
        let byte = byte.min(self.len);
        self.starts.partition_point(|s| *s <= byte).clamp(1, self.line_count())
    }

    /// Byte offset where a 1-based line starts.
    pub fn start(&self, line: usize) -> usize {
        self.starts.get(line.saturating_sub(1)).copied().unwrap_or(self.len)
    }

    /// Number of lines: a final line break does not open a line of its own; an empty text has one line.
    pub fn line_count(&self) -> usize {
        let n = self.starts.len();
        if n > 1 && self.starts[n - 1] == self.len { n - 1 } else { n }
    }

    /// The lines of `text` (the one this index was built from), without their line breaks.
    pub fn lines<'t>(&self, text: &'t str) -> Vec<&'t str> {
        (0..self.line_count())
            .map(|i| {
                let a = self.starts[i];
                let b = self.starts.get(i + 1).copied().unwrap_or(self.len).min(text.len());
                text.get(a..b).unwrap_or("").trim_end_matches(['\n', '\r'])
            })
            .collect()
    }
}

/// Lines of a text as YAML parsers count them (LF, CRLF, lone CR), without their line breaks.
pub fn split_lines(text: &str) -> Vec<&str> {
    LineIndex::new(text).lines(text)
}

/// Byte offsets to (line, column) for one file: columns in characters, found by counting forward from the
/// last position asked on the same line, so a file's events (which come in order) cost one pass over it.
struct Positions<'t> {
    text: &'t [u8],
    index: LineIndex,
    /// Last answer: (byte, line, column).
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'t> Positions<'t> {
    fn new(text: &'t str) -> Self {
        Positions { text: text.as_bytes(), index: LineIndex::new(text), last: std::cell::Cell::new((0, 1, 0)) }
    }

    fn line(&self, byte: usize) -> usize {
        self.index.line_of(byte)
    }

    fn at(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.index.line_of(byte);
        let (lb, ll, lc) = self.last.get();
        let (from, mut col) = if ll == line && lb <= byte { (lb, lc) } else { (self.index.start(line).min(byte), 0) };
        // Characters are the bytes that do not continue a UTF-8 sequence.
        col += self.text[from..byte].iter().filter(|b| (**b & 0xC0) != 0x80).count();
        self.last.set((byte, line, col));
        (line, col)
    }

    /// Line of the last byte in `start..end` that is not white space or a line break (the line where a
    /// scalar or flow collection visibly ends), or the start's line.
    fn end_line(&self, start: usize, end: usize) -> usize {
        let end = end.min(self.text.len());
        let mut i = end;
        while i > start && matches!(self.text[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
            i -= 1;
        }
        self.line(if i > start { i - 1 } else { start })
    }
}

/// Splits a file into chunks that each start at a `---` line (or the file start), so that one broken document
/// does not hide the others, as Kubernetes splits a stream before go-yaml reads each part.
fn split_chunks<'t>(text: &'t str, index: &LineIndex) -> Vec<(usize, &'t str)> {
    let mut chunks = Vec::new();
    let mut start_byte = 0;
    let mut pending_directive: Option<usize> = None;
    for (i, line) in index.lines(text).into_iter().enumerate() {
        let offset = index.start(i + 1);
        if line.starts_with('%') && pending_directive.is_none() {
            pending_directive = Some(offset);
        } else if is_doc_start(line) {
            let cut = pending_directive.unwrap_or(offset);
            if cut > start_byte {
                chunks.push((start_byte, &text[start_byte..cut]));
            }
            start_byte = cut;
            pending_directive = None;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            pending_directive = None;
        }
    }
    if start_byte < text.len() {
        chunks.push((start_byte, &text[start_byte..]));
    }
    chunks
}

fn is_doc_start(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
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
    let pos = Positions::new(text);
    let lines = pos.index.lines(text);
    let mut budget = DocBudget { documents: 0, duplicates: 0 };
    for (start, chunk) in split_chunks(text, &pos.index) {
        if budget.documents >= limits.max_documents {
            out.errors.push(YamlError {
                line: pos.line(start),
                message: format!("more than {} documents in one file; the rest is ignored", limits.max_documents),
            });
            break;
        }
        // libyaml-safer panics on a block scalar that ends the input without a line break (its reader expects
        // one): every chunk is given one (only a `|+` scalar at the very end reads one more newline), and a
        // parser panic costs only its chunk.
        let owned;
        let chunk = if chunk.ends_with(['\n', '\r']) {
            chunk
        } else {
            owned = format!("{chunk}\n");
            owned.as_str()
        };
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_chunk(&pos, &lines, start, chunk, limits, &mut budget)
        }));
        match parsed {
            Ok(Ok(docs)) => out.docs.extend(docs),
            Ok(Err(e)) => out.errors.push(e),
            Err(_) => out.errors.push(YamlError {
                line: pos.line(start),
                message: "internal error of the YAML parser on this document; it was skipped".into(),
            }),
        }
    }
    out
}

/// Counters over one file.
struct DocBudget {
    documents: usize,
    duplicates: usize,
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

fn parse_error(e: &libyaml_safer::Error, pos: &Positions, base: usize) -> YamlError {
    let Some(mark) = e.problem_mark() else {
        return YamlError { line: 1, message: e.problem().to_string() };
    };
    let (line, col) = pos.at(base + usize::try_from(mark.index).unwrap_or(usize::MAX));
    let mut message = format!("{} (line {line}, column {})", e.problem(), col + 1);
    if let (Some(ctx), Some(cm)) = (e.context(), e.context_mark()) {
        let l = pos.line(base + usize::try_from(cm.index).unwrap_or(usize::MAX));
        message.push_str(&format!(", {ctx} at line {l}"));
    }
    YamlError { line, message }
}

fn parse_chunk(
    pos: &Positions,
    lines: &[&str],
    base: usize,
    chunk: &str,
    limits: &Limits,
    budget: &mut DocBudget,
) -> Result<Vec<YamlDoc>, YamlError> {
    let chunk_end_line = pos.end_line(base, base + chunk.len());
    let mut docs = Vec::new();
    let mut doc = YamlDoc::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<String, NodeId> = HashMap::new();
    let mut input = chunk.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let idx = |m: libyaml_safer::Mark| base + usize::try_from(m.index).unwrap_or(usize::MAX);
    loop {
        let ev = parser.parse().map_err(|e| parse_error(&e, pos, base))?;
        let (start, end) = (idx(ev.start_mark), idx(ev.end_mark));
        let mut new_node: Option<(Node, Option<String>, Option<String>, bool)> = None; // node, anchor, tag, opens
        match ev.data {
            EventData::StreamEnd => break,
            EventData::StreamStart { .. } => {}
            EventData::DocumentStart { implicit, .. } => {
                let line = pos.line(start);
                doc = YamlDoc { start_line: line, marker_line: (!implicit).then_some(line), ..YamlDoc::default() };
                anchors.clear();
            }
            EventData::DocumentEnd { .. } => {
                let mut finished = std::mem::take(&mut doc);
                let bound = if end > start { pos.end_line(start, end) } else { chunk_end_line };
                finished.end_line = last_content_line(lines, finished.start_line, bound.max(finished.start_line));
                check_merges(&finished)?;
                if finished.root.is_some_and(|r| !finished.is_null(r)) {
                    if budget.documents >= limits.max_documents {
                        return Err(YamlError {
                            line: finished.start_line,
                            message: format!(
                                "more than {} documents in one file; the rest is ignored",
                                limits.max_documents
                            ),
                        });
                    }
                    budget.documents += 1;
                    docs.push(finished);
                }
            }
            EventData::Alias { anchor } => {
                let (line, col) = pos.at(start);
                let target = *anchors.get(&anchor).ok_or_else(|| YamlError {
                    line,
                    message: format!("unknown anchor '{anchor}' referenced (line {line}, column {})", col + 1),
                })?;
                if stack.iter().any(|f| f.id == target) {
                    return Err(YamlError {
                        line,
                        message: format!("anchor '{anchor}' value contains itself (line {line}, column {})", col + 1),
                    });
                }
                new_node = Some((Node { value: Value::Alias(target), line, col, end_line: line }, None, None, false));
            }
            EventData::Scalar { anchor, tag, value, style, .. } => {
                let style = match style {
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                };
                let (line, col) = pos.at(start);
                let end_line = pos.end_line(start, end).max(line);
                let text = compact_str::CompactString::from(value);
                new_node =
                    Some((Node { value: Value::Scalar { text, style }, line, col, end_line }, anchor, tag, false));
            }
            EventData::SequenceStart { anchor, tag, style, .. } => {
                let (line, col) = pos.at(start);
                let flow = style == SequenceStyle::Flow;
                let node = Node { value: Value::Seq { items: Vec::new(), flow }, line, col, end_line: line };
                new_node = Some((node, anchor, tag, true));
            }
            EventData::MappingStart { anchor, tag, style, .. } => {
                let (line, col) = pos.at(start);
                let flow = style == MappingStyle::Flow;
                let node = Node { value: Value::Map { entries: Vec::new(), flow }, line, col, end_line: line };
                new_node = Some((node, anchor, tag, true));
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let line = pos.line(start);
                let frame = stack.pop().ok_or_else(|| YamlError { line, message: "unbalanced collection".into() })?;
                let node_flow = doc.is_flow(frame.id);
                let child_end = child_max_end(&doc, frame.id);
                let flow_end = pos.end_line(start, end);
                let n = &mut doc.nodes[frame.id];
                n.end_line = if node_flow { flow_end.max(child_end) } else { child_end.max(n.line) };
            }
        }
        if let Some((node, anchor, tag, opens)) = new_node {
            let line = node.line;
            if doc.nodes.len() >= limits.max_nodes {
                return Err(YamlError {
                    line,
                    message: format!("more than {} nodes in one document; refused", limits.max_nodes),
                });
            }
            let id = doc.nodes.len();
            doc.nodes.push(node);
            if let Some(a) = anchor {
                anchors.insert(a, id);
            }
            if let Some(t) = tag {
                doc.tags.push((id, compact_str::CompactString::from(t)));
            }
            attach(&mut doc, &mut stack, id, limits, budget);
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

/// go-yaml refuses a document whose `<<` value is not a mapping or a sequence of mappings.
fn check_merges(doc: &YamlDoc) -> Result<(), YamlError> {
    for n in &doc.nodes {
        if let Value::Map { entries, .. } = &n.value {
            for (k, v) in entries {
                if doc.is_merge_key(*k) && doc.merge_sources(*v).is_none() {
                    let line = doc.nodes[*k].line;
                    return Err(YamlError {
                        line,
                        message: format!(
                            "map merge requires map or sequence of maps as the value (line {line}, column {})",
                            doc.nodes[*k].col + 1
                        ),
                    });
                }
            }
        }
    }
    Ok(())
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

fn attach(doc: &mut YamlDoc, stack: &mut [Frame], id: NodeId, limits: &Limits, budget: &mut DocBudget) {
    let Some(frame) = stack.last_mut() else {
        doc.root = Some(id);
        return;
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
                if let Some(d) = duplicate {
                    // Only the first few are kept (each becomes an error entry); the rest are counted.
                    if budget.duplicates < limits.max_errors_per_file {
                        doc.duplicates.push(d);
                    } else {
                        doc.more_duplicates += 1;
                    }
                    budget.duplicates += 1;
                }
                if let Value::Map { entries, .. } = &mut doc.nodes[parent].value {
                    entries.push((key, id));
                }
            }
        },
        _ => {}
    }
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

/// A document as go-yaml decodes it into Go values (`interface{}`), as JSON: scalars become `"null"`,
/// `"bool:true"`, `"int:80"`, `"float:<IEEE bits in hex>"`, `"ts"` (a v3 timestamp) or `"str:<text>"`; mappings
/// become objects keyed by those strings, with merge keys applied and the last duplicate winning; aliases are
/// expanded. The differential test against go-yaml and the fuzz oracles compare with this; `Err` when the
/// document cannot be written this way (a collection as a key, an expansion past `budget` nodes or 500 levels).
pub fn go_value(doc: &YamlDoc, schema: Schema, budget: usize) -> Result<serde_json::Value, String> {
    let Some(root) = doc.root else { return Ok(serde_json::Value::Null) };
    let mut left = budget;
    go_node(doc, root, schema, &mut left, 0)
}

fn go_node(
    doc: &YamlDoc,
    id: NodeId,
    schema: Schema,
    left: &mut usize,
    depth: usize,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if depth > 500 {
        return Err("nested deeper than 500 levels after alias expansion".into());
    }
    *left = left.checked_sub(1).ok_or("alias expansion past the budget")?;
    let id = doc.resolve(id);
    match &doc.nodes[id].value {
        Value::Scalar { text, style } => Ok(J::String(go_scalar(text, *style, doc.tag(id), schema)?)),
        Value::Seq { items, .. } => {
            items.iter().map(|i| go_node(doc, *i, schema, left, depth + 1)).collect::<Result<Vec<_>, _>>().map(J::Array)
        }
        Value::Map { .. } => {
            let mut out = serde_json::Map::new();
            for (k, v) in doc.merged_entries_in(id, schema) {
                let kr = doc.resolve(k);
                let Value::Scalar { text, style } = &doc.nodes[kr].value else {
                    return Err("a collection as a mapping key".into());
                };
                let key = go_scalar(text, *style, doc.tag(kr), schema)?;
                let value = go_node(doc, v, schema, left, depth + 1)?;
                out.insert(key, value);
            }
            Ok(J::Object(out))
        }
        Value::Alias(_) => Err("alias chain".into()),
    }
}

/// A scalar as go-yaml resolves it (see [`go_value`] for the notation).
pub fn go_scalar(text: &str, style: Style, tag: Option<&str>, schema: Schema) -> Result<String, String> {
    let tag = tag.map(|t| t.strip_prefix("tag:yaml.org,2002:").map_or(t.to_string(), |s| format!("!!{s}")));
    let plain = match tag.as_deref() {
        None => style == Style::Plain,
        Some("!!str") | Some("!") => return Ok(format!("str:{text}")),
        Some("!!int" | "!!bool" | "!!float" | "!!null" | "!!merge" | "!!timestamp") => true,
        Some(t) if t.starts_with("!!") => return Err(format!("tag {t}")),
        Some(_) => return Ok(format!("str:{text}")),
    };
    if !plain {
        return Ok(format!("str:{text}"));
    }
    let resolved = go_plain(text, schema);
    match tag.as_deref() {
        None => Ok(resolved),
        Some("!!float") if resolved.starts_with("int:") => {
            let v: f64 = resolved[4..].parse().map_err(|_| "float")?;
            Ok(float_repr(v))
        }
        Some(t) => {
            let want = &t[2..];
            let kind = resolved.split(':').next().unwrap_or("");
            let ok = match want {
                "int" | "bool" | "float" => kind == want,
                "null" => resolved == "null",
                "timestamp" => kind == "ts" || (schema == Schema::V2 && kind == "str" && looks_like_timestamp(text)),
                _ => kind == "str" && text == "<<",
            };
            if ok { Ok(resolved) } else { Err(format!("cannot decode `{text}` as {t}")) }
        }
    }
}

fn float_repr(v: f64) -> String {
    if v.is_nan() { "float:nan".into() } else { format!("float:{:016x}", v.to_bits()) }
}

fn go_plain(text: &str, schema: Schema) -> String {
    let v2_bool = |t: &str| match t {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    };
    match text {
        "true" | "True" | "TRUE" => return "bool:true".into(),
        "false" | "False" | "FALSE" => return "bool:false".into(),
        _ if is_null_text(text) => return "null".into(),
        ".nan" | ".NaN" | ".NAN" => return "float:nan".into(),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return float_repr(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return float_repr(f64::NEG_INFINITY),
        _ => {}
    }
    if schema == Schema::V2
        && let Some(b) = v2_bool(text)
    {
        return format!("bool:{b}");
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        if let Some(f) = go_parse_float(text) {
            return float_repr(f);
        }
    } else if first.is_ascii_digit() || first == b'+' || first == b'-' {
        if schema == Schema::V3 && looks_like_timestamp(text) {
            return "ts".into();
        }
        let plain: String = text.chars().filter(|c| *c != '_').collect();
        if let Some(v) = yaml11_int(&plain) {
            return format!("int:{v}");
        }
        if !plain.starts_with(['+', '-']) {
            let (radix, digits) = match plain.get(..2) {
                Some("0x" | "0X") => (16, &plain[2..]),
                Some("0b" | "0B") => (2, &plain[2..]),
                Some("0o" | "0O") => (8, &plain[2..]),
                _ if plain.len() > 1 && plain.starts_with('0') => (8, &plain[1..]),
                _ => (10, plain.as_str()),
            };
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_alphanumeric())
                && let Ok(u) = u64::from_str_radix(digits, radix)
            {
                return format!("int:{u}");
            }
        }
        if yaml_style_float(&plain)
            && let Some(f) = go_parse_float(&plain)
        {
            return float_repr(f);
        }
    }
    format!("str:{text}")
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's gate for floats.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat` on the decimal forms YAML writes (Go also reads hex floats and `inf`; those are rare).
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.trim_start_matches(['+', '-']);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// go-yaml v3's timestamp test, approximated: `YYYY-M-D`, optionally followed by a time.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut parts = s[5..].splitn(2, ['T', 't', ' ']);
    let date = parts.next().unwrap_or("");
    let mut dm = date.split('-');
    let (Some(m), Some(d), None) = (dm.next(), dm.next(), dm.next()) else { return false };
    let num = |x: &str, lo: u32, hi: u32| {
        (1..=2).contains(&x.len())
            && x.bytes().all(|c| c.is_ascii_digit())
            && x.parse::<u32>().is_ok_and(|v| (lo..=hi).contains(&v))
    };
    if !num(m, 1, 12) || !num(d, 1, 31) {
        return false;
    }
    match parts.next() {
        None => true,
        Some(time) => {
            let t = time.trim_start();
            let mut hms = t.splitn(3, ':');
            let (Some(h), Some(mi), Some(rest)) = (hms.next(), hms.next(), hms.next()) else { return false };
            let sec: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            num(h, 0, 24) && num(mi, 0, 59) && num(&sec, 0, 60)
        }
    }
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
    fn a_parser_panic_is_one_document_error_and_the_others_survive() {
        // libyaml-safer 0.3 panics ("TODO: What is expected here?") on a tag directly followed by `,` in a flow
        // collection (found by the loader fuzz target); go-yaml reads it as a tagged empty scalar. The document is
        // reported at its line and skipped; the documents around it are read.
        let s = parse("a: 1\n---\nb: [!, 2]\n---\nc: 3\n");
        assert_eq!(s.docs.len(), 2, "{:?}", s.errors);
        assert_eq!(s.errors.len(), 1);
        // The document's first line (its `---`).
        assert_eq!(s.errors[0].line, 2, "{:?}", s.errors);
        assert!(s.errors[0].message.contains("internal error of the YAML parser"), "{:?}", s.errors);
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
    // ---- issue 13: each input of its "Why", reduced to a minimal reproduction ----

    fn one(text: &str) -> YamlDoc {
        let s = parse(text);
        assert!(s.errors.is_empty(), "{text:?}: {:?}", s.errors);
        assert_eq!(s.docs.len(), 1, "{text:?}");
        s.docs.into_iter().next().unwrap()
    }

    #[test]
    fn an_alias_to_an_open_collection_is_refused_not_a_stack_overflow() {
        for text in ["&a {<<: *a}", "&a [*a]", "a: &a\n  b: *a\n", "&a {x: [{<<: *a}]}\n", "- &a\n  - *a\n"] {
            let s = parse(text);
            assert!(s.docs.is_empty(), "{text:?}");
            assert_eq!(s.errors.len(), 1, "{text:?}");
            assert!(s.errors[0].message.contains("contains itself"), "{:?}", s.errors);
        }
        // An alias to a closed collection is fine, and the document after the refused one is read.
        let s = parse("a: &a {x: 1}\nb: *a\n---\n&b [*b]\n---\nc: 1\n");
        assert_eq!((s.docs.len(), s.errors.len()), (2, 1));
        assert_eq!(s.errors[0].line, 4);
    }

    #[test]
    fn merge_chains_and_diamonds_are_bounded() {
        // 5,000 mappings each merging the previous one: a lookup walks them without recursion.
        let mut t = String::from("m0: &m0 {k0: v}\n");
        for i in 1..5000 {
            t.push_str(&format!("m{i}: &m{i} {{<<: *m{}, k{i}: v}}\n", i - 1));
        }
        let d = one(&t);
        let last = d.get(d.root.unwrap(), "m4999").unwrap();
        assert_eq!(d.str_at(last, &["k0"]), Some("v"));
        assert_eq!(d.get(last, "missing"), None);
        // Diamonds: each level merges the one below twice; 2^40 paths, each mapping visited once.
        let mut t = String::from("d0: &d0 {x: 1}\n");
        for i in 1..40 {
            t.push_str(&format!("d{i}: &d{i} {{<<: [*d{p}, *d{p}]}}\n", p = i - 1));
        }
        let d = one(&t);
        let top = d.get(d.root.unwrap(), "d39").unwrap();
        assert_eq!(d.str_at(top, &["x"]), Some("1"));
        assert_eq!(d.get(top, "nope"), None);
        assert_eq!(d.merged_entries(top).len(), 1);
    }

    #[test]
    fn merge_values_that_are_not_mappings_refuse_the_document_like_go_yaml() {
        for text in ["a:\n  <<: 1\n", "a: {<<: [1]}\n", "s: &s [1]\na: {<<: *s}\n"] {
            let s = parse(text);
            assert!(s.docs.is_empty() && s.errors.len() == 1, "{text:?}: {:?}", s.errors);
            assert!(s.errors[0].message.contains("map merge requires"), "{:?}", s.errors);
        }
        // A quoted `<<` is an ordinary key.
        let d = one("a: {'<<': 1}\n");
        assert_eq!(d.str_at(d.root.unwrap(), &["a", "<<"]), Some("1"));
    }

    #[test]
    fn merge_precedence_follows_go_yaml_v2_and_v3() {
        let d = one(
            "b: &b {x: from-b, y: from-b}\nc: &c {x: from-c, z: from-c}\nm:\n  x: own-before\n  <<: [*b, *c]\n  y: own-after\n",
        );
        let m = d.get(d.root.unwrap(), "m").unwrap();
        // v2: a merge overrides the keys written before it, the keys after it override the merge, the first
        // mapping of a merged sequence wins.
        assert_eq!(d.str_at(m, &["x"]), Some("from-b"));
        assert_eq!(d.str_at(m, &["y"]), Some("own-after"));
        assert_eq!(d.str_at(m, &["z"]), Some("from-c"));
        // v3: the mapping's own keys always win.
        assert_eq!(d.get_in(m, "x", Schema::V3).and_then(|n| d.scalar(n)), Some("own-before"));
        let keys: Vec<&str> = d.merged_entries(m).iter().filter_map(|(k, _)| d.key_text(*k)).collect();
        assert_eq!(keys.len(), 3);
        assert!(!keys.contains(&"<<"));
    }

    #[test]
    fn merge_keys_in_label_maps_are_labels() {
        let d = one("metadata:\n  labels: {<<: {istio-injection: enabled}, team: a}\n");
        let labels = d.path(d.root.unwrap(), &["metadata", "labels"]).unwrap();
        let mut m = d.string_map(labels);
        m.sort();
        assert_eq!(m, vec![("istio-injection".into(), "enabled".into()), ("team".into(), "a".into())]);
    }

    #[test]
    fn yaml_that_kubernetes_accepts_is_read_with_its_values() {
        let root = |d: &YamlDoc| d.root.unwrap();
        // A tab after `key:`.
        let d = one("spec:\n  mtls:\n    mode:\tSTRICT\n");
        assert_eq!(d.str_at(root(&d), &["spec", "mtls", "mode"]), Some("STRICT"));
        // A flow mapping continued below its key's indentation.
        let d = one("spec:\n  selector:\n    matchLabels: {app: web,\n    version: v1}\n  x: 1\n");
        assert_eq!(d.str_at(root(&d), &["spec", "selector", "matchLabels", "version"]), Some("v1"));
        assert_eq!(d.str_at(root(&d), &["spec", "x"]), Some("1"));
        // A flow sequence closed at its key's indentation (Istio's SPIRE sample, kubeflow's Istio install).
        let d = one("containers:\n- name: c\n  args: [\n    \"-a\",\n    \"-b\",\n  ]\n  image: i\n");
        let c = d.items(d.get(root(&d), "containers").unwrap())[0];
        assert_eq!(d.items(d.get(c, "args").unwrap()).len(), 2);
        assert_eq!(d.str_at(c, &["image"]), Some("i"));
        let args = d.get(c, "args").unwrap();
        assert_eq!((d.node(args).line, d.node(args).end_line), (3, 6));
        // A quoted scalar continued at its key's indentation.
        let d = one("metadata:\n  annotations:\n    a: \"one\n    two\"\n");
        assert_eq!(d.str_at(root(&d), &["metadata", "annotations", "a"]), Some("one two"));
        let d = one("a:\n  b: 'one\n  two'\n");
        assert_eq!(d.str_at(root(&d), &["a", "b"]), Some("one two"));
        // A comment right after a quoted scalar.
        let d = one("mode: \"STRICT\"# pinned\nb: 'x'# c\n");
        assert_eq!(d.str_at(root(&d), &["mode"]), Some("STRICT"));
        assert_eq!(d.str_at(root(&d), &["b"]), Some("x"));
        // A tab starting a quoted continuation line.
        let d = one("a: \"x\n\ty\"\n");
        assert_eq!(d.str_at(root(&d), &["a"]), Some("x y"));
        // An empty flow mapping closed on the next line.
        let d = one("metadata:\n  labels: {\n  }\n  name: n\n");
        assert!(d.entries(d.path(root(&d), &["metadata", "labels"]).unwrap()).is_empty());
        assert_eq!(d.str_at(root(&d), &["metadata", "name"]), Some("n"));
    }

    #[test]
    fn ports_are_yaml_1_1_integers_as_go_yaml_v2_reads_them() {
        let d = one("a: 0120\nb: 0x50\nc: 8_080\nd: \"0120\"\ne: 0o17\nf: 99999\ng: -1\nh: 0b1010000\ni: 089\n");
        let r = d.root.unwrap();
        let port = |k| d.port_at(r, &[k]);
        assert_eq!((port("a"), port("b"), port("c"), port("d")), (Some(80), Some(80), Some(8080), Some(120)));
        assert_eq!((port("e"), port("f"), port("g"), port("h"), port("i")), (Some(15), None, None, Some(80), None));
        assert_eq!(yaml11_int("-0x10"), Some(-16));
        assert_eq!(yaml11_int("0"), Some(0));
        assert_eq!(yaml11_int("+12"), Some(12));
        assert_eq!(yaml11_int("0x"), None);
        assert_eq!(yaml11_int("1e3"), None);
        assert_eq!(yaml11_int("9223372036854775808"), None);
        assert_eq!(go_plain("9223372036854775808", Schema::V2), "int:9223372036854775808");
        assert_eq!(go_plain("089", Schema::V2), format!("float:{:016x}", 89f64.to_bits()));
        assert_eq!(go_plain("yes", Schema::V2), "bool:true");
        assert_eq!(go_plain("yes", Schema::V3), "str:yes");
    }

    #[test]
    fn columns_on_one_long_line_are_exact() {
        // A minified JSON list: one line, 20,000 collections, non-ASCII text before them.
        let mut t = String::from("{\"é\": \"ü\", \"items\": [");
        for i in 0..20_000 {
            if i > 0 {
                t.push(',');
            }
            t.push_str(&format!("{{\"k\": {i}}}"));
        }
        t.push_str("]}");
        let d = one(&t);
        let items = d.items(d.get(d.root.unwrap(), "items").unwrap()).to_vec();
        assert_eq!(items.len(), 20_000);
        let char_col = |byte: usize| t[..byte].chars().count();
        let first = t.find("{\"k\"").unwrap();
        assert_eq!(d.node(items[0]).col, char_col(first));
        let last = t.rfind("{\"k\"").unwrap();
        assert_eq!(d.node(items[19_999]).col, char_col(last));
        assert!(items.iter().all(|i| d.node(*i).line == 1 && d.node(*i).end_line == 1));
    }

    #[test]
    fn duplicate_keys_are_capped_per_file() {
        let t: String = (0..5000).map(|i| format!("k: {i}\n")).collect();
        let s = parse(&t);
        let d = &s.docs[0];
        assert_eq!(d.duplicates.len(), Limits::default().max_errors_per_file);
        assert_eq!(d.duplicates.len() + d.more_duplicates, 4999);
        assert_eq!(d.str_at(d.root.unwrap(), &["k"]), Some("4999"));
    }

    #[test]
    fn apostrophes_in_block_scalars_never_count_as_nesting() {
        let mut t = String::from("data:\n  mesh: |-\n");
        for i in 0..300 {
            t.push_str(&format!("    - [Don't restart pod {i}](https://example.com/{i})\n"));
        }
        t.push_str("  other: x\n");
        let d = one(&t);
        assert_eq!(d.str_at(d.root.unwrap(), &["other"]), None);
        assert!(d.str_at(d.root.unwrap(), &["data", "mesh"]).unwrap().contains("pod 299"));
        // Deep nesting that is valid YAML is read up to the limit, then refused with a line.
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).errors.is_empty());
        let deeper = "[".repeat(300) + &"]".repeat(300);
        assert_eq!(parse(&deeper).errors.len(), 1);
    }

    #[test]
    fn lines_are_counted_like_yaml_parsers_and_spans_stay_in_the_file() {
        for text in ["a: 1\rb: 2\rc:\r  d: x\r", "a: 1\r\nb: 2\r\nc:\r\n  d: x\r\n", "a: 1\nb: 2\r\nc:\r  d: x"] {
            let d = one(text);
            let r = d.root.unwrap();
            let dn = d.path(r, &["c", "d"]).unwrap();
            assert_eq!(d.node(dn).line, 4, "{text:?}");
            assert_eq!(d.node(d.get(r, "b").unwrap()).line, 2, "{text:?}");
            assert_eq!(d.end_line, 4, "{text:?}");
            assert_eq!(split_lines(text).len(), 4, "{text:?}");
        }
        // An explicit key at the end of a file without a final newline.
        for text in ["? a\n: b", "? a\n", "? a", "a: |\n  x\n\n\n", "a: [1,\n 2]"] {
            let s = parse(text);
            let n = LineIndex::new(text).line_count();
            for d in &s.docs {
                assert!(d.end_line <= n, "{text:?}");
                assert!(d.nodes.iter().all(|x| x.line <= n && x.end_line <= n), "{text:?}: {:?}", d.nodes);
            }
            assert!(s.errors.iter().all(|e| e.line <= n), "{text:?}");
        }
        let idx = LineIndex::new("a\r\rb\n");
        assert_eq!((idx.line_count(), idx.line_of(3), idx.line_of(99)), (3, 3, 3));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let s = parse("a: 1\nb: [1, 2\nc: d\n");
        assert_eq!(s.errors.len(), 1);
        assert!(s.errors[0].message.contains("column"), "{:?}", s.errors);
        let s = parse("a: *nope\n");
        assert!(s.errors[0].message.contains("unknown anchor"), "{:?}", s.errors);
    }

    #[test]
    fn limits_come_from_variables() {
        let l = Limits::from_vars(|k| (k == "MTLS_REVIEW_MAX_FILE_BYTES").then(|| "100_000_000".to_string()));
        assert_eq!(l.max_file_bytes, 100_000_000);
        assert_eq!(l.max_total_bytes, Limits::default().max_total_bytes);
        assert!(Limits::default().max_file_bytes > 12 * 1024 * 1024);
        let small = Limits { max_file_bytes: 10, ..Limits::default() };
        assert_eq!(parse_stream("a: 1234567890\n", &small).errors.len(), 1);
    }
}

#[cfg(test)]
#[path = "yaml_mutation2_tests.rs"]
mod yaml_mutation2_tests;

#[cfg(test)]
#[path = "yaml_mutation3_tests.rs"]
mod yaml_mutation3_tests;

#[cfg(test)]
#[path = "yaml_mutation4_tests.rs"]
mod yaml_mutation4_tests;
