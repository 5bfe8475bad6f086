//! The timeline in the database. Every statement is written once for SQLite and PostgreSQL; a
//! batch of writes is one transaction, so an episode is never closed without its successor. The
//! writes are idempotent: replicas recording the same clusters, or a retried batch, leave one
//! episode per change (and the database allows one open episode per track).

use super::observe::{Observation, Op, Track};
use crate::db::{Db, DbError};
use crate::{db_run, db_transaction, tx_run};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A `timeline_episodes` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EpisodeRow {
    pub id: i64,
    pub cluster: String,
    pub track: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub state: String,
    pub detail: String,
    pub started_at: String,
    pub ended_at: Option<String>,
}

const COLUMNS: &str =
    "id, cluster, track, kind, namespace, name, state, detail, started_at, ended_at";

/// A time as stored: RFC 3339 in UTC with microseconds, so that text order is time order.
pub fn stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// The open episodes: what the timeline last recorded of every track.
pub async fn open(db: &Db) -> Result<HashMap<Track, Observation>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM timeline_episodes WHERE ended_at IS NULL ORDER BY id");
    let rows = db_run!(db, fetch_all, EpisodeRow, &sql)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let track = Track::parse(&r.cluster, &r.track, &r.kind, &r.namespace, &r.name)?;
            Some((
                track,
                Observation {
                    state: r.state,
                    detail: r.detail,
                },
            ))
        })
        .collect())
}

/// Stores a batch of writes in one transaction.
pub async fn apply(db: &Db, ops: &[Op]) -> Result<(), DbError> {
    if ops.is_empty() {
        return Ok(());
    }
    /// Sets the detail of a track's open episode.
    const SET_DETAIL: &str = "UPDATE timeline_episodes SET detail = $6 WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5 AND ended_at IS NULL";
    const CLOSE: &str = "UPDATE timeline_episodes SET ended_at = $6 WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5 AND ended_at IS NULL";
    db_transaction!(db, |tx, D| {
        for op in ops {
            match op {
                Op::Open {
                    track,
                    observation,
                    at,
                } => {
                    // Written so that a second replica recording the same change (or a retry)
                    // finds it done: only a different state is closed, and a new episode opens
                    // only where none is.
                    let at = stamp(*at);
                    tx_run!(
                        tx,
                        D,
                        "UPDATE timeline_episodes SET ended_at = $6 WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5 AND ended_at IS NULL AND state <> $7",
                        &track.cluster,
                        track.track,
                        &track.kind,
                        &track.namespace,
                        &track.name,
                        &at,
                        &observation.state
                    )?;
                    tx_run!(
                        tx,
                        D,
                        "INSERT INTO timeline_episodes (cluster, track, kind, namespace, name, state, detail, started_at)
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (SELECT 1 FROM timeline_episodes
                         WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5 AND ended_at IS NULL)",
                        &track.cluster,
                        track.track,
                        &track.kind,
                        &track.namespace,
                        &track.name,
                        &observation.state,
                        &observation.detail,
                        &at
                    )?;
                    tx_run!(
                        tx,
                        D,
                        SET_DETAIL,
                        &track.cluster,
                        track.track,
                        &track.kind,
                        &track.namespace,
                        &track.name,
                        &observation.detail
                    )?;
                }
                Op::Close { track, at } => {
                    tx_run!(
                        tx,
                        D,
                        CLOSE,
                        &track.cluster,
                        track.track,
                        &track.kind,
                        &track.namespace,
                        &track.name,
                        stamp(*at)
                    )?;
                }
                Op::Update { track, detail } => {
                    tx_run!(
                        tx,
                        D,
                        SET_DETAIL,
                        &track.cluster,
                        track.track,
                        &track.kind,
                        &track.namespace,
                        &track.name,
                        detail
                    )?;
                }
            }
        }
        Ok::<(), DbError>(())
    })
}

/// The episode of a track that covers `at` (started at or before it, not ended by then).
pub async fn covering(db: &Db, track: &Track, at: &str) -> Result<Option<EpisodeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_episodes WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5
         AND started_at <= $6 AND (ended_at IS NULL OR ended_at > $6) ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    Ok(db_run!(
        db,
        fetch_optional,
        EpisodeRow,
        &sql,
        &track.cluster,
        track.track,
        &track.kind,
        &track.namespace,
        &track.name,
        at
    )?)
}

