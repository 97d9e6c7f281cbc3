//! Settings: mesh settings (root namespace, cluster domain, auto mTLS) and the project config file, resolved key by
//! key with the precedence command line > `--mesh-config` > `.mtls-review.yaml` > mesh config found in the tree >
//! default.

use crate::finding::Severity;
use crate::manifest::yaml::{self, Limits, YamlDoc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Default root namespace of an Istio mesh.
pub const DEFAULT_ROOT_NAMESPACE: &str = "istio-system";
/// Default cluster domain.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";
/// Name of the project config file, looked up at the scanned root.
pub const PROJECT_CONFIG_FILE: &str = ".mtls-review.yaml";
/// Annotation that suppresses findings on an object.
pub const IGNORE_ANNOTATION: &str = "mtls-review.io/ignore";

/// The mode a suggested PeerAuthentication gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SuggestMode {
    #[default]
    #[serde(alias = "PERMISSIVE")]
    Permissive,
    #[serde(alias = "STRICT")]
    Strict,
}

impl SuggestMode {
    pub fn as_mode(self) -> &'static str {
        match self {
            SuggestMode::Permissive => "PERMISSIVE",
            SuggestMode::Strict => "STRICT",
        }
    }
}

/// Which findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// Does a finding of this severity fail the run?
    pub fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s >= Severity::Error,
            FailOn::Warning => s >= Severity::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }
}

/// The Istio minor release a mesh runs (`1.24`; a patch number is accepted and ignored): the engine follows that
/// release where Istio's behaviour differs between releases (`docs/posture.md`, "Istio versions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IstioVersion {
    pub major: u32,
    pub minor: u32,
}

impl IstioVersion {
    /// The release the engine follows by default: the current Istio release (1.30; the source read was
    /// github.com/istio/istio at tag 1.30.3 and master of 2026-08-22, where 1.31 was a release candidate).
    pub const CURRENT: IstioVersion = IstioVersion::new(1, 30);
    /// DestinationRules of one host merge only when their `exportTo` sets are equal
    /// (`ENABLE_ENHANCED_DESTINATIONRULE_MERGE`, `pilot/pkg/features/experimental.go`).
    pub const DR_MERGE_BY_EXPORT_TO: IstioVersion = IstioVersion::new(1, 24);
    /// `sidecar.istio.io/inject` is read as exactly `true` / `false` (`pkg/kube/inject/inject.go` `injectRequired`).
    pub const STRICT_INJECT_VALUES: IstioVersion = IstioVersion::new(1, 27);

    pub const fn new(major: u32, minor: u32) -> IstioVersion {
        IstioVersion { major, minor }
    }

    /// True from release `since` on.
    pub fn at_least(self, since: IstioVersion) -> bool {
        self >= since
    }

    /// Parses `1.24`, `1.24.3`, `v1.24` or `1.24.0-rc.0`; a YAML number `1.3` reads as written.
    pub fn parse(text: &str) -> Result<IstioVersion, String> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = t.split(['-', '+']).next().unwrap_or(t);
        let mut parts = t.split('.');
        fn num(p: Option<&str>) -> Option<&str> {
            p.filter(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
        }
        match (num(parts.next()), num(parts.next()), parts.next()) {
            (Some(major), Some(minor), patch)
                if patch.is_none_or(|p| num(Some(p)).is_some()) && parts.next().is_none() =>
            {
                let major: u32 = major.parse().map_err(|_| format!("invalid Istio version `{text}`"))?;
                let minor: u32 = minor.parse().map_err(|_| format!("invalid Istio version `{text}`"))?;
                if major != 1 {
                    return Err(format!("unsupported Istio version `{text}`: only 1.x releases exist"));
                }
                Ok(IstioVersion { major, minor })
            }
            _ => Err(format!("invalid Istio version `{text}`: expected a release such as 1.24 or 1.24.3")),
        }
    }
}

impl Default for IstioVersion {
    fn default() -> Self {
        IstioVersion::CURRENT
    }
}

