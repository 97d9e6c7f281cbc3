//! The GitHub Action's reporting against a stand-in REST API (wiremock on 127.0.0.1) that answers with recorded
//! GitHub bodies: the review and its comments, re-runs, cleanup, faults, forks, pagination, check runs.

#![allow(clippy::unwrap_used)]

mod support;

use mtls_review::finding::{Severity, Status};
use mtls_review::github::client::ClientOptions;
use mtls_review::github::env::ActionEnv;
use mtls_review::github::event::{self, EventKind};
use mtls_review::github::{Outcome, Publish, publish};
use mtls_review::review::{Hunk, Review};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Runs the reporting once, as the action does after reviewing.
async fn publish_run(env: &ActionEnv, review: &Review, nonce: &str, client: ClientOptions) -> (Outcome, String) {
    publish_with_summary(env, review, nonce, client, "## mtls-review\n\nPosture: STRICT -> DISABLE in `shop`").await
}

async fn publish_with_summary(
    env: &ActionEnv,
    review: &Review,
    nonce: &str,
    client: ClientOptions,
    summary: &str,
) -> (Outcome, String) {
    let pr = event::read(env.event_path.as_ref().unwrap()).unwrap();
    let kind = EventKind::from_name(&env.event_name).unwrap();
    let p = Publish {
        env,
        pr: &pr,
        kind,
        client,
        fail_on: env.inputs.fail_on.unwrap_or_default(),
        nonce: nonce.to_string(),
        summary: summary.to_string(),
        sarif: r#"{"version":"2.1.0","runs":[]}"#.into(),
    };
    let mut stdout = Vec::new();
    let out = publish(&p, review, &mut stdout).await;
    (out, String::from_utf8(stdout).unwrap())
}

const SYNC: &str = "webhooks/octokit-webhooks.pull_request.synchronize.payload.json";
const FORK: &str = "webhooks/DERIVED.pull_request.opened.from-fork.payload.json";

fn comments_without_bodies(review_post: &Value) -> Vec<Value> {
    review_post["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.as_object_mut().unwrap().remove("body");
            c
        })
        .collect()
}

#[tokio::test]
async fn first_run_posts_one_review_with_exact_comments_and_a_failing_check() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    // Someone else's comment (the recorded danger-js one, old `position` format) is left alone.
    fake.with(|s| {
        s.review_comments
            .extend(fixture_json("real-responses/danger-js.list-review-comments.json").as_array().unwrap().clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;

    assert_eq!(out.exit_code, 1, "an introduced error fails the job with fail-on: error");
    assert_eq!(out.fallback, None, "{:?}", out.problems);
    assert!(stdout.is_empty(), "no workflow commands when the API takes the report: {stdout}");
    fake.with(|s| {
        assert!(s.schema_violations.is_empty(), "{:?}", s.schema_violations);
        let posts = s.bodies("POST", "/pulls/2/reviews");
        assert_eq!(posts.len(), 1);
        let review = &posts[0];
        assert_eq!(review["commit_id"], HEAD_SHA);
        assert_eq!(review["event"], "COMMENT");
        assert_eq!(
            comments_without_bodies(review),
            vec![
                json!({"path": "mesh/dr.yaml", "line": 10, "side": "RIGHT"}),
                json!({"path": "mesh/old-pa.yaml", "line": 9, "side": "LEFT", "start_line": 1, "start_side": "LEFT"}),
                json!({"path": "mesh/pa.yaml", "line": 9, "side": "RIGHT", "start_line": 8, "start_side": "RIGHT"}),
            ]
        );
        let suggestion = review["comments"][0]["body"].as_str().unwrap();
        assert!(suggestion.contains("\n```suggestion\n      mode: DISABLE\n```\n"), "{suggestion}");
        assert!(suggestion.contains("**TIS0206** (error)"));
        assert!(suggestion.contains("[TIS0206 documentation]("));
        assert!(suggestion.starts_with("<!-- mtls-review:finding fp="));
        let left = review["comments"][1]["body"].as_str().unwrap();
        assert!(!left.contains("suggestion"), "no suggestion on deleted lines");
        let body = review["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("<!-- mtls-review:review run=run-1 head={HEAD_SHA} -->")), "{body}");
        assert!(body.contains("Posture: STRICT -> DISABLE"));

        // The request carried the API version and the token as authorization.
        let seen = s.seen.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(seen.headers.get("x-github-api-version").map(String::as_str), Some("2022-11-28"));
        assert_eq!(seen.headers.get("authorization").map(String::as_str), Some(format!("Bearer {TOKEN}").as_str()));

        // The check run: failure, with the head-side annotations (the deleted file has no head lines).
        assert_eq!(s.check_runs.len(), 1);
        let run = &s.check_runs[0];
        assert_eq!((run["name"].as_str(), run["head_sha"].as_str()), (Some("mtls-review"), Some(HEAD_SHA)));
        assert_eq!(run["conclusion"], "failure");
        assert_eq!(run["details_url"], "https://github.com/Codertocat/Hello-World/actions/runs/4242");
        let paths: Vec<&str> =
            run["all_annotations"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
        assert_eq!(paths, vec!["mesh/dr.yaml", "mesh/pa.yaml"]);
        // The foreign comments were not touched.
        assert_eq!(s.count("DELETE", ""), 0);
    });
    let outputs = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    let sarif = dir.path().join("mtls-review.sarif");
    assert_eq!(outputs, format!("introduced=3\nresolved=0\nerrors=0\nsarif={}\n", sarif.display()));
    assert!(sarif.exists());
    assert!(std::fs::read_to_string(dir.path().join("summary.md")).unwrap().contains("Posture: STRICT -> DISABLE"));
}

#[tokio::test]
async fn rerun_posts_nothing_new() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    let (out, _) = publish_run(&env, &sample_review(), "run-2", fast_client()).await;
    assert_eq!(out.exit_code, 1, "the gate still follows fail-on");
    assert_eq!(out.review_id, None);
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "no second review");
        assert_eq!(s.review_comments.len(), 3);
        assert_eq!(s.count("DELETE", ""), 0);
        assert_eq!(s.check_runs.len(), 2, "each run reports its check");
    });
}

