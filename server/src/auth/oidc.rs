//! Sign-in through login providers: OpenID providers (`[[auth.providers]]`, kind `oidc`) here,
//! GitHub's OAuth apps in [`super::github`]. For OpenID providers: the authorization code
//! flow with PKCE (S256), `state` and `nonce`, and ID token validation (issuer, audience,
//! expiry, signature from the provider's JWKS) by the `openidconnect` crate. Groups come from
//! the ID token's `groups_claim`, else from userinfo. The HTTP client follows no redirects.
//!
//! [`Providers::start`] gives the URL to send the browser to and what the session must keep
//! ([`Pending`]); [`Providers::finish`] checks the callback against it and returns who signed in.

use crate::config::{AuthConfig, ConfigError, ProviderConfig, ProviderKind};
use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How long discovery (endpoints and signing keys) is reused before it is read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// A sign-in under way, kept in the session between the redirect and the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where to go afterwards (a local path).
    pub next: String,
}

/// Who signed in, as the provider says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// A login name to start from (preferred username, else the email's local part).
    pub login_hint: String,
    pub groups: Vec<String>,
    /// The user's token, kept when the provider is the Git host's own login (`host = true`).
    pub grant: Option<super::host_tokens::Grant>,
}

/// Why a sign-in failed: each is a page saying so, with nothing signed in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("there is no login provider named `{0}`")]
    UnknownProvider(String),
    #[error(
        "no sign-in is under way in this browser (it expired, was already used, or cookies are off); start again"
    )]
    NotPending,
    #[error(
        "the sign-in answer does not belong to the sign-in this browser started (state mismatch); start again"
    )]
    WrongState,
    #[error("the login provider refused: {0}")]
    Refused(String),
    #[error("the login provider could not be reached or answered wrongly; try again later")]
    Unavailable(String),
    #[error("the login provider's ID token was not accepted: {0}")]
    BadToken(String),
}

impl LoginError {
    /// What the log gets besides the message (never a token or secret).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Unavailable(d) => Some(d),
            _ => None,
        }
    }
}

struct Discovered {
    metadata: CoreProviderMetadata,
    end_session: Option<String>,
    at: Instant,
}

struct Provider {
    config: ProviderConfig,
    secret: String,
    discovered: tokio::sync::Mutex<Option<std::sync::Arc<Discovered>>>,
}

/// The configured OpenID providers.
pub struct Providers {
    http: openidconnect::reqwest::Client,
    public_url: String,
    list: Vec<Provider>,
}

impl Providers {
    pub fn new(auth: &AuthConfig, public_url: &str) -> Result<Self, ConfigError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Redirects are not followed: a provider cannot send Tollgate's requests elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ConfigError(format!("auth.providers: HTTP client: {e}")))?;
        let list = auth
            .providers
            .iter()
            .map(|p| {
                Ok(Provider {
                    secret: p.client_secret()?,
                    config: p.clone(),
                    discovered: tokio::sync::Mutex::new(None),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self {
            http,
            public_url: public_url.trim_end_matches('/').to_owned(),
            list,
        })
    }

    /// The providers' names, in configuration order.
    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|p| p.config.name.clone()).collect()
    }

    fn provider(&self, name: &str) -> Result<&Provider, LoginError> {
        self.list
            .iter()
            .find(|p| p.config.name == name)
            .ok_or_else(|| LoginError::UnknownProvider(name.to_owned()))
    }

    fn redirect_url(&self, name: &str) -> String {
        format!("{}/auth/{name}/callback", self.public_url)
    }

    async fn discover(&self, p: &Provider) -> Result<std::sync::Arc<Discovered>, LoginError> {
        let mut cached = p.discovered.lock().await;
        if let Some(d) = cached.as_ref().filter(|d| d.at.elapsed() < DISCOVERY_TTL) {
            return Ok(std::sync::Arc::clone(d));
        }
        let unavailable = |e: &dyn std::fmt::Display| {
            LoginError::Unavailable(format!("{}: discovery: {e}", p.config.name))
        };
        let issuer = IssuerUrl::new(p.config.issuer.clone()).map_err(|e| unavailable(&e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| unavailable(&e))?;
        // The end-session endpoint is not part of the core metadata: read it from the same
        // document.
        let url = format!(
            "{}/.well-known/openid-configuration",
            p.config.issuer.trim_end_matches('/')
        );
        let end_session = match self.http.get(url).send().await {
            Ok(r) => r
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|d| d["end_session_endpoint"].as_str().map(str::to_owned)),
            Err(_) => None,
        };
        let d = std::sync::Arc::new(Discovered {
            metadata,
            end_session,
            at: Instant::now(),
        });
        *cached = Some(std::sync::Arc::clone(&d));
        Ok(d)
    }

