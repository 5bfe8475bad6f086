//! Sign-in through the configured login providers: `GET /auth/{provider}/login` sends the
//! browser to the provider, `GET /auth/{provider}/callback` completes the sign-in and returns
//! to the page the user came from. Every failure is a page that says what went wrong, with
//! nobody signed in.

use super::AppState;
use super::access::html_escape;
use super::session::sign_in;
use crate::auth::oidc::{Callback, LoginError, Pending};
use crate::auth::{User, local_path, role_from_groups};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

const PENDING_KEY: &str = "login_pending";

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub next: Option<String>,
}

/// A small page for what sign-in has to say, outside the app's pages.
pub fn auth_page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         </head><body><main><h1>{title}</h1>{body_html}</main></body></html>",
        title = html_escape(title),
    );
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn failed(e: &LoginError, audit: impl FnOnce(&'static str)) -> Response {
    let status = match e {
        LoginError::UnknownProvider(_) => StatusCode::NOT_FOUND,
        LoginError::Unavailable(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    tracing::info!(error = %e, detail = e.detail().unwrap_or(""), "sign-in failed");
    let code = match e {
        LoginError::UnknownProvider(_) => "unknown_provider",
        LoginError::NotPending => "not_pending",
        LoginError::WrongState => "wrong_state",
        LoginError::Refused(_) => "provider_refused",
        LoginError::Unavailable(_) => "provider_unavailable",
        LoginError::BadToken(_) => "bad_id_token",
    };
    audit(code);
    auth_page(
        status,
        "Sign-in failed",
        &format!(
            "<p id=\"login-error\">{}</p><p><a href=\"/login\">Back to sign in</a></p>",
            html_escape(&e.to_string())
        ),
    )
}

/// `GET /auth/{provider}/login`: to the provider, remembering where to come back to.
pub async fn get_provider_login(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    match state.login.start(&provider, next).await {
        Ok((url, pending)) => {
            if let Err(e) = session.insert(PENDING_KEY, &pending).await {
                return super::WebError::from_session(e).into_response();
            }
            Redirect::to(&url).into_response()
        }
        Err(e) => failed(&e, |_| ()),
    }
}

/// `GET /auth/{provider}/callback`: checks the answer against the sign-in this browser started
/// (used once), signs in with a new session id, and returns to where the user was.
pub async fn get_provider_callback(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(callback): Query<Callback>,
) -> Response {
    let pending: Option<Pending> = match session.remove(PENDING_KEY).await {
        Ok(p) => p,
        Err(e) => return super::WebError::from_session(e).into_response(),
    };
    let next = pending
        .as_ref()
        .map_or_else(|| "/".to_owned(), |p| local_path(Some(&p.next)).to_owned());
    let identity = match state.login.finish(&provider, pending, &callback).await {
        Ok(i) => i,
        Err(e) => {
            let mut refused = None;
            let page = failed(&e, |code| refused = Some(code));
            crate::auth::audit::record(
                &state.app.db,
                "anonymous",
                "sign_in",
                &format!("session/{provider}"),
                "refused",
                refused.unwrap_or(""),
                &super::guard::request_id().unwrap_or_default(),
            )
            .await;
            return page;
        }
    };
    let hint = crate::auth::oidc::login_from_hint(&identity.login_hint);
    let login = match state
        .app
        .db
        .account_login(&provider, &identity.subject, &hint)
        .await
    {
        Ok(l) => l,
        Err(e) => return super::WebError::from_db(e).into_response(),
    };
    if let Some(grant) = &identity.grant
        && let Err(e) = state.app.host_tokens.save(&login, &provider, grant).await
    {
        // They are signed in all the same; Tollgate acts for them with its own token.
        tracing::warn!(user = %login, error = %e, "cannot keep the user's host token");
    }
    let role = role_from_groups(&state.app.config.auth, &identity.groups);
    let user = User {
        login,
        provider,
        groups: identity.groups,
        role,
    };
    match sign_in(&state, &session, user).await {
        Ok(()) => Redirect::to(&next).into_response(),
        Err(e) => e.into_response(),
    }
}
