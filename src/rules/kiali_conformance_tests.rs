//! Conformance with Kiali's mTLS validations: every row of `tests/fixtures/kiali/EXPECTED.md`, asserted on the
//! subject object of the Kiali fixture it names. The fixtures are copies (see `tests/fixtures/kiali/PROVENANCE.md`)
//! embedded at compile time, so these tests read nothing at run time.

#![allow(clippy::unwrap_used)]

use super::{run_all, testing};
use crate::settings::MeshSettings;

/// A fixture: its path under `tests/fixtures/kiali/` (as EXPECTED.md names it) and its text.
type Fixture = (&'static str, &'static str);

macro_rules! fixture {
    ($path:literal) => {
        ($path, include_str!(concat!("../../tests/fixtures/kiali/", $path)))
    };
}

const EXPECTED_MD: &str = include_str!("../../tests/fixtures/kiali/EXPECTED.md");

const DR_MESHWIDE_1: Fixture = fixture!("tests/data/validations/destinationrules/disabled_meshwide_checker_1.yaml");
const DR_MESHWIDE_2: Fixture = fixture!("tests/data/validations/destinationrules/disabled_meshwide_checker_2.yaml");
const DR_MESHWIDE_3: Fixture = fixture!("tests/data/validations/destinationrules/disabled_meshwide_checker_3.yaml");
const DR_MESHWIDE_4: Fixture = fixture!("tests/data/validations/destinationrules/disabled_meshwide_checker_4.yaml");
const PA_MESHWIDE_1: Fixture = fixture!("tests/data/validations/peerauthentications/disabled_meshwide_checker_1.yaml");
const PA_MESHWIDE_2: Fixture = fixture!("tests/data/validations/peerauthentications/disabled_meshwide_checker_2.yaml");
const PA_MESHWIDE_3: Fixture = fixture!("tests/data/validations/peerauthentications/disabled_meshwide_checker_3.yaml");
const PA_NSWIDE_1: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_1.yaml");
const PA_NSWIDE_2: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_2.yaml");
const PA_NSWIDE_3: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_3.yaml");
const PA_NSWIDE_4: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_4.yaml");
const PA_NSWIDE_5: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_5.yaml");
const PA_NSWIDE_6: Fixture =
    fixture!("tests/data/validations/peerauthentications/disabled_namespacewide_checker_6.yaml");
const EXAMPLE_004: Fixture = fixture!("kiali.io/static/files/validation_examples/004.yaml");
const EXAMPLE_006: Fixture = fixture!("kiali.io/static/files/validation_examples/006.yaml");
const EXAMPLE_007: Fixture = fixture!("kiali.io/static/files/validation_examples/007.yaml");
const EXAMPLE_008: Fixture = fixture!("kiali.io/static/files/validation_examples/008.yaml");
const EXAMPLE_301: Fixture = fixture!("kiali.io/static/files/validation_examples/301.yaml");
const EXAMPLE_305: Fixture = fixture!("kiali.io/static/files/validation_examples/305.yaml");
const EXAMPLE_306: Fixture = fixture!("kiali.io/static/files/validation_examples/306.yaml");
const EXAMPLE_401: Fixture = fixture!("kiali.io/static/files/validation_examples/401.yaml");

/// Every fixture a row of EXPECTED.md names.
const TABLE: &[Fixture] = &[
    DR_MESHWIDE_1,
    DR_MESHWIDE_2,
    DR_MESHWIDE_3,
    DR_MESHWIDE_4,
    PA_MESHWIDE_1,
    PA_MESHWIDE_2,
    PA_MESHWIDE_3,
    PA_NSWIDE_1,
    PA_NSWIDE_2,
    PA_NSWIDE_3,
    PA_NSWIDE_4,
    PA_NSWIDE_5,
    PA_NSWIDE_6,
    EXAMPLE_004,
    EXAMPLE_006,
    EXAMPLE_007,
    EXAMPLE_008,
    EXAMPLE_301,
    EXAMPLE_305,
    EXAMPLE_306,
    EXAMPLE_401,
];

