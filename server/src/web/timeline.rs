//! REST handlers of the cluster timeline (what ran where, when) and the activity feed, with the
//! feed's live event stream.

use super::{AppState, WebError};
use axum::Json;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::response::sse::{Event, KeepAlive, Sse};
use frontend::api::ApiError;
use frontend::api::timeline::{ActivityPage, ActivityQuery, LiveQuery, LiveReport};
use futures_util::StreamExt;
use std::convert::Infallible;

/// What a resource ran as in each cluster (or the one asked) at a time: the revision the agent
/// had applied, the resource's sync state, the drifted fields and who changed them, the
/// operator's error, and whether the cluster could be reached — as the timeline recorded it.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/{namespace}/{name}/live",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path), LiveQuery),
    responses((status = 200, body = LiveReport), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get_live(
    State(state): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
    query: Result<Query<LiveQuery>, QueryRejection>,
) -> Result<Json<LiveReport>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(
        state
            .app
            .timeline
            .live_at(
                &kind,
                &namespace,
                &name,
                query.cluster.as_deref(),
                query.at.as_deref(),
            )
            .await?,
    ))
}

/// One newest-first stream of changes proposed and merged, rollouts per cluster, drift
/// episodes, failures and unreachable periods. A namespace or kind filter leaves out
/// cluster-wide items (rollouts, unreachable periods); a cluster filter leaves out changes.
#[utoipa::path(get, path = "/api/v1/activity", params(ActivityQuery),
    responses((status = 200, body = ActivityPage), (status = 400, body = ApiError)))]
pub async fn list_activity(
    State(state): State<AppState>,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Json<ActivityPage>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(state.app.timeline.activity(&query).await?))
}

/// One `()` per announcement of a broadcast channel (a lagging reader gets one for all it
/// missed); ends when the channel closes.
fn ticks<T: Clone + Send + 'static>(
    rx: tokio::sync::broadcast::Receiver<T>,
) -> impl futures_util::Stream<Item = ()> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Some(((), rx)),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    })
}

/// Server-sent events: `activity` whenever the feed may have new items (a change moved, or the
/// timeline stored new episodes).
pub async fn activity_events(
    State(state): State<AppState>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let changes = ticks(state.app.changes.subscribe()).boxed();
    let timeline = ticks(state.app.timeline.subscribe()).boxed();
    let mut n = 0u64;
    let updates = futures_util::stream::select(changes, timeline).map(move |()| {
        n += 1;
        Ok(Event::default().event("activity").data(n.to_string()))
    });
    let initial =
        futures_util::stream::once(async { Ok(Event::default().event("activity").data("0")) });
    let mut stopping = state.app.stopping.subscribe();
    // The stream ends when the server stops, so shutdown never waits on open pages.
    let until_stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    Sse::new(initial.chain(updates).take_until(until_stop)).keep_alive(KeepAlive::default())
}
