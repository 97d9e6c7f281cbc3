//! GitHub workflow commands (`::error file=..,line=..::message`), escaped as the runner requires.

use crate::finding::{Severity, Status};
use crate::review::Review;

/// Escapes a command's message (data) part.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command per finding that counts (introduced in a diff; all in a snapshot) and per file error.
pub fn render(review: &Review) -> String {
    let mut out = String::new();
    for f in review.findings.iter().filter(|f| !review.diff || f.status == Status::Introduced) {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        // Annotations go on the head side; a finding anchored only on deleted lines is shown without a line.
        let anchor = f.anchors.as_ref().and_then(|a| a.iter().find(|a| a.side == crate::finding::Side::Head));
        let loc = match (anchor, f.location.side) {
            (Some(a), _) => format!("file={},line={},endLine={},", escape_property(&a.path), a.line, a.end_line),
            (None, crate::finding::Side::Head) => format!(
                "file={},line={},endLine={},",
                escape_property(&f.location.path),
                f.location.line,
                f.location.end_line
            ),
            (None, crate::finding::Side::Base) => String::new(),
        };
        let title = escape_property(&format!("{} {}{}", f.code, f.object, super::mesh_note(review, f)));
        let mut msg = f.message.clone();
        if let Some(fix) = &f.fix {
            msg.push_str(&format!("\nfix: {}", fix.description));
        }
        out.push_str(&format!("::{level} {loc}title={title}::{}\n", escape_data(&msg)));
    }
    for e in &review.errors {
        if e.error.kind.is_fatal() {
            out.push_str(&format!(
                "::error file={},line={},title=mtls-review%3A file not analyzed::{}\n",
                escape_property(&e.error.path),
                e.error.line,
                escape_data(&e.error.message)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
