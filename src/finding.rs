//! Findings as data: what a rule reports, where, how bad, and how to fix it.

use serde::Serialize;
use std::fmt;

/// How bad a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding stands in a change review. A single snapshot gives `Existing` everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Introduced,
    Existing,
    Resolved,
}

/// Which tree a location refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Base,
    Head,
}

/// The Kubernetes object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// An object reference's parts as borrowed text (kind, namespace, name): what a `HashSet<ObjectRef>` can be
/// asked about without building an `ObjectRef` (three strings) per question.
pub trait RefParts {
    fn parts(&self) -> (&str, &str, &str);
}

impl RefParts for ObjectRef {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.kind, &self.namespace, &self.name)
    }
}

impl RefParts for (&str, &str, &str) {
    fn parts(&self) -> (&str, &str, &str) {
        *self
    }
}

impl<'a> std::borrow::Borrow<dyn RefParts + 'a> for ObjectRef {
    fn borrow(&self) -> &(dyn RefParts + 'a) {
        self
    }
}

// Hashed and compared as the derived `Hash`/`Eq` of `ObjectRef` do (its fields in order), as `Borrow` requires.
impl std::hash::Hash for dyn RefParts + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (kind, namespace, name) = self.parts();
        kind.hash(state);
        namespace.hash(state);
        name.hash(state);
    }
}

impl PartialEq for dyn RefParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn RefParts + '_ {}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// A line range in one file (1-based, inclusive).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub side: Side,
    pub path: String,
    pub line: usize,
    pub end_line: usize,
}

/// A line-range replacement: the new text of lines `start_line..=end_line` of `path` (lines joined by `\n`, no
/// trailing newline; an empty string deletes the lines). Exactly what a GitHub suggestion block needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub description: String,
    pub path: String,
    pub start_line: usize,
    pub end_line: usize,
    pub replacement: String,
}

/// A changed line range that introduced a finding (change review only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Anchor {
    pub side: Side,
    pub path: String,
    pub line: usize,
    pub end_line: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub object: ObjectRef,
    /// Port, for rules that judge one port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    pub location: Location,
    /// Other objects that take part (the PeerAuthentication a DestinationRule rule compares against, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// Guidance when no line fix can be offered (e.g. the YAML to add to a `.json` file), or other candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Changed lines that introduced the finding (change review only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchors: Option<Vec<Anchor>>,
    /// The meshes (clusters, environments) the finding holds in; one finding for a source line several meshes
    /// share.
    pub meshes: Vec<String>,
    /// The targets that render the finding's object.
    pub targets: Vec<String>,
    /// The cause group (change review): findings one change introduces on the same lines share an id and are
    /// shown together (one inline comment). `None` outside a review or before grouping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A related object and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub object: ObjectRef,
    pub location: Location,
    pub role: String,
}

impl Finding {
    /// The identity used to match findings across base and head: (code, kind, namespace, name, port).
    pub fn identity(&self) -> (String, String, String, String, Option<u32>) {
        (
            self.code.to_string(),
            self.object.kind.clone(),
            self.object.namespace.clone(),
            self.object.name.clone(),
            self.port,
        )
    }

    /// A short stable fingerprint of the identity (hex), used for hidden markers in review comments.
    pub fn fingerprint(&self) -> String {
        let id = self.identity();
        let text = format!("{}|{}|{}|{}|{}", id.0, id.1, id.2, id.3, id.4.map(|p| p.to_string()).unwrap_or_default());
        stable_hash(&text)
    }

    /// The short form's clause: what goes wrong, in one clause (the rule's title goes before it). Rules write
    /// their messages as `<what is configured>: <what happens>`, optionally followed by further sentences; the
    /// clause is the part after the last top-level `: ` of the first sentence (the whole first sentence when it
    /// has none), cut at a word boundary to [`SHORT_CLAUSE_CHARS`].
    pub fn short_clause(&self) -> String {
        short_clause(&self.message)
    }
}

/// The longest clause of a short form, in characters (longer ones are cut at a word and end in `…`).
pub const SHORT_CLAUSE_CHARS: usize = 110;

