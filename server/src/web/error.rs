//! The error every handler returns: a stable code, an HTTP status, a message safe to show, and
//! the request id. Details go to the log (once, by [`super::guard::observe`]), never to the
//! client.

use super::guard::{ErrorNote, request_id};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use frontend::api::ApiError;

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub body: Box<ApiError>,
    /// What went wrong inside, for the log only.
    pub detail: Option<String>,
}

impl WebError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ApiError::new(code, message)),
            detail: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(detail: &str) -> Self {
        Self {
            detail: Some(detail.to_owned()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }
    }

    pub fn from_session(e: tower_sessions::session::Error) -> Self {
        Self {
            detail: Some(e.to_string()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_unavailable",
                "the session store is unavailable",
            )
        }
    }

    pub fn from_db(e: crate::db::DbError) -> Self {
        Self {
            detail: Some(e.to_string()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database is unavailable",
            )
        }
    }
}

/// Service errors carry their code; the status follows from it ([`crate::error::Code::status`]).
impl From<crate::error::Error> for WebError {
    fn from(e: crate::error::Error) -> Self {
        let status = e.code.status();
        let detail = e.detail.clone();
        Self {
            status,
            body: Box::new(ApiError::from(e)),
            detail,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let Self {
            status,
            mut body,
            detail,
        } = self;
        body.request_id = request_id();
        let note = ErrorNote {
            code: body.code.clone(),
            detail,
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(note);
        response
    }
}
