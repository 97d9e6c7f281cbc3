//! The `mtls-review` command line: argument parsing and exit codes only.

use clap::{Parser, Subcommand, ValueEnum};
use mtls_review::app::{self, CheckRequest, Format};
use mtls_review::settings::{FailOn, SuggestMode};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mtls-review",
    version,
    about = "Reviews Istio manifests and their changes for mTLS misconfigurations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze manifests (one snapshot, or a change with --base / --base-dir) and report findings.
    Check(Box<CheckArgs>),
    /// Print the connectivity verdict table (SERVICE:PORT x CLIENT NS); with --base / --base-dir only the client
    /// paths whose verdict or modes change. Formats: text, json, markdown.
    Posture(Box<CheckArgs>),
    /// List how the tree is read: its meshes (clusters, environments), the targets that feed each (renderer,
    /// object counts, render failures) and what was skipped and why. Formats: text, json.
    Targets(Box<CheckArgs>),
    /// The GitHub Action's entrypoint: reviews the pull request described by the Actions environment
    /// (GITHUB_EVENT_PATH, INPUT_* ...) and reports it as a review, a check run and step outputs.
    Github,
    /// The project config file: `config schema` prints the JSON Schema of `.mtls-review.yaml`.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema (draft 2020-12) of `.mtls-review.yaml`.
    Schema,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Sarif,
    Markdown,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum SuggestArg {
    #[value(alias = "PERMISSIVE")]
    Permissive,
    #[value(alias = "STRICT")]
    Strict,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or directories to analyze (default: the current directory). In git mode: subtrees, relative to the
    /// repository root. With --base-dir: the head directory.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Lowest severity that fails the run (exit 1). Default: the config file's `fail_on`, else `error`.
    #[arg(long, value_enum)]
    fail_on: Option<FailOnArg>,
    /// The mesh's root namespace (default: from the config file or the tree, else istio-system).
    #[arg(long)]
    root_namespace: Option<String>,
    /// The cluster's DNS domain (default: cluster.local).
    #[arg(long)]
    cluster_domain: Option<String>,
    /// A meshConfig YAML file (as istioctl's --meshConfigFile): rootNamespace, enableAutoMtls.
    #[arg(long)]
    mesh_config: Option<PathBuf>,
    /// The project config file (default: .mtls-review.yaml at the scanned root).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Mode of PeerAuthentications that fixes add or edit.
    #[arg(long, value_enum)]
    suggest_mode: Option<SuggestArg>,
    /// Rule codes to ignore (repeatable, or comma-separated).
    #[arg(long)]
    ignore: Vec<String>,
    /// Base URL of the rule pages linked from reports.
    #[arg(long)]
    docs_url: Option<String>,
    /// Git mode: the base revision (the diff is taken from the merge base of base and head).
    #[arg(long, conflicts_with = "base_dir")]
    base: Option<String>,
    /// Git mode: the head revision (default HEAD).
    #[arg(long, requires = "base")]
    head: Option<String>,
    /// Git mode: the repository (default: the current directory).
    #[arg(long, requires = "base")]
    repo: Option<PathBuf>,
    /// Directory mode: the base directory; the single PATH is the head directory.
    #[arg(long)]
    base_dir: Option<PathBuf>,
    /// Colours in the text report: auto (a terminal, unless NO_COLOR is set and not empty), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorArg,
    /// Text report: each finding's full message instead of its short clause.
    #[arg(long, short)]
    verbose: bool,
}

/// `--color` with the environment and whether stdout is a terminal.
fn use_color(c: ColorArg) -> bool {
    use std::io::IsTerminal;
    let choice = match c {
        ColorArg::Auto => mtls_review::report::text::ColorChoice::Auto,
        ColorArg::Always => mtls_review::report::text::ColorChoice::Always,
        ColorArg::Never => mtls_review::report::text::ColorChoice::Never,
    };
    mtls_review::report::text::use_color(
        choice,
        std::env::var_os("NO_COLOR").as_deref(),
        std::io::stdout().is_terminal(),
    )
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The action's progress (history fetched, review posted, check created) belongs in the job log.
    let default_level = if matches!(cli.command, Command::Github) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MTLS_REVIEW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .without_time()
        .init();
    match cli.command {
        Command::Check(a) => run_check(*a),
        Command::Posture(a) => run_posture(*a),
        Command::Targets(a) => run_targets(*a),
        Command::Github => ExitCode::from(u8::try_from(mtls_review::github::run()).unwrap_or(2)),
        Command::Config { command: ConfigCommand::Schema } => {
            let mut out = std::io::stdout().lock();
            let text = mtls_review::schema::config_schema_text();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            }
        }
    }
}

fn run_posture(a: CheckArgs) -> ExitCode {
    if !matches!(a.format, FormatArg::Text | FormatArg::Json | FormatArg::Markdown) {
        let _ = writeln!(std::io::stderr(), "error: posture prints text, json or markdown");
        return ExitCode::from(2);
    }
    print_report(app::posture(&request(a)))
}

fn run_targets(a: CheckArgs) -> ExitCode {
    if !matches!(a.format, FormatArg::Text | FormatArg::Json) {
        let _ = writeln!(std::io::stderr(), "error: targets prints text or json");
        return ExitCode::from(2);
    }
    print_report(app::targets(&request(a)))
}

/// Prints a report on stdout (exit 0), or the error on stderr (exit 2).
fn print_report(result: Result<String, app::AppError>) -> ExitCode {
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(2)
        }
    }
}

fn request(a: CheckArgs) -> CheckRequest {
    CheckRequest {
        paths: a.paths,
        format: Some(match a.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Github => Format::Github,
        }),
        fail_on: a.fail_on.map(|f| match f {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Note => FailOn::Note,
            FailOnArg::Never => FailOn::Never,
        }),
        root_namespace: a.root_namespace,
        cluster_domain: a.cluster_domain,
        auto_mtls: None,
        mesh_config: a.mesh_config,
        config: a.config,
        suggest_mode: a.suggest_mode.map(|s| match s {
            SuggestArg::Permissive => SuggestMode::Permissive,
            SuggestArg::Strict => SuggestMode::Strict,
        }),
        ignore: a.ignore,
        docs_url: a.docs_url,
        base: a.base,
        head: a.head,
        repo: a.repo,
        base_dir: a.base_dir,
        color: use_color(a.color),
        verbose: a.verbose,
    }
}

fn run_check(a: CheckArgs) -> ExitCode {
    let req = request(a);
    match app::check(&req) {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(outcome.output.as_bytes()).and_then(|_| out.flush()).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::from(u8::try_from(outcome.exit_code).unwrap_or(2))
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(2)
        }
    }
}
