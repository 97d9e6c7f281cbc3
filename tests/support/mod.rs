//! Test support for the GitHub integration: a stateful stand-in for the REST API (a wiremock responder that
//! answers with the recorded fixture bodies, remembers what was posted, paginates, and injects faults), a
//! request-schema checker, and builders for `Review` values.

#![allow(dead_code, clippy::unwrap_used)]

use mtls_review::finding::{Anchor, Finding, Fix, Location, ObjectRef, Severity, Side, Status};
use mtls_review::github::env::ActionEnv;
use mtls_review::manifest::SourceText;
use mtls_review::review::{FileChange, Hunk, PostureChange, Review};
use mtls_review::settings::MeshSettings;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const OWNER_REPO: &str = "Codertocat/Hello-World";
pub const NUMBER: u64 = 2;
/// `pull_request.head.sha` / `base.sha` of the synchronize payload fixture.
pub const HEAD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub const BASE_SHA: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
pub const TOKEN: &str = "ghs_TESTtoken0123456789abcdefSECRET";
/// The user id of `github-actions[bot]` on github.com.
pub const ACTIONS_BOT_ID: u64 = 41_898_282;

/// A fixture file's text.
pub fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fixture file as JSON.
pub fn fixture_json(rel: &str) -> Value {
    serde_json::from_str(&fixture(rel)).unwrap()
}

/// The JSON schema of a request body fixture.
pub fn request_schema(rel: &str) -> Value {
    fixture_json(rel)["content"]["application/json"]["schema"].clone()
}

/// Checks `value` against the subset of JSON Schema the REST description uses (type, properties, required, enum,
/// items, maxItems, maxLength), and more strictly: properties the schema does not name are errors (they catch
/// misspelt fields such as `startLine`).
pub fn schema_errors(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let ty = schema.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("boolean") => value.is_boolean(),
        Some("number") => value.is_number(),
        _ => true,
    };
    if !ok {
        errs.push(format!("{at}: expected {ty:?}, got {value}"));
        return errs;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errs.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(max), Some(s)) = (schema.get("maxLength").and_then(Value::as_u64), value.as_str()) {
        if s.chars().count() as u64 > max {
            errs.push(format!("{at}: longer than {max}"));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = req.as_str().unwrap();
            if !obj.contains_key(name) {
                errs.push(format!("{at}: missing required `{name}`"));
            }
        }
        if let Some(props) = props {
            for (k, v) in obj {
                match props.get(k) {
                    Some(s) => errs.extend(schema_errors(s, v, &format!("{at}.{k}"))),
                    None => errs.push(format!("{at}: `{k}` is not in the schema")),
                }
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                errs.push(format!("{at}: {} items, at most {max}", items.len()));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, v) in items.iter().enumerate() {
                errs.extend(schema_errors(item_schema, v, &format!("{at}[{i}]")));
            }
        }
    }
    errs
}

/// One request the stand-in saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path relative to `/repos/{owner}/{repo}` when under it, with the query.
    pub path: String,
    pub body: Option<Value>,
    pub headers: BTreeMap<String, String>,
}

/// An injected fault: the next `times` requests matching `method` (`*`: any) and a path ending with
/// `path_suffix` get this answer; with `land`, the request is carried out first (the answer is lost on the way
/// back).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_suffix: String,
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub land: bool,
    pub times: usize,
    pub delay: Option<Duration>,
}

impl Fault {
    pub fn new(method: &'static str, path_suffix: &str, status: u16, body: &str) -> Fault {
        Fault {
            method,
            path_suffix: path_suffix.to_string(),
            status,
            headers: Vec::new(),
            body: body.to_string(),
            land: false,
            times: 1,
            delay: None,
        }
    }
}

