//! Who last set a field, from `metadata.managedFields`: the field manager, the operation and the
//! time, and whether that is the GitOps agent, the operator, or a person or tool.

use crate::yaml::edit::Seg;
use serde::Serialize;
use serde_json::Value;

/// Who a field manager is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Argo CD or Flux applying Git.
    Agent,
    /// The Tyk Operator or its webhooks.
    Operator,
    /// Anyone else: `kubectl edit`, `kubectl apply`, scripts, other controllers.
    Manual,
}

/// The last writer of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldOwner {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub time: Option<String>,
    pub actor: Actor,
}

fn actor(manager: &str) -> Actor {
    let m = manager.to_ascii_lowercase();
    if m.contains("argocd")
        || m.contains("kustomize-controller")
        || m.contains("helm-controller")
        || m.starts_with("flux")
    {
        Actor::Agent
    } else if m.contains("tyk") || m == "manager" {
        Actor::Operator
    } else {
        Actor::Manual
    }
}

/// Whether a `fieldsV1` set covers `path`. A leaf set (`{}`) owns everything below it. List
/// items are named by index (`i:0`), by key fields (`k:{"name":"a"}`) or by value (`v:"a"`);
/// the live item at the index tells which.
fn covers(fields: &Value, path: &[Seg], live: &Value) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let Some(map) = fields.as_object() else {
        return false;
    };
    let (child, next) = match first {
        Seg::Key(k) => (map.get(&format!("f:{k}")), &live[k.as_str()]),
        Seg::Index(i) => {
            let item = &live[*i];
            let named = map.iter().find(|(name, _)| {
                if let Some(index) = name.strip_prefix("i:") {
                    index.parse::<usize>().ok() == Some(*i)
                } else if let Some(keys) = name.strip_prefix("k:") {
                    serde_json::from_str::<serde_json::Map<String, Value>>(keys)
                        .is_ok_and(|keys| keys.iter().all(|(f, v)| item.get(f) == Some(v)))
                } else if let Some(value) = name.strip_prefix("v:") {
                    serde_json::from_str::<Value>(value).is_ok_and(|v| v == *item)
                } else {
                    false
                }
            });
            (named.map(|(_, v)| v), item)
        }
    };
    match child {
        Some(c) if c.as_object().is_some_and(serde_json::Map::is_empty) => true,
        Some(c) => covers(c, rest, next),
        None => false,
    }
}

/// The most recent manager whose fields cover `path` in `live`.
pub fn owner_of(live: &Value, path: &[Seg]) -> Option<FieldOwner> {
    live["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .filter(|entry| covers(&entry["fieldsV1"], path, live))
        .max_by(|a, b| {
            a["time"]
                .as_str()
                .unwrap_or_default()
                .cmp(b["time"].as_str().unwrap_or_default())
        })
        .map(|entry| {
            let manager = entry["manager"].as_str().unwrap_or("unknown").to_owned();
            FieldOwner {
                actor: actor(&manager),
                manager,
                operation: entry["operation"].as_str().unwrap_or_default().to_owned(),
                time: entry["time"].as_str().map(str::to_owned),
            }
        })
}
