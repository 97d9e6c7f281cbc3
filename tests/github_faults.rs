//! The Action under faults and against other people's content, on the stand-in API (wiremock): what it owns (by
//! identity, not by marker), failed and garbled listings, the review event and `fail-on`, oversized fixes, the
//! publishing deadline, rate limits without `retry-after` (on a clock the test controls), and a run overtaken by
//! a push.

#![allow(clippy::unwrap_used)]

mod support;

use mtls_review::finding::{Fix, Severity, Status};
use mtls_review::github::client::ClientOptions;
use mtls_review::github::compose::marker;
use mtls_review::github::env::ActionEnv;
use mtls_review::github::event::{self, EventKind};
use mtls_review::github::{EXIT_SETUP, Outcome, Publish, publish};
use mtls_review::manifest::SourceText;
use mtls_review::review::{FileChange, Hunk, Review};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const SYNC: &str = "webhooks/octokit-webhooks.pull_request.synchronize.payload.json";

async fn run(env: &ActionEnv, review: &Review, nonce: &str, client: ClientOptions) -> (Outcome, String) {
    let pr = event::read(env.event_path.as_ref().unwrap()).unwrap();
    let p = Publish {
        env,
        pr: &pr,
        kind: EventKind::from_name(&env.event_name).unwrap(),
        client,
        fail_on: env.inputs.fail_on.unwrap_or_default(),
        nonce: nonce.to_string(),
        summary: "## mtls-review\n\nsummary".into(),
        sarif: r#"{"version":"2.1.0","runs":[]}"#.into(),
    };
    let mut stdout = Vec::new();
    let out = publish(&p, review, &mut stdout).await;
    (out, String::from_utf8(stdout).unwrap())
}

/// The requests that change something.
fn writes(s: &State) -> Vec<String> {
    s.seen.iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

/// A finding of `review` is resolved: gone from the introduced ones.
fn resolved(mut r: Review, code: &str) -> Review {
    for f in r.findings.iter_mut().filter(|f| f.code == code) {
        f.status = Status::Resolved;
        f.anchors = None;
    }
    r
}

/// The first run's marker on the MTLS003 comment, pasted by a person into their own comments.
fn mtls003_marker(fake: &FakeGitHub) -> String {
    fake.with(|s| {
        let c = s.review_comments.iter().find(|c| c["path"] == "mesh/pa.yaml").unwrap();
        c["body"].as_str().unwrap().lines().next().unwrap().to_string()
    })
}

#[tokio::test]
async fn a_persons_comment_reply_review_and_summary_are_untouched_even_with_our_markers() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(
        &server.uri(),
        dir.path(),
        SYNC,
        &[("INPUT_REVIEW-EVENT", "REQUEST_CHANGES"), ("INPUT_STICKY-SUMMARY", "true")],
    );
    run(&env, &sample_review(), "run-1", fast_client()).await;
    let pasted = mtls003_marker(&fake);
    let ours_mtls003 =
        fake.with(|s| s.review_comments.iter().find(|c| c["path"] == "mesh/pa.yaml").unwrap()["id"].as_u64().unwrap());
    // A person copies our markers: into a review comment, a reply with our "resolved" marker under our comment,
    // a pull-request comment with the sticky-summary marker, and a blocking review with our review marker.
    let copied = fake.add_human_comment(None, "mesh/pa.yaml", 9, &format!("{pasted}\nsame as the bot says"));
    let reply = fake.add_human_comment(
        Some(ours_mtls003),
        "mesh/pa.yaml",
        9,
        &format!("{}\nI fixed it, bot", marker("resolved", &[("fp", "x")])),
    );
    let person = json!({"login": "octocat", "id": 1, "type": "User"});
    fake.with(|s| {
        s.issue_comments.insert(0, json!({"id": 7, "body": "<!-- mtls-review:summary -->\nmy notes", "user": person}));
        let mut r = s.reviews[0].clone();
        r["id"] = json!(77);
        r["user"] = person.clone();
        r["body"] = json!(format!("{}\nPlease fix.", marker("review", &[("run", "x"), ("head", "0ld")])));
        r["state"] = json!("CHANGES_REQUESTED");
        s.reviews.push(r);
        s.seen.clear();
    });

    // Everything is fixed on the next push.
    let mut fixed = sample_review();
    fixed.findings.retain(|f| f.status != Status::Introduced);
    let (out, stdout) = run(&env, &fixed, "run-2", fast_client()).await;
    assert_eq!((out.exit_code, out.fallback.as_deref()), (0, None), "{stdout}");
    fake.with(|s| {
        let ids: Vec<u64> = s.review_comments.iter().map(|c| c["id"].as_u64().unwrap()).collect();
        assert!(ids.contains(&copied) && ids.contains(&reply), "a person's comments stay: {ids:?}");
        assert!(ids.contains(&ours_mtls003), "our comment with a person's reply stays");
        assert_eq!(s.count("DELETE", ""), 2, "our two other comments go: {:?}", writes(s));
        let answers = s.bodies("POST", &format!("/pulls/2/comments/{ours_mtls003}/replies"));
        assert_eq!(answers.len(), 1, "the thread gets our resolved answer");
        assert!(answers[0]["body"].as_str().unwrap().contains(&format!("Resolved in {HEAD_SHA}.")));
        // Only our own blocking review is dismissed.
        let dismissed: Vec<&str> = s.seen.iter().filter(|r| r.method == "PUT").map(|r| r.path.as_str()).collect();
        assert_eq!(dismissed.len(), 1);
        assert!(!dismissed[0].contains("/77/"), "{dismissed:?}");
        assert_eq!(s.reviews.iter().find(|r| r["id"] == 77).unwrap()["state"], "CHANGES_REQUESTED");
        // The person's comment with the summary marker is not edited; ours is.
        assert_eq!(s.issue_comments[0]["body"], "<!-- mtls-review:summary -->\nmy notes");
        assert!(s.seen.iter().all(|r| r.path != "/issues/comments/7"));
    });
}

