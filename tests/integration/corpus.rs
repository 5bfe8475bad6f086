//! Every managed document of the Tyk Operator samples reads into the typed model and writes
//! back to equal data.

use crate::support::corpus;
use std::collections::BTreeMap;
use tollgate::resources::{Kind, Resource};
use tollgate::yaml;

fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_sample_round_trips_through_the_model() {
    let mut files = Vec::new();
    yaml_files(&corpus().join("tyk-operator/samples"), &mut files);
    assert!(
        files.len() >= 110,
        "corpus not found or incomplete: {} files",
        files.len()
    );
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
    let path = corpus().join("tyk-operator/samples/legacy/config/samples/httpbin_invalid.yml");
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
