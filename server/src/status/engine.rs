//! The incremental status engine: the board (every resource × every cluster) kept current one
//! cell at a time. A watch event recomputes the one cell it touches; a moved branch head, a new
//! applied revision or a change of reachability recomputes the cells of that cluster whose inputs
//! differ. Pure: no I/O, no clocks; the service feeds it and publishes its board.
//!
//! The board is a sorted vector of shared rows, so publishing a new version copies pointers, not
//! rows, and readers keep the version they hold for as long as they need it.

use crate::resources::{Kind, ResourceKey};
use crate::sync::{self, Inputs, SyncState};
use frontend::api::{ClusterInfo, DriftView, StatusCell, StatusRow};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Documents by key.
pub type Documents = HashMap<ResourceKey, Value>;

pub use crate::sync::LiveObjects;

/// One published version of the board.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub clusters: Vec<ClusterInfo>,
    /// Sorted by kind, namespace and name.
    pub rows: Vec<Arc<StatusRow>>,
    /// Cells per state, in the order of [`SyncState::ALL`].
    pub counts: [usize; 7],
    /// The same, per cluster (in cluster order).
    pub cluster_counts: Vec<[usize; 7]>,
    pub version: u64,
    pub generated_at: String,
}

/// What the engine is told about a cluster besides its live objects.
#[derive(Debug, Clone)]
pub struct ClusterInputs {
    /// Desired documents at the head of the environment's branch.
    pub head: Arc<Documents>,
    /// Desired documents at the revision the agent applied; `None` when there is no agent or
    /// its revision is unknown (the head is then taken as applied).
    pub applied: Option<Arc<Documents>>,
    pub info: ClusterInfo,
}

struct Slot {
    head: Arc<Documents>,
    applied: Option<Arc<Documents>>,
    live: LiveObjects,
    info: ClusterInfo,
}

/// The board and everything it is computed from.
pub struct Engine {
    slots: Vec<Slot>,
    board: Board,
    dirty: bool,
}

fn state_index(state: &str) -> usize {
    SyncState::ALL
        .iter()
        .position(|s| s.as_str() == state)
        .unwrap_or(SyncState::ALL.len() - 1)
}

fn row_order(row: &StatusRow, key: &ResourceKey) -> Ordering {
    (row.kind.as_str(), row.namespace.as_str(), row.name.as_str()).cmp(&(
        key.kind.as_str(),
        key.namespace.as_str(),
        key.name.as_str(),
    ))
}

fn key_order(a: &ResourceKey, b: &ResourceKey) -> Ordering {
    (a.kind.as_str(), a.namespace.as_str(), a.name.as_str()).cmp(&(
        b.kind.as_str(),
        b.namespace.as_str(),
        b.name.as_str(),
    ))
}

fn same_doc(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
        _ => false,
    }
}

/// What of a cluster's info is worth a new board version: all but last-seen time and error text.
pub fn hard(info: &ClusterInfo) -> ClusterInfo {
    ClusterInfo {
        last_seen: None,
        error: None,
        ..info.clone()
    }
}

/// The same object at the same version (a relist returns what we already have).
fn same_object(a: &Value, b: &Value) -> bool {
    let version = |v: &Value| {
        (
            v["metadata"]["uid"].as_str().map(str::to_owned),
            v["metadata"]["resourceVersion"].as_str().map(str::to_owned),
        )
    };
    let (va, vb) = (version(a), version(b));
    if va.1.is_some() && va == vb {
        return true;
    }
    a == b
}

impl Engine {
    /// An engine for these clusters, in board order; every cluster starts with nothing desired,
    /// nothing live and the reachability its info says.
    pub fn new(clusters: Vec<ClusterInfo>) -> Self {
        let slots = clusters
            .iter()
            .map(|info| Slot {
                head: Arc::default(),
                applied: None,
                live: HashMap::new(),
                info: info.clone(),
            })
            .collect();
        Self {
            slots,
            board: Board {
                cluster_counts: vec![[0; 7]; clusters.len()],
                clusters,
                ..Board::default()
            },
            dirty: true,
        }
    }

    /// The board as it stands.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// The live objects of a cluster, as last reported.
    #[cfg(test)]
    pub fn live(&self, cluster: usize) -> Option<&LiveObjects> {
        self.slots.get(cluster).map(|s| &s.live)
    }

    /// Whether anything visible changed since the last [`Engine::take_dirty`].
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A copy of the board for readers, stamped with a version and time.
    pub fn snapshot(&self, version: u64, generated_at: String) -> Board {
        Board {
            version,
            generated_at,
            ..self.board.clone()
        }
    }

