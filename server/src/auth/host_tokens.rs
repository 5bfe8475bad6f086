//! Acting as the user on the Git host: the OAuth tokens of people who signed in through the
//! host's own login provider (`host = true`), sealed at rest with `auth.token_key`
//! (ChaCha20-Poly1305 from `ring`, a fresh random nonce per seal, the login bound as
//! associated data so a row cannot be moved to another user), and refreshed with the OAuth
//! `refresh_token` grant before they expire. Tokens never reach a log, an error or the audit
//! log: [`Grant`] and [`crate::hosts::AsUser`] print as `***`. Queries live here (the store of
//! this concept).

use crate::config::{Config, ConfigError, ProviderConfig, ProviderKind};
use crate::db::{Db, DbError};
use crate::hosts::AsUser;
use base64::Engine as _;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, RefreshToken, TokenResponse as _, TokenUrl};
use openidconnect::reqwest as oauth_http;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A token is refreshed when it expires within this many seconds.
const REFRESH_MARGIN_SECS: i64 = 60;

/// What a sign-in through the host's provider got: the user's access token, its refresh token
/// and when it expires. `Debug` shows neither token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub access: String,
    #[serde(default)]
    pub refresh: Option<String>,
    /// Unix seconds; `None` when the provider did not say (GitHub's classic tokens never
    /// expire).
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("access", &"***")
            .field("refresh", &self.refresh.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Every scope that lets a token open pull requests on some host.
const REPO_SCOPES: [&str; 4] = ["repo", "public_repo", "api", "write:repository"];

impl Grant {
    /// The grant of a token response, if the provider acts on the host and the token has a
    /// repository scope (`granted`: the scopes the provider says it granted, if it says;
    /// GitHub separates them with commas, OAuth with spaces).
    pub fn from_response(
        p: &ProviderConfig,
        access: &str,
        refresh: Option<&str>,
        expires_in: Option<Duration>,
        granted: Option<Vec<String>>,
    ) -> Option<Self> {
        if !p.host {
            return None;
        }
        if let Some(granted) = granted {
            let scoped = granted
                .iter()
                .flat_map(|s| s.split([',', ' ']))
                .any(|s| REPO_SCOPES.contains(&s.trim()));
            if !scoped {
                tracing::info!(
                    provider = %p.name,
                    "the user's token has no repository scope: Tollgate acts for them with its own token"
                );
                return None;
            }
        }
        Some(Self {
            access: access.to_owned(),
            refresh: refresh.map(str::to_owned),
            expires_at: expires_in.map(|d| now() + i64::try_from(d.as_secs()).unwrap_or(0)),
        })
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Why a stored token cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the stored host token cannot be opened with auth.token_key (was the key changed?)")]
    Sealed,
    #[error("refreshing the host token failed: {0}")]
    Refresh(String),
}

/// Seals and opens with one 256-bit key.
struct Cipher(LessSafeKey);

impl Cipher {
    fn new(key: &[u8; 32]) -> Result<Self, ConfigError> {
        UnboundKey::new(&CHACHA20_POLY1305, key)
            .map(|k| Self(LessSafeKey::new(k)))
            .map_err(|_| ConfigError::new("auth.token_key cannot be used as a key"))
    }

    /// base64 of nonce and ciphertext (with its tag).
    fn seal(&self, login: &str, plain: &[u8]) -> Result<String, TokenError> {
        use rand::RngCore as _;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut data = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(login.as_bytes()),
                &mut data,
            )
            .map_err(|_| TokenError::Sealed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    fn open(&self, login: &str, sealed: &str) -> Result<Vec<u8>, TokenError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| TokenError::Sealed)?;
        if raw.len() < NONCE_LEN {
            return Err(TokenError::Sealed);
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| TokenError::Sealed)?;
        let mut data = data.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(login.as_bytes()), &mut data)
            .map_err(|_| TokenError::Sealed)?;
        Ok(plain.to_vec())
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    provider: String,
    sealed: String,
    expires_at: Option<i64>,
}

/// The linked provider, with what refreshing needs.
struct Linked {
    config: ProviderConfig,
    secret: String,
}

/// The users' host tokens.
pub struct HostTokens {
    db: Db,
    cipher: Option<Cipher>,
    linked: Option<Linked>,
    http: oauth_http::Client,
    /// One refresh at a time, so two proposals by one user do not spend one refresh token
    /// twice (providers rotate them).
    refreshing: tokio::sync::Mutex<()>,
}

impl HostTokens {
    /// From `auth.token_key` and the provider marked `host = true` (none: nothing is stored).
    pub fn new(config: &Config, db: Db) -> Result<Self, ConfigError> {
        let cipher = match config.auth.token_key()? {
            Some(key) => Some(Cipher::new(&key)?),
            None => None,
        };
        let linked = match config.auth.host_provider() {
            Some(p) if config.host.kind != crate::hosts::HostKind::Local => Some(Linked {
                secret: p.client_secret()?,
                config: p.clone(),
            }),
            _ => None,
        };
        let http = oauth_http::ClientBuilder::new()
            .redirect(oauth_http::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ConfigError(format!("auth.providers: HTTP client: {e}")))?;
        Ok(Self {
            db,
            cipher,
            linked,
            http,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    fn active(&self) -> Option<(&Cipher, &Linked)> {
        Some((self.cipher.as_ref()?, self.linked.as_ref()?))
    }

    /// Keeps `grant` for `login`, who just signed in through `provider`.
    pub async fn save(&self, login: &str, provider: &str, grant: &Grant) -> Result<(), TokenError> {
        let Some((cipher, linked)) = self.active() else {
            return Ok(());
        };
        if linked.config.name != provider {
            return Ok(());
        }
        let plain = serde_json::to_vec(grant).map_err(|_| TokenError::Sealed)?;
        let sealed = cipher.seal(login, &plain)?;
        crate::db_run!(
            &self.db,
            execute,
            "INSERT INTO host_tokens (login, provider, sealed, expires_at, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (login) DO UPDATE SET provider = excluded.provider,
               sealed = excluded.sealed, expires_at = excluded.expires_at,
               updated_at = excluded.updated_at",
            login,
            provider,
            sealed,
            grant.expires_at,
            now()
        )
        .map_err(DbError::from)?;
        Ok(())
    }

    /// Forgets `login`'s token (it was refused, or it expired with no way to refresh it).
    pub async fn forget(&self, login: &str) -> Result<(), TokenError> {
        crate::db_run!(
            &self.db,
            execute,
            "DELETE FROM host_tokens WHERE login = $1",
            login
        )
        .map_err(DbError::from)?;
        Ok(())
    }

    /// The token to act as `login` on the host, refreshed first when it is about to expire;
    /// `None` when they have none (Tollgate then acts with its own token and names them).
    pub async fn for_user(&self, login: &str) -> Result<Option<AsUser>, TokenError> {
        let Some((cipher, linked)) = self.active() else {
            return Ok(None);
        };
        let _one = self.refreshing.lock().await;
        let row: Option<Row> = crate::db_run!(
            &self.db,
            fetch_optional,
            Row,
            "SELECT provider, sealed, expires_at FROM host_tokens WHERE login = $1",
            login
        )
        .map_err(DbError::from)?;
        let Some(row) = row.filter(|r| r.provider == linked.config.name) else {
            return Ok(None);
        };
        let opened = cipher.open(login, &row.sealed).and_then(|plain| {
            serde_json::from_slice::<Grant>(&plain).map_err(|_| TokenError::Sealed)
        });
        let mut grant = match opened {
            Ok(grant) => grant,
            Err(e) => {
                // Sealed with another key: useless now; they act through Tollgate until they
                // sign in again.
                self.forget(login).await?;
                return Err(e);
            }
        };
        grant.expires_at = row.expires_at;
        let due = grant
            .expires_at
            .is_some_and(|at| at - REFRESH_MARGIN_SECS <= now());
        if !due {
            return Ok(Some(AsUser::new(&grant.access)));
        }
        let Some(refresh) = grant.refresh.clone() else {
            if grant.expires_at.is_some_and(|at| at <= now()) {
                self.forget(login).await?;
                return Ok(None);
            }
            return Ok(Some(AsUser::new(&grant.access)));
        };
        let fresh = self.refresh(linked, &refresh).await?;
        self.save(login, &row.provider, &fresh).await?;
        tracing::info!(user = login, "refreshed the user's host token");
        Ok(Some(AsUser::new(&fresh.access)))
    }

    /// The OAuth `refresh_token` grant at the provider's token endpoint (GitHub's, or the
    /// OpenID provider's from discovery).
    async fn refresh(&self, linked: &Linked, refresh: &str) -> Result<Grant, TokenError> {
        let p = &linked.config;
        let token_url = match p.kind {
            ProviderKind::Github => format!(
                "{}/login/oauth/access_token",
                p.github_url.trim_end_matches('/')
            ),
            ProviderKind::Oidc => self.discover_token_url(p).await?,
        };
        let client = BasicClient::new(ClientId::new(p.client_id.clone()))
            .set_client_secret(ClientSecret::new(linked.secret.clone()))
            .set_token_uri(
                TokenUrl::new(token_url).map_err(|e| TokenError::Refresh(e.to_string()))?,
            );
        let token = client
            .exchange_refresh_token(&RefreshToken::new(refresh.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                oauth2::RequestTokenError::ServerResponse(r) => {
                    TokenError::Refresh(r.error().to_string())
                }
                other => TokenError::Refresh(other.to_string()),
            })?;
        Ok(Grant {
            access: token.access_token().secret().clone(),
            // A provider that does not rotate refresh tokens keeps the old one valid.
            refresh: Some(
                token
                    .refresh_token()
                    .map_or_else(|| refresh.to_owned(), |r| r.secret().clone()),
            ),
            expires_at: token
                .expires_in()
                .map(|d| now() + i64::try_from(d.as_secs()).unwrap_or(0)),
        })
    }

    async fn discover_token_url(&self, p: &ProviderConfig) -> Result<String, TokenError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            p.issuer.trim_end_matches('/')
        );
        let failed = |e: &dyn std::fmt::Display| TokenError::Refresh(format!("discovery: {e}"));
        let bytes = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| failed(&e))?
            .bytes()
            .await
            .map_err(|e| failed(&e))?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| failed(&e))?;
        doc["token_endpoint"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| failed(&"no token_endpoint"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_for_their_login_and_key() {
        let cipher = Cipher::new(&[7u8; 32]).unwrap();
        let sealed = cipher.seal("alice", b"gho_secret").unwrap();
        assert!(!sealed.contains("gho_secret"));
        assert_eq!(cipher.open("alice", &sealed).unwrap(), b"gho_secret");
        assert!(cipher.open("bob", &sealed).is_err());
        assert!(
            Cipher::new(&[8u8; 32])
                .unwrap()
                .open("alice", &sealed)
                .is_err()
        );
        assert!(cipher.open("alice", "not base64!").is_err());
        assert!(cipher.open("alice", "AAAA").is_err());
        // A fresh nonce each time.
        assert_ne!(sealed, cipher.seal("alice", b"gho_secret").unwrap());
    }

    #[test]
    fn grants_need_a_linked_provider_and_a_repository_scope() {
        let mut p: ProviderConfig = serde_json::from_value(serde_json::json!({
            "name": "gh", "kind": "github", "client_id": "x"
        }))
        .unwrap();
        assert!(Grant::from_response(&p, "t", None, None, None).is_none());
        p.host = true;
        let g = Grant::from_response(
            &p,
            "gho_x",
            Some("ghr_y"),
            Some(Duration::from_secs(3600)),
            None,
        );
        assert!(g.as_ref().is_some_and(|g| g.expires_at > Some(now())));
        let shown = format!("{g:?}");
        assert!(
            !shown.contains("gho_x") && !shown.contains("ghr_y"),
            "{shown}"
        );
        let scoped = Some(vec!["read:org,repo".to_owned()]);
        assert!(Grant::from_response(&p, "t", None, None, scoped).is_some());
        let unscoped = Some(vec!["read:user".to_owned()]);
        assert!(Grant::from_response(&p, "t", None, None, unscoped).is_none());
    }
}
