//! API tokens for scripts and CI: `tg_` and 64 hex digits, shown once, stored as their SHA-256.
//! A token acts for its owner with its own role, never above the owner's current one, until it
//! expires or is revoked. Queries live here (the store of this concept).

use super::{Role, User};
use crate::db::{Db, DbError};
use sha2::Digest as _;

/// The prefix of every token, so secret scanners and people can tell them apart.
pub const PREFIX: &str = "tg_";

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// What a token authenticates as.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Holder {
    id: i64,
    owner: String,
    owner_provider: String,
    owner_groups: String,
    role: String,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The stored form of a secret.
pub fn hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a token for `owner`: its id and the secret (returned once, never stored).
pub async fn create(
    db: &Db,
    owner: &User,
    name: &str,
    role: Role,
    days: u32,
) -> Result<(i64, String), DbError> {
    let secret = format!("{PREFIX}{}", super::random_token());
    let groups = serde_json::to_string(&owner.groups).unwrap_or_else(|_| "[]".into());
    let created = now();
    let expires = created + i64::from(days) * 86_400;
    let (id,): (i64,) = crate::db_run!(
        db,
        fetch_one,
        (i64,),
        "INSERT INTO api_tokens (name, owner, owner_provider, owner_groups, role, hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        name,
        &owner.login,
        &owner.provider,
        groups,
        role.as_str(),
        hash(&secret),
        created,
        expires
    )?;
    Ok((id, secret))
}

/// The user a presented token stands for, when it is known, unexpired and unrevoked. The
/// role is the token's, capped by what its owner may do now (`owner_role`).
pub async fn authenticate(
    db: &Db,
    token: &str,
    owner_role: impl Fn(&User) -> Role,
) -> Result<Option<(i64, User)>, DbError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let row: Option<Holder> = crate::db_run!(
        db,
        fetch_optional,
        Holder,
        "SELECT id, owner, owner_provider, owner_groups, role FROM api_tokens
         WHERE hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        hash(token),
        now()
    )?;
    Ok(row.map(|h| {
        let owner = User {
            login: h.owner,
            provider: h.owner_provider,
            groups: serde_json::from_str(&h.owner_groups).unwrap_or_default(),
            role: Role::Viewer,
        };
        let cap = owner_role(&owner);
        let role = Role::parse(&h.role).unwrap_or(Role::Viewer).min(cap);
        (
            h.id,
            User {
                role,
                provider: "token".into(),
                ..owner
            },
        )
    }))
}

impl From<TokenRow> for frontend::api::TokenView {
    fn from(t: TokenRow) -> Self {
        Self {
            id: t.id,
            name: t.name,
            owner: t.owner,
            role: t.role,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// Tokens of `owner`, or every token (`None`), newest first.
pub async fn list(db: &Db, owner: Option<&str>) -> Result<Vec<TokenRow>, DbError> {
    let all = owner.is_none();
    crate::db_run!(
        db,
        fetch_all,
        TokenRow,
        "SELECT id, name, owner, role, created_at, expires_at, revoked_at FROM api_tokens
         WHERE $1 OR lower(owner) = lower($2) ORDER BY id DESC",
        all,
        owner.unwrap_or("")
    )
    .map_err(Into::into)
}

/// One token, for the revocation check.
pub async fn get(db: &Db, id: i64) -> Result<Option<TokenRow>, DbError> {
    crate::db_run!(
        db,
        fetch_optional,
        TokenRow,
        "SELECT id, name, owner, role, created_at, expires_at, revoked_at FROM api_tokens WHERE id = $1",
        id
    )
    .map_err(Into::into)
}

/// Revokes a token; false when it was already revoked.
pub async fn revoke(db: &Db, id: i64) -> Result<bool, DbError> {
    let n = crate::db_run!(
        db,
        execute,
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        now(),
        id
    )?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            super::hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
