//! The cluster timeline: what the status engine observed, kept in the database as episodes with
//! a start and an end — the revision each cluster's agent applied, each resource's sync state
//! (drift with its fields and field managers, failures with the operator's error), and the
//! periods a cluster could not be reached. From it: what ran in a cluster at any time, when a
//! commit went live in each cluster, and the activity feed.
//!
//! A recorder task reads the published boards (never the engine itself), compares each with the
//! record and writes only what changed, in one transaction per pass, so the engine never waits
//! on the database. After a restart the open episodes are read back: one that still holds
//! continues, one that no longer does is closed when the new process first sees otherwise.

pub mod observe;
pub mod store;

use crate::db::{Db, DbError};
use crate::error::{Code, Error};
use crate::resources::Kind;
use crate::status::StatusService;
use frontend::api::timeline::{
    ActivityItem, ActivityPage, ActivityQuery, LiveAt, LiveIn, LiveReport,
};
use frontend::api::{ChangeRef, ResourceRef};
use observe::{APPLIED, STATE, StateDetail, Track, Tracker, UNREACHABLE};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// How long a change must last before it is written: longer than the moment between an agent
/// writing the objects and writing the revision it applied, or between a watch's lists.
pub const SETTLE: Duration = Duration::from_millis(1500);
/// How often the recorder looks at the board besides new versions.
const TICK: Duration = Duration::from_millis(250);
/// Activity items per page when none is asked, and the most.
pub const ACTIVITY_PER_PAGE: usize = 50;
const ACTIVITY_MAX_PER_PAGE: usize = 200;
/// How deep the activity feed pages.
const ACTIVITY_DEPTH: usize = 10_000;

