//! The edge between a side's files and the core's review: discovery and rendering as an
//! [`Assemble`](crate::review::build::Assemble), and re-rendering for fix verification.

use super::assemble::{MeshFiles, assemble};
use super::closure::FileMap;
use super::discover::discover;
use super::provenance::SourceDocs;
use super::render::RenderService;
use super::{Plan, Rerender};
use crate::finding::Side;
use crate::manifest::{LoadedFile, is_manifest_path};
use crate::review::TreeFile;
use crate::settings::ProjectConfig;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Discovers and renders the meshes of both sides of a review (or of one snapshot, as its head).
pub struct Targets {
    pub config: ProjectConfig,
    pub service: Arc<RenderService>,
    base: FileMap,
    head: FileMap,
    head_plan: OnceLock<Plan>,
    base_plan: OnceLock<Plan>,
}

/// The file map of a side: its manifests and the support files renderers read.
pub fn file_map(manifests: &[TreeFile], support: &[TreeFile]) -> FileMap {
    manifests.iter().chain(support).map(|f| (f.path.clone(), f.bytes.clone())).collect()
}

impl Targets {
    pub fn new(config: ProjectConfig, service: Arc<RenderService>, base: FileMap, head: FileMap) -> Self {
        Targets { config, service, base, head, head_plan: OnceLock::new(), base_plan: OnceLock::new() }
    }

    /// Targets whose plans are given rather than discovered (both sides the same plan).
    pub fn with_plan(service: Arc<RenderService>, base: FileMap, head: FileMap, plan: Plan) -> Self {
        let t = Targets::new(ProjectConfig::default(), service, base, head);
        let _ = t.base_plan.set(plan.clone());
        let _ = t.head_plan.set(plan);
        t
    }

    /// The plan of a side (discovered once).
    pub fn plan(&self, side: Side) -> &Plan {
        let (cell, files) = match side {
            Side::Base => (&self.base_plan, &self.base),
            Side::Head => (&self.head_plan, &self.head),
        };
        cell.get_or_init(|| {
            let clock = std::time::Instant::now();
            let list: Vec<(&str, &[u8])> =
                files.iter().filter(|(p, _)| is_manifest_path(p)).map(|(p, b)| (p.as_str(), &b[..])).collect();
            let plan = discover(&list, &self.config);
            tracing::debug!(
                ?side,
                targets = plan.targets.len(),
                ms = clock.elapsed().as_millis() as u64,
                "targets discovered"
            );
            plan
        })
    }
}

impl crate::review::build::Assemble for Targets {
    fn meshes(&self, side: Side, parsed: &[LoadedFile]) -> Vec<MeshFiles> {
        let plan = self.plan(side);
        let clock = std::time::Instant::now();
        let files = match side {
            Side::Base => &self.base,
            Side::Head => &self.head,
        };
        let map: HashMap<String, Arc<LoadedFile>> =
            parsed.iter().filter_map(|f| Some((f.source.as_ref()?.path.clone(), Arc::new(f.clone())))).collect();
        let meshes = assemble(plan, files, &map, &self.service);
        tracing::debug!(?side, meshes = meshes.len(), ms = clock.elapsed().as_millis() as u64, "meshes assembled");
        meshes
    }

    fn rerender(&self) -> Option<Arc<dyn Rerender>> {
        Some(Arc::new(HeadRerender {
            plan: self.plan(Side::Head).clone(),
            files: self.head.clone(),
            service: self.service.clone(),
        }))
    }
}

/// Re-renders head-side targets with one file edited.
#[derive(Debug)]
struct HeadRerender {
    plan: Plan,
    files: FileMap,
    service: Arc<RenderService>,
}

impl Rerender for HeadRerender {
    fn rerender(&self, target: &str, path: &str, bytes: &[u8]) -> Option<LoadedFile> {
        let t = self.plan.targets.iter().find(|t| t.name == target)?;
        let mut files = self.files.clone();
        files.insert(path.to_string(), Arc::from(bytes));
        let docs = SourceDocs::new(&files, std::iter::empty());
        let r = self.service.render(t, &files, &docs);
        if r.error.is_some() { None } else { Some(r.file) }
    }

    fn feeds_others(&self, targets: &[&str], path: &str) -> bool {
        self.plan
            .targets
            .iter()
            .filter(|t| !targets.contains(&t.name.as_str()))
            .any(|t| RenderService::closure_of(t, &self.files).files.contains(path))
    }
}
