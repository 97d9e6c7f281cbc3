//! What the runner reads besides the API: workflow commands on stdout (the fallback annotations), the step
//! summary file, and step outputs.

use super::checks::{head_location, title_of};
use crate::finding::{Severity, Status};
use crate::review::Review;
use std::io::Write;
use std::path::Path;

/// Escapes a workflow command's message (`%`, CR, LF), as the runner's toolkit does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as data, plus `:` and `,` which delimit properties.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error file=..,line=..,endLine=..,title=..::message` line per introduced finding and unreadable file.
/// Findings only on deleted lines have no head file to point at: they carry the base path in the message.
pub fn annotation_commands(review: &Review) -> Vec<String> {
    let mut out = Vec::new();
    for f in review.findings.iter().filter(|f| f.status == Status::Introduced) {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = f.message.clone();
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nFix: {}", fix.description));
        }
        let title = escape_property(&title_of(f));
        match head_location(f) {
            Some((path, line, end)) => out.push(format!(
                "::{level} file={},line={line},endLine={end},title={title}::{}",
                escape_property(path),
                escape_data(&message)
            )),
            None => {
                let at = format!(" (removed from {} line {})", f.location.path, f.location.line);
                out.push(format!("::{level} title={title}::{}", escape_data(&(message + &at))));
            }
        }
    }
    for e in review.errors.iter().filter(|e| e.introduced) {
        out.push(format!(
            "::error file={},line={},title={}::{}",
            escape_property(&e.error.path),
            e.error.line.max(1),
            escape_property("mtls-review: file cannot be read"),
            escape_data(&e.error.message)
        ));
    }
    out
}

/// Writes workflow command lines. The one place this crate writes to stdout on purpose: the runner reads
/// workflow commands there.
pub fn write_commands(out: &mut dyn Write, lines: &[String]) -> std::io::Result<()> {
    for l in lines {
        writeln!(out, "{l}")?;
    }
    out.flush()
}

/// Appends Markdown to the step summary file.
pub fn append_step_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{}", markdown.trim_end())
}

/// Appends `name=value` step outputs (values are single-line: counts and a path).
pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    for (k, v) in outputs {
        // A newline in a value would start a new output: use the delimiter form then.
        if v.contains('\n') {
            writeln!(f, "{k}<<MTLS_REVIEW_EOF\n{v}\nMTLS_REVIEW_EOF")?;
        } else {
            writeln!(f, "{k}={v}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn outputs_file_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        write_outputs(&p, &[("introduced", "2".into()), ("note", "a\nb".into())]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "introduced=2\nnote<<MTLS_REVIEW_EOF\na\nb\nMTLS_REVIEW_EOF\n"
        );
    }
}
