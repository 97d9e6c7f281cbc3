//! The JSON Schema (draft 2020-12) of the project config file `.mtls-review.yaml`, printed by
//! `mtls-review config schema` and kept as `docs/mtls-review.schema.json` for editors (yaml-language-server:
//! `# yaml-language-server: $schema=<that file's raw URL>`). The tests below hold it to what
//! `rules::parse_project_config` accepts.

use serde_json::{Value, json};

/// Keys the schema describes that the config parser of this build does not read yet (`meshes:` arrives with the
/// multi-mesh targets); a test fails as soon as the parser accepts one, so the list stays true.
pub const NOT_YET_PARSED: &[&str] = &[];

/// The schema as a JSON value; keys in a fixed order.
pub fn config_schema() -> Value {
    let render = json!({
        "description": "How the target's manifests are produced: `plain` reads the files, `kustomize` runs `kustomize build`, `helm` runs `helm template`, `command` runs `command`.",
        "enum": ["kustomize", "plain", "command", "helm"]
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/mtls-review.schema.json"),
        "title": ".mtls-review.yaml",
        "description": "The mtls-review project config. In a change review it is read from the base side, so a change cannot silence its own findings. Unknown keys are an error.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "root_namespace": {
                "description": "The mesh's root namespace (Istio's rootNamespace). Default: a mesh config found in the tree, else istio-system.",
                "type": "string", "minLength": 1, "examples": ["istio-system"]
            },
            "cluster_domain": {
                "description": "The cluster's DNS domain. Default: cluster.local.",
                "type": "string", "minLength": 1, "examples": ["cluster.local"]
            },
            "auto_mtls": {
                "description": "Whether Istio's auto mTLS is on (meshConfig enableAutoMtls). Default: true.",
                "type": "boolean", "examples": [true]
            },
            "istio_version": {
                "description": "The Istio release the mesh runs (`1.24`, `1.24.3`; quote it: YAML reads 1.30 as 1.3). Where Istio's behaviour changed between releases (DestinationRule merging by exportTo from 1.24, `sidecar.istio.io/inject` values from 1.27) the analysis follows that release. Default: the current release, 1.30.",
                "type": "string", "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?(-[0-9A-Za-z.]+)?$", "examples": ["1.30", "1.24.3"]
            },
            "suggest_mode": {
                "description": "Mode of the PeerAuthentications that fixes add or edit. Default: permissive.",
                "enum": ["permissive", "strict", "PERMISSIVE", "STRICT"], "examples": ["permissive"]
            },
            "fail_on": {
                "description": "Lowest severity that fails the run (exit code 1) and the check. Default: error.",
                "enum": ["error", "warning", "note", "never"], "examples": ["error"]
            },
            "ignore": {
                "description": "Rule codes to ignore.",
                "type": "array", "items": {"type": "string", "pattern": "^[A-Z]+[0-9]+$"}, "examples": [["TIS0205"]]
            },
            "paths": {
                "description": "Subtrees to scan, relative to the repository root (or the scanned root).",
                "type": "array", "items": {"type": "string", "minLength": 1}, "examples": [["clusters/prod"]]
            },
            "meshes": {
                "description": "Several meshes (clusters) in one repository, each analyzed on its own.",
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "targets"],
                    "properties": {
                        "name": {"description": "The mesh's name in reports.", "type": "string", "minLength": 1},
                        "targets": {
                            "description": "Where the mesh's manifests come from.",
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["path"],
                                "properties": {
                                    "path": {"description": "A file or directory, relative to the repository root.", "type": "string", "minLength": 1},
                                    "render": render,
                                    "namespace": {"description": "Namespace of objects that name none.", "type": "string", "minLength": 1},
                                    "command": {"description": "With `render: command`: the command that prints the manifests.", "type": "string", "minLength": 1}
                                }
                            }
                        },
                        "root_namespace": {"description": "This mesh's root namespace.", "type": "string", "minLength": 1},
                        "cluster_domain": {"description": "This mesh's cluster DNS domain.", "type": "string", "minLength": 1},
                        "auto_mtls": {"description": "Whether auto mTLS is on in this mesh.", "type": "boolean"},
                        "istio_version": {"description": "The Istio release this mesh runs (as the top-level `istio_version`).", "type": "string", "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?(-[0-9A-Za-z.]+)?$"},
                        "default_namespace": {"description": "Namespace of objects that name none (default: default).", "type": "string", "minLength": 1}
                    }
                },
                "examples": [[{"name": "prod", "targets": [{"path": "clusters/prod", "render": "kustomize"}]}]]
            }
        }
    })
}

/// The schema as printed: pretty JSON and a final newline.
pub fn config_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&config_schema()).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_project_config;

    fn properties() -> serde_json::Map<String, Value> {
        config_schema()["properties"].as_object().cloned().unwrap_or_default()
    }

    fn yaml_of(key: &str, value: &Value) -> String {
        // JSON is YAML: `key: <json>` is a valid one-key config.
        format!("{key}: {value}\n")
    }

    #[test]
    fn every_example_and_enum_value_of_every_parsed_key_is_accepted() {
        let props = properties();
        assert!(props.len() >= 8, "schema lost keys: {:?}", props.keys());
        let mut checked = 0;
        for (key, spec) in &props {
            if NOT_YET_PARSED.contains(&key.as_str()) {
                continue;
            }
            let mut values: Vec<Value> = spec["examples"].as_array().cloned().unwrap_or_default();
            values.extend(spec["enum"].as_array().cloned().unwrap_or_default());
            assert!(!values.is_empty(), "{key} has no example");
            for v in values {
                let text = yaml_of(key, &v);
                assert!(parse_project_config("c.yaml", &text).is_ok(), "schema allows `{text}`, parser refuses it");
                checked += 1;
            }
        }
        assert!(checked >= 14);
    }

    #[test]
    fn keys_the_schema_lacks_are_refused_by_both() {
        assert_eq!(config_schema()["additionalProperties"], json!(false));
        for key in ["rootNamespace", "fail-on", "unknown"] {
            assert!(!properties().contains_key(key));
            assert!(parse_project_config("c.yaml", &format!("{key}: x\n")).is_err(), "{key} accepted");
        }
    }

    #[test]
    fn values_outside_the_schema_are_refused_by_the_parser() {
        for text in [
            "fail_on: sometimes\n",
            "suggest_mode: disable\n",
            "auto_mtls: [1]\n",
            "ignore: TIS0205\n",
            "istio_version: 1.24\n",
            "istio_version: \"2.0\"\n",
            "istio_version: latest\n",
        ] {
            assert!(parse_project_config("c.yaml", text).is_err(), "parser accepts `{text}`");
        }
    }

    #[test]
    fn not_yet_parsed_keys_are_really_not_parsed() {
        // When the parser learns one of these keys, remove it from NOT_YET_PARSED so the tests above cover it.
        for key in NOT_YET_PARSED {
            let example = &properties()[*key]["examples"][0];
            assert!(
                parse_project_config("c.yaml", &yaml_of(key, example)).is_err(),
                "the parser reads `{key}` now: remove it from schema::NOT_YET_PARSED"
            );
        }
    }

    #[test]
    fn the_published_schema_file_is_the_printed_one() {
        let file = include_str!("../docs/mtls-review.schema.json");
        assert_eq!(file, config_schema_text(), "regenerate: mtls-review config schema > docs/mtls-review.schema.json");
    }
}