#[tokio::test]
async fn resolved_findings_are_deleted_or_answered_once() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    // Someone replies to the MTLS003 comment.
    let mtls003 =
        fake.with(|s| s.review_comments.iter().find(|c| c["path"] == "mesh/pa.yaml").unwrap()["id"].as_u64().unwrap());
    fake.add_human_comment(Some(mtls003), "mesh/pa.yaml", 9, "Intentional: we move to PERMISSIVE first.");

    // The next push resolves MTLS003 and removes TIS0503; TIS0206 stays.
    let mut next = sample_review();
    next.findings.retain(|f| f.code != "TIS0503");
    for f in next.findings.iter_mut().filter(|f| f.code == "MTLS003") {
        f.status = Status::Resolved;
        f.anchors = None;
    }
    let (out, _) = publish_run(&env, &next, "run-2", fast_client()).await;
    assert_eq!((out.deleted, out.replied), (1, 1));
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "nothing new to say");
        assert_eq!(s.count("DELETE", ""), 1);
        assert!(!s.review_comments.iter().any(|c| c["path"] == "mesh/old-pa.yaml"), "TIS0503's comment is gone");
        let replies = s.bodies("POST", &format!("/pulls/2/comments/{mtls003}/replies"));
        assert_eq!(replies.len(), 1);
        assert!(replies[0]["body"].as_str().unwrap().contains(&format!("Resolved in {HEAD_SHA}.")));
    });
    let (out, _) = publish_run(&env, &next, "run-3", fast_client()).await;
    assert_eq!((out.deleted, out.replied), (0, 0), "answered once");
    assert_eq!(out.exit_code, 1);
}

#[tokio::test]
async fn a_502_whose_review_landed_is_not_posted_again() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("POST", "/pulls/2/reviews", 502, "<html>502 Bad Gateway</html>");
        f.land = true;
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "checked the markers instead of posting again");
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(out.review_id, s.reviews[0]["id"].as_u64());
    });
    assert_eq!(out.fallback, None);
}

#[tokio::test]
async fn a_502_then_success_posts_exactly_one_review() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| s.faults.push(Fault::new("POST", "/pulls/2/reviews", 502, "<html>502 Bad Gateway</html>")));
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 2, "posted again once the markers showed it did not land");
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(s.review_comments.len(), 3);
    });
    assert!(out.review_id.is_some());
}

