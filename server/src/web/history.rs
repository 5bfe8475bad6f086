//! REST handlers for a resource's history, its versions, and restoring one.

use super::changes::json_body;
use super::{AppState, WebError};
use axum::Json;
use axum::extract::{Path, Query, State, rejection::JsonRejection, rejection::QueryRejection};
use axum::http::StatusCode;
use frontend::api::ApiError;
use frontend::api::history::{
    HistoryPage, HistoryQuery, HistoryStatus, ResourceAt, RestoreRequest, RestoreResult,
};

/// The commits that changed a resource, newest first, with their field-level diffs.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/{namespace}/{name}/history",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path), HistoryQuery),
    responses((status = 200, body = HistoryPage), (status = 404, body = ApiError)))]
pub async fn get_history(
    State(state): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(
        state
            .app
            .history
            .page(&kind, &namespace, &name, query.page, query.per_page)
            .await?,
    ))
}

/// The resource's document as it was after a commit of the branch.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/{namespace}/{name}/at/{commit}",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path),
        ("commit" = String, Path, description = "a commit of the branch, full or abbreviated")),
    responses((status = 200, body = ResourceAt), (status = 404, body = ApiError)))]
pub async fn get_resource_at(
    State(state): State<AppState>,
    Path((kind, namespace, name, commit)): Path<(String, String, String, String)>,
) -> Result<Json<ResourceAt>, WebError> {
    Ok(Json(
        state
            .app
            .history
            .at(&kind, &namespace, &name, &commit)
            .await?,
    ))
}

/// Restore a version: a change request setting the fields that differ back to that version's
/// values (a deleted resource is recreated). When a commit after the undone one changed a same
/// field and `fields` is absent, nothing is created: the answer (200) lists the warnings.
#[utoipa::path(post, path = "/api/v1/resources/{kind}/{namespace}/{name}/restore",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Send the same key to retry safely: one change request")),
    request_body = RestoreRequest,
    responses((status = 201, description = "change created", body = RestoreResult),
        (status = 200, description = "preview: confirm the fields a later commit changed", body = RestoreResult),
        (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn restore(
    State(state): State<AppState>,
    super::session::Signed(me): super::session::Signed,
    Path((kind, namespace, name)): Path<(String, String, String)>,
    headers: axum::http::HeaderMap,
    body: Result<Json<RestoreRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RestoreResult>), WebError> {
    let req = json_body(body)?;
    let key = super::changes::idempotency_key(&headers)?;
    // A restore is a proposal to this resource's namespace: the same ownership rule.
    let target = frontend::api::EditRequest {
        kind: kind.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        document: None,
        merge_patch: Some(serde_json::json!({})),
        yaml: None,
        delete: false,
    };
    crate::auth::guard::may_propose(&state.app, &me, std::slice::from_ref(&target))?;
    let user = me.login;
    let result = state
        .app
        .history
        .restore(
            &state.app.changes,
            &user,
            &kind,
            &namespace,
            &name,
            req,
            key,
        )
        .await?;
    let status = if result.created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)))
}

/// How far the history index has read the branch.
#[utoipa::path(get, path = "/api/v1/history/status",
    responses((status = 200, body = HistoryStatus)))]
pub async fn get_history_status(
    State(state): State<AppState>,
) -> Result<Json<HistoryStatus>, WebError> {
    Ok(Json(state.app.history.status().await?))
}
