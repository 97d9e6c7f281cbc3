//! Grouping by cause, end to end on real analysis: the findings one change introduces on the same lines are one
//! group with one fix verified for all of them, and one inline comment on the pull request; re-runs recognise
//! their own group comments and the per-finding comments of earlier versions.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use mtls_review::finding::{Finding, Status};
use mtls_review::github::compose::{
    ComposeOptions, DEFAULT_MAX_INLINE, Existing, ExistingComment, Identity, Plan, compose, marker,
};
use mtls_review::github::env::ReviewEvent;
use mtls_review::review::build::detect_renames;
use mtls_review::review::{Review, ReviewInput, TreeFile, review};
use mtls_review::settings::{AnalysisOptions, FailOn};
use std::sync::Arc;

const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";

/// A namespace-wide STRICT PeerAuthentication and a namespace-wide ISTIO_MUTUAL DestinationRule in one file.
const SHOP: &str = "apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: shop
spec:
  mtls:
    mode: STRICT
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: default
  namespace: shop
spec:
  host: \"*.shop.svc.cluster.local\"
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
";

fn tree(files: &[(&str, &str)]) -> Vec<TreeFile> {
    files
        .iter()
        .map(|(p, t)| TreeFile {
            path: p.to_string(),
            id: mtls_review::finding::stable_hash(t),
            bytes: Arc::from(t.as_bytes()),
        })
        .collect()
}

fn change(base: &[(&str, &str)], head: &[(&str, &str)]) -> Review {
    let (base, head) = (tree(base), tree(head));
    let renames = detect_renames(&base, &head);
    let input = ReviewInput {
        base,
        head,
        renames,
        base_label: "base".into(),
        head_label: HEAD.into(),
        ..ReviewInput::default()
    };
    review(&input, &AnalysisOptions::default())
}

/// The `mode: DISABLE` edit of the issue: TIS0206, TIS0502 and MTLS003 on the same changed line.
fn disable_review() -> Review {
    change(&[("shop.yaml", SHOP)], &[("shop.yaml", &SHOP.replace("STRICT", "DISABLE"))])
}

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

fn me() -> Option<Identity> {
    Some(Identity::actions_bot())
}

fn bot() -> Option<mtls_review::github::compose::Author> {
    Some(mtls_review::github::compose::Author { login: Identity::ACTIONS_BOT.into(), id: None })
}

/// What GitHub lists after a review posted `plan`'s comments (ids from 100).
fn posted(plan: &Plan) -> Vec<ExistingComment> {
    let draft = plan.review.as_ref().unwrap();
    draft
        .inline
        .iter()
        .enumerate()
        .map(|(i, c)| ExistingComment {
            id: 100 + i as u64,
            path: c.comment.path.clone(),
            line: Some(c.comment.line),
            start_line: c.comment.start_line,
            side: Some(c.comment.side),
            body: c.comment.body.clone(),
            original_commit_id: Some(HEAD.into()),
            user: bot(),
            ..ExistingComment::default()
        })
        .collect()
}

fn introduced(r: &Review) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.status == Status::Introduced).collect()
}

#[test]
fn one_disable_edit_is_one_group_with_one_fix_that_resolves_all() {
    let r = disable_review();
    let found = introduced(&r);
    let codes: Vec<&str> = found.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["TIS0502", "TIS0206", "MTLS003"], "the worst first, then the report order");
    let group = found[0].group.clone().expect("grouped");
    assert!(found.iter().all(|f| f.group.as_deref() == Some(group.as_str())));
    // The one fix: the group's first finding carries it, and applying it clears every member (checked here
    // independently of the tool's own verification: apply, review again, nothing introduced).
    let fix = found[0].fix.clone().expect("a group fix");
    let fixed_text = mtls_review::fix::apply(&SHOP.replace("STRICT", "DISABLE"), false, &fix);
    let again = change(&[("shop.yaml", SHOP)], &[("shop.yaml", &fixed_text)]);
    assert!(introduced(&again).is_empty(), "{:?}", introduced(&again));
    assert!(found[0].help.as_deref().unwrap_or("").contains("also resolves TIS0206 and MTLS003"));
}

#[test]
fn the_grouped_inline_comment() {
    let r = disable_review();
    let plan = compose(&r, &Existing { me: me(), ..Existing::default() }, &opts());
    let draft = plan.review.as_ref().unwrap();
    assert_eq!(draft.inline.len(), 1, "one comment for the group");
    let c = &draft.inline[0];
    assert_eq!(c.members.len(), 3);
    assert_eq!(c.body_section.matches("**MTLS003**").count(), 1);
    insta::assert_snapshot!(
        "grouped_inline_comment",
        format!("{} line {}\n\n{}", c.comment.path, c.comment.line, c.comment.body)
    );
    // The body form (a comment beyond the cap or refused by GitHub).
    insta::assert_snapshot!("grouped_body_section", c.body_section);
}

