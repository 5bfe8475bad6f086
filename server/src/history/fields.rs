//! Field-level diff of two versions of a document: every leaf that differs, with its path, its
//! value before and after. Pure: no git, no database.

use crate::sync::path_text;
use crate::yaml::edit::{Seg, same};
use frontend::api::history::FieldChange;
use serde_json::Value;

/// The fields that differ from `old` to `new` (either may be absent: a created or deleted
/// document). Objects are compared key by key, lists of the same length item by item; a list
/// whose length changed is one change. An object present on one side only is listed by its
/// leaves, so the paths line up with later edits of the same fields.
pub fn diff(old: Option<&Value>, new: Option<&Value>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(&mut Vec::new(), old, new, &mut out);
    out
}

fn walk(path: &mut Vec<Seg>, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (None, None) => {}
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, v) in a {
                path.push(Seg::Key(k.clone()));
                walk(path, Some(v), b.get(k), out);
                path.pop();
            }
            for (k, v) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                path.push(Seg::Key(k.clone()));
                walk(path, None, Some(v), out);
                path.pop();
            }
        }
        (Some(Value::Object(a)), None) if !a.is_empty() => {
            for (k, v) in a {
                path.push(Seg::Key(k.clone()));
                walk(path, Some(v), None, out);
                path.pop();
            }
        }
        (None, Some(Value::Object(b))) if !b.is_empty() => {
            for (k, v) in b {
                path.push(Seg::Key(k.clone()));
                walk(path, None, Some(v), out);
                path.pop();
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                walk(path, Some(v), Some(w), out);
                path.pop();
            }
        }
        (Some(a), Some(b)) if same(a, b) => {}
        (old, new) => out.push(FieldChange {
            path: path_text(path),
            from: old.cloned(),
            to: new.cloned(),
        }),
    }
}

fn set(node: &mut Value, keys: &[&str], value: Value) {
    let Some((first, rest)) = keys.split_first() else {
        *node = value;
        return;
    };
    if !node.is_object() {
        *node = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = node {
        let child = map.entry((*first).to_owned()).or_insert(Value::Null);
        set(child, rest, value);
    }
}

/// Whether two field paths touch the same field: equal, or one inside the other.
pub fn overlap(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner.len() > outer.len()
            && inner.starts_with(outer)
            && matches!(inner.as_bytes()[outer.len()], b'.' | b'[')
    };
    a == b || inside(a, b) || inside(b, a)
}

/// A JSON merge patch that sets each path in `paths` to its value in `target` (or removes it
/// when `target` lacks it). A path into a list sets the whole list: merge patches cannot
/// address list items.
pub fn merge_patch(target: &Value, paths: &[Vec<Seg>]) -> Value {
    let mut patch = Value::Object(serde_json::Map::new());
    for path in paths {
        let keys: Vec<&str> = path
            .iter()
            .map_while(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect();
        if keys.is_empty() {
            continue;
        }
        let mut value = Some(target);
        for k in &keys {
            value = value.and_then(|v| v.get(*k));
        }
        set(&mut patch, &keys, value.cloned().unwrap_or(Value::Null));
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_field() {
        let a = json!({"spec": {"proxy": {"target_url": "a", "listen_path": "/x"}}});
        let b = json!({"spec": {"proxy": {"target_url": "b", "listen_path": "/x"}}});
        let d = diff(Some(&a), Some(&b));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "spec.proxy.target_url");
        assert_eq!(
            (d[0].from.clone(), d[0].to.clone()),
            (Some(json!("a")), Some(json!("b")))
        );
    }

    #[test]
    fn created_lists_leaves_and_lists_change_whole() {
        let b = json!({"spec": {"name": "n", "tags": ["a"]}});
        let d = diff(None, Some(&b));
        let paths: Vec<_> = d.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["spec.name", "spec.tags"]);
        let c = json!({"spec": {"name": "n", "tags": ["a", "b"]}});
        let d = diff(Some(&b), Some(&c));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "spec.tags");
    }

    #[test]
    fn overlaps() {
        assert!(overlap("spec.proxy", "spec.proxy.target_url"));
        assert!(overlap("spec.tags[1]", "spec.tags"));
        assert!(!overlap("spec.proxy", "spec.proxyx"));
    }

    #[test]
    fn patch_sets_and_removes() {
        let target = json!({"spec": {"a": 1, "tags": ["x"]}});
        let paths = vec![
            crate::sync::parse_path("spec.a").unwrap(),
            crate::sync::parse_path("spec.b").unwrap(),
            crate::sync::parse_path("spec.tags[0]").unwrap(),
        ];
        assert_eq!(
            merge_patch(&target, &paths),
            json!({"spec": {"a": 1, "b": null, "tags": ["x"]}})
        );
    }
}
