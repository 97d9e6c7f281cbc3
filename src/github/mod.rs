//! The GitHub Action: reviews a pull request's mTLS changes and reports them as one review with inline comments
//! (one-click suggestions where possible), a check run that gates the merge, step outputs and a SARIF file.
//!
//! The only async code in the crate. [`run`] reads everything from the Actions environment; [`publish`] does the
//! reporting for a review already computed (the tests drive it against a stand-in API).

pub mod checks;
pub mod client;
pub mod compose;
pub mod env;
pub mod event;
pub mod history;
pub mod workflow;

use crate::review::{Hunk, Review};
use crate::rules::parse_project_config;
use crate::settings::{AnalysisOptions, FailOn, MeshLayer, PROJECT_CONFIG_FILE, ProjectConfig, parse_mesh_config};
use crate::source::SourceError;
use crate::source::git::review_revisions;
use checks::{Gate, annotations, gate, plan_check_run, plan_status};
use client::{ApiError, ClientOptions, GitHub, Retry};
use compose::{
    ApiSide, Author, ComposeOptions, Existing, ExistingComment, ExistingReview, Identity, ReviewDraft, compose,
    parse_marker,
};
use env::{ActionEnv, ReviewEvent};
use event::{EventKind, PullRequest};
use history::Git;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Exit code when the run could not review (bad environment, missing history, engine failure).
pub const EXIT_SETUP: i32 = 2;

/// The action's entrypoint (`mtls-review github`): reads the Actions environment, makes sure the history is
/// there, reviews, reports, and returns the exit code (0 pass, 1 `fail-on` reached, 2 could not review).
pub fn run() -> i32 {
    // The CLI may have set up logging already; if not, log to stderr (stdout carries workflow commands).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MTLS_REVIEW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let mut stdout = std::io::stdout();
    match ActionEnv::from_process() {
        Ok(env) => run_with(env, ClientOptions::default(), &mut stdout),
        Err(e) => setup_failure(&mut stdout, &e.to_string(), None),
    }
}

/// [`run`] with the environment, client options and stdout given (for tests and embedding).
pub fn run_with(env: ActionEnv, client: ClientOptions, stdout: &mut dyn Write) -> i32 {
    let token = env.token.clone();
    let Some(kind) = EventKind::from_name(&env.event_name) else {
        tracing::info!(
            event = %env.event_name,
            "mtls-review reviews pull requests: run it on `pull_request` or `pull_request_target`; nothing to do for this event"
        );
        return 0;
    };
    let Some(event_path) = env.event_path.clone() else {
        return setup_failure(stdout, "GITHUB_EVENT_PATH is not set", token.as_deref());
    };
    let pr = match event::read(&event_path) {
        Ok(pr) => pr,
        Err(e) => return setup_failure(stdout, &e.to_string(), token.as_deref()),
    };
    history::trust_workspace_owner();
    let git = Git::new(&env.workspace, token.as_deref());
    let merge_base = match history::ensure_history(&git, &pr.base_sha, &pr.head_sha, pr.number, &pr.base_ref) {
        Ok(mb) => mb,
        Err(e) => return setup_failure(stdout, &e.to_string(), token.as_deref()),
    };
    let Prepared { options, paths, fail_on } = match prepare(&env, &git, &merge_base) {
        Ok(p) => p,
        Err(message) => return setup_failure(stdout, &message, token.as_deref()),
    };
    let review = match review_revisions(&env.workspace, &pr.base_sha, &pr.head_sha, &paths, &options) {
        Ok(r) => r,
        // Its message names `fetch-depth: 0`.
        Err(e @ (SourceError::MissingCommit { .. } | SourceError::NoMergeBase { .. })) => {
            return setup_failure(stdout, &e.to_string(), token.as_deref());
        }
        Err(e) => return setup_failure(stdout, &format!("cannot review: {e}"), token.as_deref()),
    };
    let publish_input = Publish {
        env: &env,
        pr: &pr,
        kind,
        client,
        fail_on,
        nonce: nonce(&env),
        summary: crate::report::markdown::render_review(&review),
        sarif: crate::report::sarif::render_review(&review),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            return setup_failure(stdout, &format!("cannot start the async runtime: {e}"), None);
        }
    };
    runtime.block_on(publish(&publish_input, &review, stdout)).exit_code
}

/// Reports a run that could not review: an `::error::` workflow command (visible on the run page) and exit 2.
fn setup_failure(out: &mut dyn Write, message: &str, token: Option<&str>) -> i32 {
    let message = match token {
        Some(t) => client::redact(message, t),
        None => message.to_string(),
    };
    tracing::error!("{message}");
    let line = format!("::error title=mtls-review::{}", workflow::escape_data(&message));
    if let Err(e) = workflow::write_commands(out, &[line]) {
        tracing::warn!(error = %e, "cannot write to stdout");
    }
    EXIT_SETUP
}

