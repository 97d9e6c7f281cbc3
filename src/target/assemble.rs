//! Assembly: a side's plan rendered into the files of each mesh. Plain targets are the parsed source files
//! themselves (minus patches); other targets go through the [`RenderService`]. Two documents with the same
//! identity in one mesh are a conflict (kustomize refuses that within one build): the later one is reported and
//! left out.

use super::closure::FileMap;
use super::provenance::SourceDocs;
use super::render::RenderService;
use super::{MeshOverrides, Plan, RenderKind, Target};
use crate::finding::{ErrorKind, LoadError};
use crate::manifest::{LoadedFile, Object};
use crate::settings::MeshLayer;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// One mesh of one side, ready for analysis.
#[derive(Debug, Clone, Default)]
pub struct MeshFiles {
    pub name: String,
    /// The mesh's settings from the config (under the command line, over the tree and the defaults).
    pub layer: MeshLayer,
    pub default_namespace: Option<String>,
    /// Files of the mesh: plain source files and one file per rendered target.
    pub files: Vec<LoadedFile>,
    /// Render failures and conflicts.
    pub errors: Vec<LoadError>,
    /// Target names, in plan order.
    pub targets: Vec<String>,
    /// Target name -> the source files it reads.
    pub inputs: BTreeMap<String, BTreeSet<String>>,
    /// Content key of everything the mesh is built from: equal keys on both sides mean an unchanged mesh.
    pub key: String,
}

impl MeshOverrides {
    pub fn layer(&self) -> MeshLayer {
        MeshLayer {
            root_namespace: self.root_namespace.clone(),
            cluster_domain: self.cluster_domain.clone(),
            auto_mtls: self.auto_mtls,
            istio_version: self.istio_version,
        }
    }
}

/// True for a document that is a strategic-merge patch rather than an object (`$patch` anywhere in it).
pub fn is_patch_document(o: &Object) -> bool {
    let t = &o.tree;
    t.nodes
        .iter()
        .any(|n| matches!(&n.value, crate::manifest::yaml::Value::Scalar { text, .. } if text.as_str() == "$patch"))
}

/// One target's rendering: its files, the source files it reads, its failure, its content key.
type TargetOutput = (Vec<LoadedFile>, BTreeSet<String>, Option<LoadError>, String);

/// Renders every target of `plan` once and lays out each mesh.
pub fn assemble(
    plan: &Plan,
    files: &FileMap,
    parsed: &HashMap<String, Arc<LoadedFile>>,
    service: &RenderService,
) -> Vec<MeshFiles> {
    let docs = SourceDocs::new(files, parsed.iter().map(|(k, v)| (k.clone(), v.clone())));
    let patch_files: HashSet<&str> = plan.patch_files.iter().map(String::as_str).collect();
    let rendered: Vec<TargetOutput> =
        crate::analysis::parallel_map_min(&plan.targets, 2, |t: &Target| match &t.render {
            RenderKind::Plain => {
                let mut out = Vec::new();
                let mut key = String::new();
                for p in &t.files {
                    if patch_files.contains(p.as_str()) {
                        continue;
                    }
                    let Some(f) = parsed.get(p) else { continue };
                    // Flux substitutes `postBuild` variables in what it applies, plain directories included.
                    let substituted = (!t.substitute.is_empty())
                        .then(|| files.get(p))
                        .flatten()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .filter(|text| text.contains("${"))
                        .map(|text| {
                            let new = super::render::substitute(&text, &t.substitute);
                            Arc::new(crate::manifest::load_file(
                                p,
                                new.as_bytes(),
                                &crate::manifest::yaml::Limits::default(),
                            ))
                        });
                    let f = substituted.as_ref().unwrap_or(f);
                    key.push_str(p);
                    key.push('\0');
                    if let Some(b) = files.get(p) {
                        key.push_str(&crate::finding::stable_hash(&String::from_utf8_lossy(b)));
                    }
                    let mut f = (**f).clone();
                    f.objects.retain(|o| !is_patch_document(o));
                    if let Some(ns) = &t.default_namespace {
                        for o in f.objects.iter_mut().filter(|o| o.namespace.is_none() && o.kind != "Namespace") {
                            let mut c: Object = (**o).clone();
                            c.namespace = Some(ns.clone());
                            *o = Arc::new(c);
                        }
                    }
                    out.push(f);
                }
                (out, t.files.iter().cloned().collect(), None, crate::finding::stable_hash(&key))
            }
            _ => {
                let r = service.render(t, files, &docs);
                let files = if r.error.is_some() { Vec::new() } else { vec![r.file] };
                (files, r.inputs, r.error, r.key)
            }
        });
    plan.meshes
        .iter()
        .map(|m| {
            let mut mf = MeshFiles {
                name: m.name.clone(),
                layer: m.settings.layer(),
                default_namespace: m.settings.default_namespace.clone(),
                ..MeshFiles::default()
            };
            let mut key = serde_json::to_string(&m.settings).unwrap_or_default();
            for &i in &m.targets {
                let Some(t) = plan.targets.get(i) else { continue };
                let (f, inputs, error, k) = &rendered[i];
                mf.targets.push(t.name.clone());
                mf.inputs.insert(t.name.clone(), inputs.clone());
                mf.files.extend(f.iter().cloned());
                mf.errors.extend(error.iter().cloned());
                key.push_str(k);
            }
            mf.key = crate::finding::stable_hash(&key);
            mf.errors.extend(conflicts(&mut mf.files, mf.default_namespace.as_deref()));
            mf
        })
        .collect()
}

/// Removes the second and later documents with one identity (kind, namespace, name) from a mesh, reporting each.
fn conflicts(files: &mut [LoadedFile], default_namespace: Option<&str>) -> Vec<LoadError> {
    let kustomize = crate::mesh::kustomize_namespaces(files);
    let mut seen: HashMap<(String, String, String), (String, usize)> = HashMap::new();
    let mut errors = Vec::new();
    for f in files.iter_mut() {
        f.objects.retain(|o| {
            let ns = o
                .namespace
                .clone()
                .or_else(|| crate::mesh::namespace_for(&o.path, &kustomize).cloned())
                .unwrap_or_else(|| default_namespace.unwrap_or("default").to_string());
            let ns = if o.kind == "Namespace" { String::new() } else { ns };
            let (path, line) = source_line(o);
            let id = (o.kind.clone(), ns.clone(), o.name.clone());
            match seen.get(&id) {
                Some((first_path, first_line)) => {
                    errors.push(LoadError {
                        path,
                        line,
                        message: format!(
                            "{} {}/{} is defined twice in this mesh (first at {first_path}:{first_line}); kustomize and \
                             the API server keep one, so this one is left out",
                            o.kind, ns, o.name
                        ),
                        kind: ErrorKind::Conflict,
                    });
                    false
                }
                None => {
                    seen.insert(id, (path, line));
                    true
                }
            }
        });
    }
    errors
}

/// The source path and first line of an object (its origin for rendered objects).
pub fn source_line(o: &Object) -> (String, usize) {
    match o.provenance.as_ref().and_then(|p| p.spans().into_iter().next()) {
        Some(s) => (s.path.to_string(), s.line),
        None => (o.path.to_string(), o.line),
    }
}
