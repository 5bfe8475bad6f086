//! Listing changes with their approval counts and resources, in a fixed number of queries.

use super::{COLUMNS, ChangeRow, ChangeState, ResourceRow};
use crate::db::{Db, DbError};
use crate::db_run;

/// A change as listed: its row, its approvals and the resources it touches.
#[derive(Debug, Clone)]
pub struct ListedChange {
    pub row: ChangeRow,
    /// Approvals that count (dismissed ones do not).
    pub approvals: i64,
    /// Ordered by kind, namespace and name.
    pub resources: Vec<ResourceRow>,
}

/// The most changes [`list`] returns.
pub const LIST_LIMIT: usize = 500;

#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: ChangeRow,
    approvals: i64,
}

#[derive(sqlx::FromRow)]
struct OwnedResourceRow {
    change_id: i64,
    #[sqlx(flatten)]
    resource: ResourceRow,
}

/// The newest changes (at most [`LIST_LIMIT`]), in `state` when given, newest first, with their
/// approval counts and resources: two queries, however many changes there are.
pub async fn list(db: &Db, state: Option<ChangeState>) -> Result<Vec<ListedChange>, DbError> {
    list_where(db, state, None).await
}

/// The open changes waiting for `login`'s review, as [`list`] gives them: not authored by them
/// and not approved by them (logins compared without case).
pub async fn awaiting_review(db: &Db, login: &str) -> Result<Vec<ListedChange>, DbError> {
    list_where(db, Some(ChangeState::Open), Some(login)).await
}

async fn list_where(
    db: &Db,
    state: Option<ChangeState>,
    reviewer: Option<&str>,
) -> Result<Vec<ListedChange>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS}, COALESCE(a.approvals, 0) AS approvals FROM changes
         LEFT JOIN (SELECT change_id, COUNT(*) AS approvals FROM change_events WHERE kind = 'approval' GROUP BY change_id) a
           ON a.change_id = changes.id
         WHERE ($1 IS NULL OR state = $1)
           AND ($2 IS NULL OR (LOWER(changes.author) <> LOWER($2) AND NOT EXISTS (
                SELECT 1 FROM change_events e WHERE e.change_id = changes.id
                  AND e.kind = 'approval' AND LOWER(e.author) = LOWER($2))))
         ORDER BY id DESC LIMIT {LIST_LIMIT}"
    );
    let rows = db_run!(
        db,
        fetch_all,
        CountedRow,
        &sql,
        state.map(ChangeState::as_str),
        reviewer
    )?;
    let ids: Vec<i64> = rows.iter().map(|r| r.row.id).collect();
    let mut by_id: std::collections::HashMap<i64, Vec<ResourceRow>> =
        std::collections::HashMap::with_capacity(ids.len());
    for r in resources_of(db, &ids).await? {
        by_id.entry(r.change_id).or_default().push(r.resource);
    }
    Ok(rows
        .into_iter()
        .map(|r| ListedChange {
            resources: by_id.remove(&r.row.id).unwrap_or_default(),
            approvals: r.approvals,
            row: r.row,
        })
        .collect())
}

/// The resources of every change in `ids`, in one query (none for no ids).
async fn resources_of(db: &Db, ids: &[i64]) -> Result<Vec<OwnedResourceRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT change_id, kind, namespace, name, action, path FROM change_resources
         WHERE change_id IN ({}) ORDER BY change_id, kind, namespace, name",
        params.join(", ")
    );
    crate::db::count_statement();
    let rows = match db {
        Db::Sqlite(pool) => {
            let sql = crate::db::sqlite_sql(&sql);
            let mut query = sqlx::query_as::<_, OwnedResourceRow>(&sql);
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }
        Db::Postgres(pool) => {
            let mut query = sqlx::query_as::<_, OwnedResourceRow>(&sql);
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }
    };
    Ok(rows)
}
