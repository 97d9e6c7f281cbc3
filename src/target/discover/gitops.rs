//! Rule 2: Flux `Kustomization`s and Argo CD `Application`s / `ApplicationSet`s, one mesh per cluster.

use super::Builder;
use super::tree::{Doc, N, Tree, V, basename, join, parent, under};
use crate::target::{InlinePatch, RenderKind, Target, TargetOrigin};
use std::collections::{BTreeMap, BTreeSet};

/// The cluster a file of the Flux bootstrap layout belongs to: `clusters/<name>/...`.
fn cluster_of_path(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let i = segs.iter().position(|s| *s == "clusters")?;
    (i + 2 < segs.len()).then(|| segs[i + 1].to_string())
}

/// `spec.path` of Flux (`./apps`, `apps/`, `/apps`) or Argo CD, relative to the tree root.
fn norm(path: &str) -> Option<String> {
    join("", path.trim_start_matches('/'))
}

struct FluxKs<'t> {
    file: &'t str,
    doc: &'t Doc,
    path: Option<String>,
    build: BTreeSet<String>,
}

/// Finds the GitOps targets; false when the tree holds no Flux or Argo CD object (rule 3 applies then).
pub(super) fn discover(tree: &Tree, b: &mut Builder) -> bool {
    let mut flux = Vec::new();
    let mut apps = Vec::new();
    for (file, docs) in &tree.docs {
        for d in docs {
            if d.api().starts_with("kustomize.toolkit.fluxcd.io/") && d.kind() == "Kustomization" {
                let path = norm(d.n.s(&["spec", "path"]).unwrap_or(""));
                let build = path.as_deref().map(|p| tree.build_files(p)).unwrap_or_default();
                flux.push(FluxKs { file, doc: d, path, build });
            } else if d.is_argo() && (d.kind() == "Application" || d.kind() == "ApplicationSet") {
                apps.push((*file, d));
            }
        }
    }
    if flux.is_empty() && apps.is_empty() {
        return false;
    }
    flux_targets(tree, &flux, b);
    for (file, d) in apps {
        if d.kind() == "Application" {
            let name = d.name().to_string();
            app_targets(tree, file, d.line, &name, d.n.get("spec"), TargetOrigin::ArgoApplication, b);
        } else {
            appset_targets(tree, file, d, b);
        }
    }
    true
}

