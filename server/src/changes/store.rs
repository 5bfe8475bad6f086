//! Change requests in the database: drafts, proposed changes, their resources and events.
//! Every change SQL statement lives here, written once for SQLite and PostgreSQL; a write of
//! more than one statement runs in one transaction.

mod list;
mod state;

pub use list::{LIST_LIMIT, ListedChange, awaiting_review, list};
pub use state::{ChangeState, UnknownState};

use crate::db::{Db, DbError};
use crate::db_run;
use frontend::api::ChangedResource;

/// A `changes` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub author: String,
    pub state: ChangeState,
    pub edits: String,
    pub base_commit: String,
    pub branch: Option<String>,
    pub head_commit: Option<String>,
    pub merge_commit: Option<String>,
    pub conflict: Option<String>,
    pub issues: String,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// For an adopt-drift change: what it adopts (JSON of [`frontend::api::Adoption`]).
    pub adoption: Option<String>,
    /// The change request's number on the Git host.
    pub host_number: Option<i64>,
    /// The host's last answer about it (JSON of [`crate::hosts::RequestState`]).
    pub host_state: Option<String>,
}

/// A `change_events` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub kind: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

/// A `change_resources` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResourceRow {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub action: String,
    pub path: String,
}

/// The `changes` columns, in [`ChangeRow`] order.
const COLUMNS: &str = "id, title, description, author, state, edits, base_commit, branch, head_commit, merge_commit, conflict, issues, error, created_at, updated_at, adoption, host_number, host_state";

/// The current time as stored in `created_at`/`updated_at` (RFC 3339, UTC).
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct Id {
    id: i64,
}

/// Saves a new draft; with an `idempotency_key`, a second draft by the same author with the
/// same key is refused by the database (a unique violation), however the inserts race.
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert_draft(
    db: &Db,
    title: &str,
    description: &str,
    author: &str,
    edits: &str,
    base: &str,
    idempotency_key: Option<&str>,
    adoption: Option<&str>,
) -> Result<i64, DbError> {
    let now = now();
    let row = db_run!(db, fetch_one, Id,
        "INSERT INTO changes (title, description, author, state, edits, base_commit, idempotency_key, created_at, updated_at, adoption)
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $7, $8) RETURNING id",
        title, description, author, edits, base, idempotency_key, &now, adoption)?;
    Ok(row.id)
}

/// Replaces a refused draft's title, description and edits (a corrected retry).
pub async fn set_draft(
    db: &Db,
    id: i64,
    title: &str,
    description: &str,
    edits: &str,
) -> Result<(), DbError> {
    db_run!(
        db,
        execute,
        "UPDATE changes SET title = $2, description = $3, edits = $4, error = NULL, updated_at = $5 WHERE id = $1 AND state = 'draft'",
        id,
        title,
        description,
        edits,
        &now()
    )?;
    Ok(())
}

/// Records an event inside a [`crate::db_transaction!`]: the state change and its event are
/// written together or not at all.
macro_rules! event_in {
    ($tx:ident, $d:ident, $id:expr, $kind:expr, $author:expr, $body:expr, $now:expr) => {
        crate::tx_run!(
            $tx,
            $d,
            "INSERT INTO change_events (change_id, kind, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            $id,
            $kind,
            $author,
            $body,
            $now
        )
    };
}

/// Regenerates a change by `user`: replaces its edits and, for an adopt change, what it adopts,
/// makes it a draft again (to be proposed anew), dismisses its approvals (they approved other
/// content) and records a `rebase` event, in one transaction.
pub async fn set_edits(
    db: &Db,
    id: i64,
    edits: &str,
    adoption: Option<&str>,
    user: &str,
) -> Result<(), DbError> {
    let now = now();
    crate::db_transaction!(db, |tx, D| {
        crate::tx_run!(
            tx,
            D,
            "UPDATE changes SET edits = $2, adoption = COALESCE($3, adoption), state = 'draft', updated_at = $4 WHERE id = $1",
            id,
            edits,
            adoption,
            &now
        )?;
        crate::tx_run!(
            tx,
            D,
            "UPDATE change_events SET kind = 'dismissed_approval' WHERE change_id = $1 AND kind = 'approval'",
            id
        )?;
        event_in!(tx, D, id, "rebase", user, "", &now)?;
    });
    Ok(())
}

/// The change `author` created with `key`, if any.
pub async fn by_idempotency_key(
    db: &Db,
    author: &str,
    key: &str,
) -> Result<Option<ChangeRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM changes WHERE author = $1 AND idempotency_key = $2");
    Ok(db_run!(db, fetch_optional, ChangeRow, &sql, author, key)?)
}

/// The change `id`, if it exists.
pub async fn get(db: &Db, id: i64) -> Result<Option<ChangeRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM changes WHERE id = $1");
    Ok(db_run!(db, fetch_optional, ChangeRow, &sql, id)?)
}

