//! The audit log for admins: `GET /api/v1/audit` (JSON) and the `/audit` page (rendered on the
//! server, filter and paging by plain links and a GET form), plus the middleware part that
//! names what a write does.

use super::access::{encode, html_escape};
use super::{AppState, WebError};
use crate::auth::audit::{self, AuditEntry, AuditQuery};
use axum::Json;
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::response::{IntoResponse, Response};

/// What a write on a route does, for the audit log: its action and resource (`None`: nothing
/// to record, e.g. a preview that writes nothing and was let through).
pub fn action_of(method: &str, route: &str, uri_path: &str) -> (String, String) {
    let id = || {
        uri_path
            .split('/')
            .nth(4)
            .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or("?")
            .to_owned()
    };
    let (action, resource) = match (method, route) {
        ("POST", "/api/v1/changes") => ("propose", "changes".to_owned()),
        ("POST", "/api/v1/changes/preview") => ("preview", "changes".to_owned()),
        ("DELETE", "/api/v1/changes/{id}") => ("discard", format!("change/{}", id())),
        ("POST", "/api/v1/changes/{id}/approve") => ("approve", format!("change/{}", id())),
        ("POST", "/api/v1/changes/{id}/merge") => ("merge", format!("change/{}", id())),
        ("POST", "/api/v1/changes/{id}/close") => ("close", format!("change/{}", id())),
        ("POST", "/api/v1/changes/{id}/rebase") => ("rebase", format!("change/{}", id())),
        ("POST", "/api/v1/changes/{id}/comments") => ("comment", format!("change/{}", id())),
        ("POST", "/api/v1/status/adopt") => ("adopt", "status".to_owned()),
        ("POST", "/api/v1/resources/{kind}/{namespace}/{name}/restore") => (
            "restore",
            // kind/namespace/name, as the path names them.
            uri_path
                .split('/')
                .skip(4)
                .take(3)
                .collect::<Vec<_>>()
                .join("/"),
        ),
        ("POST", "/api/v1/tokens") => ("token_create", "tokens".to_owned()),
        ("DELETE", "/api/v1/tokens/{id}") => ("token_revoke", format!("token/{}", id())),
        ("POST", "/auth/logout") => ("sign_out", "session".to_owned()),
        (m, r) => return (format!("{} {r}", m.to_ascii_lowercase()), r.to_owned()),
    };
    (action.to_owned(), resource)
}

/// The audit log, newest first: filter by actor, action and outcome; page with `before`.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 401, body = frontend::api::ApiError),
        (status = 403, description = "admins only", body = frontend::api::ApiError)))]
pub async fn list_audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(
        audit::list(&state.app.db, &query)
            .await
            .map_err(WebError::from_db)?,
    ))
}

fn when(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `GET /audit`: the log as a page.
pub async fn audit_page(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let rows = match audit::list(&state.app.db, &query).await {
        Ok(r) => r,
        Err(e) => return WebError::from_db(e).into_response(),
    };
    let value = |v: &Option<String>| html_escape(v.as_deref().unwrap_or(""));
    let mut body = format!(
        "<form method=\"get\" action=\"/audit\" class=\"filters\" id=\"audit-filter\">\
         <label>Actor <input name=\"actor\" value=\"{}\"></label> \
         <label>Action <input name=\"action\" value=\"{}\"></label> \
         <label>Outcome <select name=\"outcome\"><option value=\"\">any</option>{}</select></label> \
         <button type=\"submit\">Filter</button></form>\
         <table class=\"list\" id=\"audit\"><thead><tr><th scope=\"col\">When (UTC)</th><th scope=\"col\">Who</th>\
         <th scope=\"col\">Action</th><th scope=\"col\">Resource</th><th scope=\"col\">Outcome</th>\
         <th scope=\"col\">Request</th></tr></thead><tbody>",
        value(&query.actor),
        value(&query.action),
        ["ok", "refused", "failed"]
            .iter()
            .map(|o| format!(
                "<option{}>{o}</option>",
                if query.outcome.as_deref() == Some(o) {
                    " selected"
                } else {
                    ""
                }
            ))
            .collect::<String>(),
    );
    for r in &rows {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td><code>{}</code></td></tr>",
            when(r.at),
            html_escape(&r.actor),
            html_escape(&r.action),
            html_escape(&r.resource),
            html_escape(&r.outcome),
            if r.code.is_empty() { String::new() } else { format!(" ({})", html_escape(&r.code)) },
            html_escape(&r.request_id),
        ));
    }
    body.push_str("</tbody></table>");
    let limit = query.limit.unwrap_or(50).clamp(1, 200) as usize;
    if rows.len() == limit
        && let Some(last) = rows.last()
    {
        let keep = |k: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("&{k}={}", encode(v)))
                .unwrap_or_default()
        };
        body.push_str(&format!(
            "<p><a id=\"older\" href=\"/audit?before={}&limit={limit}{}{}{}\">Older entries</a></p>",
            last.id,
            keep("actor", &query.actor),
            keep("action", &query.action),
            keep("outcome", &query.outcome),
        ));
    }
    if rows.is_empty() {
        body.push_str("<p class=\"muted\">No entries.</p>");
    }
    body.push_str("<p><a href=\"/\">Back to Tollgate</a></p>");
    let stylesheet = super::assets::AssetNames::current().stylesheet;
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit log</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"{}\"></head><body><main><h1>Audit log</h1>{body}</main></body></html>",
        html_escape(&stylesheet)
    );
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}
