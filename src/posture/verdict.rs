//! Verdicts: what a client sends to one endpoint (explicit TLS or auto mTLS) and whether the server accepts it.
//!
//! Auto mTLS follows Istio's `buildAutoMtlsSettings`, `BestEffortInferServiceMTLSMode` and the endpoint
//! `mtlsChecker`: with no `tls` setting a client sends mTLS to an endpoint when `enableAutoMtls` is on, the
//! service namespace's namespace/mesh mode is not DISABLE, a passthrough service (headless, or
//! `loadBalancer.simple: PASSTHROUGH`) has no endpoint without sidecar, the endpoint's pod has a sidecar and the
//! endpoint port's PeerAuthentication mode is not DISABLE. Inbound-port capture is not part of that check, which
//! is how an excluded port receives mTLS it cannot read (istio/istio#30311).

use super::workload::Sidecar;
use crate::mesh::{PaMode, TlsMode};
use serde::Serialize;
use std::fmt;

/// The outcome of a client path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verdict {
    #[serde(rename = "mtls")]
    Mtls,
    /// TLS the client originates with its own certificates (`SIMPLE`/`MUTUAL`): not Istio mTLS, not judged.
    #[serde(rename = "tls")]
    Tls,
    #[serde(rename = "plaintext")]
    Plaintext,
    /// The client setting is invalid (unknown `tls.mode`).
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "fail: plaintext to STRICT")]
    FailPlaintextToStrict,
    #[serde(rename = "fail: mTLS to plaintext-only server")]
    FailMtlsToPlaintextOnly,
    #[serde(rename = "fail: mTLS to a workload without sidecar")]
    FailMtlsToNoSidecar,
    /// SIMPLE / MUTUAL origination to a STRICT sidecar, which demands an Istio client certificate.
    #[serde(rename = "fail: TLS origination to STRICT")]
    FailTlsToStrict,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Mtls => "mtls",
            Verdict::Tls => "tls",
            Verdict::Plaintext => "plaintext",
            Verdict::Unknown => "unknown",
            Verdict::FailPlaintextToStrict => "fail: plaintext to STRICT",
            Verdict::FailMtlsToPlaintextOnly => "fail: mTLS to plaintext-only server",
            Verdict::FailMtlsToNoSidecar => "fail: mTLS to a workload without sidecar",
            Verdict::FailTlsToStrict => "fail: TLS origination to STRICT",
        }
    }

    /// True for the failing verdicts.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::FailPlaintextToStrict
                | Verdict::FailMtlsToPlaintextOnly
                | Verdict::FailMtlsToNoSidecar
                | Verdict::FailTlsToStrict
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client sends to one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sends {
    Mtls,
    Plaintext,
    /// `SIMPLE` or `MUTUAL` origination.
    Tls,
    /// An unknown `tls.mode`.
    Invalid,
}

/// Why auto mTLS chose what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoReason {
    /// Every condition holds: mTLS.
    Mtls,
    /// `enableAutoMtls: false`.
    Off,
    /// The service namespace's namespace/mesh mode is DISABLE.
    NamespaceDisable,
    /// A passthrough service with an endpoint without sidecar: Istio disables mTLS for every endpoint.
    Passthrough,
    /// The endpoint's pod has no sidecar.
    NoSidecar,
    /// The endpoint port's PeerAuthentication mode is DISABLE.
    PortDisable,
}

/// What the client originates for an explicit `tls.mode`.
pub fn sends_for(mode: &TlsMode) -> Sends {
    match mode {
        TlsMode::IstioMutual => Sends::Mtls,
        TlsMode::Disable => Sends::Plaintext,
        TlsMode::Simple | TlsMode::Mutual => Sends::Tls,
        TlsMode::Unknown(_) => Sends::Invalid,
    }
}

/// The facts auto mTLS reads for one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct AutoFacts {
    pub enabled: bool,
    pub namespace_disable: bool,
    /// A passthrough (ORIGINAL_DST) cluster: one TLS setting for every endpoint, no per-endpoint match.
    pub passthrough: bool,
    pub passthrough_without_sidecar: bool,
    pub sidecar: Sidecar,
    pub port_mode: PaMode,
}

/// What auto mTLS sends to an endpoint, and why.
pub fn auto_sends(f: AutoFacts) -> (Sends, AutoReason) {
    let reason = if !f.enabled {
        AutoReason::Off
    } else if f.namespace_disable {
        AutoReason::NamespaceDisable
    } else if f.passthrough_without_sidecar {
        AutoReason::Passthrough
    } else if f.passthrough {
        // `applyUpstreamTLSSettings`: an ORIGINAL_DST cluster keeps its one mTLS socket for every endpoint.
        return (Sends::Mtls, AutoReason::Mtls);
    } else if f.sidecar == Sidecar::No {
        AutoReason::NoSidecar
    } else if f.port_mode == PaMode::Disable {
        AutoReason::PortDisable
    } else {
        return (Sends::Mtls, AutoReason::Mtls);
    };
    (Sends::Plaintext, reason)
}

