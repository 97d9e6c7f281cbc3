//! The review composer: a pure function of the review, the comments already on the pull request and the options,
//! returning the API calls to make (one review with inline comments, deletions, replies, dismissals).
//!
//! Idempotence rests on hidden markers: every comment we post carries the finding's fingerprint, every review
//! body the fingerprints it mentioned and the head it reviewed, every "resolved" reply its fingerprint.
//! Ownership rests on identity: a marker anyone can paste, so only what our own identity wrote ([`Identity`])
//! and carries our marker is ours; nothing else is edited, deleted, dismissed or counted as said. Nothing here
//! does I/O.

use super::env::ReviewEvent;
use crate::finding::{Finding, Severity, Side, Status};
use crate::review::{FileChange, Hunk, Review};
use crate::settings::FailOn;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// GitHub's limit on a review body and on a comment body (characters).
pub const MAX_BODY_CHARS: usize = 65_536;
/// Inline comments per review; the rest go to the review body.
pub const DEFAULT_MAX_INLINE: usize = 30;
/// Opening of every marker we write.
const MARKER_OPEN: &str = "<!-- mtls-review:";
/// Lines a suggestion may carry unchanged around the fix (to span the finding's lines too); a fix farther from
/// its finding is suggested on its own lines.
pub const MAX_SUGGESTION_CONTEXT_LINES: usize = 20;
/// The longest suggestion or fix patch put into a comment (characters); longer ones are described, not shown, so
/// that the comment stays within [`MAX_BODY_CHARS`].
pub const MAX_FIX_CHARS: usize = 30_000;

/// The author of a comment or review, as the API gives it (`user`; `null` for a deleted account).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Author {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub id: Option<u64>,
}

/// Who we are on GitHub: the token's user (`GET /user`), or, for the Actions token (which may not read
/// `/user`), the `github-actions[bot]` account that writes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub login: String,
    /// Compared when known on both sides (logins can be renamed; ids cannot).
    pub id: Option<u64>,
}

impl Identity {
    /// The login of the Actions token's writes. A bot login (with `[bot]`) cannot be taken by a person; its id
    /// differs between github.com and GitHub Enterprise Server, so it is matched by login.
    pub const ACTIONS_BOT: &'static str = "github-actions[bot]";

    pub fn actions_bot() -> Identity {
        Identity { login: Identity::ACTIONS_BOT.to_string(), id: None }
    }

    /// True when `author` is this identity.
    pub fn wrote(&self, author: Option<&Author>) -> bool {
        let Some(a) = author else {
            return false;
        };
        match (self.id, a.id) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => !self.login.is_empty() && a.login.eq_ignore_ascii_case(&self.login),
        }
    }
}

/// The side of the diff a review comment is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiSide {
    /// The base side: deleted lines.
    #[serde(rename = "LEFT")]
    Left,
    /// The head side: added lines and context.
    #[serde(rename = "RIGHT")]
    Right,
}

impl From<Side> for ApiSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Base => ApiSide::Left,
            Side::Head => ApiSide::Right,
        }
    }
}

/// A review comment on the pull request, as the list endpoint returns it (only the fields we read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ExistingComment {
    pub id: u64,
    #[serde(default)]
    pub path: String,
    /// The comment's last line in the current diff; `None` once the comment is outdated.
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub start_line: Option<usize>,
    #[serde(default)]
    pub side: Option<ApiSide>,
    #[serde(default)]
    pub in_reply_to_id: Option<u64>,
    #[serde(default)]
    pub body: String,
    /// The commit the comment was made on, and its lines there (used when `line` is absent).
    #[serde(default)]
    pub original_commit_id: Option<String>,
    #[serde(default)]
    pub original_line: Option<usize>,
    #[serde(default)]
    pub original_start_line: Option<usize>,
    #[serde(default)]
    pub user: Option<Author>,
}

impl ExistingComment {
    /// The comment's (start line, line) on `head`: the current ones, or, when the answer lacks them, the original
    /// ones if the comment was made on `head` itself (so a re-run on the same commit recognises it).
    fn lines_on(&self, head: &str) -> (Option<usize>, Option<usize>) {
        if self.line.is_some() {
            return (self.start_line, self.line);
        }
        if self.original_commit_id.as_deref() == Some(head) {
            return (self.original_start_line, self.original_line);
        }
        (None, None)
    }
}

/// A review on the pull request (only the fields we read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExistingReview {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub user: Option<Author>,
}

/// What is already on the pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    pub comments: Vec<ExistingComment>,
    pub reviews: Vec<ExistingReview>,
    /// Who we are; `None`: nothing is ours.
    pub me: Option<Identity>,
}

impl Existing {
    fn ours(&self, author: Option<&Author>) -> bool {
        self.me.as_ref().is_some_and(|me| me.wrote(author))
    }

    /// Our reviews (our identity, our marker) with their markers.
    fn our_reviews(&self) -> impl Iterator<Item = (&ExistingReview, Marker)> {
        self.reviews.iter().filter(|r| self.ours(r.user.as_ref())).filter_map(|r| {
            let m = r.body.as_deref().and_then(parse_marker).filter(|m| m.kind == "review")?;
            Some((r, m))
        })
    }

    /// Our review of `head`, if one was posted (whatever it said).
    pub fn review_of(&self, head: &str) -> Option<u64> {
        self.our_reviews().find(|(_, m)| m.get("head") == Some(head)).map(|(r, _)| r.id)
    }
}

/// Options of the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeOptions {
    /// The commit comments refer to (`pull_request.head.sha`).
    pub head_sha: String,
    pub event: ReviewEvent,
    /// Unique per run: written into every marker so that a review whose POST got no answer can be recognised.
    pub nonce: String,
    /// The Markdown summary (posture, introduced / resolved / existing, unanchored findings).
    pub summary: String,
    pub max_inline: usize,
    /// Base URL of the rule docs (see [`crate::report::rule_url`]).
    pub docs_base: String,
    /// Decides whether an earlier "changes requested" review of ours is dismissed.
    pub fail_on: FailOn,
}

/// A comment as the create-review endpoint takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftComment {
    pub path: String,
    pub body: String,
    pub line: usize,
    pub side: ApiSide,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_side: Option<ApiSide>,
}

/// The body of `POST /repos/{o}/{r}/pulls/{n}/reviews`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateReview {
    pub commit_id: String,
    pub body: String,
    pub event: &'static str,
    pub comments: Vec<DraftComment>,
}

/// A planned inline comment with what the composer knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedComment {
    /// The fingerprint of the comment's (worst) finding.
    pub fingerprint: String,
    /// The fingerprints of every finding the comment shows (its cause group; just `fingerprint` for one finding).
    pub members: Vec<String>,
    pub code: &'static str,
    pub severity: Severity,
    pub comment: DraftComment,
    /// The same content as a section of the review body, used if the comment cannot be inline.
    pub body_section: String,
}

/// Why a finding with a place on the diff is in the review body instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovedReason {
    /// More than `max_inline` comments.
    Cap,
    /// GitHub refused the line (422).
    Refused,
}

/// The review to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDraft {
    pub commit_id: String,
    pub event: ReviewEvent,
    pub nonce: String,
    pub summary: String,
    pub inline: Vec<PlannedComment>,
    /// Findings on changed lines that are not inline, with the reason.
    pub in_body: Vec<(PlannedComment, MovedReason)>,
    /// Fingerprints this review mentions for the first time outside inline comments.
    pub said: BTreeSet<String>,
    /// The cap on inline comments (named in the body when it applied).
    pub max_inline: usize,
}

/// A reply to one of our comments whose finding is resolved, when someone else replied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedReply {
    pub comment_id: u64,
    pub body: String,
}

