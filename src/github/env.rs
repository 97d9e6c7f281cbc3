//! The GitHub Actions environment: the runner's `GITHUB_*` variables and the action's `INPUT_*` inputs.

use crate::settings::{FailOn, SuggestMode};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Default name of the check run (and of the commit status that replaces it when check runs are refused).
pub const DEFAULT_CHECK_NAME: &str = "mtls-review";

/// The review event the action submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReviewEvent {
    /// A plain comment review: it never blocks merging by itself (the required check does).
    #[default]
    Comment,
    /// A "changes requested" review, for repositories that require reviews rather than checks.
    RequestChanges,
}

impl ReviewEvent {
    /// The value of the REST API's `event` field.
    pub fn as_api(self) -> &'static str {
        match self {
            ReviewEvent::Comment => "COMMENT",
            ReviewEvent::RequestChanges => "REQUEST_CHANGES",
        }
    }
}

/// The action's inputs (`action.yml`), already parsed. Empty inputs count as unset, as GitHub passes an empty
/// string for an input that has no default and was not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Paths (files or directories) to review, relative to the repository root; empty: the whole tree.
    pub paths: Vec<String>,
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    /// A meshConfig file (path in the workspace).
    pub mesh_config: Option<String>,
    /// The project config file (path in the repository, read from the base commit).
    pub config: Option<String>,
    /// `None`: the project config's `fail_on`, else `error`.
    pub fail_on: Option<FailOn>,
    pub suggest_mode: Option<SuggestMode>,
    pub review_event: ReviewEvent,
    pub check_name: String,
    pub sticky_summary: bool,
    /// Input `timeout`: the overall time for publishing (reading the pull request, the review, the check run).
    /// `None`: [`crate::github::client::DEFAULT_DEADLINE`].
    pub timeout: Option<Duration>,
}

/// Everything the action reads from its environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ActionEnv {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_EVENT_PATH`: the webhook payload that triggered the workflow.
    pub event_path: Option<PathBuf>,
    /// `GITHUB_REPOSITORY` (`owner/name`).
    pub repository: String,
    /// `GITHUB_API_URL` without a trailing slash (`https://api.github.com`, or `https://HOST/api/v3` on GHES).
    pub api_url: String,
    /// `GITHUB_GRAPHQL_URL` (`https://HOST/api/graphql` on GHES, not under `/api/v3`). Read for completeness: the
    /// REST API covers everything the action does today.
    pub graphql_url: String,
    /// `GITHUB_SERVER_URL`, for links to the workflow run.
    pub server_url: String,
    /// `GITHUB_RUN_ID`, for links and for the check run's `external_id`.
    pub run_id: Option<String>,
    /// `GITHUB_WORKSPACE`: the checked-out repository.
    pub workspace: PathBuf,
    /// `GITHUB_STEP_SUMMARY`: a file whose Markdown is shown on the run's summary page.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`: a file of step outputs.
    pub output: Option<PathBuf>,
    /// `RUNNER_TEMP`: where the SARIF file goes.
    pub runner_temp: Option<PathBuf>,
    /// Input `github-token`, else `GITHUB_TOKEN`. Never printed: see [`ActionEnv`]'s `Debug`.
    pub token: Option<String>,
    pub inputs: Inputs,
}

