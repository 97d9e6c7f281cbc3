//! The action end to end: a real repository served like GitHub serves a pull request, a depth-1 checkout of the
//! base as `actions/checkout` leaves it, the review engine, and the stand-in API. Findings on added, modified and
//! deleted lines; a re-run; a fix pushed; missing history; events the action does not review.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod support;
use support::git;

use mtls_review::github::patch_hunks;
use mtls_review::github::run_with;
use mtls_review::review::Hunk;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const PA_STRICT: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: NS\nspec:\n  mtls:\n    mode: STRICT\n";
const DR_MUTUAL: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: NS-mtls\n  namespace: NS\nspec:\n  host: \"*.NS.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";

fn pa(ns: &str) -> String {
    PA_STRICT.replace("NS", ns)
}

fn dr(ns: &str) -> String {
    DR_MUTUAL.replace("NS", ns)
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The "GitHub" side: `main` with the base tree and a later commit, the pull request's commits on `feature`
/// (served as `refs/pull/2/head`), and the head commit's SHA.
struct Upstream {
    dir: tempfile::TempDir,
    base: String,
    head: String,
}

impl Upstream {
    fn new() -> Upstream {
        Upstream::with_base_files(&[])
    }

    /// [`Upstream::new`] with more files in the base commit (and so on the merge base).
    fn with_base_files(extra: &[(&str, &str)]) -> Upstream {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q", "-b", "main"]);
        write(p, extra);
        write(p, &[("shop/pa.yaml", &pa("shop")), ("shop/dr.yaml", &dr("shop")), ("pay/pa.yaml", &pa("pay"))]);
        write(p, &[("pay/dr.yaml", &dr("pay"))]);
        git(p, &["add", "-A"]);
        git(p, &["commit", "-qm", "base"]);
        git(p, &["checkout", "-qb", "feature"]);
        // Modified: shop's PeerAuthentication goes to DISABLE. Deleted: pay's PeerAuthentication. Added: a
        // DestinationRule for namespace web, which has no PeerAuthentication.
        write(p, &[("shop/pa.yaml", &pa("shop").replace("STRICT", "DISABLE")), ("web/dr.yaml", &dr("web"))]);
        git(p, &["rm", "-q", "pay/pa.yaml"]);
        git(p, &["add", "-A"]);
        git(p, &["commit", "-qm", "change mTLS"]);
        let head = git(p, &["rev-parse", "HEAD"]);
        git(p, &["update-ref", "refs/pull/2/head", &head]);
        git(p, &["checkout", "-q", "main"]);
        // Added: a new namespace-wide DestinationRule lands on main after the branch point (not part of the PR).
        write(p, &[("README.md", "main moved on\n")]);
        git(p, &["add", "-A"]);
        git(p, &["commit", "-qm", "later on main"]);
        let base = git(p, &["rev-parse", "HEAD"]);
        Upstream { dir, base, head }
    }

    /// Adds a commit to the pull request and returns its SHA.
    fn push(&mut self, files: &[(&str, &str)], removed: &[&str]) -> String {
        let p = self.dir.path();
        git(p, &["checkout", "-q", "feature"]);
        write(p, files);
        for r in removed {
            git(p, &["rm", "-q", r]);
        }
        git(p, &["add", "-A"]);
        git(p, &["commit", "-qm", "push"]);
        self.head = git(p, &["rev-parse", "HEAD"]);
        git(p, &["update-ref", "refs/pull/2/head", &self.head]);
        git(p, &["checkout", "-q", "main"]);
        self.head.clone()
    }

    /// The pull request's diff as GitHub shows it (merge base to head, 3 lines of context): path -> hunks.
    fn diff(&self) -> BTreeMap<String, Vec<Hunk>> {
        let text = git(self.dir.path(), &["diff", "-U3", "--no-renames", &format!("{}...{}", self.base, self.head)]);
        let mut out = BTreeMap::new();
        for file in text.split("diff --git ").skip(1) {
            let path = file
                .lines()
                .find_map(|l| l.strip_prefix("+++ b/"))
                .or_else(|| file.lines().find_map(|l| l.strip_prefix("--- a/")))
                .unwrap()
                .to_string();
            out.insert(path, patch_hunks(file));
        }
        out
    }

    /// A depth-1 checkout of the base, as `actions/checkout` leaves the workspace.
    fn checkout(&self, into: &Path) -> PathBuf {
        let url = format!("file://{}", self.dir.path().display());
        git(into, &["clone", "-q", "--depth", "1", "--branch", "main", &url, "ws"]);
        into.join("ws")
    }

    fn payload(&self) -> String {
        let mut v = fixture_json("webhooks/octokit-webhooks.pull_request.synchronize.payload.json");
        v["pull_request"]["base"]["sha"] = self.base.clone().into();
        v["pull_request"]["head"]["sha"] = self.head.clone().into();
        v["pull_request"]["base"]["ref"] = "main".into();
        v["pull_request"]["head"]["ref"] = "feature".into();
        v.to_string()
    }
}

/// Runs `mtls-review github` in-process with this environment; returns the exit code and stdout.
fn run(env: mtls_review::github::env::ActionEnv) -> (i32, String) {
    let mut stdout = Vec::new();
    let code = run_with(env, fast_client(), &mut stdout);
    (code, String::from_utf8(stdout).unwrap())
}

fn env(api: &str, dir: &Path, ws: &Path, payload: &str, extra: &[(&str, &str)]) -> mtls_review::github::env::ActionEnv {
    let ws = ws.display().to_string();
    let mut vars = vec![("GITHUB_WORKSPACE", ws.as_str())];
    vars.extend_from_slice(extra);
    action_env_with_payload(api, dir, payload, &vars)
}

/// Replaces run nonces and commit SHAs so that snapshots are stable.
fn normalise(text: &str, up: &Upstream) -> String {
    let mut out = text.replace(&up.head, "<head>").replace(&up.base, "<base>");
    while let Some(i) = out.find(" run=") {
        let end = out[i + 5..].find(' ').map_or(out.len(), |e| i + 5 + e);
        out.replace_range(i..end, " run:<nonce>");
    }
    out
}

fn comment_places(fake: &FakeGitHub) -> Vec<String> {
    fake.with(|s| {
        s.review_comments
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}-{} {}",
                    c["side"].as_str().unwrap(),
                    c["path"].as_str().unwrap(),
                    c["start_line"].as_u64().unwrap_or(c["line"].as_u64().unwrap()),
                    c["line"],
                    c["body"].as_str().unwrap().lines().nth(1).unwrap()
                )
            })
            .collect()
    })
}

