//! The HTTP client: octocrab for transport and authentication, with our own timeout, retry and backoff layer on
//! top, because octocrab's built-in retry re-sends POSTs on a 5xx (a review could land twice) and ignores
//! `retry-after`.
//!
//! Every request is bounded twice: by a per-request timeout near GitHub's own (GitHub ends requests that take
//! longer than 10 s), and by the client's deadline, after which no request is started and no wait begun. Waits go
//! through a [`Clock`], so that tests can skip them.
//!
//! Every error this module returns has the token redacted from its text.

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// The overall time for publishing when the `timeout` input is not set.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

/// What the client waits with: the system clock in the action, a clock that skips its waits in tests.
pub trait Clock: Send + Sync {
    /// The current instant (on this clock).
    fn now(&self) -> Instant;
    /// Waits `d` (on this clock).
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Real time (tokio's timer).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock whose waits return at once: each one is recorded and moves this clock's time forward by its length
/// (on top of real time, which still passes while requests are in flight). For tests of waits and deadlines.
#[derive(Debug, Default)]
pub struct SkippingClock {
    start: Option<Instant>,
    skipped: Mutex<Vec<Duration>>,
}

impl SkippingClock {
    pub fn new() -> SkippingClock {
        SkippingClock { start: Some(Instant::now()), skipped: Mutex::new(Vec::new()) }
    }

    /// Every wait asked for, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.skipped.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Time elapsed on this clock since it was made (real time plus the skipped waits).
    pub fn elapsed(&self) -> Duration {
        self.now().duration_since(self.start.unwrap_or_else(Instant::now))
    }
}

impl Clock for SkippingClock {
    fn now(&self) -> Instant {
        let skipped: Duration = self.skipped.lock().map(|w| w.iter().sum()).unwrap_or_default();
        Instant::now() + skipped
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        if let Ok(mut w) = self.skipped.lock() {
            w.push(d);
        }
        Box::pin(std::future::ready(()))
    }
}

/// A shared [`Clock`] (compared by identity).
#[derive(Clone)]
pub struct ClockHandle(pub Arc<dyn Clock>);

impl ClockHandle {
    pub fn system() -> ClockHandle {
        ClockHandle(Arc::new(SystemClock))
    }
}

impl Default for ClockHandle {
    fn default() -> Self {
        ClockHandle::system()
    }
}

impl std::fmt::Debug for ClockHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl PartialEq for ClockHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ClockHandle {}

/// Timeouts and retry limits. The defaults suit a CI job; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Whole-request timeout (sending, waiting, reading the body). GitHub itself ends requests after 10 s.
    pub request_timeout: Duration,
    /// Retries after the first attempt, for transient failures.
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The first wait after a rate limit that does not say how long to wait (no `retry-after`, no
    /// `x-ratelimit-reset`); doubled on each further one. GitHub asks for at least a minute.
    pub rate_limit_backoff: Duration,
    /// The overall time from the client's creation (the `timeout` input overrides it in the action): no request is
    /// started and no wait begun beyond it.
    pub deadline: Duration,
    /// Items per page when listing.
    pub per_page: usize,
    /// Pages followed at most when listing (a bound against a server that never stops paginating).
    pub max_pages: usize,
    pub clock: ClockHandle,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(12),
            max_retries: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            rate_limit_backoff: Duration::from_secs(60),
            deadline: DEFAULT_DEADLINE,
            per_page: 100,
            max_pages: 100,
            clock: ClockHandle::system(),
        }
    }
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Safe to repeat (GET, PATCH of the same fields, DELETE, a status POST keyed by context, a check run whose
    /// repeat GitHub shows as the same check): retried on every transient failure.
    Idempotent,
    /// Not safe to repeat blindly (creating a review or a reply): retried only when GitHub certainly did not act
    /// on it (rate limited). Other failures come back with [`ApiError::may_have_landed`] set, and the caller
    /// checks before repeating.
    OnlyIfNotProcessed,
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl ApiResponse {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, ApiError> {
        serde_json::from_str(&self.body)
            .map_err(|e| ApiError::Decode { what: what.to_string(), message: e.to_string() })
    }
}

/// A request that did not succeed. Texts are redacted.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ApiError {
    /// GitHub answered with an error status (after any retries).
    #[error("{method} {path}: HTTP {status}: {message}")]
    Status { method: String, path: String, status: u16, message: String, rate_limited: bool },
    /// No answer: timeout or connection failure (after any retries). GitHub may have acted on the request.
    #[error("{method} {path}: {message}")]
    Transport { method: String, path: String, message: String },
    /// The answer was not the JSON we expected.
    #[error("unexpected answer for {what}: {message}")]
    Decode { what: String, message: String },
    /// The client's deadline came before the request could be made or answered (`landed`: it was sent, so
    /// GitHub may have acted on it).
    #[error("{method} {path}: stopped at the deadline ({message})")]
    Deadline { method: String, path: String, message: String, landed: bool },
    /// The client could not be built.
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

impl ApiError {
    /// The HTTP status, when GitHub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A 403 that is not a rate limit: the token may not write here (a fork's read-only token, missing
    /// `permissions:`).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Status { status: 403, rate_limited: false, .. })
    }

    /// True when GitHub may have acted on the request although we got no success answer (5xx, timeout).
    pub fn may_have_landed(&self) -> bool {
        match self {
            ApiError::Status { status, rate_limited, .. } => *status >= 500 && !rate_limited,
            ApiError::Transport { .. } => true,
            ApiError::Decode { .. } => true,
            ApiError::Deadline { landed, .. } => *landed,
            ApiError::Setup(_) => false,
        }
    }

    /// True when the deadline ended the request.
    pub fn is_deadline(&self) -> bool {
        matches!(self, ApiError::Deadline { .. })
    }

    /// The message GitHub gave (for 422 triage).
    pub fn message(&self) -> &str {
        match self {
            ApiError::Status { message, .. } | ApiError::Transport { message, .. } => message,
            ApiError::Decode { message, .. } | ApiError::Deadline { message, .. } => message,
            ApiError::Setup(m) => m,
        }
    }
}

/// The REST client. Cheap to clone.
#[derive(Clone)]
pub struct GitHub {
    octo: Octocrab,
    /// API base without a trailing slash; links to follow must start with it.
    base: String,
    /// Kept only to redact it from any text we surface.
    token: String,
    options: ClientOptions,
    /// No request is started, and none waited for, beyond this instant (of `options.clock`).
    deadline: Instant,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub").field("base", &self.base).finish_non_exhaustive()
    }
}