/// Everything to do on the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// `None` when nothing new is to be said.
    pub review: Option<ReviewDraft>,
    /// Our comments to delete (resolved or superseded, nobody replied).
    pub deletions: Vec<u64>,
    pub replies: Vec<PlannedReply>,
    /// Our earlier "changes requested" reviews to dismiss (nothing failing is introduced any more).
    pub dismissals: Vec<u64>,
    /// Comments (one per finding or cause group) already at their place: not posted again.
    pub already_commented: usize,
    /// Our review of this very head, when there is one: no second review is posted for a head.
    pub already_reviewed: Option<u64>,
}

/// A parsed marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// `finding`, `resolved`, `review` or `summary`.
    pub kind: String,
    pub fields: BTreeMap<String, String>,
}

impl Marker {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// Writes a marker: `<!-- mtls-review:KIND k=v ... -->`.
pub fn marker(kind: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!("{MARKER_OPEN}{kind}");
    for (k, v) in fields {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s.push_str(" -->");
    s
}

/// Finds our marker in a body (the first one).
pub fn parse_marker(body: &str) -> Option<Marker> {
    let start = body.find(MARKER_OPEN)? + MARKER_OPEN.len();
    let rest = &body[start..];
    let end = rest.find("-->")?;
    let mut words = rest[..end].split_whitespace();
    let kind = words.next()?.to_string();
    let fields = words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Some(Marker { kind, fields })
}

/// The marker of the sticky summary comment.
pub fn summary_marker() -> String {
    marker("summary", &[])
}

impl ReviewDraft {
    /// The request body, with the review body cut to GitHub's limit.
    pub fn request(&self) -> CreateReview {
        CreateReview {
            commit_id: self.commit_id.clone(),
            body: self.body(),
            event: self.event.as_api(),
            comments: self.inline.iter().map(|c| c.comment.clone()).collect(),
        }
    }

    /// The review body: marker, summary, then the findings on changed lines that are not inline.
    pub fn body(&self) -> String {
        let said: Vec<&str> = self.said.iter().map(String::as_str).collect();
        let said = said.join(",");
        let mut fields = vec![("run", self.nonce.as_str()), ("head", self.commit_id.as_str())];
        if !said.is_empty() {
            fields.push(("said", said.as_str()));
        }
        let mut body = marker("review", &fields);
        body.push('\n');
        body.push_str(self.summary.trim_end());
        body.push('\n');
        let capped: Vec<&PlannedComment> =
            self.in_body.iter().filter(|(_, r)| *r == MovedReason::Cap).map(|(c, _)| c).collect();
        let refused: Vec<&PlannedComment> =
            self.in_body.iter().filter(|(_, r)| *r == MovedReason::Refused).map(|(c, _)| c).collect();
        if !capped.is_empty() {
            body.push_str(&format!(
                "\n### More findings on changed lines\n\nA review carries at most {} inline comments; these are the rest.\n",
                self.max_inline
            ));
            for c in capped {
                body.push('\n');
                body.push_str(&c.body_section);
            }
        }
        if !refused.is_empty() {
            body.push_str(
                "\n### Findings GitHub would not place on the diff\n\nGitHub refused a comment on these lines.\n",
            );
            for c in refused {
                body.push('\n');
                body.push_str(&c.body_section);
            }
        }
        truncate_body(body)
    }

    /// Moves the inline comments at `indices` into the body (GitHub refused them).
    pub fn move_to_body(&mut self, indices: &BTreeSet<usize>) {
        let mut kept = Vec::new();
        for (i, c) in std::mem::take(&mut self.inline).into_iter().enumerate() {
            if indices.contains(&i) {
                self.said.extend(c.members.iter().cloned());
                self.in_body.push((c, MovedReason::Refused));
            } else {
                kept.push(c);
            }
        }
        self.inline = kept;
    }
}

/// Cuts a body to GitHub's limit on a character boundary, saying so.
fn truncate_body(body: String) -> String {
    if body.chars().count() <= MAX_BODY_CHARS {
        return body;
    }
    let note = "\n\n_(cut to GitHub's size limit: the full summary is on the workflow run's summary page)_\n";
    let keep = MAX_BODY_CHARS - note.chars().count();
    let mut out: String = body.chars().take(keep).collect();
    out.push_str(note);
    out
}

/// A place on the diff for one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    /// The file's path in the pull request (its head path, or the base path of a deleted file).
    path: String,
    side: ApiSide,
    start: usize,
    end: usize,
    /// Text replacing lines `start..=end` on the right side.
    suggestion: Option<String>,
}

/// One of our comments already on the pull request, with its thread.
struct OurComment<'a> {
    comment: &'a ExistingComment,
    fingerprint: String,
    /// Every finding the comment shows: its marker's `fps` (a cause group), else just `fp` (one finding, and
    /// every comment written before grouping).
    covers: BTreeSet<String>,
    /// Someone other than us replied.
    human_reply: bool,
    /// We already answered "resolved".
    resolved_reply: bool,
}