impl std::fmt::Display for IstioVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for IstioVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IstioVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IstioVersion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an Istio release such as \"1.24\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IstioVersion, E> {
                IstioVersion::parse(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<IstioVersion, E> {
                // `istio_version: 1.24` unquoted is a YAML float; `1.30` would read as 1.3: refuse the ambiguity.
                Err(E::custom(format!("write the Istio version as a string (\"{v}\" is ambiguous: 1.30 reads as 1.3)")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The mesh settings the rules use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeshSettings {
    pub root_namespace: String,
    pub cluster_domain: String,
    pub auto_mtls: bool,
    /// The Istio release whose behaviour the engine follows where releases differ.
    pub istio_version: IstioVersion,
}

impl Default for MeshSettings {
    fn default() -> Self {
        MeshSettings {
            root_namespace: DEFAULT_ROOT_NAMESPACE.to_string(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            auto_mtls: true,
            istio_version: IstioVersion::CURRENT,
        }
    }
}

/// One layer of optional mesh settings (command line, a config file, the tree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshLayer {
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub auto_mtls: Option<bool>,
    pub istio_version: Option<IstioVersion>,
}

impl MeshLayer {
    /// Fills the keys this layer lacks from `lower`.
    pub fn or(self, lower: &MeshLayer) -> MeshLayer {
        MeshLayer {
            root_namespace: self.root_namespace.or_else(|| lower.root_namespace.clone()),
            cluster_domain: self.cluster_domain.or_else(|| lower.cluster_domain.clone()),
            auto_mtls: self.auto_mtls.or(lower.auto_mtls),
            istio_version: self.istio_version.or(lower.istio_version),
        }
    }

    pub fn resolve(&self) -> MeshSettings {
        let d = MeshSettings::default();
        MeshSettings {
            root_namespace: self.root_namespace.clone().unwrap_or(d.root_namespace),
            cluster_domain: self.cluster_domain.clone().unwrap_or(d.cluster_domain),
            auto_mtls: self.auto_mtls.unwrap_or(d.auto_mtls),
            istio_version: self.istio_version.unwrap_or(d.istio_version),
        }
    }
}

/// The project config file `.mtls-review.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub auto_mtls: Option<bool>,
    /// The Istio release the mesh runs (default: [`IstioVersion::CURRENT`]).
    pub istio_version: Option<IstioVersion>,
    pub suggest_mode: Option<SuggestMode>,
    pub fail_on: Option<FailOn>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    /// Meshes and their targets, written out: when present (and not empty) discovery is not run.
    #[serde(default)]
    pub meshes: Vec<MeshConfig>,
}

/// One mesh of `.mtls-review.yaml` `meshes:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshConfig {
    pub name: String,
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub auto_mtls: Option<bool>,
    pub istio_version: Option<IstioVersion>,
    pub default_namespace: Option<String>,
}

/// How a configured target is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderConfig {
    #[default]
    Kustomize,
    Plain,
    Command,
    Helm,
}

/// One target of a configured mesh.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Directory (or file, for `plain`) relative to the tree root.
    pub path: String,
    /// Defaults to `kustomize` when the path holds a kustomization, else `plain` (decided by discovery).
    pub render: Option<RenderConfig>,
    /// Namespace for namespaced objects that name none.
    pub namespace: Option<String>,
    /// `render: command`: the program and its arguments, run in `path`.
    #[serde(default)]
    pub command: Vec<String>,
    /// `render: helm`: values files relative to the tree root.
    #[serde(default)]
    pub values_files: Vec<String>,
}

