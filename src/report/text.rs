//! The text report, shaped like rustc/clippy diagnostics:
//!
//! ```text
//! error[TIS0206]: Missing PeerAuthentication for namespace-wide mTLS
//!   --> base/istio.yaml:17:7
//!    |
//! 17 |       mode: ISTIO_MUTUAL
//!    |       ^^^^^^^^^^^^^^^^^^ sends ISTIO_MUTUAL
//!    |
//!   ::: overlays/dev/peer-authentication.yaml:7:5
//!    |
//!  7 |     mode: DISABLE
//!    |     ------------- namespace-wide PeerAuthentication shop/dev-default accepts only plaintext (DISABLE)
//!    |
//!    = note: servers accept only plaintext and these calls fail
//!    = help: set PeerAuthentication shop/dev-default to mTLS mode PERMISSIVE
//! ```
//!
//! The headline is the rule's title; the note under the snippet is the short clause (the whole message with
//! `verbose`). Findings of one cause group are one block. Resolved findings are a short list; the last line says
//! why the run passes or fails.

use super::{first_column, line_label, line_range, plural, rule_url, title};
use crate::finding::{Finding, Severity, Side, Status};
use crate::manifest::SourceText;
use crate::review::Review;
use crate::settings::FailOn;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How to render the text report.
#[derive(Debug, Clone)]
pub struct TextOptions {
    pub docs_base: String,
    /// ANSI colours (a terminal without `NO_COLOR`, or `--color always`).
    pub color: bool,
    /// The long form of each message instead of its short clause.
    pub verbose: bool,
    /// The threshold the closing line explains.
    pub fail_on: FailOn,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            docs_base: super::DEFAULT_DOCS_URL.to_string(),
            color: false,
            verbose: false,
            fail_on: FailOn::Error,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether to colour: `always` and `never` as said (a flag that asks for colour wins over `NO_COLOR`, as
/// https://no-color.org asks); `auto` on a terminal unless `NO_COLOR` is set to a non-empty value.
pub fn use_color(choice: ColorChoice, no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// What a piece of text is, for its colour.
#[derive(Clone, Copy)]
enum Paint {
    Severity(Severity),
    Help,
    /// Line numbers, `|`, `-->`, secondary underlines.
    Gutter,
    Bold,
    Added,
    Removed,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, p: Paint, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_string();
        }
        let code = match p {
            Paint::Severity(Severity::Error) => "1;31",
            Paint::Severity(Severity::Warning) => "1;33",
            Paint::Severity(Severity::Note) => "1;32",
            Paint::Help => "1;36",
            Paint::Gutter => "1;34",
            Paint::Bold => "1",
            Paint::Added => "32",
            Paint::Removed => "31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Renders findings (introduced ones first in a diff), file errors, the resolved findings as a list, and the
/// closing lines: the counts and why the run passes or fails.
pub fn render(review: &Review, opts: &TextOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    for status in [Status::Introduced, Status::Existing] {
        let items: Vec<&Finding> = review.findings.iter().filter(|f| f.status == status).collect();
        for block in blocks(&items) {
            render_block(&mut out, &st, review, &block, opts);
        }
    }
    for e in &review.errors {
        let (label, paint) = if e.error.kind.is_fatal() {
            ("error", Paint::Severity(Severity::Error))
        } else {
            ("warning", Paint::Severity(Severity::Warning))
        };
        let intro = if review.diff && e.introduced { " (introduced by this change)" } else { "" };
        out.push_str(&format!(
            "{}{}\n  {} {}:{}\n\n",
            st.paint(paint, label),
            st.paint(Paint::Bold, &format!(": {}{intro}", e.error.message)),
            st.paint(Paint::Gutter, "-->"),
            e.error.path,
            e.error.line
        ));
    }
    let resolved: Vec<&Finding> = review.findings.iter().filter(|f| f.status == Status::Resolved).collect();
    if review.diff && !resolved.is_empty() {
        out.push_str(&format!(
            "{}\n",
            st.paint(Paint::Bold, &format!("resolved by this change ({}):", resolved.len()))
        ));
        for f in resolved {
            let side = if f.location.side == Side::Base { " (base)" } else { "" };
            out.push_str(&format!(
                "  {} {}: {} at {}:{}{side}{}\n",
                f.code,
                title(f.code),
                f.object,
                f.location.path,
                f.location.line,
                super::mesh_note(review, f)
            ));
        }
        out.push('\n');
    }
    if review.diff && !review.connectivity.is_empty() {
        out.push_str("connectivity changes:\n");
        out.push_str(&super::posture::render_diff_text(&review.connectivity));
        out.push('\n');
    }
    out.push_str(&summary(review));
    let (fails, why) = super::verdict(review, opts.fail_on);
    let paint = if fails { Paint::Severity(Severity::Error) } else { Paint::Severity(Severity::Note) };
    out.push_str(&st.paint(paint, &why));
    out.push('\n');
    out
}

/// Findings in blocks: each finding alone, or the findings of one cause group (adjacent, the worst first).
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

/// The counts line.
pub fn summary(review: &Review) -> String {
    let (e, w, n) = super::counts(review);
    let fatal = review.errors.iter().filter(|e| e.error.kind.is_fatal()).count();
    let mut parts = vec![plural(e, "error"), plural(w, "warning")];
    if n > 0 {
        parts.push(plural(n, "note"));
    }
    let mut s = if review.diff {
        let resolved = review.findings.iter().filter(|f| f.status == Status::Resolved).count();
        let existing = review.findings.iter().filter(|f| f.status == Status::Existing).count();
        format!("mtls-review: introduced {}; {resolved} resolved, {existing} existing", parts.join(", "))
    } else {
        format!("mtls-review: {}", parts.join(", "))
    };
    if fatal > 0 {
        s.push_str(&format!("; {} not analyzed", plural(fatal, "file problem")));
    }
    s.push('\n');
    s
}

fn sources(review: &Review, side: Side) -> &BTreeMap<String, Arc<SourceText>> {
    match side {
        Side::Head => &review.head_sources,
        Side::Base => &review.base_sources,
    }
}

/// One underlined span of a snippet.
struct Span {
    line: usize,
    end_line: usize,
    primary: bool,
    label: Option<String>,
}

/// The source lines of one file with their spans underlined: `^` for the primary span, `-` for secondary ones;
/// two lines of context above the primary span, `...` between distant spans.
fn snippet(out: &mut String, st: &Style, sev: Severity, lines: &[&str], mut spans: Vec<Span>, width: usize) {
    let pad = " ".repeat(width);
    let bar = st.paint(Paint::Gutter, "|");
    spans.sort_by_key(|s| (s.line, !s.primary));
    let mut shown: Vec<(usize, Option<usize>)> = Vec::new(); // (line, index of the span it ends)
    for (i, s) in spans.iter().enumerate() {
        let first = if s.primary { s.line.saturating_sub(2).max(1) } else { s.line };
        for n in first..=s.end_line.min(lines.len()) {
            match shown.iter_mut().find(|(l, _)| *l == n) {
                Some(entry) => {
                    if n >= s.line {
                        entry.1 = entry.1.or(Some(i));
                    }
                }
                None => shown.push((n, (n >= s.line).then_some(i))),
            }
        }
    }
    shown.sort_by_key(|(l, _)| *l);
    out.push_str(&format!("{pad} {bar}\n"));
    let mut prev: Option<usize> = None;
    for (n, span) in shown {
        if prev.is_some_and(|p| n > p + 1) {
            out.push_str(&format!("{}\n", st.paint(Paint::Gutter, "...")));
        }
        prev = Some(n);
        let text = lines[n - 1];
        out.push_str(&format!("{} {bar} {text}\n", st.paint(Paint::Gutter, &format!("{n:>width$}"))));
        if let Some(i) = span {
            let s = &spans[i];
            let indent = text.len() - text.trim_start().len();
            let len = text.trim().chars().count().max(1);
            let (mark, paint) = if s.primary { ('^', Paint::Severity(sev)) } else { ('-', Paint::Gutter) };
            let label = if n == s.end_line.min(lines.len()) { s.label.as_deref().unwrap_or("") } else { "" };
            let under = format!("{}{}", mark.to_string().repeat(len), if label.is_empty() { "" } else { " " });
            out.push_str(&format!(
                "{pad} {bar} {}{}\n",
                " ".repeat(indent),
                st.paint(paint, &format!("{under}{label}"))
            ));
        }
    }
    out.push_str(&format!("{pad} {bar}\n"));
}

/// `namespace-wide PeerAuthentication shop/default accepts only plaintext (DISABLE)`, `workload: Deployment shop/web`.
fn related_label(r: &crate::finding::Related, what: &str) -> String {
    let o = &r.object;
    if r.role.ends_with(&o.kind) {
        format!("{} {}/{}{what}", r.role, o.namespace, o.name)
    } else {
        format!("{}: {}{what}", r.role, o)
    }
}

fn line_text<'a>(review: &'a Review, side: Side, path: &str, line: usize) -> Option<&'a str> {
    sources(review, side).get(path).and_then(|s| s.lines().get(line.wrapping_sub(1)).copied())
}

fn render_block(out: &mut String, st: &Style, review: &Review, block: &[&Finding], opts: &TextOptions) {
    let f = block[0];
    let loc = &f.location;
    let related_max = f.related.iter().map(|r| r.location.line).max().unwrap_or(0);
    let width = (loc.end_line.max(related_max) + 1).to_string().len().max(2);
    let pad = " ".repeat(width);
    let eq = st.paint(Paint::Gutter, "=");
    let head = format!("{}[{}]", f.severity, f.code);
    out.push_str(&format!(
        "{}{}\n",
        st.paint(Paint::Severity(f.severity), &head),
        st.paint(Paint::Bold, &format!(": {}{}", title(f.code), super::mesh_note(review, f)))
    ));
    let side = if review.diff && loc.side == Side::Base { " (base)" } else { "" };
    let col = line_text(review, loc.side, &loc.path, loc.line).map(first_column).unwrap_or(1);
    out.push_str(&format!("{pad}{} {}:{}:{col}{side}\n", st.paint(Paint::Gutter, "-->"), loc.path, loc.line));
    let src = sources(review, loc.side).get(&loc.path);
    let lines: Vec<&str> = src.map(|s| s.lines()).unwrap_or_default();
    // The primary span, and the related objects in the same file as secondary spans; the others in their files.
    let primary_label =
        line_text(review, loc.side, &loc.path, loc.end_line).and_then(|t| line_label(&f.object.kind, t));
    let mut spans = vec![Span { line: loc.line, end_line: loc.end_line, primary: true, label: primary_label }];
    let mut elsewhere: BTreeMap<(Side, String), Vec<Span>> = BTreeMap::new();
    for r in &f.related {
        let text = line_text(review, r.location.side, &r.location.path, r.location.line);
        let what = text.and_then(|t| line_label(&r.object.kind, t)).map(|l| format!(" {l}")).unwrap_or_default();
        let span = Span {
            line: r.location.line,
            end_line: r.location.line,
            primary: false,
            label: Some(related_label(r, &what)),
        };
        if r.location.side == loc.side && r.location.path == loc.path {
            if r.location.line != loc.line {
                spans.push(span);
            }
        } else {
            elsewhere.entry((r.location.side, r.location.path.clone())).or_default().push(span);
        }
    }
    if lines.is_empty() {
        out.push_str(&format!("{pad} {}\n", st.paint(Paint::Gutter, "|")));
    } else {
        snippet(out, st, f.severity, &lines, spans, width);
    }
    for ((side, path), spans) in elsewhere {
        let rl: Vec<&str> = sources(review, side).get(&path).map(|s| s.lines()).unwrap_or_default();
        let first = spans.iter().map(|s| s.line).min().unwrap_or(1);
        let col = rl.get(first.wrapping_sub(1)).map(|t| first_column(t)).unwrap_or(1);
        let b = if review.diff && side == Side::Base { " (base)" } else { "" };
        out.push_str(&format!("{pad}{} {path}:{first}:{col}{b}\n", st.paint(Paint::Gutter, ":::")));
        if rl.is_empty() {
            for s in &spans {
                out.push_str(&format!("{pad} {eq} {}\n", s.label.as_deref().unwrap_or("")));
            }
        } else {
            snippet(out, st, f.severity, &rl, spans, width);
        }
    }
    let note = |out: &mut String, text: &str| {
        let mut ls = text.lines();
        if let Some(first) = ls.next() {
            out.push_str(&format!("{pad} {eq} {}: {first}\n", st.paint(Paint::Bold, "note")));
        }
        for l in ls {
            out.push_str(&format!("{pad}         {l}\n"));
        }
    };
    note(out, &if opts.verbose { f.message.clone() } else { f.short_clause() });
    if review.diff && f.status == Status::Existing {
        note(out, "existed before this change");
    }
    note(out, &format!("on {}", f.object));
    if let Some(anchors) = &f.anchors {
        for a in anchors {
            let what = if a.side == Side::Base && super::deleted_file(review, &a.path) {
                format!("introduced by deleting {} (lines {})", a.path, line_range(a.line, a.end_line))
            } else if a.side == Side::Base {
                format!("introduced by deleting lines {} of {}", line_range(a.line, a.end_line), a.path)
            } else {
                format!("introduced by {}:{}", a.path, line_range(a.line, a.end_line))
            };
            note(out, &what);
        }
        if anchors.is_empty() && f.status == Status::Introduced {
            note(out, "no changed line of this change holds it: it follows from the change as a whole");
        }
    }
    // The other members of a cause group: one line each.
    for m in &block[1..] {
        let clause = if opts.verbose { m.message.clone() } else { m.short_clause() };
        out.push_str(&format!(
            "{pad} {eq} {}: {}[{}]: {}: {clause} ({}:{})\n",
            st.paint(Paint::Bold, "also"),
            m.severity,
            m.code,
            title(m.code),
            m.location.path,
            m.location.line
        ));
    }
    if let Some(fix) = &f.fix {
        let help = if block.len() > 1 { "help (resolves all of them)" } else { "help" };
        out.push_str(&format!("{pad} {eq} {}: {}\n", st.paint(Paint::Help, help), fix.description));
        render_fix(out, st, review, fix, width);
    }
    for m in &block[1..] {
        if let Some(fix) = &m.fix
            && f.fix.as_ref().is_none_or(|g| g.description != fix.description)
        {
            out.push_str(&format!("{pad} {eq} {}: {}\n", st.paint(Paint::Help, "alternative"), fix.description));
        }
    }
    if let Some(help) = &f.help {
        let mut ls = help.lines();
        if let Some(first) = ls.next() {
            out.push_str(&format!("{pad} {eq} {}: {first}\n", st.paint(Paint::Help, "help")));
        }
        for l in ls {
            out.push_str(&format!("{pad}         {l}\n"));
        }
    }
    let mut codes: Vec<&str> = vec![f.code];
    for m in &block[1..] {
        if !codes.contains(&m.code) {
            codes.push(m.code);
        }
    }
    for code in codes {
        out.push_str(&format!(
            "{pad} {eq} {}: for further information visit {}\n",
            st.paint(Paint::Help, "help"),
            rule_url(&opts.docs_base, code)
        ));
    }
    out.push('\n');
}

/// The fix as a diff of whole lines: `-` old, `+` new, `|` unchanged leading lines.
fn render_fix(out: &mut String, st: &Style, review: &Review, fix: &crate::finding::Fix, width: usize) {
    let pad = " ".repeat(width);
    let bar = st.paint(Paint::Gutter, "|");
    let flines: Vec<&str> = sources(review, Side::Head).get(&fix.path).map(|s| s.lines()).unwrap_or_default();
    let col = flines.get(fix.start_line.wrapping_sub(1)).map(|t| first_column(t)).unwrap_or(1);
    out.push_str(&format!(
        "{pad}{} {}:{}:{col}\n{pad} {bar}\n",
        st.paint(Paint::Gutter, "-->"),
        fix.path,
        fix.start_line
    ));
    let old: Vec<&str> = (fix.start_line..=fix.end_line).filter_map(|n| flines.get(n - 1).copied()).collect();
    let new: Vec<&str> = if fix.replacement.is_empty() { Vec::new() } else { fix.replacement.split('\n').collect() };
    let same = old.iter().zip(new.iter()).take_while(|(a, b)| a == b).count();
    for (i, l) in old.iter().enumerate() {
        let n = st.paint(Paint::Gutter, &format!("{:>width$}", fix.start_line + i));
        if i < same {
            out.push_str(&format!("{n} {bar} {l}\n"));
        } else {
            out.push_str(&format!("{n} {}\n", st.paint(Paint::Removed, &format!("- {l}"))));
        }
    }
    for (i, l) in new.iter().enumerate().skip(same) {
        let n = st.paint(Paint::Gutter, &format!("{:>width$}", fix.start_line + i));
        out.push_str(&format!("{n} {}\n", st.paint(Paint::Added, &format!("+ {l}"))));
    }
    out.push_str(&format!("{pad} {bar}\n"));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::finding::{Anchor, Fix, Location, ObjectRef, Related};
    use crate::review::FileChange;

    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
    const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: DISABLE\n";

    fn source(path: &str, text: &str) -> SourceText {
        SourceText::new(path, text, false, false)
    }

    fn obj(kind: &str, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.into(), namespace: "shop".into(), name: name.into() }
    }

    fn finding(code: &'static str, severity: Severity, path: &str, line: usize, kind: &str, name: &str) -> Finding {
        Finding {
            code,
            severity,
            status: Status::Introduced,
            message: format!(
                "{kind} shop/{name} does something, but more (detail: x): the calls fail. Second sentence."
            ),
            object: obj(kind, name),
            port: None,
            location: Location { side: Side::Head, path: path.into(), line, end_line: line },
            related: Vec::new(),
            fix: None,
            help: None,
            anchors: Some(vec![Anchor { side: Side::Head, path: "pa.yaml".into(), line: 8, end_line: 8 }]),
            meshes: Vec::new(),
            targets: Vec::new(),
            group: None,
        }
    }

    /// A grouped case: one `mode: DISABLE` edit draws TIS0502 (on the PA) and TIS0206 (on the DR); one group,
    /// the first carries the group's fix, the second an alternative.
    pub(crate) fn grouped_review() -> Review {
        let mut a = finding("TIS0502", Severity::Error, "pa.yaml", 8, "PeerAuthentication", "default");
        a.related.push(Related {
            object: obj("DestinationRule", "shop-mtls"),
            location: Location { side: Side::Head, path: "dr.yaml".into(), line: 10, end_line: 10 },
            role: "namespace-wide DestinationRule".into(),
        });
        a.fix = Some(Fix {
            description: "set PeerAuthentication shop/default to mTLS mode PERMISSIVE".into(),
            path: "pa.yaml".into(),
            start_line: 8,
            end_line: 8,
            replacement: "    mode: PERMISSIVE".into(),
        });
        a.group = Some("g1".into());
        let mut b = finding("TIS0206", Severity::Error, "dr.yaml", 10, "DestinationRule", "shop-mtls");
        b.fix = Some(Fix {
            description: "set DestinationRule shop/shop-mtls to tls mode DISABLE".into(),
            path: "dr.yaml".into(),
            start_line: 10,
            end_line: 10,
            replacement: "      mode: DISABLE".into(),
        });
        b.group = Some("g1".into());
        let mut resolved = finding("TIS0207", Severity::Warning, "dr.yaml", 10, "DestinationRule", "old");
        resolved.status = Status::Resolved;
        resolved.anchors = None;
        let mut sources = BTreeMap::new();
        sources.insert("pa.yaml".to_string(), Arc::new(source("pa.yaml", PA)));
        sources.insert("dr.yaml".to_string(), Arc::new(source("dr.yaml", DR)));
        Review {
            diff: true,
            head_sources: sources,
            findings: vec![a, b, resolved],
            changes: vec![FileChange {
                head_path: Some("pa.yaml".into()),
                base_path: Some("pa.yaml".into()),
                hunks: Vec::new(),
                added: vec![(8, 8)],
                deleted: vec![(8, 8)],
            }],
            ..Review::default()
        }
    }

    #[test]
    fn a_group_is_one_block_with_one_fix_and_alternatives() {
        let text = render(&grouped_review(), &TextOptions::default());
        insta::assert_snapshot!("text_grouped", text);
        assert_eq!(text.lines().filter(|l| l.starts_with("error[")).count(), 1, "{text}");
        assert!(text.contains("= also: error[TIS0206]"), "{text}");
        assert!(text.contains("^^^^^^^^^^^^^ accepts only plaintext (DISABLE)"), "{text}");
        assert!(text.contains("::: dr.yaml:10:7"), "{text}");
        assert!(text.contains("= alternative: set DestinationRule"), "{text}");
        assert!(text.contains("fails: fail-on error: 2 introduced errors"), "{text}");
        assert!(text.contains("resolved by this change (1):\n  TIS0207 "), "{text}");
        assert!(!text.contains("\x1b["), "no colour unless asked");
    }

    #[test]
    fn verbose_shows_the_long_form_and_colour_wraps_the_headline() {
        let review = grouped_review();
        let short = render(&review, &TextOptions::default());
        assert!(short.contains("= note: the calls fail\n"), "{short}");
        let long = render(&review, &TextOptions { verbose: true, ..TextOptions::default() });
        assert!(long.contains("= note: PeerAuthentication shop/default does something, but more"), "{long}");
        let color = render(&review, &TextOptions { color: true, ..TextOptions::default() });
        assert!(color.contains("\x1b[1;31merror[TIS0502]\x1b[0m"), "{color}");
    }

    #[test]
    fn colour_is_auto_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_color(ColorChoice::Auto, None, true));
        assert!(!use_color(ColorChoice::Auto, None, false));
        assert!(!use_color(ColorChoice::Auto, Some(OsStr::new("1")), true));
        assert!(use_color(ColorChoice::Auto, Some(OsStr::new("")), true), "an empty NO_COLOR is unset");
        assert!(use_color(ColorChoice::Always, Some(OsStr::new("1")), false));
        assert!(!use_color(ColorChoice::Never, None, true));
    }

    #[test]
    fn a_deleted_file_is_named_as_the_cause_and_single_lines_are_not_ranges() {
        let mut review = grouped_review();
        review.findings.truncate(1);
        review.findings[0].group = None;
        review.findings[0].anchors =
            Some(vec![Anchor { side: Side::Base, path: "old.yaml".into(), line: 1, end_line: 9 }]);
        review.changes.push(FileChange {
            head_path: None,
            base_path: Some("old.yaml".into()),
            hunks: Vec::new(),
            added: Vec::new(),
            deleted: vec![(1, 9)],
        });
        let text = render(&review, &TextOptions::default());
        assert!(text.contains("introduced by deleting old.yaml (lines 1-9)"), "{text}");
        review.findings[0].anchors =
            Some(vec![Anchor { side: Side::Head, path: "pa.yaml".into(), line: 7, end_line: 7 }]);
        let text = render(&review, &TextOptions::default());
        assert!(text.contains("introduced by pa.yaml:7\n"), "{text}");
    }

    #[test]
    fn a_run_below_the_threshold_says_why_it_passes() {
        let mut review = grouped_review();
        for f in &mut review.findings {
            f.severity = Severity::Warning;
        }
        let text = render(&review, &TextOptions::default());
        assert!(text.ends_with("passes: fail-on error: no introduced finding at error or above (2 introduced warnings below the threshold)\n"), "{text}");
    }
}