/// Composes the plan. See the module doc.
pub fn compose(review: &Review, existing: &Existing, opts: &ComposeOptions) -> Plan {
    let ours = our_comments(existing);
    let said_before = said_in_reviews(existing);
    let mut plan = Plan::default();

    // Introduced findings as comment units: a cause group (its members adjacent, the worst first) or one finding;
    // in order of importance, so that the cap keeps the errors inline.
    let mut units: Vec<Vec<&Finding>> = Vec::new();
    for f in review.findings.iter().filter(|f| f.status == Status::Introduced) {
        match units.last_mut() {
            Some(u) if f.group.is_some() && u[0].group == f.group => u.push(f),
            _ => units.push(vec![f]),
        }
    }
    units.sort_by_key(|u| std::cmp::Reverse(u[0].severity));

    let mut kept: BTreeSet<u64> = BTreeSet::new();
    let mut new_comments: Vec<PlannedComment> = Vec::new();
    let mut said: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for unit in units {
        // A finding merged from several places is commented once, with the first.
        let unit: Vec<(&Finding, String)> =
            unit.into_iter().map(|f| (f, f.fingerprint())).filter(|(_, fp)| seen.insert(fp.clone())).collect();
        let Some((lead, _)) = unit.first() else {
            continue;
        };
        let fps: BTreeSet<String> = unit.iter().map(|(_, fp)| fp.clone()).collect();
        let active: Vec<&OurComment> =
            ours.iter().filter(|c| !c.resolved_reply && c.covers.iter().any(|fp| fps.contains(fp))).collect();
        // The worst finding's place (with the group's suggestion), else another member's place without its
        // suggestion (the comment's fix is the worst finding's).
        let placed = place(lead, review).or_else(|| {
            unit.iter().skip(1).find_map(|(f, _)| place(f, review)).map(|p| Placement { suggestion: None, ..p })
        });
        match placed {
            Some(p) => {
                // One comment of ours at the place that shows every finding of the unit ...
                let whole = active.iter().find(|c| fps.is_subset(&c.covers) && at_place(c.comment, &p, &opts.head_sha));
                // ... or, for a group, one comment per finding where each alone would sit (an earlier review's).
                let each: Option<Vec<u64>> = (unit.len() > 1)
                    .then(|| {
                        unit.iter()
                            .map(|(f, fp)| {
                                let own = place(f, review)?;
                                active
                                    .iter()
                                    .find(|c| c.covers.contains(fp) && at_place(c.comment, &own, &opts.head_sha))
                                    .map(|c| c.comment.id)
                            })
                            .collect()
                    })
                    .flatten();
                if let Some(same) = whole {
                    kept.insert(same.comment.id);
                    plan.already_commented += 1;
                } else if let Some(ids) = each {
                    kept.extend(ids);
                    plan.already_commented += 1;
                } else if fps.iter().all(|fp| said_before.contains(fp)) {
                    // Already in an earlier review body (beyond the cap, or refused by GitHub): not repeated.
                } else {
                    let members: Vec<&Finding> = unit.iter().map(|(f, _)| *f).collect();
                    let fp_list: Vec<String> = unit.iter().map(|(_, fp)| fp.clone()).collect();
                    new_comments.push(planned_comment(&members, &fp_list, &p, review, opts));
                }
            }
            None => {
                // The summary lists them; new to say unless an earlier review or a comment already did.
                if !active.is_empty() {
                    kept.extend(active.iter().map(|c| c.comment.id));
                } else {
                    said.extend(fps.into_iter().filter(|fp| !said_before.contains(fp)));
                }
            }
        }
    }
    for e in review.errors.iter().filter(|e| e.introduced) {
        let fp = error_fingerprint(&e.error.path, e.error.kind.is_fatal());
        if !said_before.contains(&fp) {
            said.insert(fp);
        }
    }

    // Old comments of ours: keep, delete, or answer.
    let introduced_fps: BTreeSet<String> =
        review.findings.iter().filter(|f| f.status == Status::Introduced).map(Finding::fingerprint).collect();
    let mut shown: BTreeSet<&str> = new_comments.iter().flat_map(|c| c.members.iter().map(String::as_str)).collect();
    shown
        .extend(ours.iter().filter(|o| kept.contains(&o.comment.id)).flat_map(|o| o.covers.iter().map(String::as_str)));
    for c in &ours {
        if kept.contains(&c.comment.id) {
            continue;
        }
        let live: Vec<&String> = c.covers.iter().filter(|fp| introduced_fps.contains(*fp)).collect();
        if !live.is_empty() {
            // Superseded when what it shows that is still introduced is shown by a new or a kept comment.
            let superseded = live.iter().all(|fp| shown.contains(fp.as_str()));
            if superseded && !c.human_reply && !c.resolved_reply {
                plan.deletions.push(c.comment.id);
            }
            continue;
        }
        if c.resolved_reply {
            continue;
        }
        if c.human_reply {
            let still =
                review.findings.iter().any(|f| f.status == Status::Existing && c.covers.contains(&f.fingerprint()));
            plan.replies.push(PlannedReply {
                comment_id: c.comment.id,
                body: resolved_reply(&c.fingerprint, &opts.head_sha, still),
            });
        } else {
            plan.deletions.push(c.comment.id);
        }
    }

    // Earlier "changes requested" reviews of ours no longer stand when nothing failing is introduced.
    let failing = review.findings.iter().any(|f| f.status == Status::Introduced && opts.fail_on.fails(f.severity))
        || (review.errors.iter().any(|e| e.introduced) && opts.fail_on.fails(Severity::Error));
    if !failing {
        plan.dismissals =
            existing.our_reviews().filter(|(r, _)| r.state == "CHANGES_REQUESTED").map(|(r, _)| r.id).collect();
    }
    // A blocking review only when something reaches `fail-on`.
    let event = if failing { opts.event } else { ReviewEvent::Comment };

    let cap = opts.max_inline;
    let in_body: Vec<(PlannedComment, MovedReason)> =
        new_comments.split_off(cap.min(new_comments.len())).into_iter().map(|c| (c, MovedReason::Cap)).collect();
    for (c, _) in &in_body {
        said.extend(c.members.iter().cloned());
    }
    plan.already_reviewed = existing.review_of(&opts.head_sha);
    if plan.already_reviewed.is_none() && (!new_comments.is_empty() || !said.is_empty()) {
        plan.review = Some(ReviewDraft {
            commit_id: opts.head_sha.clone(),
            event,
            nonce: opts.nonce.clone(),
            summary: opts.summary.clone(),
            inline: new_comments,
            in_body,
            said,
            max_inline: cap,
        });
    }
    plan
}

/// Our top-level comments (our identity and our marker) with what their threads hold. A reply counts as our
/// "resolved" answer only when we wrote it; any other reply (a person's, or a pasted marker) is a person's.
fn our_comments(existing: &Existing) -> Vec<OurComment<'_>> {
    let all = &existing.comments;
    let mut out: Vec<OurComment> = all
        .iter()
        .filter(|c| c.in_reply_to_id.is_none() && existing.ours(c.user.as_ref()))
        .filter_map(|c| {
            let m = parse_marker(&c.body).filter(|m| m.kind == "finding")?;
            let fingerprint = m.get("fp")?.to_string();
            let mut covers: BTreeSet<String> = m
                .get("fps")
                .map(|l| l.split(',').filter(|f| !f.is_empty()).map(str::to_string).collect())
                .unwrap_or_default();
            covers.insert(fingerprint.clone());
            Some(OurComment { comment: c, fingerprint, covers, human_reply: false, resolved_reply: false })
        })
        .collect();
    for reply in all {
        let Some(parent) = reply.in_reply_to_id else {
            continue;
        };
        let Some(o) = out.iter_mut().find(|o| o.comment.id == parent) else {
            continue;
        };
        let ours = existing.ours(reply.user.as_ref());
        match parse_marker(&reply.body) {
            Some(m) if ours && m.kind == "resolved" => o.resolved_reply = true,
            Some(m) if ours && m.kind == "finding" => {}
            _ => o.human_reply = true,
        }
    }
    out
}

/// Fingerprints our earlier reviews mentioned in their bodies.
fn said_in_reviews(existing: &Existing) -> BTreeSet<String> {
    existing
        .our_reviews()
        .map(|(_, m)| m)
        .filter_map(|m| m.get("said").map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>()))
        .flatten()
        .collect()
}

/// True when an existing comment sits where we would put a new one on `head`.
fn at_place(c: &ExistingComment, p: &Placement, head: &str) -> bool {
    let start = if p.start < p.end { Some(p.start) } else { None };
    let (c_start, c_line) = c.lines_on(head);
    c.path == p.path
        && c_line == Some(p.end)
        && c.side.unwrap_or(ApiSide::Right) == p.side
        && c_start.filter(|s| *s != p.end) == start
}

/// A fingerprint for a file that could not be read (kind of failure and path; line numbers move with edits).
pub fn error_fingerprint(path: &str, fatal: bool) -> String {
    format!("e{}", crate::finding::stable_hash(&format!("load-error|{path}|{fatal}")))
}

fn resolved_reply(fp: &str, sha: &str, still_on_base: bool) -> String {
    let text = if still_on_base {
        format!("No longer introduced by this pull request as of {sha}: the base branch has the same finding.")
    } else {
        format!("Resolved in {sha}.")
    };
    format!("{}\n{text}\n", marker("resolved", &[("fp", fp)]))
}

/// The file change that shows `path` on `side`, and the path GitHub knows the file by in this pull request.
fn file_change<'a>(review: &'a Review, side: Side, path: &str) -> Option<(&'a FileChange, String)> {
    review.changes.iter().find_map(|fc| {
        let p = match side {
            Side::Head => fc.head_path.as_deref(),
            Side::Base => fc.base_path.as_deref(),
        }?;
        (p == path).then(|| (fc, fc.head_path.clone().or_else(|| fc.base_path.clone()).unwrap_or_default()))
    })
}

/// A hunk's line range on one side (inclusive), if it has lines there.
fn hunk_range(h: &Hunk, side: Side) -> Option<(usize, usize)> {
    let (start, len) = match side {
        Side::Base => (h.base_start, h.base_lines),
        Side::Head => (h.head_start, h.head_lines),
    };
    (len > 0).then(|| (start, start + len - 1))
}