/// Every episode of a track, oldest first (for tests and the restart check).
pub async fn episodes(db: &Db, track: &Track) -> Result<Vec<EpisodeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_episodes WHERE cluster = $1 AND track = $2 AND kind = $3 AND namespace = $4 AND name = $5
         ORDER BY started_at, id"
    );
    Ok(db_run!(
        db,
        fetch_all,
        EpisodeRow,
        &sql,
        &track.cluster,
        track.track,
        &track.kind,
        &track.namespace,
        &track.name
    )?)
}

/// Per cluster, the first applied episode whose revision contains `commit` on the indexed
/// `branch` (the revision is the commit or comes after it on the branch's first-parent chain).
pub async fn first_applied_containing(
    db: &Db,
    branch: &str,
    commit: &str,
) -> Result<Vec<EpisodeRow>, DbError> {
    let sql = "SELECT e.id, e.cluster, e.track, e.kind, e.namespace, e.name, e.state, e.detail, e.started_at, e.ended_at
         FROM timeline_episodes e JOIN history_commits h ON h.branch = $1 AND h.commit_id = e.state
         WHERE e.track = 'applied' AND h.seq >= (SELECT c.seq FROM history_commits c WHERE c.branch = $1 AND c.commit_id = $2)
         ORDER BY e.started_at, e.id";
    let rows = db_run!(db, fetch_all, EpisodeRow, sql, branch, commit)?;
    let mut first: Vec<EpisodeRow> = Vec::new();
    for row in rows {
        if !first.iter().any(|r| r.cluster == row.cluster) {
            first.push(row);
        }
    }
    Ok(first)
}

/// The first `synced` episode of a resource in a cluster still lasting at `from` or starting
/// after it.
pub async fn synced_from(
    db: &Db,
    cluster: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    from: &str,
) -> Result<Option<EpisodeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_episodes WHERE cluster = $1 AND track = 'state' AND kind = $2 AND namespace = $3 AND name = $4
         AND state = 'synced' AND (ended_at IS NULL OR ended_at > $5) ORDER BY started_at, id LIMIT 1"
    );
    Ok(db_run!(
        db,
        fetch_optional,
        EpisodeRow,
        &sql,
        cluster,
        kind,
        namespace,
        name,
        from
    )?)
}

/// The newest rollouts, drift episodes, failures and unreachable periods, filtered (an empty
/// filter matches everything).
pub async fn activity(
    db: &Db,
    namespace: &str,
    kind: &str,
    cluster: &str,
    limit: i64,
) -> Result<Vec<EpisodeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_episodes
         WHERE (track = 'applied' OR track = 'unreachable' OR (track = 'state' AND state IN ('drifted', 'failed')))
         AND (CAST($1 AS TEXT) = '' OR namespace = $1) AND (CAST($2 AS TEXT) = '' OR kind = $2) AND (CAST($3 AS TEXT) = '' OR cluster = $3)
         ORDER BY started_at DESC, id DESC LIMIT $4"
    );
    Ok(db_run!(
        db, fetch_all, EpisodeRow, &sql, namespace, kind, cluster, limit
    )?)
}

/// A `propose` or `merge` event of a change, with the change's title.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeEventRow {
    pub event_id: i64,
    pub event: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
    pub change_id: i64,
    pub title: String,
}

/// The newest proposals and merges, of changes touching a resource in `namespace` of `kind`
/// (an empty filter matches everything).
pub async fn change_activity(
    db: &Db,
    namespace: &str,
    kind: &str,
    limit: i64,
) -> Result<Vec<ChangeEventRow>, DbError> {
    let sql = "SELECT e.id AS event_id, e.kind AS event, e.author, e.body, e.created_at, c.id AS change_id, c.title
         FROM change_events e JOIN changes c ON c.id = e.change_id
         WHERE e.kind IN ('propose', 'merge')
         AND (CAST($1 AS TEXT) = '' AND CAST($2 AS TEXT) = '' OR EXISTS (SELECT 1 FROM change_resources r WHERE r.change_id = c.id
              AND (CAST($1 AS TEXT) = '' OR r.namespace = $1) AND (CAST($2 AS TEXT) = '' OR r.kind = $2)))
         ORDER BY e.created_at DESC, e.id DESC LIMIT $3";
    Ok(db_run!(
        db,
        fetch_all,
        ChangeEventRow,
        sql,
        namespace,
        kind,
        limit
    )?)
}