/// See [`Finding::short_clause`].
pub fn short_clause(message: &str) -> String {
    let chars: Vec<char> = message.trim().chars().collect();
    let (mut depth, mut code) = (0usize, false);
    let mut end = chars.len();
    let mut colon: Option<usize> = None;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '`' => code = !code,
            '(' | '[' if !code => depth += 1,
            ')' | ']' if !code => depth = depth.saturating_sub(1),
            _ => {}
        }
        if code || depth > 0 {
            continue;
        }
        let next = chars.get(i + 1).copied();
        if c == '.' && (next.is_none() || (next == Some(' ') && chars.get(i + 2).is_some_and(|c| c.is_uppercase()))) {
            end = i;
            break;
        }
        if c == ':' && next == Some(' ') {
            colon = Some(i + 2);
        }
    }
    let mut start = colon.unwrap_or(0);
    let mut stop = end;
    // A consequence that points back (`its workloads ... follow it`) says little alone: the cause before the colon
    // is the clause then.
    if let Some(c) = colon {
        let after: String = chars[c..end].iter().collect();
        let first = after.split_whitespace().next().unwrap_or("");
        if ["it", "its", "they", "their", "this", "that"].contains(&first) || after.ends_with(" it") {
            (start, stop) = (0, c - 2);
        }
    }
    let clause: String = chars[start..stop].iter().collect();
    let clause = clause.trim().trim_end_matches('.');
    if clause.chars().count() <= SHORT_CLAUSE_CHARS {
        return clause.to_string();
    }
    let cut: String = clause.chars().take(SHORT_CLAUSE_CHARS - 1).collect();
    let cut = cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut);
    format!("{}…", cut.trim_end_matches([',', ';', ':']))
}

/// FNV-1a 64 of a text as 16 hex digits: stable across platforms and releases (std's hasher is not), so markers
/// written by one run are recognised by the next.
pub fn stable_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A file that could not be read or parsed (or was read with a caveat such as a duplicate key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LoadError {
    pub path: String,
    pub line: usize,
    pub message: String,
    /// `parse`, `encoding`, `limit`, `duplicate_key`, `schema`, `skipped`, `rejected`.
    pub kind: ErrorKind,
}

/// What kind of problem a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The file is not valid YAML/JSON.
    Parse,
    /// The file is not UTF-8.
    Encoding,
    /// A hard limit refused the file (size, depth, documents).
    Limit,
    /// A mapping repeats a key; the last value is used, as Kubernetes does.
    DuplicateKey,
    /// A field the rules read has a value Istio does not accept.
    Schema,
    /// The file was skipped on purpose (Git LFS pointer, ...).
    Skipped,
    /// A target could not be rendered (renderer missing, remote base, invalid kustomization).
    Render,
    /// Two documents with the same identity in one mesh (kustomize refuses this within one build).
    Conflict,
    /// The Kubernetes API server rejects the object (Istio's CRD schema or validation rules): it is never applied,
    /// and the analysis leaves it out.
    Rejected,
}

impl ErrorKind {
    /// True when the file (or a document in it) could not be read at all, or an object in it would never be
    /// applied (the API server rejects it): an error, never a warning.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorKind::Parse | ErrorKind::Encoding | ErrorKind::Limit | ErrorKind::Render | ErrorKind::Rejected
        )
    }
}

#[cfg(test)]
mod tests {
    use super::short_clause;

    #[test]
    fn the_short_clause_is_the_consequence_of_the_first_sentence() {
        assert_eq!(
            short_clause(
                "DestinationRule shop/a makes clients send ISTIO_MUTUAL to `shop`, but mTLS is DISABLEd there \
                 (PeerAuthentication shop/default: mode DISABLE): servers accept only plaintext and these calls fail"
            ),
            "servers accept only plaintext and these calls fail"
        );
        assert_eq!(
            short_clause("a to b:80 (c), which is DISABLE: the sidecar passes TLS on. DestinationRule x sets y."),
            "the sidecar passes TLS on"
        );
        assert_eq!(
            short_clause("web -> cart:80 used mTLS and now sends plaintext (DISABLE)."),
            "web -> cart:80 used mTLS and now sends plaintext (DISABLE)"
        );
        let long = "word ".repeat(60);
        let c = short_clause(&long);
        assert!(c.ends_with('…') && c.chars().count() <= super::SHORT_CLAUSE_CHARS, "{c}");
        assert_eq!(short_clause("key `a: b` is odd"), "key `a: b` is odd");
        assert_eq!(
            short_clause(
                "namespace `shop` drops from STRICT to DISABLE: its workloads without their own PeerAuthentication follow it."
            ),
            "namespace `shop` drops from STRICT to DISABLE"
        );
    }
}