/// What the review runs with, from the inputs and the project config.
struct Prepared {
    options: AnalysisOptions,
    /// Subtrees to review: the `paths` input, else the config file's `paths`.
    paths: Vec<String>,
    /// The `fail-on` input, else the config file's `fail_on`, else `error`.
    fail_on: FailOn,
}

/// Reads the inputs, the meshConfig file and the project config file (both from the merge base when the
/// repository has them, so that a change cannot alter the settings it is judged by).
fn prepare(env: &ActionEnv, git: &Git, merge_base: &str) -> Result<Prepared, String> {
    let inputs = &env.inputs;
    let mut cli = MeshLayer {
        root_namespace: inputs.root_namespace.clone(),
        cluster_domain: inputs.cluster_domain.clone(),
        auto_mtls: None,
        istio_version: None,
    };
    if let Some(path) = &inputs.mesh_config {
        // Else from the workspace: a file the workflow provides.
        let text = match git.show(merge_base, path) {
            Some(text) => text,
            None => std::fs::read_to_string(env.workspace.join(path))
                .map_err(|e| format!("cannot read mesh-config {path}: {e}"))?,
        };
        cli = cli.or(&parse_mesh_config(path, &text).map_err(|e| format!("mesh-config: {e}"))?);
    }
    let config_path = inputs.config.as_deref().unwrap_or(PROJECT_CONFIG_FILE);
    let project = match git.show(merge_base, config_path) {
        Some(text) => parse_project_config(config_path, &text).map_err(|e| format!("config: {e}"))?,
        None => {
            if inputs.config.is_some() {
                tracing::warn!(path = config_path, "the config file is not on the base side; using defaults");
            }
            ProjectConfig::default()
        }
    };
    let paths = if inputs.paths.is_empty() { project.paths.clone() } else { inputs.paths.clone() };
    let fail_on = inputs.fail_on.or(project.fail_on).unwrap_or_default();
    let options = AnalysisOptions { cli, project, suggest_mode: inputs.suggest_mode, ..AnalysisOptions::default() };
    Ok(Prepared { options, paths, fail_on })
}

/// A marker value unique to this run.
fn nonce(env: &ActionEnv) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let attempt = std::env::var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|_| "1".into());
    let run: String = env.run_id.as_deref().unwrap_or("local").chars().filter(char::is_ascii_alphanumeric).collect();
    let attempt: String = attempt.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{run}-{attempt}-{:x}", nanos ^ u128::from(std::process::id()))
}

/// What [`publish`] needs besides the review.
#[derive(Debug)]
pub struct Publish<'a> {
    pub env: &'a ActionEnv,
    pub pr: &'a PullRequest,
    pub kind: EventKind,
    pub client: ClientOptions,
    /// Effective `fail-on` (input, else the project config, else `error`).
    pub fail_on: FailOn,
    /// Unique per run: recognises our own review if its POST got no answer.
    pub nonce: String,
    /// The Markdown summary of the review.
    pub summary: String,
    /// The review as SARIF JSON.
    pub sarif: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub exit_code: i32,
    pub gate: Gate,
    /// The id of the review posted (or found landed after a failed answer).
    pub review_id: Option<u64>,
    pub deleted: usize,
    pub replied: usize,
    /// Inline comments in the posted review.
    pub inline_comments: usize,
    /// Set when findings were reported as workflow commands instead (fork, read-only token, API failure).
    pub fallback: Option<String>,
    /// Delivery problems (redacted), also logged.
    pub problems: Vec<String>,
    /// Where the SARIF file was written.
    pub sarif_path: Option<PathBuf>,
    /// Publishing stopped at the `timeout` before everything was delivered.
    pub timed_out: bool,
    /// The pull request's head when it is newer than this run's: nothing was posted.
    pub newer_head: Option<String>,
    /// Why publishing was aborted (what is on the pull request could not be read): no review, a failing check.
    pub aborted: Option<String>,
}