#[tokio::test]
async fn with_a_personal_token_ours_is_what_that_user_wrote() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| s.token_user = Some(json!({"login": "platform-bot", "id": 4242, "type": "User"})));
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    run(&env, &sample_review(), "run-1", fast_client()).await;
    let pasted = mtls003_marker(&fake);
    // The Actions bot (another workflow) wrote a comment with our marker: not ours for this token.
    let other = fake.add_human_comment(None, "mesh/pa.yaml", 9, &pasted);
    fake.with(|s| {
        let c = s.review_comments.iter_mut().find(|c| c["id"] == other).unwrap();
        c["user"] = json!({"login": "github-actions[bot]", "id": ACTIONS_BOT_ID, "type": "Bot"});
    });
    let (out, _) = run(&env, &resolved(sample_review(), "MTLS003"), "run-2", fast_client()).await;
    assert_eq!(out.deleted, 1, "{:?}", out.problems);
    fake.with(|s| {
        assert!(s.review_comments.iter().any(|c| c["id"] == other));
        assert!(!s.review_comments.iter().any(|c| c["path"] == "mesh/pa.yaml" && c["user"]["id"] == 4242));
        assert_eq!(s.count("GET", "/user"), 2);
    });
}

#[tokio::test]
async fn a_truncated_then_failing_review_listing_never_gives_a_second_review() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    run(&env, &sample_review(), "run-1", fast_client()).await;
    // The first run's review said the body-only finding; its inline comments are gone (deleted by hand), so
    // only the review listing shows that this head was reviewed.
    fake.with(|s| s.review_comments.clear());

    // A truncated 200 once: retried, and the review of this head is found.
    fake.with(|s| s.faults.push(Fault::new("GET", "/pulls/2/reviews", 200, r#"[{"id": 1001, "body": "<!-- mtls"#)));
    let (out, stdout) = run(&env, &sample_review(), "run-2", fast_client()).await;
    assert_eq!((out.aborted.as_deref(), out.exit_code), (None, 1), "{stdout}");
    fake.with(|s| {
        assert_eq!(s.count("GET", "/pulls/2/reviews"), 3, "first run, then the garbled answer and its retry");
        assert_eq!(s.reviews.len(), 1, "one review per head");
    });

    // Failing every time: no review, a failing check that says why, exit 2.
    fake.with(|s| {
        let mut f = Fault::new("GET", "/pulls/2/reviews", 502, "<html>502</html>");
        f.times = 100;
        s.faults.push(f);
    });
    let mut warnings_only = sample_review();
    warnings_only.findings.retain(|f| f.severity != Severity::Error);
    let (out, stdout) = run(&env, &warnings_only, "run-3", fast_client()).await;
    assert_eq!(out.exit_code, EXIT_SETUP);
    assert!(out.aborted.as_deref().unwrap().contains("HTTP 502"), "{:?}", out.aborted);
    assert!(stdout.starts_with("::error title=mtls-review::publishing aborted"), "{stdout}");
    fake.with(|s| {
        assert_eq!(s.count("GET", "/pulls/2/reviews"), 3 + 4, "the first attempt and 3 retries");
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "only the first run's");
        let check = s.check_runs.last().unwrap();
        assert_eq!(check["conclusion"], "failure", "below fail-on, but nothing could be published safely");
        assert!(check["output"]["summary"].as_str().unwrap().contains("could not publish its review"));
        assert_eq!(check["all_annotations"].as_array().unwrap().len(), 1, "the findings are still there");
    });
}

#[tokio::test]
async fn an_empty_or_truncated_200_on_a_listing_is_retried() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    for i in 0..150 {
        fake.add_human_comment(None, "mesh/dr.yaml", 1 + i % 12, &format!("comment {i}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    run(&env, &sample_review(), "run-1", fast_client()).await;
    fake.with(|s| {
        // Page 2 (which holds our comments) comes back cut, then empty.
        let mut cut = Fault::new("GET", "/pulls/2/comments", 200, r#"[{"id": 1, "path": "mesh/dr.y"#);
        cut.path_suffix = "/pulls/2/comments".into();
        s.faults.push(cut);
        s.faults.push(Fault::new("GET", "/pulls/2/comments", 200, ""));
        s.seen.clear();
    });
    let (out, _) = run(&env, &sample_review(), "run-2", fast_client()).await;
    assert_eq!(out.aborted, None, "{:?}", out.problems);
    fake.with(|s| {
        assert_eq!(s.count("GET", "/pulls/2/comments"), 4, "page 1 twice garbled, then pages 1 and 2");
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 0, "our comments were found: nothing new");
        assert_eq!(s.reviews.len(), 1);
    });
}

#[tokio::test]
async fn a_garbled_answer_to_the_check_run_finds_it_and_sends_every_annotation() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("POST", "/check-runs", 201, "");
        f.land = true;
        s.faults.push(f);
    });
    let findings = (0..120)
        .map(|i| {
            finding(
                "TIS0206",
                &format!("dr-{i}"),
                Severity::Error,
                Status::Introduced,
                vec![head("mesh/dr.yaml", 3, 3)],
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_CHECK-NAME", "mesh / mTLS")]);
    let (out, stdout) = run(&env, &review_of(findings), "run-1", fast_client()).await;
    assert_eq!(out.fallback, None, "{stdout}");
    fake.with(|s| {
        assert_eq!(s.check_runs.len(), 1, "not created twice");
        assert_eq!(s.check_runs[0]["external_id"], "run-1");
        assert_eq!(s.check_runs[0]["all_annotations"].as_array().unwrap().len(), 120);
        assert_eq!(s.count("GET", &format!("/commits/{HEAD_SHA}/check-runs")), 1);
        let lookup = s.seen.iter().find(|r| r.path.contains("/check-runs?")).unwrap();
        assert!(lookup.path.contains("check_name=mesh%20%2F%20mTLS"), "{}", lookup.path);
    });
}

#[tokio::test]
async fn warnings_only_with_request_changes_post_a_comment_review() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_REVIEW-EVENT", "REQUEST_CHANGES")]);
    let mut warnings = sample_review();
    warnings.findings.retain(|f| f.severity == Severity::Warning);
    let (out, _) = run(&env, &warnings, "run-1", fast_client()).await;
    assert_eq!(out.exit_code, 0);
    fake.with(|s| {
        assert_eq!(s.bodies("POST", "/pulls/2/reviews")[0]["event"], "COMMENT");
        assert_eq!(s.reviews[0]["state"], "COMMENTED");
        assert_eq!(s.check_runs[0]["conclusion"], "neutral");
    });
    // With fail-on: warning, the same warnings block.
    let env = action_env(
        &server.uri(),
        dir.path(),
        SYNC,
        &[("INPUT_REVIEW-EVENT", "REQUEST_CHANGES"), ("INPUT_FAIL-ON", "warning")],
    );
    fake.with(|s| {
        s.reviews.clear();
        s.review_comments.clear();
    });
    run(&env, &warnings, "run-2", fast_client()).await;
    fake.with(|s| assert_eq!(s.reviews[0]["state"], "CHANGES_REQUESTED"));
}

/// `gen/all.yaml`, committed `kustomize build` output: one added hunk of 5000 lines, the finding near the top and
/// its fix near the bottom, plus the sample's findings.
fn generated_output_review() -> Review {
    let mut text = String::new();
    for i in 1..=5000 {
        text.push_str(&format!("  annotation-{i:05}: generated by kustomize build for the production overlay\n"));
    }
    let mut r = sample_review();
    let mut far = finding("TIS0206", "gen", Severity::Error, Status::Introduced, vec![head("gen/all.yaml", 12, 14)]);
    far.fix = Some(Fix {
        description: "set the DestinationRule's TLS mode to DISABLE".into(),
        path: "gen/all.yaml".into(),
        start_line: 4_800,
        end_line: 4_800,
        replacement: "      mode: DISABLE".into(),
    });
    r.findings.push(far);
    r.changes.push(FileChange {
        head_path: Some("gen/all.yaml".into()),
        base_path: None,
        hunks: vec![Hunk { base_start: 0, base_lines: 0, head_start: 1, head_lines: 5000 }],
        added: vec![(1, 5000)],
        deleted: Vec::new(),
    });
    r.head_sources.insert("gen/all.yaml".into(), Arc::new(SourceText::new("gen/all.yaml", text, false, false)));
    r
}

#[tokio::test]
async fn a_fix_far_below_its_finding_keeps_every_comment_inline() {
    let r = generated_output_review();
    let (server, fake) = FakeGitHub::start(diff_of(&r.changes)).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = run(&env, &r, "run-1", fast_client()).await;
    assert_eq!(out.inline_comments, 4, "{:?}", out.problems);
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "accepted at once");
        assert!(s.schema_violations.is_empty(), "{:?}", s.schema_violations);
        let review = &s.bodies("POST", "/pulls/2/reviews")[0];
        let far = review["comments"].as_array().unwrap().iter().find(|c| c["path"] == "gen/all.yaml").unwrap();
        assert_eq!((far["line"].as_u64(), far.get("start_line")), (Some(4_800), None), "on the fix's own line");
        let body = far["body"].as_str().unwrap();
        assert!(body.contains("```suggestion\n      mode: DISABLE\n```"), "{body}");
        assert!(body.chars().count() < 2_000);
        assert!(!review["body"].as_str().unwrap().contains("would not place"));
    });
}