/// The stand-in's memory.
#[derive(Debug, Default)]
pub struct State {
    /// The pull request's diff: path -> hunks. Review comments outside them get GitHub's 422.
    pub diff: BTreeMap<String, Vec<Hunk>>,
    pub review_comments: Vec<Value>,
    pub reviews: Vec<Value>,
    pub issue_comments: Vec<Value>,
    pub check_runs: Vec<Value>,
    pub statuses: Vec<Value>,
    pub seen: Vec<Seen>,
    pub faults: Vec<Fault>,
    /// Every write answers 403 "Resource not accessible by integration" (a fork's token).
    pub read_only: bool,
    /// Check-run writes answer 403 (a token without `checks: write`).
    pub checks_forbidden: bool,
    /// Request bodies that broke the documented schema.
    pub schema_violations: Vec<String>,
    /// Paths whose comments GitHub refuses with a generic 422 although they are in the diff (the `files` listing
    /// does not explain the refusal).
    pub refuse_paths: Vec<String>,
    /// What `GET /user` answers: `None`, the Actions token's 403; `Some(user)`, a personal token's user.
    pub token_user: Option<Value>,
    /// The pull request's head as `GET /pulls/{n}` tells it (the payload's head unless a test pushes).
    pub head_sha: String,
    next_id: u64,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    /// The requests with this method whose path (without query) ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.seen.iter().filter(|s| s.method == method && s.path.split('?').next().unwrap().ends_with(suffix)).count()
    }

    /// Bodies of the requests with this method whose path ends with `suffix`.
    pub fn bodies(&self, method: &str, suffix: &str) -> Vec<Value> {
        self.seen
            .iter()
            .filter(|s| s.method == method && s.path.split('?').next().unwrap().ends_with(suffix))
            .filter_map(|s| s.body.clone())
            .collect()
    }
}

/// The stand-in GitHub.
#[derive(Clone)]
pub struct FakeGitHub {
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// Starts a server answering every request with this stand-in.
    pub async fn start(diff: BTreeMap<String, Vec<Hunk>>) -> (MockServer, FakeGitHub) {
        let server = MockServer::start().await;
        let fake =
            FakeGitHub { state: Arc::new(Mutex::new(State { diff, head_sha: HEAD_SHA.into(), ..State::default() })) };
        Mock::given(wiremock::matchers::any()).respond_with(fake.clone()).mount(&server).await;
        (server, fake)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// A comment by someone else (the fixture's `octocat`), as GitHub lists it.
    pub fn add_human_comment(&self, in_reply_to: Option<u64>, path: &str, line: usize, body: &str) -> u64 {
        self.with(|s| {
            let id = s.id();
            let mut c = comment_template();
            c["user"]["login"] = json!("octocat");
            c["user"]["id"] = json!(1);
            c["id"] = json!(id);
            c["path"] = json!(path);
            c["line"] = json!(line);
            c["original_line"] = json!(line);
            c["side"] = json!("RIGHT");
            c["start_line"] = Value::Null;
            c["original_start_line"] = Value::Null;
            c["start_side"] = Value::Null;
            c["body"] = json!(body);
            c["commit_id"] = json!(HEAD_SHA);
            match in_reply_to {
                Some(p) => c["in_reply_to_id"] = json!(p),
                None => {
                    c.as_object_mut().unwrap().remove("in_reply_to_id");
                }
            }
            s.review_comments.push(c);
            id
        })
    }
}

/// The list-review-comments fixture's item, used as the shape of every comment the stand-in stores.
fn comment_template() -> Value {
    fixture_json("rest-api-description/pulls-list-review-comments.response-200.pull-request-review-comment-items.json")
        [0]
    .clone()
}

/// Sets `user` to the account that writes with the run's token: `github-actions[bot]`, or the personal token's
/// user.
fn set_author(s: &State, v: &mut Value) {
    match &s.token_user {
        Some(u) => {
            v["user"]["login"] = u["login"].clone();
            v["user"]["id"] = u["id"].clone();
            v["user"]["type"] = json!("User");
        }
        None => {
            v["user"]["login"] = json!("github-actions[bot]");
            v["user"]["id"] = json!(ACTIONS_BOT_ID);
            v["user"]["type"] = json!("Bot");
        }
    }
}

fn forbidden() -> ResponseTemplate {
    // Test-written body, GitHub's documented wording for a read-only integration token.
    ResponseTemplate::new(403).set_body_json(json!({
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest",
        "status": "403"
    }))
}

fn paginate(req: &Request, items: &[Value]) -> ResponseTemplate {
    let q: BTreeMap<String, String> = req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).min(100);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    let mut t = ResponseTemplate::new(200).set_body_json(chunk);
    if page < last {
        let mut next = req.url.clone();
        next.set_query(Some(&format!("per_page={per_page}&page={}", page + 1)));
        let mut last_url = req.url.clone();
        last_url.set_query(Some(&format!("per_page={per_page}&page={last}")));
        t = t.insert_header("link", format!("<{next}>; rel=\"next\", <{last_url}>; rel=\"last\"").as_str());
    }
    t
}