impl ProjectConfig {
    pub fn mesh_layer(&self) -> MeshLayer {
        MeshLayer {
            root_namespace: self.root_namespace.clone(),
            cluster_domain: self.cluster_domain.clone(),
            auto_mtls: self.auto_mtls,
            istio_version: self.istio_version,
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// Parses `.mtls-review.yaml`. Unknown keys and wrong types are errors with the file's line; `ignore` entries
/// must be among `codes` (the rule registry's codes: `rules::parse_project_config` passes them, since the
/// registry sits above the settings).
pub fn parse_project_config_with(path: &str, text: &str, codes: &[&str]) -> Result<ProjectConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(ProjectConfig::default());
    }
    let config =
        serde_yaml_ng::from_str::<Option<ProjectConfig>>(text).map(Option::unwrap_or_default).map_err(|e| {
            ConfigError {
                path: path.to_string(),
                line: e.location().map(|l| l.line()).unwrap_or(1),
                message: e.to_string(),
            }
        })?;
    for code in &config.ignore {
        if let Err(message) = check_code(code, codes) {
            // The line of the entry: the first line after `ignore:` that names the code.
            let start = text.lines().position(|l| l.trim_start().starts_with("ignore")).unwrap_or(0);
            let line =
                text.lines().enumerate().skip(start).find(|(_, l)| l.contains(code.as_str())).map(|(i, _)| i + 1);
            return Err(ConfigError {
                path: path.to_string(),
                line: line.unwrap_or(start + 1),
                message: format!("ignore: {message}"),
            });
        }
    }
    Ok(config)
}

/// Checks a rule code given to `ignore` (config or `--ignore`): one of `codes` (the registered codes) or `*`. The
/// error names the nearest code (a different case, or at most two edits away), else lists them all.
pub fn check_code(code: &str, codes: &[&str]) -> Result<(), String> {
    if code == "*" || codes.contains(&code) {
        return Ok(());
    }
    let nearest =
        codes.iter().map(|c| (edit_distance(&code.to_ascii_uppercase(), c), *c)).filter(|(d, _)| *d <= 2).min();
    Err(match nearest {
        Some((_, c)) => format!("unknown rule code `{code}`; did you mean `{c}`?"),
        None => format!("unknown rule code `{code}`; the rule codes are {} (or `*` for all)", codes.join(", ")),
    })
}

/// Edit distance of two short ASCII texts, a swap of two neighbours counting as one edit (optimal string
/// alignment): `TIS0260` is one edit from `TIS0206`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Reads the keys we use from a meshConfig document (istioctl's `--meshConfigFile` format). `trustDomain` is
/// deliberately ignored: it names the SPIFFE trust domain, not the DNS cluster domain.
pub fn parse_mesh_config(path: &str, text: &str) -> Result<MeshLayer, ConfigError> {
    let stream = yaml::parse_stream(text, &Limits::default());
    if let Some(e) = stream.errors.first() {
        return Err(ConfigError { path: path.to_string(), line: e.line, message: e.message.clone() });
    }
    Ok(stream.docs.first().and_then(|d| d.root.map(|r| mesh_layer_from_node(d, r))).unwrap_or_default())
}

/// Reads `rootNamespace` and `enableAutoMtls` from a meshConfig mapping node.
pub fn mesh_layer_from_node(doc: &YamlDoc, node: usize) -> MeshLayer {
    MeshLayer {
        root_namespace: doc.str_at(node, &["rootNamespace"]).map(str::to_string),
        cluster_domain: None,
        auto_mtls: doc.str_at(node, &["enableAutoMtls"]).and_then(parse_bool),
        istio_version: None,
    }
}

/// YAML 1.1 booleans as Kubernetes (go-yaml) reads them.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => Some(false),
        _ => None,
    }
}

/// Everything that shapes an analysis besides the manifests.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// Command-line layer (highest precedence), already merged with `--mesh-config`.
    pub cli: MeshLayer,
    /// The project config file, if one was found.
    pub project: ProjectConfig,
    /// Command-line `--suggest-mode` (over the config file's).
    pub suggest_mode: Option<SuggestMode>,
    /// Extra codes to ignore (command line).
    pub ignore: Vec<String>,
    /// Skip fix generation (used when verifying fixes).
    pub no_fixes: bool,
    /// Renders targets again with an edited source file (fix verification of rendered objects); `None` for
    /// trees read as plain files.
    pub rerender: Option<std::sync::Arc<dyn Rerender>>,
}

/// Renders a target again (implemented by `target`) with one source file replaced: what fix verification needs for rendered objects.
pub trait Rerender: Send + Sync + std::fmt::Debug {
    /// The rendered file of target `target` with `path` holding `bytes`; `None` when it no longer renders.
    fn rerender(&self, target: &str, path: &str, bytes: &[u8]) -> Option<crate::manifest::LoadedFile>;
    /// True when `path` also feeds a target outside `targets` (another mesh, which an edit would change unseen).
    fn feeds_others(&self, targets: &[&str], path: &str) -> bool;
}

impl AnalysisOptions {
    pub fn suggest_mode(&self) -> SuggestMode {
        self.suggest_mode.or(self.project.suggest_mode).unwrap_or_default()
    }

