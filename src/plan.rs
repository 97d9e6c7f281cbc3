//! What a rule reports (the object and field a finding points at) and the semantic fixes it proposes. Shared by
//! the rules and the posture engine's remedies; `fix` turns plans into line edits.

use crate::finding::Severity;
use crate::mesh::ObjId;

/// What a rule reports: it names the object and field it points at; the engine turns that into lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFinding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The object the finding is on.
    pub subject: ObjId,
    /// Field path under the subject the finding points at (falls back to the nearest existing parent).
    pub field: &'static [&'static str],
    pub port: Option<u32>,
    /// Objects that take part, with their role ("namespace-wide PeerAuthentication", ...).
    pub related: Vec<(ObjId, &'static str)>,
    /// Fix candidates in order of preference; the first that passes re-analysis is offered.
    pub fixes: Vec<FixPlan>,
}

/// A fix as a sequence of semantic edits; `fix.rs` turns it into a line-range replacement and verifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixPlan {
    pub description: String,
    pub edits: Vec<FixEdit>,
}

/// One semantic edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixEdit {
    /// Set the scalar at `field` under `object` (inserting the missing keys) to `value`.
    SetField { object: ObjId, field: &'static [&'static str], value: String },
    /// Add a new object right after `after` (same file), namespace and name given.
    AddObject { after: ObjId, object: NewObject },
    /// Delete the key at `field` under `object` with its whole value (all lines it spans). A parent mapping left
    /// empty is deleted as well, up to (not including) `spec`. Used to drop `spec.trafficPolicy.tls` so that auto
    /// mTLS decides.
    RemoveField { object: ObjId, field: &'static [&'static str] },
    /// In DestinationRule `object`, set `tls.mode` of the first `spec.trafficPolicy.portLevelSettings` item whose
    /// `port.number` is `port` (inserting `tls:` / `mode:` under it when missing). When no item has that port,
    /// append the item `{port: {number: <port>}, tls: {mode: <mode>}}`, creating `trafficPolicy` and
    /// `portLevelSettings` when missing. (A new item replaces every top-level setting for that port: port-level
    /// settings do not inherit.)
    SetPortLevelTlsMode { object: ObjId, port: u32, mode: String },
    /// In PeerAuthentication `object`, rename the `spec.portLevelMtls` key written `from` (text after unquoting)
    /// to the number `to`, keeping its value and the key's quoting style.
    RenamePortLevelMtlsKey { object: ObjId, from: String, to: u32 },
}

/// An object a fix adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewObject {
    /// A namespace-wide PeerAuthentication.
    PeerAuthentication { namespace: String, name_base: &'static str, mode: String },
    /// A DestinationRule with a top-level `tls.mode`.
    DestinationRule { namespace: String, name_base: &'static str, host: String, mode: String },
    /// A DestinationRule for one host (written as given, a full service name): `trafficPolicy.tls.mode: <top_mode>`
    /// when `top_mode` is set, and one `trafficPolicy.portLevelSettings` item `{port: {number: <port>}, tls: {mode:
    /// <mode>}}` per entry of `ports`, in order. `name_base` is the proposed name; a taken name gets a suffix as for
    /// the other variants.
    PortDestinationRule {
        namespace: String,
        name_base: String,
        host: String,
        top_mode: Option<String>,
        ports: Vec<(u32, String)>,
    },
}

/// Field paths rules point at.
pub const PA_MODE: &[&str] = &["spec", "mtls", "mode"];
pub const DR_TLS_MODE: &[&str] = &["spec", "trafficPolicy", "tls", "mode"];
pub const DR_TLS: &[&str] = &["spec", "trafficPolicy", "tls"];
pub const DR_PORT_LEVEL: &[&str] = &["spec", "trafficPolicy", "portLevelSettings"];
pub const PA_PORT_LEVEL: &[&str] = &["spec", "portLevelMtls"];
pub const PA_SELECTOR: &[&str] = &["spec", "selector"];
