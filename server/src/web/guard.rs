//! Middleware every request passes: a request id on the response, in the log and in error
//! bodies; each error logged once; security headers; and writes refused unless they come from
//! Tollgate's own pages (or from a client that is not a browser).

use super::WebError;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument as _;

tokio::task_local! {
    /// The id of the request being served, for error bodies.
    static REQUEST_ID: String;
}

/// The current request's id, inside a request.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// What an error response leaves for the log: written by [`WebError`], logged by [`observe`].
#[derive(Debug, Clone)]
pub struct ErrorNote {
    pub code: String,
    /// What went wrong inside, for operators only.
    pub detail: Option<String>,
}

/// A client's id is kept when it is short and plain; otherwise (or when absent) a new one.
fn choose_id(headers: &HeaderMap) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(id) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
        && !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return id.to_owned();
    }
    let started = std::process::id();
    format!(
        "{started:x}-{:x}",
        NEXT.fetch_add(1, Ordering::Relaxed) ^ startup_salt()
    )
}

/// Makes ids differ between runs of the same process id.
fn startup_salt() -> u64 {
    static SALT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SALT.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0);
        h.finish() & 0xffff_ffff_0000_0000
    })
}

/// Gives the request an id (`x-request-id`, kept from the client when sensible), runs it inside a
/// span that carries the id, sets the header on the response, and logs an error response once.
pub async fn observe(request: Request, next: Next) -> Response {
    let id = choose_id(request.headers());
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;
    let status = response.status();
    if let Some(note) = response.extensions_mut().remove::<ErrorNote>() {
        let _enter = span.enter();
        let detail = note.detail.as_deref().unwrap_or("");
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), code = %note.code, detail, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), code = %note.code, detail, "request refused");
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Security headers on every response. Pages add their `Content-Security-Policy` (it carries
/// the page's nonce); everything else gets a strict one.
///
/// Scripts, stylesheets and wasm get only `nosniff`: the browser applies no frame, referrer or
/// content policy of theirs to the page (they are not documents), and each header is bytes on
/// every request of a page's first load.
pub async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let subresource = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            [
                "application/wasm",
                "text/css",
                "text/javascript",
                "application/javascript",
            ]
            .iter()
            .any(|sub| t.starts_with(sub))
        });
    if subresource {
        return response;
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let html = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        // A page rendered without a nonce (the not-found fallback) runs no inline script.
        let policy = if html {
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        } else {
            "default-src 'none'; frame-ancestors 'none'"
        };
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
    }
    response
}

/// The policy of a server-rendered page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

fn forbidden(message: &str) -> Response {
    WebError::forbidden("cross_origin", message).into_response()
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_origin(origin: &str, host: &str) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Refuses writes a browser sent from another site: the `Sec-Fetch-Site` a browser sets, or
/// else its `Origin`, must be Tollgate's own. A JSON endpoint also needs a JSON body, which no
/// plain HTML form can send, so a forged form post cannot reach it. Clients that are not
/// browsers (no `Origin`, no `Sec-Fetch-Site`) pass: they hold no one's cookies.
pub async fn same_origin_writes(request: Request, next: Next) -> Response {
    let method = request.method();
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let path = request.uri().path();
    if path.starts_with("/api/v1/hooks/") {
        // Git host webhooks: verified by their signatures, never by cookies.
        return next.run(request).await;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return forbidden("cross-site writes are refused; use Tollgate's own pages");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = origin.to_str().unwrap_or("null");
        if !same_origin(origin, host) {
            return forbidden("cross-origin writes are refused; use Tollgate's own pages");
        }
    }
    if method == Method::POST && path.starts_with("/api/") {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| {
                let t = t.trim();
                t.eq_ignore_ascii_case("application/json")
                    || (t.len() > 5 && t[t.len() - 5..].eq_ignore_ascii_case("+json"))
            });
        if !json {
            return WebError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "send a JSON body with `Content-Type: application/json` (an empty action takes `{}`)",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// The code of an error answered without one (an extractor's or the router's rejection).
fn code_of(status: axum::http::StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "too_large",
        415 => "unsupported_media_type",
        400 | 422 => "invalid_request",
        408 => "timeout",
        s if s >= 500 => "internal",
        _ => "invalid_request",
    }
}

/// Under `/api/`, every error is the JSON error: rejections that axum answers in plain text
/// (a malformed path parameter, a wrong method, a body too large) are rewritten.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = if status.is_server_error() || text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned()
    } else {
        text.trim().chars().take(500).collect()
    };
    let mut error = WebError::new(status, code_of(status), message);
    error.detail = Some(text.into_owned());
    let mut rewritten = error.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, v.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_by_host_and_port() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("https://Tollgate.Example", "tollgate.example"));
        assert!(!same_origin("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("http://evil.example", "tollgate.example"));
    }

    #[test]
    fn request_ids_are_kept_when_plain_and_made_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(choose_id(&headers), "abc-123");
        headers.insert("x-request-id", HeaderValue::from_static("has space"));
        let made = choose_id(&headers);
        assert_ne!(made, "has space");
        assert_ne!(choose_id(&HeaderMap::new()), choose_id(&HeaderMap::new()));
    }
}