impl GitHub {
    /// Builds a client for `api_url` (`https://api.github.com`, `https://HOST/api/v3`, or a test server).
    pub fn new(api_url: &str, token: &str, options: ClientOptions) -> Result<GitHub, ApiError> {
        let base = api_url.trim_end_matches('/').to_string();
        let redact_setup = |e: octocrab::Error| ApiError::Setup(redact(&e.to_string(), token));
        let octo = Octocrab::builder()
            .base_uri(base.as_str())
            .map_err(redact_setup)?
            .personal_token(token.to_string())
            // Our own retry layer decides what may be repeated.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(options.request_timeout))
            .set_read_timeout(Some(options.request_timeout))
            .set_write_timeout(Some(options.request_timeout))
            .add_header(http::header::ACCEPT, "application/vnd.github+json".to_string())
            .build()
            .map_err(redact_setup)?;
        let deadline = options.clock.0.now() + options.deadline;
        Ok(GitHub { octo, base, token: token.to_string(), options, deadline })
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The same client with another deadline (an instant of the options' clock).
    pub fn with_deadline(&self, deadline: Instant) -> GitHub {
        GitHub { deadline, ..self.clone() }
    }

    /// The deadline in force.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(self.options.clock.0.now())
    }

    /// Waits `d` on the options' clock, unless that would pass the deadline (then `false`, without waiting).
    pub async fn wait(&self, d: Duration) -> bool {
        if d >= self.remaining() {
            return false;
        }
        self.options.clock.0.sleep(d).await;
        true
    }

    /// Removes the token from a text.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }

    /// GET a path (relative to the API base).
    pub async fn get(&self, path: &str) -> Result<ApiResponse, ApiError> {
        self.send(Method::GET, path, None::<&()>, Retry::Idempotent).await
    }

    /// POST a JSON body.
    pub async fn post<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        retry: Retry,
    ) -> Result<ApiResponse, ApiError> {
        self.send(Method::POST, path, Some(body), retry).await
    }

