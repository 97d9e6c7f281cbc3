//! mtls-review: reviews changes to Istio manifests for mTLS misconfigurations.
//!
//! Data flows one way: source -> manifest -> mesh -> rules (and posture) -> findings with fixes -> review ->
//! report / github.

pub mod analysis;
pub mod app;
pub mod context;
pub mod finding;
pub mod fix;
pub mod github;
pub mod manifest;
pub mod mesh;
pub mod plan;
pub mod posture;
pub mod reanalysis;
pub mod report;
pub mod review;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod source;
pub mod target;
pub mod validation;
