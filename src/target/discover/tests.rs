use super::*;
use crate::rules::parse_project_config;

fn plan(files: &[(&str, &str)]) -> Plan {
    plan_with(files, &ProjectConfig::default())
}

fn plan_with(files: &[(&str, &str)], c: &ProjectConfig) -> Plan {
    let mut f: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    f.sort();
    discover(&f, c)
}

fn mesh<'p>(p: &'p Plan, name: &str) -> Vec<&'p str> {
    let m = p.meshes.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no mesh {name}: {p:#?}"));
    m.targets.iter().map(|i| p.targets[*i].name.as_str()).collect()
}

fn target<'p>(p: &'p Plan, name: &str) -> &'p Target {
    p.targets.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no target {name}: {p:#?}"))
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n";

#[test]
fn flat_tree_is_one_plain_mesh() {
    let p = plan(&[("a.yaml", DEPLOY), ("ns/b.yaml", PA)]);
    assert_eq!(mesh(&p, "default"), vec!["plain"]);
    assert_eq!(p.targets[0].files, vec!["a.yaml", "ns/b.yaml"]);
    assert_eq!(p.targets[0].render, RenderKind::Plain);
}

#[test]
fn overlays_make_one_mesh_per_environment() {
    let p = plan(&[
        ("base/kustomization.yaml", "resources: [deploy.yaml, pa.yaml]\n"),
        ("base/deploy.yaml", DEPLOY),
        ("base/pa.yaml", PA),
        ("overlays/dev/kustomization.yaml", "resources: [../../base]\npatches:\n- path: pa-patch.yaml\n"),
        (
            "overlays/dev/pa-patch.yaml",
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: DISABLE\n",
        ),
        (
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\npatchesStrategicMerge:\n- ../../patches/del.yaml\n",
        ),
        ("patches/del.yaml", "$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"),
        ("infra/istio/kustomization.yaml", "resources: [mesh-pa.yaml]\n"),
        ("infra/istio/mesh-pa.yaml", PA),
        ("loose.yaml", PA),
    ]);
    assert_eq!(mesh(&p, "dev"), vec!["infra/istio", "overlays/dev", "plain"]);
    assert_eq!(mesh(&p, "prod"), vec!["infra/istio", "overlays/prod", "plain"]);
    assert_eq!(p.meshes.len(), 2);
    assert!(p.targets.iter().all(|t| t.name != "base"), "the base is referenced, not a root");
    assert_eq!(target(&p, "plain").files, vec!["loose.yaml"], "patch files are never plain");
    assert_eq!(p.patch_files, vec!["overlays/dev/pa-patch.yaml", "patches/del.yaml"]);
    assert!(p.meshes[0].reason.contains("environment `dev`"), "{}", p.meshes[0].reason);
}

#[test]
fn one_environment_or_none_is_one_mesh() {
    let p = plan(&[
        ("apps/shop/overlays/dev/kustomization.yaml", "resources: [a.yaml]\n"),
        ("apps/shop/overlays/dev/a.yaml", DEPLOY),
        ("apps/cart/overlays/dev/kustomization.yaml", "resources: [a.yaml]\n"),
        ("apps/cart/overlays/dev/a.yaml", DEPLOY),
    ]);
    assert_eq!(p.meshes.len(), 1);
    assert_eq!(mesh(&p, "default"), vec!["apps/cart/overlays/dev", "apps/shop/overlays/dev"]);
    let p = plan(&[
        ("x/kustomization.yaml", "resources: [a.yaml]\n"),
        ("x/a.yaml", DEPLOY),
        ("y/kustomization.yaml", "resources: [../x]\n"),
    ]);
    assert_eq!(mesh(&p, "default"), vec!["y"]);
}

#[test]
fn environment_names_and_containers() {
    assert_eq!(environment_of("overlays/eu-west").as_deref(), Some("eu-west"));
    assert_eq!(environment_of("apps/shop/prod").as_deref(), Some("prod"));
    assert_eq!(environment_of("demo/overlays/prod").as_deref(), Some("prod"));
    assert_eq!(environment_of("clusters/kind-a/apps").as_deref(), Some("kind-a"));
    assert_eq!(environment_of("apps/shop"), None);
    assert_eq!(environment_of("production-like/x"), None);
}

#[test]
fn components_cycles_and_charts() {
    let p = plan(&[
        ("comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"),
        ("a/kustomization.yaml", "resources: [../b]\n"),
        ("b/kustomization.yaml", "resources: [../a]\n"),
        ("charts/web/Chart.yaml", "name: web\n"),
        ("charts/web/templates/d.yaml", "{{ .Values.x }}\n"),
        ("charts/web/charts/sub/Chart.yaml", "name: sub\n"),
    ]);
    assert_eq!(mesh(&p, "default"), vec!["helm:charts/web"]);
    assert!(matches!(&target(&p, "helm:charts/web").render, RenderKind::Helm { release, .. } if release == "web"));
    let reasons: Vec<&str> = p.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(reasons, vec!["a/kustomization.yaml", "b/kustomization.yaml", "comp/kustomization.yaml"]);
}

#[test]
fn patch_only_files_leave_plain_targets() {
    let p = plan(&[
        ("a.yaml", DEPLOY),
        ("del.yaml", "$patch: delete\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"),
    ]);
    assert_eq!(p.patch_files, vec!["del.yaml"]);
    assert_eq!(target(&p, "plain").files, vec!["a.yaml"]);
}

const GOTK_SYNC: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  path: ./clusters/CLUSTER\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

fn flux_tree(cluster: &'static str) -> Vec<(String, String)> {
    vec![
        (format!("clusters/{cluster}/flux-system/gotk-sync.yaml"), GOTK_SYNC.replace("CLUSTER", cluster)),
        (
            format!("clusters/{cluster}/flux-system/gotk-components.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: source-controller\n".into(),
        ),
        (
            format!("clusters/{cluster}/flux-system/kustomization.yaml"),
            "resources: [gotk-components.yaml, gotk-sync.yaml]\n".into(),
        ),
        (
            format!("clusters/{cluster}/infrastructure.yaml"),
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infrastructure\n  namespace: flux-system\nspec:\n  path: ./infrastructure/{cluster}\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n"
            ),
        ),
        (
            format!("clusters/{cluster}/apps.yaml"),
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: ./apps/{cluster}\n  targetNamespace: shop\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n  patches:\n  - target: {{kind: Deployment}}\n    patch: |\n      - op: add\n        path: /metadata/labels/x\n        value: y\n  postBuild:\n    substitute:\n      mode: STRICT\n    substituteFrom:\n    - kind: ConfigMap\n      name: cluster-vars\n    - kind: Secret\n      name: secret-vars\n    - kind: Secret\n      name: missing\n      optional: true\n"
            ),
        ),
        (
            format!("clusters/{cluster}/vars.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  cluster: {cluster}\n  mode: PERMISSIVE\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-vars\n  namespace: flux-system\ndata:\n  token: aGVsbG8=\nstringData:\n  plain: as-is\n"
            ),
        ),
        (format!("apps/{cluster}/kustomization.yaml"), "resources: [../base]\n".into()),
        (format!("infrastructure/{cluster}/istio.yaml"), PA.into()),
    ]
}

