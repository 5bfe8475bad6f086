//! Who may call what: the one table naming the permission ([`Need`]) of every route of the
//! router (REST, event streams, pages, sign-in, assets), and the one middleware that checks it
//! before any handler runs. The REST API answers 401 `unauthenticated` or 403 `forbidden`
//! with the JSON error; a page sends an anonymous visitor to sign in and shows a signed-in one
//! a refusal. A route missing from the table is refused (`no_permission`, a 500): adding a
//! route means saying who may use it, and the route × role test catches one that does not.

use super::session::CurrentUser;
use super::{AppState, WebError};
use crate::auth::{Need, Role};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// An HTTP method of the table (`Any`: every method, for catch-alls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Delete,
    Any,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Any => "*",
        }
    }

    fn matches(self, method: &Method) -> bool {
        match self {
            Self::Any => true,
            // HEAD is a GET without the body.
            Self::Get => method == Method::GET || method == Method::HEAD,
            Self::Post => method == Method::POST,
            Self::Delete => method == Method::DELETE,
        }
    }
}

use Need::{Admin, Approve, Propose, Public, Read, SignedIn};
use Verb::{Any, Delete, Get, Post};

/// Every route and the permission it needs: path as the router spells it.
pub const ROUTES: &[(Verb, &str, Need)] = &[
    (Get, "/healthz", Public),
    (Get, "/readyz", Public),
    (Get, "/api/openapi.json", Public),
    (Get, "/api/v1/session", Public),
    (Get, "/api/v1/resources", Read),
    (Get, "/api/v1/resources/{kind}/{namespace}/{name}", Read),
    (
        Get,
        "/api/v1/resources/{kind}/{namespace}/{name}/changes",
        Read,
    ),
    (Get, "/api/v1/problems", Read),
    (Get, "/api/v1/validation-context", Read),
    (Get, "/api/v1/repo", Read),
    (Get, "/api/v1/status", Read),
    (Get, "/api/v1/status/events", Read),
    (Post, "/api/v1/status/adopt", Admin),
    (Get, "/metrics", Read),
    (Get, "/api/v1/changes", Read),
    (Post, "/api/v1/changes", Propose),
    (Post, "/api/v1/changes/preview", Propose),
    (Get, "/api/v1/changes/{id}", Read),
    (Delete, "/api/v1/changes/{id}", Propose),
    (Get, "/api/v1/changes/{id}/description", Read),
    (Post, "/api/v1/changes/{id}/approve", Approve),
    (Post, "/api/v1/changes/{id}/merge", Approve),
    (Post, "/api/v1/changes/{id}/close", Propose),
    (Post, "/api/v1/changes/{id}/rebase", Propose),
    (Post, "/api/v1/changes/{id}/comments", Propose),
    (Get, "/api/v1/changes/{id}/events", Read),
    (
        Get,
        "/api/v1/resources/{kind}/{namespace}/{name}/history",
        Read,
    ),
    (
        Get,
        "/api/v1/resources/{kind}/{namespace}/{name}/at/{commit}",
        Read,
    ),
    (
        Post,
        "/api/v1/resources/{kind}/{namespace}/{name}/restore",
        Propose,
    ),
    (Get, "/api/v1/history/status", Read),
    (
        Get,
        "/api/v1/resources/{kind}/{namespace}/{name}/live",
        Read,
    ),
    (Get, "/api/v1/activity", Read),
    (Get, "/api/v1/activity/events", Read),
    (Get, "/api/v1/insights", Read),
    // Git host webhooks: anyone may deliver; the signature is checked before anything is read.
    (Post, "/api/v1/hooks/{provider}", Public),
    (Post, "/api/v1/tokens", SignedIn),
    (Get, "/api/v1/tokens", SignedIn),
    (Delete, "/api/v1/tokens/{id}", SignedIn),
    (Get, "/api/v1/audit", Admin),
    (Get, "/audit", Admin),
    // Unknown API paths answer 404 to everyone.
    (Any, "/api/v1/{*rest}", Public),
    (Any, "/api/{*rest}", Public),
    (Post, "/auth/demo", Public),
    (Post, "/auth/logout", Public),
    (Get, "/auth/{provider}/login", Public),
    (Get, "/auth/{provider}/callback", Public),
    (Get, "/pkg/{*path}", Public),
    (Get, "/assets/{*path}", Public),
    (Get, "/favicon.ico", Public),
    // Pages. Forms are pages to read: proposing from them is the API's `Propose`.
    (Get, "/", Read),
    (Get, "/login", Public),
    (Get, "/apis", Read),
    (Get, "/apis/new", Read),
    (Get, "/apis/{namespace}/{name}", Read),
    (Get, "/apis/{namespace}/{name}/edit", Read),
    (Get, "/yaml/{kind}/{namespace}/{name}", Read),
    (Get, "/changes", Read),
    (Get, "/changes/new", Read),
    (Get, "/changes/{id}", Read),
    (Get, "/oas/new", Read),
    (Get, "/oas/{namespace}/{name}", Read),
    (Get, "/oas/{namespace}/{name}/edit", Read),
    (Get, "/policies", Read),
    (Get, "/policies/new", Read),
    (Get, "/policies/{namespace}/{name}", Read),
    (Get, "/policies/{namespace}/{name}/edit", Read),
    (Get, "/problems", Read),
    (Get, "/insights", Read),
    (Get, "/status", Read),
    (Get, "/activity", Read),
    (Get, "/settings/tokens", SignedIn),
];

