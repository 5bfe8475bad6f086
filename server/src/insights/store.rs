//! Lead-time, failure, restore and drift-episode rows: every statement of the insights lives
//! here, written once for SQLite and PostgreSQL. Times are RFC 3339 UTC text, as in the change
//! tables, so ranges compare as text. `change_lead` holds one row per merged change (written
//! with the merge, then here), so a report scans one indexed range of it.

use crate::db::{Db, DbError};
use crate::db_run;
use frontend::api::insights::ClusterLive;

/// When change `id` went live in each cluster, in order.
pub async fn live_of(db: &Db, id: i64) -> Result<Vec<ClusterLive>, DbError> {
    let rows: Vec<(String, String)> = db_run!(
        db,
        fetch_all,
        (String, String),
        "SELECT cluster, live_at FROM change_live WHERE change_id = $1 ORDER BY live_at, cluster",
        id
    )?;
    Ok(rows
        .into_iter()
        .map(|(cluster, at)| ClusterLive { cluster, at })
        .collect())
}

/// Marks change `id` as made by restoring an earlier version.
pub async fn mark_restore(db: &Db, id: i64) -> Result<(), DbError> {
    db_run!(
        db,
        execute,
        "INSERT INTO change_restores (change_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        id,
        &crate::changes::store::now()
    )?;
    db_run!(
        db,
        execute,
        "UPDATE change_lead SET restore = 1 WHERE change_id = $1",
        id
    )?;
    Ok(())
}

/// Writes the `change_lead` row of every merged change that has none (as the migration did for
/// the changes merged before it), from their events and what was recorded; returns how many.
pub async fn catch_up(db: &Db) -> Result<u64, DbError> {
    Ok(db_run!(
        db,
        execute,
        "INSERT INTO change_lead (change_id, merged_at, proposed_at, approved_at, live_at, failed, restore)
         SELECT m.change_id, MIN(m.created_at),
            (SELECT MIN(p.created_at) FROM change_events p WHERE p.change_id = m.change_id AND p.kind = 'propose'),
            (SELECT MIN(a.created_at) FROM change_events a WHERE a.change_id = m.change_id AND a.kind IN ('approval', 'dismissed_approval')),
            (SELECT MAX(l.live_at) FROM change_live l WHERE l.change_id = m.change_id),
            (SELECT COUNT(*) FROM change_failures f WHERE f.change_id = m.change_id),
            (SELECT COUNT(*) FROM change_restores s WHERE s.change_id = m.change_id)
         FROM change_events m
         WHERE m.kind = 'merge' AND NOT EXISTS (SELECT 1 FROM change_lead x WHERE x.change_id = m.change_id)
         GROUP BY m.change_id
         ON CONFLICT DO NOTHING"
    )?)
}

/// Records the first time change `id` was live in `cluster`; `false` when it was known.
pub async fn record_live(
    db: &Db,
    id: i64,
    cluster: &str,
    at: &str,
    revision: &str,
) -> Result<bool, DbError> {
    let n = db_run!(
        db,
        execute,
        "INSERT INTO change_live (change_id, cluster, live_at, revision) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        id,
        cluster,
        at,
        revision
    )?;
    if n > 0 {
        db_run!(
            db,
            execute,
            "UPDATE change_lead SET live_at = $2 WHERE change_id = $1 AND (live_at IS NULL OR live_at < $2)",
            id,
            at
        )?;
    }
    Ok(n > 0)
}

/// Records the first failed state of change `id` in `cluster`; `false` when it was known.
pub async fn record_failure(
    db: &Db,
    id: i64,
    cluster: &str,
    at: &str,
    error: &str,
) -> Result<bool, DbError> {
    let n = db_run!(
        db,
        execute,
        "INSERT INTO change_failures (change_id, cluster, failed_at, error) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        id,
        cluster,
        at,
        error
    )?;
    db_run!(
        db,
        execute,
        "UPDATE change_lead SET failed = 1 WHERE change_id = $1",
        id
    )?;
    Ok(n > 0)
}