fn flux_targets(tree: &Tree, flux: &[FluxKs], b: &mut Builder) {
    // Clusters: seeded by the bootstrap layout, propagated to the Kustomizations each one's build applies.
    let mut clusters: Vec<BTreeSet<String>> =
        flux.iter().map(|k| cluster_of_path(k.file).into_iter().collect()).collect();
    if clusters.iter().all(BTreeSet::is_empty) {
        for (i, k) in flux.iter().enumerate() {
            if !flux.iter().any(|o| o.build.contains(k.file)) {
                clusters[i].insert("default".to_string());
            }
        }
    }
    loop {
        let mut changed = false;
        for i in 0..flux.len() {
            for j in 0..flux.len() {
                if i != j && flux[i].build.contains(flux[j].file) {
                    let add: Vec<String> = clusters[i].difference(&clusters[j]).cloned().collect();
                    changed |= !add.is_empty();
                    clusters[j].extend(add);
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (i, k) in flux.iter().enumerate() {
        let line = k.doc.line;
        let name = k.doc.name();
        if clusters[i].is_empty() {
            b.skip(
                k.file,
                line,
                format!("Flux Kustomization `{name}` is not applied from any cluster directory (clusters/<name>/)"),
            );
            continue;
        }
        let Some(path) = k.path.clone().filter(|p| tree.has_dir(p)) else {
            b.skip(
                k.file,
                line,
                format!(
                    "Flux Kustomization `{name}`: spec.path `{}` is not in this tree",
                    k.doc.n.s(&["spec", "path"]).unwrap_or("")
                ),
            );
            continue;
        };
        let src = k.doc.n.s(&["spec", "sourceRef", "kind"]).unwrap_or("GitRepository");
        if src != "GitRepository" {
            b.skip(k.file, line, format!("Flux Kustomization `{name}`: source is a {src}, not this repository"));
            continue;
        }
        if k.build.iter().all(|f| tree.gitops_only(f)) {
            b.skip(k.file, line, format!("Flux Kustomization `{name}`: `{path}` holds only Flux / Argo CD objects"));
            continue;
        }
        let spec = k.doc.n.get("spec");
        let ns = k.doc.namespace().unwrap_or("flux-system");
        for cluster in &clusters[i] {
            let mut base =
                Target::new(format!("flux:{cluster}/{name}"), path.clone(), RenderKind::Kustomize, TargetOrigin::Flux);
            base.target_namespace = k.doc.n.s(&["spec", "targetNamespace"]).map(str::to_string);
            base.name_prefix = k.doc.n.s(&["spec", "namePrefix"]).map(str::to_string);
            base.name_suffix = k.doc.n.s(&["spec", "nameSuffix"]).map(str::to_string);
            base.patches = inline_patches(k.file, spec.and_then(|s| s.get("patches")));
            base.substitute = substitutions(tree, flux, &clusters, cluster, k, ns, b);
            base.declared_at = Some((k.file.to_string(), line));
            b.mesh(cluster, &format!("Flux cluster `{cluster}`: the Kustomizations applied from clusters/{cluster}/"));
            if tree.kusts.contains_key(&path) {
                b.add(cluster, base);
                continue;
            }
            // Flux generates a kustomization over the files below the path: the loose files are one plain
            // target, each nested kustomization a kustomize target with the same options.
            let (loose, nested) = tree.generated(&path);
            let loose: Vec<String> =
                loose.into_iter().filter(|f| !tree.gitops_only(f) && !b.patch_files.contains(f)).collect();
            for d in nested {
                if tree.build_files(&d).iter().all(|f| tree.gitops_only(f)) {
                    continue;
                }
                let mut t = base.clone();
                t.name = format!("{}/{}", base.name, d.strip_prefix(&format!("{path}/")).unwrap_or(&d));
                t.path = d;
                b.add(cluster, t);
            }
            if !loose.is_empty() {
                let mut t = base;
                t.render = RenderKind::Plain;
                t.files = loose;
                b.add(cluster, t);
            }
        }
    }
}

/// `spec.patches` of a Flux Kustomization or `kustomize.patches` of an Argo CD source.
fn inline_patches(file: &str, patches: Option<&N>) -> Vec<InlinePatch> {
    let mut out = Vec::new();
    for p in patches.map(N::items).unwrap_or_default() {
        let Some(text) = p.s(&["patch"]) else { continue };
        out.push(InlinePatch {
            patch: text.to_string(),
            target: p.get("target").map(|t| t.to_json().to_string()),
            path: file.to_string(),
            line: p.get("patch").map(|n| n.line).unwrap_or(p.line),
        });
    }
    out
}

/// `postBuild.substituteFrom` (in order, later wins) then `postBuild.substitute` (wins over both); newlines
/// removed from values as Flux does.
fn substitutions(
    tree: &Tree,
    flux: &[FluxKs],
    clusters: &[BTreeSet<String>],
    cluster: &str,
    k: &FluxKs,
    ns: &str,
    b: &mut Builder,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let in_cluster: BTreeSet<&str> = flux
        .iter()
        .zip(clusters)
        .filter(|(_, c)| c.contains(cluster))
        .flat_map(|(f, _)| f.build.iter().map(String::as_str).chain([f.file]))
        .collect();
    for r in k.doc.n.at(&["spec", "postBuild", "substituteFrom"]).map(N::items).unwrap_or_default() {
        let (Some(kind), Some(name)) = (r.s(&["kind"]), r.s(&["name"])) else { continue };
        let found: Vec<(&str, &Doc)> = tree
            .docs
            .iter()
            .flat_map(|(f, ds)| ds.iter().map(move |d| (*f, d)))
            .filter(|(_, d)| d.kind() == kind && d.name() == name && d.namespace().is_none_or(|n| n == ns))
            .collect();
        let mine: Vec<&(&str, &Doc)> = found
            .iter()
            .filter(|(f, _)| in_cluster.contains(f) || cluster_of_path(f).as_deref() == Some(cluster))
            .collect();
        let pick = match (mine.as_slice(), found.as_slice()) {
            ([one, ..], _) => Some(**one),
            ([], [one]) => Some(*one),
            _ => None,
        };
        let Some((_, d)) = pick else {
            if !r.truthy(&["optional"]) {
                b.skip(k.file, r.line, format!("substituteFrom {kind} `{name}` (namespace {ns}) is not in the tree; its variables are not substituted"));
            }
            continue;
        };
        if d.n.get("sops").is_some() {
            b.skip(
                k.file,
                r.line,
                format!("substituteFrom {kind} `{name}` is SOPS-encrypted; its variables are not substituted"),
            );
            continue;
        }
        if kind == "Secret" {
            for (key, v) in d.n.get("data").map(N::entries).unwrap_or_default() {
                if let Some(bytes) = v.str().and_then(base64_decode) {
                    vars.insert(key.clone(), String::from_utf8_lossy(&bytes).replace('\n', ""));
                }
            }
            for (key, v) in d.n.get("stringData").map(N::entries).unwrap_or_default() {
                vars.insert(key.clone(), v.str().unwrap_or("").replace('\n', ""));
            }
        } else {
            for (key, v) in d.n.get("data").map(N::entries).unwrap_or_default() {
                vars.insert(key.clone(), v.str().unwrap_or("").replace('\n', ""));
            }
        }
    }
    for (key, v) in k.doc.n.at(&["spec", "postBuild", "substitute"]).map(N::entries).unwrap_or_default() {
        vars.insert(key.clone(), v.str().unwrap_or("").replace('\n', ""));
    }
    vars
}

/// Standard base64 (padding optional, whitespace ignored).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The cluster an Argo CD destination names: `in-cluster` for the local API server.
fn argo_cluster(spec: &N) -> String {
    let name = spec.s(&["destination", "name"]);
    let server = spec.s(&["destination", "server"]);
    if name == Some("in-cluster") || server.is_some_and(|s| s.trim_end_matches('/') == "https://kubernetes.default.svc")
    {
        return "in-cluster".to_string();
    }
    if let Some(n) = name {
        return n.to_string();
    }
    server
        .map(|s| {
            let s = s.split("://").last().unwrap_or(s);
            s.split(['/', ':']).next().unwrap_or(s).to_string()
        })
        .unwrap_or_else(|| "in-cluster".to_string())
}

/// Targets of one Application spec (an Application's or one an ApplicationSet generates).
fn app_targets(
    tree: &Tree,
    file: &str,
    line: usize,
    app: &str,
    spec: Option<&N>,
    origin: TargetOrigin,
    b: &mut Builder,
) {
    let Some(spec) = spec else { return };
    let cluster = argo_cluster(spec);
    let mut sources: Vec<&N> = spec.get("sources").map(|s| s.items().iter().collect()).unwrap_or_default();
    if let Some(s) = spec.get("source") {
        sources.insert(0, s);
    }
    let with_path = sources.iter().filter(|s| s.s(&["path"]).is_some()).count();
    for (i, src) in sources.iter().enumerate() {
        let Some(raw) = src.s(&["path"]) else {
            if src.s(&["chart"]).is_some() {
                b.skip(
                    file,
                    src.line,
                    format!(
                        "Application `{app}`: Helm chart `{}` from a chart repository (not in this tree)",
                        src.s(&["chart"]).unwrap_or("")
                    ),
                );
            }
            continue;
        };
        let Some(path) = norm(raw).filter(|p| tree.has_dir(p)) else {
            b.skip(
                file,
                src.line,
                format!(
                    "Application `{app}`: path `{raw}` is not in this tree (repoURL {})",
                    src.s(&["repoURL"]).unwrap_or("?")
                ),
            );
            continue;
        };
        if src.get("plugin").is_some() {
            b.skip(
                file,
                src.line,
                format!("Application `{app}`: a config management plugin renders `{path}`; configure a command target"),
            );
            continue;
        }
        let chart = tree.files.contains_key(
            format!("{}Chart.yaml", if path.is_empty() { String::new() } else { format!("{path}/") }).as_str(),
        );
        let explicit = ["helm", "kustomize", "directory"].into_iter().find(|k| src.get(k).is_some());
        let kind = explicit.unwrap_or(if chart {
            "helm"
        } else if tree.kusts.contains_key(&path) {
            "kustomize"
        } else {
            "directory"
        });
        let name = if with_path > 1 { format!("argocd:{app}#{i}") } else { format!("argocd:{app}") };
        let mut t = Target::new(name, path.clone(), RenderKind::Kustomize, origin);
        match kind {
            "helm" => {
                let values_files = src
                    .get("helm")
                    .and_then(|h| h.get("valueFiles"))
                    .map(N::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(N::str)
                    .filter_map(|v| match v.strip_prefix('$') {
                        Some(r) => r.split_once('/').and_then(|(_, rest)| norm(rest)),
                        None => join(&path, v),
                    })
                    .collect();
                let values = src
                    .s(&["helm", "values"])
                    .map(str::to_string)
                    .or_else(|| src.at(&["helm", "valuesObject"]).map(|v| v.to_json().to_string()));
                let release = src.s(&["helm", "releaseName"]).unwrap_or(app).to_string();
                t.render = RenderKind::Helm { release, values_files, values };
            }
            "kustomize" => {
                t.name_prefix = src.s(&["kustomize", "namePrefix"]).map(str::to_string);
                t.name_suffix = src.s(&["kustomize", "nameSuffix"]).map(str::to_string);
                t.target_namespace = src.s(&["kustomize", "namespace"]).map(str::to_string);
                t.patches = inline_patches(file, src.at(&["kustomize", "patches"]));
            }
            _ => {
                let recurse = src.truthy(&["directory", "recurse"]);
                let include = src.s(&["directory", "include"]);
                let exclude = src.s(&["directory", "exclude"]);
                t.render = RenderKind::Plain;
                t.files = tree
                    .files
                    .keys()
                    .filter(|f| under(f, &path) && (recurse || parent(f) == path))
                    .filter(|f| {
                        let l = f.to_ascii_lowercase();
                        l.ends_with(".yaml") || l.ends_with(".yml") || l.ends_with(".json")
                    })
                    .filter(|f| {
                        let rel = if path.is_empty() { f.to_string() } else { f[path.len() + 1..].to_string() };
                        include.is_none_or(|g| glob(g, &rel, true)) && !exclude.is_some_and(|g| glob(g, &rel, true))
                    })
                    .filter(|f| !tree.gitops_only(f) && !b.patch_files.contains(**f))
                    .map(|f| f.to_string())
                    .collect();
                if t.files.is_empty() {
                    b.skip(file, src.line, format!("Application `{app}`: `{path}` holds only Argo CD / Flux objects"));
                    continue;
                }
            }
        }
        t.default_namespace = spec.s(&["destination", "namespace"]).map(str::to_string);
        t.declared_at = Some((file.to_string(), line));
        b.mesh(&cluster, &format!("Argo CD cluster `{cluster}`: the Applications whose destination is `{cluster}`"));
        b.add(&cluster, t);
    }
}

/// Glob match: `*` and `?` (not across `/` unless `cross`), `**` across `/`, `[...]` classes, `{a,b}`.
pub(super) fn glob(pat: &str, text: &str, cross: bool) -> bool {
    if let Some(open) = pat.find('{') {
        if let Some(close) = pat[open..].find('}').map(|c| open + c) {
            return pat[open + 1..close]
                .split(',')
                .any(|alt| glob(&format!("{}{alt}{}", &pat[..open], &pat[close + 1..]), text, cross));
        }
    }
    fn m(p: &[u8], t: &[u8], cross: bool) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') => {
                let (rest, any) = if p.get(1) == Some(&b'*') { (&p[2..], true) } else { (&p[1..], cross) };
                let rest =
                    if any && rest.first() == Some(&b'/') && p.get(1) == Some(&b'*') { &rest[1..] } else { rest };
                (0..=t.len()).any(|i| (any || !t[..i].contains(&b'/')) && m(rest, &t[i..], cross))
                    || (rest.len() < p.len() - 1 && m(&p[2..], t, cross))
            }
            Some(b'?') => !t.is_empty() && (cross || t[0] != b'/') && m(&p[1..], &t[1..], cross),
            Some(b'[') => match p.iter().position(|c| *c == b']') {
                Some(end) if !t.is_empty() => {
                    let class = &p[1..end];
                    let (neg, class) = match class.first() {
                        Some(b'^' | b'!') => (true, &class[1..]),
                        _ => (false, class),
                    };
                    let mut hit = false;
                    let mut i = 0;
                    while i < class.len() {
                        if i + 2 < class.len() && class[i + 1] == b'-' {
                            hit |= class[i] <= t[0] && t[0] <= class[i + 2];
                            i += 3;
                        } else {
                            hit |= class[i] == t[0];
                            i += 1;
                        }
                    }
                    hit != neg && m(&p[end + 1..], &t[1..], cross)
                }
                _ => false,
            },
            Some(c) => t.first() == Some(c) && m(&p[1..], &t[1..], cross),
        }
    }
    m(pat.as_bytes(), text.as_bytes(), cross)
}

/// Argo CD's `SanitizeName` (`basenameNormalized`).
fn normalize(s: &str) -> String {
    let s: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    s.trim_matches(['-', '.']).to_string()
}

type Params = serde_json::Map<String, serde_json::Value>;

fn path_params(p: &str, go: bool, file: Option<&str>) -> Params {
    let mut out = Params::new();
    let base = basename(p).to_string();
    if go {
        let mut m = Params::new();
        m.insert("path".into(), p.into());
        m.insert("basename".into(), base.clone().into());
        m.insert("basenameNormalized".into(), normalize(&base).into());
        m.insert("segments".into(), p.split('/').map(serde_json::Value::from).collect::<Vec<_>>().into());
        if let Some(f) = file {
            m.insert("filename".into(), f.into());
            m.insert("filenameNormalized".into(), normalize(f).into());
        }
        out.insert("path".into(), m.into());
    } else {
        out.insert("path".into(), p.into());
        out.insert("path.basename".into(), base.clone().into());
        out.insert("path.basenameNormalized".into(), normalize(&base).into());
        if let Some(f) = file {
            out.insert("path.filename".into(), f.into());
            out.insert("path.filenameNormalized".into(), normalize(f).into());
        }
        for (i, s) in p.split('/').enumerate().filter(|(_, s)| !s.is_empty()) {
            out.insert(format!("path[{i}]"), s.into());
        }
    }
    out
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Params) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}.{i}"), v, out);
            }
        }
        serde_json::Value::Null => {
            out.insert(prefix.to_string(), "<nil>".into());
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone().into());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string().into());
        }
    }
}