    /// PATCH a JSON body (idempotent: the same fields set again).
    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<ApiResponse, ApiError> {
        self.send(Method::PATCH, path, Some(body), Retry::Idempotent).await
    }

    /// PUT a JSON body.
    pub async fn put<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<ApiResponse, ApiError> {
        self.send(Method::PUT, path, Some(body), Retry::Idempotent).await
    }

    /// DELETE a path. A 404 counts as done (already deleted, e.g. by a previous attempt whose answer was lost).
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        match self.send(Method::DELETE, path, None::<&()>, Retry::Idempotent).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// GETs every page of a list endpoint (`per_page` set here), following `Link: rel="next"` when the server
    /// sends it and otherwise asking for the next page while pages come back full.
    pub async fn get_all(&self, path: &str) -> Result<Vec<serde_json::Value>, ApiError> {
        let per_page = self.options.per_page;
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{sep}per_page={per_page}&page=1");
        let mut page = 1;
        let mut out = Vec::new();
        loop {
            let resp = self.send_expecting(Method::GET, &next, None::<&()>, Retry::Idempotent, Expect::Array).await?;
            let items: Vec<serde_json::Value> = resp.json(path)?;
            let full = items.len() >= per_page;
            out.extend(items);
            page += 1;
            if page > self.options.max_pages {
                tracing::warn!(path, pages = page - 1, "stopped listing: too many pages");
                break;
            }
            match next_link(&resp.headers) {
                Some(url) => match url.strip_prefix(&self.base) {
                    Some(rel) => next = rel.to_string(),
                    // A link elsewhere would carry our token there: build the next page ourselves instead.
                    None => next = format!("{path}{sep}per_page={per_page}&page={page}"),
                },
                None if full && !resp.headers.contains_key(http::header::LINK) => {
                    next = format!("{path}{sep}per_page={per_page}&page={page}")
                }
                None => break,
            }
        }
        Ok(out)
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<ApiResponse, ApiError> {
        let expect = if method == Method::GET { Expect::Json } else { Expect::Anything };
        self.send_expecting(method, path, body, retry, expect).await
    }

    /// Sends with retries. A success answer that is not what `expect` asks for (an empty or cut JSON body) counts
    /// as a failed attempt: for idempotent requests it is retried like a lost answer.
    async fn send_expecting<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        retry: Retry,
        expect: Expect,
    ) -> Result<ApiResponse, ApiError> {
        let body = match body {
            Some(b) => Some(
                serde_json::to_value(b)
                    .map_err(|e| ApiError::Decode { what: format!("{method} {path}"), message: e.to_string() })?,
            ),
            None => None,
        };
        let display_path = path.split('?').next().unwrap_or(path).to_string();
        let deadline_error = |message: String, landed: bool| ApiError::Deadline {
            method: method.to_string(),
            path: display_path.clone(),
            message,
            landed,
        };
        let mut attempt = 0;
        // Rate limits that did not say how long to wait, so far (their waits grow from `rate_limit_backoff`).
        let mut unknown_rate_limits = 0;
        let mut last: Option<ApiError> = None;
        loop {
            let remaining = self.remaining();
            if remaining.is_zero() {
                let message = match &last {
                    Some(e) => format!("after {e}"),
                    None => "no time left".to_string(),
                };
                return Err(deadline_error(message, false));
            }
            let limit = self.options.request_timeout.min(remaining);
            let result = tokio::time::timeout(limit, self.attempt(&method, path, body.as_ref())).await;
            let (err, wait) = match result {
                Err(_) if limit < self.options.request_timeout => {
                    return Err(deadline_error(format!("no answer within the {limit:?} left"), true));
                }
                Err(_) => {
                    let e = ApiError::Transport {
                        method: method.to_string(),
                        path: display_path.clone(),
                        message: format!("no answer within {:?}", self.options.request_timeout),
                    };
                    (e, None)
                }
                Ok(Err(message)) => {
                    let e = ApiError::Transport {
                        method: method.to_string(),
                        path: display_path.clone(),
                        message: self.redact(&message),
                    };
                    (e, None)
                }
                Ok(Ok(resp)) if resp.status.is_success() => match expect.check(&resp.body) {
                    Ok(()) => return Ok(resp),
                    Err(message) => {
                        let e = ApiError::Decode { what: format!("{method} {display_path}"), message };
                        (e, None)
                    }
                },
                Ok(Ok(resp)) => {
                    let rate_wait = rate_limit_wait(resp.status, &resp.headers, &resp.body, SystemTime::now());
                    let e = ApiError::Status {
                        method: method.to_string(),
                        path: display_path.clone(),
                        status: resp.status.as_u16(),
                        message: self.redact(&error_message(&resp.body)),
                        rate_limited: rate_wait.is_some(),
                    };
                    (e, rate_wait)
                }
            };
            let retryable = match (&err, wait) {
                // Rate-limited requests were not processed: repeating them is always safe.
                (_, Some(_)) => true,
                (ApiError::Status { status, .. }, None) => *status >= 500 && retry == Retry::Idempotent,
                (ApiError::Transport { .. } | ApiError::Decode { .. }, None) => retry == Retry::Idempotent,
                _ => false,
            };
            if !retryable || attempt >= self.options.max_retries {
                return Err(err);
            }
            let delay = match wait {
                Some(RateWait::For(d)) => d,
                Some(RateWait::Unknown) => {
                    // GitHub: wait at least a minute, then exponentially longer while the limit persists.
                    let d = self.options.rate_limit_backoff.saturating_mul(2u32.saturating_pow(unknown_rate_limits));
                    unknown_rate_limits += 1;
                    d
                }
                None => self.backoff(attempt),
            };
            attempt += 1;
            tracing::warn!(%method, path = %display_path, attempt, ?delay, error = %err, "retrying");
            if !self.wait(delay).await {
                tracing::warn!(%method, path = %display_path, ?delay, "waiting would pass the deadline; giving up");
                return Err(deadline_error(format!("waiting {delay:?} to retry after {err} would pass it"), false));
            }
            last = Some(err);
        }
    }

