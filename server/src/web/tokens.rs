//! REST handlers for API tokens (`/api/v1/tokens`): make one (its secret shown once), list,
//! revoke. Everyone manages their own; admins list and revoke all.

use super::session::Signed;
use super::{AppState, WebError};
use crate::auth::{Role, tokens};
use crate::error::{Code, Error};
use axum::Json;
use axum::extract::{Path, State, rejection::JsonRejection};
use axum::http::StatusCode;

pub use frontend::api::{CreateTokenRequest, CreatedToken, TokenView};

fn db_err(e: crate::db::DbError) -> WebError {
    WebError::from_db(e)
}

/// Make a token with a role no higher than your own.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = frontend::api::ApiError),
        (status = 403, description = "a role above your own", body = frontend::api::ApiError)))]
pub async fn create_token(
    State(state): State<AppState>,
    Signed(me): Signed,
    body: Result<Json<CreateTokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedToken>), WebError> {
    let req = super::changes::json_body(body)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(
            Error::new(Code::InvalidQuery, "a token's name is 1 to 100 characters")
                .at("name")
                .into(),
        );
    }
    if !(1..=365).contains(&req.expires_in_days) {
        return Err(
            Error::new(Code::InvalidQuery, "expires_in_days must be 1 to 365")
                .at("expires_in_days")
                .into(),
        );
    }
    crate::auth::guard::may_grant(&me, req.role)?;
    let (id, token) = tokens::create(&state.app.db, &me, name, req.role, req.expires_in_days)
        .await
        .map_err(db_err)?;
    tracing::info!(user = %me.login, token = id, role = %req.role, "token created");
    Ok((StatusCode::CREATED, Json(CreatedToken { id, token })))
}

/// Your tokens (an admin's: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = frontend::api::ApiError)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> Result<Json<Vec<TokenView>>, WebError> {
    let owner = (me.role != Role::Admin).then_some(me.login.as_str());
    let rows = tokens::list(&state.app.db, owner).await.map_err(db_err)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Revoke a token: your own, or (as an admin) anyone's.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 401, body = frontend::api::ApiError),
        (status = 403, body = frontend::api::ApiError), (status = 404, body = frontend::api::ApiError)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    let token = tokens::get(&state.app.db, id)
        .await
        .map_err(db_err)?
        .ok_or_else(|| WebError::not_found(format!("no token {id}")))?;
    if !(token.owner.eq_ignore_ascii_case(&me.login) || me.role == Role::Admin) {
        return Err(Error::new(
            Code::Forbidden,
            "only its owner and admins may revoke a token",
        )
        .into());
    }
    tokens::revoke(&state.app.db, id).await.map_err(db_err)?;
    tracing::info!(user = %me.login, token = id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
