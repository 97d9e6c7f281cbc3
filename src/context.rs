//! The analysis context: one mesh snapshot ([`Mesh`], the model) with what analysis derives from it, computed
//! lazily and kept while the snapshot does not change (the inventory of Services and workloads, the posture), and
//! the verification scope fix verification sets while it re-analyzes an edited snapshot. The rules receive it.
//!
//! It sits above the model and the posture engine and below the rules: `Mesh` knows nothing of posture, and
//! neither the model nor the posture engine imports the rules. It dereferences to its [`Mesh`], so rules and
//! reports read the snapshot through it unchanged. Pure: no I/O.

use crate::mesh::{FileSplice, Mesh, ObjId, Overlay, Placed};
use crate::posture::routes::VsIndex;
use crate::posture::workload::{Inventory, is_inventory_kind};
use crate::posture::{DrIndex, DrUndo, Posture, PostureScope};
use crate::settings::SuggestMode;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// A snapshot under analysis: the mesh and its derived state.
#[derive(Debug, Clone, Default)]
pub struct MeshContext {
    mesh: Mesh,
    /// The posture of this snapshot, computed once on first use (several rules and the review read it).
    posture: OnceLock<Arc<Posture>>,
    /// Typed Services, workloads and Namespaces, built once (and carried across splices that do not touch them).
    inventory: OnceLock<Arc<Inventory>>,
    /// The DestinationRule index, built once; an overlay rebuilds the tables of the namespaces it touches.
    drs: OnceLock<Arc<DrIndex>>,
    /// The VirtualService index, built once (kept across overlays, which change PeerAuthentications and
    /// DestinationRules only; a splice builds it afresh).
    vs: OnceLock<Arc<VsIndex>>,
    /// Set while verifying a fix: the posture covers only the services the edited file can reach.
    scope: Option<Arc<PostureScope>>,
}

impl std::ops::Deref for MeshContext {
    type Target = Mesh;
    fn deref(&self) -> &Mesh {
        &self.mesh
    }
}

impl From<Mesh> for MeshContext {
    fn from(mesh: Mesh) -> Self {
        MeshContext::new(mesh)
    }
}

/// What [`MeshContext::unsplice_file`] needs to undo a [`MeshContext::splice_file`]: the model's undo record and
/// the derived state of the snapshot before the splice.
#[derive(Debug)]
pub struct ContextSplice {
    splice: FileSplice,
    posture: OnceLock<Arc<Posture>>,
    inventory: OnceLock<Arc<Inventory>>,
    drs: OnceLock<Arc<DrIndex>>,
    vs: OnceLock<Arc<VsIndex>>,
}

/// What [`MeshContext::remove_overlay`] needs to undo a [`MeshContext::overlay`].
#[derive(Debug)]
pub struct ContextOverlay {
    overlay: Overlay,
    posture: OnceLock<Arc<Posture>>,
    /// The index's undo record, when it was built before the overlay.
    drs: Option<DrUndo>,
}

impl MeshContext {
    /// The context of a snapshot (nothing derived yet).
    pub fn new(mesh: Mesh) -> Self {
        MeshContext { mesh, ..MeshContext::default() }
    }

    /// The snapshot.
    pub fn mesh(&self) -> &Mesh {
        &self.mesh
    }

    /// The snapshot, without its derived state.
    pub fn into_mesh(self) -> Mesh {
        self.mesh
    }

    /// Sets the mode fixes give to the PeerAuthentications they add or edit (no derived state reads it).
    pub fn set_suggest_mode(&mut self, mode: SuggestMode) {
        self.mesh.suggest_mode = mode;
    }

    /// The typed Services, workloads and Namespaces of this snapshot (built once).
    pub fn inventory(&self) -> Arc<Inventory> {
        self.inventory.get_or_init(|| Arc::new(Inventory::build(&self.mesh))).clone()
    }

    /// The DestinationRule index of this snapshot (built once).
    pub fn dr_index(&self) -> Arc<DrIndex> {
        self.drs.get_or_init(|| Arc::new(DrIndex::build(&self.mesh))).clone()
    }

    /// The VirtualService index of this snapshot (built once).
    pub fn vs_index(&self) -> Arc<VsIndex> {
        self.vs.get_or_init(|| Arc::new(VsIndex::build(&self.mesh))).clone()
    }