impl Respond for FakeGitHub {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        let prefix = format!("/repos/{OWNER_REPO}");
        // GitHub Enterprise Server serves the REST API under `/api/v3`.
        let full_path = req.url.path().trim_start_matches("/api/v3").to_string();
        let rel = full_path.strip_prefix(&prefix).unwrap_or(&full_path).to_string();
        let method = req.method.to_string();
        let body: Option<Value> = if req.body.is_empty() { None } else { serde_json::from_slice(&req.body).ok() };
        let headers =
            req.headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let query = req.url.query().map(|q| format!("?{q}")).unwrap_or_default();
        s.seen.push(Seen { method: method.clone(), path: format!("{rel}{query}"), body: body.clone(), headers });

        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") && auth != format!("token {TOKEN}") {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
        }
        if let Some(i) = s.faults.iter().position(|f| {
            (f.method == method || f.method == "*")
                && rel.split('?').next().unwrap().ends_with(&f.path_suffix)
                && f.times > 0
        }) {
            let f = s.faults[i].clone();
            s.faults[i].times -= 1;
            if f.land {
                let _ = route(&mut s, req, &method, &rel, body);
            }
            let mut t = ResponseTemplate::new(f.status).set_body_string(f.body.replace("{auth}", auth));
            for (k, v) in &f.headers {
                t = t.insert_header(*k, v.as_str());
            }
            if let Some(d) = f.delay {
                t = t.set_delay(d);
            }
            return t;
        }
        if method != "GET" && s.read_only {
            return forbidden();
        }
        route(&mut s, req, &method, &rel, body)
    }
}

