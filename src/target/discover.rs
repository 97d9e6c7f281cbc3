//! Discovery: which meshes and targets a tree holds. Pure: reads the tree's files as bytes.
//!
//! (Placeholder until discovery lands: one mesh of plain files, as the tool read every tree before targets.)

use super::{MeshOverrides, MeshPlan, Plan, RenderKind, Target, TargetOrigin};
use crate::settings::ProjectConfig;

/// Finds the meshes and targets of a tree. `files` are the tree's files (path relative to the root,
/// `/`-separated; bytes), sorted by path.
pub fn discover(files: &[(&str, &[u8])], _config: &ProjectConfig) -> Plan {
    let mut plain = Target::new("plain", "", RenderKind::Plain, TargetOrigin::PlainFiles);
    plain.files = files.iter().map(|(p, _)| p.to_string()).collect();
    Plan {
        targets: vec![plain],
        meshes: vec![MeshPlan {
            name: "default".into(),
            targets: vec![0],
            settings: MeshOverrides::default(),
            reason: "the tree read as one mesh of plain files".into(),
        }],
        ..Plan::default()
    }
}
