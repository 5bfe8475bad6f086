//! REST handlers for change requests (`/api/v1/changes`), their live updates, and the Git
//! host's webhooks (`/api/v1/hooks/{provider}`).

use super::session::{CurrentUser, Signed};
use super::{AppState, WebError};
use crate::auth::guard as access;
use axum::Json;
use axum::extract::{Path, Query, State, rejection::JsonRejection};
use axum::http::{HeaderMap, StatusCode};
use frontend::api::{
    ApiError, ChangeSummary, ChangeView, CommentRequest, CreateChangeRequest, CreatedChange,
};
use serde::Deserialize;

/// The signed-in user, or 401.
pub struct RequireUser(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequireUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match CurrentUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(Self(user.login)),
            None => Err(crate::error::Error::new(
                crate::error::Code::Unauthenticated,
                "sign in first",
            )
            .into()),
        }
    }
}

pub(super) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, WebError> {
    body.map(|Json(b)| b)
        .map_err(|e| WebError::bad_request("invalid_json", e.body_text()))
}

/// The `Idempotency-Key` header, when sent.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, WebError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| {
                WebError::bad_request("invalid_idempotency_key", "Idempotency-Key must be ASCII")
            })
        })
        .transpose()
}

/// Propose a change: saved as a draft, committed on a branch, opened for review.
#[utoipa::path(post, path = "/api/v1/changes", request_body = CreateChangeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Send the same key to retry safely: one change, one branch")),
    responses((status = 201, body = CreatedChange), (status = 401, body = ApiError), (status = 409, body = ApiError),
        (status = 422, description = "invalid edits or failed validation (with `issues`)", body = ApiError)))]
pub async fn create_change(
    State(state): State<AppState>,
    Signed(me): Signed,
    headers: HeaderMap,
    body: Result<Json<CreateChangeRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedChange>), WebError> {
    let req = json_body(body)?;
    let key = idempotency_key(&headers)?;
    access::may_propose(&state.app, &me, &req.edits)?;
    let (_, created) = state.app.changes.create(&me.login, req, key).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Plan a change without writing anything: the diff and the validation results.
#[utoipa::path(post, path = "/api/v1/changes/preview", request_body = CreateChangeRequest,
    responses((status = 200, body = ChangeView), (status = 422, body = ApiError)))]
pub async fn preview_change(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    body: Result<Json<CreateChangeRequest>, JsonRejection>,
) -> Result<Json<ChangeView>, WebError> {
    let req = json_body(body)?;
    Ok(Json(state.app.changes.preview(&user, req).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ChangeFilter {
    /// `draft`, `open`, `merged` or `closed`.
    pub state: Option<String>,
    /// `me`: open changes waiting for the signed-in user's review (not theirs, not approved by
    /// them). Needs a session.
    pub review: Option<String>,
}

/// Change requests, newest first.
#[utoipa::path(get, path = "/api/v1/changes", params(ChangeFilter),
    responses((status = 200, body = Vec<ChangeSummary>), (status = 401, body = ApiError)))]
pub async fn list_changes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(filter): Query<ChangeFilter>,
) -> Result<Json<Vec<ChangeSummary>>, WebError> {
    let reviewer = match filter.review.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some("me") => Some(user.map(|u| u.login).ok_or_else(|| {
            WebError::from(crate::error::Error::new(
                crate::error::Code::Unauthenticated,
                "sign in to list the changes waiting for your review",
            ))
        })?),
        Some(other) => {
            return Err(WebError::bad_request(
                "unknown_review_filter",
                format!("unknown review filter `{other}`: use `me`"),
            ));
        }
    };
    Ok(Json(
        state
            .app
            .changes
            .list(
                filter.state.as_deref().filter(|s| !s.is_empty()),
                reviewer.as_deref(),
            )
            .await?,
    ))
}

/// One change request: state, diff, validation, approvals, events.
#[utoipa::path(get, path = "/api/v1/changes/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 404, body = ApiError)))]
pub async fn get_change(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<ChangeView>, WebError> {
    let mut view = state.app.changes.view(id).await?;
    access::annotate(&state.app, &mut view).await?;
    Ok(Json(view))
}

/// Discard a draft (its author only): a proposal the server refused, or one never finished.
/// Proposed changes are closed instead (`/close`).
#[utoipa::path(delete, path = "/api/v1/changes/{id}", params(("id" = i64, Path)),
    responses((status = 204, description = "the draft is gone"), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "not a draft (`not_draft`)", body = ApiError)))]