/// Where to comment on a finding: on an anchor inside a diff hunk, preferring one whose hunk also holds the fix
/// (then the comment carries a one-click suggestion).
fn place(f: &Finding, review: &Review) -> Option<Placement> {
    let mut first: Option<Placement> = None;
    for a in f.anchors.iter().flatten() {
        let Some((fc, pr_path)) = file_change(review, a.side, &a.path) else {
            continue;
        };
        let (lo, hi) = (a.line.min(a.end_line), a.line.max(a.end_line));
        let Some((hs, he)) = fc.hunks.iter().filter_map(|h| hunk_range(h, a.side)).find(|(s, e)| *s <= hi && lo <= *e)
        else {
            continue;
        };
        let (start, end) = (lo.max(hs), hi.min(he));
        let mut p = Placement { path: pr_path, side: a.side.into(), start, end, suggestion: None };
        if let Some(fix) = f.fix.as_ref().filter(|fix| a.side == Side::Head && fix.path == a.path) {
            let fix_inside = fix.start_line <= fix.end_line && hs <= fix.start_line && fix.end_line <= he;
            if fix_inside && fix.replacement.chars().count() <= MAX_FIX_CHARS {
                let within_anchor = start <= fix.start_line && fix.end_line <= end;
                let head_lines = review.head_sources.get(&fix.path).map(|t| t.lines()).filter(|_| !within_anchor);
                // Lines the spanning suggestion would repeat unchanged (the anchor's and those in between).
                let kept = {
                    let (us, ue) = (start.min(fix.start_line), end.max(fix.end_line));
                    (ue + 1 - us).saturating_sub(fix.end_line + 1 - fix.start_line)
                };
                let spanned_chars = |lines: &[&str]| -> usize {
                    let (us, ue) = (start.min(fix.start_line), end.max(fix.end_line));
                    lines[us - 1..ue].iter().map(|l| l.chars().count() + 1).sum::<usize>()
                        + fix.replacement.chars().count()
                };
                match head_lines {
                    // Span the anchor and the fix, keeping the anchor lines the fix does not replace; only when
                    // they are near each other (a fix far below its finding would repeat the whole stretch).
                    Some(lines)
                        if fix.end_line <= lines.len()
                            && kept <= MAX_SUGGESTION_CONTEXT_LINES
                            && spanned_chars(&lines) <= MAX_FIX_CHARS =>
                    {
                        let (us, ue) = (start.min(fix.start_line), end.max(fix.end_line));
                        let mut text: Vec<&str> = lines[us - 1..fix.start_line - 1].to_vec();
                        if !(fix.replacement.is_empty()) {
                            text.extend(fix.replacement.split('\n'));
                        }
                        text.extend_from_slice(&lines[fix.end_line..ue]);
                        p.start = us;
                        p.end = ue;
                        p.suggestion = Some(text.join("\n"));
                    }
                    // The fix replaces introducing lines, lies far from them, or the file's text is missing:
                    // the comment sits on exactly the fix's lines.
                    _ => {
                        p.start = fix.start_line;
                        p.end = fix.end_line;
                        p.suggestion = Some(fix.replacement.clone());
                    }
                }
                return Some(p);
            }
        }
        if first.is_none() {
            first = Some(p);
        }
    }
    first
}

/// The shortest backtick fence longer than any backtick run in `text` (at least three).
pub fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn planned_comment(
    members: &[&Finding],
    fps: &[String],
    p: &Placement,
    review: &Review,
    opts: &ComposeOptions,
) -> PlannedComment {
    let (f, fp) = (members[0], fps[0].as_str());
    let (body, section) = if members.len() > 1 {
        (group_comment_body(members, fps, p, review, opts), group_body_section(members, p, review, opts))
    } else {
        (comment_body(f, fp, p, review, opts), body_section(f, p, review, opts))
    };
    let body = truncate_body(body);
    let multi = p.start < p.end;
    PlannedComment {
        fingerprint: fp.to_string(),
        members: fps.to_vec(),
        code: f.code,
        severity: f.severity,
        comment: DraftComment {
            path: p.path.clone(),
            body,
            line: p.end,
            side: p.side,
            start_line: multi.then_some(p.start),
            start_side: multi.then_some(p.side),
        },
        body_section: section,
    }
}

/// The heading line: code, severity, rule title.
fn heading(f: &Finding) -> String {
    match crate::rules::rule(f.code) {
        Some(r) => format!("**{}** ({}): {}", f.code, f.severity, r.title),
        None => format!("**{}** ({})", f.code, f.severity),
    }
}

fn docs_link(f: &Finding, opts: &ComposeOptions) -> String {
    format!("[{} documentation]({})", f.code, crate::report::rule_url(&opts.docs_base, f.code))
}

/// `This finding is caused by deleting `a.yaml`: the deletion is the cause.` for findings whose changed lines are a
/// deleted file (empty otherwise).
fn deletion_note(members: &[&Finding], review: &Review) -> String {
    let causes: Vec<String> =
        members.iter().filter_map(|f| crate::report::markdown::deletion_cause(review, f)).collect();
    match causes.first() {
        Some(cause) => format!("\nThis finding is {cause}: the deletion is the cause.\n"),
        None => String::new(),
    }
}

fn comment_body(f: &Finding, fp: &str, p: &Placement, review: &Review, opts: &ComposeOptions) -> String {
    let mut s = marker("finding", &[("fp", fp), ("run", &opts.nonce)]);
    s.push('\n');
    s.push_str(&heading(f));
    s.push_str("\n\n");
    if review.meshes.len() > 1 && !f.meshes.is_empty() {
        let word = if f.meshes.len() == 1 { "Mesh" } else { "Meshes" };
        let names: Vec<String> = f.meshes.iter().map(|m| format!("`{m}`")).collect();
        s.push_str(&format!("{word}: {}\n\n", names.join(", ")));
    }
    s.push_str(f.message.trim());
    s.push('\n');
    s.push_str(&deletion_note(&[f], review));
    if let Some(help) = f.help.as_deref().filter(|h| !h.trim().is_empty()) {
        s.push('\n');
        s.push_str(help.trim());
        s.push('\n');
    }
    push_fix(&mut s, p.suggestion.as_deref(), f, review);
    s.push('\n');
    s.push_str(&docs_link(f, opts));
    s.push('\n');
    s
}

/// The fix as a unified diff with where to put it (when a suggestion is not possible).
fn fix_as_diff(f: &Finding, review: &Review) -> String {
    match &f.fix {
        Some(fix) => fix_diff(fix, review),
        None => String::new(),
    }
}

/// A fix as a unified diff of the head commit, with where to put it.
fn fix_diff(fix: &crate::finding::Fix, review: &Review) -> String {
    let new: Vec<&str> = if fix.replacement.is_empty() { Vec::new() } else { fix.replacement.split('\n').collect() };
    let old: Option<Vec<&str>> = review.head_sources.get(&fix.path).map(|t| t.lines()).and_then(|lines| {
        if fix.start_line > fix.end_line {
            Some(Vec::new())
        } else {
            lines.get(fix.start_line.saturating_sub(1)..fix.end_line).map(<[&str]>::to_vec)
        }
    });
    let lines = if fix.start_line == fix.end_line {
        format!("line {}", fix.start_line)
    } else {
        format!("lines {}-{}", fix.start_line, fix.end_line)
    };
    let mut patch = String::new();
    if let Some(old) = &old {
        patch.push_str(&format!("--- a/{p}\n+++ b/{p}\n", p = fix.path));
        patch.push_str(&format!("@@ -{},{} +{},{} @@\n", fix.start_line, old.len(), fix.start_line, new.len()));
        for l in old {
            patch.push('-');
            patch.push_str(l);
            patch.push('\n');
        }
    }
    for l in &new {
        patch.push('+');
        patch.push_str(l);
        patch.push('\n');
    }
    let where_ = if old.is_some() {
        format!("in `{}`, {lines} of the head commit", fix.path)
    } else {
        format!("replace {lines} of `{}` (head commit) with the `+` lines", fix.path)
    };
    if patch.chars().count() > MAX_FIX_CHARS {
        return format!(
            "\n**Fix:** {}: {where_}. The patch ({} lines) is too long for a comment: it is in the SARIF file (`sarif` output) as a fix.\n",
            fix.description,
            patch.lines().count()
        );
    }
    let fence = fence(&patch);
    format!("\n**Fix:** {}: {where_}\n{fence}diff\n{patch}{fence}\n", fix.description)
}