/// Judges what a client sends against the server end: `sidecar` of the pod, whether the port is captured, the
/// port's PeerAuthentication mode, and whether ztunnel serves the pod (`ambient`). An unknown sidecar counts as
/// present: a failure never rests on it.
///
/// TLS a client originates itself (SIMPLE / MUTUAL) meets the sidecar's inbound listener: in STRICT its only filter
/// chain demands an Istio client certificate and the handshake fails; in PERMISSIVE and DISABLE the TLS bytes go to
/// the application as they are (`pilot/pkg/networking/core/listener_inbound.go`, `filterchain_options.go`).
/// In ambient, ztunnel ignores DISABLE (the PeerAuthentication reference: not supported) and STRICT rejects
/// anything that does not arrive over HBONE.
pub fn judge(sends: Sends, sidecar: Sidecar, captured: bool, mode: PaMode, ambient: bool) -> Verdict {
    if ambient {
        return match sends {
            Sends::Mtls => Verdict::Mtls,
            Sends::Plaintext if mode == PaMode::Strict => Verdict::FailPlaintextToStrict,
            Sends::Plaintext => Verdict::Plaintext,
            Sends::Tls => Verdict::Tls,
            Sends::Invalid => Verdict::Unknown,
        };
    }
    let proxied = sidecar != Sidecar::No && captured;
    match sends {
        Sends::Mtls if !proxied => Verdict::FailMtlsToNoSidecar,
        Sends::Mtls if mode == PaMode::Disable => Verdict::FailMtlsToPlaintextOnly,
        Sends::Mtls => Verdict::Mtls,
        Sends::Plaintext if proxied && mode == PaMode::Strict => Verdict::FailPlaintextToStrict,
        Sends::Plaintext => Verdict::Plaintext,
        Sends::Tls if proxied && mode == PaMode::Strict => Verdict::FailTlsToStrict,
        Sends::Tls => Verdict::Tls,
        Sends::Invalid => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging() {
        assert_eq!(judge(Sends::Mtls, Sidecar::Yes, true, PaMode::Strict, false), Verdict::Mtls);
        assert_eq!(judge(Sends::Mtls, Sidecar::Unknown, true, PaMode::Permissive, false), Verdict::Mtls);
        assert_eq!(judge(Sends::Mtls, Sidecar::No, true, PaMode::Permissive, false), Verdict::FailMtlsToNoSidecar);
        assert_eq!(judge(Sends::Mtls, Sidecar::Yes, false, PaMode::Permissive, false), Verdict::FailMtlsToNoSidecar);
        assert_eq!(judge(Sends::Mtls, Sidecar::Yes, true, PaMode::Disable, false), Verdict::FailMtlsToPlaintextOnly);
        assert_eq!(judge(Sends::Plaintext, Sidecar::Yes, true, PaMode::Strict, false), Verdict::FailPlaintextToStrict);
        assert_eq!(judge(Sends::Plaintext, Sidecar::No, true, PaMode::Strict, false), Verdict::Plaintext);
        assert_eq!(judge(Sends::Plaintext, Sidecar::Yes, false, PaMode::Strict, false), Verdict::Plaintext);
        assert_eq!(judge(Sends::Tls, Sidecar::Yes, true, PaMode::Strict, false), Verdict::FailTlsToStrict);
        assert_eq!(judge(Sends::Tls, Sidecar::Yes, true, PaMode::Permissive, false), Verdict::Tls);
        assert_eq!(judge(Sends::Tls, Sidecar::No, true, PaMode::Strict, false), Verdict::Tls);
        // Ambient: DISABLE has no effect, STRICT rejects plaintext.
        assert_eq!(judge(Sends::Mtls, Sidecar::No, true, PaMode::Disable, true), Verdict::Mtls);
        assert_eq!(judge(Sends::Plaintext, Sidecar::No, true, PaMode::Strict, true), Verdict::FailPlaintextToStrict);
        assert_eq!(judge(Sends::Plaintext, Sidecar::No, true, PaMode::Permissive, true), Verdict::Plaintext);
    }

    #[test]
    fn auto_conditions_in_istio_order() {
        let base = AutoFacts {
            enabled: true,
            namespace_disable: false,
            passthrough: false,
            passthrough_without_sidecar: false,
            sidecar: Sidecar::Yes,
            port_mode: PaMode::Strict,
        };
        assert_eq!(auto_sends(base), (Sends::Mtls, AutoReason::Mtls));
        assert_eq!(auto_sends(AutoFacts { enabled: false, ..base }).1, AutoReason::Off);
        assert_eq!(auto_sends(AutoFacts { namespace_disable: true, ..base }).1, AutoReason::NamespaceDisable);
        assert_eq!(auto_sends(AutoFacts { sidecar: Sidecar::No, ..base }).1, AutoReason::NoSidecar);
        assert_eq!(auto_sends(AutoFacts { port_mode: PaMode::Disable, ..base }).1, AutoReason::PortDisable);
        assert_eq!(auto_sends(AutoFacts { sidecar: Sidecar::Unknown, ..base }).0, Sends::Mtls);
        // A passthrough cluster decides for the whole service: no per-endpoint sidecar or port check.
        let pt = AutoFacts { passthrough: true, sidecar: Sidecar::No, port_mode: PaMode::Disable, ..base };
        assert_eq!(auto_sends(pt).0, Sends::Mtls);
        assert_eq!(auto_sends(AutoFacts { passthrough_without_sidecar: true, ..pt }).1, AutoReason::Passthrough);
    }
}