/// Reports a review on the pull request. API problems are logged; when nothing can be written the findings fall
/// back to workflow commands. The exit code follows `fail-on`, except when what is on the pull request cannot be
/// read (then publishing is aborted with exit code 2 and a failing check, as posting blind could repeat a review).
pub async fn publish(p: &Publish<'_>, review: &Review, stdout: &mut dyn Write) -> Outcome {
    let gate = gate(review, p.fail_on);
    let mut out = Outcome {
        exit_code: gate.exit_code,
        gate,
        review_id: None,
        deleted: 0,
        replied: 0,
        inline_comments: 0,
        fallback: None,
        problems: Vec::new(),
        sarif_path: None,
        timed_out: false,
        newer_head: None,
        aborted: None,
    };
    write_local_files(p, &mut out);

    let token = p.env.token.as_deref().unwrap_or("");
    let reason = if p.pr.has_read_only_token(p.kind) {
        Some("the pull request comes from a fork, so this run's token is read-only".to_string())
    } else if token.is_empty() {
        Some("no token: set the `github-token` input".to_string())
    } else {
        None
    };
    if let Some(reason) = reason {
        fall_back(&mut out, review, stdout, reason);
        return out;
    }
    let timeout = p.env.inputs.timeout.unwrap_or(p.client.deadline);
    let options = ClientOptions { deadline: timeout, ..p.client.clone() };
    // Time kept for the check run: the review step ends this much before the deadline.
    let reserve = (timeout / 4).min(options.request_timeout.saturating_mul(3));
    let gh = match GitHub::new(&p.env.api_url, token, options) {
        Ok(gh) => gh,
        Err(e) => {
            fall_back(&mut out, review, stdout, e.to_string());
            return out;
        }
    };
    let Ok((owner, repo)) = p.env.owner_repo() else {
        fall_back(&mut out, review, stdout, format!("GITHUB_REPOSITORY `{}` is not owner/name", p.env.repository));
        return out;
    };
    let review_deadline = gh.deadline().checked_sub(reserve).unwrap_or_else(|| gh.deadline());
    let api = Api {
        gh: gh.with_deadline(review_deadline),
        repo: format!("/repos/{owner}/{repo}"),
        number: p.pr.number,
        me: None,
    };

    let mut forbidden: Option<String> = None;
    let review_delivered = match review_step(api, p, review, &mut out).await {
        Ok(Step::Done) => true,
        Ok(Step::NewerHead(head)) => {
            let message = format!(
                "the pull request's head is now {head}, newer than this run's {}: this run posts nothing (the run for \
                 the new head reports)",
                p.pr.head_sha
            );
            tracing::warn!("{message}");
            write_command(stdout, &format!("::notice title=mtls-review::{}", workflow::escape_data(&message)));
            out.newer_head = Some(head);
            return out;
        }
        Err(StepError::Read(e)) if !e.is_forbidden() && !e.is_deadline() => {
            tracing::error!(error = %e, "cannot read what is on the pull request; not posting a review");
            out.problems.push(format!("review: {e}"));
            out.aborted = Some(format!("cannot read what is already on the pull request ({e})"));
            false
        }
        Err(StepError::Read(e) | StepError::Write(e)) => {
            note_failure(&mut out, &mut forbidden, "review", &e);
            out.timed_out |= e.is_deadline();
            false
        }
    };
    let check_api = Api { gh: gh.clone(), repo: format!("/repos/{owner}/{repo}"), number: p.pr.number, me: None };
    let mut check_delivered = false;
    if forbidden.is_none() {
        let (check_gate, summary) = match &out.aborted {
            Some(why) => {
                let mut g = out.gate.clone();
                g.conclusion = checks::Conclusion::Failure;
                g.title = "review not posted: the pull request's comments could not be read".into();
                let summary = format!(
                    "**mtls-review could not publish its review**: it {why}. Posting without knowing what is there \
                     could repeat comments, so it posted none; re-run the job.\n\n{}",
                    p.summary
                );
                (g, summary)
            }
            None if out.timed_out => {
                let summary = format!(
                    "_The review was not posted in full: publishing stopped at the `timeout` of {} s. The findings \
                     below and the annotations are complete._\n\n{}",
                    timeout.as_secs(),
                    p.summary
                );
                (out.gate.clone(), summary)
            }
            None => (out.gate.clone(), p.summary.clone()),
        };
        match check_step(&check_api, p, review, &check_gate, &summary).await {
            Ok(()) => check_delivered = true,
            Err(e) => {
                out.timed_out |= e.is_deadline();
                note_failure(&mut out, &mut forbidden, "check", &e)
            }
        }
    }
    if let Some(why) = &out.aborted {
        out.exit_code = EXIT_SETUP;
        let line = format!(
            "::error title=mtls-review::{}",
            workflow::escape_data(&format!(
                "publishing aborted: this run {why}; no review was posted. Re-run the job."
            ))
        );
        write_command(stdout, &line);
    }
    if out.timed_out {
        let line = format!(
            "::warning title=mtls-review::{}",
            workflow::escape_data(&format!(
                "publishing stopped at the `timeout` of {} s: {}",
                timeout.as_secs(),
                out.problems.join("; ")
            ))
        );
        write_command(stdout, &line);
    }
    if let Some(reason) = forbidden {
        fall_back(&mut out, review, stdout, reason);
    } else if !check_delivered {
        // The check run carries the annotations: without it, annotate through the runner.
        fall_back(&mut out, review, stdout, "the GitHub API did not take the check run".into());
    } else if !review_delivered && out.aborted.is_none() && !out.timed_out {
        write_command(
            stdout,
            &format!(
                "::warning title=mtls-review::{}",
                workflow::escape_data(
                    "the review could not be posted; the check run and the run's summary have the findings"
                )
            ),
        );
    }
    out
}