#[tokio::test]
async fn a_stalled_api_ends_by_the_deadline_and_says_so() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("*", "", 200, "[]");
        f.delay = Some(Duration::from_secs(60));
        f.times = 1_000;
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_TIMEOUT", "3")]);
    let started = Instant::now();
    let (out, stdout) = run(&env, &sample_review(), "run-1", fast_client()).await;
    let took = started.elapsed();
    // The bound under test (requests stall for 60 s; without a deadline this takes minutes).
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(out.timed_out);
    assert_eq!(out.exit_code, 1, "the exit code still follows fail-on");
    assert!(stdout.contains("::warning title=mtls-review::publishing stopped at the `timeout` of 3 s"), "{stdout}");
    assert!(stdout.contains("::error file=mesh/dr.yaml,line=10"), "the findings as annotations: {stdout}");
    assert_eq!(fake.with(|s| s.reviews.len()), 0);
}

#[tokio::test]
async fn at_the_deadline_the_check_completes_with_what_is_known() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("GET", "/pulls/2/comments", 200, "[]");
        f.delay = Some(Duration::from_secs(60));
        f.times = 1_000;
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_TIMEOUT", "4")]);
    let (out, stdout) = run(&env, &sample_review(), "run-1", fast_client()).await;
    assert!(out.timed_out && out.fallback.is_none(), "{out:?}");
    assert!(stdout.starts_with("::warning title=mtls-review::publishing stopped at the `timeout` of 4 s"), "{stdout}");
    fake.with(|s| {
        assert_eq!(s.reviews.len(), 0, "no review without the comment listing");
        assert_eq!(s.check_runs.len(), 1);
        assert_eq!(s.check_runs[0]["conclusion"], "failure", "fail-on is known");
        assert!(s.check_runs[0]["output"]["summary"].as_str().unwrap().contains("stopped at the `timeout`"));
    });
}

