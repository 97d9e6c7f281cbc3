//! Rendering: a target to plain objects with the real tools (`kustomize build`, or `kubectl kustomize` when only
//! kubectl is installed; `helm template`; a configured command). The only code that runs another program.
//!
//! Every render runs on a temporary copy of exactly the files the target reads (its [closure]), written from the
//! side's bytes, so base and head render from their own trees and a fix is verified by rendering the edited bytes.
//! The build runs on a wrapper kustomization that references the target and asks kustomize for origin and
//! transformer annotations (provenance), and carries the target's own options (Flux `targetNamespace`,
//! `namePrefix`, `nameSuffix`, `patches`; Argo CD `kustomize` options), as kustomize-controller and Argo CD do.
//! Renders are cached by the content of their inputs.

use super::closure::{self, Closure, FileMap};
use super::provenance::{ORIGIN_ANNOTATION, RenderContext, SourceDocs, TRANSFORMATIONS_ANNOTATION, provenance_of};
use super::{RenderKind, Target, TargetOrigin};
use crate::finding::{ErrorKind, LoadError};
use crate::manifest::yaml::Limits;
use crate::manifest::{LoadedFile, Object, SourceText, load_file};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The directory, beside the tree's copy, of the wrapper kustomization a render runs on.
pub const WRAPPER_DIR: &str = ".mtls-review-render";
/// The directory that holds the tree's copy in a render's temporary directory.
pub const TREE_DIR: &str = ".mtls-review-tree";

/// What a render needs from the tools: the YAML stream of a target's build in a directory that holds its files.
pub trait Tool: Send + Sync {
    /// Runs the build of `what` (a kustomization directory, a chart directory or the target directory) under
    /// `root` and returns its stdout, or the tool's message.
    fn run(&self, target: &Target, root: &Path, what: &Path) -> Result<String, String>;
    /// A one-line description for `mtls-review targets` (`kustomize v5.5.0`, `kubectl kustomize`).
    fn describe(&self, render: &RenderKind) -> String;
}

/// The installed tools, found on `PATH` (`MTLS_REVIEW_KUSTOMIZE` / `MTLS_REVIEW_HELM` name others).
#[derive(Debug, Clone, Default)]
pub struct InstalledTools {
    pub kustomize: Option<Kustomize>,
    pub helm: Option<PathBuf>,
}

/// How kustomize is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kustomize {
    /// The `kustomize` binary: `kustomize build DIR`.
    Standalone(PathBuf),
    /// `kubectl kustomize DIR` (kubectl embeds kustomize).
    Kubectl(PathBuf),
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

impl InstalledTools {
    /// Finds kustomize (else kubectl) and helm.
    pub fn detect() -> Self {
        let kustomize = match std::env::var("MTLS_REVIEW_KUSTOMIZE") {
            Ok(v) if v.ends_with("kubectl") => Some(Kustomize::Kubectl(PathBuf::from(v))),
            Ok(v) if !v.is_empty() => Some(Kustomize::Standalone(PathBuf::from(v))),
            _ => on_path("kustomize").map(Kustomize::Standalone).or_else(|| on_path("kubectl").map(Kustomize::Kubectl)),
        };
        let helm = std::env::var("MTLS_REVIEW_HELM")
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| on_path("helm"));
        InstalledTools { kustomize, helm }
    }
}

fn run_command(mut cmd: std::process::Command) -> Result<String, String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|_| "the renderer's output is not UTF-8".to_string())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(clean_message(&stderr))
    }
}

