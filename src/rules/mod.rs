//! The rule registry: one file per rule, each a pure function of the mesh model.

use crate::context::MeshContext;
use crate::finding::Severity;

pub mod mtls001;
pub mod mtls002;
pub mod mtls003;
pub mod mtls005;
pub mod mtls006;
pub mod mtls007;
pub mod mtls008;
pub mod mtls009;
pub mod mtls010;
pub mod tis0205;
pub mod tis0206;
pub mod tis0207;
pub mod tis0208;
pub mod tis0401;
pub mod tis0501;
pub mod tis0502;
pub mod tis0503;

#[cfg(test)]
mod kiali_conformance_tests;

/// A rule's metadata and check.
pub struct Rule {
    pub code: &'static str,
    /// Short title, as on the rule's docs page.
    pub title: &'static str,
    /// The severity the rule reports at most.
    pub default_severity: Severity,
    /// One-paragraph help text (SARIF `help`).
    pub help: &'static str,
    pub check: fn(&MeshContext) -> Vec<RuleFinding>,
    /// What a finding of the rule can depend on: fix verification re-runs a rule only where an edit can change
    /// its findings (`analysis::scoped`).
    pub reads: Reads,
}

/// The inputs a rule's findings depend on. The *mesh part* of a snapshot is its root namespace's
/// PeerAuthentications, its mesh-wide DestinationRules (any namespace), the mesh settings and the set of objects
/// the change adds (`Mesh::newer`, for Istio's oldest-wins choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// A finding on an object of namespace N depends on N's objects (PeerAuthentications, DestinationRules,
    /// workloads, Services), the Namespace object N and the mesh part, nothing else.
    Namespace,
    /// Findings depend on the mesh part and the workloads of every namespace (the inventory), nothing else.
    Mesh,
    /// Findings come from posture rows: a row of a Service depends on its namespace's workloads and
    /// PeerAuthentications, the mesh part, every DestinationRule and VirtualService, and the client workloads of
    /// every namespace. Fix verification recomputes the rows of the services an edit can reach
    /// (`posture::PostureScope`).
    Posture,
    /// Findings depend on callers outside the mesh (admission webhooks, APIServices) and on the namespaces whose
    /// Services they call (workloads, PeerAuthentications) and the mesh part.
    Callers,
}

/// The registry: every rule, in report order.
pub const RULES: &[&Rule] = &[
    &tis0205::RULE,
    &tis0206::RULE,
    &tis0207::RULE,
    &tis0208::RULE,
    &tis0401::RULE,
    &tis0501::RULE,
    &tis0502::RULE,
    &tis0503::RULE,
    &mtls001::RULE,
    &mtls002::RULE,
    &mtls003::RULE,
    &mtls005::RULE,
    &mtls006::RULE,
    &mtls007::RULE,
    &mtls008::RULE,
    &mtls009::RULE,
    &mtls010::RULE,
];

/// Looks a rule up by code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.code == code)
}

// What rules report and the fixes they plan live in `crate::plan`, below both the rules and the posture engine
// (whose MTLS001/MTLS002 remedies build them), so neither imports the other's types in a circle.
pub use crate::plan::{
    DR_PORT_LEVEL, DR_TLS, DR_TLS_MODE, FixEdit, FixPlan, NewObject, PA_MODE, PA_PORT_LEVEL, PA_SELECTOR, RuleFinding,
};

/// The registered rule codes, in report order.
pub fn codes() -> Vec<&'static str> {
    RULES.iter().map(|r| r.code).collect()
}

/// Checks a rule code given to `ignore` (config or `--ignore`): a registered code or `*`
/// ([`crate::settings::check_code`]).
pub fn check_rule_code(code: &str) -> Result<(), String> {
    crate::settings::check_code(code, &codes())
}

/// Parses `.mtls-review.yaml`, its `ignore` entries checked against the registry
/// ([`crate::settings::parse_project_config_with`]).
pub fn parse_project_config(
    path: &str,
    text: &str,
) -> Result<crate::settings::ProjectConfig, crate::settings::ConfigError> {
    crate::settings::parse_project_config_with(path, text, &codes())
}

/// Runs every rule.
pub fn run_all(mesh: &MeshContext) -> Vec<RuleFinding> {
    RULES.iter().flat_map(|r| (r.check)(mesh)).collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds meshes from YAML text for rule tests.
    use crate::context::MeshContext;
    use crate::manifest::{load_file, yaml::Limits};
    use crate::mesh::Mesh;
    use crate::settings::MeshSettings;

    /// A mesh from one multi-document YAML text with default settings.
    pub fn mesh(yaml: &str) -> MeshContext {
        mesh_with(yaml, MeshSettings::default())
    }

    pub fn mesh_with(yaml: &str, settings: MeshSettings) -> MeshContext {
        let f = load_file("test.yaml", yaml.as_bytes(), &Limits::default());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        MeshContext::new(Mesh::build(&[f], settings, Default::default()))
    }

    /// A PeerAuthentication document.
    pub fn pa(ns: &str, name: &str, mode: Option<&str>, selector: bool) -> String {
        let mut s = format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n"
        );
        if selector {
            s.push_str("  selector:\n    matchLabels:\n      app: x\n");
        }
        match mode {
            Some(m) => s.push_str(&format!("  mtls:\n    mode: {m}\n")),
            None => s.push_str("  mtls: {}\n"),
        }
        s
    }

    /// A DestinationRule document with a top-level tls mode (`None`: no tls block).
    pub fn dr(ns: &str, name: &str, host: &str, mode: Option<&str>) -> String {
        let mut s = format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  host: \"{host}\"\n"
        );
        if let Some(m) = mode {
            s.push_str(&format!("  trafficPolicy:\n    tls:\n      mode: {m}\n"));
        }
        s
    }

    /// Runs one rule's check on a mesh built from `yaml` (default settings): (code, subject, severity), sorted.
    pub fn run(
        check: fn(&crate::context::MeshContext) -> Vec<super::RuleFinding>,
        yaml: &str,
    ) -> Vec<(String, String, String)> {
        let m = mesh(yaml);
        summary(&m, &check(&m))
    }

    /// (code, subject name, severity) triples, sorted.
    pub fn summary(mesh: &Mesh, found: &[super::RuleFinding]) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = found
            .iter()
            .map(|f| (f.code.to_string(), mesh.objects[f.subject].name.clone(), f.severity.as_str().to_string()))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
#[path = "mutation_tests.rs"]
mod mutation_tests;