#[test]
fn a_pull_request_end_to_end_with_a_shallow_checkout_reruns_and_a_fix() {
    let mut up = Upstream::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, fake) = rt.block_on(FakeGitHub::start(up.diff()));
    fake.with(|s| s.head_sha = up.head.clone());
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());

    let (code, stdout) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[]));
    assert_eq!(code, 1, "introduced errors fail the job: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    let places = comment_places(&fake);
    // The DISABLE edit's findings are one comment (one cause), as are the deleted PeerAuthentication's.
    assert!(places.iter().any(|p| p.starts_with("RIGHT shop/pa.yaml 8-8 **3 findings on these lines")), "{places:#?}");
    assert!(places.iter().any(|p| p.starts_with("LEFT pay/pa.yaml 1-8 **2 findings on these lines")), "{places:#?}");
    let bodies: Vec<String> =
        fake.with(|s| s.review_comments.iter().map(|c| c["body"].as_str().unwrap().to_string()).collect());
    let shop = bodies.iter().find(|b| b.contains("- **TIS0502** (error)")).unwrap();
    assert!(shop.contains("- **TIS0206** (error)") && shop.contains("- **MTLS003** (warning)"), "{shop}");
    assert_eq!(shop.matches("```suggestion").count(), 1, "one suggestion: {shop}");
    assert!(places.iter().any(|p| p.starts_with("RIGHT web/dr.yaml 10-10 **TIS0206** (warning)")), "{places:#?}");
    fake.with(|s| {
        assert!(s.schema_violations.is_empty(), "{:?}", s.schema_violations);
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(s.reviews[0]["commit_id"].as_str(), Some(up.head.as_str()));
        let body = s.reviews[0]["body"].as_str().unwrap();
        assert!(body.contains("mtls-review"), "the Markdown summary is the review body: {body}");
        assert_eq!(s.check_runs.len(), 1);
        assert_eq!(s.check_runs[0]["conclusion"], "failure");
        assert_eq!(s.check_runs[0]["head_sha"].as_str(), Some(up.head.as_str()));
    });
    // What a person reads: the comments as posted (run nonce and commit SHAs normalised).
    let posted = fake.with(|s| s.bodies("POST", "/pulls/2/reviews")[0].clone());
    let mut shown = String::new();
    for c in posted["comments"].as_array().unwrap() {
        let lines = match c.get("start_line") {
            Some(start) => format!("{start}-{}", c["line"]),
            None => c["line"].to_string(),
        };
        shown.push_str(&format!(
            "=== {} {} {lines}\n{}\n",
            c["side"].as_str().unwrap(),
            c["path"].as_str().unwrap(),
            c["body"].as_str().unwrap()
        ));
    }
    insta::assert_snapshot!("end_to_end_comments", normalise(&shown, &up));
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("mtls-review.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let outputs = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    assert!(outputs.contains("resolved=0\nerrors=0\n"), "{outputs}");

    // Re-run on the same head (the workspace now has the history): nothing new.
    let before = comment_places(&fake);
    let (code, _) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[]));
    assert_eq!(code, 1);
    assert_eq!(comment_places(&fake), before);
    assert_eq!(fake.with(|s| s.reviews.len()), 1);

    // A fix is pushed: shop back to STRICT. Its comments go; the deleted-PA finding stays.
    up.push(&[("shop/pa.yaml", &pa("shop"))], &[]);
    fake.with(|s| {
        s.diff = up.diff();
        s.head_sha = up.head.clone();
    });
    let (code, stdout) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[]));
    let places = comment_places(&fake);
    assert!(places.iter().all(|p| !p.contains("shop/pa.yaml")), "{places:#?}");
    assert!(places.iter().any(|p| p.starts_with("LEFT pay/pa.yaml 1-8")), "{places:#?}");
    assert_eq!(code, 0, "a warning alone does not fail: {stdout}");
    fake.with(|s| assert_eq!(s.check_runs.last().unwrap()["conclusion"], "neutral"));
}