/// A merged change's `change_lead` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeadRow {
    pub change_id: i64,
    pub proposed_at: Option<String>,
    pub approved_at: Option<String>,
    pub merged_at: String,
    /// When it went live in the last cluster it reached.
    pub live_at: Option<String>,
    /// 1 when a failed state followed it.
    pub failed: i64,
    /// 1 when it restores an earlier version.
    pub restore: i64,
}

/// Changes merged in `[from, to)`, oldest merge first.
///
/// Read as one packed value rather than a row per change: sqlx decodes a row in about 10 µs,
/// which over 20,000 merged changes was most of the time `/insights` took. No field can hold
/// `,` or `;` (ids, 0/1 flags and RFC 3339 times).
pub async fn merged_between(db: &Db, from: &str, to: &str) -> Result<Vec<LeadRow>, DbError> {
    crate::db::count_statement();
    let packed: Option<String> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(
                "SELECT group_concat(change_id || ',' || COALESCE(proposed_at, '') || ',' || COALESCE(approved_at, '')
                    || ',' || merged_at || ',' || COALESCE(live_at, '') || ',' || failed || ',' || restore, ';')
                 FROM change_lead WHERE merged_at >= ?1 AND merged_at < ?2",
            )
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT string_agg(change_id::text || ',' || COALESCE(proposed_at, '') || ',' || COALESCE(approved_at, '')
                    || ',' || merged_at || ',' || COALESCE(live_at, '') || ',' || failed::text || ',' || restore::text, ';')
                 FROM change_lead WHERE merged_at >= $1 AND merged_at < $2",
            )
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?
        }
    };
    let mut rows: Vec<LeadRow> = packed.as_deref().map_or_else(Vec::new, unpack);
    rows.sort_by(|a, b| (&a.merged_at, a.change_id).cmp(&(&b.merged_at, b.change_id)));
    Ok(rows)
}

/// The rows [`merged_between`] packed; a malformed one is left out.
fn unpack(packed: &str) -> Vec<LeadRow> {
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    packed
        .split(';')
        .filter_map(|row| {
            let f: Vec<&str> = row.split(',').collect();
            let [id, proposed, approved, merged, live, failed, restore] = f.as_slice() else {
                return None;
            };
            Some(LeadRow {
                change_id: id.parse().ok()?,
                proposed_at: optional(proposed),
                approved_at: optional(approved),
                merged_at: (*merged).to_owned(),
                live_at: optional(live),
                failed: failed.parse().ok()?,
                restore: restore.parse().ok()?,
            })
        })
        .collect()
}

/// The titles of changes merged in `[from, to)`.
pub async fn titles_between(db: &Db, from: &str, to: &str) -> Result<Vec<(i64, String)>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        (i64, String),
        "SELECT c.id, c.title FROM change_lead m JOIN changes c ON c.id = m.change_id
         WHERE m.merged_at >= $1 AND m.merged_at < $2",
        from,
        to
    )?)
}

/// When changes merged in `[from, to)` went live, per cluster: `(change, cluster, time)`.
pub async fn live_between(
    db: &Db,
    from: &str,
    to: &str,
) -> Result<Vec<(i64, String, String)>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        (i64, String, String),
        "SELECT t.change_id, t.cluster, t.live_at FROM change_live t
         JOIN change_lead m ON m.change_id = t.change_id
         WHERE m.merged_at >= $1 AND m.merged_at < $2 ORDER BY t.change_id, t.live_at, t.cluster",
        from,
        to
    )?)
}

/// The resources of changes merged in `[from, to)` that a restore created in
/// `[from, restored_before)` also touches: `(change, kind, namespace, name)`.
pub async fn restored_resources_merged_between(
    db: &Db,
    from: &str,
    to: &str,
    restored_before: &str,
) -> Result<Vec<(i64, String, String, String)>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        (i64, String, String, String),
        "SELECT r.change_id, r.kind, r.namespace, r.name FROM change_resources r
         JOIN change_lead m ON m.change_id = r.change_id
         WHERE m.merged_at >= $1 AND m.merged_at < $2 AND EXISTS (
            SELECT 1 FROM change_resources rr JOIN change_restores s ON s.change_id = rr.change_id
            WHERE rr.kind = r.kind AND rr.namespace = r.namespace AND rr.name = r.name
              AND s.created_at >= $1 AND s.created_at < $3)",
        from,
        to,
        restored_before
    )?)
}