#[test]
fn flux_two_clusters() {
    let mut files = flux_tree("staging");
    files.extend(flux_tree("prod"));
    files.push(("apps/base/kustomization.yaml".into(), "resources: [d.yaml]\n".into()));
    files.push(("apps/base/d.yaml".into(), DEPLOY.into()));
    files.push(("unused/kustomization.yaml".into(), "resources: []\n".into()));
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let p = plan(&refs);
    assert_eq!(p.meshes.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["prod", "staging"]);
    // The cluster directory itself: its gotk files and Flux objects are left out, the vars file is applied.
    assert_eq!(mesh(&p, "prod"), vec!["flux:prod/apps", "flux:prod/flux-system", "flux:prod/infrastructure"]);
    assert_eq!(target(&p, "flux:prod/flux-system").files, vec!["clusters/prod/vars.yaml"]);
    let apps = target(&p, "flux:prod/apps");
    assert_eq!((apps.path.as_str(), apps.render.clone()), ("apps/prod", RenderKind::Kustomize));
    assert_eq!(apps.target_namespace.as_deref(), Some("shop"));
    assert_eq!(apps.substitute.get("cluster").map(String::as_str), Some("prod"), "the ConfigMap of the same cluster");
    assert_eq!(apps.substitute.get("mode").map(String::as_str), Some("STRICT"), "inline substitute wins");
    assert_eq!(apps.substitute.get("token").map(String::as_str), Some("hello"));
    assert_eq!(apps.substitute.get("plain").map(String::as_str), Some("as-is"));
    assert_eq!(apps.patches.len(), 1);
    assert_eq!((apps.patches[0].path.as_str(), apps.patches[0].line), ("clusters/prod/apps.yaml", 12));
    assert_eq!(apps.patches[0].target.as_deref(), Some("{\"kind\":\"Deployment\"}"));
    let infra = target(&p, "flux:prod/infrastructure");
    assert_eq!(
        (infra.render.clone(), infra.files.clone()),
        (RenderKind::Plain, vec!["infrastructure/prod/istio.yaml".to_string()])
    );
    assert!(!p.skipped.iter().any(|s| s.reason.contains("missing")), "optional: true may be missing");
    assert!(p.targets.iter().all(|t| !t.path.starts_with("unused")), "not applied by any cluster");
}

