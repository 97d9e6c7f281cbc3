//! Tests of `kustomization_patches` and `selects` (issue 15, sample shard 3/10: `delete !` in `selects`' name
//! test and `&&` -> `||` in the choice between a strategic-merge and a JSON 6902 patch file survived): which
//! patches of an overlay apply to the rendered PeerAuthentication `shop/default`, and how a file is read.

use super::mutation3_tests::{files, patches_of};

const SMP: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: DISABLE\n";

/// A patch whose target names another object does not apply; one naming the object (or matching its name by
/// pattern) does.
#[test]
fn a_patch_applies_only_to_the_object_its_target_names() {
    let overlay = |name: &str| {
        let k = format!(
            "resources:\n- ../../base\npatches:\n- target:\n    kind: PeerAuthentication\n    name: {name}\n  path: pa.yaml\n"
        );
        patches_of(&files(&[("overlays/prod/kustomization.yaml", &k), ("overlays/prod/pa.yaml", SMP)]))
    };
    let applied = vec![("overlays/prod/pa.yaml".to_string(), 1, 7, "smp PeerAuthentication +0".to_string())];
    assert_eq!(overlay("default"), applied);
    assert_eq!(overlay("def.*"), applied);
    assert_eq!(overlay("other"), []);
    assert_eq!(overlay("other.*"), []);
}

/// `patches:` also takes a JSON 6902 operations file (a YAML list, no object): it is read as operations, with
/// the line of each operation's value.
#[test]
fn a_json_6902_file_under_patches_is_read_as_operations() {
    let k = "resources:\n- ../../base\npatches:\n- target:\n    kind: PeerAuthentication\n    name: default\n  path: ops.yaml\n";
    let ops = "- op: replace\n  path: /spec/mtls/mode\n  value: PERMISSIVE\n";
    let tree = files(&[("overlays/prod/kustomization.yaml", k), ("overlays/prod/ops.yaml", ops)]);
    assert_eq!(
        patches_of(&tree),
        [(
            "overlays/prod/ops.yaml".to_string(),
            1,
            3,
            format!("json {:?}", [(vec!["spec".to_string(), "mtls".to_string(), "mode".to_string()], 3)])
        )]
    );
}
