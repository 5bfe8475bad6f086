//! The error every handler returns: a stable code, an HTTP status, a message safe to show.
//! Details go to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use frontend::api::ApiError;

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub body: ApiError,
}

impl WebError {
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ApiError::new(code, message),
        }
    }

    pub fn internal(message: &str) -> Self {
        tracing::error!(message, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: ApiError::new("internal", "internal error"),
        }
    }

    pub fn from_session(e: tower_sessions::session::Error) -> Self {
        tracing::error!(error = %e, "session store error");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: ApiError::new("session_unavailable", "the session store is unavailable"),
        }
    }

    pub fn from_db(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database error");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: ApiError::new("database_unavailable", "the database is unavailable"),
        }
    }
}

/// Service errors carry their code; the status follows from it.
impl From<ApiError> for WebError {
    fn from(body: ApiError) -> Self {
        let status = match body.code.as_str() {
            "not_found" => StatusCode::NOT_FOUND,
            "not_ready" | "database_unavailable" | "repo_unavailable" | "busy" => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            "unknown_kind" | "invalid_query" | "invalid_json" | "invalid_idempotency_key" => {
                StatusCode::BAD_REQUEST
            }
            "unauthenticated" => StatusCode::UNAUTHORIZED,
            "forbidden" | "self_approval" => StatusCode::FORBIDDEN,
            "conflict" | "not_open" | "not_draft" | "approval_required" | "already_exists" => {
                StatusCode::CONFLICT
            }
            "internal" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self { status, body }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