#[tokio::test]
async fn a_timed_out_review_post_that_landed_is_not_repeated() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("POST", "/pulls/2/reviews", 200, "{}");
        f.land = true;
        f.delay = Some(Duration::from_millis(1500));
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let client = ClientOptions { request_timeout: Duration::from_millis(500), ..fast_client() };
    publish_run(&env, &sample_review(), "run-1", client).await;
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1);
        assert_eq!(s.reviews.len(), 1);
    });
}

#[tokio::test]
async fn a_secondary_rate_limit_403_is_retried_after_retry_after() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new(
            "POST",
            "/pulls/2/reviews",
            403,
            // Test-written body in GitHub's documented wording.
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#,
        );
        f.headers = vec![("retry-after", "1".into())];
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let started = Instant::now();
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "waited for retry-after");
    assert_eq!(out.fallback, None, "a rate limit is not a read-only token: {stdout}");
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 2);
        assert_eq!(s.reviews.len(), 1);
    });
}

#[tokio::test]
async fn a_primary_rate_limit_and_a_5xx_on_listing_are_retried() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    fake.with(|s| {
        let mut f =
            Fault::new("GET", "/pulls/2/comments", 403, r#"{"message":"API rate limit exceeded for installation."}"#);
        f.headers = vec![("x-ratelimit-remaining", "0".into()), ("x-ratelimit-reset", reset.to_string())];
        s.faults.push(f);
        s.faults.push(Fault::new("GET", "/pulls/2/reviews", 503, "unavailable"));
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.fallback, None, "{:?}", out.problems);
    fake.with(|s| {
        assert_eq!(s.count("GET", "/pulls/2/comments"), 2);
        assert_eq!(s.count("GET", "/pulls/2/reviews"), 2);
        assert_eq!(s.reviews.len(), 1);
    });
}

#[tokio::test]
async fn a_422_is_recovered_by_moving_the_refused_comment_to_the_body() {
    // GitHub's diff of mesh/pa.yaml differs from ours: line 8-9 is not in it.
    let mut diff = diff_of(&changes());
    diff.insert("mesh/pa.yaml".into(), vec![Hunk { base_start: 20, base_lines: 4, head_start: 20, head_lines: 4 }]);
    let (server, fake) = FakeGitHub::start(diff).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.inline_comments, 2);
    fake.with(|s| {
        let posts = s.bodies("POST", "/pulls/2/reviews");
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0]["comments"].as_array().unwrap().len(), 3);
        let second = &posts[1];
        let paths: Vec<&str> =
            second["comments"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
        assert_eq!(paths, vec!["mesh/dr.yaml", "mesh/old-pa.yaml"]);
        let body = second["body"].as_str().unwrap();
        assert!(body.contains("### Findings GitHub would not place on the diff"), "{body}");
        assert!(body.contains("**MTLS003** (warning): Posture downgrade `mesh/pa.yaml` lines 8-9"), "{body}");
        assert_eq!(s.count("GET", "/pulls/2/files"), 1);
        assert_eq!(s.reviews.len(), 1);
    });
    // The moved finding counts as said: a re-run stays quiet.
    publish_run(&env, &sample_review(), "run-2", fast_client()).await;
    fake.with(|s| assert_eq!(s.reviews.len(), 1));
}

