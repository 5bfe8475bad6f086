//! The sync engine: for one resource in one cluster, is what runs what Git says? A pure library:
//! it takes documents (desired at the branch head, desired at the revision the GitOps agent
//! applied, live in the cluster) and returns a state, the drifted fields and who changed them.
//!
//! Comparison covers only what Git specifies, after dropping what the API server, the agent and
//! the Tyk Operator write themselves (status, server metadata, finalizers, webhook defaults,
//! ids written back), so the operator's own writes are never reported as drift.

mod attribution;
mod normalize;

pub use attribution::{Actor, FieldOwner, owner_of};
pub use normalize::{compare, ignored_paths, parse_path, path_text};

use crate::resources::Kind;

/// Live objects of a cluster by key, as the watches last reported them (shared, never copied).
pub type LiveObjects =
    std::collections::HashMap<crate::resources::ResourceKey, std::sync::Arc<Value>>;
use serde::Serialize;
use serde_json::Value;

/// The state of one resource in one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Live matches the desired state at the branch head.
    Synced,
    /// The head differs from the applied revision for this resource: not rolled out yet.
    Pending,
    /// Live differs from what Git had at the applied revision: someone changed the cluster.
    Drifted,
    /// In Git (at the applied revision), not in the cluster.
    Missing,
    /// In the cluster, not in Git.
    Orphaned,
    /// Applied, but the operator reports `latestTransaction.status: Failed`.
    Failed,
    /// The cluster cannot be reached.
    Unknown,
}

impl SyncState {
    pub const ALL: [SyncState; 7] = [
        Self::Synced,
        Self::Pending,
        Self::Drifted,
        Self::Missing,
        Self::Orphaned,
        Self::Failed,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Pending => "pending",
            Self::Drifted => "drifted",
            Self::Missing => "missing",
            Self::Orphaned => "orphaned",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

/// One field where live differs from Git, and who last set it in the cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedField {
    /// Dotted path, e.g. `spec.proxy.target_url`.
    pub path: String,
    /// What Git says (`None`: Git has the field, the cluster does not).
    pub desired: Option<Value>,
    /// What runs (`None`: the cluster lacks the field).
    pub live: Option<Value>,
    /// The field manager that last set it, from `metadata.managedFields`.
    pub owner: Option<FieldOwner>,
}

/// The verdict for one resource in one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceStatus {
    pub state: SyncState,
    /// For `drifted`: the fields that differ.
    pub drift: Vec<DriftedField>,
    /// For `failed`: the operator's error.
    pub error: Option<String>,
}

impl ResourceStatus {
    fn of(state: SyncState) -> Self {
        Self {
            state,
            drift: Vec::new(),
            error: None,
        }
    }
}

/// What is known about one resource for one cluster.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub kind: Kind,
    /// The document at the branch head of the cluster's environment.
    pub head: Option<&'a Value>,
    /// The document at the revision the agent applied; `None` inside `Some` when the resource
    /// did not exist there. With no agent (or an unknown revision) pass `None`: the head is
    /// taken as applied.
    pub applied: Option<Option<&'a Value>>,
    /// The object in the cluster.
    pub live: Option<&'a Value>,
    /// Whether the cluster is reachable (its watch is healthy).
    pub reachable: bool,
}

/// The operator's error, when its last transaction failed.
fn operator_failure(live: &Value) -> Option<String> {
    let tx = &live["status"]["latestTransaction"];
    (tx["status"].as_str() == Some("Failed")).then(|| {
        tx["error"]
            .as_str()
            .unwrap_or("the operator reported a failure")
            .to_owned()
    })
}

/// Computes the state of one resource in one cluster.
pub fn status(inputs: Inputs<'_>) -> ResourceStatus {
    if !inputs.reachable {
        return ResourceStatus::of(SyncState::Unknown);
    }
    let applied = inputs.applied.unwrap_or(inputs.head);
    match (inputs.head, applied, inputs.live) {
        (None, None, None) => ResourceStatus::of(SyncState::Synced),
        // Removed from Git at the head: pending until the agent prunes it.
        (None, Some(_), Some(_)) => ResourceStatus::of(SyncState::Pending),
        (None, _, Some(_)) => ResourceStatus::of(SyncState::Orphaned),
        (Some(_), None, None) => ResourceStatus::of(SyncState::Pending),
        (_, _, None) => ResourceStatus::of(SyncState::Missing),
        (Some(head), applied, Some(live)) => {
            // Live is as applied: `state`, unless the operator refused it.
            let applied_as = |state| match operator_failure(live) {
                Some(error) => ResourceStatus {
                    state: SyncState::Failed,
                    drift: Vec::new(),
                    error: Some(error),
                },
                None => ResourceStatus::of(state),
            };
            if compare(inputs.kind, head, live).is_empty() {
                return applied_as(SyncState::Synced);
            }
            let Some(applied) = applied else {
                // New in Git, but an object of that name already runs: not ours yet.
                return ResourceStatus::of(SyncState::Pending);
            };
            let vs_applied = compare(inputs.kind, applied, live);
            if vs_applied.is_empty() {
                // Live is what the agent applied; the head has moved on.
                return applied_as(SyncState::Pending);
            }
            let drift = vs_applied
                .into_iter()
                .map(|d| DriftedField {
                    owner: owner_of(live, &d.path),
                    path: d.path_text(),
                    desired: d.desired,
                    live: d.live,
                })
                .collect();
            ResourceStatus {
                state: SyncState::Drifted,
                drift,
                error: None,
            }
        }
    }
}

