//! Format-preserving edits over every sample: change one scalar field of each managed document
//! through the model, and the file's diff is exactly that one line. The project's fixtures
//! always, the whole Tyk Operator corpus when it is there.

use crate::support::{corpus, fixtures};
use serde_json::Value;
use tollgate::resources::Resource;
use tollgate::yaml::{self, edit};

/// The first single-line scalar under `spec`, depth first, with its path.
fn first_scalar(v: &Value, path: &mut Vec<String>) -> Option<Vec<String>> {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                if let Some(found) = first_scalar(child, path) {
                    return Some(found);
                }
                path.pop();
            }
            None
        }
        Value::String(s) if s.contains('\n') => None,
        Value::String(_) | Value::Bool(_) | Value::Number(_) => Some(path.clone()),
        _ => None,
    }
}

fn changed(v: &Value) -> Value {
    match v {
        Value::String(s) if s.is_empty() => Value::String("edited".into()),
        Value::String(s) => Value::String(format!("{s}-edited")),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::from(n.as_i64().map_or(1, |i| i + 1)),
        other => other.clone(),
    }
}

/// Edits one field of every managed document under `dir`: how many were edited, and failures.
fn edit_every_document(dir: &std::path::Path) -> (usize, Vec<String>) {
    let mut all = Vec::new();
    crate::corpus::yaml_files(dir, &mut all);
    let mut edited = 0;
    let mut failures = Vec::new();
    for file in &all {
        let text = std::fs::read_to_string(file).expect("utf-8 sample");
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        for seg in yaml::split(body).expect("splits") {
            let segment = &body[seg.span.clone()];
            let old = yaml::parse_document(segment, seg.start_line).expect("parses");
            let Ok(Some(resource)) = Resource::from_value(&old) else {
                continue;
            };
            // Untouched: byte-identical.
            let same = edit::edit_document(segment, &old, &resource.to_value().expect("value"))
                .expect("no-op edit");
            assert_eq!(
                same,
                segment,
                "{}: an untouched round trip changed the text",
                file.display()
            );

            let Some(path) = first_scalar(&old["spec"], &mut vec![]) else {
                continue;
            };
            let mut new = resource.to_value().expect("value");
            let mut node = &mut new["spec"];
            for key in &path {
                node = &mut node[key.as_str()];
            }
            *node = changed(node);
            let where_ = format!("{}:{} spec.{}", file.display(), seg.line, path.join("."));
            match edit::edit_document(segment, &old, &new) {
                Ok(out) => {
                    let whole = format!(
                        "{}{}{}",
                        &body[..seg.span.start],
                        out,
                        &body[seg.span.end..]
                    );
                    let (a, b): (Vec<&str>, Vec<&str>) =
                        (body.lines().collect(), whole.lines().collect());
                    let diff = a.iter().zip(&b).filter(|(x, y)| x != y).count();
                    if a.len() != b.len() || diff != 1 {
                        failures.push(format!(
                            "{where_}: {} lines changed",
                            diff + a.len().abs_diff(b.len())
                        ));
                    }
                    edited += 1;
                }
                Err(e) => failures.push(format!("{where_}: {e}")),
            }
        }
    }
    (edited, failures)
}

#[test]
fn one_field_changes_one_line_in_the_fixture_samples() {
    let (edited, failures) = edit_every_document(&fixtures().join("samples"));
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(edited, 4 + 2 + 1, "every API, policy and OAS API");
}

#[test]
fn one_field_changes_one_line_across_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let (edited, failures) = edit_every_document(&corpus.join("tyk-operator/samples"));
    assert!(
        failures.is_empty(),
        "{} of {edited} edits failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(edited >= 130, "only {edited} documents edited");
}