/// The permission `method` on the route `path` needs; `None` when the table does not say.
/// Git host webhooks (`/api/v1/hooks/…`) are public: they are verified by their signatures.
pub fn need_of(method: &Method, path: &str) -> Option<Need> {
    if path.starts_with("/api/v1/hooks/") {
        return Some(Public);
    }
    ROUTES
        .iter()
        .find(|(verb, p, _)| *p == path && verb.matches(method))
        .map(|(_, _, need)| *need)
        .or_else(|| {
            // A path the table lists under other methods: the router answers 405.
            ROUTES.iter().any(|(_, p, _)| *p == path).then_some(Public)
        })
}

/// Who is asking, for the permission check: whether they are signed in and their role.
pub fn role_of_request(state: &AppState, user: &CurrentUser) -> (bool, Option<Role>) {
    match &user.0 {
        Some(u) => (true, Some(u.role)),
        None => (false, crate::auth::anonymous_role(&state.app.config.auth)),
    }
}

/// Middleware: checks the route's permission. Runs after routing (so the matched route is
/// known) and after `identify` (so the user is).
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        // No route matched: the fallback (static files, the not-found page).
        return next.run(request).await;
    };
    let Some(need) = need_of(request.method(), &path) else {
        return WebError {
            detail: Some(format!(
                "{} {path} is missing from web::access::ROUTES",
                request.method()
            )),
            ..WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no_permission",
                "this route declares no permission, so it is refused",
            )
        }
        .into_response();
    };
    let user = request
        .extensions()
        .get::<CurrentUser>()
        .cloned()
        .unwrap_or_default();
    let (signed_in, role) = role_of_request(&state, &user);
    let by_token = user.0.as_ref().is_some_and(|u| u.provider == "token");
    let write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let audited = write && path != "/auth/demo" && !path.starts_with("/api/v1/hooks/");
    let (method, uri_path) = (
        request.method().as_str().to_owned(),
        request.uri().path().to_owned(),
    );
    let response = decide(
        &state, request, next, &path, need, signed_in, role, by_token,
    )
    .await;
    if audited {
        let status = response.status();
        let (action, resource) = super::audit::action_of(&method, &path, &uri_path);
        let outcome = if status.as_u16() == 401 || status.as_u16() == 403 {
            "refused"
        } else if status.is_client_error() || status.is_server_error() {
            "failed"
        } else {
            "ok"
        };
        // A preview writes nothing: only its refusals are worth a line.
        if !(action == "preview" && outcome == "ok") {
            let code = response
                .extensions()
                .get::<super::guard::ErrorNote>()
                .map(|n| n.code.clone())
                .unwrap_or_default();
            let actor = user.0.as_ref().map_or("anonymous", |u| u.login.as_str());
            crate::auth::audit::record(
                &state.app.db,
                actor,
                &action,
                &resource,
                outcome,
                &code,
                &super::guard::request_id().unwrap_or_default(),
            )
            .await;
        }
    }
    response
}

