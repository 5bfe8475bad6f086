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
/// managers, the operator's error.
#[utoipa::path(get, path = "/api/v1/status", params(StatusQuery), responses((status = 200, body = StatusReport)))]
pub async fn get_status(
    State(state): State<AppState>,
    Query(query): Query<StatusQuery>,
) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.app.status.query_json(&query),
    )
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

/// Prometheus metrics.
pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.app.status.metrics(),
    )
}

/// Adopt drift: the live values of a drifted resource become a change request.
#[utoipa::path(post, path = "/api/v1/status/adopt", request_body = frontend::api::AdoptRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Send the same key to retry safely: one change, one branch")),
    responses((status = 201, body = frontend::api::CreatedChange), (status = 422, body = frontend::api::ApiError)))]
pub async fn adopt_drift(
    State(state): State<AppState>,
    super::changes::RequireUser(user): super::changes::RequireUser,
    headers: axum::http::HeaderMap,
    Json(req): Json<frontend::api::AdoptRequest>,
) -> Result<(axum::http::StatusCode, Json<frontend::api::CreatedChange>), super::WebError> {
    let key = super::changes::idempotency_key(&headers)?;
    let created = state
        .app
        .status
        .adopt(&state.app.changes, &user, req, key)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(created)))
}