/// Open (or draft) changes touching a resource.
pub async fn open_touching(
    db: &Db,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Vec<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state IN ('draft', 'open') AND id IN
         (SELECT change_id FROM change_resources WHERE kind = $1 AND namespace = $2 AND name = $3) ORDER BY id DESC"
    );
    Ok(db_run!(
        db, fetch_all, ChangeRow, &sql, kind, namespace, name
    )?)
}

/// Records the proposed branch and commit, the resources the change touches and the `propose`
/// event by `author`, in one transaction: a change is never open without its event.
#[allow(clippy::too_many_arguments)]
pub async fn set_proposed(
    db: &Db,
    id: i64,
    base: &str,
    branch: &str,
    head: &str,
    resources: &[ChangedResource],
    issues: &str,
    author: &str,
    host_number: i64,
    host_state: &str,
) -> Result<(), DbError> {
    let now = now();
    crate::db_transaction!(db, |tx, D| {
        crate::tx_run!(
            tx,
            D,
            "UPDATE changes SET state = 'open', base_commit = $2, branch = $3, head_commit = $4, issues = $5, error = NULL, conflict = NULL, updated_at = $6, host_number = $7, host_state = $8 WHERE id = $1",
            id,
            base,
            branch,
            head,
            issues,
            &now,
            host_number,
            host_state
        )?;
        crate::tx_run!(
            tx,
            D,
            "DELETE FROM change_resources WHERE change_id = $1",
            id
        )?;
        for r in resources {
            crate::tx_run!(tx, D,
                "INSERT INTO change_resources (change_id, kind, namespace, name, action, path) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (change_id, kind, namespace, name) DO NOTHING",
                id, &r.kind, &r.namespace, &r.name, &r.action, &r.path)?;
        }
        event_in!(tx, D, id, "propose", author, "", &now)?;
    });
    Ok(())
}

/// Records why a proposal was refused (or clears it) with the validation issues (JSON).
pub async fn set_error(db: &Db, id: i64, error: Option<&str>, issues: &str) -> Result<(), DbError> {
    db_run!(
        db,
        execute,
        "UPDATE changes SET error = $2, issues = $3, updated_at = $4 WHERE id = $1",
        id,
        error,
        issues,
        &now()
    )?;
    Ok(())
}

/// Records that merging by `user` found a conflict, with its `conflict` event, in one
/// transaction.
pub async fn set_conflict(db: &Db, id: i64, message: &str, user: &str) -> Result<(), DbError> {
    let now = now();
    crate::db_transaction!(db, |tx, D| {
        crate::tx_run!(
            tx,
            D,
            "UPDATE changes SET conflict = $2, updated_at = $3 WHERE id = $1",
            id,
            message,
            &now
        )?;
        event_in!(tx, D, id, "conflict", user, message, &now)?;
    });
    Ok(())
}

/// Marks an open change merged with its `merge` event, in one transaction; `false` (and
/// nothing written) when it was no longer open: a webhook and a merge in Tollgate may race.
pub async fn set_merged(db: &Db, id: i64, merge_commit: &str, user: &str) -> Result<bool, DbError> {
    let now = now();
    let merged = crate::db_transaction!(db, |tx, D| {
        let n = crate::tx_run!(
            tx,
            D,
            "UPDATE changes SET state = 'merged', merge_commit = $2, conflict = NULL, updated_at = $3 WHERE id = $1 AND state = 'open'",
            id,
            merge_commit,
            &now
        )?;
        if n > 0 {
            event_in!(tx, D, id, "merge", user, merge_commit, &now)?;
            // The lead-time read model's row (see `crate::insights`).
            crate::tx_run!(
                tx,
                D,
                "INSERT INTO change_lead (change_id, merged_at, proposed_at, approved_at, restore)
                 SELECT $1, $2,
                    (SELECT MIN(created_at) FROM change_events WHERE change_id = $1 AND kind = 'propose'),
                    (SELECT MIN(created_at) FROM change_events WHERE change_id = $1 AND kind IN ('approval', 'dismissed_approval')),
                    (SELECT COUNT(*) FROM change_restores WHERE change_id = $1)
                 WHERE true ON CONFLICT DO NOTHING",
                id,
                &now
            )?;
        }
        n > 0
    });
    Ok(merged)
}

/// Stores the host's last answer about change `id`; `false` when it is what was stored.
pub async fn set_host_state(db: &Db, id: i64, state: &str) -> Result<bool, DbError> {
    let n = db_run!(
        db,
        execute,
        "UPDATE changes SET host_state = $2, updated_at = $3 WHERE id = $1 AND (host_state IS NULL OR host_state <> $2)",
        id,
        state,
        &now()
    )?;
    Ok(n > 0)
}

/// The open change whose request on the host is `number`.
pub async fn by_host_number(db: &Db, number: i64) -> Result<Option<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE host_number = $1 AND state = 'open' ORDER BY id DESC LIMIT 1"
    );
    Ok(db_run!(db, fetch_optional, ChangeRow, &sql, number)?)
}