/// The parameter sets of one generator; `Err` names what is not supported.
fn generate(tree: &Tree, g: &N, go: bool) -> Result<Vec<Params>, String> {
    if let Some(list) = g.get("list") {
        return Ok(list
            .get("elements")
            .map(N::items)
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let j = e.to_json();
                if go {
                    j.as_object().cloned().unwrap_or_default()
                } else {
                    let mut out = Params::new();
                    flatten("", &j, &mut out);
                    out
                }
            })
            .collect());
    }
    if let Some(git) = g.get("git") {
        let pats = |key: &str| -> Vec<(String, bool)> {
            git.get(key)
                .map(N::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|d| Some((d.s(&["path"])?.to_string(), d.truthy(&["exclude"]))))
                .collect()
        };
        let dirs = pats("directories");
        if !dirs.is_empty() {
            return Ok(tree
                .dirs
                .iter()
                .filter(|d| !d.is_empty() && !d.split('/').any(|s| s.starts_with('.')))
                .filter(|d| {
                    dirs.iter().any(|(p, ex)| !ex && glob(p, d, false))
                        && !dirs.iter().any(|(p, ex)| *ex && glob(p, d, false))
                })
                .map(|d| path_params(d, go, None))
                .collect());
        }
        let files = pats("files");
        let mut out = Vec::new();
        for f in tree.files.keys().filter(|f| {
            files.iter().any(|(p, ex)| !ex && glob(p, f, false))
                && !files.iter().any(|(p, ex)| *ex && glob(p, f, false))
        }) {
            let Some(doc) =
                tree.docs.get(f).and_then(|d| d.first()).map(|d| d.n.to_json()).or_else(|| parse_json_file(tree, f))
            else {
                continue;
            };
            let objs = match doc {
                serde_json::Value::Array(a) => a,
                o => vec![o],
            };
            for o in objs {
                let mut p = if go {
                    o.as_object().cloned().unwrap_or_default()
                } else {
                    let mut p = Params::new();
                    flatten("", &o, &mut p);
                    p
                };
                p.extend(path_params(parent(f), go, Some(basename(f))));
                out.push(p);
            }
        }
        return Ok(out);
    }
    if let Some(mx) = g.get("matrix") {
        let gens = mx.get("generators").map(N::items).unwrap_or_default();
        let [a, c] = gens else { return Err("a matrix generator needs exactly two generators".into()) };
        let mut out = Vec::new();
        for pa in generate(tree, a, go)? {
            let c = render_n(c, &pa, go)?;
            for pc in generate(tree, &c, go)? {
                let mut m = pa.clone();
                m.extend(pc);
                out.push(m);
            }
        }
        return Ok(out);
    }
    let kind = g.entries().first().map(|(k, _)| k.as_str()).unwrap_or("?");
    Err(format!("the `{kind}` generator is not supported by discovery"))
}