impl std::fmt::Debug for ActionEnv {
    // Hand-written so that no `{:?}` can ever print the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionEnv")
            .field("event_name", &self.event_name)
            .field("event_path", &self.event_path)
            .field("repository", &self.repository)
            .field("api_url", &self.api_url)
            .field("workspace", &self.workspace)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

/// An environment the action cannot work with.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EnvError {
    #[error("{name} is not set: run this command as a GitHub Actions step (`uses: <owner>/mtls-review@<version>`)")]
    Missing { name: &'static str },
    #[error("input `{input}` has the value `{value}`; expected one of: {expected}")]
    BadInput { input: &'static str, value: String, expected: &'static str },
    #[error("GITHUB_REPOSITORY `{0}` is not of the form owner/name")]
    BadRepository(String),
}

impl ActionEnv {
    /// Reads the process environment.
    pub fn from_process() -> Result<ActionEnv, EnvError> {
        ActionEnv::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the environment through `var` (a map in tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<ActionEnv, EnvError> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let input = |name: &str| get(&format!("INPUT_{}", name.to_uppercase().replace(' ', "_")));
        let event_name = get("GITHUB_EVENT_NAME").ok_or(EnvError::Missing { name: "GITHUB_EVENT_NAME" })?;
        let repository = get("GITHUB_REPOSITORY").unwrap_or_default();
        let fail_on = match input("fail-on") {
            None => None,
            Some(v) => Some(parse_fail_on(&v)?),
        };
        let suggest_mode = match input("suggest-mode") {
            None => None,
            Some(v) => Some(match v.trim().to_ascii_uppercase().as_str() {
                "PERMISSIVE" => SuggestMode::Permissive,
                "STRICT" => SuggestMode::Strict,
                _ => {
                    return Err(EnvError::BadInput { input: "suggest-mode", value: v, expected: "PERMISSIVE, STRICT" });
                }
            }),
        };
        let review_event = match input("review-event") {
            None => ReviewEvent::default(),
            Some(v) => match v.trim().to_ascii_uppercase().replace('-', "_").as_str() {
                "COMMENT" => ReviewEvent::Comment,
                "REQUEST_CHANGES" => ReviewEvent::RequestChanges,
                _ => {
                    return Err(EnvError::BadInput {
                        input: "review-event",
                        value: v,
                        expected: "COMMENT, REQUEST_CHANGES",
                    });
                }
            },
        };
        let sticky_summary = match input("sticky-summary") {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => true,
                "false" | "no" | "0" | "off" => false,
                _ => {
                    return Err(EnvError::BadInput { input: "sticky-summary", value: v, expected: "true, false" });
                }
            },
        };
        let timeout = match input("timeout") {
            None => None,
            Some(v) => Some(parse_timeout(&v).ok_or(EnvError::BadInput {
                input: "timeout",
                value: v,
                expected: "a number of seconds (at least 1, at most 3600), e.g. `300`, `300s` or `5m`",
            })?),
        };
        let inputs = Inputs {
            paths: input("paths").map(|v| split_list(&v)).unwrap_or_default(),
            root_namespace: input("root-namespace").map(|v| v.trim().to_string()),
            cluster_domain: input("cluster-domain").map(|v| v.trim().to_string()),
            mesh_config: input("mesh-config").map(|v| v.trim().to_string()),
            config: input("config").map(|v| v.trim().to_string()),
            fail_on,
            suggest_mode,
            review_event,
            check_name: input("check-name").map(|v| v.trim().to_string()).unwrap_or_else(|| DEFAULT_CHECK_NAME.into()),
            sticky_summary,
            timeout,
        };
        Ok(ActionEnv {
            event_name,
            event_path: get("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository,
            api_url: get("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into())
                .trim_end_matches('/')
                .to_string(),
            graphql_url: get("GITHUB_GRAPHQL_URL").unwrap_or_else(|| "https://api.github.com/graphql".into()),
            server_url: get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            run_id: get("GITHUB_RUN_ID"),
            workspace: get("GITHUB_WORKSPACE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")),
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: get("GITHUB_OUTPUT").map(PathBuf::from),
            runner_temp: get("RUNNER_TEMP").map(PathBuf::from),
            token: input("github-token").or_else(|| get("GITHUB_TOKEN")).map(|t| t.trim().to_string()),
            inputs,
        })
    }

    /// `GITHUB_REPOSITORY` split into owner and name.
    pub fn owner_repo(&self) -> Result<(&str, &str), EnvError> {
        match self.repository.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => Ok((o, r)),
            _ => Err(EnvError::BadRepository(self.repository.clone())),
        }
    }

    /// The link to this workflow run, when the runner said which run it is.
    pub fn run_url(&self) -> Option<String> {
        self.run_id.as_ref().map(|id| format!("{}/{}/actions/runs/{id}", self.server_url, self.repository))
    }
}

fn parse_fail_on(v: &str) -> Result<FailOn, EnvError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(FailOn::Error),
        "warning" => Ok(FailOn::Warning),
        "note" => Ok(FailOn::Note),
        "never" | "none" => Ok(FailOn::Never),
        _ => {
            Err(EnvError::BadInput { input: "fail-on", value: v.to_string(), expected: "error, warning, note, never" })
        }
    }
}

