//! Tests of where related objects are shown (issue 15, third sample, shard 2/10: deleting the DestinationRule arm
//! of `related_location` survived).

use super::related_location;
use crate::finding::{Location, Side};
use crate::rules::testing::{dr, mesh, pa};

/// A related DestinationRule is shown at its `tls.mode` line, a PeerAuthentication at its `mtls.mode` line;
/// a DestinationRule without a tls block at its nearest written parent (`spec`'s key line); each on one line.
#[test]
fn related_objects_are_shown_at_their_mode_line() {
    // Lines: the DR's `---` is 1, `mode: ISTIO_MUTUAL` 11; the PA starts at 12, its `mode:` is 20; the second DR
    // starts at 21, its `spec:` is 27.
    let text = dr("shop", "cart", "cart", Some("ISTIO_MUTUAL"))
        + &pa("shop", "default", Some("STRICT"), false)
        + &dr("shop", "plain", "plain", None);
    let m = mesh(&text);
    let id = |name: &str| (0..m.objects.len()).find(|i| m.objects[*i].name == name).unwrap_or(usize::MAX);
    let at = |line: usize| Location { side: Side::Head, path: "test.yaml".to_string(), line, end_line: line };
    assert_eq!(related_location(&m, id("cart"), Side::Head), at(11));
    assert_eq!(related_location(&m, id("default"), Side::Head), at(20));
    assert_eq!(related_location(&m, id("plain"), Side::Head), at(27));
}