    /// One attempt; the error text is the transport's (redacted by the caller).
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, String> {
        let resp = match *method {
            Method::GET => self.octo._get(path).await,
            Method::POST => self.octo._post(path, body).await,
            Method::PATCH => self.octo._patch(path, body).await,
            Method::PUT => self.octo._put(path, body).await,
            Method::DELETE => self.octo._delete(path, body).await,
            _ => return Err(format!("unsupported method {method}")),
        }
        .map_err(|e| error_chain(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = self.octo.body_to_string(resp).await.map_err(|e| error_chain(&e))?;
        Ok(ApiResponse { status, headers, body })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt);
        self.options.initial_backoff.saturating_mul(factor).min(self.options.max_backoff)
    }
}

/// What a success answer must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Anything,
    /// A JSON document.
    Json,
    /// A JSON array (a page of a list).
    Array,
}

impl Expect {
    fn check(self, body: &str) -> Result<(), String> {
        let what = match self {
            Expect::Anything => return Ok(()),
            Expect::Json => "JSON",
            Expect::Array => "a JSON array",
        };
        if body.trim().is_empty() {
            return Err(format!("empty answer, expected {what}"));
        }
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) if self == Expect::Array && !v.is_array() => Err(format!("expected {what}")),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("not {what} ({e}, {} bytes)", body.len())),
        }
    }
}

/// How long a rate-limited answer asks us to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RateWait {
    For(Duration),
    /// Rate limited, but no header says for how long: back off.
    Unknown,
}

/// Classifies a 403/429 as a rate limit and reads how long to wait: `retry-after` (secondary limits) first, then
/// `x-ratelimit-reset` when `x-ratelimit-remaining` is 0 (primary limit).
fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, body: &str, now: SystemTime) -> Option<RateWait> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(RateWait::For(Duration::from_secs(secs)));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
            let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            // One second of slack: the reset time is rounded down.
            return Some(RateWait::For(Duration::from_secs(reset.saturating_sub(now) + 1)));
        }
        return Some(RateWait::Unknown);
    }
    let lower = body.to_ascii_lowercase();
    if status == StatusCode::TOO_MANY_REQUESTS || lower.contains("rate limit") {
        return Some(RateWait::Unknown);
    }
    None
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// GitHub's error text: `message` plus any `errors` entries, else the raw body (shortened).
fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let Some(v) = parsed else {
        return body.chars().take(300).collect();
    };
    let mut text = v.get("message").and_then(|m| m.as_str()).unwrap_or("").to_string();
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| match e {
                serde_json::Value::String(s) => s.clone(),
                other => other
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| other.to_string()),
            })
            .collect();
        if !parts.is_empty() {
            text = format!("{text} ({})", parts.join("; "));
        }
    }
    if text.is_empty() { body.chars().take(300).collect() } else { text }
}