#[test]
fn flux_transitive_and_missing_vars() {
    let p = plan(&[
        (
            "clusters/prod/apps.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./tenants\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        ),
        (
            "tenants/shop.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: shop, namespace: flux-system}\nspec:\n  path: ./shop\n  postBuild:\n    substituteFrom:\n    - {kind: ConfigMap, name: nope}\n",
        ),
        ("shop/a.yaml", DEPLOY),
        (
            "orphan.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: orphan}\nspec:\n  path: ./shop\n",
        ),
    ]);
    assert_eq!(mesh(&p, "prod"), vec!["flux:prod/shop"]);
    assert!(p.skipped.iter().any(|s| s.reason.contains("ConfigMap `nope`")));
    assert!(p.skipped.iter().any(|s| s.path == "orphan.yaml"));
}

#[test]
fn argo_applications_per_cluster() {
    let app = |name: &str, path: &str, dest: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  source:\n    repoURL: https://git.example/r.git\n    path: {path}\n  destination:\n    {dest}\n    namespace: shop\n"
        )
    };
    let a1 = app("shop-prod", "overlays/prod", "name: prod");
    let a2 = app("shop-dev", "overlays/dev", "server: https://kubernetes.default.svc");
    let a3 = app("raw", "raw", "server: https://10.0.0.1:6443");
    let p = plan(&[
        ("argocd/prod.yaml", &a1),
        ("argocd/dev.yaml", &a2),
        ("argocd/raw.yaml", &a3),
        (
            "argocd/chart.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: c}\nspec:\n  source: {repoURL: https://charts.example, chart: istiod}\n",
        ),
        ("overlays/prod/kustomization.yaml", "resources: [a.yaml]\n"),
        ("overlays/prod/a.yaml", DEPLOY),
        ("overlays/dev/kustomization.yaml", "resources: [a.yaml]\n"),
        ("overlays/dev/a.yaml", DEPLOY),
        ("raw/a.yaml", DEPLOY),
        ("raw/sub/b.yaml", PA),
    ]);
    assert_eq!(p.meshes.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["10.0.0.1", "in-cluster", "prod"]);
    assert_eq!(mesh(&p, "prod"), vec!["argocd:shop-prod"]);
    assert_eq!(mesh(&p, "in-cluster"), vec!["argocd:shop-dev"]);
    assert_eq!(target(&p, "argocd:shop-prod").default_namespace.as_deref(), Some("shop"));
    assert_eq!(target(&p, "argocd:raw").files, vec!["raw/a.yaml"], "no recurse");
    assert!(p.skipped.iter().any(|s| s.reason.contains("chart repository")));
}