/// The commit an agent reports as applied: Argo CD's `status.sync.revision` (a SHA) or Flux's
/// `status.lastAppliedRevision` (`main@sha1:<sha>`, `sha1:<sha>`, or the older `main/<sha>`).
pub fn applied_commit(agent: &Value) -> Option<String> {
    let is_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rev) = agent["status"]["sync"]["revision"]
        .as_str()
        .filter(|r| is_sha(r))
    {
        return Some(rev.to_ascii_lowercase());
    }
    let rev = agent["status"]["lastAppliedRevision"].as_str()?;
    let tail = rev.rsplit_once('@').map_or(rev, |(_, t)| t);
    let sha = match tail.split_once(':') {
        Some((_algo, sum)) => sum,
        None => rev.rsplit_once('/').map_or(tail, |(_, s)| s),
    };
    is_sha(sha).then(|| sha.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;

/// The RFC 7386 merge patch that makes Git say what the cluster runs, for the drifted `paths`
/// (`spec.proxy.target_url`, `spec.access_rights_array[0].versions`, `data["oas.json"]`): a
/// field missing live is removed; inside a list of objects only the drifted field of the item
/// changes, so what the operator adds to items never lands in Git. Paths that do not read are
/// skipped.
pub fn adopt_patch(desired: &Value, live: &Value, paths: &[String]) -> Value {
    use crate::yaml::edit::Seg;
    let mut patch = Value::Object(serde_json::Map::new());
    let mut lists: std::collections::BTreeMap<String, (Vec<Seg>, Value)> =
        std::collections::BTreeMap::new();
    for segs in paths.iter().filter_map(|p| parse_path(p)) {
        match segs.iter().position(|s| matches!(s, Seg::Index(_))) {
            Some(i) => {
                let (list_path, tail) = segs.split_at(i);
                let Some((Seg::Index(index), inner)) = tail.split_first() else {
                    continue;
                };
                let (_, list) = lists.entry(path_text(list_path)).or_insert_with(|| {
                    (
                        list_path.to_vec(),
                        at(desired, list_path).cloned().unwrap_or(Value::Null),
                    )
                });
                let live_item = at(live, list_path).and_then(|l| l.get(*index));
                if let Some(item) = list.get_mut(*index) {
                    if inner.is_empty() {
                        *item = live_item.cloned().unwrap_or(Value::Null);
                    } else {
                        set(item, inner, live_item.and_then(|i| at(i, inner)).cloned());
                    }
                }
            }
            None => {
                let value = at(live, &segs).cloned().unwrap_or(Value::Null);
                set(&mut patch, &segs, Some(value));
            }
        }
    }
    for (path, list) in lists.into_values() {
        set(&mut patch, &path, Some(list));
    }
    patch
}

/// The value at a path written by [`path_text`]; `None` when the path does not read or the
/// value is absent.
pub fn value_at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    at(v, &parse_path(path)?)
}

fn at<'v>(v: &'v Value, path: &[crate::yaml::edit::Seg]) -> Option<&'v Value> {
    use crate::yaml::edit::Seg;
    path.iter().try_fold(v, |node, seg| match seg {
        Seg::Key(k) => node.get(k),
        Seg::Index(i) => node.get(i),
    })
}

/// Sets (or with `None` removes) the field at a path of keys; a path through a list item is
/// left alone.
fn set(v: &mut Value, path: &[crate::yaml::edit::Seg], value: Option<Value>) {
    use crate::yaml::edit::Seg;
    let mut keys = Vec::with_capacity(path.len());
    for seg in path {
        match seg {
            Seg::Key(k) => keys.push(k.as_str()),
            Seg::Index(_) => return,
        }
    }
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = v;
    for key in parents {
        if !node.get(*key).is_some_and(Value::is_object) {
            node[*key] = Value::Object(serde_json::Map::new());
        }
        node = &mut node[*key];
    }
    match (node.as_object_mut(), value) {
        (Some(map), Some(value)) => {
            map.insert((*last).to_owned(), value);
        }
        (Some(map), None) => {
            map.remove(*last);
        }
        (None, _) => {}
    }
}