#[test]
fn a_rerun_recognises_its_group_comment() {
    let r = disable_review();
    let first = compose(&r, &Existing { me: me(), ..Existing::default() }, &opts());
    let existing = Existing { comments: posted(&first), me: me(), ..Existing::default() };
    let second = compose(&r, &existing, &opts());
    assert!(second.review.is_none(), "nothing new: {:?}", second.review);
    assert!(second.deletions.is_empty());
    assert_eq!(second.already_commented, 1);
}

#[test]
fn earlier_per_finding_comments_are_recognised_and_not_repeated() {
    let r = disable_review();
    // What a version before grouping posted: one comment per finding, each where it alone would sit.
    let mut singles = r.clone();
    for f in &mut singles.findings {
        f.group = None;
    }
    let old = compose(&singles, &Existing { me: me(), ..Existing::default() }, &opts());
    assert_eq!(old.review.as_ref().unwrap().inline.len(), 3);
    let mut comments = posted(&old);
    // Their markers carried only `fp`.
    for c in &mut comments {
        let fp = mtls_review::github::compose::parse_marker(&c.body).unwrap().fields["fp"].clone();
        c.body = format!("{}\nold text", marker("finding", &[("fp", &fp), ("run", "run0")]));
    }
    let existing = Existing { comments, me: me(), ..Existing::default() };
    let plan = compose(&r, &existing, &opts());
    assert!(plan.review.is_none(), "no second comment for findings already commented");
    assert!(plan.deletions.is_empty());
}

#[test]
fn a_group_comment_whose_findings_are_all_fixed_is_deleted() {
    let r = disable_review();
    let first = compose(&r, &Existing { me: me(), ..Existing::default() }, &opts());
    let existing = Existing { comments: posted(&first), me: me(), ..Existing::default() };
    let fixed = change(&[("shop.yaml", SHOP)], &[("shop.yaml", SHOP)]);
    let plan = compose(&fixed, &existing, &opts());
    assert_eq!(plan.deletions, vec![100]);
}

#[test]
fn a_comment_for_part_of_a_group_is_replaced_by_the_group_comment() {
    let r = disable_review();
    let lead = introduced(&r)[0].fingerprint();
    let first = compose(&r, &Existing { me: me(), ..Existing::default() }, &opts());
    let mut comments = posted(&first);
    // An earlier comment at the same place that showed only the worst finding.
    comments[0].body = format!("{}\nold", marker("finding", &[("fp", &lead), ("run", "run0")]));
    let plan = compose(&r, &Existing { comments, me: me(), ..Existing::default() }, &opts());
    let draft = plan.review.as_ref().expect("the group comment is posted");
    assert_eq!(draft.inline.len(), 1);
    assert_eq!(draft.inline[0].members.len(), 3);
    assert_eq!(plan.deletions, vec![100], "the partial comment is superseded");
}

#[test]
fn snapshot_findings_on_one_line_group_with_a_fix_for_both() {
    // The demo's case: MTLS002 and TIS0206 on the DestinationRule's tls.mode line of one snapshot.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kustomize-envs");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mtls-review"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let on_17: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["location"]["path"] == "base/istio.yaml" && f["location"]["line"] == 17).collect();
    assert_eq!(on_17.len(), 2);
    assert!(on_17[0]["group"].is_string() && on_17[0]["group"] == on_17[1]["group"]);
    assert!(on_17[0]["fix"].is_object());
    assert!(on_17[0]["help"].as_str().unwrap().contains("also resolves"));
    // A finding alone on its lines has no group.
    assert!(findings.iter().filter(|f| f["location"]["line"] != 17).all(|f| f.get("group").is_none()));
}

#[test]
fn when_no_fix_resolves_all_the_one_resolving_the_worst_is_chosen_and_says_what_it_leaves() {
    // A new file (nothing to restore) whose namespace PeerAuthentication disables mTLS under a STRICT mesh: the
    // PeerAuthentication's fixes resolve TIS0502, but any mode below STRICT is still a downgrade (MTLS003).
    let mesh = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n";
    let r = change(&[("mesh.yaml", mesh)], &[("mesh.yaml", mesh), ("shop.yaml", &SHOP.replace("STRICT", "DISABLE"))]);
    let groups: Vec<Vec<&str>> = {
        let mut out: Vec<Vec<&str>> = Vec::new();
        let mut last: Option<&str> = None;
        for f in introduced(&r) {
            match (f.group.as_deref(), last) {
                (Some(g), Some(l)) if g == l => out.last_mut().unwrap().push(f.code),
                _ => out.push(vec![f.code]),
            }
            last = f.group.as_deref();
        }
        out
    };
    let pa_group = groups.iter().find(|g| g.contains(&"MTLS003")).expect("MTLS003");
    assert_eq!(pa_group, &vec!["TIS0502", "MTLS003"], "{groups:?}");
    let lead = introduced(&r).into_iter().find(|f| f.code == "TIS0502").unwrap();
    assert!(lead.fix.is_some());
    let help = lead.help.as_deref().unwrap();
    assert!(
        help.starts_with("No single verified fix resolves all the findings on these lines: this one leaves MTLS003."),
        "{help}"
    );
}
