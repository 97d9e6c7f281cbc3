//! Reviews of in-memory trees: which changed lines anchor an introduced finding.

use super::{ReviewInput, TreeFile, review};
use crate::finding::{Anchor, Side, Status};
use crate::settings::AnalysisOptions;

fn tree(files: &[(&str, &str)]) -> Vec<TreeFile> {
    files
        .iter()
        .map(|(path, text)| TreeFile {
            path: path.to_string(),
            id: crate::finding::stable_hash(text),
            bytes: text.as_bytes().into(),
        })
        .collect()
}

fn change(base: &[(&str, &str)], head: &[(&str, &str)]) -> super::Review {
    let input = ReviewInput {
        base: tree(base),
        head: tree(head),
        base_label: "base".into(),
        head_label: "head".into(),
        ..Default::default()
    };
    review(&input, &AnalysisOptions::default())
}

fn head(path: &str, line: usize) -> Anchor {
    Anchor { side: Side::Head, path: path.into(), line, end_line: line }
}

const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: shop-mtls\n  namespace: shop\nspec:\n  host: \"*.shop.svc.cluster.local\"\n  trafficPolicy:\n    tls:\n      mode: MODE\n";
const PA: &str = "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: PAMODE\n";
const SVC: &str = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    team: TEAM\nspec:\n  ports:\n  - port: 80\n";

/// A file edited in two places, one inside the finding's object and one in another object below it: only the
/// first anchors the finding.
#[test]
fn only_the_changed_lines_inside_the_subject_anchor_it() {
    let base = format!("{}{}", DR.replace("MODE", "DISABLE"), SVC.replace("TEAM", "a"));
    let new = format!("{}{}", DR.replace("MODE", "ISTIO_MUTUAL"), SVC.replace("TEAM", "b"));
    let r = change(&[("f.yaml", &base)], &[("f.yaml", &new)]);
    let f: Vec<_> = r.findings.iter().filter(|f| f.status == Status::Introduced).collect();
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert_eq!(f[0].code, "TIS0206");
    assert_eq!(f[0].anchors.as_deref(), Some(&[head("f.yaml", 10)][..]));
    // The change above the subject, in an object before it.
    let base =
        format!("{}---\n{}", SVC.replace("TEAM", "a").trim_start_matches("---\n"), DR.replace("MODE", "DISABLE"));
    let new =
        format!("{}---\n{}", SVC.replace("TEAM", "b").trim_start_matches("---\n"), DR.replace("MODE", "ISTIO_MUTUAL"));
    let r = change(&[("f.yaml", &base)], &[("f.yaml", &new)]);
    let f: Vec<_> = r.findings.iter().filter(|f| f.status == Status::Introduced).collect();
    assert_eq!(f[0].anchors.as_deref(), Some(&[head("f.yaml", 21)][..]), "{new}");
}

/// A finding whose subject did not change is anchored on the PeerAuthentication edit that made the rule fire,
/// not on another edit of the same file.
#[test]
fn a_related_edit_anchors_an_unchanged_subject() {
    let dr = DR.replace("MODE", "ISTIO_MUTUAL");
    let side = |mode: &str, team: &str| format!("{}{}", SVC.replace("TEAM", team), PA.replace("PAMODE", mode));
    let (base, new) = (side("STRICT", "a"), side("DISABLE", "b"));
    let r = change(&[("d.yaml", &dr), ("p.yaml", &base)], &[("d.yaml", &dr), ("p.yaml", &new)]);
    let f = r.findings.iter().find(|f| f.code == "TIS0206").unwrap();
    assert_eq!(f.status, Status::Introduced);
    assert_eq!(f.anchors.as_deref(), Some(&[head("p.yaml", 20)][..]), "{new}");
    // TIS0206 names the namespace's PeerAuthentication as related, with its location.
    assert_eq!(f.related.len(), 1);
    assert_eq!(f.related[0].role, "namespace-wide PeerAuthentication");
    assert_eq!(
        (f.related[0].object.kind.as_str(), f.related[0].object.name.as_str()),
        ("PeerAuthentication", "default")
    );
    assert_eq!((f.related[0].location.path.as_str(), f.related[0].location.line), ("p.yaml", 13));
}