/// `300`, `300s` or `5m`, between 1 s and an hour.
fn parse_timeout(v: &str) -> Option<Duration> {
    let v = v.trim().to_ascii_lowercase();
    let (number, unit) = match v.strip_suffix('m') {
        Some(n) => (n, 60),
        None => (v.strip_suffix('s').unwrap_or(&v), 1),
    };
    let secs = number.trim().parse::<u64>().ok()?.checked_mul(unit)?;
    (1..=3600).contains(&secs).then(|| Duration::from_secs(secs))
}

/// Splits a list input: one item a line or comma-separated, blanks dropped.
fn split_list(v: &str) -> Vec<String> {
    v.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> Result<ActionEnv, EnvError> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ActionEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn token_input_wins_over_github_token_and_debug_hides_it() {
        let e = env(&[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("INPUT_GITHUB-TOKEN", "ghs_input"),
            ("GITHUB_TOKEN", "ghs_env"),
        ])
        .unwrap();
        assert_eq!(e.token.as_deref(), Some("ghs_input"));
        assert!(!format!("{e:?}").contains("ghs_input"));
        let e = env(&[("GITHUB_EVENT_NAME", "pull_request"), ("INPUT_GITHUB-TOKEN", ""), ("GITHUB_TOKEN", "ghs_env")])
            .unwrap();
        assert_eq!(e.token.as_deref(), Some("ghs_env"));
    }

    #[test]
    fn inputs_are_parsed_and_empty_means_default() {
        let e = env(&[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
            ("INPUT_PATHS", "clusters/prod\n, apps ,\n"),
            ("INPUT_FAIL-ON", "Warning"),
            ("INPUT_SUGGEST-MODE", "strict"),
            ("INPUT_REVIEW-EVENT", "request-changes"),
            ("INPUT_CHECK-NAME", ""),
            ("INPUT_STICKY-SUMMARY", "true"),
            ("INPUT_ROOT-NAMESPACE", ""),
            ("INPUT_TIMEOUT", "5m"),
        ])
        .unwrap();
        assert_eq!(e.inputs.timeout, Some(Duration::from_secs(300)));
        assert_eq!(e.api_url, "https://ghe.example/api/v3");
        assert_eq!(e.inputs.paths, vec!["clusters/prod".to_string(), "apps".to_string()]);
        assert_eq!(e.inputs.fail_on, Some(FailOn::Warning));
        assert_eq!(e.inputs.suggest_mode, Some(SuggestMode::Strict));
        assert_eq!(e.inputs.review_event, ReviewEvent::RequestChanges);
        assert_eq!(e.inputs.check_name, DEFAULT_CHECK_NAME);
        assert!(e.inputs.sticky_summary);
        assert_eq!(e.inputs.root_namespace, None);
    }

    #[test]
    fn bad_inputs_are_named() {
        let err = env(&[("GITHUB_EVENT_NAME", "pull_request"), ("INPUT_FAIL-ON", "sometimes")]).unwrap_err();
        assert!(err.to_string().contains("fail-on"), "{err}");
        assert!(matches!(env(&[]), Err(EnvError::Missing { name: "GITHUB_EVENT_NAME" })));
        for bad in ["0", "-5", "ten", "2h", "3601"] {
            let err = env(&[("GITHUB_EVENT_NAME", "pull_request"), ("INPUT_TIMEOUT", bad)]).unwrap_err();
            assert!(err.to_string().contains("timeout"), "{bad}: {err}");
        }
        let e = env(&[("GITHUB_EVENT_NAME", "pull_request"), ("INPUT_TIMEOUT", " 90 ")]).unwrap();
        assert_eq!(e.inputs.timeout, Some(Duration::from_secs(90)));
    }

    #[test]
    fn owner_repo_is_checked() {
        let mut e = env(&[("GITHUB_EVENT_NAME", "push"), ("GITHUB_REPOSITORY", "octo/hello")]).unwrap();
        assert_eq!(e.owner_repo().unwrap(), ("octo", "hello"));
        e.repository = "nope".into();
        assert!(e.owner_repo().is_err());
    }
}
