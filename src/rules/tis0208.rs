//! TIS0208: placeholder until implemented.

use super::{Rule, RuleFinding};
use crate::finding::Severity;
use crate::mesh::Mesh;

pub const RULE: Rule = Rule { code: "TIS0208", title: "", default_severity: Severity::Error, help: "", check };

fn check(_mesh: &Mesh) -> Vec<RuleFinding> {
    Vec::new()
}