fn write_command(stdout: &mut dyn Write, line: &str) {
    if let Err(e) = workflow::write_commands(stdout, &[line.to_string()]) {
        tracing::warn!(error = %e, "cannot write workflow commands");
    }
}

fn note_failure(out: &mut Outcome, forbidden: &mut Option<String>, what: &str, e: &ApiError) {
    tracing::warn!(error = %e, "{what} not delivered");
    out.problems.push(format!("{what}: {e}"));
    if e.is_forbidden() && forbidden.is_none() {
        *forbidden = Some(format!("the token may not write to this pull request ({e})"));
    }
}

/// Step summary, SARIF file and step outputs. Failures are logged, never fatal.
fn write_local_files(p: &Publish<'_>, out: &mut Outcome) {
    let env = p.env;
    if let Some(path) = &env.step_summary {
        if let Err(e) = workflow::append_step_summary(path, &p.summary) {
            tracing::warn!(error = %e, "cannot write the step summary");
        }
    }
    let (sarif_path, sarif_output) = sarif_target(&env.workspace, env.runner_temp.as_deref());
    match std::fs::write(&sarif_path, &p.sarif) {
        Ok(()) => out.sarif_path = Some(sarif_path),
        Err(e) => {
            tracing::warn!(error = %e, path = %sarif_path.display(), "cannot write the SARIF file")
        }
    }
    if let Some(path) = &env.output {
        let mut outputs = vec![
            ("introduced", out.gate.introduced.to_string()),
            ("resolved", out.gate.resolved.to_string()),
            ("errors", out.gate.errors.to_string()),
        ];
        if out.sarif_path.is_some() {
            outputs.push(("sarif", sarif_output));
        }
        if let Err(e) = workflow::write_outputs(path, &outputs) {
            tracing::warn!(error = %e, "cannot write the step outputs");
        }
    }
}

/// Where the SARIF file goes, and the path the `sarif` output names. Normally `RUNNER_TEMP/mtls-review.sarif`
/// with its absolute path. In the Docker action, paths inside the container (`/github/...`) mean nothing to the
/// steps after it, so the file goes into the workspace and the output is relative to it (as later steps, and
/// `upload-sarif`, resolve relative paths against the workspace).
pub fn sarif_target(workspace: &Path, runner_temp: Option<&Path>) -> (PathBuf, String) {
    const NAME: &str = "mtls-review.sarif";
    if workspace == Path::new("/github/workspace") {
        return (workspace.join(NAME), NAME.to_string());
    }
    let path = runner_temp.map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir).join(NAME);
    let shown = path.display().to_string();
    (path, shown)
}

/// Prints every introduced finding as a workflow command. Never fails the job.
fn fall_back(out: &mut Outcome, review: &Review, stdout: &mut dyn Write, reason: String) {
    tracing::warn!("{reason}: reporting the findings as workflow annotations and in the step summary");
    let mut lines = vec![format!(
        "::notice title=mtls-review::{}",
        workflow::escape_data(&format!("{reason}; findings are shown as annotations and on the run's summary page"))
    )];
    lines.extend(workflow::annotation_commands(review));
    if let Err(e) = workflow::write_commands(stdout, &lines) {
        tracing::warn!(error = %e, "cannot write workflow commands");
    }
    out.fallback = Some(reason);
}

/// The pull request's endpoints.
struct Api {
    gh: GitHub,
    /// `/repos/{owner}/{repo}`.
    repo: String,
    number: u64,
    /// Who we are, once known.
    me: Option<Identity>,
}

impl Api {
    fn review_comments(&self) -> String {
        format!("{}/pulls/{}/comments", self.repo, self.number)
    }

    fn reviews(&self) -> String {
        format!("{}/pulls/{}/reviews", self.repo, self.number)
    }

    /// Every item of a list, decoded; an item that does not decode makes the listing fail (an answer that lost
    /// one of our comments could make us repeat it).
    async fn list<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<Vec<T>, ApiError> {
        self.gh
            .get_all(path)
            .await?
            .into_iter()
            .map(|v| {
                serde_json::from_value(v)
                    .map_err(|e| ApiError::Decode { what: format!("an item of {what}"), message: e.to_string() })
            })
            .collect()
    }

    async fn list_comments(&self) -> Result<Vec<ExistingComment>, ApiError> {
        self.list(&self.review_comments(), "the review comments").await
    }

    async fn list_reviews(&self) -> Result<Vec<ExistingReview>, ApiError> {
        self.list(&self.reviews(), "the reviews").await
    }

    /// True when `author` is us (never before we know who we are).
    fn ours(&self, author: Option<&Author>) -> bool {
        self.me.as_ref().is_some_and(|me| me.wrote(author))
    }
}

