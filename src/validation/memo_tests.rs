//! The schema verdict is computed once per object and kept with it.

use super::*;
use crate::manifest::{load_file, yaml::Limits};
use std::sync::Arc;

const BAD_DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: d\n  namespace: ns\nspec:\n  host: h\n  trafficPolicy:\n    tls:\n      mode: SOMETIMES\n";

#[test]
fn the_verdict_is_computed_once_and_shared_by_clones() {
    let f = load_file("dr.yaml", BAD_DR.as_bytes(), &Limits::default());
    let o = &f.objects[0];
    assert!(!is_validated(o));
    let first = validate(o);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(is_validated(o));
    // The kept verdict is the one computed, and a clone of the object (a default namespace set by assembly)
    // carries it: the same allocation, not a second validation.
    let kept = o.schema.get().cloned().unwrap_or_else(|| Arc::from(Vec::new()));
    let copy: Object = (**o).clone();
    assert!(Arc::ptr_eq(&kept, copy.schema.get().unwrap()));
    assert_eq!(validate(&copy), first);
    assert_eq!(compute(o), first);
}

#[test]
fn kinds_the_table_does_not_cover_keep_no_verdict() {
    let f = load_file(
        "svc.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: c\n  namespace: ns\n",
        &Limits::default(),
    );
    assert!(validate(&f.objects[0]).is_empty());
    assert!(!is_validated(&f.objects[0]));
}