/// Fixtures outside the table (AuthorizationPolicy and KIA0204 cases): they only have to load.
const OTHERS: &[Fixture] = &[
    fixture!("tests/data/validations/authorization/authz_policy_requires_mtls.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_1.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_10.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_101.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_11.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_12.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_13.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_14.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_15.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_16.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_17.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_18.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_19.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_2.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_20.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_21.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_22.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_23.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_3.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_4.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_5.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_6.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_7.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_71.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_8.yaml"),
    fixture!("tests/data/validations/authorization/mtls_enabled_checker_9.yaml"),
    fixture!("kiali.io/static/files/validation_examples/005.yaml"),
    fixture!("kiali.io/static/files/validation_examples/805.yaml"),
];

const DR: &str = "DestinationRule";
const PA: &str = "PeerAuthentication";

fn auto_mtls_off() -> MeshSettings {
    MeshSettings { auto_mtls: false, ..MeshSettings::default() }
}

/// The (code, severity) findings of every rule on one object of a fixture, sorted.
fn findings_on(
    fixture: Fixture,
    settings: MeshSettings,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Vec<(String, String)> {
    let mesh = testing::mesh_with(fixture.1, settings);
    let subject = (0..mesh.objects.len())
        .find(|&i| {
            let r = mesh.object_ref(i);
            r.kind == kind && r.namespace == namespace && r.name == name
        })
        .unwrap_or_else(|| panic!("{}: no {kind} {namespace}/{name}", fixture.0));
    let mut found: Vec<_> = run_all(&mesh)
        .iter()
        .filter(|f| f.subject == subject)
        .map(|f| (f.code.to_string(), f.severity.as_str().to_string()))
        .collect();
    found.sort();
    found
}

/// Asserts the findings on one object, with the default mesh settings.
fn expect(fixture: Fixture, kind: &str, namespace: &str, name: &str, expected: &[(&str, &str)]) {
    expect_with(fixture, MeshSettings::default(), kind, namespace, name, expected);
}

fn expect_with(
    fixture: Fixture,
    settings: MeshSettings,
    kind: &str,
    namespace: &str,
    name: &str,
    expected: &[(&str, &str)],
) {
    let want: Vec<_> = expected.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect();
    assert_eq!(findings_on(fixture, settings, kind, namespace, name), want, "{}: {kind} {namespace}/{name}", fixture.0);
}

#[test]
fn table_rows_are_all_asserted_here() {
    let mut rows: Vec<&str> = EXPECTED_MD
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    rows.sort_unstable();
    let mut here: Vec<&str> = TABLE.iter().map(|f| f.0).collect();
    here.sort_unstable();
    assert_eq!(rows, here);
}

#[test]
fn table_fixtures_hold_the_objects_kiali_validates() {
    for fixture in TABLE {
        let mesh = testing::mesh(fixture.1);
        assert!(!mesh.peer_authentications.is_empty() || !mesh.destination_rules.is_empty(), "{}", fixture.0);
    }
}

#[test]
fn every_fixture_loads_without_errors() {
    for fixture in TABLE.iter().chain(OTHERS) {
        let mesh = testing::mesh(fixture.1);
        assert!(mesh.schema_errors.is_empty(), "{}: {:?}", fixture.0, mesh.schema_errors);
        run_all(&mesh);
    }
}

// tests/data/validations/destinationrules

#[test]
fn dr_disabled_meshwide_1_disabling_dr_matches_disabled_mesh() {
    expect(DR_MESHWIDE_1, DR, "istio-system", "disable-mesh-mtls", &[]);
    // The DISABLE `*.local` DestinationRule covers the DISABLE mesh-wide PeerAuthentication: no TIS0503 either.
    expect(DR_MESHWIDE_1, PA, "istio-system", "disable-mesh-mtls", &[]);
}

#[test]
fn dr_disabled_meshwide_2_disabling_dr_under_strict_mesh() {
    expect(DR_MESHWIDE_2, DR, "bookinfo", "disable-mesh-mtls", &[("TIS0208", "error")]);
}

#[test]
fn dr_disabled_meshwide_3_no_mesh_pa() {
    expect(DR_MESHWIDE_3, DR, "istio-system", "mesh-enable-mtls", &[]);
}

#[test]
fn dr_disabled_meshwide_4_permissive_mesh() {
    expect(DR_MESHWIDE_4, DR, "bookinfo", "enable-mesh-mtls", &[]);
}

// tests/data/validations/peerauthentications

#[test]
fn pa_disabled_meshwide_1_covered_by_disabling_dr() {
    expect(PA_MESHWIDE_1, PA, "istio-system", "disable-mesh-mtls", &[]);
}

#[test]
fn pa_disabled_meshwide_2_enabling_dr_is_an_error() {
    expect(PA_MESHWIDE_2, PA, "istio-system", "disable-mesh-mtls", &[("TIS0503", "error")]);
}

#[test]
fn pa_disabled_meshwide_3_no_disabling_dr_is_a_warning() {
    expect(PA_MESHWIDE_3, PA, "istio-system", "disable-mesh-mtls", &[("TIS0503", "warning")]);
}

#[test]
fn pa_disabled_namespacewide_1_disabling_namespace_dr() {
    expect(PA_NSWIDE_1, PA, "bookinfo", "disable-mtls-bookinfo", &[]);
}

#[test]
fn pa_disabled_namespacewide_2_enabling_namespace_dr() {
    expect(PA_NSWIDE_2, PA, "bookinfo", "disable-mtls-bookinfo", &[("TIS0502", "error")]);
    expect(PA_NSWIDE_2, DR, "bookinfo", "bookinfo-enable-mtls", &[("TIS0206", "error")]);
}

#[test]
fn pa_disabled_namespacewide_3_disabling_mesh_dr() {
    expect(PA_NSWIDE_3, PA, "bookinfo", "disable-mtls-bookinfo", &[]);
}

#[test]
fn pa_disabled_namespacewide_4_enabling_mesh_dr() {
    expect(PA_NSWIDE_4, PA, "bookinfo", "disable-mtls-bookinfo", &[("TIS0502", "error")]);
}

#[test]
fn pa_disabled_namespacewide_5_no_dr() {
    expect(PA_NSWIDE_5, PA, "bookinfo", "disable-mtls-bookinfo", &[]);
}

#[test]
fn pa_disabled_namespacewide_6_namespace_dr_shields_from_mesh_dr() {
    expect(PA_NSWIDE_6, PA, "bookinfo", "disable-mtls-bookinfo", &[]);
}

// kiali.io/static/files/validation_examples

#[test]
fn example_004_kia0205() {
    expect(EXAMPLE_004, DR, "istio-system", "default", &[("TIS0205", "warning")]);
}

#[test]
fn example_006_kia0206() {
    expect(EXAMPLE_006, DR, "bookinfo", "enable-mtls", &[("TIS0206", "warning")]);
}

#[test]
fn example_007_kia0207() {
    expect(EXAMPLE_007, DR, "bookinfo", "disable-mtls", &[("TIS0207", "error")]);
}

#[test]
fn example_008_kia0208() {
    expect(EXAMPLE_008, DR, "bookinfo", "default", &[("TIS0208", "error")]);
}

#[test]
fn example_301_kia0501_only_without_auto_mtls() {
    expect(EXAMPLE_301, PA, "bookinfo", "default", &[]);
    expect_with(EXAMPLE_301, auto_mtls_off(), PA, "bookinfo", "default", &[("TIS0501", "error")]);
}

#[test]
fn example_305_kia0505() {
    expect(EXAMPLE_305, PA, "bookinfo", "default", &[("TIS0502", "error")]);
    expect(EXAMPLE_305, DR, "bookinfo", "enable-mtls", &[("TIS0206", "error")]);
}

#[test]
fn example_306_kia0506() {
    expect(EXAMPLE_306, PA, "istio-system", "default", &[("TIS0503", "error")]);
}

#[test]
fn example_401_kia0401_only_without_auto_mtls() {
    expect(EXAMPLE_401, PA, "istio-system", "default", &[]);
    expect_with(EXAMPLE_401, auto_mtls_off(), PA, "istio-system", "default", &[("TIS0401", "error")]);
}