/// The lines of a group's comment that list its findings, the worst first: code, severity, rule title, object.
fn group_list(members: &[&Finding]) -> String {
    let mut s = String::new();
    for f in members {
        let title = crate::rules::rule(f.code).map(|r| r.title).filter(|t| !t.is_empty());
        match title {
            Some(t) => s.push_str(&format!("- **{}** ({}): {t} · `{}`\n", f.code, f.severity, f.object)),
            None => s.push_str(&format!("- **{}** ({}) · `{}`\n", f.code, f.severity, f.object)),
        }
    }
    s
}

/// The group's help (the worst finding's, which says what its fix resolves) without its `alternatively:` lines,
/// and those lines as the list of alternatives (the review verified each; none is a second suggestion).
fn group_help_and_alternatives(members: &[&Finding]) -> (String, String) {
    let mut help: Vec<&str> = Vec::new();
    let mut alts = String::new();
    for line in members[0].help.iter().flat_map(|h| h.lines()) {
        match line.strip_prefix("alternatively: ") {
            Some(d) => alts.push_str(&format!("- {}\n", d.trim())),
            None if !line.trim().is_empty() => help.push(line),
            None => {}
        }
    }
    let alts =
        if alts.is_empty() { alts } else { format!("\n**Alternatives** (not part of the suggestion):\n\n{alts}") };
    (help.join("\n"), alts)
}

/// The details of each finding of a group (their full messages, other help), collapsed.
fn group_details(members: &[&Finding]) -> String {
    let mut s = String::from("\n<details><summary>What each finding says</summary>\n\n");
    for (i, f) in members.iter().enumerate() {
        s.push_str(&format!("**{}**: {}\n", f.code, f.message.trim()));
        if i > 0 {
            for line in f.help.iter().flat_map(|h| h.lines()).filter(|l| !l.starts_with("alternatively: ")) {
                if !line.trim().is_empty() {
                    s.push_str(&format!("{}\n", line.trim()));
                }
            }
        }
        s.push('\n');
    }
    s.push_str("</details>\n");
    s
}

fn group_docs_links(members: &[&Finding], opts: &ComposeOptions) -> String {
    let mut codes: Vec<&str> = Vec::new();
    for f in members {
        if !codes.contains(&f.code) {
            codes.push(f.code);
        }
    }
    let links: Vec<String> =
        codes.iter().map(|c| format!("[{c}]({})", crate::report::rule_url(&opts.docs_base, c))).collect();
    format!("Documentation: {}\n", links.join(" · "))
}

/// One inline comment for a cause group: its findings as one line each (the worst first), their details
/// collapsed, the one suggestion (the worst finding's fix, verified for the group) and the alternatives as text.
fn group_comment_body(
    members: &[&Finding],
    fps: &[String],
    p: &Placement,
    review: &Review,
    opts: &ComposeOptions,
) -> String {
    let lead = members[0];
    let group = lead.group.clone().unwrap_or_default();
    let all = fps.join(",");
    let mut fields = vec![("fp", fps[0].as_str()), ("fps", all.as_str())];
    if !group.is_empty() {
        fields.push(("group", group.as_str()));
    }
    fields.push(("run", opts.nonce.as_str()));
    let mut s = marker("finding", &fields);
    s.push('\n');
    s.push_str(&format!("**{} findings on these lines, from one change**\n\n", members.len()));
    s.push_str(&group_list(members));
    s.push_str(&deletion_note(members, review).replace("This finding is", "These findings are"));
    let mut meshes: Vec<&str> = Vec::new();
    for m in members.iter().flat_map(|f| f.meshes.iter()) {
        if !meshes.contains(&m.as_str()) {
            meshes.push(m);
        }
    }
    if review.meshes.len() > 1 && !meshes.is_empty() {
        let word = if meshes.len() == 1 { "Mesh" } else { "Meshes" };
        let names: Vec<String> = meshes.iter().map(|m| format!("`{m}`")).collect();
        s.push_str(&format!("\n{word}: {}\n", names.join(", ")));
    }
    s.push_str(&group_details(members));
    let (help, alts) = group_help_and_alternatives(members);
    if !help.is_empty() {
        s.push('\n');
        s.push_str(help.trim());
        s.push('\n');
    }
    push_fix(&mut s, p.suggestion.as_deref(), lead, review);
    s.push_str(&alts);
    s.push('\n');
    s.push_str(&group_docs_links(members, opts));
    s
}

/// The review-body section for a cause group that could not be inline.
fn group_body_section(members: &[&Finding], p: &Placement, review: &Review, opts: &ComposeOptions) -> String {
    let lines = if p.start < p.end { format!("lines {}-{}", p.start, p.end) } else { format!("line {}", p.end) };
    let side = if p.side == ApiSide::Left { " (deleted)" } else { "" };
    let mut s = format!("#### {} findings on `{}` {lines}{side}, from one change\n\n", members.len(), p.path);
    s.push_str(&group_list(members));
    s.push_str(&deletion_note(members, review).replace("This finding is", "These findings are"));
    let (help, alts) = group_help_and_alternatives(members);
    if !help.is_empty() {
        s.push('\n');
        s.push_str(help.trim());
        s.push('\n');
    }
    s.push_str(&fix_as_diff(members[0], review));
    s.push_str(&alts);
    s.push('\n');
    s.push_str(&group_docs_links(members, opts));
    s
}

/// The review-body section for a finding that could not be inline.
fn body_section(f: &Finding, p: &Placement, review: &Review, opts: &ComposeOptions) -> String {
    let lines = if p.start < p.end { format!("lines {}-{}", p.start, p.end) } else { format!("line {}", p.end) };
    let side = if p.side == ApiSide::Left { " (deleted)" } else { "" };
    let mut s = format!("#### {} `{}` {lines}{side}\n\n{}\n", heading(f), p.path, f.message.trim());
    s.push_str(&deletion_note(&[f], review));
    if f.fix.is_some() {
        s.push_str(&fix_as_diff(f, review));
    }
    s.push('\n');
    s.push_str(&docs_link(f, opts));
    s.push('\n');
    s
}

