//! Regenerating a change on a new base without overwriting anyone: each edit becomes a merge
//! patch against the resource at the old base, and is refused if someone else changed any field
//! it touches since.

use crate::repo::RepoIndex;
use crate::resources::{Kind, ResourceKey};
use frontend::api::EditRequest;
use serde_json::{Map, Value};

/// The RFC 7386 patch that turns `from` into `to`.
pub fn create_merge_patch(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (k, va) in a {
                match b.get(k) {
                    None => {
                        patch.insert(k.clone(), Value::Null);
                    }
                    Some(vb) if vb != va => {
                        patch.insert(k.clone(), create_merge_patch(va, vb));
                    }
                    Some(_) => {}
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    patch.insert(k.clone(), vb.clone());
                }
            }
            Value::Object(patch)
        }
        _ => to.clone(),
    }
}

/// Leaf paths a patch sets or removes.
fn touched(patch: &Value, prefix: &str, out: &mut Vec<String>) {
    match patch {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                touched(v, &path, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

fn at<'v>(doc: Option<&'v Value>, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc?, |node, key| node.get(key))
}

fn doc(index: &RepoIndex, key: &ResourceKey) -> Option<Value> {
    index.get(key).and_then(|r| r.resource.to_value().ok())
}

/// Rewrites `edits` (made against `old`) to apply on `new`; `Err` lists the fields (or
/// resources) someone else changed meanwhile.
pub fn rebase_edits(
    old: &RepoIndex,
    new: &RepoIndex,
    edits: &[EditRequest],
) -> Result<Vec<EditRequest>, Vec<String>> {
    let mut conflicts = Vec::new();
    let mut out = Vec::with_capacity(edits.len());
    for e in edits {
        let Some(kind) = Kind::parse(&e.kind) else {
            out.push(e.clone());
            continue;
        };
        let key = ResourceKey::new(kind, &e.namespace, &e.name);
        let (before, now) = (doc(old, &key), doc(new, &key));
        let label = format!("{}/{}", e.namespace, e.name);
        if e.delete {
            if before != now {
                conflicts.push(format!("{label} (deleted here, changed there)"));
            }
            out.push(e.clone());
            continue;
        }
        let parsed_yaml = e
            .yaml
            .as_deref()
            .and_then(|t| {
                crate::yaml::read_all(t.as_bytes(), crate::yaml::DEFAULT_MAX_FILE_BYTES).ok()
            })
            .and_then(|d| d.into_iter().next())
            .map(|d| d.value);
        let document = e.document.clone().or(parsed_yaml);
        let patch = match (&document, &e.merge_patch, &before) {
            (Some(document), _, Some(before)) => {
                let renamed = document["metadata"]["name"] != before["metadata"]["name"]
                    || document["metadata"]["namespace"] != before["metadata"]["namespace"];
                if renamed {
                    if before.clone() != now.clone().unwrap_or(Value::Null) {
                        conflicts.push(format!("{label} (renamed here, changed there)"));
                    }
                    out.push(e.clone());
                    continue;
                }
                create_merge_patch(before, document)
            }
            (Some(_), _, None) => {
                if now.is_some() {
                    conflicts.push(format!("{label} (created here and there)"));
                }
                out.push(e.clone());
                continue;
            }
            (None, Some(patch), _) => patch.clone(),
            (None, None, _) => {
                out.push(e.clone());
                continue;
            }
        };
        let mut fields = Vec::new();
        touched(&patch, "", &mut fields);
        for field in fields {
            if at(before.as_ref(), &field) != at(now.as_ref(), &field) {
                conflicts.push(format!("{label} {field}"));
            }
        }
        out.push(EditRequest {
            kind: e.kind.clone(),
            namespace: e.namespace.clone(),
            name: e.name.clone(),
            document: None,
            merge_patch: Some(patch),
            yaml: None,
            delete: false,
        });
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patches_round_trip() {
        let a = json!({"spec": {"a": 1, "b": {"c": 2}, "gone": true}});
        let b = json!({"spec": {"a": 1, "b": {"c": 3}, "new": "x"}});
        let patch = create_merge_patch(&a, &b);
        assert_eq!(
            patch,
            json!({"spec": {"b": {"c": 3}, "gone": null, "new": "x"}})
        );
        let mut applied = a.clone();
        json_patch::merge(&mut applied, &patch);
        assert_eq!(applied, b);
        let mut fields = Vec::new();
        touched(&patch, "", &mut fields);
        assert_eq!(fields, vec!["spec.b.c", "spec.gone", "spec.new"]);
    }
}