/// An error with its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Replaces every verbatim occurrence of the token with `***` (so `Bearer <token>` and `token <token>` become
/// `Bearer ***` and `token ***`). Only the exact text is covered: an encoded form (base64 in a Basic
/// `Authorization` header, percent-encoding in a URL) or a fragment of the token passes unchanged, and tokens
/// shorter than 4 characters are not searched for. What we print never contains such forms: the token goes only
/// into the `Authorization` header that octocrab builds, and into nothing that is logged.
pub fn redact(text: &str, token: &str) -> String {
    if token.len() < 4 {
        // Too short to search for without mangling ordinary text; a real token is never this short.
        return text.to_string();
    }
    text.replace(token, "***")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn secondary_rate_limit_uses_retry_after() {
        let h = headers(&[("retry-after", "7")]);
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, body, SystemTime::now()),
            Some(RateWait::For(Duration::from_secs(7)))
        );
        // Without a header a secondary limit is still recognised by its message.
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), body, SystemTime::now()),
            Some(RateWait::Unknown)
        );
    }

    #[test]
    fn primary_rate_limit_waits_until_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1010")]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, "{}", now), Some(RateWait::For(Duration::from_secs(11))));
    }

    #[test]
    fn a_permission_403_is_not_a_rate_limit() {
        let body = r#"{"message":"Resource not accessible by integration"}"#;
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, body, SystemTime::now()), None);
    }

    #[test]
    fn next_link_is_found() {
        let h = headers(&[(
            "link",
            r#"<https://api.github.com/repositories/1/pulls/1/comments?page=2>; rel="next", <https://api.github.com/repositories/1/pulls/1/comments?page=3>; rel="last""#,
        )]);
        assert_eq!(next_link(&h).as_deref(), Some("https://api.github.com/repositories/1/pulls/1/comments?page=2"));
        assert_eq!(next_link(&headers(&[("link", r#"<https://x/?page=1>; rel="prev""#)])), None);
    }

    #[test]
    fn error_messages_join_errors() {
        let body = r#"{"message":"Unprocessable Entity","errors":["Pull request review thread line must be part of the diff"]}"#;
        assert_eq!(
            error_message(body),
            "Unprocessable Entity (Pull request review thread line must be part of the diff)"
        );
        assert_eq!(error_message("<html>bad gateway</html>"), "<html>bad gateway</html>");
    }

    #[test]
    fn success_answers_must_be_the_json_expected() {
        assert!(Expect::Anything.check("").is_ok());
        assert!(Expect::Json.check(r#"{"id": 1}"#).is_ok());
        assert!(Expect::Json.check("").unwrap_err().contains("empty"));
        assert!(Expect::Json.check(r#"{"id": 1, "bo"#).is_err());
        assert!(Expect::Array.check("[]").is_ok());
        assert!(Expect::Array.check(r#"{"message": "ok"}"#).is_err());
    }

    #[tokio::test]
    async fn no_wait_is_begun_that_passes_the_deadline() {
        let clock = Arc::new(SkippingClock::new());
        let options = ClientOptions {
            deadline: Duration::from_secs(100),
            clock: ClockHandle(clock.clone()),
            ..ClientOptions::default()
        };
        let gh = GitHub::new("http://127.0.0.1:9", "ghs_abcdef", options).unwrap();
        assert!(gh.wait(Duration::from_secs(60)).await);
        assert!(!gh.wait(Duration::from_secs(60)).await, "only 40 s are left");
        assert_eq!(clock.waits(), vec![Duration::from_secs(60)]);
        assert!(gh.remaining() <= Duration::from_secs(40));
        // Once the time is up no request is made at all.
        let late = gh.with_deadline(clock.now());
        let err = late.get("/user").await.unwrap_err();
        assert!(err.is_deadline() && !err.may_have_landed(), "{err}");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("token ghs_abcdef in text ghs_abcdef", "ghs_abcdef"), "token *** in text ***");
    }
}
