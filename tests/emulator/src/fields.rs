//! `metadata.managedFields`: which field manager owns which fields, in the `FieldsV1` format
//! (`{"f:spec": {"f:proxy": {"f:target_url": {}}}}`). Lists are owned whole.

use crate::store::now;
use serde_json::{Map, Value, json};

/// Metadata the server owns; never part of a manager's field set.
const SERVER_METADATA: [&str; 9] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "selfLink",
];

/// The field set of an object (everything but apiVersion, kind and server metadata).
pub fn fields_of(obj: &Value) -> Value {
    let mut out = Map::new();
    if let Some(map) = obj.as_object() {
        for (k, v) in map {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            if k == "metadata" {
                let meta: Map<String, Value> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(mk, _)| !SERVER_METADATA.contains(&mk.as_str()))
                    .map(|(mk, mv)| (format!("f:{mk}"), leaf_set(mv)))
                    .collect();
                if !meta.is_empty() {
                    out.insert("f:metadata".into(), Value::Object(meta));
                }
                continue;
            }
            out.insert(format!("f:{k}"), leaf_set(v));
        }
    }
    Value::Object(out)
}

fn leaf_set(v: &Value) -> Value {
    match v {
        Value::Object(m) if !m.is_empty() => Value::Object(
            m.iter()
                .map(|(k, x)| (format!("f:{k}"), leaf_set(x)))
                .collect(),
        ),
        _ => json!({}),
    }
}

/// Fields whose value in `new` differs from `old` (new or changed leaves).
pub fn changed_fields(old: &Value, new: &Value) -> Value {
    fn walk(old: Option<&Value>, new: &Value) -> Option<Value> {
        match (old, new) {
            (Some(Value::Object(o)), Value::Object(n)) if !n.is_empty() => {
                let m: Map<String, Value> = n
                    .iter()
                    .filter_map(|(k, v)| walk(o.get(k), v).map(|s| (format!("f:{k}"), s)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            (Some(o), n) if o == n => None,
            (_, n) => Some(leaf_set(n)),
        }
    }
    let mut out = Map::new();
    if let Some(n) = new.as_object() {
        for (k, v) in n {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            if k == "metadata" {
                let o = &old["metadata"];
                let meta: Map<String, Value> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(mk, _)| !SERVER_METADATA.contains(&mk.as_str()))
                    .filter_map(|(mk, mv)| walk(o.get(mk), mv).map(|s| (format!("f:{mk}"), s)))
                    .collect();
                if !meta.is_empty() {
                    out.insert("f:metadata".into(), Value::Object(meta));
                }
                continue;
            }
            if let Some(s) = walk(old.get(k), v) {
                out.insert(format!("f:{k}"), s);
            }
        }
    }
    Value::Object(out)
}

fn is_leaf(v: &Value) -> bool {
    v.as_object().is_none_or(Map::is_empty)
}

/// Removes the leaves of `remove` from `set`, pruning emptied branches.
pub fn subtract(set: &mut Value, remove: &Value) {
    let (Some(s), Some(r)) = (set.as_object_mut(), remove.as_object()) else {
        return;
    };
    for (k, rv) in r {
        let Some(sv) = s.get_mut(k) else { continue };
        if is_leaf(rv) || is_leaf(sv) {
            s.remove(k);
        } else {
            subtract(sv, rv);
            if is_leaf(sv) {
                s.remove(k);
            }
        }
    }
}

/// Adds the leaves of `add` to `set`.
pub fn union(set: &mut Value, add: &Value) {
    if let (Some(s), Some(a)) = (set.as_object_mut(), add.as_object()) {
        for (k, av) in a {
            match s.get_mut(k) {
                Some(sv) if !is_leaf(av) && !is_leaf(sv) => {
                    union(sv, av);
                }
                Some(sv) => *sv = av.clone(),
                None => {
                    s.insert(k.clone(), av.clone());
                }
            }
        }
    }
}

/// Records a write by `manager`: `owned` moves to the manager's entry (for `Apply` it becomes
/// the manager's whole set) and leaves every other entry.
pub fn record(
    obj: &mut Value,
    manager: &str,
    operation: &str,
    subresource: Option<&str>,
    owned: &Value,
) {
    let mut entries: Vec<Value> = obj["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let is_mine = |e: &Value| {
        e["manager"] == manager
            && e["operation"] == operation
            && e["subresource"].as_str() == subresource
    };
    let mut mine = entries
        .iter()
        .find(|e| is_mine(e))
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or_else(|| json!({}));
    entries.retain(|e| !is_mine(e));
    for e in &mut entries {
        let mut set = e["fieldsV1"].clone();
        subtract(&mut set, owned);
        e["fieldsV1"] = set;
    }
    entries.retain(|e| e["fieldsV1"].as_object().is_some_and(|m| !m.is_empty()));
    if operation == "Apply" {
        mine = owned.clone();
    } else {
        union(&mut mine, owned);
    }
    if mine.as_object().is_some_and(|m| !m.is_empty()) {
        let mut entry = json!({
            "manager": manager,
            "operation": operation,
            "apiVersion": obj["apiVersion"].clone(),
            "time": now(),
            "fieldsType": "FieldsV1",
            "fieldsV1": mine,
        });
        if let Some(sub) = subresource {
            entry["subresource"] = json!(sub);
        }
        entries.push(entry);
    }
    obj["metadata"]["managedFields"] = Value::Array(entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_moves_to_the_last_writer() {
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v", "j": "w"}});
        let all = fields_of(&obj);
        assert_eq!(
            all,
            json!({"f:metadata": {"f:labels": {"f:x": {}}}, "f:data": {"f:k": {}, "f:j": {}}})
        );
        record(&mut obj, "argocd-controller", "Apply", None, &all);
        let mut edited = obj.clone();
        edited["data"]["k"] = json!("changed");
        let changed = changed_fields(&obj, &edited);
        assert_eq!(changed, json!({"f:data": {"f:k": {}}}));
        record(&mut edited, "kubectl-edit", "Update", None, &changed);
        let entries = edited["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:x": {}}}, "f:data": {"f:j": {}}})
        );
        assert_eq!(
            (
                entries[1]["manager"].as_str(),
                entries[1]["fieldsV1"].clone()
            ),
            (Some("kubectl-edit"), json!({"f:data": {"f:k": {}}}))
        );
    }
}
