//! Tests of when fix verification may splice an edited file into its copy of the snapshot and when it must
//! rebuild (issue 15: `!settings_source(old)` -> `settings_source(old)` and, earlier, the kustomize-namespace
//! comparison in `Verifier::keys_with` survived the lib tests).

use super::{FindingKey, Verifier, error_set};
use crate::context::MeshContext;
use crate::manifest::{LoadedFile, load_file, yaml::Limits};
use crate::posture::fixtures::{deployment, injected, service};
use crate::reanalysis::{finding_keys, resolve_settings};
use crate::rules::testing::pa;
use crate::settings::AnalysisOptions;

fn load(path: &str, text: &str) -> LoadedFile {
    let f = load_file(path, text.as_bytes(), &Limits::default());
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

/// The finding keys `Verifier::keys_with` gives for `files` with file `idx` replaced by `new`, and those of a
/// rebuild of that tree, each sorted.
fn keys_both_ways(files: &[LoadedFile], idx: usize, new: LoadedFile) -> (Vec<FindingKey>, Vec<FindingKey>) {
    let opts = AnalysisOptions::default();
    let mesh = crate::mesh::Mesh::build(files, resolve_settings(files, &opts), Default::default());
    let cx = MeshContext::new(mesh);
    let errors = error_set(&cx, &crate::rules::run_all(&cx));
    let mut verifier = Verifier::new(files, &cx, &opts, &errors);
    assert!(verifier.splice.is_some(), "the verifier splices into this tree");
    let mut copy = files.to_vec();
    copy[idx] = new.clone();
    let mut rebuilt = finding_keys(&copy, &opts, Default::default());
    let mut got = verifier.keys_with(idx, new, &opts, false);
    got.sort();
    rebuilt.sort();
    (got, rebuilt)
}

fn shop() -> String {
    injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &pa("shop", "strict", Some("STRICT"), false)
}

fn mesh_config(auto_mtls: bool) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    \
         enableAutoMtls: {auto_mtls}\n"
    )
}

/// An edit that takes the mesh configuration (`enableAutoMtls: false`) out of a file changes the mesh settings:
/// its re-analysis sees auto mTLS back on (MTLS001's plaintext to STRICT gone), as a rebuild does.
#[test]
fn an_edit_that_removes_the_mesh_config_is_re_analysed_with_the_new_settings() {
    let files = vec![load("shop.yaml", &shop()), load("mesh.yaml", &mesh_config(false))];
    let (got, rebuilt) = keys_both_ways(&files, 1, load("mesh.yaml", "# moved elsewhere\n"));
    assert_eq!(got, rebuilt);
    assert!(!got.iter().any(|k| k.0 == "MTLS001"), "{got:?}");
    // And the other way: auto mTLS turned off by a new mesh config.
    let files = vec![load("shop.yaml", &shop()), load("mesh.yaml", "# none yet\n")];
    let (got, rebuilt) = keys_both_ways(&files, 1, load("mesh.yaml", &mesh_config(false)));
    assert_eq!(got, rebuilt);
    assert!(got.iter().any(|k| k.0 == "MTLS001" && k.1.name == "strict"), "{got:?}");
}

/// An edit of a `kustomization.yaml` that changes its `namespace:` moves the objects beside it: their findings are
/// those of the new namespace, as a rebuild gives them.
#[test]
fn an_edit_of_a_kustomization_namespace_moves_its_objects() {
    let kustomization =
        |ns: &str| format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\n");
    let strict_pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: strict\nspec:\n  \
                     mtls:\n    mode: STRICT\n";
    let app = injected("shop")
        + &service("shop", "cart", &[(80, "8080")])
        + &deployment("shop", "cart", &[8080], &[])
        + &crate::rules::testing::dr("web", "plain", "cart.shop.svc.cluster.local", Some("DISABLE"))
        + &injected("web")
        + &deployment("web", "frontend", &[8080], &[]);
    let files = vec![
        load("app.yaml", &app),
        load("policy/kustomization.yaml", &kustomization("other")),
        load("policy/pa.yaml", strict_pa),
    ];
    let (got, rebuilt) = keys_both_ways(&files, 1, load("policy/kustomization.yaml", &kustomization("shop")));
    assert_eq!(got, rebuilt);
    // The STRICT policy now applies to `shop`, where `web`'s DISABLE rule sends plaintext: MTLS001.
    assert!(got.iter().any(|k| k.0 == "MTLS001"), "{got:?}");
}