#[tokio::test]
async fn a_fork_gets_annotations_and_a_summary_and_no_api_writes() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), FORK, &[]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.exit_code, 1, "the job still fails by fail-on");
    assert!(out.fallback.as_deref().unwrap().contains("fork"));
    assert_eq!(fake.with(|s| s.seen.len()), 0, "no API call with a read-only token");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("::notice title=mtls-review::"));
    assert_eq!(
        lines[1],
        "::error file=mesh/dr.yaml,line=10,endLine=10,title=TIS0206%3A Missing PeerAuthentication for namespace-wide \
         mTLS::DestinationRule shop/shop-mtls makes clients send ISTIO_MUTUAL, but mTLS is DISABLEd in namespace \
         `shop`: servers accept only plaintext and these calls fail%0AFix: set the DestinationRule's TLS mode to DISABLE"
    );
    assert!(
        lines[2].starts_with("::warning file=mesh/pa.yaml,line=8,endLine=9,title=MTLS003%3A Posture downgrade::"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("::error title=TIS0503"), "{}", lines[3]);
    assert!(lines[3].ends_with("(removed from mesh/old-pa.yaml line 1)"));
    assert_eq!(lines.len(), 4);
    assert!(std::fs::read_to_string(dir.path().join("summary.md")).unwrap().contains("## mtls-review"));

    // Below fail-on the fallback does not fail the job.
    let env = action_env(&server.uri(), dir.path(), FORK, &[("INPUT_FAIL-ON", "never")]);
    let (out, _) = publish_run(&env, &sample_review(), "run-2", fast_client()).await;
    assert_eq!(out.exit_code, 0);
}

#[tokio::test]
async fn a_deleted_fork_head_repo_null_is_a_fork() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let pr = fixture_json("real-responses/jenkins.fork-pr-deleted-fork.get-pull.head-repo-null.json");
    let payload = json!({"action": "synchronize", "number": pr["number"], "pull_request": pr});
    let dir = tempfile::tempdir().unwrap();
    let env = action_env_with_payload(&server.uri(), dir.path(), &payload.to_string(), &[]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert!(out.fallback.is_some());
    assert!(stdout.contains("::error file=mesh/dr.yaml"));
    assert_eq!(fake.with(|s| s.seen.len()), 0);
}

#[tokio::test]
async fn pull_request_target_from_a_fork_writes_with_its_token() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), FORK, &[("GITHUB_EVENT_NAME", "pull_request_target")]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.fallback, None);
    assert!(stdout.is_empty());
    assert_eq!(fake.with(|s| s.reviews.len()), 1);
}

#[tokio::test]
async fn a_403_on_a_write_falls_back_without_failing_by_itself() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| s.read_only = true);
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_FAIL-ON", "never")]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.exit_code, 0, "the fallback never fails the job");
    assert!(out.fallback.as_deref().unwrap().contains("Resource not accessible by integration"));
    assert!(stdout.contains("::error file=mesh/dr.yaml,line=10"));
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 1, "a 403 is not retried");
        assert_eq!(s.count("POST", "/check-runs"), 0, "no more writes once the token proved read-only");
    });
}

#[tokio::test]
async fn more_than_a_hundred_existing_comments_are_all_read() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    for i in 0..230 {
        fake.add_human_comment(None, "mesh/dr.yaml", 1 + i % 12, &format!("comment {i}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    fake.with(|s| s.seen.clear());
    publish_run(&env, &sample_review(), "run-2", fast_client()).await;
    fake.with(|s| {
        let pages: Vec<String> = s
            .seen
            .iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/pulls/2/comments"))
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(
            pages,
            vec![
                "/pulls/2/comments?per_page=100&page=1",
                "/pulls/2/comments?per_page=100&page=2",
                "/pulls/2/comments?per_page=100&page=3"
            ]
        );
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 0, "our comments on page 3 were found");
        assert_eq!(s.review_comments.len(), 233);
    });
}

#[tokio::test]
async fn more_than_fifty_annotations_are_sent_in_batches() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let findings = (0..120)
        .map(|i| {
            finding(
                "TIS0206",
                &format!("dr-{i}"),
                Severity::Error,
                Status::Introduced,
                vec![head("mesh/dr.yaml", 1 + i % 12, 1 + i % 12)],
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &review_of(findings), "run-1", fast_client()).await;
    assert_eq!(out.inline_comments, 30);
    fake.with(|s| {
        assert!(s.schema_violations.is_empty(), "{:?}", s.schema_violations);
        let create = s.bodies("POST", "/check-runs");
        assert_eq!(create[0]["output"]["annotations"].as_array().unwrap().len(), 50);
        let patches: Vec<usize> =
            s.bodies("PATCH", "").iter().map(|b| b["output"]["annotations"].as_array().unwrap().len()).collect();
        assert_eq!(patches, vec![50, 20]);
        assert_eq!(s.check_runs[0]["all_annotations"].as_array().unwrap().len(), 120);
        let review = &s.bodies("POST", "/pulls/2/reviews")[0];
        assert_eq!(review["comments"].as_array().unwrap().len(), 30);
        assert_eq!(review["body"].as_str().unwrap().matches("#### **TIS0206**").count(), 90);
    });
}

#[tokio::test]
async fn refused_check_runs_become_a_commit_status() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| s.checks_forbidden = true);
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_CHECK-NAME", "mesh/mtls")]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.fallback, None, "{stdout}");
    fake.with(|s| {
        assert_eq!(s.statuses.len(), 1);
        let st = &s.statuses[0];
        assert_eq!((st["state"].as_str(), st["context"].as_str()), (Some("failure"), Some("mesh/mtls")));
        assert_eq!(st["target_url"], "https://github.com/Codertocat/Hello-World/actions/runs/4242");
        assert_eq!(s.count("POST", &format!("/statuses/{HEAD_SHA}")), 1);
    });
}