    /// New desired documents, applied revision or reachability for a cluster: recomputes the
    /// cells whose inputs changed (all of them when reachability flips).
    pub fn set_inputs(&mut self, cluster: usize, inputs: ClusterInputs) {
        let Some(slot) = self.slots.get(cluster) else {
            return;
        };
        // Reachability and the kinds served change the state of many cells at once.
        let reach_changed = slot.info.reachable != inputs.info.reachable
            || slot.info.missing_kinds != inputs.info.missing_kinds;
        let head_same = Arc::ptr_eq(&slot.head, &inputs.head);
        let applied_same = match (&slot.applied, &inputs.applied) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let mut keys: Vec<ResourceKey> = Vec::new();
        if reach_changed || !head_same || !applied_same {
            let mut all: BTreeSet<&ResourceKey> = BTreeSet::new();
            all.extend(slot.head.keys());
            all.extend(inputs.head.keys());
            for docs in [&slot.applied, &inputs.applied].into_iter().flatten() {
                all.extend(docs.keys());
            }
            all.extend(slot.live.keys());
            for key in all {
                let unchanged = !reach_changed
                    && same_doc(slot.head.get(key), inputs.head.get(key))
                    && match (&slot.applied, &inputs.applied) {
                        (None, None) => true,
                        (Some(a), Some(b)) => same_doc(a.get(key), b.get(key)),
                        _ => false,
                    };
                if !unchanged {
                    keys.push(key.clone());
                }
            }
        }
        // Times and messages change every second; only a state change makes a new version.
        let info_changed = hard(&slot.info) != hard(&inputs.info);
        let slot = &mut self.slots[cluster];
        slot.head = inputs.head;
        slot.applied = inputs.applied;
        slot.info = inputs.info;
        if info_changed {
            self.board.clusters[cluster] = slot.info.clone();
            self.dirty = true;
        }
        keys.sort_by(key_order);
        for key in &keys {
            self.update(cluster, key);
        }
    }

    /// Updates what a cluster reports without touching any cell: times and messages that change
    /// every second and need no new version of the board. `true` when they changed.
    pub fn touch_info(
        &mut self,
        cluster: usize,
        last_seen: Option<String>,
        error: Option<String>,
    ) -> bool {
        let Some(slot) = self.slots.get_mut(cluster) else {
            return false;
        };
        if slot.info.last_seen == last_seen && slot.info.error == error {
            return false;
        }
        slot.info.last_seen.clone_from(&last_seen);
        slot.info.error.clone_from(&error);
        let info = &mut self.board.clusters[cluster];
        info.last_seen = last_seen;
        info.error = error;
        true
    }

    /// One watch event: the object under `key` is now `value` (`None`: deleted).
    pub fn set_live(&mut self, cluster: usize, key: ResourceKey, value: Option<Arc<Value>>) {
        let Some(slot) = self.slots.get_mut(cluster) else {
            return;
        };
        match value {
            Some(v) => {
                slot.live.insert(key.clone(), v);
            }
            None => {
                if slot.live.remove(&key).is_none() {
                    return;
                }
            }
        }
        self.update(cluster, &key);
    }

    /// A relist of one kind: the objects of `kind` are now exactly `objects`.
    pub fn replace_live(&mut self, cluster: usize, kind: Kind, objects: LiveObjects) {
        let Some(slot) = self.slots.get_mut(cluster) else {
            return;
        };
        let old: LiveObjects = slot
            .live
            .iter()
            .filter(|(k, _)| k.kind == kind)
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        slot.live.retain(|k, _| k.kind != kind);
        let mut keys: Vec<ResourceKey> = old
            .keys()
            .filter(|k| !objects.contains_key(*k))
            .cloned()
            .collect();
        for (key, value) in objects {
            if old.get(&key).is_none_or(|o| !same_object(o, &value)) {
                keys.push(key.clone());
            }
            slot.live.insert(key, value);
        }
        keys.sort_by(key_order);
        keys.dedup();
        for key in &keys {
            self.update(cluster, key);
        }
    }

    /// Recomputes every cell from scratch (what a restart would compute).
    pub fn rebuild(&mut self) {
        self.board.rows.clear();
        self.board.counts = [0; 7];
        for c in &mut self.board.cluster_counts {
            *c = [0; 7];
        }
        for cluster in 0..self.slots.len() {
            let slot = &self.slots[cluster];
            let mut keys: BTreeSet<&ResourceKey> = slot.head.keys().collect();
            keys.extend(slot.live.keys());
            if let Some(a) = &slot.applied {
                keys.extend(a.keys());
            }
            let mut keys: Vec<ResourceKey> = keys.into_iter().cloned().collect();
            keys.sort_by(key_order);
            for key in &keys {
                self.update(cluster, key);
            }
        }
        self.dirty = true;
    }

