//! Structure-aware manifests with a read-back oracle: the input's bytes pick how a PeerAuthentication with known
//! values is written (line breaks, indentation, a leading comment, `---` or a directive, quoting, a tab or several
//! spaces after `key:`, comments right after quoted scalars, labels in block or flow style, flow collections
//! continued below their key's indentation, merge keys inline or through an anchor, a document end marker, a
//! missing final line break, JSON); the loader must read exactly those values back, without any error, on the
//! lines where they were written.
#![no_main]
#[path = "contain.rs"]
mod contain;
use libfuzzer_sys::fuzz_target;
use mtls_review::manifest::{load_file, yaml::Limits};

const MODES: &[&str] = &["STRICT", "PERMISSIVE", "DISABLE", "UNSET"];
/// Names, some of which YAML 1.1 would type (they must come back as the text written).
const NAMES: &[&str] = &["default", "web", "a-b", "x1", "yes", "0120", "on", "1e3", "é-ü"];
const NAMESPACES: &[&str] = &["shop", "istio-system", "n-1", "true"];

/// Reads choices from the input, one byte each (zeros once it is used up).
struct Choices<'a>(&'a [u8], usize);

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.0.get(self.1).copied().unwrap_or(0) as usize;
        self.1 += 1;
        b % n
    }
}

/// A scalar written plain (when that reads back as the same text), single- or double-quoted.
fn scalar(c: &mut Choices, s: &str) -> (String, bool) {
    match c.pick(3) {
        0 if !s.contains(['#', ':', '\'', '"']) => (s.to_string(), false),
        1 => (format!("'{s}'"), true),
        _ => (format!("\"{s}\""), true),
    }
}

/// What may follow a value on its line: nothing, a comment after a space, or (after a quote) right after it.
fn comment(c: &mut Choices, quoted: bool) -> &'static str {
    match c.pick(4) {
        1 => " # pinned",
        2 if quoted => "# pinned",
        3 => "  ",
        _ => "",
    }
}

fn sep(c: &mut Choices) -> &'static str {
    [" ", "\t", " \t", "  "][c.pick(4)]
}

struct Doc {
    lines: Vec<String>,
    name_line: usize,
    mode_line: usize,
}

fn yaml(c: &mut Choices, name: &str, ns: &str, mode: &str, labels: &[(&str, &str)]) -> Doc {
    let i1 = ["  ", "    ", " "][c.pick(3)];
    let i2 = i1.repeat(2);
    let mut l: Vec<String> = Vec::new();
    match c.pick(5) {
        1 => l.push("# header".into()),
        2 => l.push("---".into()),
        3 => l.extend(["# header".to_string(), "---".to_string()]),
        4 => l.extend(["%YAML 1.1".to_string(), "---".to_string()]),
        _ => {}
    }
    l.push(format!("apiVersion:{}security.istio.io/v1", sep(c)));
    l.push("kind: PeerAuthentication".into());
    l.push("metadata:".into());
    let (n, q) = scalar(c, name);
    l.push(format!("{i1}name:{}{n}{}", sep(c), comment(c, q)));
    let name_line = l.len();
    let (n, q) = scalar(c, ns);
    l.push(format!("{i1}namespace: {n}{}", comment(c, q)));
    if !labels.is_empty() {
        let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {}", scalar(c, v).0)).collect();
        match c.pick(4) {
            0 => {
                l.push(format!("{i1}labels:"));
                l.extend(pairs.iter().map(|p| format!("{i2}{p}")));
            }
            1 => l.push(format!("{i1}labels: {{{}}}", pairs.join(", "))),
            // A flow mapping continued at its key's indentation (valid YAML; go-yaml reads it).
            2 => {
                l.push(format!("{i1}labels: {{{},", pairs[0]));
                for p in &pairs[1..] {
                    l.push(format!("{i1}{p},"));
                }
                l.push(format!("{i1}}}"));
            }
            // A merge key holding the first label; the others written after it.
            _ => {
                l.push(format!("{i1}labels:"));
                l.push(format!("{i2}<<: {{{}}}", pairs[0]));
                l.extend(pairs[1..].iter().map(|p| format!("{i2}{p}")));
            }
        }
    }
    l.push("spec:".into());
    let (m, q) = scalar(c, mode);
    let mode_line;
    match c.pick(5) {
        0 => {
            l.push(format!("{i1}mtls:"));
            l.push(format!("{i2}mode:{}{m}{}", sep(c), comment(c, q)));
            mode_line = l.len();
        }
        1 => {
            l.push(format!("{i1}mtls: {{mode: {m}}}{}", comment(c, false)));
            mode_line = l.len();
        }
        // An empty-looking flow mapping opened on one line, its entry and close below the key's indentation.
        2 => {
            l.push(format!("{i1}mtls: {{"));
            l.push(format!("{i1}mode: {m}"));
            mode_line = l.len();
            l.push(format!("{i1}}}"));
        }
        // A merge of an inline mapping.
        3 => {
            l.push(format!("{i1}mtls:"));
            l.push(format!("{i2}<<: {{mode: {m}}}"));
            mode_line = l.len();
        }
        // A merge of an anchored mapping written earlier in the document.
        _ => {
            l.push(format!("{i1}x-defaults: &d"));
            l.push(format!("{i2}mode: {m}"));
            mode_line = l.len();
            l.push(format!("{i1}mtls:"));
            l.push(format!("{i2}<<: *d"));
        }
    }
    match c.pick(3) {
        1 => l.push("...".into()),
        2 => l.push("# trailing comment".into()),
        _ => {}
    }
    Doc { lines: l, name_line, mode_line }
}