/// Who the token writes as: `GET /user`; the Actions token may not read it (403 "Resource not accessible by
/// integration") and writes as `github-actions[bot]`.
async fn identify(gh: &GitHub) -> Result<Identity, ApiError> {
    match gh.get("/user").await {
        Ok(resp) => {
            let v: serde_json::Value = resp.json("the token's user")?;
            let login = v.get("login").and_then(|l| l.as_str()).filter(|l| !l.is_empty()).ok_or_else(|| {
                ApiError::Decode { what: "GET /user".into(), message: "no `login` in the answer".into() }
            })?;
            Ok(Identity { login: login.to_string(), id: v.get("id").and_then(serde_json::Value::as_u64) })
        }
        Err(e) if e.is_forbidden() => Ok(Identity::actions_bot()),
        Err(e) => Err(e),
    }
}

/// The pull request's current head commit.
async fn current_head(api: &Api) -> Result<String, ApiError> {
    let v: serde_json::Value =
        api.gh.get(&format!("{}/pulls/{}", api.repo, api.number)).await?.json("the pull request")?;
    v.pointer("/head/sha").and_then(|s| s.as_str()).map(str::to_string).ok_or_else(|| ApiError::Decode {
        what: "the pull request".into(),
        message: "no `head.sha` in the answer".into(),
    })
}

/// How the review step ended.
enum Step {
    Done,
    /// The pull request has a newer head: nothing was written.
    NewerHead(String),
}

enum StepError {
    /// Reading what is on the pull request failed (after retries): nothing was written.
    Read(ApiError),
    /// A write failed.
    Write(ApiError),
}

/// Finds out who we are and what is there, composes, checks the head is still ours, posts the review, then
/// cleans up our old comments.
async fn review_step(mut api: Api, p: &Publish<'_>, review: &Review, out: &mut Outcome) -> Result<Step, StepError> {
    // Without knowing who we are and what is there a run could repeat itself or touch others' content: no
    // listing, no review.
    let me = identify(&api.gh).await.map_err(StepError::Read)?;
    tracing::info!(login = %me.login, "posting as");
    api.me = Some(me.clone());
    let comments = api.list_comments().await.map_err(StepError::Read)?;
    let reviews = api.list_reviews().await.map_err(StepError::Read)?;
    let options = ComposeOptions {
        head_sha: p.pr.head_sha.clone(),
        event: p.env.inputs.review_event,
        nonce: p.nonce.clone(),
        summary: p.summary.clone(),
        max_inline: compose::DEFAULT_MAX_INLINE,
        docs_base: crate::report::DEFAULT_DOCS_URL.to_string(),
        fail_on: p.fail_on,
    };
    let plan = compose(review, &Existing { comments, reviews, me: Some(me) }, &options);
    // Last read before the first write: a run overtaken by a push says nothing.
    let head = current_head(&api).await.map_err(StepError::Read)?;
    if head != p.pr.head_sha {
        return Ok(Step::NewerHead(head));
    }
    tracing::info!(
        new = plan.review.as_ref().map_or(0, |d| d.inline.len()),
        already = plan.already_commented,
        delete = plan.deletions.len(),
        reply = plan.replies.len(),
        "review plan"
    );
    if let Some(draft) = plan.review {
        let (id, inline) = post_review(&api, draft).await.map_err(StepError::Write)?;
        out.review_id = id;
        out.inline_comments = inline;
    } else if let Some(id) = plan.already_reviewed {
        tracing::info!(id, "this head was reviewed already: no second review");
    } else {
        tracing::info!("nothing new to say: no review posted");
    }
    // Clean-up is best effort: one failed call does not stop the others, but a 403 means the token is read-only.
    let mut cleanup: Result<(), ApiError> = Ok(());
    for id in &plan.deletions {
        match api.gh.delete(&format!("{}/pulls/comments/{id}", api.repo)).await {
            Ok(()) => out.deleted += 1,
            Err(e) => note_cleanup(out, &mut cleanup, "cannot delete a resolved comment", e),
        }
    }
    for reply in &plan.replies {
        let path = format!("{}/pulls/{}/comments/{}/replies", api.repo, api.number, reply.comment_id);
        // Not repeated on a lost answer: a second "resolved" reply would be noise, and the next run answers a
        // thread that still lacks one.
        match api.gh.post(&path, &serde_json::json!({ "body": reply.body }), Retry::OnlyIfNotProcessed).await {
            Ok(_) => out.replied += 1,
            Err(e) => note_cleanup(out, &mut cleanup, "cannot answer a resolved comment", e),
        }
    }
    for id in &plan.dismissals {
        let path = format!("{}/dismissals", review_path(&api, *id));
        let body = serde_json::json!({
            "message": format!("No mTLS finding at or above `fail-on` is introduced as of {}.", p.pr.head_sha),
            "event": "DISMISS",
        });
        if let Err(e) = api.gh.put(&path, &body).await {
            // Repositories may forbid dismissals; the check run still reports the truth.
            tracing::warn!(error = %e, "cannot dismiss an earlier review");
            if e.is_deadline() {
                note_cleanup(out, &mut cleanup, "cannot dismiss an earlier review", e);
            }
        }
    }
    if p.env.inputs.sticky_summary
        && let Err(e) = sticky_summary(&api, p).await
    {
        note_cleanup(out, &mut cleanup, "cannot update the sticky summary", e);
    }
    cleanup.map(|()| Step::Done).map_err(StepError::Write)
}

