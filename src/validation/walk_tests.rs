//! One walk of an object along the table's path tree ([`walk`]) reports what a walk per rule reported: every
//! violation with the API server's field name (list items and map keys in brackets, siblings not mixed up) and its
//! line, in table order, a rule's violations in document order.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::manifest::{load_file, yaml::Limits};

fn found(yaml: &str) -> Vec<(usize, String)> {
    let f = load_file("t.yaml", yaml.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    validate(&f.objects[0]).into_iter().map(|v| (v.line, v.field)).collect()
}

#[test]
fn violations_in_siblings_lists_and_nested_fields_keep_their_own_names_and_lines() {
    let yaml = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: d
  namespace: n
spec:
  subsets:
  - labels: {v: \"1\"}
  - name: ok
  - labels: {v: \"3\"}
  trafficPolicy:
    portLevelSettings:
    - port: {number: 80}
      tls:
        mode: BAD
    tls:
      mode: WRONG
";
    assert_eq!(
        found(yaml),
        vec![
            (6, "spec.host".to_string()),
            (8, "spec.subsets[0].name".to_string()),
            (10, "spec.subsets[2].name".to_string()),
            (15, "spec.trafficPolicy.portLevelSettings[0].tls.mode".to_string()),
            (17, "spec.trafficPolicy.tls.mode".to_string()),
        ]
    );
}

#[test]
fn map_values_are_named_by_their_keys_in_document_order() {
    let yaml = "\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: p
  namespace: n
spec:
  selector:
    matchLabels:
      app: a
  portLevelMtls:
    \"8080\":
      mode: BAD
    \"9090\":
      mode: STRICT
    \"7070\":
      mode: WORSE
  mtls:
    mode: NOPE
";
    assert_eq!(
        found(yaml),
        vec![
            (18, "spec.mtls.mode".to_string()),
            (12, "spec.portLevelMtls[8080].mode".to_string()),
            (16, "spec.portLevelMtls[7070].mode".to_string()),
        ]
    );
}

#[test]
fn the_path_tree_holds_every_rule_of_the_table_once() {
    fn count(t: &PathTree, seen: &mut Vec<usize>) {
        seen.extend(&t.rules);
        for (_, sub) in &t.children {
            count(sub, seen);
        }
    }
    let mut seen = Vec::new();
    for tree in path_trees().values() {
        count(tree, &mut seen);
    }
    seen.sort();
    assert_eq!(seen, (0..rules().len()).collect::<Vec<_>>());
    assert_eq!(
        steps("spec.portLevelMtls{}.mode"),
        vec![Step::Field("spec".into()), Step::Field("portLevelMtls".into()), Step::Values, Step::Field("mode".into()),]
    );
    assert_eq!(
        steps("a.b[].c"),
        vec![Step::Field("a".into()), Step::Field("b".into()), Step::Items, Step::Field("c".into())]
    );
}
