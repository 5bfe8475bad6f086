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

use Need::{Admin, Approve, Propose, Public, Read};
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
    (Get, "/status", Read),
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
    match need.check(signed_in, role) {
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
