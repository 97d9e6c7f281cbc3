//! The edge between the command line and the core: reads sources, runs the analysis or the review, renders the
//! chosen format and decides the exit code. The only module besides `source` and `github` that does I/O.

use crate::report;
use crate::review::Review;
use crate::review::TreeFile;
use crate::rules::parse_project_config;
use crate::settings::{
    AnalysisOptions, ConfigError, FailOn, MeshLayer, PROJECT_CONFIG_FILE, ProjectConfig, SuggestMode, parse_mesh_config,
};
use crate::source::{SourceError, dir};
use crate::target::closure::FileMap;
use crate::target::glue::Targets;
use crate::target::render::RenderService;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
    /// GitHub workflow commands.
    Github,
}

/// Everything `check` needs.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    pub paths: Vec<PathBuf>,
    pub format: Option<Format>,
    pub fail_on: Option<FailOn>,
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub auto_mtls: Option<bool>,
    pub mesh_config: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub suggest_mode: Option<SuggestMode>,
    pub ignore: Vec<String>,
    pub docs_url: Option<String>,
    /// Diff mode against a git revision.
    pub base: Option<String>,
    pub head: Option<String>,
    pub repo: Option<PathBuf>,
    /// Diff mode against a base directory (the single PATH is the head directory).
    pub base_dir: Option<PathBuf>,
    /// Text report: ANSI colours.
    pub color: bool,
    /// Text report: the long form of each message.
    pub verbose: bool,
}

/// Why a run could not produce a report (exit code 2).
#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("invalid config: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
}

/// A rendered report and the exit code it implies.
#[derive(Debug)]
pub struct Outcome {
    pub output: String,
    pub exit_code: i32,
    pub review: Review,
}

fn read_config(path: &Path) -> Result<ProjectConfig, AppError> {
    let text = std::fs::read_to_string(path).map_err(|source| SourceError::Io { path: path.to_path_buf(), source })?;
    Ok(parse_project_config(&path.display().to_string(), &text)?)
}

/// Builds the analysis options from the request and the project config.
pub fn options(req: &CheckRequest, project: ProjectConfig) -> Result<AnalysisOptions, AppError> {
    let mut cli = MeshLayer {
        root_namespace: req.root_namespace.clone(),
        cluster_domain: req.cluster_domain.clone(),
        auto_mtls: req.auto_mtls,
        istio_version: None,
    };
    if let Some(mc) = &req.mesh_config {
        let text = std::fs::read_to_string(mc).map_err(|source| SourceError::Io { path: mc.clone(), source })?;
        cli = cli.or(&parse_mesh_config(&mc.display().to_string(), &text)?);
    }
    let ignore: Vec<String> =
        req.ignore.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    for code in &ignore {
        crate::rules::check_rule_code(code).map_err(|m| AppError::Usage(format!("--ignore: {m}")))?;
    }
    Ok(AnalysisOptions { cli, project, suggest_mode: req.suggest_mode, ignore, no_fixes: false, rerender: None })
}

/// Keeps the files under the config's `paths` (kustomization files stay: they give namespaces).
pub fn restrict_to(files: crate::source::Files, paths: &[String]) -> crate::source::Files {
    if paths.is_empty() {
        return files;
    }
    let prefixes: Vec<String> = paths.iter().map(|p| p.trim_matches('/').to_string()).collect();
    files
        .into_iter()
        .filter(|(p, _)| {
            crate::manifest::is_kustomization(p)
                || prefixes
                    .iter()
                    .any(|pre| pre.is_empty() || pre == "." || p == pre || p.starts_with(&format!("{pre}/")))
        })
        .collect()
}

