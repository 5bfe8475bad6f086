//! The lead-time recorder: follows the status board, and stores the first time each recently
//! merged change is live in each cluster (the cluster's applied revision contains the merge
//! commit and every resource the change touches is synced there), the first failed state of
//! its resources within a day of the merge (drift episodes are the cluster timeline's). It reads
//! published boards only, in its own task, so the status engine never waits for it.

use super::{FAILURE_WINDOW, parse_time, stamp, store};
use crate::db::{Db, DbError};
use crate::status::{Board, StatusService};
use frontend::api::StatusCell;
use gix::ObjectId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// Changes merged longer ago than this are no longer looked for in the clusters.
const WATCH_FOR: time::Duration = time::Duration::weeks(1);
/// The longest wait between two looks, when no board is published (a merge the board has not
/// shown yet).
const IDLE: Duration = Duration::from_secs(2);
/// The shortest time between two looks: a burst of boards is looked at once.
const SETTLE: Duration = Duration::from_millis(200);
/// Ancestry answers kept.
const CONTAINS_CACHE: usize = 4096;

/// What the recorder keeps between looks.
#[derive(Default)]
pub struct Recorder {
    /// Whether an applied revision contains a merge commit: `(revision, commit)`.
    contains: HashMap<(String, String), bool>,
}

/// Runs the recorder until the status service stops publishing.
pub async fn run(db: Db, status: Arc<StatusService>) {
    let mut boards = status.subscribe();
    // Merges written without their lead-time row (by an older version) get one.
    if let Err(e) = store::catch_up(&db).await {
        tracing::warn!(error = %e, "cannot fill in the lead times of earlier merges");
    }
    let mut recorder = Recorder::default();
    let mut last_error: Option<String> = None;
    loop {
        match recorder.look(&db, &status).await {
            Ok(()) => last_error = None,
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(error = %message, "cannot record lead times");
                }
                last_error = Some(message);
            }
        }
        tokio::select! {
            r = boards.recv() => if matches!(r, Err(RecvError::Closed)) { return },
            () = tokio::time::sleep(IDLE) => {}
        }
        tokio::time::sleep(SETTLE).await;
        loop {
            match boards.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
    }
}

/// The cell of a resource in a cluster on `board`.
fn cell<'a>(
    board: &'a Board,
    cluster: &str,
    kind: &str,
    ns: &str,
    name: &str,
) -> Option<&'a StatusCell> {
    let at = board
        .rows
        .binary_search_by(|r| {
            (r.kind.as_str(), r.namespace.as_str(), r.name.as_str()).cmp(&(kind, ns, name))
        })
        .ok()?;
    board.rows[at].cells.iter().find(|c| c.cluster == cluster)
}

impl Recorder {
    /// Looks at the current board once: records what went live, failed, drifted or stopped
    /// drifting since the last look.
    pub async fn look(&mut self, db: &Db, status: &StatusService) -> Result<(), DbError> {
        let board = status.current();
        let now = OffsetDateTime::now_utc();
        self.lead(db, status, &board, now).await
    }

    /// Whether `revision` contains `commit`; `None` when the repo cannot say (yet).
    async fn contains(
        &mut self,
        status: &StatusService,
        revision: &str,
        commit: &str,
    ) -> Option<bool> {
        let key = (revision.to_owned(), commit.to_owned());
        if let Some(known) = self.contains.get(&key) {
            return Some(*known);
        }
        let (r, c) = (
            ObjectId::from_hex(revision.as_bytes()).ok()?,
            ObjectId::from_hex(commit.as_bytes()).ok()?,
        );
        let repo = status.repo().clone();
        let answer = tokio::task::spawn_blocking(move || repo.contains(r, c))
            .await
            .ok()?
            .ok()?;
        if self.contains.len() >= CONTAINS_CACHE {
            self.contains.clear();
        }
        self.contains.insert(key, answer);
        Some(answer)
    }

    async fn lead(
        &mut self,
        db: &Db,
        status: &StatusService,
        board: &Board,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let since = stamp(now - WATCH_FOR);
        let watched = store::merged_since(db, &since).await?;
        if watched.is_empty() {
            return Ok(());
        }
        let mut resources: HashMap<i64, Vec<(String, String, String, String)>> = HashMap::new();
        for (id, kind, ns, name, action) in store::resources_merged_since(db, &since).await? {
            resources
                .entry(id)
                .or_default()
                .push((kind, ns, name, action));
        }
        let live: HashSet<(i64, String)> = store::recorded_since(db, store::Recorded::Live, &since)
            .await?
            .into_iter()
            .collect();
        let failed: HashSet<(i64, String)> =
            store::recorded_since(db, store::Recorded::Failed, &since)
                .await?
                .into_iter()
                .collect();
        let at = stamp(now);
        for change in &watched {
            let recent = parse_time(&change.merged).is_some_and(|m| now - m <= FAILURE_WINDOW);
            let Some(touched) = resources.get(&change.id) else {
                continue;
            };
            for cluster in &board.clusters {
                let key = (change.id, cluster.name.clone());
                let want_live = !live.contains(&key);
                let want_failure = recent && !failed.contains(&key);
                if !want_live && !want_failure {
                    continue;
                }
                // Without an agent, the cluster is taken to run the branch head.
                let applied = cluster.applied_revision.clone().or_else(|| {
                    (cluster.agent == "none")
                        .then(|| cluster.head_revision.clone())
                        .flatten()
                });
                let Some(applied) = applied else { continue };
                if self.contains(status, &applied, &change.merge_commit).await != Some(true) {
                    continue;
                }
                let cells: Vec<&StatusCell> = touched
                    .iter()
                    .filter_map(|(kind, ns, name, _)| cell(board, &cluster.name, kind, ns, name))
                    .collect();
                let only_deletes = touched.iter().all(|r| r.3 == "delete");
                if want_live
                    && (!cells.is_empty() || only_deletes)
                    && cells.iter().all(|c| c.state == "synced")
                {
                    store::record_live(db, change.id, &cluster.name, &at, &applied).await?;
                }
                if want_failure && let Some(c) = cells.iter().find(|c| c.state == "failed") {
                    let error = c.error.as_deref().unwrap_or("");
                    store::record_failure(db, change.id, &cluster.name, &at, error).await?;
                }
            }
        }
        Ok(())
    }
}