/// The renderer's message without klog prefixes (`E1201 21:30:59.805543 6564 run.go:72] "command failed" err=`).
fn clean_message(stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .map(|l| {
            let l = match l.find("] \"command failed\" err=") {
                Some(i) => &l[i + "] \"command failed\" err=".len()..],
                None => l,
            };
            l.trim().trim_matches('"').to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let msg = lines.join("; ");
    if msg.is_empty() { "the renderer failed without a message".to_string() } else { msg }
}

impl Tool for InstalledTools {
    fn run(&self, target: &Target, root: &Path, what: &Path) -> Result<String, String> {
        match &target.render {
            RenderKind::Kustomize => {
                let Some(k) = &self.kustomize else {
                    return Err("kustomize is not installed (neither `kustomize` nor `kubectl` is on PATH)".into());
                };
                let mut cmd = match k {
                    Kustomize::Standalone(p) => {
                        let mut c = std::process::Command::new(p);
                        c.arg("build");
                        c
                    }
                    Kustomize::Kubectl(p) => {
                        let mut c = std::process::Command::new(p);
                        c.arg("kustomize");
                        c
                    }
                };
                // Flux's kustomize-controller builds without load restrictions; Argo CD and kubectl keep them.
                if target.origin == TargetOrigin::Flux {
                    cmd.arg("--load-restrictor").arg("LoadRestrictionsNone");
                }
                if self.helm.is_some() {
                    cmd.arg("--enable-helm");
                    if let (Some(h), Kustomize::Standalone(_)) = (&self.helm, k) {
                        cmd.arg("--helm-command").arg(h);
                    }
                }
                cmd.arg(what).current_dir(root);
                run_command(cmd)
            }
            RenderKind::Helm { release, values_files, values } => {
                let Some(h) = &self.helm else { return Err("helm is not installed (`helm` is not on PATH)".into()) };
                let mut cmd = std::process::Command::new(h);
                cmd.arg("template").arg(release).arg(what);
                if let Some(ns) = target.target_namespace.as_ref().or(target.default_namespace.as_ref()) {
                    cmd.arg("--namespace").arg(ns);
                }
                for v in values_files {
                    cmd.arg("--values").arg(root.join(v));
                }
                if let Some(v) = values {
                    let p = root.join(".mtls-review-values.yaml");
                    std::fs::write(&p, v).map_err(|e| format!("cannot write values: {e}"))?;
                    cmd.arg("--values").arg(p);
                }
                cmd.current_dir(root);
                run_command(cmd)
            }
            RenderKind::Command { command } => {
                let Some((prog, args)) = command.split_first() else { return Err("empty `command`".into()) };
                let mut cmd = std::process::Command::new(prog);
                cmd.args(args).current_dir(what);
                run_command(cmd)
            }
            RenderKind::Plain => Err("plain targets are not rendered".into()),
        }
    }

    fn describe(&self, render: &RenderKind) -> String {
        match render {
            RenderKind::Kustomize => match &self.kustomize {
                Some(Kustomize::Standalone(_)) => "kustomize build".into(),
                Some(Kustomize::Kubectl(_)) => "kubectl kustomize".into(),
                None => "kustomize (not installed)".into(),
            },
            RenderKind::Helm { .. } => {
                if self.helm.is_some() {
                    "helm template".into()
                } else {
                    "helm (not installed)".into()
                }
            }
            RenderKind::Command { command } => format!("command `{}`", command.join(" ")),
            RenderKind::Plain => "plain files".into(),
        }
    }
}

/// A target rendered on one side.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The objects (with provenance for rendered kinds), as one file of the mesh.
    pub file: LoadedFile,
    /// The source files the target reads.
    pub inputs: BTreeSet<String>,
    /// The render failed (the tool's message, on the target's kustomization or declaration line).
    pub error: Option<LoadError>,
    /// The cache key (content of every input and the target's definition).
    pub key: String,
}

/// The render of one input content, computed once.
type RenderCell = Arc<std::sync::OnceLock<Result<Arc<str>, String>>>;

/// Renders targets, caching by content. Shared by base, head and fix verification.
pub struct RenderService {
    tool: Arc<dyn Tool>,
    cache: Mutex<HashMap<String, RenderCell>>,
    /// Count of tool runs (for `targets` and the benchmark).
    pub runs: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for RenderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderService").finish_non_exhaustive()
    }
}

impl RenderService {
    pub fn new(tool: Arc<dyn Tool>) -> Self {
        RenderService { tool, cache: Mutex::new(HashMap::new()), runs: 0.into() }
    }

    pub fn describe(&self, render: &RenderKind) -> String {
        self.tool.describe(render)
    }