/// Every entry of the config's `paths` must match a file that was read: one that matches nothing is a typo that
/// would silently check nothing.
fn check_config_paths<'a>(
    entries: &[String],
    read: impl Iterator<Item = &'a str> + Clone,
    place: &str,
) -> Result<(), SourceError> {
    for entry in entries {
        let pre = entry.trim_matches('/');
        if pre.is_empty() || pre == "." {
            continue;
        }
        if !read.clone().any(|p| p == pre || p.starts_with(&format!("{pre}/"))) {
            return Err(SourceError::NoMatch {
                what: "config `paths` entry",
                path: entry.clone(),
                place: format!("under {place}"),
            });
        }
    }
    Ok(())
}

/// Runs `check` on one snapshot (or, with `base`/`base_dir`, on a change).
pub fn check(req: &CheckRequest) -> Result<Outcome, AppError> {
    if req.base.is_some() || req.base_dir.is_some() {
        return check_diff(req);
    }
    let (files, support, opts) = read_snapshot(req)?;
    let targets = Targets::new(
        opts.project.clone(),
        render_service(),
        FileMap::new(),
        crate::target::glue::file_map(&files, &support),
    );
    let review = crate::review::build::snapshot_with(&files, &opts, &targets);
    Ok(finish(req, &opts, review))
}

/// The renderer of this run: the installed kustomize (or kubectl) and helm.
pub fn render_service() -> Arc<RenderService> {
    Arc::new(RenderService::new(Arc::new(crate::target::render::InstalledTools::detect())))
}

fn tree_file(path: String, bytes: Vec<u8>) -> TreeFile {
    let id = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes).map(|o| o.to_string()).unwrap_or_default();
    TreeFile { path, id, bytes: bytes.into() }
}

