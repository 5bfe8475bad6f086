//! Who is asking: sessions, the `CurrentUser` extractor, and the demo sign-in.
//!
//! Real OAuth2/OIDC sign-in, roles and CSRF protection plug in here later: each sign-in method
//! ends by calling [`sign_in`], and every route learns the user through [`CurrentUser`].

use crate::web::{AppState, WebError};
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const USER_KEY: &str = "user";

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    /// How they signed in (`demo`, later `oidc`, `github`...).
    pub provider: String,
}

/// The user of the current request, if anyone is signed in. Every route gets it from the
/// session through [`identify`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CurrentUser(pub Option<User>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::internal("the session layer is missing"))?;
        let user = session
            .get::<User>(USER_KEY)
            .await
            .map_err(WebError::from_session)?;
        Ok(Self(user))
    }
}

/// Middleware: resolves the user once per request and shares it with handlers and pages.
pub async fn identify(
    State(state): State<AppState>,
    user: CurrentUser,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // A session is only as good as the way it was signed in: turning a method off ends its
    // sessions.
    let user = CurrentUser(
        user.0
            .filter(|u| enabled(&state.app.config.auth, &u.provider)),
    );
    let info = frontend::api::SessionInfo {
        user: user.0.as_ref().map(|u| u.login.clone()),
        demo_login: state.app.config.auth.demo,
        demo_users: state.app.config.auth.demo_users.clone(),
    };
    request.extensions_mut().insert(user);
    request.extensions_mut().insert(info);
    next.run(request).await
}

/// Whether sign-in through `provider` is on.
fn enabled(auth: &crate::config::AuthConfig, provider: &str) -> bool {
    match provider {
        "demo" => auth.demo,
        _ => false,
    }
}

/// Starts a session for `user`, with a fresh session id (no fixation).
pub async fn sign_in(state: &AppState, session: &Session, user: User) -> Result<(), WebError> {
    session.cycle_id().await.map_err(WebError::from_session)?;
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(WebError::from_session)?;
    state
        .app
        .db
        .record_sign_in(&user.login, &user.provider)
        .await
        .map_err(WebError::from_db)?;
    tracing::info!(user = %user.login, provider = %user.provider, "signed in");
    Ok(())
}

/// The demo sign-in form.
#[derive(Debug, Deserialize)]
pub struct DemoSignIn {
    pub user: String,
    /// Where to go afterwards (a local path).
    #[serde(default)]
    pub next: Option<String>,
}

/// Checks a login name: 1 to 64 characters of letters, digits, `.`, `_`, `-`.
pub fn valid_login(name: &str) -> Result<&str, WebError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(WebError::bad_request(
            "invalid_user",
            "user must be 1 to 64 letters, digits, dots, dashes or underscores",
        ))
    }
}

/// Only a same-origin path, so the form cannot redirect elsewhere: one leading `/`, and no
/// backslash, whitespace or control character anywhere. Browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/\t/evil.example` or `/\\evil` would otherwise become
/// `//evil.example`, another origin; a newline would also make the `Location` header invalid.
/// Percent-encoded bytes (`/%09/evil`) stay a path and are fine.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            p
        }
        _ => "/",
    }
}

/// `POST /auth/demo`: signs in as any name (only mounted when `auth.demo` is on).
pub async fn post_demo_sign_in(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DemoSignIn>,
) -> Result<Response, WebError> {
    // One person, one login: `ALICE` signs in as alice.
    let login = valid_login(&form.user)?.to_ascii_lowercase();
    sign_in(
        &state,
        &session,
        User {
            login,
            provider: "demo".into(),
        },
    )
    .await?;
    Ok(Redirect::to(local_path(form.next.as_deref())).into_response())
}

/// `POST /auth/logout`.
pub async fn post_logout(session: Session) -> Result<Response, WebError> {
    session.flush().await.map_err(WebError::from_session)?;
    Ok(Redirect::to("/").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_checked() {
        assert!(valid_login("alice").is_ok());
        assert!(valid_login(" bob.smith-2 ").is_ok());
        assert!(valid_login("").is_err());
        assert!(valid_login("<script>").is_err());
        assert!(valid_login(&"a".repeat(65)).is_err());
    }

    #[test]
    fn redirects_stay_local() {
        assert_eq!(local_path(Some("/apis?q=x")), "/apis?q=x");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn redirects_refuse_what_browsers_would_turn_into_another_origin() {
        for next in [
            "/\t/evil.example",
            "/\n/evil",
            "/\r\n/evil",
            "\\/evil",
            "/\\evil",
            "//evil",
            "https://evil",
            "/ /evil",
            "/\u{0}/evil",
            "/\u{a0}/evil",
            "",
            "evil",
        ] {
            assert_eq!(local_path(Some(next)), "/", "{next:?}");
        }
        // Percent-encoded, a tab is just a path segment.
        assert_eq!(local_path(Some("/%09/evil")), "/%09/evil");
        assert_eq!(
            local_path(Some("/apis/new?kind=x&next=%2F")),
            "/apis/new?kind=x&next=%2F"
        );
    }
}