/// Records a failed clean-up call; keeps the first 403 (it switches to the fallback) or deadline to return.
fn note_cleanup(out: &mut Outcome, first_fatal: &mut Result<(), ApiError>, what: &str, e: ApiError) {
    tracing::warn!(error = %e, "{what}");
    out.problems.push(format!("{what}: {e}"));
    if (e.is_forbidden() || e.is_deadline()) && first_fatal.is_ok() {
        *first_fatal = Err(e);
    }
}

fn review_path(api: &Api, id: u64) -> String {
    format!("{}/{id}", api.reviews())
}

/// Posts the review; a failed POST is repeated only once the markers show it did not land; comments GitHub
/// refuses (422) move to the body, one by one: a refusal that GitHub's diff does not explain is narrowed down by
/// posting the comments singly. Returns the review id (when known) and the number of inline comments.
async fn post_review(api: &Api, mut draft: ReviewDraft) -> Result<(Option<u64>, usize), ApiError> {
    let options = api.gh.options().clone();
    let mut unanswered = 0;
    let mut refusals = 0;
    // Inline comments already posted singly (they are not in the review itself).
    let mut posted_alone = 0;
    loop {
        let request = draft.request();
        let result = api.gh.post(&api.reviews(), &request, Retry::OnlyIfNotProcessed).await;
        match result {
            Ok(resp) => {
                let id =
                    resp.json::<serde_json::Value>("review").ok().and_then(|v| v.get("id").and_then(|i| i.as_u64()));
                tracing::info!(?id, comments = request.comments.len(), "review posted");
                return Ok((id, posted_alone + request.comments.len()));
            }
            Err(e) if e.status() == Some(422) => {
                refusals += 1;
                tracing::warn!(error = %e, "GitHub refused the review");
                if draft.event == ReviewEvent::RequestChanges && e.message().contains("own pull request") {
                    // The token's user wrote the pull request: GitHub allows only comments then.
                    draft.event = ReviewEvent::Comment;
                    continue;
                }
                if draft.inline.is_empty() || refusals > 2 {
                    return Err(e);
                }
                let mut refused = if refusals == 1 { refused_by_diff(api, &draft).await } else { BTreeSet::new() };
                if refused.is_empty() && draft.inline.len() > 1 {
                    // GitHub did not say which one: each comment alone, and only the refused ones move.
                    let (alone_refused, posted) = post_singly(api, &draft).await?;
                    tracing::info!(posted, refused = alone_refused.len(), "posted the inline comments singly");
                    posted_alone += posted;
                    draft.move_to_body(&alone_refused);
                    draft.inline.clear();
                    continue;
                }
                if refused.is_empty() {
                    refused = (0..draft.inline.len()).collect();
                }
                tracing::info!(moved = refused.len(), "moving refused comments to the review body");
                draft.move_to_body(&refused);
            }
            Err(e) if e.may_have_landed() => {
                unanswered += 1;
                match landed(api, &draft).await {
                    Ok(Some(id)) => {
                        tracing::info!(id, "the review landed although its POST got no answer");
                        return Ok((Some(id).filter(|i| *i != 0), draft.inline.len()));
                    }
                    Ok(None) if unanswered <= options.max_retries => {
                        let delay =
                            options.initial_backoff.saturating_mul(1 << unanswered.min(16)).min(options.max_backoff);
                        tracing::warn!(error = %e, ?delay, "the review did not land; posting again");
                        if !api.gh.wait(delay).await {
                            return Err(e);
                        }
                    }
                    Ok(None) => return Err(e),
                    Err(check) => {
                        // Unknown whether it landed: posting again could post it twice.
                        tracing::warn!(error = %check, "cannot check whether the review landed; not posting again");
                        return Err(e);
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Looks for this run's markers: on the review comments when the review has inline comments, else on the
/// reviews. `Some(id)` when found (id 0 when only a comment shows it).
async fn landed(api: &Api, draft: &ReviewDraft) -> Result<Option<u64>, ApiError> {
    let ours = |body: &str| parse_marker(body).is_some_and(|m| m.fields.get("run") == Some(&draft.nonce));
    if draft.inline.is_empty() {
        Ok(api
            .list_reviews()
            .await?
            .into_iter()
            .find(|r| api.ours(r.user.as_ref()) && r.body.as_deref().is_some_and(ours))
            .map(|r| r.id))
    } else {
        let comments: Vec<serde_json::Value> = api.gh.get_all(&api.review_comments()).await?;
        let found = comments.iter().find(|c| {
            let author: Option<Author> = c.get("user").and_then(|u| serde_json::from_value(u.clone()).ok());
            api.ours(author.as_ref()) && c.get("body").and_then(|b| b.as_str()).is_some_and(ours)
        });
        Ok(found.map(|c| c.get("pull_request_review_id").and_then(|i| i.as_u64()).unwrap_or(0)))
    }
}

/// Posts each inline comment as a review comment of its own (`POST /pulls/{n}/comments`); returns the indices
/// GitHub refused (422) and how many it took. Another failure stops: what was posted carries our markers, so the
/// next run recognises it.
async fn post_singly(api: &Api, draft: &ReviewDraft) -> Result<(BTreeSet<usize>, usize), ApiError> {
    let mut refused = BTreeSet::new();
    let mut posted = 0;
    for (i, c) in draft.inline.iter().enumerate() {
        let mut body = serde_json::to_value(&c.comment)
            .map_err(|e| ApiError::Decode { what: "a review comment".into(), message: e.to_string() })?;
        body["commit_id"] = serde_json::Value::String(draft.commit_id.clone());
        match api.gh.post(&api.review_comments(), &body, Retry::OnlyIfNotProcessed).await {
            Ok(_) => posted += 1,
            Err(e) if e.status() == Some(422) => {
                tracing::warn!(error = %e, path = %c.comment.path, line = c.comment.line, "GitHub refused a comment");
                refused.insert(i);
            }
            Err(e) => return Err(e),
        }
    }
    Ok((refused, posted))
}

/// A file of the pull request as `GET /pulls/{n}/files` lists it.
#[derive(Deserialize)]
struct PrFile {
    filename: String,
    #[serde(default)]
    patch: Option<String>,
}

/// The inline comments whose lines are not in GitHub's own diff of the pull request (its files' patches).
async fn refused_by_diff(api: &Api, draft: &ReviewDraft) -> BTreeSet<usize> {
    let files = match api.gh.get_all(&format!("{}/pulls/{}/files", api.repo, api.number)).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the pull request's files");
            return BTreeSet::new();
        }
    };
    let hunks: BTreeMap<String, Vec<Hunk>> = files
        .into_iter()
        .filter_map(|v| serde_json::from_value::<PrFile>(v).ok())
        .map(|f| (f.filename, f.patch.as_deref().map(patch_hunks).unwrap_or_default()))
        .collect();
    draft
        .inline
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let c = &c.comment;
            let side = match c.side {
                ApiSide::Left => crate::finding::Side::Base,
                ApiSide::Right => crate::finding::Side::Head,
            };
            let start = c.start_line.unwrap_or(c.line);
            let fits = hunks
                .get(&c.path)
                .is_some_and(|hs| hs.iter().any(|h| h.contains(side, start) && h.contains(side, c.line)));
            !fits
        })
        .map(|(i, _)| i)
        .collect()
}

/// The hunks of a file's patch, from its `@@ -a,b +c,d @@` headers.
pub fn patch_hunks(patch: &str) -> Vec<Hunk> {
    let range = |s: &str| -> Option<(usize, usize)> {
        let (start, len) = match s.split_once(',') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => (s.parse().ok()?, 1),
        };
        Some((start, len))
    };
    patch
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("@@ -")?;
            let (old, rest) = rest.split_once(" +")?;
            let (new, _) = rest.split_once(" @@")?;
            let (base_start, base_lines) = range(old)?;
            let (head_start, head_lines) = range(new)?;
            Some(Hunk { base_start, base_lines, head_start, head_lines })
        })
        .collect()
}

