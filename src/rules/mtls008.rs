//! MTLS008: a DestinationRule `tls` block without `mode`. The field's default is DISABLE, so the block silently
//! turns off mTLS (and auto mTLS) for the host or port.

use super::{DR_PORT_LEVEL, DR_TLS, DR_TLS_MODE, FixEdit, FixPlan, Rule, RuleFinding};
use crate::context::MeshContext;
use crate::finding::Severity;
use crate::mesh::Tls;

pub const RULE: Rule = Rule {
    code: "MTLS008",
    title: "DestinationRule tls block without mode means DISABLE",
    default_severity: Severity::Warning,
    help: "A `tls` block without `mode` (for example `tls: {}` or `tls: {sni: ...}`) is read by Istio as `mode: \
           DISABLE`: clients send plaintext to the host and auto mTLS no longer applies. Write the mode you mean: \
           ISTIO_MUTUAL for mesh mTLS, or DISABLE explicitly.",
    check,
    reads: super::Reads::Namespace,
};

fn check(mesh: &MeshContext) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    for dr in &mesh.destination_rules {
        let who = format!("DestinationRule {}/{}", dr.namespace, dr.name);
        if let Tls::Set { mode_written: false, .. } = dr.tls {
            out.push(RuleFinding {
                code: RULE.code,
                severity: Severity::Warning,
                message: format!(
                    "{who} has a top-level `tls` block without `mode`: Istio reads it as DISABLE, so clients send plaintext \
                     to `{}` and auto mTLS no longer applies",
                    dr.host
                ),
                subject: dr.obj,
                field: DR_TLS,
                port: None,
                related: Vec::new(),
                fixes: vec![FixPlan {
                    description: "write `mode: DISABLE`, which is what Istio does today (use ISTIO_MUTUAL if mTLS was meant)"
                        .to_string(),
                    edits: vec![FixEdit::SetField { object: dr.obj, field: DR_TLS_MODE, value: "DISABLE".to_string() }],
                }],
            });
        }
        for (port, tls) in &dr.port_level {
            if let Tls::Set { mode_written: false, .. } = tls {
                out.push(RuleFinding {
                    code: RULE.code,
                    severity: Severity::Warning,
                    message: format!(
                        "{who} has a `tls` block without `mode` for port {port}: Istio reads it as DISABLE, so clients send \
                         plaintext to `{}` port {port} and auto mTLS no longer applies there",
                        dr.host
                    ),
                    subject: dr.obj,
                    field: DR_PORT_LEVEL,
                    port: Some(*port),
                    related: Vec::new(),
                    fixes: vec![FixPlan {
                        description: format!(
                            "write `mode: DISABLE` for port {port}, which is what Istio does today (use ISTIO_MUTUAL if mTLS was \
                             meant)"
                        ),
                        edits: vec![FixEdit::SetPortLevelTlsMode { object: dr.obj, port: *port, mode: "DISABLE".to_string() }],
                    }],
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::testing::{dr, mesh};

    #[test]
    fn empty_tls_block_is_reported() {
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: shop}\n\
                 spec:\n  host: cart\n  trafficPolicy:\n    tls: {}\n    portLevelSettings:\n    - port: {number: 80}\n      tls:\n        sni: cart.example\n";
        let m = mesh(y);
        let f = check(&m);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].port, f[1].port), (None, Some(80)));
    }

    #[test]
    fn written_modes_and_absent_blocks_are_fine() {
        assert!(check(&mesh(&dr("shop", "d", "cart", Some("DISABLE")))).is_empty());
        assert!(check(&mesh(&dr("shop", "d", "cart", None))).is_empty());
        let y = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: shop}\n\
                 spec:\n  host: cart\n  trafficPolicy:\n    tls: null\n";
        assert!(check(&mesh(y)).is_empty());
    }
}