#[tokio::test]
async fn nothing_introduced_means_no_review_and_a_successful_check() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let mut r = sample_review();
    r.findings.retain(|f| f.status == Status::Existing);
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &r, "run-1", fast_client()).await;
    assert_eq!(out.exit_code, 0);
    fake.with(|s| {
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 0);
        assert_eq!(s.check_runs[0]["conclusion"], "success");
    });
    // Only a warning below fail-on: neutral.
    let warn_only: Vec<_> = sample_review().findings.into_iter().filter(|f| f.severity == Severity::Warning).collect();
    publish_run(&env, &review_of(warn_only), "run-2", fast_client()).await;
    fake.with(|s| assert_eq!(s.check_runs[1]["conclusion"], "neutral"));
}

#[tokio::test]
async fn request_changes_is_dismissed_once_fixed_and_the_sticky_summary_is_updated_in_place() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(
        &server.uri(),
        dir.path(),
        SYNC,
        &[("INPUT_REVIEW-EVENT", "REQUEST_CHANGES"), ("INPUT_STICKY-SUMMARY", "true")],
    );
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    let review_id = fake.with(|s| {
        assert_eq!(s.reviews[0]["state"], "CHANGES_REQUESTED");
        assert_eq!(s.issue_comments.len(), 1);
        s.reviews[0]["id"].as_u64().unwrap()
    });
    let mut fixed = sample_review();
    for f in &mut fixed.findings {
        if f.status == Status::Introduced {
            f.status = Status::Resolved;
            f.anchors = None;
        }
    }
    let (out, _) = publish_with_summary(&env, &fixed, "run-2", fast_client(), "## mtls-review\n\nAll fixed").await;
    assert_eq!(out.exit_code, 0);
    fake.with(|s| {
        assert_eq!(s.count("PUT", &format!("/pulls/2/reviews/{review_id}/dismissals")), 1);
        assert_eq!(s.reviews[0]["state"], "DISMISSED");
        assert_eq!(s.issue_comments.len(), 1, "one sticky summary");
        let patched = s.seen.iter().filter(|r| r.method == "PATCH" && r.path.starts_with("/issues/comments/")).count();
        assert_eq!(patched, 1, "updated in place");
        let sticky = s.issue_comments[0]["body"].as_str().unwrap();
        assert!(sticky.starts_with("<!-- mtls-review:summary -->\n## mtls-review\n\nAll fixed"), "{sticky}");
        assert_eq!(s.review_comments.len(), 0, "resolved comments without replies are deleted");
    });
}

