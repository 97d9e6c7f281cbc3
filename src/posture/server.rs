//! Server side: the effective PeerAuthentication mode of a workload and of each of its ports, composed as Istio's
//! `ComposePeerAuthentication` does (mesh > namespace > workload, `UNSET` inherits, `portLevelMtls` of the
//! winning workload PA keyed by target port, root-namespace selector PAs ignored, the oldest PA wins).

use crate::mesh::{Mesh, ObjId, PaMode, PeerAuthentication};
use std::collections::HashMap;

/// The effective policy of one workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPolicy {
    /// Workload-level mode, never `Unset`.
    pub mode: PaMode,
    /// The PA whose mode decided `mode` (`None`: the implicit PERMISSIVE default).
    pub decided_by: Option<ObjId>,
    /// The workload PA Istio applies (the oldest matching one).
    pub workload_pa: Option<ObjId>,
    /// Other workload PAs matching the workload: Istio ignores them.
    pub ignored_workload_pas: Vec<ObjId>,
    /// `portLevelMtls` of the winning workload PA with `UNSET` resolved: (target port, mode).
    pub port_level: Vec<(u32, PaMode)>,
}

impl WorkloadPolicy {
    /// Mode of one target port, the PA that decided it, and whether a `portLevelMtls` entry did.
    pub fn port_mode(&self, port: u32) -> (PaMode, Option<ObjId>, bool) {
        match self.port_level.iter().find(|(p, _)| *p == port) {
            Some((_, m)) => (*m, self.workload_pa, true),
            None => (self.mode, self.decided_by, false),
        }
    }
}

/// PeerAuthentications indexed once per mesh: workload PAs by namespace (oldest first) and the namespace-level
/// mode of every namespace, so that per-workload and per-row questions cost no scan of all PAs.
#[derive(Debug, Clone)]
pub struct PaIndex<'m> {
    workload_pas: HashMap<&'m str, Vec<&'m PeerAuthentication>>,
    /// Namespace-level modes, computed on first use per namespace (a scoped posture asks about a few).
    namespace_modes: std::cell::RefCell<HashMap<String, (PaMode, Option<ObjId>)>>,
    mesh: &'m Mesh,
}