/// The API's behaviour.
fn route(s: &mut State, req: &Request, method: &str, rel: &str, body: Option<Value>) -> ResponseTemplate {
    let parts: Vec<&str> = rel.trim_start_matches('/').split('/').collect();
    let n = NUMBER.to_string();
    match (method, parts.as_slice()) {
        ("GET", ["user"]) if rel == "/user" => match &s.token_user {
            Some(u) => ResponseTemplate::new(200).set_body_json(u.clone()),
            None => forbidden(),
        },
        ("GET", ["pulls", p]) if *p == n => {
            let mut pr = fixture_json("rest-api-description/pulls-get.response-200.pull-request.json");
            pr["number"] = json!(NUMBER);
            pr["head"]["sha"] = json!(s.head_sha);
            pr["base"]["sha"] = json!(BASE_SHA);
            ResponseTemplate::new(200).set_body_json(pr)
        }
        ("GET", ["commits", sha, "check-runs"]) => {
            let q: BTreeMap<String, String> =
                req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let template =
                fixture_json("real-responses/octocrab-tests.commit_check_runs.json")["check_runs"][0].clone();
            let runs: Vec<Value> = s
                .check_runs
                .iter()
                .filter(|r| r["head_sha"] == *sha && q.get("check_name").is_none_or(|n| r["name"] == n.as_str()))
                .map(|r| {
                    let mut t = template.clone();
                    for k in ["id", "name", "head_sha", "external_id", "conclusion"] {
                        t[k] = r[k].clone();
                    }
                    t
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"total_count": runs.len(), "check_runs": runs}))
        }
        ("GET", ["pulls", p, "comments"]) if *p == n => paginate(req, &s.review_comments),
        ("GET", ["pulls", p, "reviews"]) if *p == n => paginate(req, &s.reviews),
        ("GET", ["issues", p, "comments"]) if *p == n => paginate(req, &s.issue_comments),
        ("GET", ["pulls", p, "files"]) if *p == n => {
            let template =
                fixture_json("rest-api-description/pulls-list-files.response-200.diff-entry-items.json")[0].clone();
            let files: Vec<Value> = s
                .diff
                .iter()
                .map(|(path, hunks)| {
                    let mut f = template.clone();
                    f["filename"] = json!(path);
                    let patch: Vec<String> = hunks
                        .iter()
                        .map(|h| {
                            format!(
                                "@@ -{},{} +{},{} @@\n context",
                                h.base_start, h.base_lines, h.head_start, h.head_lines
                            )
                        })
                        .collect();
                    f["patch"] = json!(patch.join("\n"));
                    f
                })
                .collect();
            paginate(req, &files)
        }
        ("POST", ["pulls", p, "reviews"]) if *p == n => create_review(s, body.unwrap_or(Value::Null)),
        ("POST", ["pulls", p, "comments"]) if *p == n => {
            let body = body.unwrap_or(Value::Null);
            let errs = schema_errors(
                &request_schema("rest-api-description/pulls-create-review-comment.request-body.json"),
                &body,
                "review comment",
            );
            if !errs.is_empty() {
                s.schema_violations.extend(errs);
                return ResponseTemplate::new(422).set_body_string(fixture(
                    "error-responses/octokit-fixtures.errors.422-validation-failed.normalized-fixture.json",
                ));
            }
            if let Some(refusal) = refuse_comment(s, &body) {
                return refusal;
            }
            let id = s.id();
            let commit = body["commit_id"].clone();
            let stored = store_comment(s, &body, id, &commit);
            ResponseTemplate::new(201).set_body_json(stored)
        }
        ("DELETE", ["pulls", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let before = s.review_comments.len();
            s.review_comments.retain(|c| c["id"].as_u64() != Some(id));
            if s.review_comments.len() == before {
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
            } else {
                ResponseTemplate::new(204)
            }
        }
        ("POST", ["pulls", p, "comments", parent, "replies"]) if *p == n => {
            let parent: u64 = parent.parse().unwrap_or(0);
            let Some(top) = s.review_comments.iter().find(|c| c["id"].as_u64() == Some(parent)).cloned() else {
                return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
            };
            let mut c = fixture_json(
                "rest-api-description/pulls-create-reply-for-review-comment.response-201.pull-request-review-comment.json",
            );
            c["id"] = json!(s.id());
            c["in_reply_to_id"] = json!(parent);
            c["path"] = top["path"].clone();
            c["line"] = top["line"].clone();
            c["side"] = top["side"].clone();
            c["body"] = body.as_ref().map(|b| b["body"].clone()).unwrap_or(Value::Null);
            set_author(s, &mut c);
            s.review_comments.push(c.clone());
            ResponseTemplate::new(201).set_body_json(c)
        }
        ("PUT", ["pulls", p, "reviews", id, "dismissals"]) if *p == n => {
            let id: u64 = id.parse().unwrap_or(0);
            for r in s.reviews.iter_mut().filter(|r| r["id"].as_u64() == Some(id)) {
                r["state"] = json!("DISMISSED");
            }
            let mut r =
                fixture_json("rest-api-description/pulls-dismiss-review.response-200.pull-request-review-3.json");
            r["id"] = json!(id);
            ResponseTemplate::new(200).set_body_json(r)
        }
        ("POST", ["check-runs"]) => {
            if s.checks_forbidden {
                return forbidden();
            }
            let body = body.unwrap_or(Value::Null);
            let errs = schema_errors(
                &request_schema("rest-api-description/checks-create.request-body.json"),
                &body,
                "check-run",
            );
            if !errs.is_empty() {
                s.schema_violations.extend(errs);
                return ResponseTemplate::new(422).set_body_string(fixture(
                    "error-responses/octokit-fixtures.errors.422-validation-failed.normalized-fixture.json",
                ));
            }
            let mut run =
                fixture_json("rest-api-description/checks-create.response-201.example-of-completed-conclusion.json");
            let id = s.id();
            run["id"] = json!(id);
            run["name"] = body["name"].clone();
            run["head_sha"] = body["head_sha"].clone();
            run["conclusion"] = body["conclusion"].clone();
            let annotations = body["output"]["annotations"].as_array().cloned().unwrap_or_default();
            let mut stored = body.clone();
            stored["id"] = json!(id);
            stored["all_annotations"] = json!(annotations);
            s.check_runs.push(stored);
            ResponseTemplate::new(201).set_body_json(run)
        }
        ("PATCH", ["check-runs", id]) => {
            if s.checks_forbidden {
                return forbidden();
            }
            let id: u64 = id.parse().unwrap_or(0);
            let body = body.unwrap_or(Value::Null);
            // PATCH takes the create schema's `output` (annotations at most 50 per request).
            let schema = request_schema("rest-api-description/checks-create.request-body.json");
            let errs = schema_errors(&schema["properties"]["output"], &body["output"], "check-run PATCH output");
            if !errs.is_empty() {
                s.schema_violations.extend(errs);
                return ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed"}));
            }
            let Some(run) = s.check_runs.iter_mut().find(|r| r["id"].as_u64() == Some(id)) else {
                return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
            };
            let mut all = run["all_annotations"].as_array().cloned().unwrap_or_default();
            all.extend(body["output"]["annotations"].as_array().cloned().unwrap_or_default());
            run["all_annotations"] = json!(all);
            let mut answer = fixture_json("rest-api-description/checks-get.response-200.check-run.json");
            answer["id"] = json!(id);
            ResponseTemplate::new(200).set_body_json(answer)
        }
        ("POST", ["statuses", sha]) => {
            let exchange = fixture_json("real-responses/octokit-fixtures.create-status.normalized-fixture.json");
            let mut answer = exchange[0]["response"].clone();
            let body = body.unwrap_or(Value::Null);
            for k in ["state", "context", "description", "target_url"] {
                answer[k] = body[k].clone();
            }
            answer["url"] = json!(format!("https://api.github.com/repos/{OWNER_REPO}/statuses/{sha}"));
            s.statuses.push(body);
            ResponseTemplate::new(201).set_body_json(answer)
        }
        ("POST", ["issues", p, "comments"]) if *p == n => {
            let id = s.id();
            let mut c = json!({"id": id, "body": body.as_ref().map(|b| b["body"].clone()), "user": {}});
            set_author(s, &mut c);
            s.issue_comments.push(c.clone());
            ResponseTemplate::new(201).set_body_json(c)
        }
        ("PATCH", ["issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let text = body.as_ref().map(|b| b["body"].clone()).unwrap_or(Value::Null);
            match s.issue_comments.iter_mut().find(|c| c["id"].as_u64() == Some(id)) {
                Some(c) => {
                    c["body"] = text;
                    ResponseTemplate::new(200).set_body_json(c.clone())
                }
                None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            }
        }
        _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found", "path": rel})),
    }
}

/// `POST /pulls/{n}/reviews`: checks the body against the schema and every comment against the diff, then stores
/// the review and its comments.
fn create_review(s: &mut State, body: Value) -> ResponseTemplate {
    let errs =
        schema_errors(&request_schema("rest-api-description/pulls-create-review.request-body.json"), &body, "review");
    if !errs.is_empty() {
        s.schema_violations.extend(errs);
        return ResponseTemplate::new(422).set_body_string(fixture(
            "error-responses/octokit-fixtures.errors.422-validation-failed.normalized-fixture.json",
        ));
    }
    let comments = body["comments"].as_array().cloned().unwrap_or_default();
    // GitHub's limit on a review body and on each comment body.
    let too_long = |v: &Value| v.as_str().is_some_and(|t| t.chars().count() > 65_536);
    if too_long(&body["body"]) || comments.iter().any(|c| too_long(&c["body"])) {
        // Test-written body in GitHub's wording for a validation error on a field's length.
        return ResponseTemplate::new(422).set_body_json(json!({
            "message": "Unprocessable Entity",
            "errors": ["Body is too long (maximum is 65536 characters)"],
            "status": "422"
        }));
    }
    for c in &comments {
        if let Some(refusal) = refuse_comment(s, c) {
            return refusal;
        }
    }
    let id = s.id();
    let mut review = fixture_json("rest-api-description/pulls-create-review.response-200.pull-request-review.json");
    review["id"] = json!(id);
    review["body"] = body["body"].clone();
    review["commit_id"] = body["commit_id"].clone();
    review["state"] = json!(match body["event"].as_str() {
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("APPROVE") => "APPROVED",
        _ => "COMMENTED",
    });
    set_author(s, &mut review);
    s.reviews.push(review.clone());
    for c in comments {
        store_comment(s, &c, id, &body["commit_id"]);
    }
    ResponseTemplate::new(200).set_body_json(review)
}

/// GitHub's 422 for a comment outside the diff (or on a path in `refuse_paths`).
fn refuse_comment(s: &State, c: &Value) -> Option<ResponseTemplate> {
    let side = if c["side"] == "LEFT" { Side::Base } else { Side::Head };
    let line = c["line"].as_u64().unwrap_or(0) as usize;
    let start = c["start_line"].as_u64().map_or(line, |v| v as usize);
    let path = c["path"].as_str().unwrap_or("");
    let ok = s.diff.get(path).is_some_and(|hs| hs.iter().any(|h| h.contains(side, line) && h.contains(side, start)));
    if !ok || start > line {
        return Some(ResponseTemplate::new(422).set_body_string(fixture(
            "error-responses/issue-quote.422.create-review.line-not-in-diff.with-status.json",
        )));
    }
    if s.refuse_paths.iter().any(|p| p == path) {
        return Some(ResponseTemplate::new(422).set_body_string(fixture(
            "error-responses/octokit-fixtures.errors.422-validation-failed.normalized-fixture.json",
        )));
    }
    None
}

/// Stores a review comment as the list endpoint shows it.
fn store_comment(s: &mut State, c: &Value, review_id: u64, commit: &Value) -> Value {
    let mut stored = comment_template();
    stored["id"] = json!(s.id());
    stored["pull_request_review_id"] = json!(review_id);
    stored.as_object_mut().unwrap().remove("in_reply_to_id");
    for k in ["path", "body", "line", "side"] {
        stored[k] = c[k].clone();
    }
    stored["original_line"] = c["line"].clone();
    stored["start_line"] = c.get("start_line").cloned().unwrap_or(Value::Null);
    stored["original_start_line"] = stored["start_line"].clone();
    stored["start_side"] = c.get("start_side").cloned().unwrap_or(Value::Null);
    stored["commit_id"] = commit.clone();
    stored["original_commit_id"] = commit.clone();
    set_author(s, &mut stored);
    s.review_comments.push(stored.clone());
    stored
}

/// The Actions environment of a `pull_request` run against `api_url`, with files in `dir`.
pub fn action_env(api_url: &str, dir: &Path, event_fixture: &str, extra: &[(&str, &str)]) -> ActionEnv {
    action_env_with_payload(api_url, dir, &fixture(event_fixture), extra)
}

/// [`action_env`] with the event payload given as text.
pub fn action_env_with_payload(api_url: &str, dir: &Path, payload: &str, extra: &[(&str, &str)]) -> ActionEnv {
    let event_path = dir.join("event.json");
    std::fs::write(&event_path, payload).unwrap();
    let mut vars: BTreeMap<String, String> = BTreeMap::from([
        ("GITHUB_EVENT_NAME".into(), "pull_request".into()),
        ("GITHUB_EVENT_PATH".into(), event_path.display().to_string()),
        ("GITHUB_REPOSITORY".into(), OWNER_REPO.into()),
        ("GITHUB_API_URL".into(), api_url.into()),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        ("GITHUB_RUN_ID".into(), "4242".into()),
        ("GITHUB_WORKSPACE".into(), dir.display().to_string()),
        ("GITHUB_STEP_SUMMARY".into(), dir.join("summary.md").display().to_string()),
        ("GITHUB_OUTPUT".into(), dir.join("output.txt").display().to_string()),
        ("RUNNER_TEMP".into(), dir.display().to_string()),
        ("INPUT_GITHUB-TOKEN".into(), TOKEN.into()),
        ("INPUT_FAIL-ON".into(), "error".into()),
        ("INPUT_CHECK-NAME".into(), "".into()),
    ]);
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    ActionEnv::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// Path of a file in the run's directory.
pub fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// A finding for tests.
pub fn finding(code: &'static str, name: &str, severity: Severity, status: Status, anchors: Vec<Anchor>) -> Finding {
    let path = anchors.first().map(|a| a.path.clone()).unwrap_or_else(|| "mesh/dr.yaml".into());
    let side = anchors.first().map_or(Side::Head, |a| a.side);
    Finding {
        code,
        severity,
        status,
        message: format!(
            "DestinationRule shop/{name} makes clients send ISTIO_MUTUAL, but mTLS is DISABLEd in namespace `shop`: \
             servers accept only plaintext and these calls fail"
        ),
        object: ObjectRef { kind: "DestinationRule".into(), namespace: "shop".into(), name: name.into() },
        port: None,
        location: Location { side, path, line: 1, end_line: 12 },
        related: Vec::new(),
        fix: None,
        help: None,
        anchors: if anchors.is_empty() { None } else { Some(anchors) },
        meshes: Vec::new(),
        targets: Vec::new(),
        group: None,
    }
}

pub fn head(path: &str, line: usize, end_line: usize) -> Anchor {
    Anchor { side: Side::Head, path: path.into(), line, end_line }
}

pub fn base(path: &str, line: usize, end_line: usize) -> Anchor {
    Anchor { side: Side::Base, path: path.into(), line, end_line }
}

/// The pull request's diff used throughout: a DestinationRule added (`mesh/dr.yaml`, new file of 12 lines), a
/// PeerAuthentication modified (`mesh/pa.yaml`, lines 8-9 replaced) and one deleted (`mesh/old-pa.yaml`).
pub fn changes() -> Vec<FileChange> {
    vec![
        FileChange {
            head_path: Some("mesh/dr.yaml".into()),
            base_path: None,
            hunks: vec![Hunk { base_start: 0, base_lines: 0, head_start: 1, head_lines: 12 }],
            added: vec![(1, 12)],
            deleted: Vec::new(),
        },
        FileChange {
            head_path: Some("mesh/pa.yaml".into()),
            base_path: Some("mesh/pa.yaml".into()),
            hunks: vec![Hunk { base_start: 5, base_lines: 7, head_start: 5, head_lines: 7 }],
            added: vec![(8, 9)],
            deleted: vec![(8, 9)],
        },
        FileChange {
            head_path: None,
            base_path: Some("mesh/old-pa.yaml".into()),
            hunks: vec![Hunk { base_start: 1, base_lines: 9, head_start: 0, head_lines: 0 }],
            added: Vec::new(),
            deleted: vec![(1, 9)],
        },
    ]
}

/// The diff as the stand-in knows it (path -> hunks), from [`changes`].
pub fn diff_of(changes: &[FileChange]) -> BTreeMap<String, Vec<Hunk>> {
    changes.iter().map(|c| (c.head_path.clone().or_else(|| c.base_path.clone()).unwrap(), c.hunks.clone())).collect()
}

/// Head text of `mesh/dr.yaml`.
pub const DR_YAML: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  \
namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n---\n# end\n";

/// A review with findings on added, modified and deleted lines.
pub fn sample_review() -> Review {
    let mut added =
        finding("TIS0206", "shop-mtls", Severity::Error, Status::Introduced, vec![head("mesh/dr.yaml", 10, 10)]);
    added.fix = Some(Fix {
        description: "set the DestinationRule's TLS mode to DISABLE".into(),
        path: "mesh/dr.yaml".into(),
        start_line: 10,
        end_line: 10,
        replacement: "      mode: DISABLE".into(),
    });
    let modified =
        finding("MTLS003", "shop-default", Severity::Warning, Status::Introduced, vec![head("mesh/pa.yaml", 8, 9)]);
    let deleted =
        finding("TIS0503", "mesh-wide", Severity::Error, Status::Introduced, vec![base("mesh/old-pa.yaml", 1, 9)]);
    let existing = finding("TIS0206", "legacy", Severity::Error, Status::Existing, Vec::new());
    review_of(vec![added, modified, deleted, existing])
}

pub fn review_of(findings: Vec<Finding>) -> Review {
    Review {
        findings,
        errors: Vec::new(),
        settings: MeshSettings::default(),
        base: BASE_SHA.into(),
        head: HEAD_SHA.into(),
        changes: changes(),
        config_changed: false,
        connectivity: Vec::new(),
        posture: PostureChange::default(),
        diff: true,
        head_sources: BTreeMap::from([(
            "mesh/dr.yaml".to_string(),
            Arc::new(SourceText::new("mesh/dr.yaml", DR_YAML, false, false)),
        )]),
        base_sources: BTreeMap::new(),
        meshes: Vec::new(),
    }
}

/// Fast, bounded client options for tests.
pub fn fast_client() -> mtls_review::github::client::ClientOptions {
    mtls_review::github::client::ClientOptions {
        request_timeout: Duration::from_secs(2),
        max_retries: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        rate_limit_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(60),
        per_page: 100,
        max_pages: 50,
        clock: mtls_review::github::client::ClockHandle::system(),
    }
}

/// [`fast_client`] with GitHub's own waits (a minute after a rate limit without `retry-after`) on a clock that
/// skips them, returned too so that the test can read the waits.
pub fn skipping_client() -> (mtls_review::github::client::ClientOptions, Arc<mtls_review::github::client::SkippingClock>)
{
    let clock = Arc::new(mtls_review::github::client::SkippingClock::new());
    let options = mtls_review::github::client::ClientOptions {
        rate_limit_backoff: Duration::from_secs(60),
        deadline: mtls_review::github::client::DEFAULT_DEADLINE,
        clock: mtls_review::github::client::ClockHandle(clock.clone()),
        ..fast_client()
    };
    (options, clock)
}

/// Runs git in `dir` with a fixed identity and no signing; its trimmed stdout (the test fails when git does).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