    /// The files a target reads from `files`.
    pub fn closure_of(target: &Target, files: &FileMap) -> Closure {
        match &target.render {
            RenderKind::Kustomize => closure::closure(files, &target.path),
            RenderKind::Plain => Closure { files: target.files.iter().cloned().collect(), ..Closure::default() },
            RenderKind::Helm { values_files, .. } => {
                let prefix = if target.path.is_empty() { String::new() } else { format!("{}/", target.path) };
                let mut c = Closure {
                    files: files.keys().filter(|p| p.starts_with(&prefix)).cloned().collect(),
                    ..Closure::default()
                };
                c.files.extend(values_files.iter().filter(|v| files.contains_key(*v)).cloned());
                c
            }
            RenderKind::Command { .. } => {
                let prefix = if target.path.is_empty() { String::new() } else { format!("{}/", target.path) };
                Closure {
                    files: files.keys().filter(|p| p.starts_with(&prefix)).cloned().collect(),
                    ..Closure::default()
                }
            }
        }
    }

    /// Renders a non-plain target from `files` (`docs`: the side's parsed files, for provenance).
    pub fn render(&self, target: &Target, files: &FileMap, docs: &SourceDocs) -> Rendered {
        let closure = Self::closure_of(target, files);
        let key = cache_key(target, &closure, files);
        let declared = target
            .declared_at
            .clone()
            .or_else(|| closure.kustomizations.first().map(|k| (k.clone(), 1)))
            .unwrap_or_else(|| (target.path.clone(), 1));
        let mut out = Rendered { inputs: closure.files.clone(), key: key.clone(), ..Rendered::default() };
        out.inputs.extend(target.declared_at.iter().map(|(p, _)| p.clone()));
        if let Some((k, line, why)) = closure.unresolved.iter().find(|(_, _, why)| why.starts_with("remote")) {
            out.error = Some(LoadError {
                path: k.clone(),
                line: *line,
                message: format!("target `{}` cannot be rendered: {why}", target.name),
                kind: ErrorKind::Render,
            });
            return out;
        }
        // One cell per input content: base and head render on their own threads, and the second to ask for a
        // target both sides share waits for the first one's render instead of running the tool again.
        let cell = self.cache.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().clone();
        let result = cell
            .get_or_init(|| {
                self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.run_in_temp(target, &closure, files).map(Arc::from)
            })
            .clone();
        match result {
            Ok(yaml) => {
                out.file = objects_of(target, &yaml, files, docs, &closure);
            }
            Err(message) => {
                out.error = Some(LoadError {
                    path: declared.0,
                    line: declared.1,
                    message: format!("target `{}` cannot be rendered: {message}", target.name),
                    kind: ErrorKind::Render,
                });
            }
        }
        out
    }

    fn run_in_temp(&self, target: &Target, closure: &Closure, files: &FileMap) -> Result<String, String> {
        let dir = TempDir::new().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        // Paths that leave the tree (`../shared/x.yaml`) need room above the tree root.
        let depth = closure.files.iter().map(|p| p.split('/').take_while(|s| *s == "..").count()).max().unwrap_or(0);
        // The tree goes into TREE_DIR, the wrapper beside it (inside, a target at the tree root would contain its
        // own wrapper: kustomize refuses the cycle).
        let mut root = dir.path().to_path_buf();
        for i in 0..depth {
            root.push(format!("up{i}"));
        }
        root.push(TREE_DIR);
        for p in &closure.files {
            if let Some(bytes) = files.get(p) {
                let dest = root.join(p);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("cannot write {p}: {e}"))?;
                }
                std::fs::write(&dest, bytes).map_err(|e| format!("cannot write {p}: {e}"))?;
            }
        }
        std::fs::create_dir_all(root.join(&target.path)).map_err(|e| format!("cannot write {}: {e}", target.path))?;
        let result = match &target.render {
            RenderKind::Kustomize => {
                let wrapper = root.parent().unwrap_or(&root).join(WRAPPER_DIR);
                std::fs::create_dir_all(&wrapper).map_err(|e| format!("cannot write the wrapper: {e}"))?;
                std::fs::write(wrapper.join("kustomization.yaml"), wrapper_kustomization(target))
                    .map_err(|e| format!("cannot write the wrapper: {e}"))?;
                self.tool.run(target, &root, &wrapper)
            }
            _ => self.tool.run(target, &root, &root.join(&target.path)),
        };
        // Messages name the tree's paths, not the temporary directory.
        let prefix = format!("{}/", root.display());
        let parent = format!("{}/", root.parent().unwrap_or(&root).display());
        result.map_err(|m| {
            m.replace(&prefix, "")
                .replace(&parent, "")
                .replace(&format!("../{TREE_DIR}/"), "")
                .replace(&format!("{TREE_DIR}/"), "")
                .replace(&format!("{WRAPPER_DIR}/"), "")
        })
    }
}