pub async fn discard_change(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app.changes.discard(id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The change's description as markdown (what a remote host gets as the pull request body).
pub async fn get_change_description(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<String, WebError> {
    Ok(state.app.changes.description(id).await?)
}

/// Approve (not your own change).
#[utoipa::path(post, path = "/api/v1/changes/{id}/approve", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 401, body = ApiError),
        (status = 403, description = "not an approver, your own change, or not an owner of a namespace it touches (`not_owner`)", body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn approve_change(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Json<ChangeView>, WebError> {
    access::may_approve(&state.app, &me, id).await?;
    let mut view = state.app.changes.approve(id, &me.login).await?;
    access::annotate(&state.app, &mut view).await?;
    Ok(Json(view))
}

/// Merge onto the base branch (re-applied if it moved; a conflict if a touched file changed).
#[utoipa::path(post, path = "/api/v1/changes/{id}/merge", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 409, body = ApiError)))]
pub async fn merge_change(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Json<ChangeView>, WebError> {
    access::may_merge(&state.app, id).await?;
    Ok(Json(state.app.changes.merge(id, &me.login).await?))
}

/// Close without merging.
#[utoipa::path(post, path = "/api/v1/changes/{id}/close", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 409, body = ApiError)))]
pub async fn close_change(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<i64>,
) -> Result<Json<ChangeView>, WebError> {
    Ok(Json(state.app.changes.close(id, &user).await?))
}

/// Regenerate a conflicting change from the new base (author only).
#[utoipa::path(post, path = "/api/v1/changes/{id}/rebase", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn rebase_change(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<i64>,
) -> Result<Json<ChangeView>, WebError> {
    Ok(Json(state.app.changes.rebase(id, &user).await?))
}

/// Comment on a change.
#[utoipa::path(post, path = "/api/v1/changes/{id}/comments", params(("id" = i64, Path)), request_body = CommentRequest,
    responses((status = 200, body = ChangeView)))]
pub async fn comment_change(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<i64>,
    body: Result<Json<CommentRequest>, JsonRejection>,
) -> Result<Json<ChangeView>, WebError> {
    let req = json_body(body)?;
    Ok(Json(state.app.changes.comment(id, &user, &req.body).await?))
}

/// Change requests touching a resource: open ones and drafts first, then merged ones.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/{namespace}/{name}/changes",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<ChangeSummary>)))]
pub async fn resource_changes(
    State(state): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<Vec<ChangeSummary>>, WebError> {
    let kind = crate::resources::Kind::parse(&kind)
        .ok_or_else(|| WebError::bad_request("unknown_kind", format!("unknown kind `{kind}`")))?;
    Ok(Json(
        state
            .app
            .changes
            .for_resource(kind.as_str(), &namespace, &name)
            .await?,
    ))
}

/// A Git host's webhook: verified (`X-Hub-Signature-256`, `X-Gitlab-Token` or
/// `X-Gitea-Signature`) before anything is parsed; a repeated delivery id changes nothing.
#[utoipa::path(post, path = "/api/v1/hooks/{provider}",
    params(("provider" = String, Path, description = "`github`, `gitlab` or `gitea`: the configured host")),
    responses((status = 200, description = "handled, or a repeated delivery ignored"),
        (status = 401, description = "missing or wrong signature: nothing changed", body = ApiError),
        (status = 404, description = "no such host configured", body = ApiError)))]
pub async fn post_hook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let outcome = state.app.changes.hook(&provider, &headers, &body).await?;
    Ok(Json(serde_json::json!({
        "handled": outcome == crate::changes::HookOutcome::Handled,
        "duplicate": outcome == crate::changes::HookOutcome::Duplicate,
    })))
}

/// Server-sent events: `change` with the change's id whenever its state changes (a review or
/// merge on the host, a merge or close in Tollgate), so its page refreshes.
pub async fn change_events(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> axum::response::sse::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures_util::StreamExt as _;
    let rx = state.app.changes.subscribe();
    let mut stopping = state.app.stopping.subscribe();
    let updates = futures_util::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(changed) if changed == id => {
                    return Some((
                        Ok(Event::default().event("change").data(id.to_string())),
                        rx,
                    ));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let until_stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    Sse::new(updates.take_until(until_stop)).keep_alive(KeepAlive::default())
}
