//! Tests of `fix_groups` on a real mesh, written for the mutants the lib tests left alive in
//! `src/review/group.rs`: a group's candidates include every fix plan of its members (not only the fixes their
//! own verification chose), and the worst member's own notes, other than its unverified alternatives and blank
//! lines, follow the group's lines in its help.

use super::*;
use crate::analysis::analyze;
use crate::manifest::{load_file, yaml::Limits};
use crate::posture::fixtures::{deployment, injected, service, workload_pa};
use std::collections::HashSet;

/// Namespace `web` with a DISABLE workload PeerAuthentication for `api` and a namespace-wide ISTIO_MUTUAL
/// DestinationRule: MTLS002 and TIS0206 both on line 10 of `d.yaml` (the rule's mode), one group.
fn web() -> Vec<LoadedFile> {
    let w = injected("web")
        + &service("web", "api", &[(80, "8080")])
        + &deployment("web", "api", &[8080], &[])
        + &workload_pa("web", "api", "api", "DISABLE", &[]);
    let d = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web-mtls\n  namespace: web\nspec:\n  host: \"*.web.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
    vec![load_file("w.yaml", w.as_bytes(), &Limits::default()), load_file("d.yaml", d.as_bytes(), &Limits::default())]
}

/// The snapshot's findings analysed without fixes, `lead_help` set as the MTLS002 finding's help, then given
/// their group fixes: (code, group fix description, help) of each.
fn grouped(lead_help: Option<&str>) -> Vec<(&'static str, Option<String>, Option<String>)> {
    let files = web();
    let quiet = AnalysisOptions { no_fixes: true, ..AnalysisOptions::default() };
    let mut a = analyze(&files, &quiet, Side::Head, HashSet::new());
    for f in a.findings.iter_mut() {
        assert_eq!((f.status, f.fix.is_none()), (Status::Existing, true), "{f:?}");
        if f.code == "MTLS002" {
            f.help = lead_help.map(str::to_string);
        }
    }
    fix_groups(&mut a.findings, Status::Existing, &files, &a.mesh, &a.rule_findings, None, &AnalysisOptions::default());
    a.findings.iter().map(|f| (f.code, f.fix.as_ref().map(|x| x.description.clone()), f.help.clone())).collect()
}

const LEAD_FIX: &str = "add a DestinationRule for host `api.web.svc.cluster.local` in namespace `web` with tls.mode DISABLE; it replaces DestinationRule web/web-mtls for this host only (settings of that rule do not carry over)";

const LEAD_HELP: &str = "No single verified fix resolves all the findings on these lines: this one leaves TIS0206.\nalternatively: add a namespace-wide PeerAuthentication with mTLS mode PERMISSIVE to namespace `web` (resolves TIS0206)";

/// No member has a fix of its own (analysed without fixes): the group's candidates are its members' fix plans,
/// rendered and verified together; the one resolving the worst member goes on it, the other is listed with what
/// it resolves.
#[test]
fn a_group_tries_the_fix_plans_of_its_members() {
    assert_eq!(
        grouped(None),
        vec![("MTLS002", Some(LEAD_FIX.to_string()), Some(LEAD_HELP.to_string())), ("TIS0206", None, None)]
    );
}

/// The worst member's own notes follow the group's lines; its unverified alternatives and blank lines do not.
#[test]
fn the_leads_own_notes_follow_the_groups_lines() {
    let got = grouped(Some("note one\n\nalternatively: other\n  \nnote two"));
    let help = format!("{LEAD_HELP}\nnote one\nnote two");
    assert_eq!(got, vec![("MTLS002", Some(LEAD_FIX.to_string()), Some(help)), ("TIS0206", None, None)]);
}