    pub fn is_ignored(&self, code: &str) -> bool {
        self.ignore.iter().chain(self.project.ignore.iter()).any(|c| c == code || c == "*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_project_config;

    #[test]
    fn unknown_key_has_line() {
        let e =
            parse_project_config(".mtls-review.yaml", "root_namespace: x\nfail_on: warning\nbogus: 1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("bogus"));
    }

    #[test]
    fn config_keys() {
        let c = parse_project_config("c", "suggest_mode: strict\nignore: [TIS0206]\npaths: [apps]\nauto_mtls: false\n")
            .unwrap();
        assert_eq!(c.suggest_mode, Some(SuggestMode::Strict));
        assert_eq!(c.ignore, vec!["TIS0206".to_string()]);
        assert_eq!(c.auto_mtls, Some(false));
    }

    #[test]
    fn config_meshes() {
        let c = parse_project_config(
            "c",
            "meshes:\n- name: prod\n  root_namespace: istio-root\n  targets:\n  - {path: overlays/prod, render: kustomize}\n  - {path: gen, render: command, command: [sh, gen.sh]}\n",
        )
        .unwrap();
        assert_eq!(c.meshes.len(), 1);
        assert_eq!(c.meshes[0].root_namespace.as_deref(), Some("istio-root"));
        assert_eq!(c.meshes[0].targets[1].render, Some(RenderConfig::Command));
        assert_eq!(c.meshes[0].targets[1].command, vec!["sh".to_string(), "gen.sh".to_string()]);
        let e =
            parse_project_config("c", "meshes:\n- name: a\n  targets:\n  - {path: x, renderer: plain}\n").unwrap_err();
        assert!(e.message.contains("renderer"), "{}", e.message);
    }

    #[test]
    fn mesh_config_ignores_trust_domain() {
        let l = parse_mesh_config("m", "rootNamespace: mesh-root\ntrustDomain: corp.example\nenableAutoMtls: false\n")
            .unwrap();
        assert_eq!(
            l,
            MeshLayer {
                root_namespace: Some("mesh-root".into()),
                cluster_domain: None,
                auto_mtls: Some(false),
                istio_version: None
            }
        );
    }

    #[test]
    fn istio_versions() {
        let v = |t: &str| IstioVersion::parse(t);
        assert_eq!(v("1.24"), Ok(IstioVersion::new(1, 24)));
        assert_eq!(v("1.24.3"), Ok(IstioVersion::new(1, 24)));
        assert_eq!(v("v1.27.0"), Ok(IstioVersion::new(1, 27)));
        assert_eq!(v("1.31.0-rc.0"), Ok(IstioVersion::new(1, 31)));
        for bad in ["", "1", "1.", "1.x", "2.0", "1.24.3.1", "latest", "1.24.x"] {
            assert!(v(bad).is_err(), "{bad}");
        }
        assert!(IstioVersion::new(1, 30) > IstioVersion::new(1, 4));
        assert!(IstioVersion::new(1, 24).at_least(IstioVersion::DR_MERGE_BY_EXPORT_TO));
        assert!(!IstioVersion::new(1, 23).at_least(IstioVersion::DR_MERGE_BY_EXPORT_TO));
        assert_eq!(MeshSettings::default().istio_version, IstioVersion::CURRENT);
        assert_eq!(IstioVersion::CURRENT.to_string(), "1.30");
    }

    #[test]
    fn istio_version_in_the_config() {
        let c = parse_project_config("c", "istio_version: \"1.23\"\nmeshes:\n- name: old\n  istio_version: 1.22.1\n")
            .unwrap();
        assert_eq!(c.istio_version, Some(IstioVersion::new(1, 23)));
        assert_eq!(c.meshes[0].istio_version, Some(IstioVersion::new(1, 22)));
        assert_eq!(c.mesh_layer().resolve().istio_version, IstioVersion::new(1, 23));
        // An unquoted 1.30 is the YAML float 1.3: refused, with the line.
        let e = parse_project_config("c", "fail_on: error\nistio_version: 1.30\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("as a string"), "{}", e.message);
        let e = parse_project_config("c", "istio_version: \"2.1\"\n").unwrap_err();
        assert!(e.message.contains("only 1.x"), "{}", e.message);
    }

    #[test]
    fn precedence_key_by_key() {
        let cli = MeshLayer { root_namespace: Some("a".into()), ..MeshLayer::default() };
        let cfg = MeshLayer { root_namespace: Some("b".into()), auto_mtls: Some(false), ..MeshLayer::default() };
        let s = cli.or(&cfg).resolve();
        assert_eq!((s.root_namespace.as_str(), s.auto_mtls, s.cluster_domain.as_str()), ("a", false, "cluster.local"));
    }
}