fn json(c: &mut Choices, name: &str, ns: &str, mode: &str, labels: &[(&str, &str)]) -> Doc {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("\"{k}\": \"{v}\"")).collect();
    let labels = if labels.is_empty() { String::new() } else { format!(", \"labels\": {{{}}}", labels.join(", ")) };
    if c.pick(2) == 0 {
        // Minified: one line.
        let line = format!(
            "{{\"apiVersion\":\"security.istio.io/v1\",\"kind\":\"PeerAuthentication\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\"{labels}}},\"spec\":{{\"mtls\":{{\"mode\":\"{mode}\"}}}}}}"
        );
        Doc { lines: vec![line], name_line: 1, mode_line: 1 }
    } else {
        let lines = vec![
            "{".to_string(),
            "  \"apiVersion\": \"security.istio.io/v1\",".into(),
            "  \"kind\": \"PeerAuthentication\",".into(),
            "  \"metadata\": {".into(),
            format!("    \"name\": \"{name}\","),
            format!("    \"namespace\": \"{ns}\"{labels}"),
            "  },".into(),
            "  \"spec\": {\"mtls\": {".into(),
            format!("    \"mode\": \"{mode}\""),
            "  }}".into(),
            "}".into(),
        ];
        Doc { lines, name_line: 5, mode_line: 9 }
    }
}

fuzz_target!(|data: &[u8]| {
    contain::like_the_release_binary();
    let mut c = Choices(data, 0);
    let mode = MODES[c.pick(MODES.len())];
    let name = NAMES[c.pick(NAMES.len())];
    let ns = NAMESPACES[c.pick(NAMESPACES.len())];
    let labels: Vec<(&str, &str)> =
        [("app", "web"), ("version", "v1"), ("istio-injection", "enabled")][..c.pick(4)].to_vec();
    let nl = ["\n", "\r\n", "\r"][c.pick(3)];
    let is_json = c.pick(4) == 0;
    let doc = if is_json { json(&mut c, name, ns, mode, &labels) } else { yaml(&mut c, name, ns, mode, &labels) };
    let mut text = doc.lines.join(nl);
    if c.pick(3) > 0 {
        text.push_str(nl);
    }
    let path = if is_json { "pa.json" } else { "pa.yaml" };
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{text:?}: {:?}", f.errors);
    assert_eq!(f.objects.len(), 1, "{text:?}");
    let o = &f.objects[0];
    assert_eq!((o.kind.as_str(), o.name.as_str()), ("PeerAuthentication", name), "{text:?}");
    assert_eq!(o.namespace.as_deref(), Some(ns), "{text:?}");
    assert_eq!(o.str_at(&["spec", "mtls", "mode"]), Some(mode), "{text:?}");
    let mut got: Vec<(&str, &str)> = o.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut want = labels.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{text:?}");
    assert_eq!(o.field_lines(&["spec", "mtls", "mode"]).map(|l| l.0), Some(doc.mode_line), "{text:?}");
    assert_eq!(o.field_lines(&["metadata", "name"]), Some((doc.name_line, doc.name_line)), "{text:?}");
    let lines = line_count(&text);
    assert!(o.line >= 1 && o.line <= o.end_line && o.end_line <= lines, "{text:?}: {}..{}", o.line, o.end_line);
});

/// Lines as YAML counts them (LF, CRLF, lone CR); a final line break does not open a line.
fn line_count(text: &str) -> usize {
    mtls_review::manifest::yaml::LineIndex::new(text).line_count()
}
