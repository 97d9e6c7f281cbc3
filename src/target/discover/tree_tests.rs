//! What `Tree::new` parses: GitOps objects, patches and kustomizations always; ConfigMaps and Secrets (read only
//! by Flux and Argo CD discovery) only when the tree holds a Flux or Argo CD object.

use super::*;

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\ndata:\n  a: b\n";
const FLUX: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: ./apps\n  postBuild:\n    substituteFrom:\n    - kind: ConfigMap\n      name: vars\n";
const ARGO: &str =
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  source:\n    path: apps\n";
const PATCH: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n$patch: delete\n";

fn tree<'a>(files: &'a [(&'a str, &'a str)]) -> Tree<'a> {
    let list: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    Tree::new(&list)
}

#[test]
fn config_maps_are_not_parsed_in_a_tree_without_gitops_objects() {
    let files =
        [("apps/cm.yaml", CM), ("apps/patch.yaml", PATCH), ("apps/kustomization.yaml", "resources: [cm.yaml]\n")];
    let t = tree(&files);
    assert!(!t.docs.contains_key("apps/cm.yaml"));
    // Patches and kustomizations are still read.
    assert!(t.patch_only.contains("apps/patch.yaml"));
    assert!(t.docs.contains_key("apps/kustomization.yaml"));
}

#[test]
fn config_maps_are_parsed_when_flux_or_argo_cd_could_read_them() {
    for gitops in [FLUX, ARGO] {
        let files = [("apps/cm.yaml", CM), ("clusters/prod/gitops.yaml", gitops)];
        let t = tree(&files);
        assert_eq!(t.docs.get("apps/cm.yaml").map(Vec::len), Some(1), "{gitops}");
    }
}

#[test]
fn needles_are_found_anywhere_and_only_whole() {
    assert!(has_needle(b"x: 1\nkind: ConfigMap\n", GITOPS_ONLY_NEEDLES));
    assert!(has_needle(b"Secret", GITOPS_ONLY_NEEDLES));
    assert!(!has_needle(b"Secre", GITOPS_ONLY_NEEDLES));
    assert!(!has_needle(b"secret: configmap", GITOPS_ONLY_NEEDLES));
    assert!(has_needle(b"a: $$patch", NEEDLES));
    assert!(!has_needle(b"", NEEDLES));
}
