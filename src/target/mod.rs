//! Targets: what each cluster runs. Discovery finds meshes (one Istio control plane each) and the targets that
//! feed them (kustomization roots, Flux `Kustomization`s, Argo CD `Application`s, configured entries, plain
//! files); rendering turns a target into plain objects with the real kustomize / helm / a configured command (the
//! only place that runs another program); provenance maps rendered objects and fields back to source lines.
//!
//! Discovery is pure (it reads the tree's files as bytes); rendering is behind [`Renderer`] so the core's tests
//! need no renderer.

pub mod assemble;
pub mod closure;
pub mod discover;
pub mod glue;
pub mod provenance;
pub mod render;

use std::collections::BTreeMap;

/// How a target is rendered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "render")]
pub enum RenderKind {
    /// `kustomize build <path>` (or `kubectl kustomize`).
    Kustomize,
    /// The manifest files listed in [`Target::files`], read as they are.
    Plain,
    /// `helm template` of the chart at [`Target::path`].
    Helm {
        release: String,
        /// Values files relative to the tree root.
        values_files: Vec<String>,
        /// Inline values (YAML text), if any.
        values: Option<String>,
    },
    /// A configured command run in the target's directory; its stdout is the rendered YAML.
    Command { command: Vec<String> },
}

/// Why a target exists: how discovery found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetOrigin {
    /// An entry of `.mtls-review.yaml` `meshes:`.
    Config,
    /// A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`).
    Flux,
    /// An Argo CD `Application`.
    ArgoApplication,
    /// An Argo CD `ApplicationSet` (one target per generated Application).
    ArgoApplicationSet,
    /// A kustomization that no other kustomization in the tree references.
    KustomizeRoot,
    /// Manifest files outside every kustomization.
    PlainFiles,
}

/// A patch given outside the kustomization (Flux `spec.patches`, Argo CD `kustomize.patches`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InlinePatch {
    /// The patch text (strategic merge or JSON 6902), as written.
    pub patch: String,
    /// The `target:` selector as YAML text (flow or block), if any.
    pub target: Option<String>,
    /// Where the patch is written: file and 1-based line of its `patch:` key.
    pub path: String,
    pub line: usize,
}

/// A deployable unit, rendered to plain objects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// Unique within the plan, stable across base and head (for example `overlays/prod`,
    /// `flux:clusters/prod/apps`, `argocd:argocd/shop`, `plain`).
    pub name: String,
    /// The directory (or chart directory) rendered, relative to the tree root, `/`-separated; `""` is the root.
    pub path: String,
    #[serde(flatten)]
    pub render: RenderKind,
    pub origin: TargetOrigin,
    /// [`RenderKind::Plain`]: the files (relative to the tree root) it holds, sorted.
    pub files: Vec<String>,
    /// Namespace for namespaced objects that name none (Argo CD `destination.namespace`, a config entry's
    /// `namespace`).
    pub default_namespace: Option<String>,
    /// Namespace forced on every namespaced object (Flux `targetNamespace`, Argo CD `kustomize.namespace`).
    pub target_namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    /// Patches applied on top of the build (Flux, Argo CD).
    pub patches: Vec<InlinePatch>,
    /// Flux `postBuild.substitute` merged with the `substituteFrom` ConfigMaps and Secrets found in the tree.
    pub substitute: BTreeMap<String, String>,
    /// Where the target is declared (a Flux Kustomization, an Argo CD Application, a config entry): path and line.
    pub declared_at: Option<(String, usize)>,
}

impl Target {
    /// A target of the given kind with every option unset.
    pub fn new(name: impl Into<String>, path: impl Into<String>, render: RenderKind, origin: TargetOrigin) -> Self {
        Target {
            name: name.into(),
            path: path.into(),
            render,
            origin,
            files: Vec::new(),
            default_namespace: None,
            target_namespace: None,
            name_prefix: None,
            name_suffix: None,
            patches: Vec::new(),
            substitute: BTreeMap::new(),
            declared_at: None,
        }
    }
}

/// Per-mesh settings from the config (each overrides the tree's and the defaults, under the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MeshOverrides {
    pub root_namespace: Option<String>,
    pub cluster_domain: Option<String>,
    pub auto_mtls: Option<bool>,
    pub istio_version: Option<crate::settings::IstioVersion>,
    /// Namespace for objects that name none after rendering (default `default`).
    pub default_namespace: Option<String>,
}

/// One mesh: what one cluster (one Istio control plane) runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeshPlan {
    /// `default` for a tree read as one mesh; else the cluster or environment name (`prod`, `staging`).
    pub name: String,
    /// Indices into [`Plan::targets`], in render order.
    pub targets: Vec<usize>,
    pub settings: MeshOverrides,
    /// Why this mesh exists, in one line (printed by `mtls-review targets`).
    pub reason: String,
}

/// Something discovery saw and left out, with the reason (printed by `mtls-review targets`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

/// How a tree is read: its meshes and targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    pub targets: Vec<Target>,
    pub meshes: Vec<MeshPlan>,
    pub skipped: Vec<Skipped>,
    /// Files that kustomizations use as patches (`patches`, `patchesStrategicMerge`, `patchesJson6902`): inputs,
    /// never objects, even when a plain target would otherwise hold them.
    pub patch_files: Vec<String>,
}

// The re-rendering fix verification asks for is declared with the analysis options, below the core.
pub use crate::settings::Rerender;