    /// The connectivity posture of this snapshot (computed once), of the services in the verification scope
    /// when one is set.
    pub fn posture(&self) -> Arc<Posture> {
        self.posture
            .get_or_init(|| {
                Arc::new(crate::posture::compute_indexed(
                    &self.mesh,
                    self.inventory(),
                    self.dr_index(),
                    self.vs_index(),
                    self.scope.as_deref(),
                ))
            })
            .clone()
    }

    /// The verification scope, when one is set: [`MeshContext::posture`] then has the scope's rows only.
    pub fn scope(&self) -> Option<&PostureScope> {
        self.scope.as_deref()
    }

    /// Sets (or clears) the verification scope. A posture computed under another scope is dropped.
    pub fn set_scope(&mut self, scope: Option<Arc<PostureScope>>) {
        let same = match (&self.scope, &scope) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !same {
            self.posture = OnceLock::new();
        }
        self.scope = scope;
    }

    /// [`Mesh::splice_file`], keeping the inventory when the file holds none of its kinds (shifted) and computing
    /// the posture of the spliced snapshot afresh; [`MeshContext::unsplice_file`] undoes it.
    pub fn splice_file(
        &mut self,
        start: usize,
        old_len: usize,
        objects: &[Arc<crate::manifest::Object>],
        kustomize: &BTreeMap<String, String>,
    ) -> ContextSplice {
        let new_len = objects.len();
        // The inventory (Services, workloads, Namespaces) survives a splice of a file that holds none, shifted.
        let keeps_inventory =
            self.mesh.objects[start..start + old_len].iter().chain(objects.iter()).all(|o| !is_inventory_kind(&o.kind));
        let inventory = std::mem::take(&mut self.inventory);
        if keeps_inventory && let Some(inv) = inventory.get() {
            let _ = self.inventory.set(Arc::new(inv.shifted(start, old_len, new_len)));
        }
        let splice = self.mesh.splice_file(start, old_len, objects, kustomize);
        // The spliced mesh is another snapshot: its posture and index are computed afresh on first use.
        ContextSplice {
            splice,
            posture: std::mem::take(&mut self.posture),
            inventory,
            drs: std::mem::take(&mut self.drs),
            vs: std::mem::take(&mut self.vs),
        }
    }

    /// Undoes [`MeshContext::splice_file`].
    pub fn unsplice_file(&mut self, splice: ContextSplice) {
        let ContextSplice { splice, posture, inventory, drs, vs } = splice;
        self.mesh.unsplice_file(splice);
        self.posture = posture;
        self.inventory = inventory;
        self.drs = drs;
        self.vs = vs;
    }

    /// [`Mesh::overlay`] (object ids do not move, so the inventory is kept; the DestinationRule index rebuilds
    /// the namespaces whose rules the overlay changes; the posture is computed afresh);
    /// [`MeshContext::remove_overlay`] undoes it.
    pub fn overlay(&mut self, file: std::ops::Range<ObjId>, objects: Vec<Placed>) -> Option<ContextOverlay> {
        let overlay = self.mesh.overlay(file, objects)?;
        let drs = self.drs.get_mut().map(|index| {
            let namespaces = overlay.dr_namespaces(&self.mesh);
            let undo = Arc::make_mut(index).rebuild(&self.mesh, namespaces.iter().map(String::as_str));
            // Debug builds (tests) check the rebuilt tables against an index of the whole overlaid mesh.
            debug_assert_eq!(**index, DrIndex::build(&self.mesh), "DestinationRule index rebuilt by namespace");
            undo
        });
        Some(ContextOverlay { overlay, posture: std::mem::take(&mut self.posture), drs })
    }

    /// Undoes [`MeshContext::overlay`].
    pub fn remove_overlay(&mut self, overlay: ContextOverlay) {
        let ContextOverlay { overlay, posture, drs } = overlay;
        self.mesh.remove_overlay(overlay);
        match (drs, self.drs.get_mut()) {
            (Some(undo), Some(index)) => {
                Arc::make_mut(index).restore(undo);
                debug_assert_eq!(**index, DrIndex::build(&self.mesh), "DestinationRule index restored");
            }
            // An index first built during the overlay is the overlaid mesh's: dropped.
            _ => self.drs = OnceLock::new(),
        }
        self.posture = posture;
    }
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "context_overlay_tests.rs"]
mod overlay_tests;

#[cfg(test)]
#[path = "context_mutation_tests.rs"]
mod mutation_tests;

#[cfg(test)]
#[path = "context_mutation4_tests.rs"]
mod mutation4_tests;