#[test]
fn a_fork_end_to_end_reports_through_workflow_commands() {
    let up = Upstream::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, fake) = rt.block_on(FakeGitHub::start(up.diff()));
    fake.with(|s| s.head_sha = up.head.clone());
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let mut payload: Value = serde_json::from_str(&up.payload()).unwrap();
    payload["pull_request"]["head"]["repo"]["full_name"] = "contributor/Hello-World".into();
    let (code, stdout) = run(env(&server.uri(), dir.path(), &ws, &payload.to_string(), &[]));
    assert_eq!(code, 1);
    assert!(stdout.contains("::error file=shop/pa.yaml,line=8,endLine=8,title=TIS0502"), "{stdout}");
    assert_eq!(fake.with(|s| s.seen.len()), 0);
    assert!(std::fs::read_to_string(dir.path().join("summary.md")).unwrap().contains("TIS0502"));
}

#[test]
fn missing_history_exits_2_naming_fetch_depth() {
    let up = Upstream::new();
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let mut payload: Value = serde_json::from_str(&up.payload()).unwrap();
    payload["pull_request"]["head"]["sha"] = "0123456789abcdef0123456789abcdef01234567".into();
    let (code, stdout) = run(env("http://127.0.0.1:9", dir.path(), &ws, &payload.to_string(), &[]));
    assert_eq!(code, 2);
    assert!(stdout.starts_with("::error title=mtls-review::"), "{stdout}");
    assert!(stdout.contains("fetch-depth: 0"), "{stdout}");
}

#[test]
fn other_events_exit_0_with_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout) =
        run(action_env_with_payload("http://127.0.0.1:9", dir.path(), "{}", &[("GITHUB_EVENT_NAME", "push")]));
    assert_eq!((code, stdout.as_str()), (0, ""));
}

