//! The gate: the exit code, the check run (with annotations, 50 per request) and the commit status that replaces
//! the check run when the token may not create one. Planning here is pure; `publish` sends.

use crate::finding::{Finding, Severity, Side, Status};
use crate::review::Review;
use crate::settings::FailOn;
use serde::Serialize;

/// GitHub's limit on annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on a check run's `output.summary` and `output.text`.
pub const MAX_OUTPUT_CHARS: usize = 65_535;
/// GitHub's limit on a commit status description.
const MAX_STATUS_DESCRIPTION: usize = 140;

/// The check run's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    /// Nothing introduced.
    Success,
    /// Only findings below `fail-on` were introduced.
    Neutral,
    /// The job fails.
    Failure,
}

/// What the run decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// 0 or 1 (2 is for runs that could not review).
    pub exit_code: i32,
    pub conclusion: Conclusion,
    /// Introduced findings and unreadable files.
    pub introduced: usize,
    pub resolved: usize,
    /// Introduced files that cannot be read (they count as errors for `fail-on`).
    pub errors: usize,
    /// One line for titles: "2 introduced (1 error, 1 warning), 1 resolved".
    pub title: String,
}

/// Applies `fail-on` to the introduced findings and unreadable files.
pub fn gate(review: &Review, fail_on: FailOn) -> Gate {
    let introduced: Vec<&Finding> = review.findings.iter().filter(|f| f.status == Status::Introduced).collect();
    let resolved = review.findings.iter().filter(|f| f.status == Status::Resolved).count();
    let errors = review.errors.iter().filter(|e| e.introduced).count();
    let severities = introduced.iter().map(|f| f.severity).chain(std::iter::repeat_n(Severity::Error, errors));
    let (mut failing, mut any) = (false, false);
    for s in severities {
        any = true;
        failing |= fail_on.fails(s);
    }
    let conclusion = match (failing, any) {
        (true, _) => Conclusion::Failure,
        (false, true) => Conclusion::Neutral,
        (false, false) => Conclusion::Success,
    };
    let count = |s: Severity| introduced.iter().filter(|f| f.severity == s).count();
    let mut parts = Vec::new();
    for (n, word) in
        [(count(Severity::Error), "error"), (count(Severity::Warning), "warning"), (count(Severity::Note), "note")]
    {
        if n > 0 {
            parts.push(format!("{n} {word}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if errors > 0 {
        parts.push(format!("{errors} unreadable file{}", if errors == 1 { "" } else { "s" }));
    }
    let mut title = if parts.is_empty() {
        "no mTLS findings introduced".to_string()
    } else {
        format!("{} introduced ({})", introduced.len() + errors, parts.join(", "))
    };
    if resolved > 0 {
        title.push_str(&format!(", {resolved} resolved"));
    }
    Gate { exit_code: i32::from(failing), conclusion, introduced: introduced.len() + errors, resolved, errors, title }
}

/// One check-run annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: usize,
    pub end_line: usize,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// Where an introduced finding shows on the head commit: its first head-side anchor, else its own location when
/// that is on the head side. `None` for findings only on deleted lines.
pub fn head_location(f: &Finding) -> Option<(&str, usize, usize)> {
    let anchor = f.anchors.iter().flatten().find(|a| a.side == Side::Head);
    match anchor {
        Some(a) => Some((a.path.as_str(), a.line, a.end_line.max(a.line))),
        None if f.location.side == Side::Head => {
            Some((f.location.path.as_str(), f.location.line, f.location.end_line.max(f.location.line)))
        }
        None => None,
    }
}

/// Annotations for the introduced findings and unreadable files on the head commit.
pub fn annotations(review: &Review) -> Vec<Annotation> {
    let mut out = Vec::new();
    for f in review.findings.iter().filter(|f| f.status == Status::Introduced) {
        let Some((path, start, end)) = head_location(f) else {
            continue;
        };
        let mut message = f.message.clone();
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nFix: {}", fix.description));
        }
        out.push(Annotation {
            path: path.to_string(),
            start_line: start,
            end_line: end,
            annotation_level: match f.severity {
                Severity::Error => "failure",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            },
            message,
            title: title_of(f),
            raw_details: f.help.clone(),
        });
    }
    for e in review.errors.iter().filter(|e| e.introduced) {
        out.push(Annotation {
            path: e.error.path.clone(),
            start_line: e.error.line.max(1),
            end_line: e.error.line.max(1),
            annotation_level: "failure",
            message: e.error.message.clone(),
            title: "mtls-review: file cannot be read".into(),
            raw_details: None,
        });
    }
    out
}

/// `CODE: rule title` (or the code alone for rules outside the registry).
pub fn title_of(f: &Finding) -> String {
    match crate::rules::rule(f.code) {
        Some(r) => format!("{}: {}", f.code, r.title),
        None => f.code.to_string(),
    }
}

/// A check run's `output`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
}

/// The body of `POST /repos/{o}/{r}/check-runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateCheckRun {
    pub name: String,
    pub head_sha: String,
    pub status: &'static str,
    pub conclusion: Conclusion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub output: CheckOutput,
}

/// The body of `PATCH /repos/{o}/{r}/check-runs/{id}` that appends annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateCheckRun {
    pub output: CheckOutput,
}