/// The wrapper kustomization: the target as its only resource, the target's own options, provenance on.
pub fn wrapper_kustomization(target: &Target) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let resource =
        if target.path.is_empty() { format!("../{TREE_DIR}") } else { format!("../{TREE_DIR}/{}", target.path) };
    let mut y = String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    y.push_str(&format!("resources:\n- {}\n", quote(&resource)));
    y.push_str("buildMetadata: [originAnnotations, transformerAnnotations]\n");
    if let Some(ns) = &target.target_namespace {
        y.push_str(&format!("namespace: {}\n", quote(ns)));
    }
    if let Some(p) = &target.name_prefix {
        y.push_str(&format!("namePrefix: {}\n", quote(p)));
    }
    if let Some(s) = &target.name_suffix {
        y.push_str(&format!("nameSuffix: {}\n", quote(s)));
    }
    if !target.patches.is_empty() {
        y.push_str("patches:\n");
        for p in &target.patches {
            y.push_str(&format!("- patch: {}\n", quote(&p.patch)));
            if let Some(t) = &p.target {
                // The selector as a JSON object (YAML flow), whatever style it was written in.
                let doc = crate::manifest::yaml::parse_stream(t, &Limits::default()).docs.into_iter().next();
                if let Some(doc) = doc
                    && let Some(root) = doc.root
                {
                    let fields: Vec<String> = doc
                        .entries(root)
                        .iter()
                        .filter_map(|(k, v)| Some(format!("{}: {}", quote(doc.scalar(*k)?), quote(doc.scalar(*v)?))))
                        .collect();
                    y.push_str(&format!("  target: {{{}}}\n", fields.join(", ")));
                }
            }
        }
    }
    y
}

fn cache_key(target: &Target, closure: &Closure, files: &FileMap) -> String {
    let mut h = String::new();
    h.push_str(&serde_json::to_string(target).unwrap_or_default());
    for p in &closure.files {
        h.push('\0');
        h.push_str(p);
        h.push('\0');
        if let Some(b) = files.get(p) {
            h.push_str(&git2::Oid::hash_object(git2::ObjectType::Blob, b).map(|o| o.to_string()).unwrap_or_default());
        }
    }
    git2::Oid::hash_object(git2::ObjectType::Blob, h.as_bytes()).map(|o| o.to_string()).unwrap_or(h)
}

/// Parses a render's output into objects with provenance, applying what the tool does not (Argo CD's
/// `destination.namespace` for objects that name none; Flux `postBuild` substitutions).
fn objects_of(target: &Target, yaml: &str, files: &FileMap, docs: &SourceDocs, closure: &Closure) -> LoadedFile {
    let text = if target.substitute.is_empty() { yaml.to_string() } else { substitute(yaml, &target.substitute) };
    let virtual_path = format!("{}@rendered", target.name);
    let limits = Limits { max_file_bytes: usize::MAX / 2, ..Limits::default() };
    let mut loaded = load_file(&virtual_path, text.as_bytes(), &limits);
    let wrapper_dir = format!("../{WRAPPER_DIR}");
    let wrapper_path = format!("{wrapper_dir}/kustomization.yaml");
    let ctx = RenderContext { target, docs, wrapper_dir: &wrapper_dir, wrapper_path: &wrapper_path };
    loaded.objects = loaded
        .objects
        .iter()
        .map(|o| {
            let mut o: Object = (**o).clone();
            let mut prov = provenance_of(&ctx, &o, &o.annotations);
            if prov.origin.is_none() && prov.origin_file.is_none() {
                prov.origin_file = helm_source(yaml, &o, target).map(|p| (Arc::from(p.as_str()), 1));
            }
            o.annotations.retain(|(k, _)| k != ORIGIN_ANNOTATION && k != TRANSFORMATIONS_ANNOTATION);
            if o.namespace.is_none()
                && o.kind != "Namespace"
                && let Some(ns) = &target.default_namespace
            {
                o.namespace = Some(ns.clone());
            }
            o.provenance = Some(Arc::new(prov));
            Arc::new(o)
        })
        .collect();
    // Errors in the render's output are the tool's (it wrote it); keep them on the target.
    for e in &mut loaded.errors {
        e.message = format!("in the output of target `{}`: {}", target.name, e.message);
    }
    loaded.inputs = closure
        .files
        .iter()
        .filter_map(|p| {
            let b = files.get(p)?;
            let (bom, body) = match b.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) => (true, rest),
                None => (false, &b[..]),
            };
            let text = std::str::from_utf8(body).ok()?.to_string();
            let crlf = text.contains("\r\n");
            Some(Arc::new(SourceText::new(p.clone(), text, crlf, bom)))
        })
        .collect();
    loaded.target = Some(target.name.clone());
    loaded.source = None;
    loaded
}