/// Lets the request through or refuses it: the route's permission, then (for writes made with
/// the session cookie) the CSRF token.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site: the middleware above"
)]
async fn decide(
    state: &AppState,
    request: Request,
    next: Next,
    path: &str,
    need: Need,
    signed_in: bool,
    role: Option<Role>,
    by_token: bool,
) -> Response {
    let _ = state;
    match need.check(signed_in, role) {
        Ok(())
            if signed_in
                && !by_token
                && needs_csrf(request.method(), path)
                && declared(request.method(), path) =>
        {
            let expected = request
                .extensions()
                .get::<super::session::SessionCsrf>()
                .and_then(|c| c.0.clone());
            match check_csrf(
                expected.as_deref(),
                csrf_header(request.headers()).as_deref(),
            ) {
                Ok(()) => next.run(request).await,
                Err(e) => e.into_response(),
            }
        }
        Ok(()) => next.run(request).await,
        Err(e) => {
            let api = path.starts_with("/api/") || path == "/metrics";
            if api || request.method() != Method::GET {
                return WebError::from(e).into_response();
            }
            if !signed_in {
                let here = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let next_path = crate::auth::local_path(Some(&here));
                return Redirect::to(&format!("/login?next={}", encode(next_path))).into_response();
            }
            refused_page(&e.message)
        }
    }
}

/// Writes made with the session cookie carry the session's CSRF token in `X-CSRF-Token`. Not
/// checked here: the demo sign-in (it signs in, with its `Origin` checked by the same-origin
/// guard), sign-out (its form carries the token, checked by the handler) and Git host webhooks
/// (signed).
fn needs_csrf(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !matches!(path, "/auth/demo" | "/auth/logout")
        && !path.starts_with("/api/v1/hooks/")
}

/// Whether the table names this method on this path itself (not a catch-all, not a method the
/// router answers with 405).
fn declared(method: &Method, path: &str) -> bool {
    ROUTES
        .iter()
        .any(|(verb, p, _)| *p == path && *verb != Any && verb.matches(method))
        || path.starts_with("/api/v1/")
            && !ROUTES.iter().any(|(_, p, _)| *p == path)
            && path != "/api/v1/{*rest}"
}

/// The `X-CSRF-Token` header, when sent.
pub fn csrf_header(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// 403 `csrf` unless `sent` is the session's token.
pub fn check_csrf(expected: Option<&str>, sent: Option<&str>) -> Result<(), WebError> {
    let ok = match (expected, sent) {
        (Some(e), Some(s)) => {
            e.len() == s.len() && e.bytes().zip(s.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(WebError::forbidden(
            "csrf",
            "this write needs the session's CSRF token in the X-CSRF-Token header (see csrf_token in GET /api/v1/session); nothing was changed",
        ))
    }
}

/// A page refused to a signed-in user whose role is too low.
fn refused_page(message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not allowed</title>\
         <link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main>\
         <h1>Not allowed</h1><p id=\"refusal\">{}</p><p><a href=\"/\">Back to the APIs</a></p>\
         </main></body></html>",
        html_escape(message)
    );
    (
        StatusCode::FORBIDDEN,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_entry_per_route_and_method() {
        let mut seen = std::collections::HashSet::new();
        for (verb, path, _) in ROUTES {
            assert!(seen.insert((verb.as_str(), *path)), "{path} twice");
        }
        assert_eq!(
            need_of(&Method::POST, "/api/v1/changes/{id}/merge"),
            Some(Approve)
        );
        assert_eq!(need_of(&Method::HEAD, "/status"), Some(Read));
        assert_eq!(need_of(&Method::POST, "/api/v1/hooks/github"), Some(Public));
        assert_eq!(need_of(&Method::GET, "/nowhere/{x}"), None);
    }
}