/// The binary as the image's entrypoint runs it: `mtls-review github` with the Actions environment.
fn run_binary(env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtls-review"));
    cmd.arg("github").env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn the_binary_entrypoint_reviews_a_pull_request() {
    let up = Upstream::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, fake) = rt.block_on(FakeGitHub::start(up.diff()));
    fake.with(|s| s.head_sha = up.head.clone());
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let event = dir.path().join("event.json");
    std::fs::write(&event, up.payload()).unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let vars = vec![
        ("GITHUB_EVENT_NAME", "pull_request".to_string()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_REPOSITORY", OWNER_REPO.to_string()),
        ("GITHUB_API_URL", server.uri()),
        ("GITHUB_WORKSPACE", ws.display().to_string()),
        ("GITHUB_STEP_SUMMARY", d("summary.md")),
        ("GITHUB_OUTPUT", d("output.txt")),
        ("RUNNER_TEMP", d("")),
        ("INPUT_GITHUB-TOKEN", TOKEN.to_string()),
        ("INPUT_FAIL-ON", "error".to_string()),
        ("MTLS_REVIEW_LOG", "trace".to_string()),
    ];
    let (code, stdout, stderr) = run_binary(&vars);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains(TOKEN) && !stdout.contains(TOKEN));
    fake.with(|s| {
        assert_eq!(s.reviews.len(), 1);
        assert_eq!(s.check_runs.len(), 1);
    });
    assert!(std::fs::read_to_string(dir.path().join("output.txt")).unwrap().contains("sarif="));

    let (code, stdout, _) = run_binary(&[("GITHUB_EVENT_NAME", "push".to_string())]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn the_base_sides_config_file_sets_fail_on_and_paths() {
    let up = Upstream::with_base_files(&[(".mtls-review.yaml", "fail_on: never\npaths: [pay]\n")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, fake) = rt.block_on(FakeGitHub::start(up.diff()));
    fake.with(|s| s.head_sha = up.head.clone());
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let (code, _) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[]));
    assert_eq!(code, 0, "fail_on: never");
    let places = comment_places(&fake);
    // The deleted PeerAuthentication in pay/ gives TIS0206 and an MTLS003 downgrade (one comment, one cause);
    // nothing outside pay/.
    assert_eq!(places.len(), 1, "only pay/ is reviewed: {places:#?}");
    assert!(places.iter().all(|p| p.starts_with("LEFT pay/pa.yaml 1-8")), "{places:#?}");
    fake.with(|s| assert_eq!(s.check_runs[0]["conclusion"], "neutral"));

    // An explicit input wins over the config file.
    let (code, _) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[("INPUT_FAIL-ON", "warning")]));
    assert_eq!(code, 1);
}

#[test]
fn the_action_fails_when_its_paths_read_nothing() {
    // A `paths` input that matches nothing, and one that holds no manifest: exit 2 with the reason, not a pass.
    let up = Upstream::with_base_files(&[("docs/notes.md", "notes\n")]);
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let (code, stdout) = run(env("http://127.0.0.1:9", dir.path(), &ws, &up.payload(), &[("INPUT_PATHS", "shopp")]));
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.starts_with("::error title=mtls-review::"), "{stdout}");
    assert!(stdout.contains("path `shopp` matches no file"), "{stdout}");
    let (code, stdout) = run(env("http://127.0.0.1:9", dir.path(), &ws, &up.payload(), &[("INPUT_PATHS", "docs")]));
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("no manifests read from the base ("), "{stdout}");
}

#[test]
fn a_pull_request_that_breaks_the_config_file_fails_on_it() {
    let mut up = Upstream::with_base_files(&[(".mtls-review.yaml", "fail_on: error\n")]);
    up.push(&[(".mtls-review.yaml", "fail_on: error\nignore: [TIS9999]\n")], &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, fake) = rt.block_on(FakeGitHub::start(up.diff()));
    fake.with(|s| s.head_sha = up.head.clone());
    let dir = tempfile::tempdir().unwrap();
    let ws = up.checkout(dir.path());
    let (code, _) = run(env(&server.uri(), dir.path(), &ws, &up.payload(), &[("INPUT_FAIL-ON", "never")]));
    assert_eq!(code, 0, "fail-on: never");
    let outputs = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    assert!(!outputs.contains("errors=0\n"), "the broken config counts as an error: {outputs}");
    let summary = fake.with(|s| s.reviews[0]["body"].as_str().unwrap().to_string());
    assert!(summary.contains(".mtls-review.yaml"), "{summary}");
}
