//! Posture diff: the client paths whose verdict, server mode or client TLS differ between two snapshots.

use super::{Posture, Row, RowKey};
use serde::Serialize;

/// One changed client path. `before`/`after` is `None` where the path does not exist on that side (a Service
/// added or removed, or neither side known from the tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowChange {
    pub key: RowKey,
    pub before: Option<Row>,
    pub after: Option<Row>,
    /// The mesh the path is in, when the review holds several (filled by the review; empty otherwise).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mesh: String,
}

fn state(r: Option<&Row>) -> Option<(&str, &str, super::Verdict)> {
    r.map(|r| (r.server_mode.as_str(), r.client_tls.as_str(), r.verdict))
}

/// The rows whose verdict or modes change, keyed by (service namespace/name, port, client namespace). A client
/// namespace listed on one side only is compared with the row it falls under on the other side, so a namespace
/// that merely moves in or out of the `*` row is no change.
pub fn diff(before: &Posture, after: &Posture) -> Vec<RowChange> {
    let (bi, ai) = (before.index(), after.index());
    let mut out = Vec::new();
    for key in super::keys_of_both(before, &bi, after, &ai) {
        let b = before.resolve_in(&bi, key);
        let a = after.resolve_in(&ai, key);
        if state(b) != state(a) {
            let owned = RowKey {
                namespace: key.0.to_string(),
                name: key.1.to_string(),
                port: key.2,
                client_namespace: key.3.to_string(),
                client_selector: key.4.map(str::to_string),
                client_kind: key.5,
            };
            // A stand-in row gets the key's client columns.
            let as_key = |r: &Row| Row {
                client_namespace: owned.client_namespace.clone(),
                client_selector: owned.client_selector.clone(),
                ..r.clone()
            };
            out.push(RowChange { before: b.map(as_key), after: a.map(as_key), key: owned, mesh: String::new() });
        }
    }
    out
}

#[cfg(test)]
#[path = "diff_mutation5_tests.rs"]
mod diff_mutation5_tests;