impl<'m> PaIndex<'m> {
    pub fn build(mesh: &'m Mesh) -> PaIndex<'m> {
        let root = mesh.settings.root_namespace.as_str();
        let mut workload_pas: HashMap<&str, Vec<&PeerAuthentication>> = HashMap::new();
        for p in &mesh.peer_authentications {
            if p.selector.is_some() && p.namespace != root {
                // Istio ignores selector PAs of the root namespace.
                workload_pas.entry(p.namespace.as_str()).or_default().push(p);
            }
        }
        for v in workload_pas.values_mut() {
            v.sort_by(|a, b| mesh.age_key(a.obj).cmp(&mesh.age_key(b.obj)));
        }
        PaIndex { workload_pas, namespace_modes: Default::default(), mesh }
    }

    /// The namespace-level mode of a namespace and the PA that decided it (namespace PA, else mesh PA).
    pub fn namespace_mode(&self, namespace: &str) -> (PaMode, Option<ObjId>) {
        if let Some(found) = self.namespace_modes.borrow().get(namespace) {
            return *found;
        }
        // A namespace without a namespace-wide PeerAuthentication follows the mesh-wide one, as `namespace_mode`
        // says for it.
        let found = namespace_mode(self.mesh, namespace);
        self.namespace_modes.borrow_mut().insert(namespace.to_string(), found);
        found
    }

    /// The workload PAs that select a workload: same namespace (never the root namespace), non-empty selector
    /// contained in the pod labels. Oldest first.
    pub fn matching(&self, namespace: &str, labels: &[(String, String)]) -> Vec<&'m PeerAuthentication> {
        self.workload_pas
            .get(namespace)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|p| {
                        p.selector.as_ref().is_some_and(|s| {
                            s.iter().all(|(k, v)| super::workload::label(labels, k) == Some(v.as_str()))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The effective policy of a workload with these pod labels in this namespace.
    pub fn workload_policy(&self, namespace: &str, labels: &[(String, String)]) -> WorkloadPolicy {
        let (mut mode, mut decided_by) = self.namespace_mode(namespace);
        let pas = self.matching(namespace, labels);
        let winner = pas.first().copied();
        if let Some(w) = winner
            && w.mode != PaMode::Unset
        {
            mode = w.mode;
            decided_by = Some(w.obj);
        }
        let port_level = winner
            .map(|w| {
                w.port_level
                    .iter()
                    .filter_map(|(k, m)| {
                        let port = crate::manifest::yaml::yaml11_int(k.trim()).and_then(|v| u32::try_from(v).ok())?;
                        Some((port, if *m == PaMode::Unset { mode } else { *m }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        WorkloadPolicy {
            mode,
            decided_by,
            workload_pa: winner.map(|w| w.obj),
            ignored_workload_pas: pas.iter().skip(1).map(|p| p.obj).collect(),
            port_level,
        }
    }
}

/// The namespace-level mode of a namespace and the PA that decided it (namespace PA, else mesh PA).
pub fn namespace_mode(mesh: &Mesh, namespace: &str) -> (PaMode, Option<ObjId>) {
    let ns = mesh.namespace_pa(namespace).filter(|p| p.mode != PaMode::Unset);
    let mesh_pa = mesh.mesh_pa().filter(|p| p.mode != PaMode::Unset);
    match ns.or(mesh_pa) {
        Some(p) => (p.mode, Some(p.obj)),
        None => (PaMode::Permissive, None),
    }
}

/// The effective policy of one workload (builds a [`PaIndex`]; use the index for many workloads).
pub fn workload_policy(mesh: &Mesh, namespace: &str, labels: &[(String, String)]) -> WorkloadPolicy {
    PaIndex::build(mesh).workload_policy(namespace, labels)
}

/// Rank of a server posture for downgrade checks: STRICT > PERMISSIVE > DISABLE.
pub fn rank(mode: PaMode) -> u8 {
    match mode {
        PaMode::Strict => 3,
        PaMode::Permissive | PaMode::Unset => 2,
        PaMode::Disable => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{mesh, pa};

    fn labels() -> Vec<(String, String)> {
        vec![("app".to_string(), "x".to_string())]
    }

    #[test]
    fn unset_inherits_and_port_level_resolves() {
        let y = pa("istio-system", "mesh", Some("STRICT"), false)
            + &pa("apps", "ns", Some("UNSET"), false)
            + "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: w, namespace: apps}\n\
               spec:\n  selector: {matchLabels: {app: x}}\n  mtls: {mode: UNSET}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n    \"9090\": {}\n";
        let m = mesh(&y);
        let p = workload_policy(&m, "apps", &labels());
        assert_eq!(p.mode, PaMode::Strict);
        assert_eq!(p.port_mode(8080).0, PaMode::Disable);
        assert_eq!(p.port_mode(9090).0, PaMode::Strict);
        assert!(p.port_mode(9090).2);
        assert_eq!(p.port_mode(80), (PaMode::Strict, p.decided_by, false));
        assert_eq!(m.objects[p.decided_by.unwrap_or(usize::MAX)].name, "mesh");
    }

    #[test]
    fn root_namespace_selector_pa_is_ignored() {
        let y = pa("istio-system", "root-sel", Some("DISABLE"), true);
        let m = mesh(&y);
        assert_eq!(workload_policy(&m, "istio-system", &labels()).mode, PaMode::Permissive);
        assert_eq!(workload_policy(&m, "apps", &labels()).mode, PaMode::Permissive);
    }

    #[test]
    fn oldest_workload_pa_wins() {
        let y = pa("apps", "b", Some("STRICT"), true) + &pa("apps", "a", Some("DISABLE"), true);
        let m = mesh(&y);
        let p = workload_policy(&m, "apps", &labels());
        assert_eq!(p.mode, PaMode::Disable);
        assert_eq!(p.ignored_workload_pas.len(), 1);
    }
}
