//! GitHub App authentication: an RS256 JWT signed with the App's private key is exchanged for
//! an installation token, which is cached and renewed five minutes before it expires.

use crate::hosts::http::{Credentials, HostClient, Req, segment};
use crate::hosts::{HostError, HostErrorKind};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

/// Renew the installation token this long before it expires.
const RENEW_BEFORE_SECS: i64 = 5 * 60;

/// The App JWT's claims: issued a minute in the past (clock drift), valid nine minutes
/// (GitHub allows at most ten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iat: i64,
    pub exp: i64,
    /// The App id (a number) or its client id (a string).
    pub iss: serde_json::Value,
}

impl Claims {
    pub fn new(app_id: &str, now: i64) -> Self {
        let iss = app_id
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::from(app_id));
        Self {
            iat: now - 60,
            exp: now + 540,
            iss,
        }
    }
}

struct Cached {
    header: HeaderValue,
    expires_at: i64,
}

/// An App installation's credentials.
pub struct AppAuth {
    app_id: String,
    installation_id: String,
    key: jsonwebtoken::EncodingKey,
    token: tokio::sync::Mutex<Option<Cached>>,
}

impl AppAuth {
    pub fn new(
        app_id: &str,
        installation_id: &str,
        private_key_pem: &[u8],
    ) -> Result<Self, String> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem).map_err(|e| {
            format!("host.private_key_file is not an RSA private key in PEM form ({e})")
        })?;
        Ok(Self {
            app_id: app_id.to_owned(),
            installation_id: installation_id.to_owned(),
            key,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A signed JWT for `now` (seconds since the epoch).
    pub fn jwt(&self, now: i64) -> Result<String, HostError> {
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &Claims::new(&self.app_id, now), &self.key).map_err(|e| {
            HostError::new(
                HostErrorKind::Unauthorized,
                format!("cannot sign the GitHub App's JWT with host.private_key_file: {e}"),
            )
        })
    }
}

#[derive(Deserialize)]
struct InstallationToken {
    token: String,
    #[serde(default)]
    expires_at: Option<String>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[async_trait::async_trait]
impl Credentials for AppAuth {
    async fn authorize(&self, client: &HostClient) -> Result<(HeaderName, HeaderValue), HostError> {
        // Holding the lock across the exchange makes concurrent callers share one token.
        let mut cached = self.token.lock().await;
        let now = now();
        if let Some(c) = cached.as_ref()
            && c.expires_at - now > RENEW_BEFORE_SECS
        {
            return Ok((AUTHORIZATION, c.header.clone()));
        }
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", self.jwt(now)?)).map_err(|_| {
                HostError::new(
                    HostErrorKind::Unauthorized,
                    "the App JWT is not a header value",
                )
            })?;
        bearer.set_sensitive(true);
        let req = Req::new(
            Method::POST,
            format!(
                "/app/installations/{}/access_tokens",
                segment(&self.installation_id)
            ),
        );
        // Each exchange makes a fresh token: safe to repeat.
        let resp = client.send_as(req, (AUTHORIZATION, bearer), true).await?;
        let token: InstallationToken = match resp.status.as_u16() {
            200..=299 => resp.json()?,
            401 => {
                return Err(HostError::new(
                    HostErrorKind::Unauthorized,
                    format!(
                        "GitHub refused the App's JWT ({}): check host.app_id, host.private_key_file and this machine's clock",
                        resp.message()
                    ),
                ));
            }
            404 => {
                return Err(HostError::new(
                    HostErrorKind::NotFound,
                    format!(
                        "GitHub has no installation {} of App {}: check host.installation_id",
                        self.installation_id, self.app_id
                    ),
                ));
            }
            _ => return Err(client.error(&resp)),
        };
        let expires_at = token
            .expires_at
            .as_deref()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|t| t.unix_timestamp())
            // Installation tokens live an hour.
            .unwrap_or(now + 3600);
        let mut header =
            HeaderValue::from_str(&format!("Bearer {}", token.token)).map_err(|_| {
                HostError::new(
                    HostErrorKind::Unauthorized,
                    "GitHub sent an installation token that is not a header value",
                )
            })?;
        header.set_sensitive(true);
        *cached = Some(Cached {
            header: header.clone(),
            expires_at,
        });
        Ok((AUTHORIZATION, header))
    }

    fn refused(&self) {
        if let Ok(mut cached) = self.token.try_lock() {
            *cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = include_bytes!("testdata/app-key.pem");
    const PUBLIC: &[u8] = include_bytes!("testdata/app-key.pub.pem");

    #[test]
    fn the_jwt_is_rs256_with_githubs_claims() {
        let app = AppAuth::new("12345", "678", KEY).unwrap();
        let now = 1_700_000_000;
        let jwt = app.jwt(now).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC).unwrap();
        let claims = jsonwebtoken::decode::<Claims>(&jwt, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims.iat, now - 60);
        assert_eq!(claims.exp, now + 540);
        assert_eq!(claims.iss, serde_json::json!(12345));
        assert!(claims.exp - claims.iat <= 600);
        assert_eq!(
            Claims::new("Iv1.abc", now).iss,
            serde_json::json!("Iv1.abc")
        );
    }

    #[test]
    fn a_bad_key_is_refused_at_start() {
        let err = AppAuth::new("1", "2", b"not a key")
            .err()
            .unwrap_or_default();
        assert!(err.contains("host.private_key_file"), "{err}");
    }
}