    /// Recomputes the cell of `key` in `cluster` and puts it on the board.
    fn update(&mut self, cluster: usize, key: &ResourceKey) {
        let slot = &self.slots[cluster];
        let name = slot.info.name.as_str();
        let pos = self.board.rows.binary_search_by(|r| row_order(r, key));
        let old_row = pos.ok().map(|p| &self.board.rows[p]);
        let old_cell = old_row.and_then(|r| r.cells.iter().find(|c| c.cluster == name));
        let new_cell = cell(slot, key, old_cell);
        if new_cell.as_ref() == old_cell {
            return;
        }
        if let Some(c) = old_cell {
            self.board.counts[state_index(&c.state)] -= 1;
            self.board.cluster_counts[cluster][state_index(&c.state)] -= 1;
        }
        if let Some(c) = &new_cell {
            self.board.counts[state_index(&c.state)] += 1;
            self.board.cluster_counts[cluster][state_index(&c.state)] += 1;
        }
        let mut cells: Vec<StatusCell> = old_row
            .map(|r| {
                r.cells
                    .iter()
                    .filter(|c| c.cluster != name)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if let Some(c) = new_cell {
            let order = |c: &StatusCell| {
                self.slots
                    .iter()
                    .position(|s| s.info.name == c.cluster)
                    .unwrap_or(usize::MAX)
            };
            let at = cells
                .iter()
                .position(|other| order(other) > cluster)
                .unwrap_or(cells.len());
            cells.insert(at, c);
        }
        let rows = &mut self.board.rows;
        match (pos, cells.is_empty()) {
            (Ok(p), true) => {
                rows.remove(p);
            }
            (Ok(p), false) => {
                let row = Arc::make_mut(&mut rows[p]);
                row.cells = cells;
            }
            (Err(p), false) => rows.insert(
                p,
                Arc::new(StatusRow {
                    kind: key.kind.as_str().into(),
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                    cells,
                    // Filled in by readers from the catalog.
                    oas: None,
                }),
            ),
            (Err(_), true) => {}
        }
        self.dirty = true;
    }
}

/// The cell of `key` in a cluster; `None` when neither Git nor the cluster has it.
fn cell(slot: &Slot, key: &ResourceKey, previous: Option<&StatusCell>) -> Option<StatusCell> {
    let head = slot.head.get(key);
    let applied = slot.applied.as_ref().map(|a| a.get(key));
    let live = slot.live.get(key).map(AsRef::as_ref);
    if head.is_none() && applied.flatten().is_none() {
        // Only in the cluster: an orphan, except ConfigMaps that hold no OAS document (every
        // cluster has plenty of those, none of them Tollgate's business).
        let ours = live.is_some_and(|v| {
            key.kind != Kind::ConfigMap
                || matches!(crate::resources::Resource::from_value(v), Ok(Some(_)))
        });
        if !ours {
            return None;
        }
    }
    let status = sync::status(Inputs {
        kind: key.kind,
        head,
        applied,
        live,
        reachable: slot.info.reachable,
    });
    let unknown = status.state == SyncState::Unknown;
    // Missing because the cluster cannot hold the kind at all: say so.
    let not_installed = (status.state == SyncState::Missing
        && slot
            .info
            .missing_kinds
            .iter()
            .any(|k| k == key.kind.as_str()))
    .then(|| {
        format!(
            "{} is not installed in cluster {}",
            key.kind, slot.info.name
        )
    });
    let last_known = previous.filter(|_| unknown).and_then(|c| {
        if c.state == "unknown" {
            c.last_known.clone()
        } else {
            Some(c.state.clone())
        }
    });
    Some(StatusCell {
        cluster: slot.info.name.clone(),
        state: status.state.as_str().into(),
        drift: status
            .drift
            .into_iter()
            .map(|d| DriftView {
                path: d.path,
                desired: d.desired,
                live: d.live,
                manager: d.owner.as_ref().map(|o| o.manager.clone()),
                operation: d.owner.as_ref().map(|o| o.operation.clone()),
                time: d.owner.as_ref().and_then(|o| o.time.clone()),
                actor: d
                    .owner
                    .as_ref()
                    .map(|o| format!("{:?}", o.actor).to_lowercase()),
            })
            .collect(),
        error: status.error.or(not_installed),
        last_known,
        change: None,
        last_seen: if unknown {
            previous
                .filter(|c| c.state == "unknown")
                .and_then(|c| c.last_seen.clone())
                .or_else(|| slot.info.last_seen.clone())
        } else {
            None
        },
        // Filled in by readers from the cluster: it changes for every cell at once.
        applied_revision: None,
    })
}

#[cfg(test)]
mod tests;
