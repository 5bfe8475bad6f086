//! Comparing desired with live: only what Git specifies, minus what the platform writes.

use crate::resources::Kind;
use crate::yaml::edit::{Seg, same};
use serde_json::Value;

/// One difference between desired and live.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub path: Vec<Seg>,
    pub desired: Option<Value>,
    pub live: Option<Value>,
}

impl Difference {
    /// `spec.proxy.target_url`, `spec.tags[1]`, `data["pet-store.json"]`.
    pub fn path_text(&self) -> String {
        path_text(&self.path)
    }
}

/// A path as text: keys joined by dots, list items in brackets, and keys that hold a dot, a
/// bracket or a quote as a quoted string in brackets, so [`parse_path`] reads it back exactly.
pub fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if k.is_empty() || k.contains(['.', '[', ']', '"']) => {
                out.push('[');
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(']');
            }
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Reads a path written by [`path_text`]; `None` when it is not one.
pub fn parse_path(text: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            if inner.starts_with('"') {
                // A JSON string, then `]`.
                let mut stream = serde_json::Deserializer::from_str(inner).into_iter::<String>();
                let key = stream.next()?.ok()?;
                let used = stream.byte_offset();
                rest = inner[used..].strip_prefix(']')?;
                out.push(Seg::Key(key));
            } else {
                let (index, after) = inner.split_once(']')?;
                out.push(Seg::Index(index.parse().ok()?));
                rest = after;
            }
        } else {
            let rest_key = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_key.find(['.', '[']).unwrap_or(rest_key.len());
            if end == 0 {
                return None;
            }
            out.push(Seg::Key(rest_key[..end].to_owned()));
            rest = &rest_key[end..];
        }
    }
    Some(out)
}

/// Fields the operator or its webhooks write into the spec, per kind: never drift.
pub fn ignored_paths(kind: Kind) -> &'static [&'static [&'static str]] {
    match kind {
        Kind::SecurityPolicy => &[
            &["spec", "id"],
            &["spec", "_id"],
            &["spec", "org_id"],
            &["spec", "access_rights"],
            &["spec", "access_rights_array", "*", "api_id"],
            &["spec", "access_rights_array", "*", "api_name"],
        ],
        Kind::ApiDefinition => &[&["spec", "org_id"], &["spec", "id"]],
        Kind::TykOasApiDefinition | Kind::ConfigMap => &[],
    }
}

/// Certificate ids the operator writes back next to the Secret references a user gave.
const WRITTEN_BACK: [(&str, &str); 4] = [
    ("certificates", "certificate_secret_names"),
    ("client_certificates", "client_certificate_refs"),
    ("upstream_certificates", "upstream_certificate_refs"),
    ("pinned_public_keys", "pinned_public_keys_refs"),
];

fn ignored(kind: Kind, path: &[Seg], desired_spec: &Value) -> bool {
    let matches = |pattern: &[&str]| {
        pattern.len() == path.len()
            && pattern.iter().zip(path).all(|(p, s)| match s {
                Seg::Key(k) => p == k,
                Seg::Index(_) => *p == "*",
            })
    };
    if ignored_paths(kind).iter().any(|p| matches(p)) {
        return true;
    }
    if kind == Kind::ApiDefinition
        && path.len() == 2
        && path[0] == Seg::Key("spec".into())
        && let Seg::Key(field) = &path[1]
    {
        return WRITTEN_BACK
            .iter()
            .any(|(id, refs)| field == id && !desired_spec[*refs].is_null());
    }
    false
}

/// Differences between what Git specifies (`desired`) and `live`: `metadata.labels` and
/// `metadata.annotations` keys that Git sets, and `spec` (or `data` for a ConfigMap). Keys the
/// live object has beyond Git's are not differences (server defaults, webhook defaults).
pub fn compare(kind: Kind, desired: &Value, live: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    let spec = &desired["spec"];
    let mut path = Vec::new();
    for section in ["labels", "annotations"] {
        if let Some(d) = desired["metadata"].get(section).filter(|v| !v.is_null()) {
            path.extend([Seg::Key("metadata".into()), Seg::Key(section.into())]);
            walk(
                kind,
                spec,
                d,
                live["metadata"].get(section),
                &mut path,
                &mut out,
            );
            path.clear();
        }
    }
    for top in ["spec", "data"] {
        if let Some(d) = desired.get(top).filter(|v| !v.is_null()) {
            path.push(Seg::Key(top.into()));
            walk(kind, spec, d, live.get(top), &mut path, &mut out);
            path.clear();
        }
    }
    out
}

fn walk(
    kind: Kind,
    spec: &Value,
    desired: &Value,
    live: Option<&Value>,
    path: &mut Vec<Seg>,
    out: &mut Vec<Difference>,
) {
    if desired.is_null() || ignored(kind, path, spec) {
        return;
    }
    let differ = |out: &mut Vec<Difference>, path: &[Seg]| {
        out.push(Difference {
            path: path.to_vec(),
            desired: Some(desired.clone()),
            live: live.cloned(),
        });
    };
    match (desired, live) {
        (Value::Object(d), Some(Value::Object(l))) => {
            for (k, v) in d {
                path.push(Seg::Key(k.clone()));
                walk(kind, spec, v, l.get(k), path, out);
                path.pop();
            }
        }
        // Lists of objects compare item by item (operators add keys to items); lists of
        // scalars compare whole.
        (Value::Array(d), Some(Value::Array(l)))
            if d.len() == l.len() && d.iter().all(Value::is_object) =>
        {
            for (i, (v, w)) in d.iter().zip(l).enumerate() {
                path.push(Seg::Index(i));
                walk(kind, spec, v, Some(w), path, out);
                path.pop();
            }
        }
        (_, Some(l)) if same(desired, l) => {}
        // An OAS document in a ConfigMap: compare the documents, not the strings, so the drift
        // names the fields that changed inside.
        (Value::String(d), Some(Value::String(l)))
            if kind == Kind::ConfigMap && path.len() == 2 =>
        {
            match (document(d), document(l)) {
                (Some(dv), Some(lv)) => exact(&dv, &lv, path, out),
                _ => differ(out, path),
            }
        }
        _ => differ(out, path),
    }
}

/// A ConfigMap value that holds a JSON or YAML object.
fn document(text: &str) -> Option<Value> {
    let value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        crate::yaml::parse_document(text, 1).ok()?
    };
    value.is_object().then_some(value)
}

/// Every difference between two documents, fields added and removed included.
fn exact(desired: &Value, live: &Value, path: &mut Vec<Seg>, out: &mut Vec<Difference>) {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            for (k, v) in d {
                path.push(Seg::Key(k.clone()));
                match l.get(k) {
                    Some(w) => exact(v, w, path, out),
                    None => out.push(Difference {
                        path: path.clone(),
                        desired: Some(v.clone()),
                        live: None,
                    }),
                }
                path.pop();
            }
            for (k, w) in l.iter().filter(|(k, _)| !d.contains_key(*k)) {
                path.push(Seg::Key(k.clone()));
                out.push(Difference {
                    path: path.clone(),
                    desired: None,
                    live: Some(w.clone()),
                });
                path.pop();
            }
        }
        (Value::Array(d), Value::Array(l)) if d.len() == l.len() => {
            for (i, (v, w)) in d.iter().zip(l).enumerate() {
                path.push(Seg::Index(i));
                exact(v, w, path, out);
                path.pop();
            }
        }
        _ if same(desired, live) => {}
        _ => out.push(Difference {
            path: path.clone(),
            desired: Some(desired.clone()),
            live: Some(live.clone()),
        }),
    }
}