#[tokio::test]
async fn github_enterprise_server_paths() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    for i in 0..120 {
        fake.add_human_comment(None, "mesh/dr.yaml", 1 + i % 12, "x");
    }
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&format!("{}/api/v3", server.uri()), dir.path(), SYNC, &[]);
    let (out, _) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.fallback, None, "{:?}", out.problems);
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path().starts_with("/api/v3/repos/") || r.url.path() == "/api/v3/user"),
        "every request under /api/v3"
    );
    assert!(requests.iter().any(|r| r.url.path() == "/api/v3/user"), "asked who the token is");
    assert!(requests.iter().any(|r| r.url.query() == Some("per_page=100&page=2")), "followed the Link under /api/v3");
    assert_eq!(fake.with(|s| s.reviews.len()), 1);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn the_token_never_appears_in_logs_output_or_errors() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    // A hostile or broken server echoes the Authorization header back in its error bodies.
    fake.with(|s| {
        let mut f = Fault::new("GET", "/pulls/2/comments", 500, r#"{"message":"upstream said: {auth}"}"#);
        f.times = 10;
        s.faults.push(f);
        let mut f =
            Fault::new("POST", "/check-runs", 403, r#"{"message":"Resource not accessible by integration ({auth})"}"#);
        f.times = 10;
        s.faults.push(f);
        let mut f =
            Fault::new("POST", "/statuses/", 403, r#"{"message":"Resource not accessible by integration ({auth})"}"#);
        f.path_suffix = format!("/statuses/{HEAD_SHA}");
        s.faults.push(f);
    });
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("upstream said: Bearer ***"), "the echoed header was logged, redacted:\n{logs}");
    assert!(out.fallback.is_some());
    let mut everything = vec![logs, stdout, format!("{out:?}"), format!("{env:?}")];
    for f in ["summary.md", "output.txt"] {
        everything.push(std::fs::read_to_string(dir.path().join(f)).unwrap());
    }
    for text in &everything {
        assert!(!text.contains(TOKEN), "token leaked:\n{text}");
        assert!(!text.contains("TESTtoken"), "token fragment leaked:\n{text}");
    }
    assert!(out.problems.iter().any(|p| p.contains("Bearer ***")), "{:?}", out.problems);
}

#[tokio::test]
async fn a_review_that_cannot_be_posted_leaves_the_check_run_and_a_warning() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        let mut f = Fault::new("POST", "/pulls/2/reviews", 500, r#"{"message":"Server Error"}"#);
        f.times = 100;
        s.faults.push(f);
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    let (out, stdout) = publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    assert_eq!(out.exit_code, 1);
    assert_eq!(out.fallback, None);
    assert!(stdout.starts_with("::warning title=mtls-review::the review could not be posted"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "the check run carries the annotations: {stdout}");
    fake.with(|s| {
        // First attempt plus `max_retries` re-posts, each after the markers showed it had not landed.
        assert_eq!(s.count("POST", "/pulls/2/reviews"), 4);
        assert_eq!(s.reviews.len(), 0);
        assert_eq!(s.check_runs.len(), 1);
    });
}

#[tokio::test]
async fn request_changes_on_ones_own_pull_request_falls_back_to_a_comment_review() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    fake.with(|s| {
        // Body as GitHub words it for a token of the pull request's author.
        s.faults.push(Fault::new(
            "POST",
            "/pulls/2/reviews",
            422,
            r#"{"message":"Unprocessable Entity","errors":["Review Can not request changes on your own pull request"],"documentation_url":"https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request","status":"422"}"#,
        ))
    });
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[("INPUT_REVIEW-EVENT", "REQUEST_CHANGES")]);
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    fake.with(|s| {
        let events: Vec<Value> = s.bodies("POST", "/pulls/2/reviews").iter().map(|b| b["event"].clone()).collect();
        assert_eq!(events, vec![json!("REQUEST_CHANGES"), json!("COMMENT")]);
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(s.review_comments.len(), 3, "the comments stay inline");
    });
}

#[tokio::test]
async fn a_lost_delete_answer_does_not_stop_the_other_clean_up() {
    let (server, fake) = FakeGitHub::start(diff_of(&changes())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = action_env(&server.uri(), dir.path(), SYNC, &[]);
    publish_run(&env, &sample_review(), "run-1", fast_client()).await;
    let first = fake.with(|s| s.review_comments[0]["id"].as_u64().unwrap());
    fake.with(|s| {
        let mut f = Fault::new("DELETE", &format!("/pulls/comments/{first}"), 500, "{}");
        f.times = 100;
        s.faults.push(f);
    });
    let mut gone = sample_review();
    gone.findings.retain(|f| f.status != Status::Introduced);
    let (out, _) = publish_run(&env, &gone, "run-2", fast_client()).await;
    assert_eq!(out.deleted, 2);
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert_eq!(out.fallback, None);
    fake.with(|s| assert_eq!(s.review_comments.len(), 1));
}