/// One issue comment of ours holding the summary, updated in place.
async fn sticky_summary(api: &Api, p: &Publish<'_>) -> Result<(), ApiError> {
    let list = format!("{}/issues/{}/comments", api.repo, api.number);
    let comments = api.gh.get_all(&list).await?;
    let body = format!("{}\n{}\n\n_Head: {}_\n", compose::summary_marker(), p.summary.trim_end(), p.pr.head_sha);
    let body: String = body.chars().take(compose::MAX_BODY_CHARS).collect();
    // Ours: written by us and carrying the marker (a person's comment quoting the marker is not touched).
    let ours = comments.iter().find_map(|c| {
        let author: Option<Author> = c.get("user").and_then(|u| serde_json::from_value(u.clone()).ok());
        if !api.ours(author.as_ref()) {
            return None;
        }
        let text = c.get("body")?.as_str()?;
        parse_marker(text).filter(|m| m.kind == "summary")?;
        Some((c.get("id")?.as_u64()?, text.to_string()))
    });
    match ours {
        Some((_, text)) if text == body => Ok(()),
        Some((id, _)) => {
            api.gh.patch(&format!("{}/issues/comments/{id}", api.repo), &serde_json::json!({ "body": body })).await?;
            Ok(())
        }
        None => {
            api.gh.post(&list, &serde_json::json!({ "body": body }), Retry::OnlyIfNotProcessed).await?;
            Ok(())
        }
    }
}