    fn client(
        &self,
        p: &Provider,
        d: &Discovered,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        LoginError,
    > {
        let secret = (!p.secret.is_empty()).then(|| ClientSecret::new(p.secret.clone()));
        let redirect = RedirectUrl::new(self.redirect_url(&p.config.name))
            .map_err(|e| LoginError::Unavailable(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            d.metadata.clone(),
            ClientId::new(p.config.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the provider's authorization URL, and what to keep until the callback.
    pub async fn start(&self, name: &str, next: &str) -> Result<(String, Pending), LoginError> {
        let p = self.provider(name)?;
        if p.config.kind == ProviderKind::Github {
            return super::github::start(&p.config, &p.secret, &self.redirect_url(name), next);
        }
        let d = self.discover(p).await?;
        let client = self.client(p, &d)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in p.config.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            Pending {
                provider: name.to_owned(),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next: next.to_owned(),
            },
        ))
    }

    /// Completes a sign-in from the callback's `code` and `state`, against the sign-in this
    /// browser started (`pending`, already taken out of the session so it is used once).
    pub async fn finish(
        &self,
        name: &str,
        pending: Option<Pending>,
        callback: &Callback,
    ) -> Result<Identity, LoginError> {
        let p = self.provider(name)?;
        let pending = pending
            .filter(|x| x.provider == name)
            .ok_or(LoginError::NotPending)?;
        if let Some(error) = &callback.error {
            return Err(LoginError::Refused(format!(
                "{error}{}",
                callback
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )));
        }
        if !constant_time_eq(callback.state.as_deref().unwrap_or(""), &pending.state) {
            return Err(LoginError::WrongState);
        }
        if p.config.kind == ProviderKind::Github {
            let redirect = self.redirect_url(name);
            return super::github::finish(
                &self.http, &p.config, &p.secret, &redirect, &pending, callback,
            )
            .await;
        }
        let code = callback
            .code
            .clone()
            .ok_or_else(|| LoginError::Refused("no authorization code".into()))?;
        let d = self.discover(p).await?;
        let client = self.client(p, &d)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| LoginError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    LoginError::Refused(r.error().to_string())
                }
                other => LoginError::Unavailable(other.to_string()),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| LoginError::BadToken("the provider sent no ID token".into()))?;
        let claims = id_token
            .claims(
                &client.id_token_verifier(),
                &Nonce::new(pending.nonce.clone()),
            )
            .map_err(|e| LoginError::BadToken(e.to_string()))?;
        let subject = claims.subject().as_str().to_owned();
        // The signature is verified: its payload is read again for the claims the core types
        // do not know (the groups).
        let raw = payload(&id_token.to_string()).unwrap_or_default();
        let claim = &p.config.groups_claim;
        let mut groups = groups_in(&raw, claim);
        let mut info = serde_json::Value::Null;
        if raw.get(claim).is_none()
            && let Some(url) = d.metadata.userinfo_endpoint()
        {
            let info_bytes = self
                .http
                .get(url.url().as_str())
                .bearer_auth(token.access_token().secret())
                .send()
                .await
                .map_err(|e| LoginError::Unavailable(format!("userinfo: {e}")))?
                .bytes()
                .await
                .map_err(|e| LoginError::Unavailable(format!("userinfo: {e}")))?;
            let info_json: serde_json::Value = serde_json::from_slice(&info_bytes)
                .map_err(|e| LoginError::Unavailable(format!("userinfo: {e}")))?;
            info = info_json;
            if info["sub"].as_str() != Some(subject.as_str()) {
                return Err(LoginError::BadToken(
                    "userinfo is about another subject".into(),
                ));
            }
            groups = groups_in(&info, claim);
        }
        let login_hint = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| info["preferred_username"].as_str().map(str::to_owned))
            .or_else(|| {
                claims
                    .email()
                    .map(|e| e.as_str().split('@').next().unwrap_or("").to_owned())
            })
            .unwrap_or_else(|| subject.clone());
        let grant = super::host_tokens::Grant::from_response(
            &p.config,
            token.access_token().secret(),
            token.refresh_token().map(|r| r.secret().as_str()),
            token.expires_in(),
            token
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect()),
        );
        Ok(Identity {
            subject,
            login_hint,
            groups,
            grant,
        })
    }

    /// Where to end the session at the provider too, when it says (RP-initiated logout).
    pub async fn end_session_url(&self, name: &str) -> Option<String> {
        let p = self
            .provider(name)
            .ok()
            .filter(|p| p.config.kind == ProviderKind::Oidc)?;
        let d = self.discover(p).await.ok()?;
        let end = d.end_session.as_ref()?;
        let mut url = openidconnect::url::Url::parse(end).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &p.config.client_id)
            .append_pair("post_logout_redirect_uri", &format!("{}/", self.public_url));
        Some(url.to_string())
    }
}

/// The query of `GET /auth/{name}/callback`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The JSON payload of a JWT (not verified here).
fn payload(jwt: &str) -> Option<serde_json::Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The groups in `claims[claim]`: a list of strings, or one string.
fn groups_in(claims: &serde_json::Value, claim: &str) -> Vec<String> {
    match claims.get(claim) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A login name from what the provider calls the user: letters, digits, `.`, `_`, `-`, lower
/// case, at most 60 characters (room for a `-N` suffix when it is taken).
pub fn login_from_hint(hint: &str) -> String {
    let mut out: String = hint
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(60)
        .collect();
    if out.is_empty() {
        out = "user".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_as_lists_or_a_string() {
        let claims = serde_json::json!({"groups": ["a", "b", 3], "team": "ops"});
        assert_eq!(groups_in(&claims, "groups"), vec!["a", "b"]);
        assert_eq!(groups_in(&claims, "team"), vec!["ops"]);
        assert!(groups_in(&claims, "missing").is_empty());
    }

    #[test]
    fn logins_from_hints() {
        assert_eq!(login_from_hint("Alice.Smith@Example"), "alice.smithexample");
        assert_eq!(login_from_hint("日本"), "user");
        assert_eq!(login_from_hint(&"x".repeat(99)).len(), 60);
    }

    #[test]
    fn jwt_payloads_are_read() {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        assert_eq!(
            payload(&format!("h.{body}.s")),
            Some(serde_json::json!({"sub": "1"}))
        );
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd"));
    }
}