#[tokio::test]
async fn a_secondary_rate_limit_without_retry_after_waits_a_minute_then_longer() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let secondary =
        r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
    fake.with(|s| {
        // Test-written bodies in GitHub's documented wording; no retry-after, no x-ratelimit-*.
        let mut f = Fault::new("POST", "/pulls/2/reviews", 403, secondary);
        f.times = 2;
        s.faults.push(f);
        s.faults.push(Fault::new("GET", "/pulls/2/reviews", 429, r#"{"message":"Too many requests"}"#));
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (client, clock) = skipping_client();
    let (out, stdout) = run(&env, &sample_review(), "run-1", client).await;
    assert_eq!(out.fallback, None, "{stdout}");
    let minute = Duration::from_secs(60);
    assert_eq!(clock.waits(), vec![minute, minute, 2 * minute], "429 on the listing, then the review post twice");
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 3);
        assert_eq!(s.reviews.len(), 1);
    });
}

#[tokio::test]
async fn a_rate_limit_wait_beyond_the_deadline_is_not_begun() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f =
            Fault::new("POST", "/pulls/2/reviews", 403, r#"{"message":"You have exceeded a secondary rate limit."}"#);
        f.headers = vec![("retry-after", "900".into())];
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (client, clock) = skipping_client();
    let (out, stdout) = run(&env, &sample_review(), "run-1", client).await;
    assert!(clock.waits().is_empty(), "{:?}", clock.waits());
    assert!(out.timed_out, "{:?}", out.problems);
    assert!(stdout.contains("publishing stopped at the `timeout` of 300 s"), "{stdout}");
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1);
        assert_eq!(s.check_runs.len(), 1, "the check run still completes");
    });
}

