//! The text report, shaped like rustc/clippy diagnostics: `warning[TIS0206]: ...`, `--> path:line`, the source
//! lines with a marker, related objects, and `help:` with the fix as a diff.

use super::{counts, plural, rule_url};
use crate::finding::{Finding, Side, Status};
use crate::manifest::SourceText;
use crate::review::Review;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Renders findings (introduced ones first in a diff), file errors and a summary line.
pub fn render(review: &Review, docs_base: &str) -> String {
    let mut out = String::new();
    let order = [Status::Introduced, Status::Existing, Status::Resolved];
    for status in order {
        for f in review.findings.iter().filter(|f| f.status == status) {
            render_finding(&mut out, review, f, docs_base);
        }
    }
    for e in &review.errors {
        let label = if e.error.kind.is_fatal() { "error" } else { "warning" };
        let intro = if review.diff && e.introduced { " (introduced by this change)" } else { "" };
        out.push_str(&format!("{label}: {}{intro}\n  --> {}:{}\n\n", e.error.message, e.error.path, e.error.line));
    }
    if review.diff && !review.connectivity.is_empty() {
        out.push_str("connectivity changes:\n");
        out.push_str(&super::posture::render_diff_text(&review.connectivity));
        out.push('\n');
    }
    out.push_str(&summary(review));
    out
}

/// The closing summary line.
pub fn summary(review: &Review) -> String {
    let (e, w, n) = counts(review);
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

fn render_finding(out: &mut String, review: &Review, f: &Finding, docs_base: &str) {
    let status = if review.diff { format!(" ({})", status_word(f.status)) } else { String::new() };
    let meshes = super::mesh_note(review, f);
    out.push_str(&format!("{}[{}]: {}{meshes}{status}\n", f.severity, f.code, f.message));
    let loc = &f.location;
    let side = if review.diff && loc.side == Side::Base { " (base)" } else { "" };
    let src = sources(review, loc.side).get(&loc.path);
    let lines: Vec<&str> = src.map(|s| s.lines()).unwrap_or_default();
    let width = (loc.end_line + 1).to_string().len().max(2);
    let pad = " ".repeat(width);
    out.push_str(&format!("{pad}--> {}:{}{side}\n", loc.path, loc.line));
    if !lines.is_empty() {
        out.push_str(&format!("{pad} |\n"));
        let first = loc.line.saturating_sub(2).max(1);
        for n in first..=loc.end_line.min(lines.len()) {
            let text = lines[n - 1];
            out.push_str(&format!("{n:>width$} | {text}\n"));
            if n >= loc.line {
                let indent = text.len() - text.trim_start().len();
                let len = text.trim().chars().count().max(1);
                out.push_str(&format!("{pad} | {}{}\n", " ".repeat(indent), "^".repeat(len)));
            }
        }
        out.push_str(&format!("{pad} |\n"));
    }
    out.push_str(&format!("{pad} = note: on {}\n", f.object));
    for r in &f.related {
        out.push_str(&format!("{pad} = note: {}: {} at {}:{}\n", r.role, r.object, r.location.path, r.location.line));
    }
    if let Some(anchors) = &f.anchors {
        for a in anchors {
            let s = if a.side == Side::Base { " (deleted lines)" } else { "" };
            out.push_str(&format!("{pad} = note: introduced by {}:{}-{}{s}\n", a.path, a.line, a.end_line));
        }
    }
    out.push_str(&format!("{pad} = help: for further information visit {}\n", rule_url(docs_base, f.code)));
    if let Some(fix) = &f.fix {
        out.push_str(&format!("help: {}\n", fix.description));
        let flines: Vec<&str> = sources(review, Side::Head).get(&fix.path).map(|s| s.lines()).unwrap_or_default();
        out.push_str(&format!("{pad}--> {}:{}\n{pad} |\n", fix.path, fix.start_line));
        let old: Vec<&str> = (fix.start_line..=fix.end_line).filter_map(|n| flines.get(n - 1).copied()).collect();
        let new: Vec<&str> =
            if fix.replacement.is_empty() { Vec::new() } else { fix.replacement.split('\n').collect() };
        let same = old.iter().zip(new.iter()).take_while(|(a, b)| a == b).count();
        for (i, l) in old.iter().enumerate() {
            let n = fix.start_line + i;
            let mark = if i < same { '|' } else { '-' };
            out.push_str(&format!("{n:>width$} {mark} {l}\n"));
        }
        for (i, l) in new.iter().enumerate().skip(same) {
            let n = fix.start_line + i;
            out.push_str(&format!("{n:>width$} + {l}\n"));
        }
        out.push_str(&format!("{pad} |\n"));
    }
    if let Some(help) = &f.help {
        for (i, l) in help.lines().enumerate() {
            if i == 0 {
                out.push_str(&format!("help: {l}\n"));
            } else {
                out.push_str(&format!("{pad} | {l}\n"));
            }
        }
    }
    out.push('\n');
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Introduced => "introduced",
        Status::Existing => "existing",
        Status::Resolved => "resolved",
    }
}