/// A git-files generator's file that discovery did not parse (no needle): parsed here.
fn parse_json_file(tree: &Tree, f: &str) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(tree.files.get(f)?).ok()?;
    let s = crate::manifest::yaml::parse_stream(text, &crate::manifest::yaml::Limits::default());
    let d = s.docs.first()?;
    Some(super::tree::to_n(d, d.root?, 0).to_json())
}

fn lookup<'v>(params: &'v Params, path: &str) -> Option<&'v serde_json::Value> {
    let mut keys = path.trim_start_matches('.').split('.');
    let mut v = params.get(keys.next()?)?;
    for k in keys {
        v = v.get(k)?;
    }
    Some(v)
}

fn as_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One `{{ ... }}` action of a Go template: field paths, `index`, and the pipeline functions `lower`, `upper`,
/// `normalize`, `trim`, `default`.
fn go_action(expr: &str, params: &Params) -> Result<String, String> {
    let mut value: Option<String> = None;
    for (i, stage) in expr.split('|').map(str::trim).enumerate() {
        let words: Vec<&str> = stage.split_whitespace().collect();
        value = Some(match (i, words.as_slice()) {
            (0, [f]) if f.starts_with('.') => {
                lookup(params, f).map(as_text).ok_or_else(|| format!("no value for `{f}`"))?
            }
            (0, [s]) if s.starts_with('"') => s.trim_matches('"').to_string(),
            (0, ["index", f, n]) => {
                let v = lookup(params, f).ok_or_else(|| format!("no value for `{f}`"))?;
                let n: usize = n.parse().map_err(|_| format!("index `{n}`"))?;
                v.get(n).map(as_text).ok_or_else(|| format!("no index {n} of `{f}`"))?
            }
            (_, ["lower"]) => value.unwrap_or_default().to_lowercase(),
            (_, ["upper"]) => value.unwrap_or_default().to_uppercase(),
            (_, ["normalize"]) => normalize(&value.unwrap_or_default()),
            (_, ["trim"]) => value.unwrap_or_default().trim().to_string(),
            (_, ["default", d]) => Some(value.unwrap_or_default())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.trim_matches('"').to_string()),
            _ => return Err(format!("template expression `{{{{{expr}}}}}` is not supported by discovery")),
        });
    }
    Ok(value.unwrap_or_default())
}