/// Open changes whose head commit is `sha`.
pub async fn open_with_head(db: &Db, sha: &str) -> Result<Vec<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE head_commit = $1 AND state = 'open' ORDER BY id"
    );
    Ok(db_run!(db, fetch_all, ChangeRow, &sql, sha)?)
}

/// Every open change that has a request on the host, oldest first.
pub async fn open_on_host(db: &Db) -> Result<Vec<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state = 'open' AND host_number IS NOT NULL ORDER BY id"
    );
    Ok(db_run!(db, fetch_all, ChangeRow, &sql)?)
}

/// Records a webhook delivery id; `false` when it was seen before.
pub async fn first_delivery(db: &Db, id: &str) -> Result<bool, DbError> {
    // Hosts redeliver within hours; ids older than three days are forgotten, so the table
    // stays small.
    let cutoff = (time::OffsetDateTime::now_utc() - time::Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    db_run!(
        db,
        execute,
        "DELETE FROM host_deliveries WHERE received_at < $1",
        &cutoff
    )?;
    let n = db_run!(
        db,
        execute,
        "INSERT INTO host_deliveries (id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        id,
        &now()
    )?;
    Ok(n > 0)
}

/// Forgets a delivery id, so the host's redelivery of a delivery that failed is handled.
pub async fn forget_delivery(db: &Db, id: &str) -> Result<(), DbError> {
    db_run!(db, execute, "DELETE FROM host_deliveries WHERE id = $1", id)?;
    Ok(())
}

/// Marks a draft or open change closed with its `close` event, in one transaction; `false`
/// (and nothing written) when it was already merged or closed.
pub async fn set_closed(db: &Db, id: i64, user: &str) -> Result<bool, DbError> {
    let now = now();
    let closed = crate::db_transaction!(db, |tx, D| {
        let n = crate::tx_run!(
            tx,
            D,
            "UPDATE changes SET state = 'closed', updated_at = $2 WHERE id = $1 AND state IN ('draft', 'open')",
            id,
            &now
        )?;
        if n > 0 {
            event_in!(tx, D, id, "close", user, "", &now)?;
        }
        n > 0
    });
    Ok(closed)
}

/// Deletes a draft with its events and resources, in one transaction; `false` when `id` is not
/// (or no longer) a draft, and then nothing is deleted.
pub async fn delete_draft(db: &Db, id: i64) -> Result<bool, DbError> {
    let events = "DELETE FROM change_events WHERE change_id IN (SELECT id FROM changes WHERE id = $1 AND state = 'draft')";
    let resources = "DELETE FROM change_resources WHERE change_id IN (SELECT id FROM changes WHERE id = $1 AND state = 'draft')";
    let n = crate::db_transaction!(db, |tx, D| {
        crate::tx_run!(tx, D, events, id)?;
        crate::tx_run!(tx, D, resources, id)?;
        crate::tx_run!(
            tx,
            D,
            "DELETE FROM changes WHERE id = $1 AND state = 'draft'",
            id
        )?
    });
    Ok(n > 0)
}

/// The resources change `id` touches, ordered by kind, namespace and name.
pub async fn resources(db: &Db, id: i64) -> Result<Vec<ResourceRow>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        ResourceRow,
        "SELECT kind, namespace, name, action, path FROM change_resources WHERE change_id = $1 ORDER BY kind, namespace, name",
        id
    )?)
}

/// Adds an event; `false` when it already exists (a second approval by the same person).
pub async fn add_event(
    db: &Db,
    id: i64,
    kind: &str,
    author: &str,
    body: &str,
) -> Result<bool, DbError> {
    let n = db_run!(
        db,
        execute,
        "INSERT INTO change_events (change_id, kind, author, body, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        id,
        kind,
        author,
        body,
        &now()
    )?;
    Ok(n > 0)
}

/// The events of change `id`, in the order they were written.
pub async fn events(db: &Db, id: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(db_run!(
        db,
        fetch_all,
        EventRow,
        "SELECT kind, author, body, created_at FROM change_events WHERE change_id = $1 ORDER BY id",
        id
    )?)
}

/// Merged changes touching a resource, newest first.
pub async fn merged_touching(
    db: &Db,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Vec<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state = 'merged' AND id IN
         (SELECT change_id FROM change_resources WHERE kind = $1 AND namespace = $2 AND name = $3) ORDER BY id DESC LIMIT 50"
    );
    Ok(db_run!(
        db, fetch_all, ChangeRow, &sql, kind, namespace, name
    )?)
}

/// The merged change whose merge commit is `commit`, if Tollgate merged it.
pub async fn merged_as(db: &Db, commit: &str) -> Result<Option<ChangeRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state = 'merged' AND merge_commit = $1 ORDER BY id DESC LIMIT 1"
    );
    Ok(db_run!(db, fetch_optional, ChangeRow, &sql, commit)?)
}
