//! mtls-review: reviews changes to Istio manifests for mTLS misconfigurations.
//!
//! Data flows one way: source -> manifest -> mesh -> rules (and posture) -> findings with fixes -> review ->
//! report / github.

pub mod finding;
pub mod github;
pub mod manifest;
pub mod mesh;
pub mod rules;
pub mod review;
pub mod settings;
