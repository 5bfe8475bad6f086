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
/// The session's CSRF token: every write made with the session cookie carries it.
const CSRF_KEY: &str = "csrf";
/// When the session was signed in (Unix seconds), for the absolute expiry.
const SIGNED_IN_AT_KEY: &str = "signed_in_at";

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

/// The CSRF token of the request's session (`None` when nobody is signed in).
#[derive(Debug, Clone, Default)]
pub struct SessionCsrf(pub Option<String>);

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
    session: Session,
    user: CurrentUser,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let auth = &state.app.config.auth;
    // Sessions end `session_max_hours` after sign-in, however active.
    let mut user = user;
    if user.0.is_some() {
        let at = session.get::<i64>(SIGNED_IN_AT_KEY).await.ok().flatten();
        let max = i64::from(auth.session_max_hours) * 3600;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if at.is_none_or(|at| now - at > max) {
            let _ = session.flush().await;
            user = CurrentUser(None);
        }
    }
    // A session is only as good as the way it was signed in: turning a method off ends its
    // sessions.
    let user = CurrentUser(user.0.filter(|u| enabled(auth, &u.provider)).map(|mut u| {
        // Roles follow the configuration as it is now, not as it was at sign-in.
        u.role = crate::auth::role_of(auth, &u);
        u
    }));
    // A script's `Authorization: Bearer tg_…` stands for the token's owner (no session, no
    // CSRF token); an unknown, expired or revoked token is refused outright.
    let bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let user = match bearer {
        None => user,
        Some(token) => {
            match crate::auth::tokens::authenticate(&state.app.db, &token, |owner| {
                crate::auth::role_of(auth, owner)
            })
            .await
            {
                Ok(Some((_, u))) => CurrentUser(Some(u)),
                Ok(None) => {
                    return WebError::from(crate::error::Error::new(
                        crate::error::Code::Unauthenticated,
                        "the token is unknown, expired or revoked",
                    ))
                    .into_response();
                }
                Err(e) => return WebError::from_db(e).into_response(),
            }
        }
    };
    let by_token = user.0.as_ref().is_some_and(|u| u.provider == "token");
    let csrf = match &user.0 {
        Some(_) if by_token => None,
        Some(_) => session.get::<String>(CSRF_KEY).await.ok().flatten(),
        None => None,
    };
    let mut info = session_info(&state, &user);
    info.csrf_token = csrf.clone();
    request.extensions_mut().insert(SessionCsrf(csrf));
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
        providers: state.login.names(),
        ownership: if user.0.is_some() {
            state
                .app
                .config
                .ownership
                .iter()
                .map(|o| frontend::api::OwnershipRule {
                    namespaces: o.namespaces.clone(),
                    groups: o.groups.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// Starts a session for `user`, with a fresh session id (no fixation).
pub async fn sign_in(state: &AppState, session: &Session, user: User) -> Result<(), WebError> {
    session.cycle_id().await.map_err(WebError::from_session)?;
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(WebError::from_session)?;
    session
        .insert(
            SIGNED_IN_AT_KEY,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
        .await
        .map_err(WebError::from_session)?;
    session
        .insert(CSRF_KEY, crate::auth::random_token())
        .await
        .map_err(WebError::from_session)?;
    state
        .app
        .db
        .record_sign_in(&user.login, &user.provider, &user.groups)
        .await
        .map_err(WebError::from_db)?;
    tracing::info!(user = %user.login, provider = %user.provider, "signed in");
    crate::auth::audit::record(
        &state.app.db,
        &user.login,
        "sign_in",
        &format!("session/{}", user.provider),
        "ok",
        "",
        &super::guard::request_id().unwrap_or_default(),
    )
    .await;
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

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    pub csrf_token: Option<String>,
}

/// `POST /auth/logout`: ends the session; someone who signed in through a provider that has an
/// end-session endpoint is offered it, to sign out there too.
pub async fn post_logout(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    axum::extract::Extension(SessionCsrf(expected)): axum::extract::Extension<SessionCsrf>,
    headers: axum::http::HeaderMap,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WebError> {
    let Some(user) = user else {
        return Ok(Redirect::to("/").into_response());
    };
    // A signed-in session ends only with its token: no other site can sign people out.
    let sent = form
        .ok()
        .and_then(|Form(f)| f.csrf_token)
        .or_else(|| super::access::csrf_header(&headers));
    super::access::check_csrf(expected.as_deref(), sent.as_deref())?;
    session.flush().await.map_err(WebError::from_session)?;
    tracing::info!(user = %user.login, provider = %user.provider, "signed out");
    match state.login.end_session_url(&user.provider).await {
        Some(url) => Ok(super::login::auth_page(
            axum::http::StatusCode::OK,
            "Signed out",
            &format!(
                "<p>You are signed out of Tollgate.</p><p><a id=\"end-session\" href=\"{}\">Also sign out of {}</a></p><p><a href=\"/\">Back to Tollgate</a></p>",
                super::access::html_escape(&url),
                super::access::html_escape(&user.provider)
            ),
        )),
        None => Ok(Redirect::to("/").into_response()),
    }
}