#[test]
fn argo_applicationsets() {
    let p = plan(&[
        (
            "appsets/dirs.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: dirs}\nspec:\n  goTemplate: true\n  generators:\n  - git:\n      repoURL: https://git.example/r.git\n      directories:\n      - path: apps/*\n      - path: apps/skip\n        exclude: true\n  template:\n    metadata:\n      name: '{{.path.basename}}-{{index .path.segments 0}}'\n    spec:\n      source:\n        path: '{{.path.path}}'\n        directory: {recurse: true}\n      destination: {name: prod, namespace: '{{.path.basename | upper | lower}}'}\n",
        ),
        (
            "appsets/list.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: list}\nspec:\n  generators:\n  - list:\n      elements:\n      - {cluster: staging, env: dev}\n      - {cluster: prod, env: prod}\n  template:\n    metadata:\n      name: 'web-{{ cluster }}'\n    spec:\n      source:\n        path: envs/{{env}}\n        kustomize: {namePrefix: '{{env}}-'}\n      destination: {name: '{{cluster}}'}\n",
        ),
        (
            "appsets/files.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: files}\nspec:\n  generators:\n  - git:\n      files:\n      - path: config/**/cfg.json\n  - clusters: {}\n  template:\n    metadata:\n      name: 'cfg-{{cluster.name}}'\n    spec:\n      source: {path: '{{path}}'}\n      destination: {name: '{{cluster.name}}'}\n",
        ),
        ("apps/web/a.yaml", DEPLOY),
        ("apps/web/sub/b.yaml", PA),
        ("apps/skip/a.yaml", DEPLOY),
        ("envs/dev/kustomization.yaml", "resources: [a.yaml]\n"),
        ("envs/dev/a.yaml", DEPLOY),
        ("envs/prod/kustomization.yaml", "resources: [a.yaml]\n"),
        ("envs/prod/a.yaml", DEPLOY),
        ("config/eu/cfg.json", "{\"cluster\": {\"name\": \"eu\"}}"),
        ("config/eu/pa.yaml", PA),
    ]);
    assert_eq!(mesh(&p, "prod"), vec!["argocd:web-apps", "argocd:web-prod"]);
    assert_eq!(mesh(&p, "staging"), vec!["argocd:web-staging"]);
    assert_eq!(mesh(&p, "eu"), vec!["argocd:cfg-eu"]);
    let web = target(&p, "argocd:web-apps");
    assert_eq!(web.files, vec!["apps/web/a.yaml", "apps/web/sub/b.yaml"]);
    assert_eq!(web.default_namespace.as_deref(), Some("web"));
    assert_eq!(target(&p, "argocd:web-staging").name_prefix.as_deref(), Some("dev-"));
    assert!(p.skipped.iter().any(|s| s.reason.contains("`clusters` generator")), "{:?}", p.skipped);
}

#[test]
fn config_meshes_override_everything() {
    let c = parse_project_config(
        "c",
        "meshes:\n- name: one\n  auto_mtls: false\n  targets:\n  - {path: overlays/prod}\n  - {path: raw, render: plain, namespace: x}\n  - {path: nowhere}\n  - {path: gen, render: command}\n",
    )
    .unwrap();
    let p = plan_with(
        &[
            ("overlays/prod/kustomization.yaml", "resources: [a.yaml]\n"),
            ("overlays/prod/a.yaml", DEPLOY),
            ("overlays/dev/kustomization.yaml", "resources: [a.yaml]\n"),
            ("raw/a.yaml", DEPLOY),
            ("gen/x.sh", ""),
        ],
        &c,
    );
    assert_eq!(p.meshes.len(), 1);
    assert_eq!(p.meshes[0].settings.auto_mtls, Some(false));
    assert_eq!(mesh(&p, "one"), vec!["config:overlays/prod", "config:raw"]);
    assert_eq!(target(&p, "config:overlays/prod").render, RenderKind::Kustomize);
    assert_eq!(target(&p, "config:raw").files, vec!["raw/a.yaml"]);
    assert_eq!(target(&p, "config:raw").default_namespace.as_deref(), Some("x"));
    assert_eq!(p.skipped.len(), 2, "{:?}", p.skipped);
}

#[test]
fn globs() {
    use super::gitops::glob;
    assert!(glob("apps/*", "apps/web", false));
    assert!(!glob("apps/*", "apps/web/x", false));
    assert!(glob("config/**/cfg.json", "config/a/b/cfg.json", false));
    assert!(glob("config/**/cfg.json", "config/cfg.json", false));
    assert!(glob("{a,b}.yaml", "b.yaml", true));
    assert!(glob("*.yaml", "sub/x.yaml", true));
    assert!(glob("[a-c]x", "bx", false) && !glob("[!a-c]x", "bx", false));
}
