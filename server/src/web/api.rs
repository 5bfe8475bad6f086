//! REST handlers under `/api/v1`, plus health and readiness.

use super::session::CurrentUser;
use super::{AppState, WebError};
use axum::Json;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use frontend::api::{
    ProblemList, RepoStatus, ResourceDetail, ResourceList, ResourceQuery, SessionInfo,
};

/// List resources.
#[utoipa::path(get, path = "/api/v1/resources", params(ResourceQuery),
    responses((status = 200, body = ResourceList), (status = 400, body = frontend::api::ApiError),
        (status = 503, description = "still indexing", body = frontend::api::ApiError)))]
pub async fn list_resources(
    State(state): State<AppState>,
    query: Result<Query<ResourceQuery>, QueryRejection>,
) -> Result<Json<ResourceList>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    let mut list = state.app.catalog.list(&query)?;
    state.app.status.annotate(&mut list.items);
    Ok(Json(list))
}

/// One resource, with its fields, grants and YAML.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/{namespace}/{name}",
    params(("kind" = String, Path, description = "ApiDefinition, SecurityPolicy, TykOasApiDefinition or ConfigMap"),
        ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = ResourceDetail), (status = 404, body = frontend::api::ApiError)))]
pub async fn get_resource(
    State(state): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<ResourceDetail>, WebError> {
    Ok(Json(state.app.catalog.detail(&kind, &namespace, &name)?))
}

/// Problems found in the config repo.
#[utoipa::path(get, path = "/api/v1/problems", responses((status = 200, body = ProblemList)))]
pub async fn list_problems(State(state): State<AppState>) -> Result<Json<ProblemList>, WebError> {
    Ok(Json(state.app.catalog.problems()?))
}

/// What the cross-resource rules need of every API and policy (listen paths, domains, grants,
/// default policies): forms load it once and check edits against it as they are typed.
#[utoipa::path(get, path = "/api/v1/validation-context",
    responses((status = 200, body = frontend::validate::Environment),
        (status = 503, description = "still indexing", body = frontend::api::ApiError)))]
pub async fn get_validation_context(
    State(state): State<AppState>,
) -> Result<Json<frontend::validate::Environment>, WebError> {
    Ok(Json(state.app.catalog.validation_context()?))
}

/// The indexed branch and commit, with counts.
#[utoipa::path(get, path = "/api/v1/repo", responses((status = 200, body = RepoStatus)))]
pub async fn get_repo_status(State(state): State<AppState>) -> Json<RepoStatus> {
    let mut status = state.app.catalog.status();
    status.host = state.app.changes.host_health();
    Json(status)
}

/// Who is signed in, and how to sign in.
#[utoipa::path(get, path = "/api/v1/session", responses((status = 200, body = SessionInfo)))]
pub async fn get_session(
    State(state): State<AppState>,
    user: CurrentUser,
    info: Option<axum::extract::Extension<SessionInfo>>,
) -> Json<SessionInfo> {
    // `identify` made it for this request, with the CSRF token.
    Json(info.map_or_else(|| super::session::session_info(&state, &user), |i| i.0))
}

pub async fn not_found() -> WebError {
    WebError::not_found("no such API endpoint; see /api/openapi.json")
}

/// Liveness: the process answers.
pub async fn get_healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers, the config repo is readable and it is indexed.
pub async fn get_readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = state.app.db.ping().await.is_ok();
    let indexed = state.app.catalog.is_ready();
    let catalog = std::sync::Arc::clone(&state.app.catalog);
    let repo = tokio::task::spawn_blocking(move || catalog.repo_readable())
        .await
        .unwrap_or(false);
    let status = if db && indexed && repo {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({ "database": db, "repo": repo, "indexed": indexed })),
    )
}
