//! Sessions over HTTP: the `CurrentUser` extractor, the middleware that resolves it once per
//! request, and the sign-in and sign-out routes. Each sign-in method ends by calling
//! [`sign_in`]; who may sign in how is [`crate::auth`]'s business.

use super::{AppState, WebError};
use crate::auth::{User, enabled, local_path, valid_login};
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

const USER_KEY: &str = "user";

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

/// The signed-in user, or 401 (`unauthenticated`).
pub struct Signed(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match CurrentUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(Self(user)),
            None => Err(crate::error::Error::new(
                crate::error::Code::Unauthenticated,
                "sign in first",
            )
            .into()),
        }
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
    let auth = &state.app.config.auth;
    let user = CurrentUser(user.0.filter(|u| enabled(auth, &u.provider)).map(|mut u| {
        // Roles follow the configuration as it is now, not as it was at sign-in.
        u.role = crate::auth::role_of(auth, &u);
        u
    }));
    let info = session_info(&state, &user);
    request.extensions_mut().insert(user);
    request.extensions_mut().insert(info);
    next.run(request).await
}

/// What `GET /api/v1/session` and the pages get: who is signed in, their role, how to sign in.
pub fn session_info(state: &AppState, user: &CurrentUser) -> frontend::api::SessionInfo {
    let auth = &state.app.config.auth;
    frontend::api::SessionInfo {
        user: user.0.as_ref().map(|u| u.login.clone()),
        role: match &user.0 {
            Some(u) => Some(u.role),
            None => crate::auth::anonymous_role(auth),
        },
        groups: user
            .0
            .as_ref()
            .map(|u| u.groups.clone())
            .unwrap_or_default(),
        csrf_token: None,
        demo_login: auth.demo,
        demo_users: auth
            .demo_users
            .iter()
            .map(|u| u.name().to_owned())
            .collect(),
        providers: Vec::new(),
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
        .record_sign_in(&user.login, &user.provider, &user.groups)
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

/// `POST /auth/demo`: signs in as any name (only mounted when `auth.demo` is on).
pub async fn post_demo_sign_in(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DemoSignIn>,
) -> Result<Response, WebError> {
    // One person, one login: `ALICE` signs in as alice.
    let login = valid_login(&form.user)?.to_ascii_lowercase();
    let (role, groups) = crate::auth::demo_user(&state.app.config.auth, &login);
    sign_in(
        &state,
        &session,
        User {
            login,
            provider: "demo".into(),
            groups,
            role,
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