/// The check run as one create plus the updates that append the remaining annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRunPlan {
    pub create: CreateCheckRun,
    pub updates: Vec<UpdateCheckRun>,
}

/// Plans the check run: the first 50 annotations with the create, the rest 50 at a time.
pub fn plan_check_run(
    name: &str,
    head_sha: &str,
    gate: &Gate,
    summary: &str,
    annotations: Vec<Annotation>,
    details_url: Option<String>,
    external_id: Option<String>,
) -> CheckRunPlan {
    let summary = cut(summary, MAX_OUTPUT_CHARS);
    let mut batches: Vec<Vec<Annotation>> =
        annotations.chunks(ANNOTATIONS_PER_REQUEST).map(<[Annotation]>::to_vec).collect();
    let first = if batches.is_empty() { Vec::new() } else { batches.remove(0) };
    let output = |annotations| CheckOutput { title: gate.title.clone(), summary: summary.clone(), annotations };
    CheckRunPlan {
        create: CreateCheckRun {
            name: name.to_string(),
            head_sha: head_sha.to_string(),
            status: "completed",
            conclusion: gate.conclusion,
            details_url,
            external_id,
            output: output(first),
        },
        updates: batches.into_iter().map(|b| UpdateCheckRun { output: output(b) }).collect(),
    }
}

/// The body of `POST /repos/{o}/{r}/statuses/{sha}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateStatus {
    /// `success` or `failure` (a neutral check has no status equivalent and does not block: `success`).
    pub state: &'static str,
    pub context: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
}

/// The commit status that stands in for the check run.
pub fn plan_status(name: &str, gate: &Gate, target_url: Option<String>) -> CreateStatus {
    CreateStatus {
        state: if gate.conclusion == Conclusion::Failure { "failure" } else { "success" },
        context: name.to_string(),
        description: cut(&gate.title, MAX_STATUS_DESCRIPTION),
        target_url,
    }
}

/// Cuts a text to `max` characters, marking the cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, ObjectRef};
    use crate::review::{PostureChange, ReviewError};
    use crate::settings::MeshSettings;

    fn finding(severity: Severity, status: Status) -> Finding {
        Finding {
            code: "TIS0206",
            severity,
            status,
            message: "m".into(),
            object: ObjectRef { kind: "DestinationRule".into(), namespace: "n".into(), name: "d".into() },
            port: None,
            location: Location { side: Side::Head, path: "a.yaml".into(), line: 3, end_line: 5 },
            related: Vec::new(),
            fix: None,
            help: None,
            anchors: None,
            meshes: Vec::new(),
            targets: Vec::new(),
            group: None,
        }
    }

    fn review(findings: Vec<Finding>) -> Review {
        Review {
            findings,
            errors: Vec::new(),
            settings: MeshSettings::default(),
            base: "b".into(),
            head: "h".into(),
            changes: Vec::new(),
            config_changed: false,
            posture: PostureChange::default(),
            diff: true,
            ..Review::default()
        }
    }

    #[test]
    fn gate_follows_fail_on() {
        let r =
            review(vec![finding(Severity::Warning, Status::Introduced), finding(Severity::Error, Status::Resolved)]);
        let g = gate(&r, FailOn::Error);
        assert_eq!((g.exit_code, g.conclusion), (0, Conclusion::Neutral));
        assert_eq!(g.title, "1 introduced (1 warning), 1 resolved");
        assert_eq!(gate(&r, FailOn::Warning).conclusion, Conclusion::Failure);
        let clean = gate(&review(vec![finding(Severity::Error, Status::Existing)]), FailOn::Error);
        assert_eq!((clean.exit_code, clean.conclusion, clean.introduced), (0, Conclusion::Success, 0));
    }

    #[test]
    fn an_unreadable_introduced_file_is_an_error() {
        let mut r = review(Vec::new());
        r.errors.push(ReviewError {
            error: crate::finding::LoadError {
                path: "x.yaml".into(),
                line: 2,
                message: "bad".into(),
                kind: crate::finding::ErrorKind::Parse,
            },
            introduced: true,
        });
        let g = gate(&r, FailOn::Error);
        assert_eq!((g.exit_code, g.errors, g.conclusion), (1, 1, Conclusion::Failure));
        assert_eq!(gate(&r, FailOn::Never).conclusion, Conclusion::Neutral);
        assert_eq!(annotations(&r)[0].annotation_level, "failure");
    }

    #[test]
    fn annotations_are_batched_by_fifty() {
        let r = review((0..120).map(|_| finding(Severity::Error, Status::Introduced)).collect());
        let g = gate(&r, FailOn::Error);
        let plan = plan_check_run("mtls-review", "abc", &g, "s", annotations(&r), None, None);
        assert_eq!(plan.create.output.annotations.len(), 50);
        let sizes: Vec<usize> = plan.updates.iter().map(|u| u.output.annotations.len()).collect();
        assert_eq!(sizes, vec![50, 20]);
    }

    #[test]
    fn status_description_is_short() {
        let mut g = gate(&review(Vec::new()), FailOn::Error);
        g.title = "x".repeat(500);
        let s = plan_status("mtls-review", &g, None);
        assert_eq!((s.state, s.description.chars().count()), ("success", 140));
    }
}