/// Reads a snapshot for `check` and `targets`: its manifests (under the config's `paths`), the support files
/// renderers read, and what its kustomizations reference outside the scanned root (`../../base` of an overlay).
pub fn read_snapshot(req: &CheckRequest) -> Result<(Vec<TreeFile>, Vec<TreeFile>, AnalysisOptions), AppError> {
    let paths = if req.paths.is_empty() { vec![PathBuf::from(".")] } else { req.paths.clone() };
    let root = dir::scanned_root(&paths)?;
    let project = match &req.config {
        Some(c) => read_config(c)?,
        None => {
            let p = root.join(PROJECT_CONFIG_FILE);
            if p.is_file() { read_config(&p)? } else { ProjectConfig::default() }
        }
    };
    let opts = options(req, project)?;
    let read = dir::read_tree(&root, &paths)?;
    let place = || paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    check_config_paths(&opts.project.paths, read.iter().map(|(p, _)| p.as_str()), &place())?;
    let mut files: Vec<TreeFile> =
        restrict_to(read, &opts.project.paths).into_iter().map(|(p, b)| tree_file(p, b)).collect();
    if files.is_empty() {
        return Err(SourceError::NoManifests { place: place() }.into());
    }
    let mut support: Vec<TreeFile> = Vec::new();
    if files.iter().any(|f| crate::manifest::is_kustomization(&f.path) || f.path.ends_with("Chart.yaml")) {
        support = dir::read_support(&root, &root).into_iter().map(|(p, b)| tree_file(p, b)).collect();
        // Follow references that leave the scanned root, a few levels deep.
        let mut asked: std::collections::BTreeSet<String> = Default::default();
        for _ in 0..8 {
            let map = crate::target::glue::file_map(&files, &support);
            let mut missing: Vec<String> = Vec::new();
            for f in files.iter().filter(|f| crate::manifest::is_kustomization(&f.path)) {
                let dir = crate::target::closure::parent(&f.path);
                for m in crate::target::closure::closure(&map, dir).missing {
                    if asked.insert(m.clone()) {
                        missing.push(m);
                    }
                }
            }
            if missing.is_empty() {
                break;
            }
            for m in missing {
                for (p, b) in dir::read_outside(&root, &m) {
                    if files.iter().chain(support.iter()).any(|f| f.path == p) {
                        continue;
                    }
                    if crate::manifest::is_manifest_path(&p) {
                        files.push(tree_file(p, b));
                    } else {
                        support.push(tree_file(p, b));
                    }
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok((files, support, opts))
}

/// Renders and computes the exit code.
pub fn finish(req: &CheckRequest, opts: &AnalysisOptions, review: Review) -> Outcome {
    let fail_on = req.fail_on.or(opts.project.fail_on).unwrap_or_default();
    let exit_code = i32::from(fails(&review, fail_on));
    let format = req.format.unwrap_or(Format::Text);
    let output = if format == Format::Text {
        report::text::render(
            &review,
            &report::text::TextOptions {
                docs_base: req.docs_url.clone().unwrap_or_else(|| report::DEFAULT_DOCS_URL.to_string()),
                color: req.color,
                verbose: req.verbose,
                fail_on,
            },
        )
    } else if format == Format::Sarif {
        let opts = report::sarif::SarifOptions {
            docs_base: req.docs_url.clone().unwrap_or_else(|| report::DEFAULT_DOCS_URL.to_string()),
            uri_prefix: uri_prefix(req),
        };
        report::sarif::render(&review, &opts)
    } else {
        render(&review, format, req.docs_url.as_deref())
    };
    Outcome { output, exit_code, review }
}

/// What makes report paths relative to the repository root: nothing in git mode (they are), else the scanned
/// directory's place in the repository holding it (`clusters/prod/`), nothing outside one.
fn uri_prefix(req: &CheckRequest) -> String {
    if req.base.is_some() {
        return String::new();
    }
    let paths = if req.paths.is_empty() { vec![PathBuf::from(".")] } else { req.paths.clone() };
    dir::scanned_root(&paths).ok().and_then(|root| crate::source::root::repo_prefix(&root)).unwrap_or_default()
}

/// Renders a review in a format.
pub fn render(review: &Review, format: Format, docs_url: Option<&str>) -> String {
    let docs = docs_url.unwrap_or(report::DEFAULT_DOCS_URL);
    match format {
        Format::Text => report::text::render(
            review,
            &report::text::TextOptions { docs_base: docs.to_string(), ..report::text::TextOptions::default() },
        ),
        Format::Json => report::json::render(review),
        Format::Sarif => report::sarif::render(
            review,
            &report::sarif::SarifOptions { docs_base: docs.to_string(), ..report::sarif::SarifOptions::default() },
        ),
        Format::Markdown => report::markdown::render(review, docs),
        Format::Github => report::workflow::render(review),
    }
}

/// Does the review fail under `fail_on`? In a diff only introduced findings count, plus files the change added or
/// modified that no longer parse (as introduced errors). Load errors never fail a single snapshot.
pub fn fails(review: &Review, fail_on: FailOn) -> bool {
    use crate::finding::{Severity, Status};
    let finding =
        review.findings.iter().any(|f| (!review.diff || f.status == Status::Introduced) && fail_on.fails(f.severity));
    let broken = review.diff
        && review.errors.iter().any(|e| e.introduced && e.error.kind.is_fatal())
        && fail_on.fails(Severity::Error);
    finding || broken
}

fn check_diff(req: &CheckRequest) -> Result<Outcome, AppError> {
    let (review, opts) = diff_review(req)?;
    let clock = std::time::Instant::now();
    let outcome = finish(req, &opts, review);
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, bytes = outcome.output.len(), "report rendered");
    Ok(outcome)
}

/// Reviews a change (git or directories) as `check --base/--base-dir` does.
pub fn diff_review(req: &CheckRequest) -> Result<(Review, AnalysisOptions), AppError> {
    diff_review_with(req, false)
}

fn diff_review_with(req: &CheckRequest, no_fixes: bool) -> Result<(Review, AnalysisOptions), AppError> {
    use crate::review::{ReviewInput, TreeFile, build::detect_renames};
    let head_config: Option<String>;
    let (input, base_config) = if let Some(base_dir) = &req.base_dir {
        let head_dir = match req.paths.as_slice() {
            [one] => one.clone(),
            _ => return Err(AppError::Usage("--base-dir DIR takes exactly one PATH: the head directory".into())),
        };
        let side = |dir: &Path| -> Result<Vec<TreeFile>, AppError> {
            if !dir.is_dir() {
                return Err(SourceError::NotFound { path: dir.to_path_buf() }.into());
            }
            Ok(dir::read_tree(dir, &[dir.to_path_buf()])?.into_iter().map(|(p, b)| tree_file(p, b)).collect())
        };
        let base = side(base_dir)?;
        let head = side(&head_dir)?;
        let support = |dir: &Path| -> Vec<TreeFile> {
            dir::read_support(dir, dir).into_iter().map(|(p, b)| tree_file(p, b)).collect()
        };
        let read = |d: &Path| std::fs::read_to_string(d.join(PROJECT_CONFIG_FILE)).ok();
        let (bc, hc) = (read(base_dir), read(&head_dir));
        head_config = hc.clone();
        let renames = detect_renames(&base, &head);
        let input = ReviewInput {
            base,
            head,
            renames,
            base_label: base_dir.display().to_string(),
            head_label: head_dir.display().to_string(),
            config_changed: bc != hc,
            base_support: support(base_dir),
            head_support: support(&head_dir),
        };
        (input, bc)
    } else {
        let base = req.base.clone().unwrap_or_default();
        let head = req.head.clone().unwrap_or_else(|| "HEAD".to_string());
        let repo = req.repo.clone().unwrap_or_else(|| PathBuf::from("."));
        let paths: Vec<String> = req.paths.iter().map(|p| dir::relative(Path::new(""), p)).collect();
        let clock = std::time::Instant::now();
        let change = crate::source::git::read_change(&repo, &base, &head, &paths)?;
        tracing::debug!(ms = clock.elapsed().as_millis() as u64, "change read from git");
        head_config = change.head_config;
        (change.input, change.base_config)
    };
    let project = match (&req.config, &base_config) {
        (Some(c), _) => read_config(c)?,
        (None, Some(text)) => parse_project_config(PROJECT_CONFIG_FILE, text)?,
        (None, None) => ProjectConfig::default(),
    };
    let mut opts = options(req, project)?;
    opts.no_fixes = no_fixes;
    let mut input = input;
    let place = format!("the base ({}) or head ({}) side", input.base_label, input.head_label);
    check_config_paths(
        &opts.project.paths,
        input.base.iter().chain(input.head.iter()).map(|f| f.path.as_str()),
        &place,
    )?;
    if !opts.project.paths.is_empty() {
        let keep = |files: Vec<TreeFile>| -> Vec<TreeFile> {
            let kept: std::collections::HashSet<String> =
                restrict_to(files.iter().map(|f| (f.path.clone(), Vec::new())).collect(), &opts.project.paths)
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect();
            files.into_iter().filter(|f| kept.contains(&f.path)).collect()
        };
        input.base = keep(input.base);
        input.head = keep(input.head);
    }
    if input.base.is_empty() && input.head.is_empty() {
        return Err(SourceError::NoManifests {
            place: format!("the base ({}) and head ({}) sides", input.base_label, input.head_label),
        }
        .into());
    }
    let targets = Targets::new(
        opts.project.clone(),
        render_service(),
        crate::target::glue::file_map(&input.base, &input.base_support),
        crate::target::glue::file_map(&input.head, &input.head_support),
    );
    let clock = std::time::Instant::now();
    let mut review = crate::review::build::review_with(&input, &opts, &targets);
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "review built");
    if req.config.is_none() {
        crate::review::check_head_config(&mut review, base_config.as_deref(), head_config.as_deref());
    }
    Ok((review, opts))
}

/// [`diff_review`] without fixes (the posture table does not show them).
fn diff_review_without_fixes(req: &CheckRequest) -> Result<Review, AppError> {
    Ok(diff_review_with(req, true)?.0)
}

/// `mtls-review posture`: the verdict table of one snapshot, or in diff mode the rows whose verdict or modes
/// change (`before -> after`). Formats: text, json, markdown.
pub fn posture(req: &CheckRequest) -> Result<String, AppError> {
    let format = req.format.unwrap_or(Format::Text);
    if req.base.is_some() || req.base_dir.is_some() {
        let review = diff_review_without_fixes(req)?;
        return Ok(match format {
            Format::Json => {
                let v = serde_json::json!({"version": 1, "base": review.base, "head": review.head, "changes": review.connectivity});
                serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
            }
            Format::Markdown => format!(
                "## mtls-review: connectivity changes\n\n{}",
                report::posture::render_diff_markdown(&review.connectivity)
            ),
            _ => report::posture::render_diff_text(&review.connectivity),
        });
    }
    let (meshes, _, opts, _) = snapshot_meshes(req)?;
    let several = meshes.len() > 1;
    let mut json_meshes = Vec::new();
    let mut text = String::new();
    for m in &meshes {
        let mesh_opts = AnalysisOptions { cli: opts.cli.clone().or(&m.layer), ..opts.clone() };
        let settings = crate::analysis::resolve_settings(&m.files, &mesh_opts);
        let mesh = crate::context::MeshContext::new(crate::mesh::Mesh::build(&m.files, settings, Default::default()));
        let posture = mesh.posture();
        let table = match format {
            Format::Markdown => report::posture::render_markdown(&posture.rows),
            _ => report::posture::render_text(&posture.rows),
        };
        if several {
            text.push_str(&match format {
                Format::Markdown => format!("### mesh `{}`\n\n", m.name),
                _ => format!("mesh {}\n", m.name),
            });
        }
        text.push_str(&table);
        if several {
            text.push('\n');
        }
        json_meshes.push(serde_json::json!({"name": m.name, "settings": mesh.settings, "posture": &*posture}));
    }
    Ok(match format {
        Format::Json => {
            // The first mesh at the top level (the one mesh of a flat tree), every mesh under `meshes`.
            let first = json_meshes.first().cloned().unwrap_or_default();
            let v = serde_json::json!({"version": 1, "settings": first["settings"], "posture": first["posture"], "meshes": json_meshes});
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Markdown => format!("## mtls-review: connectivity\n\n{text}"),
        _ => text,
    })
}

/// `mtls-review targets`: how a snapshot is read (meshes, targets, renderer, object counts, failures, skipped).
pub fn targets(req: &CheckRequest) -> Result<String, AppError> {
    if req.base.is_some() || req.base_dir.is_some() {
        return Err(AppError::Usage("targets lists one snapshot: give PATHs, not --base / --base-dir".into()));
    }
    let (meshes, t, _, service) = snapshot_meshes(req)?;
    let plan = t.plan(crate::finding::Side::Head);
    let report = report::targets::TargetsReport::new(plan, &meshes, |r| service.describe(r));
    Ok(match req.format.unwrap_or(Format::Text) {
        Format::Json => report::targets::render_json(&report),
        _ => report::targets::render_text(&report),
    })
}

/// The meshes of a snapshot, assembled (every target rendered), with what assembled them.
fn snapshot_meshes(
    req: &CheckRequest,
) -> Result<(Vec<crate::target::assemble::MeshFiles>, Targets, AnalysisOptions, Arc<RenderService>), AppError> {
    use crate::review::build::Assemble;
    let (files, support, opts) = read_snapshot(req)?;
    let service = render_service();
    let t = Targets::new(
        opts.project.clone(),
        service.clone(),
        FileMap::new(),
        crate::target::glue::file_map(&files, &support),
    );
    let limits = crate::manifest::yaml::Limits::configured();
    let parsed: Vec<crate::manifest::LoadedFile> =
        crate::analysis::parallel_map(&files, |f| crate::manifest::load_shared(&f.path, &f.bytes, &limits));
    let meshes = t.meshes(crate::finding::Side::Head, &parsed);
    Ok((meshes, t, opts, service))
}