/// The finding's fix: a suggestion block when the comment can carry one (`suggestion`), else the fix as a diff.
fn push_fix(s: &mut String, suggestion: Option<&str>, f: &Finding, review: &Review) {
    match (suggestion, &f.fix) {
        (Some(text), Some(fix)) => {
            let fence = fence(text);
            s.push_str(&format!("\n**Fix:** {}\n{fence}suggestion\n", fix.description));
            if !text.is_empty() {
                s.push_str(text);
                s.push('\n');
            }
            s.push_str(&fence);
            s.push('\n');
        }
        (_, Some(_)) => s.push_str(&fix_as_diff(f, review)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Anchor, Fix, Location, ObjectRef};
    use crate::manifest::SourceText;
    use crate::review::{FileChange, Hunk, PostureChange, ReviewError};
    use crate::settings::MeshSettings;
    use std::sync::Arc;

    const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

    /// The Actions token's account, as the API lists it.
    fn bot() -> Option<Author> {
        Some(Author { login: "github-actions[bot]".into(), id: Some(41_898_282) })
    }

    fn person() -> Option<Author> {
        Some(Author { login: "octocat".into(), id: Some(1) })
    }

    fn me() -> Option<Identity> {
        Some(Identity::actions_bot())
    }

    fn finding(code: &'static str, name: &str, severity: Severity, anchor: Option<Anchor>) -> Finding {
        Finding {
            code,
            severity,
            status: Status::Introduced,
            message: format!("{code} on {name}: clients send ISTIO_MUTUAL but the servers accept only plaintext"),
            object: ObjectRef { kind: "DestinationRule".into(), namespace: "shop".into(), name: name.into() },
            port: None,
            location: Location { side: Side::Head, path: "shop/dr.yaml".into(), line: 1, end_line: 9 },
            related: Vec::new(),
            fix: None,
            help: None,
            anchors: anchor.map(|a| vec![a]),
            meshes: Vec::new(),
            targets: Vec::new(),
            group: None,
        }
    }

    fn head_anchor(path: &str, line: usize, end_line: usize) -> Anchor {
        Anchor { side: Side::Head, path: path.into(), line, end_line }
    }

    fn review(findings: Vec<Finding>) -> Review {
        Review {
            findings,
            errors: Vec::new(),
            settings: MeshSettings::default(),
            base: "base".into(),
            head: HEAD.into(),
            changes: vec![
                FileChange {
                    head_path: Some("shop/dr.yaml".into()),
                    base_path: Some("shop/dr.yaml".into()),
                    hunks: vec![Hunk { base_start: 5, base_lines: 7, head_start: 5, head_lines: 8 }],
                    added: vec![(8, 9)],
                    deleted: vec![(8, 8)],
                },
                FileChange {
                    head_path: None,
                    base_path: Some("shop/pa.yaml".into()),
                    hunks: vec![Hunk { base_start: 1, base_lines: 8, head_start: 0, head_lines: 0 }],
                    added: Vec::new(),
                    deleted: vec![(1, 8)],
                },
            ],
            config_changed: false,
            connectivity: Vec::new(),
            posture: PostureChange::default(),
            diff: true,
            head_sources: BTreeMap::from([(
                "shop/dr.yaml".to_string(),
                Arc::new(SourceText::new("shop/dr.yaml", DR, false, false)),
            )]),
            base_sources: BTreeMap::new(),
            meshes: Vec::new(),
        }
    }

    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";

    fn opts() -> ComposeOptions {
        ComposeOptions {
            head_sha: HEAD.into(),
            event: ReviewEvent::Comment,
            nonce: "run1".into(),
            summary: "## mtls-review\n\nsummary".into(),
            max_inline: DEFAULT_MAX_INLINE,
            docs_base: "https://example.test/docs/rules".into(),
            fail_on: FailOn::Error,
        }
    }

    #[test]
    fn markers_round_trip() {
        let m = marker("finding", &[("fp", "00ff"), ("run", "r-1")]);
        assert_eq!(m, "<!-- mtls-review:finding fp=00ff run=r-1 -->");
        let p = parse_marker(&format!("text\n{m}\nmore")).unwrap();
        assert_eq!((p.kind.as_str(), p.get("fp"), p.get("run")), ("finding", Some("00ff"), Some("r-1")));
        assert_eq!(parse_marker("<!-- other -->"), None);
    }

    #[test]
    fn fence_is_longer_than_any_backtick_run() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b ` c"), "`````");
    }

    #[test]
    fn right_side_anchor_with_fix_in_hunk_gets_a_suggestion_spanning_anchor_and_fix() {
        let mut f = finding("TIS0206", "d", Severity::Error, Some(head_anchor("shop/dr.yaml", 7, 7)));
        f.fix = Some(Fix {
            description: "set the mode to DISABLE".into(),
            path: "shop/dr.yaml".into(),
            start_line: 10,
            end_line: 10,
            replacement: "      mode: DISABLE".into(),
        });
        let r = review(vec![f.clone()]);
        let plan = compose(&r, &Existing::default(), &opts());
        let draft = plan.review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!((c.line, c.start_line, c.side, c.start_side), (10, Some(7), ApiSide::Right, Some(ApiSide::Right)));
        insta::assert_snapshot!(c.body, @r#"
        <!-- mtls-review:finding fp=a58037439a8d69ed run=run1 -->
        **TIS0206** (error): Missing PeerAuthentication for namespace-wide mTLS

        TIS0206 on d: clients send ISTIO_MUTUAL but the servers accept only plaintext

        **Fix:** set the mode to DISABLE
        ```suggestion
          host: "*.shop.svc.cluster.local"
          trafficPolicy:
            tls:
              mode: DISABLE
        ```

        [TIS0206 documentation](https://example.test/docs/rules/TIS0206.md)
        "#);
    }

    #[test]
    fn a_fix_within_the_anchor_is_suggested_on_its_own_lines() {
        let mut f = finding("TIS0206", "d", Severity::Error, Some(head_anchor("shop/dr.yaml", 5, 12)));
        f.fix = Some(Fix {
            description: "append a PeerAuthentication".into(),
            path: "shop/dr.yaml".into(),
            start_line: 10,
            end_line: 10,
            replacement: "      mode: ISTIO_MUTUAL\n---\nkind: PeerAuthentication".into(),
        });
        let draft = compose(&review(vec![f]), &Existing::default(), &opts()).review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!((c.line, c.start_line), (10, None));
        assert!(
            c.body.contains("```suggestion\n      mode: ISTIO_MUTUAL\n---\nkind: PeerAuthentication\n```\n"),
            "{}",
            c.body
        );
    }

    #[test]
    fn fix_outside_the_hunk_becomes_a_diff_block_with_its_place() {
        let mut f = finding("TIS0206", "d", Severity::Warning, Some(head_anchor("shop/dr.yaml", 8, 9)));
        f.fix = Some(Fix {
            description: "add a namespace-wide PeerAuthentication".into(),
            path: "shop/dr.yaml".into(),
            start_line: 3,
            end_line: 4,
            replacement: "metadata:\n  name: d\n---\nkind: PeerAuthentication".into(),
        });
        f.help = Some("Use ``` fences ```` carefully".into());
        let r = review(vec![f]);
        let draft = compose(&r, &Existing::default(), &opts()).review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!((c.line, c.start_line), (9, Some(8)));
        insta::assert_snapshot!(c.body, @r"
        <!-- mtls-review:finding fp=a58037439a8d69ed run=run1 -->
        **TIS0206** (warning): Missing PeerAuthentication for namespace-wide mTLS

        TIS0206 on d: clients send ISTIO_MUTUAL but the servers accept only plaintext

        Use ``` fences ```` carefully

        **Fix:** add a namespace-wide PeerAuthentication: in `shop/dr.yaml`, lines 3-4 of the head commit
        ```diff
        --- a/shop/dr.yaml
        +++ b/shop/dr.yaml
        @@ -3,2 +3,4 @@
        -metadata:
        -  name: d
        +metadata:
        +  name: d
        +---
        +kind: PeerAuthentication
        ```

        [TIS0206 documentation](https://example.test/docs/rules/TIS0206.md)
        ");
    }

    #[test]
    fn deleted_object_is_a_left_comment_on_the_files_pr_path() {
        let f = finding(
            "TIS0503",
            "default",
            Severity::Error,
            Some(Anchor { side: Side::Base, path: "shop/pa.yaml".into(), line: 1, end_line: 8 }),
        );
        let draft = compose(&review(vec![f]), &Existing::default(), &opts()).review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!(
            (c.path.as_str(), c.line, c.side, c.start_line, c.start_side),
            ("shop/pa.yaml", 8, ApiSide::Left, Some(1), Some(ApiSide::Left))
        );
        assert!(!c.body.contains("suggestion"));
        assert!(c.body.contains("caused by deleting `shop/pa.yaml`: the deletion is the cause"), "{}", c.body);
        // In the review body (beyond the cap, or refused), the deletion is named as the cause.
        assert!(
            draft.inline[0].body_section.contains("caused by deleting `shop/pa.yaml`: the deletion is the cause"),
            "{}",
            draft.inline[0].body_section
        );
    }

    #[test]
    fn anchor_outside_hunks_goes_to_the_summary_only() {
        let f = finding("TIS0206", "far", Severity::Error, Some(head_anchor("shop/dr.yaml", 40, 40)));
        let fp = f.fingerprint();
        let plan = compose(&review(vec![f]), &Existing::default(), &opts());
        let draft = plan.review.unwrap();
        assert!(draft.inline.is_empty());
        assert!(draft.said.contains(&fp));
        assert!(draft.body().starts_with(&format!("<!-- mtls-review:review run=run1 head={HEAD} said={fp} -->\n")));
    }

    #[test]
    fn cap_moves_the_rest_to_the_body_and_keeps_errors_inline() {
        let mut fs = Vec::new();
        for i in 0..35 {
            let sev = if i < 5 { Severity::Warning } else { Severity::Error };
            fs.push(finding("TIS0206", &format!("d{i}"), sev, Some(head_anchor("shop/dr.yaml", 8, 8))));
        }
        let draft = compose(&review(fs), &Existing::default(), &opts()).review.unwrap();
        assert_eq!(draft.inline.len(), 30);
        assert!(draft.inline.iter().all(|c| c.severity == Severity::Error));
        assert_eq!(draft.in_body.len(), 5);
        assert_eq!(draft.said.len(), 5);
        let body = draft.body();
        assert!(body.contains("### More findings on changed lines"));
        assert_eq!(body.matches("#### **TIS0206** (warning)").count(), 5);
    }

    #[test]
    fn rerun_is_quiet_and_resolved_comments_are_deleted_or_answered() {
        let kept = finding("TIS0206", "d", Severity::Error, Some(head_anchor("shop/dr.yaml", 8, 9)));
        let gone = finding("TIS0206", "gone", Severity::Error, None);
        let replied = finding("TIS0206", "replied", Severity::Error, None);
        let ours = |id, f: &Finding, line| ExistingComment {
            id,
            path: "shop/dr.yaml".into(),
            line: Some(line),
            start_line: Some(8),
            side: Some(ApiSide::Right),
            in_reply_to_id: None,
            body: format!("{}\nold", marker("finding", &[("fp", &f.fingerprint()), ("run", "run0")])),
            user: bot(),
            ..ExistingComment::default()
        };
        let existing = Existing {
            me: me(),
            comments: vec![
                ours(1, &kept, 9),
                ours(2, &gone, 9),
                ours(3, &replied, 9),
                ExistingComment {
                    id: 4,
                    path: "shop/dr.yaml".into(),
                    line: Some(9),
                    start_line: None,
                    side: Some(ApiSide::Right),
                    in_reply_to_id: Some(3),
                    body: "Why is this a problem?".into(),
                    user: person(),
                    ..ExistingComment::default()
                },
            ],
            reviews: Vec::new(),
        };
        let plan = compose(&review(vec![kept]), &existing, &opts());
        assert_eq!(plan.review, None, "nothing new to say");
        assert_eq!(plan.already_commented, 1);
        assert_eq!(plan.deletions, vec![2]);
        assert_eq!(plan.replies.len(), 1);
        assert_eq!(plan.replies[0].comment_id, 3);
        assert!(plan.replies[0].body.ends_with(&format!("Resolved in {HEAD}.\n")));

        // Answered once: the next run leaves the thread alone.
        let mut existing = existing;
        existing.comments.push(ExistingComment {
            id: 5,
            in_reply_to_id: Some(3),
            body: plan.replies[0].body.clone(),
            user: bot(),
            ..existing.comments[3].clone()
        });
        existing.comments.remove(1);
        let again = compose(
            &review(vec![finding("TIS0206", "d", Severity::Error, Some(head_anchor("shop/dr.yaml", 8, 9)))]),
            &existing,
            &opts(),
        );
        assert_eq!((again.deletions.len(), again.replies.len()), (0, 0));
    }

    #[test]
    fn moved_comment_is_reposted_and_the_old_one_deleted() {
        let f = finding("TIS0206", "d", Severity::Error, Some(head_anchor("shop/dr.yaml", 8, 9)));
        let old = ExistingComment {
            id: 7,
            path: "shop/dr.yaml".into(),
            line: None,
            start_line: None,
            side: Some(ApiSide::Right),
            in_reply_to_id: None,
            body: marker("finding", &[("fp", &f.fingerprint())]),
            user: bot(),
            ..ExistingComment::default()
        };
        let plan = compose(
            &review(vec![f.clone()]),
            &Existing { comments: vec![old.clone()], reviews: Vec::new(), me: me() },
            &opts(),
        );
        assert_eq!(plan.review.unwrap().inline.len(), 1);
        assert_eq!(plan.deletions, vec![7]);

        // An answer without `line` for a comment made on this very head (a re-run) still counts as in place.
        let same_head = ExistingComment {
            original_commit_id: Some(HEAD.into()),
            original_line: Some(9),
            original_start_line: Some(8),
            ..old
        };
        let plan =
            compose(&review(vec![f]), &Existing { comments: vec![same_head], reviews: Vec::new(), me: me() }, &opts());
        assert_eq!((plan.review, plan.already_commented, plan.deletions.len()), (None, 1, 0));
    }

    #[test]
    fn body_findings_of_an_earlier_review_are_not_repeated_and_errors_count_once() {
        let f = finding("TIS0206", "far", Severity::Error, None);
        let mut r = review(vec![f.clone()]);
        r.errors.push(ReviewError {
            error: crate::finding::LoadError {
                path: "shop/bad.yaml".into(),
                line: 3,
                message: "bad".into(),
                kind: crate::finding::ErrorKind::Parse,
            },
            introduced: true,
        });
        let first = compose(&r, &Existing::default(), &opts()).review.unwrap();
        assert_eq!(first.said.len(), 2);
        // On another head (else it would be this head's review, and no second one is posted anyway).
        let earlier_body = first.body().replace(HEAD, "0123abc");
        let earlier =
            ExistingReview { id: 1, body: Some(earlier_body.clone()), state: "COMMENTED".into(), user: bot() };
        let plan = compose(&r, &Existing { comments: Vec::new(), reviews: vec![earlier], me: me() }, &opts());
        assert_eq!((plan.review, plan.already_reviewed), (None, None));
        // The same body written by someone else says nothing for us.
        let pasted = ExistingReview { id: 2, body: Some(earlier_body), state: "COMMENTED".into(), user: person() };
        let plan = compose(&r, &Existing { comments: Vec::new(), reviews: vec![pasted], me: me() }, &opts());
        assert_eq!(plan.review.unwrap().said.len(), 2);
    }

    #[test]
    fn changes_requested_reviews_are_dismissed_once_nothing_fails() {
        let ours = ExistingReview {
            id: 80,
            body: Some(marker("review", &[("run", "r0"), ("head", "abc")])),
            state: "CHANGES_REQUESTED".into(),
            user: bot(),
        };
        let theirs = ExistingReview {
            id: 81,
            body: Some("please fix".into()),
            state: "CHANGES_REQUESTED".into(),
            user: person(),
        };
        // A person's blocking review that quotes our marker is still theirs.
        let quoting = ExistingReview { id: 82, user: person(), ..ours.clone() };
        let existing = Existing { comments: Vec::new(), reviews: vec![ours, theirs, quoting], me: me() };
        assert_eq!(compose(&review(Vec::new()), &existing, &opts()).dismissals, vec![80]);
        let failing = finding("TIS0206", "d", Severity::Error, None);
        assert!(compose(&review(vec![failing]), &existing, &opts()).dismissals.is_empty());
    }

    #[test]
    fn refused_comments_move_to_the_body() {
        let a = finding("TIS0206", "a", Severity::Error, Some(head_anchor("shop/dr.yaml", 8, 8)));
        let b = finding("TIS0206", "b", Severity::Error, Some(head_anchor("shop/dr.yaml", 9, 9)));
        let mut draft = compose(&review(vec![a, b]), &Existing::default(), &opts()).review.unwrap();
        draft.move_to_body(&BTreeSet::from([1]));
        let req = draft.request();
        assert_eq!(req.comments.len(), 1);
        assert!(req.body.contains("### Findings GitHub would not place on the diff"));
        assert!(req.body.contains("`shop/dr.yaml` line 9"));
    }

    #[test]
    fn long_bodies_are_cut_to_the_limit() {
        let mut o = opts();
        o.summary = "x".repeat(MAX_BODY_CHARS + 10);
        let f = finding("TIS0206", "far", Severity::Error, None);
        let body = compose(&review(vec![f]), &Existing::default(), &o).review.unwrap().body();
        assert_eq!(body.chars().count(), MAX_BODY_CHARS);
        assert!(body.starts_with(MARKER_OPEN));
    }

    #[test]
    fn only_our_identity_with_our_marker_is_ours() {
        let gone = finding("TIS0206", "gone", Severity::Error, None);
        let fp = gone.fingerprint();
        let with_marker = |id, user| ExistingComment {
            id,
            path: "shop/dr.yaml".into(),
            line: Some(9),
            side: Some(ApiSide::Right),
            body: format!("{}\nquoted", marker("finding", &[("fp", &fp)])),
            user,
            ..ExistingComment::default()
        };
        let existing = Existing {
            // A person pasting our marker; a comment whose author is gone (`user: null`); ours.
            comments: vec![with_marker(1, person()), with_marker(2, None), with_marker(3, bot())],
            reviews: Vec::new(),
            me: me(),
        };
        assert_eq!(compose(&review(Vec::new()), &existing, &opts()).deletions, vec![3]);
        // Without an identity nothing is ours.
        let unknown = Existing { me: None, ..existing.clone() };
        assert!(compose(&review(Vec::new()), &unknown, &opts()).deletions.is_empty());
        // A token of a person: matched by id, not by a login someone may have renamed to.
        let pat = Identity { login: "octocat".into(), id: Some(1) };
        let as_person = Existing { me: Some(pat), ..existing };
        assert_eq!(compose(&review(Vec::new()), &as_person, &opts()).deletions, vec![1]);
    }

    #[test]
    fn a_pasted_resolved_marker_is_a_persons_reply_and_gets_our_answer() {
        let gone = finding("TIS0206", "gone", Severity::Error, None);
        let ours = ExistingComment {
            id: 1,
            path: "shop/dr.yaml".into(),
            line: Some(9),
            side: Some(ApiSide::Right),
            body: marker("finding", &[("fp", &gone.fingerprint())]),
            user: bot(),
            ..ExistingComment::default()
        };
        let reply = ExistingComment {
            id: 2,
            in_reply_to_id: Some(1),
            body: resolved_reply(&gone.fingerprint(), HEAD, false),
            user: person(),
            ..ours.clone()
        };
        let plan = compose(
            &review(Vec::new()),
            &Existing { comments: vec![ours, reply], reviews: Vec::new(), me: me() },
            &opts(),
        );
        assert!(plan.deletions.is_empty(), "a comment with a person's reply stays");
        assert_eq!(plan.replies.iter().map(|r| r.comment_id).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn the_review_event_follows_fail_on_and_one_review_per_head() {
        let warning = finding("TIS0206", "w", Severity::Warning, Some(head_anchor("shop/dr.yaml", 8, 8)));
        let error = finding("TIS0206", "e", Severity::Error, Some(head_anchor("shop/dr.yaml", 9, 9)));
        let o = ComposeOptions { event: ReviewEvent::RequestChanges, ..opts() };
        let event = |r: &Review| compose(r, &Existing::default(), &o).review.unwrap().event;
        assert_eq!(event(&review(vec![warning.clone()])), ReviewEvent::Comment);
        assert_eq!(event(&review(vec![warning.clone(), error])), ReviewEvent::RequestChanges);
        let o_warn = ComposeOptions { fail_on: FailOn::Warning, ..o.clone() };
        let draft = compose(&review(vec![warning.clone()]), &Existing::default(), &o_warn).review.unwrap();
        assert_eq!(draft.event, ReviewEvent::RequestChanges);

        // Our review of this head exists (even one that said something else): no second review.
        let this_head = ExistingReview {
            id: 9,
            body: Some(marker("review", &[("run", "r0"), ("head", HEAD)])),
            state: "COMMENTED".into(),
            user: bot(),
        };
        let existing = Existing { comments: Vec::new(), reviews: vec![this_head.clone()], me: me() };
        let plan = compose(&review(vec![warning.clone()]), &existing, &o);
        assert_eq!((plan.review, plan.already_reviewed), (None, Some(9)));
        // A person's review with our head marker does not count.
        let theirs = Existing { reviews: vec![ExistingReview { user: person(), ..this_head }], ..existing };
        assert!(compose(&review(vec![warning]), &theirs, &o).review.is_some());
    }

    /// A generated file (one hunk of 4000 added lines): the finding at the top, its fix near the bottom.
    fn far_fix_review(replacement: &str) -> Review {
        let mut text = String::from("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n");
        for i in 3..=4000 {
            text.push_str(&format!("    key{i}: a value that makes each line about forty characters long\n"));
        }
        let mut f = finding("TIS0206", "d", Severity::Error, Some(head_anchor("gen/out.yaml", 2, 2)));
        f.fix = Some(Fix {
            description: "set the mode".into(),
            path: "gen/out.yaml".into(),
            start_line: 3900,
            end_line: 3900,
            replacement: replacement.into(),
        });
        let mut r = review(vec![f]);
        r.changes = vec![FileChange {
            head_path: Some("gen/out.yaml".into()),
            base_path: None,
            hunks: vec![Hunk { base_start: 0, base_lines: 0, head_start: 1, head_lines: 4000 }],
            added: vec![(1, 4000)],
            deleted: Vec::new(),
        }];
        r.head_sources = BTreeMap::from([(
            "gen/out.yaml".to_string(),
            Arc::new(SourceText::new("gen/out.yaml", text, false, false)),
        )]);
        r
    }

    #[test]
    fn a_fix_far_from_its_finding_is_suggested_on_its_own_lines() {
        let draft = compose(&far_fix_review("      mode: DISABLE"), &Existing::default(), &opts()).review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!((c.line, c.start_line), (3900, None));
        assert!(c.body.contains("```suggestion\n      mode: DISABLE\n```"), "{}", c.body);
        assert!(c.body.chars().count() < 2_000, "{}", c.body.chars().count());

        // A replacement too long for any comment is described, and the comment stays on the finding.
        let huge = "      x: y\n".repeat(8_000);
        let draft = compose(&far_fix_review(huge.trim_end()), &Existing::default(), &opts()).review.unwrap();
        let c = &draft.inline[0].comment;
        assert_eq!(c.line, 2);
        assert!(!c.body.contains("```suggestion"));
        assert!(c.body.contains("too long for a comment"), "{}", c.body);
        assert!(c.body.chars().count() <= MAX_BODY_CHARS);
        assert!(draft.body().chars().count() <= MAX_BODY_CHARS);
    }
}