/// The check run (annotations 50 per request); a commit status when check runs are refused.
async fn check_step(api: &Api, p: &Publish<'_>, review: &Review, gate: &Gate, summary: &str) -> Result<(), ApiError> {
    let name = &p.env.inputs.check_name;
    let plan = plan_check_run(
        name,
        &p.pr.head_sha,
        gate,
        summary,
        annotations(review),
        p.env.run_url(),
        Some(p.nonce.clone()),
    );
    match create_check_run(api, &plan.create, &p.nonce).await {
        Ok(id) => {
            for update in &plan.updates {
                api.gh.patch(&format!("{}/check-runs/{id}", api.repo), update).await?;
            }
            tracing::info!(id, conclusion = ?gate.conclusion, "check run created");
            Ok(())
        }
        Err(e) if e.is_deadline() => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "cannot create a check run; setting a commit status instead");
            let status = plan_status(name, gate, p.env.run_url());
            api.gh.post(&format!("{}/statuses/{}", api.repo, p.pr.head_sha), &status, Retry::Idempotent).await?;
            Ok(())
        }
    }
}

/// Creates the check run and returns its id. An answer that is lost or garbled is not taken for a refusal: the
/// run is looked up by its `external_id` (this run's nonce) and posted again only when it is not there.
async fn create_check_run(api: &Api, create: &checks::CreateCheckRun, nonce: &str) -> Result<u64, ApiError> {
    let options = api.gh.options().clone();
    let mut attempt = 0;
    loop {
        let error = match api.gh.post(&format!("{}/check-runs", api.repo), create, Retry::OnlyIfNotProcessed).await {
            Ok(resp) => match resp.json::<serde_json::Value>("check run").ok().and_then(|v| v.get("id")?.as_u64()) {
                Some(id) => return Ok(id),
                None => ApiError::Decode { what: "the created check run".into(), message: "no id".into() },
            },
            Err(e) if e.may_have_landed() => e,
            Err(e) => return Err(e),
        };
        match find_check_run(api, &create.head_sha, &create.name, nonce).await {
            Ok(Some(id)) => {
                tracing::info!(id, error = %error, "the check run was created although its answer was lost");
                return Ok(id);
            }
            Ok(None) if attempt < options.max_retries => {
                attempt += 1;
                let delay = options.initial_backoff.saturating_mul(1 << attempt.min(16)).min(options.max_backoff);
                tracing::warn!(error = %error, ?delay, "the check run was not created; posting again");
                if !api.gh.wait(delay).await {
                    return Err(error);
                }
            }
            Ok(None) => return Err(error),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look the check run up; not posting it again");
                return Err(if e.is_deadline() { e } else { error });
            }
        }
    }
}

/// Our check run on `sha` by name and `external_id`.
async fn find_check_run(api: &Api, sha: &str, name: &str, nonce: &str) -> Result<Option<u64>, ApiError> {
    let path = format!("{}/commits/{sha}/check-runs?check_name={}&filter=all", api.repo, query_escape(name));
    let v: serde_json::Value = api.gh.get(&path).await?.json("the check runs")?;
    let runs = v.get("check_runs").and_then(|r| r.as_array()).ok_or_else(|| ApiError::Decode {
        what: "the check runs".into(),
        message: "no `check_runs` in the answer".into(),
    })?;
    Ok(runs
        .iter()
        .filter(|r| r.get("external_id").and_then(|e| e.as_str()) == Some(nonce))
        .filter_map(|r| r.get("id")?.as_u64())
        .max())
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn query_escape(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_goes_to_runner_temp_or_into_the_workspace_of_a_container_action() {
        let (p, shown) = sarif_target(Path::new("/home/runner/work/r/r"), Some(Path::new("/home/runner/work/_temp")));
        assert_eq!(
            (p.as_path(), shown.as_str()),
            (Path::new("/home/runner/work/_temp/mtls-review.sarif"), "/home/runner/work/_temp/mtls-review.sarif")
        );
        let (p, shown) = sarif_target(Path::new("/github/workspace"), Some(Path::new("/github/runner_temp")));
        assert_eq!(
            (p.as_path(), shown.as_str()),
            (Path::new("/github/workspace/mtls-review.sarif"), "mtls-review.sarif")
        );
    }

    #[test]
    fn patch_hunks_read_headers() {
        let patch = "@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n@@ -10 +11,0 @@ context\n-x";
        assert_eq!(
            patch_hunks(patch),
            vec![
                Hunk { base_start: 1, base_lines: 3, head_start: 1, head_lines: 4 },
                Hunk { base_start: 10, base_lines: 1, head_start: 11, head_lines: 0 },
            ]
        );
    }
}
