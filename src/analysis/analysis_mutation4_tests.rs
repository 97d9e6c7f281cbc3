//! Tests of where a related Service is shown (issue 15, sample shard 3/10: deleting the Service arm of
//! `related_location` survived).

use super::related_location;
use crate::finding::{Location, Side};
use crate::rules::testing::mesh;

/// A related Service is shown at its `spec.ports` line (the ports a rule matched), not at its first line.
#[test]
fn a_related_service_is_shown_at_its_ports_line() {
    // Lines: `---` 1, `kind: Service` 3, `spec:` 9, `ports:` 10.
    let text = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app: web\nspec:\n  ports:\n  - port: 80\n";
    let m = mesh(text);
    let at = |line: usize| Location { side: Side::Head, path: "test.yaml".to_string(), line, end_line: line };
    assert_eq!(related_location(&m, 0, Side::Head), at(10));
}
