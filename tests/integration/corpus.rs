//! Every managed document of the samples reads into the typed model and writes back to equal
//! data, and validates against its CRD schemas: the project's own fixtures always, the whole
//! Tyk Operator corpus when it is there.

use crate::support::{corpus, fixtures};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tollgate::resources::{Kind, Resource};
use tollgate::yaml;

pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("samples dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
}

/// Reads every file under `dir` into the model and back: the documents per kind, and failures.
fn round_trip(dir: &Path) -> (usize, BTreeMap<Kind, usize>, Vec<String>) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("read");
        let docs = match yaml::read_all(&bytes, yaml::DEFAULT_MAX_FILE_BYTES) {
            Ok(docs) => docs,
            Err(e) => {
                failures.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        for doc in docs {
            match Resource::from_value(&doc.value) {
                Ok(None) => {}
                Ok(Some(resource)) => {
                    *counts.entry(resource.kind()).or_default() += 1;
                    let back = resource.to_value().expect("serialises");
                    if back != doc.value {
                        failures.push(format!(
                            "{}:{}: round trip changed the data",
                            file.display(),
                            doc.line
                        ));
                    }
                }
                Err(e) => failures.push(format!("{}:{}: {e}", file.display(), doc.line)),
            }
        }
    }
    (files.len(), counts, failures)
}

#[test]
fn fixture_samples_round_trip_through_the_model() {
    let (_, counts, failures) = round_trip(&fixtures().join("samples"));
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(
        counts,
        BTreeMap::from([
            (Kind::ApiDefinition, 4),
            (Kind::SecurityPolicy, 2),
            (Kind::TykOasApiDefinition, 1),
            (Kind::ConfigMap, 1),
        ])
    );
}

#[test]
fn every_corpus_sample_round_trips_through_the_model() {
    let Some(corpus) = corpus() else { return };
    let (files, counts, failures) = round_trip(&corpus.join("tyk-operator/samples"));
    assert!(files >= 110, "corpus incomplete: {files} files");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(counts.get(&Kind::ApiDefinition), Some(&112));
    assert_eq!(counts.get(&Kind::SecurityPolicy), Some(&12));
    assert_eq!(counts.get(&Kind::TykOasApiDefinition), Some(&7));
    assert_eq!(
        counts.get(&Kind::ConfigMap),
        Some(&7),
        "ConfigMaps holding OAS documents"
    );
}

#[test]
fn typed_fields_are_read_from_samples() {
    let path = fixtures().join("samples/invalid/keyless-and-standard-auth.yaml");
    let bytes = std::fs::read(path).expect("sample");
    let docs = yaml::read_all(&bytes, yaml::DEFAULT_MAX_FILE_BYTES).expect("parses");
    let Some(Resource::Api(api)) = Resource::from_value(&docs[0].value).expect("typed") else {
        panic!("an ApiDefinition");
    };
    let spec = api.spec.expect("spec");
    // The intentionally invalid sample sets both auth modes; the model reads both flags.
    assert_eq!(spec.use_keyless, Some(true));
    assert_eq!(spec.use_standard_auth, Some(true));
    assert!(spec.proxy.and_then(|p| p.target_url).is_some());
}

/// CRD schemas from a file, loaded as `validation.crd_files` loads them.
pub fn schemas(path: &Path) -> tollgate::resources::CrdSchemas {
    let text = std::fs::read_to_string(path).expect("CRD file");
    let docs = yaml::parse_trusted(&text).expect("CRD file parses");
    tollgate::resources::CrdSchemas::from_documents(&docs).expect("schemas compile")
}

/// Schema findings for every managed document under `dir`.
fn schema_failures(schemas: &tollgate::resources::CrdSchemas, dir: &Path) -> (usize, Vec<String>) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        let bytes = std::fs::read(file).expect("read");
        for doc in yaml::read_all(&bytes, yaml::DEFAULT_MAX_FILE_BYTES).expect("parses") {
            let Some(kind) = Kind::of_document(&doc.value).filter(|k| *k != Kind::ConfigMap) else {
                continue;
            };
            checked += 1;
            for issue in schemas.validate(kind, "sample", &doc.value) {
                failures.push(format!(
                    "{}:{} {}: {}",
                    file.display(),
                    doc.line,
                    issue.field,
                    issue.message
                ));
            }
        }
    }
    (checked, failures)
}

#[test]
fn fixture_samples_validate_against_the_fixture_crds() {
    let crds = schemas(&fixtures().join("crds/tyk-operator.yaml"));
    assert_eq!(
        crds.kinds(),
        vec![
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition
        ]
    );
    let (checked, failures) = schema_failures(&crds, &fixtures().join("samples"));
    assert_eq!(checked, 4 + 2 + 1);
    assert!(failures.is_empty(), "{failures:#?}");
    // The subset still refuses what the tests rely on it refusing.
    let bad = serde_json::json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "spec": {"name": "a", "protocol": "ftp", "proxy": {"target_url": "http://a", "transport": {"ssl_min_version": 999}}}});
    let mut fields: Vec<String> = crds
        .validate(Kind::ApiDefinition, "a", &bad)
        .into_iter()
        .map(|i| i.field)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["spec.protocol", "spec.proxy.transport.ssl_min_version"],
        "{fields:?}"
    );
}

/// `looping/dynamic_auth.yaml` omits `transform_headers[].act_on`, which its own CRD (and v1.x)
/// require: the API server would refuse those two documents. Every other sample validates.
fn only_known_act_on_failures(failures: &[String]) {
    let other: Vec<&String> = failures
        .iter()
        .filter(|f| {
            !(f.contains("looping/dynamic_auth.yaml")
                && f.contains("\"act_on\" is a required property"))
        })
        .collect();
    assert!(other.is_empty(), "unexpected schema failures:\n{other:#?}");
    assert_eq!(failures.len(), 2, "{failures:#?}");
}

#[test]
fn corpus_samples_validate_against_their_release_crd_schemas() {
    let Some(corpus) = corpus() else { return };
    let (crds, samples) = (
        corpus.join("tyk-operator/crds"),
        corpus.join("tyk-operator/samples"),
    );
    let legacy = schemas(&crds.join("legacy/helm/crds/crds.yaml"));
    let (checked, failures) = schema_failures(&legacy, &samples.join("legacy"));
    assert_eq!(checked, 112 + 11);
    only_known_act_on_failures(&failures);
    let develop = schemas(&crds.join("develop-pr719/helm/crds/crds.yaml"));
    let (checked, failures) = schema_failures(&develop, &samples.join("develop-pr719"));
    assert_eq!(checked, 7 + 1);
    assert!(
        failures.is_empty(),
        "{} schema failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_v1_crd_schemas_accept_the_corpus_samples() {
    let Some(corpus) = corpus() else { return };
    let v1 = schemas(&corpus.join("tyk-operator/crds/v1/crd-v1.4.2.yaml"));
    assert_eq!(
        v1.kinds(),
        vec![
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition
        ]
    );
    let samples = corpus.join("tyk-operator/samples");
    let (legacy_checked, legacy) = schema_failures(&v1, &samples.join("legacy"));
    let (develop_checked, develop) = schema_failures(&v1, &samples.join("develop-pr719"));
    assert_eq!(legacy_checked + develop_checked, 112 + 12 + 7);
    only_known_act_on_failures(&[legacy, develop].concat());
}