/// For `helm template` output: the template that produced an object (`# Source: chart/templates/x.yaml`).
fn helm_source(yaml: &str, o: &Object, target: &Target) -> Option<String> {
    if !matches!(target.render, RenderKind::Helm { .. }) {
        return None;
    }
    let lines: Vec<&str> = yaml.lines().collect();
    let start = o.line.saturating_sub(1).min(lines.len());
    let src = lines[..start].iter().rev().take(4).find_map(|l| l.strip_prefix("# Source: "))?;
    let rest = src.split_once('/').map(|(_, r)| r).unwrap_or(src);
    Some(closure::join(&target.path, rest))
}

/// Flux `postBuild` variable substitution: `${var}`, `${var:=default}`, `${var:-default}`; unknown variables
/// without a default become empty, as Flux does (outside `$${...}` escapes).
pub fn substitute(text: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let expr = &after[..end];
        let (name, default) = match expr.find(":=").or_else(|| expr.find(":-")) {
            Some(j) => (&expr[..j], Some(&expr[j + 2..])),
            None => (expr, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.contains('\n') {
            out.push_str("${");
            rest = after;
            continue;
        }
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => out.push_str(default.unwrap_or("")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A temporary directory removed on drop (no crate needed for this one use).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!("mtls-review-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_as_flux_does_it() {
        let vars = [("cluster".to_string(), "prod".to_string())].into_iter().collect();
        assert_eq!(
            substitute("a: ${cluster}-x\nb: ${missing:=d}\nc: $${cluster}\nd: ${x y}\n", &vars),
            "a: prod-x\nb: d\nc: ${cluster}\nd: ${x y}\n"
        );
        assert_eq!(substitute("e: ${nope}\n", &vars), "e: \n");
    }

    #[test]
    fn wrapper_carries_the_targets_options() {
        let mut t = Target::new("flux:apps", "apps/prod", RenderKind::Kustomize, TargetOrigin::Flux);
        t.target_namespace = Some("shop".into());
        t.name_prefix = Some("p-".into());
        t.patches.push(super::super::InlinePatch {
            patch: "- op: remove\n  path: /spec/x\n".into(),
            target: Some("kind: DestinationRule\nname: all\n".into()),
            path: "clusters/prod/apps.yaml".into(),
            line: 12,
        });
        let w = wrapper_kustomization(&t);
        assert!(w.contains("- \"../.mtls-review-tree/apps/prod\"\n"), "{w}");
        assert!(w.contains("namespace: \"shop\"\n") && w.contains("namePrefix: \"p-\"\n"), "{w}");
        assert!(w.contains("  target: {\"kind\": \"DestinationRule\", \"name\": \"all\"}\n"), "{w}");
        let doc = crate::manifest::yaml::parse_stream(&w, &Limits::default());
        assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    }

    #[test]
    fn klog_prefix_is_dropped() {
        let m = clean_message(
            "E1201 21:30:59.805543    6564 run.go:72] \"command failed\" err=\"accumulating resources: x\"\n",
        );
        assert_eq!(m, "accumulating resources: x");
    }
}