/// Restores created in `[from, to)` with the resources they touch:
/// `(change, created, kind, namespace, name)`; a restore not yet proposed has no resource and
/// one row with empty names.
pub async fn restores_between(
    db: &Db,
    from: &str,
    to: &str,
) -> Result<Vec<(i64, String, String, String, String)>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        (i64, String, String, String, String),
        "SELECT s.change_id, s.created_at, COALESCE(r.kind, ''), COALESCE(r.namespace, ''), COALESCE(r.name, '')
         FROM change_restores s LEFT JOIN change_resources r ON r.change_id = s.change_id
         WHERE s.created_at >= $1 AND s.created_at < $2 ORDER BY s.created_at",
        from,
        to
    )?)
}

/// A merged change the recorder still watches.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watched {
    pub id: i64,
    pub merge_commit: String,
    pub merged: String,
}

/// Changes merged since `since` (with their merge commit), oldest first.
pub async fn merged_since(db: &Db, since: &str) -> Result<Vec<Watched>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        Watched,
        "SELECT c.id, c.merge_commit, m.merged_at AS merged FROM change_lead m
         JOIN changes c ON c.id = m.change_id
         WHERE c.merge_commit IS NOT NULL AND m.merged_at >= $1
         ORDER BY m.merged_at, c.id",
        since
    )?)
}

/// The resources of changes merged since `since`: `(change, kind, namespace, name, action)`.
pub async fn resources_merged_since(
    db: &Db,
    since: &str,
) -> Result<Vec<(i64, String, String, String, String)>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        (i64, String, String, String, String),
        "SELECT r.change_id, r.kind, r.namespace, r.name, r.action FROM change_resources r
         JOIN change_lead m ON m.change_id = r.change_id
         WHERE m.merged_at >= $1",
        since
    )?)
}

/// `(change, cluster)` already recorded live, or failed, for changes merged since `since`.
pub async fn recorded_since(
    db: &Db,
    table: Recorded,
    since: &str,
) -> Result<Vec<(i64, String)>, DbError> {
    let table = match table {
        Recorded::Live => "change_live",
        Recorded::Failed => "change_failures",
    };
    let sql = format!(
        "SELECT t.change_id, t.cluster FROM {table} t
         JOIN change_lead m ON m.change_id = t.change_id
         WHERE m.merged_at >= $1"
    );
    Ok(db_run!(db, fetch_all, (i64, String), &sql, since)?)
}

/// Which per-cluster record [`recorded_since`] reads.
#[derive(Debug, Clone, Copy)]
pub enum Recorded {
    Live,
    Failed,
}

/// A drift episode row: `(cluster, kind, namespace, name, started, ended)`.
pub type DriftRow = (String, String, String, String, String, Option<String>);

/// Drift episodes overlapping `[from, to)`, oldest first, from the cluster timeline
/// ([`crate::timeline`] keeps them).
pub async fn drift_between(db: &Db, from: &str, to: &str) -> Result<Vec<DriftRow>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        DriftRow,
        "SELECT cluster, kind, namespace, name, started_at, ended_at FROM timeline_episodes
         WHERE track = 'state' AND state = 'drifted'
           AND started_at < $2 AND (ended_at IS NULL OR ended_at >= $1) ORDER BY started_at, id",
        from,
        to
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_unpack_and_malformed_ones_are_left_out() {
        let rows = unpack(
            "7,2026-01-05T09:00:00Z,,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,0,1;\
             8,,,2026-01-06T10:00:00Z,,1,0;\
             nine,,,2026-01-06T10:00:00Z,,1,0;\
             10,only,three",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].change_id, 7);
        assert_eq!(rows[0].proposed_at.as_deref(), Some("2026-01-05T09:00:00Z"));
        assert_eq!(rows[0].approved_at, None);
        assert_eq!(rows[0].live_at.as_deref(), Some("2026-01-05T10:05:00Z"));
        assert_eq!((rows[0].failed, rows[0].restore), (0, 1));
        assert_eq!(
            (
                rows[1].change_id,
                rows[1].proposed_at.as_deref(),
                rows[1].failed
            ),
            (8, None, 1)
        );
    }
}
