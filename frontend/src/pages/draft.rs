//! Resuming a draft: an edit form opened with `?draft={id}` starts from the draft's saved edits
//! instead of the repo's version, and proposing it replaces the draft.

use crate::api::{ApiError, ChangeView, EditRequest};
use crate::data;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

/// The draft named by `?draft=`, if any.
pub(super) fn draft_resource() -> Resource<Option<Result<ChangeView, ApiError>>> {
    let query = use_query_map();
    Resource::new(
        move || {
            query
                .read()
                .get("draft")
                .and_then(|d| d.parse::<i64>().ok())
        },
        |id| async move {
            match id {
                Some(id) => Some(data::change(id).await),
                None => None,
            }
        },
    )
}

/// A draft's edit of one resource (by kind, and by namespace and name when given).
pub(super) fn edit_of<'d>(
    draft: &'d ChangeView,
    kind: &str,
    target: Option<(&str, &str)>,
) -> Option<&'d EditRequest> {
    draft.edits.iter().find(|e| {
        e.kind == kind
            && !e.delete
            && target.is_none_or(|(ns, name)| e.namespace == ns && e.name == name)
    })
}

/// A draft a resource form starts from: its document and title, and the draft to replace
/// (only when this edit is all the draft holds).
#[derive(Debug, Clone)]
pub(super) struct Resume {
    pub id: Option<i64>,
    pub title: String,
    pub doc: Value,
}

/// What a form of `kind` resumes from the loaded `?draft=`: nothing without one, its
/// document edit of that kind (if it has one), or the error loading it.
pub(super) fn resume_of(
    draft: Option<Result<ChangeView, ApiError>>,
    kind: &str,
) -> Result<Option<Resume>, ApiError> {
    let Some(draft) = draft.transpose()? else {
        return Ok(None);
    };
    Ok(edit_of(&draft, kind, None)
        .and_then(|e| e.document.clone())
        .map(|doc| Resume {
            id: (draft.edits.len() == 1).then_some(draft.id),
            title: draft.title.clone(),
            doc,
        }))
}

/// The edit form of a draft's edit: the resource's form for a whole API or policy document,
/// else the YAML editor (which resumes every kind of edit).
pub(super) fn resume_href(id: i64, edit: &EditRequest) -> String {
    use crate::data::encode;
    let (ns, name) = (encode(&edit.namespace), encode(&edit.name));
    match (edit.kind.as_str(), &edit.document) {
        ("ApiDefinition", Some(_)) => format!("/apis/{ns}/{name}/edit?draft={id}"),
        ("SecurityPolicy", Some(_)) => format!("/policies/{ns}/{name}/edit?draft={id}"),
        _ => format!("/yaml/{}/{ns}/{name}?draft={id}", encode(&edit.kind)),
    }
}

/// The text the YAML editor shows for a draft's edit: its YAML as typed, or its document (a
/// merge patch applied to the resource at the branch head) written as YAML.
pub(super) fn edit_text(edit: &EditRequest, current: Option<&Value>) -> Option<String> {
    if let Some(text) = &edit.yaml {
        return Some(text.clone());
    }
    let doc = match (&edit.document, &edit.merge_patch) {
        (Some(doc), _) => doc.clone(),
        (None, Some(patch)) => {
            let mut doc = current.cloned().unwrap_or(Value::Null);
            merge_patch(&mut doc, patch);
            doc
        }
        (None, None) => return None,
    };
    let mut out = String::new();
    write_yaml(&mut out, &doc, 0);
    Some(out)
}

/// RFC 7386: `null` removes a key, objects merge, anything else replaces.
fn merge_patch(doc: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *doc = patch.clone();
        return;
    };
    if !doc.is_object() {
        *doc = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = doc {
        for (key, value) in fields {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A scalar as YAML: strings plain when YAML 1.1 reads them back as the same string, otherwise
/// double-quoted (JSON's string syntax is YAML's).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = s
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
                );
            if plain { s.clone() } else { v.to_string() }
        }
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => true,
    }
}

/// Block-style YAML of a JSON value, `indent` spaces deep.
fn write_yaml(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                let key = scalar(&Value::String(key.clone()));
                if is_scalar(value) {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(value)));
                } else {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let deeper = if value.is_array() { indent } else { indent + 2 };
                    write_yaml(out, value, deeper);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_scalar(item) {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                } else {
                    // The item's first line goes after the dash, the rest under it.
                    let mut inner = String::new();
                    write_yaml(&mut inner, item, indent + 2);
                    let inner = inner
                        .strip_prefix(&format!("{pad}  "))
                        .unwrap_or(inner.as_str());
                    out.push_str(&format!("{pad}- {inner}"));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_become_block_yaml_with_ambiguous_strings_quoted() {
        let doc = json!({
            "apiVersion": "tyk.tyk.io/v1alpha1",
            "metadata": {"name": "orders", "labels": {}},
            "spec": {"active": true, "rate": 10, "tags": ["edge", "yes", "a b"],
                     "versions": [{"name": "Default", "paths": ["/x"]}], "empty": [],
                     "target": "http://orders:8080", "none": null}
        });
        let mut out = String::new();
        write_yaml(&mut out, &doc, 0);
        assert_eq!(
            out,
            "apiVersion: tyk.tyk.io/v1alpha1\nmetadata:\n  name: orders\n  labels: {}\nspec:\n  active: true\n  rate: 10\n  tags:\n  - edge\n  - \"yes\"\n  - \"a b\"\n  versions:\n  - name: Default\n    paths:\n    - /x\n  empty: []\n  target: \"http://orders:8080\"\n  none: null\n"
        );
    }

    #[test]
    fn merge_patches_apply_to_the_current_document() {
        let edit = EditRequest {
            kind: "ApiDefinition".into(),
            namespace: "a".into(),
            name: "b".into(),
            document: None,
            merge_patch: Some(json!({"spec": {"use_keyless": null, "rate": 5}})),
            yaml: None,
            delete: false,
        };
        let current = json!({"spec": {"use_keyless": true, "name": "B"}});
        assert_eq!(
            edit_text(&edit, Some(&current)).as_deref(),
            Some("spec:\n  name: B\n  rate: 5\n")
        );
    }
}