/// Renders one string of an ApplicationSet template.
fn render_str(s: &str, params: &Params, go: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}").map(|c| open + c) else { break };
        out.push_str(&rest[..open]);
        let tag = &rest[open + 2..close];
        if go {
            out.push_str(&go_action(tag.trim().trim_start_matches('-').trim_end_matches('-').trim(), params)?);
        } else {
            match params.get(tag.trim()).and_then(|v| v.as_str()) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[open..close + 2]),
            }
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn render_n(n: &N, params: &Params, go: bool) -> Result<N, String> {
    let v = match &n.v {
        V::S(Some(s)) => V::S(Some(render_str(s, params, go)?)),
        V::S(None) => V::S(None),
        V::M(e) => V::M(
            e.iter()
                .map(|(k, v)| Ok((render_str(k, params, go)?, render_n(v, params, go)?)))
                .collect::<Result<_, String>>()?,
        ),
        V::L(i) => V::L(i.iter().map(|v| render_n(v, params, go)).collect::<Result<_, String>>()?),
    };
    Ok(N { v, line: n.line })
}

fn appset_targets(tree: &Tree, file: &str, d: &Doc, b: &mut Builder) {
    let go = d.n.truthy(&["spec", "goTemplate"]);
    let Some(template) = d.n.at(&["spec", "template"]) else { return };
    for g in d.n.at(&["spec", "generators"]).map(N::items).unwrap_or_default() {
        let sets = match generate(tree, g, go) {
            Ok(s) => s,
            Err(e) => {
                b.skip(file, g.line, format!("ApplicationSet `{}`: {e}", d.name()));
                continue;
            }
        };
        for p in sets {
            match render_n(template, &p, go) {
                Ok(app) => {
                    let name = app.s(&["metadata", "name"]).unwrap_or(d.name()).to_string();
                    app_targets(tree, file, d.line, &name, app.get("spec"), TargetOrigin::ArgoApplicationSet, b);
                }
                Err(e) => b.skip(file, g.line, format!("ApplicationSet `{}`: {e}", d.name())),
            }
        }
    }
}