fn db_err(e: DbError) -> Error {
    Error::new(Code::DatabaseUnavailable, "the database is unavailable").detail(e)
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// The timeline's reads, and its recorder.
pub struct TimelineService {
    db: Db,
    /// The configured clusters, in configuration order.
    clusters: Vec<String>,
    /// Announces each stored batch (its number), for live pages.
    tx: broadcast::Sender<u64>,
    batches: AtomicU64,
    settle: Duration,
}

impl TimelineService {
    pub fn new(db: Db, clusters: Vec<String>) -> Self {
        Self {
            db,
            clusters,
            tx: broadcast::channel(64).0,
            batches: AtomicU64::new(0),
            settle: SETTLE,
        }
    }

    /// A number for every batch of episodes stored.
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Records what the status engine publishes, until the task is stopped. A failed write is
    /// logged and tried again at the next look; nothing is lost but the moment it is stored.
    pub async fn record(self: Arc<Self>, status: Arc<StatusService>) {
        let recorded = loop {
            match store::open(&self.db).await {
                Ok(r) => break r,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the open timeline episodes; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        };
        let mut tracker = Tracker::new(recorded, self.settle);
        let mut gone = tracker.forget_clusters(&status.current(), OffsetDateTime::now_utc());
        let mut versions = status.subscribe();
        let mut last = None;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                v = versions.recv() => {
                    if matches!(v, Err(broadcast::error::RecvError::Closed)) {
                        return;
                    }
                }
                _ = tick.tick() => {}
            }
            let now = OffsetDateTime::now_utc();
            let board = status.current();
            // A board that says what the last one said changes no candidate: only time passes.
            let seen = looked_at(&board);
            if last.as_ref() != Some(&seen) {
                tracker.observe(&board, now);
                last = Some(seen);
            }
            let mut ops = std::mem::take(&mut gone);
            ops.extend(tracker.settled(now));
            if ops.is_empty() {
                continue;
            }
            match store::apply(&self.db, &ops).await {
                Ok(()) => {
                    tracker.written(&ops);
                    let n = self.batches.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = self.tx.send(n);
                }
                Err(e) => {
                    tracing::warn!(error = %e, writes = ops.len(), "cannot store the cluster timeline; retrying")
                }
            }
        }
    }

    /// `GET …/live?cluster=&at=`: what each cluster (or the one asked) ran of a resource at a
    /// time: the applied revision, the resource's state and drift, reachability.
    pub async fn live_at(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        cluster: Option<&str>,
        at: Option<&str>,
    ) -> Result<LiveReport, Error> {
        let kind = Kind::parse(kind).ok_or_else(|| {
            Error::new(
                Code::UnknownKind,
                format!("unknown kind `{kind}`; expected ApiDefinition, SecurityPolicy, TykOasApiDefinition or ConfigMap"),
            )
        })?;
        let at = match at.filter(|a| !a.is_empty()) {
            None => OffsetDateTime::now_utc(),
            Some(text) => parse_time(text).ok_or_else(|| {
                Error::new(
                    Code::InvalidQuery,
                    format!(
                        "`at` must be an RFC 3339 time such as 2026-11-28T14:05:00Z, not `{text}`"
                    ),
                )
                .at("at")
            })?,
        };
        let clusters: Vec<String> = match cluster.filter(|c| !c.is_empty()) {
            Some(c) if self.clusters.iter().any(|k| k == c) => vec![c.to_owned()],
            Some(c) => {
                return Err(
                    Error::new(Code::NotFound, format!("no cluster named `{c}`")).at("cluster"),
                );
            }
            None => self.clusters.clone(),
        };
        let stamp = store::stamp(at);
        let mut out = Vec::with_capacity(clusters.len());
        for cluster in clusters {
            let applied = store::covering(&self.db, &Track::cluster(&cluster, APPLIED), &stamp)
                .await
                .map_err(db_err)?;
            let away = store::covering(&self.db, &Track::cluster(&cluster, UNREACHABLE), &stamp)
                .await
                .map_err(db_err)?;
            let track = Track {
                cluster: cluster.clone(),
                track: STATE,
                kind: kind.as_str().to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            };
            let state = store::covering(&self.db, &track, &stamp)
                .await
                .map_err(db_err)?;
            let detail: StateDetail = state
                .as_ref()
                .and_then(|s| serde_json::from_str(&s.detail).ok())
                .unwrap_or_default();
            out.push(LiveAt {
                cluster,
                revision: applied.as_ref().map(|a| a.state.clone()),
                revision_since: applied.map(|a| a.started_at),
                state: state.as_ref().map(|s| s.state.clone()),
                state_since: state.map(|s| s.started_at),
                drift: detail.drift,
                error: detail.error,
                reachable: away.is_none(),
            });
        }
        Ok(LiveReport {
            kind: kind.as_str().to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            at: stamp,
            clusters: out,
        })
    }

    /// `GET /api/v1/activity`: changes proposed and merged, rollouts, drift episodes, failures
    /// and unreachable periods, newest first.
    pub async fn activity(&self, q: &ActivityQuery) -> Result<ActivityPage, Error> {
        let per_page = q
            .per_page
            .unwrap_or(ACTIVITY_PER_PAGE)
            .clamp(1, ACTIVITY_MAX_PER_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        if page.saturating_mul(per_page) > ACTIVITY_DEPTH {
            return Err(Error::new(
                Code::InvalidQuery,
                format!(
                    "the feed pages back {ACTIVITY_DEPTH} items at most; ask for an earlier page"
                ),
            )
            .at("page"));
        }
        let namespace = q.namespace.as_deref().unwrap_or("").trim();
        let cluster = q.cluster.as_deref().unwrap_or("").trim();
        let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => "",
            Some(k) => Kind::parse(k)
                .ok_or_else(|| {
                    Error::new(Code::UnknownKind, format!("unknown kind `{k}`; expected ApiDefinition, SecurityPolicy, TykOasApiDefinition or ConfigMap"))
                        .at("kind")
                })?
                .as_str(),
        };
        let limit = (page * per_page + 1) as i64;
        let mut items: Vec<(OffsetDateTime, i64, ActivityItem)> = Vec::new();
        for e in store::activity(&self.db, namespace, kind, cluster, limit)
            .await
            .map_err(db_err)?
        {
            let resource = (!e.kind.is_empty()).then(|| ResourceRef {
                kind: e.kind.clone(),
                namespace: e.namespace.clone(),
                name: e.name.clone(),
            });
            let detail: StateDetail = serde_json::from_str(&e.detail).unwrap_or_default();
            let (what, revision, error) = match e.track.as_str() {
                APPLIED => ("rollout", Some(e.state.clone()), None),
                UNREACHABLE => ("unreachable", None, Some(e.detail.clone())),
                _ if e.state == "drifted" => ("drift", None, None),
                _ => ("failed", None, detail.error.clone()),
            };
            items.push((
                parse_time(&e.started_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                e.id,
                ActivityItem {
                    kind: what.into(),
                    at: e.started_at,
                    ended_at: e.ended_at,
                    cluster: Some(e.cluster),
                    resources: resource.into_iter().collect(),
                    change: None,
                    actor: None,
                    revision,
                    drift: detail.drift,
                    error: error.filter(|e| !e.is_empty()),
                },
            ));
        }
        // Changes belong to no cluster.
        if cluster.is_empty() {
            let rows = store::change_activity(&self.db, namespace, kind, limit)
                .await
                .map_err(db_err)?;
            let mut touched: std::collections::HashMap<i64, Vec<ResourceRef>> =
                std::collections::HashMap::new();
            for row in rows {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    touched.entry(row.change_id)
                {
                    let resources = crate::changes::store::resources(&self.db, row.change_id)
                        .await
                        .map_err(db_err)?;
                    slot.insert(
                        resources
                            .into_iter()
                            .map(|r| ResourceRef {
                                kind: r.kind,
                                namespace: r.namespace,
                                name: r.name,
                            })
                            .collect(),
                    );
                }
                let merged = row.event == "merge";
                items.push((
                    parse_time(&row.created_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    row.event_id,
                    ActivityItem {
                        kind: if merged { "merged" } else { "proposed" }.into(),
                        at: row.created_at,
                        ended_at: None,
                        cluster: None,
                        resources: touched.get(&row.change_id).cloned().unwrap_or_default(),
                        change: Some(ChangeRef {
                            id: row.change_id,
                            title: row.title,
                        }),
                        actor: Some(row.author),
                        revision: merged.then_some(row.body).filter(|b| !b.is_empty()),
                        drift: Vec::new(),
                        error: None,
                    },
                ));
            }
        }
        items.sort_by_key(|(at, id, _)| std::cmp::Reverse((*at, *id)));
        let skip = (page - 1) * per_page;
        let more = items.len() > skip + per_page;
        Ok(ActivityPage {
            page,
            per_page,
            items: items
                .into_iter()
                .skip(skip)
                .take(per_page)
                .map(|(_, _, i)| i)
                .collect(),
            more,
        })
    }
}

/// What of a board the recorder reads: its version (every cell change makes one) and each
/// cluster's info but its last-seen time (reachability and revisions may change without one).
fn looked_at(board: &crate::status::Board) -> (u64, Vec<frontend::api::ClusterInfo>) {
    (
        board.version,
        board
            .clusters
            .iter()
            .map(|c| frontend::api::ClusterInfo {
                last_seen: None,
                ..c.clone()
            })
            .collect(),
    )
}

/// When `commit` (a commit of the indexed `branch` that changed the resource) went live in each
/// cluster: the first applied revision containing it, once the resource was synced there (for
/// a deletion, once that revision was applied). Only revisions on the indexed branch count: a
/// cluster following another branch has none.
pub async fn went_live(
    db: &Db,
    branch: &str,
    key: (&str, &str, &str),
    commit: &str,
    deleted: bool,
) -> Result<Vec<LiveIn>, DbError> {
    let (kind, namespace, name) = key;
    let mut out = Vec::new();
    for applied in store::first_applied_containing(db, branch, commit).await? {
        let since = if deleted {
            Some(applied.started_at.clone())
        } else {
            store::synced_from(
                db,
                &applied.cluster,
                kind,
                namespace,
                name,
                &applied.started_at,
            )
            .await?
            .map(|s| s.started_at.max(applied.started_at.clone()))
        };
        if let Some(since) = since {
            out.push(LiveIn {
                cluster: applied.cluster,
                since,
                revision: applied.state,
            });
        }
    }
    Ok(out)
}
