//! From published boards to timeline episodes: what changed since the last board, held until it
//! has lasted [`Tracker`]'s settle time (an agent writes the objects a moment before it writes
//! the revision it applied; a restarted watch lists one kind after another), then written as
//! episodes that open and close. Pure: no I/O; the caller passes the time.

use crate::status::Board;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::OffsetDateTime;

/// Track of the revision a cluster's agent applied.
pub const APPLIED: &str = "applied";
/// Track of a cluster's unreachable periods.
pub const UNREACHABLE: &str = "unreachable";
/// Track of one resource's sync state in a cluster.
pub const STATE: &str = "state";

/// What one line of episodes is about: a cluster-wide track (resource parts empty) or one
/// resource's state in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Track {
    pub cluster: String,
    pub track: &'static str,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Track {
    pub fn cluster(cluster: &str, track: &'static str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            track,
            kind: String::new(),
            namespace: String::new(),
            name: String::new(),
        }
    }

    /// The track named by stored columns; `None` for a track this version does not know.
    pub fn parse(
        cluster: &str,
        track: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Self> {
        let track = [APPLIED, UNREACHABLE, STATE]
            .into_iter()
            .find(|t| *t == track)?;
        Some(Self {
            cluster: cluster.to_owned(),
            track,
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// What an open episode says: the revision, `unreachable`, or the sync state; and its detail
/// (JSON of the drift and error, or the reason a cluster is unreachable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub state: String,
    pub detail: String,
}

/// A write to the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Closes the open episode of the track (if any) at `at` and opens this one from `at`.
    Open {
        track: Track,
        observation: Observation,
        at: OffsetDateTime,
    },
    /// Closes the open episode of the track at `at`.
    Close { track: Track, at: OffsetDateTime },
    /// The open episode continues with a new detail (another field drifted).
    Update { track: Track, detail: String },
}

/// The stored detail of a resource's state.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct StateDetail {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<frontend::api::DriftView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A change seen but not yet written: what is observed now, and since when it differs from the
/// record.
struct Candidate {
    observation: Option<Observation>,
    since: OffsetDateTime,
}

/// The open episodes as recorded, and the changes waiting to settle.
pub struct Tracker {
    recorded: HashMap<Track, Observation>,
    candidates: HashMap<Track, Candidate>,
    settle: Duration,
}

impl Tracker {
    /// A tracker that continues the open episodes `recorded` (loaded after a restart).
    pub fn new(recorded: HashMap<Track, Observation>, settle: Duration) -> Self {
        Self {
            recorded,
            candidates: HashMap::new(),
            settle,
        }
    }

    /// The open episodes as recorded.
    pub fn recorded(&self) -> &HashMap<Track, Observation> {
        &self.recorded
    }

    /// Closes, at `now`, the open episodes of clusters `board` does not have (removed from the
    /// configuration while Tollgate was down).
    pub fn forget_clusters(&mut self, board: &Board, now: OffsetDateTime) -> Vec<Op> {
        let known: HashSet<&str> = board.clusters.iter().map(|c| c.name.as_str()).collect();
        self.recorded
            .keys()
            .filter(|t| !known.contains(t.cluster.as_str()))
            .map(|t| Op::Close {
                track: t.clone(),
                at: now,
            })
            .collect()
    }

    /// Compares a board with the record: every difference becomes (or stays) a candidate, and
    /// a track that agrees again drops its candidate. Tracks the board cannot speak for (an
    /// unreachable cluster's cells, an agent that reported nothing yet) are left as they are.
    pub fn observe(&mut self, board: &Board, now: OffsetDateTime) {
        let mut seen: HashMap<Track, Observation> = HashMap::new();
        // Clusters whose cells, applied revision and reachability this board speaks for.
        let mut cells_in: HashSet<&str> = HashSet::new();
        let mut reach_in: HashSet<&str> = HashSet::new();
        for c in &board.clusters {
            // Before its first probe a cluster is neither reachable nor failing: nothing known.
            if c.reachable || c.error.is_some() {
                reach_in.insert(c.name.as_str());
                if !c.reachable {
                    seen.insert(
                        Track::cluster(&c.name, UNREACHABLE),
                        Observation {
                            state: UNREACHABLE.into(),
                            detail: c.error.clone().unwrap_or_default(),
                        },
                    );
                }
            }
            if c.reachable {
                cells_in.insert(c.name.as_str());
            }
            // Without an agent, the branch head is what the cluster is meant to run.
            let revision = if c.agent == "none" {
                c.head_revision.as_ref()
            } else {
                c.applied_revision.as_ref()
            };
            if let Some(revision) = revision {
                seen.insert(
                    Track::cluster(&c.name, APPLIED),
                    Observation {
                        state: revision.clone(),
                        detail: String::new(),
                    },
                );
            }
        }
        let mut unknown: HashSet<Track> = HashSet::new();
        for row in &board.rows {
            for cell in &row.cells {
                if !cells_in.contains(cell.cluster.as_str()) {
                    continue;
                }
                let track = Track {
                    cluster: cell.cluster.clone(),
                    track: STATE,
                    kind: row.kind.clone(),
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                };
                if cell.state == "unknown" {
                    unknown.insert(track);
                    continue;
                }
                let detail = StateDetail {
                    drift: if cell.state == "drifted" {
                        cell.drift.clone()
                    } else {
                        Vec::new()
                    },
                    error: cell.error.clone().filter(|_| cell.state == "failed"),
                };
                let detail = if detail.drift.is_empty() && detail.error.is_none() {
                    String::new()
                } else {
                    serde_json::to_string(&detail).unwrap_or_default()
                };
                seen.insert(
                    track,
                    Observation {
                        state: cell.state.clone(),
                        detail,
                    },
                );
            }
        }
        // What the board says of every track it speaks for: recorded ones it no longer lists
        // have ended.
        let mut now_of: Vec<(Track, Option<Observation>)> = Vec::new();
        for track in self.recorded.keys() {
            if seen.contains_key(track) || unknown.contains(track) {
                continue;
            }
            let speaks = match track.track {
                STATE => cells_in.contains(track.cluster.as_str()),
                UNREACHABLE => reach_in.contains(track.cluster.as_str()),
                _ => false,
            };
            if speaks {
                now_of.push((track.clone(), None));
            }
        }
        now_of.extend(seen.into_iter().map(|(t, o)| (t, Some(o))));
        for (track, observation) in now_of {
            if self.recorded.get(&track) == observation.as_ref() {
                self.candidates.remove(&track);
                continue;
            }
            let state = |o: &Option<Observation>| o.as_ref().map(|o| o.state.clone());
            match self.candidates.get_mut(&track) {
                Some(c) if state(&c.observation) == state(&observation) => {
                    c.observation = observation;
                }
                _ => {
                    self.candidates.insert(
                        track,
                        Candidate {
                            observation,
                            since: now,
                        },
                    );
                }
            }
        }
    }

    /// The writes for the candidates that have lasted the settle time, oldest first; the
    /// record moves only with [`Tracker::written`], once they are stored.
    pub fn settled(&self, now: OffsetDateTime) -> Vec<Op> {
        let mut ops: Vec<(OffsetDateTime, Op)> = Vec::new();
        for (track, c) in &self.candidates {
            if (now - c.since).unsigned_abs() < self.settle {
                continue;
            }
            let op = match (self.recorded.get(track), &c.observation) {
                (None, None) => continue,
                (Some(_), None) => Op::Close {
                    track: track.clone(),
                    at: c.since,
                },
                (Some(old), Some(new)) if old.state == new.state => Op::Update {
                    track: track.clone(),
                    detail: new.detail.clone(),
                },
                (_, Some(new)) => Op::Open {
                    track: track.clone(),
                    observation: new.clone(),
                    at: c.since,
                },
            };
            ops.push((c.since, op));
        }
        ops.sort_by_key(|(at, _)| *at);
        ops.into_iter().map(|(_, op)| op).collect()
    }

    /// Takes stored writes into the record.
    pub fn written(&mut self, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Open {
                    track, observation, ..
                } => {
                    self.candidates.remove(track);
                    self.recorded.insert(track.clone(), observation.clone());
                }
                Op::Close { track, .. } => {
                    self.candidates.remove(track);
                    self.recorded.remove(track);
                }
                Op::Update { track, detail } => {
                    self.candidates.remove(track);
                    if let Some(o) = self.recorded.get_mut(track) {
                        o.detail.clone_from(detail);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontend::api::{ClusterInfo, StatusCell, StatusRow};
    use std::sync::Arc;

    fn info(reachable: bool, applied: Option<&str>) -> ClusterInfo {
        ClusterInfo {
            name: "prod".into(),
            environment: "main".into(),
            reachable,
            last_seen: None,
            error: (!reachable).then(|| "connection refused".into()),
            agent: "argocd".into(),
            applied_revision: applied.map(Into::into),
            head_revision: None,
            counts: Vec::new(),
            missing_kinds: Vec::new(),
        }
    }

    fn board(reachable: bool, applied: Option<&str>, state: Option<&str>) -> Board {
        Board {
            clusters: vec![info(reachable, applied)],
            rows: state
                .map(|s| {
                    Arc::new(StatusRow {
                        kind: "ApiDefinition".into(),
                        namespace: "payments".into(),
                        name: "payments-api".into(),
                        cells: vec![StatusCell {
                            cluster: "prod".into(),
                            state: s.into(),
                            drift: Vec::new(),
                            error: None,
                            last_known: None,
                            last_seen: None,
                            applied_revision: None,
                            change: None,
                        }],
                        oas: None,
                    })
                })
                .into_iter()
                .collect(),
            ..Board::default()
        }
    }

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds)
    }

    fn run(tracker: &mut Tracker, b: &Board, t: i64) -> Vec<Op> {
        tracker.observe(b, at(t));
        let ops = tracker.settled(at(t));
        tracker.written(&ops);
        ops
    }

    #[test]
    fn a_change_is_written_once_it_lasts_with_the_time_it_began() {
        let mut t = Tracker::new(HashMap::new(), Duration::from_secs(1));
        assert!(run(&mut t, &board(true, Some("a"), Some("synced")), 0).is_empty());
        let ops = run(&mut t, &board(true, Some("a"), Some("synced")), 2);
        assert_eq!(ops.len(), 2, "{ops:?}");
        assert!(
            ops.iter()
                .all(|o| matches!(o, Op::Open { at: a, .. } if *a == at(0)))
        );
        // A blip shorter than the settle time is never written.
        assert!(run(&mut t, &board(true, Some("a"), Some("drifted")), 3).is_empty());
        assert!(run(&mut t, &board(true, Some("a"), Some("synced")), 3).is_empty());
        assert!(run(&mut t, &board(true, Some("a"), Some("synced")), 9).is_empty());
        // A new revision is.
        run(&mut t, &board(true, Some("b"), Some("synced")), 10);
        let ops = run(&mut t, &board(true, Some("b"), Some("synced")), 12);
        assert!(
            matches!(&ops[..], [Op::Open { observation, at: a, .. }] if observation.state == "b" && *a == at(10)),
            "{ops:?}"
        );
    }

    #[test]
    fn an_unreachable_cluster_keeps_its_cells_and_opens_a_period() {
        let mut t = Tracker::new(HashMap::new(), Duration::ZERO);
        run(&mut t, &board(true, Some("a"), Some("drifted")), 0);
        let ops = run(&mut t, &board(false, Some("a"), Some("unknown")), 5);
        assert!(
            matches!(&ops[..], [Op::Open { track, .. }] if track.track == UNREACHABLE),
            "{ops:?}"
        );
        let ops = run(&mut t, &board(true, Some("a"), Some("drifted")), 8);
        assert!(
            matches!(&ops[..], [Op::Close { track, .. }] if track.track == UNREACHABLE),
            "{ops:?}"
        );
        // The resource leaves Git and the cluster: its episode ends.
        let ops = run(&mut t, &board(true, Some("a"), None), 9);
        assert!(
            matches!(&ops[..], [Op::Close { track, .. }] if track.track == STATE),
            "{ops:?}"
        );
    }

    #[test]
    fn a_restart_continues_what_still_holds() {
        let mut t = Tracker::new(HashMap::new(), Duration::ZERO);
        run(&mut t, &board(true, Some("a"), Some("drifted")), 0);
        let mut again = Tracker::new(t.recorded().clone(), Duration::ZERO);
        // Not yet probed: nothing is known, nothing is closed.
        let mut unprobed = board(false, None, None);
        unprobed.clusters[0].error = None;
        assert!(run(&mut again, &unprobed, 1).is_empty());
        assert!(run(&mut again, &board(true, Some("a"), Some("drifted")), 2).is_empty());
    }
}