#[tokio::test]
async fn a_run_on_a_stale_head_posts_nothing() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_STICKY-SUMMARY", "true")]);
    run(&env, &sample_review(), "run-1", fast_client()).await;
    // Someone pushed: the pull request's head is newer than this run's payload.
    fake.with(|s| {
        s.head_sha = "0123456789abcdef0123456789abcdef01234567".into();
        s.seen.clear();
    });
    let (out, stdout) = run(&env, &resolved(sample_review(), "MTLS003"), "run-2", fast_client()).await;
    assert_eq!(out.newer_head.as_deref(), Some("0123456789abcdef0123456789abcdef01234567"));
    assert!(stdout.starts_with("::notice title=mtls-review::the pull request's head is now 0123456"), "{stdout}");
    fake.with(|s| {
        assert_eq!(writes(s), Vec::<String>::new(), "no review, comment, deletion or check run");
        assert_eq!(s.check_runs.len(), 1);
    });
}

#[tokio::test]
async fn the_token_stays_out_of_everything_under_faults() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        // Broken answers that echo the Authorization header.
        let mut f = Fault::new("GET", "/pulls/2/reviews", 502, r#"{"message":"proxy: {auth}"}"#);
        f.times = 100;
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, stdout) = run(&env, &sample_review(), "run-1", fast_client()).await;
    assert!(out.aborted.as_deref().unwrap().contains("Bearer ***"), "{:?}", out.aborted);
    let check: Vec<Value> = fake.with(|s| s.bodies("POST", "/check-runs"));
    for text in [stdout, format!("{out:?}"), serde_json::to_string(&check).unwrap()] {
        assert!(!text.contains(TOKEN) && !text.contains("TESTtoken"), "token leaked: {text}");
    }
}

#[tokio::test]
async fn a_422_for_one_comment_moves_only_that_comment_into_the_summary() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    // GitHub refuses the MTLS003 comment without saying why; its lines are in the diff it lists.
    fake.with(|s| s.refuse_paths = vec!["mesh/pa.yaml".into()]);
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.inline_comments, 2, "{:?}", out.problems);
    fake.with(|s| {
        assert!(s.schema_violations.is_empty(), "{:?}", s.schema_violations);
        let paths: Vec<&str> = s.review_comments.iter().map(|c| c["path"].as_str().unwrap()).collect();
        assert_eq!(paths, vec!["mesh/dr.yaml", "mesh/old-pa.yaml"]);
        assert_eq!(s.reviews.len(), 1);
        let body = s.reviews[0]["body"].as_str().unwrap();
        assert!(body.contains("### Findings GitHub would not place on the diff"), "{body}");
        assert!(body.contains("**MTLS003** (warning): Posture downgrade `mesh/pa.yaml` lines 8-9"), "{body}");
        assert!(
            !body.contains("**TIS0206** (error): Missing PeerAuthentication for namespace-wide mTLS `mesh/dr.yaml`")
        );
    });
    // A re-run recognises the comments posted singly and the finding said in the body.
    run(&env, &sample_review(), "run-2", fast_client()).await;
    fake.with(|s| {
        assert_eq!((s.reviews.len(), s.review_comments.len()), (1, 2));
        assert_eq!(s.count("POST", "/pulls/2/comments"), 3);
    });
}
