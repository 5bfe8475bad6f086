//! The audit log: who did what, when, to which resource, with what outcome and request id.
//! Written for every state change and every refusal; read by admins (`/audit`,
//! `GET /api/v1/audit`). Only names, codes and ids are recorded, never a secret.

use crate::db::{Db, DbError};
use serde::{Deserialize, Serialize};

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The login, or `anonymous`.
    pub actor: String,
    /// `sign_in`, `sign_out`, `propose`, `comment`, `approve`, `merge`, `close`, `rebase`,
    /// `discard`, `adopt`, `token_create`, `token_revoke`…
    pub action: String,
    /// e.g. `change/12`, `token/3`, `session`.
    pub resource: String,
    /// `ok`, `refused` (401/403) or `failed`.
    pub outcome: String,
    /// The error code of a refusal or failure (`forbidden`, `not_owner`, `csrf`…).
    pub code: String,
    pub request_id: String,
}

/// `GET /api/v1/audit` filters and paging: entries older than `before` (an id), newest first.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub before: Option<i64>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// Records one entry (a failure to record is logged, never fatal to the request).
pub async fn record(
    db: &Db,
    actor: &str,
    action: &str,
    resource: &str,
    outcome: &str,
    code: &str,
    request_id: &str,
) {
    let at = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Err(e) = crate::db_run!(
        db,
        execute,
        "INSERT INTO audit_log (at, actor, action, resource, outcome, code, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        at,
        actor,
        action,
        resource,
        outcome,
        code,
        request_id
    ) {
        tracing::error!(error = %e, action, "the audit log could not be written");
    }
}

/// Entries matching `q`, newest first.
pub async fn list(db: &Db, q: &AuditQuery) -> Result<Vec<AuditEntry>, DbError> {
    let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty()).unwrap_or_default();
    let limit = i64::from(q.limit.unwrap_or(50).clamp(1, 200));
    crate::db_run!(
        db,
        fetch_all,
        AuditEntry,
        "SELECT id, at, actor, action, resource, outcome, code, request_id FROM audit_log
         WHERE ($1 = '' OR lower(actor) = lower($1)) AND ($2 = '' OR action = $2)
           AND ($3 = '' OR outcome = $3) AND ($4 = 0 OR id < $4)
         ORDER BY id DESC LIMIT $5",
        text(&q.actor),
        text(&q.action),
        text(&q.outcome),
        q.before.unwrap_or(0),
        limit
    )
    .map_err(Into::into)
}
