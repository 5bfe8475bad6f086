//! The status board's data: the report as JSON, its live event stream (SSE) and metrics.

use super::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use frontend::api::{StatusQuery, StatusReport};
use futures_util::StreamExt;
use std::convert::Infallible;

/// Every API and policy × every cluster: state, applied revision, drifted fields with their
/// managers, the operator's error, and for pending cells the merged change being rolled out.
#[utoipa::path(get, path = "/api/v1/status", params(StatusQuery), responses((status = 200, body = StatusReport)))]
pub async fn get_status(
    State(state): State<AppState>,
    Query(query): Query<StatusQuery>,
) -> axum::response::Response {
    // A rollout is under way where a cluster has not applied its branch head: only then do
    // pending cells need their change looked up; otherwise the cached answer is exact.
    let rolling_out = state
        .app
        .status
        .current()
        .clusters
        .iter()
        .any(|c| c.head_revision.is_some() && c.head_revision != c.applied_revision);
    if rolling_out {
        let mut report = state.app.status.query(&query);
        state.app.changes.name_rollouts(&mut report).await;
        return Json(report).into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.app.status.query_json(&query),
    )
        .into_response()
}

/// Server-sent events: `status` with the new report version, whenever it changes.
pub async fn status_events(
    State(state): State<AppState>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = state.app.status.subscribe();
    let mut stopping = state.app.stopping.subscribe();
    let first = state.app.status.current().version;
    let initial = futures_util::stream::once(async move {
        Ok(Event::default().event("status").data(first.to_string()))
    });
    let updates = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(v) => {
                    return Some((Ok(Event::default().event("status").data(v.to_string())), rx));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    // The stream ends when the server stops, so shutdown never waits on open pages.
    let until_stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    Sse::new(initial.chain(updates).take_until(until_stop)).keep_alive(KeepAlive::default())
}

/// Prometheus metrics: the status board's, and the insights' histograms (lead time per stage,
/// drift episodes) and counters.
pub async fn get_metrics(State(state): State<AppState>) -> axum::response::Response {
    let mut text = state.app.status.metrics();
    match crate::insights::metrics(&state.app.db, state.app.status.has_clusters()).await {
        Ok(more) => text.push_str(&more),
        Err(e) => return super::WebError::from(e).into_response(),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Adopt drift: the live values of a drifted resource become a change request that records
/// what it adopts (and turns stale, unmergeable, when the cluster no longer runs it).
#[utoipa::path(post, path = "/api/v1/status/adopt", request_body = frontend::api::AdoptRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Send the same key to retry safely: one change")),
    responses((status = 201, body = frontend::api::CreatedChange), (status = 422, body = frontend::api::ApiError)))]
pub async fn adopt_drift(
    State(state): State<AppState>,
    super::changes::RequireUser(user): super::changes::RequireUser,
    headers: axum::http::HeaderMap,
    body: Result<Json<frontend::api::AdoptRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<frontend::api::CreatedChange>), super::WebError> {
    let req = super::changes::json_body(body)?;
    let key = super::changes::idempotency_key(&headers)?;
    let created = state.app.changes.adopt(&user, req, key).await?;
    Ok((axum::http::StatusCode::CREATED, Json(created)))
}
