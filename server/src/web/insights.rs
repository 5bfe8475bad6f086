//! `GET /api/v1/insights`: lead time, changes per week, drift episodes and change failure over
//! a range, as JSON (the `/insights` page draws the same report).

use super::{AppState, WebError};
use axum::Json;
use axum::extract::{Query, State, rejection::QueryRejection};
use frontend::api::ApiError;
use frontend::api::insights::{InsightsQuery, InsightsReport};

/// Lead time (median and p90 per week), changes and failures per week, and drift episodes per
/// cluster, over `from`..`to` or the last `weeks` (default 12).
#[utoipa::path(get, path = "/api/v1/insights", params(InsightsQuery),
    responses((status = 200, body = InsightsReport),
        (status = 400, description = "a bad range", body = ApiError)))]
pub async fn get_insights(
    State(state): State<AppState>,
    query: Result<Query<InsightsQuery>, QueryRejection>,
) -> Result<Json<InsightsReport>, WebError> {
    let Query(query) = query.map_err(|e| WebError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(
        crate::insights::query(&state.app.db, state.app.status.has_clusters(), &query).await?,
    ))
}
