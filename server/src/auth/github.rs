//! Sign-in with GitHub (`kind = "github"`): GitHub's OAuth apps are not OpenID providers, so this
//! is the `oauth2` crate's authorization code flow with PKCE (S256) and `state`, then the REST
//! API: `/user` (keyed by the numeric id: logins change), `/user/emails` (the primary, verified
//! one) and `/user/teams` (`org/team` groups, with the `read:org` scope). The web and API base
//! URLs are configurable (GitHub Enterprise, and a fake in the tests).

use super::oidc::{Callback, Identity, LoginError, Pending};
use crate::config::ProviderConfig;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _, TokenUrl,
};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The scopes asked for when the configuration keeps the OIDC defaults.
const SCOPES: [&str; 3] = ["read:user", "user:email", "read:org"];

fn client(p: &ProviderConfig, secret: &str, redirect: &str) -> Result<Client, LoginError> {
    let bad = |e: &dyn std::fmt::Display| LoginError::Unavailable(format!("{}: {e}", p.name));
    let web = p.github_url.trim_end_matches('/');
    Ok(BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(|e| bad(&e))?)
        .set_token_uri(
            TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(|e| bad(&e))?,
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|e| bad(&e))?))
}

/// The scopes asked for: GitHub's for the OIDC defaults (with `repo` when the provider acts
/// on the Git host), else the configured ones. OpenID providers ask for the configured ones.
pub fn scopes(p: &ProviderConfig) -> Vec<String> {
    if p.kind != crate::config::ProviderKind::Github || !p.scopes.iter().any(|s| s == "openid") {
        return p.scopes.clone();
    }
    let mut scopes = SCOPES.map(String::from).to_vec();
    if p.host {
        scopes.push("repo".into());
    }
    scopes
}

/// The authorization URL and what the session keeps until the callback.
pub fn start(
    p: &ProviderConfig,
    secret: &str,
    redirect: &str,
    next: &str,
) -> Result<(String, Pending), LoginError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(p, secret, redirect)?;
    let mut request = client.authorize_url(CsrfToken::new_random);
    for scope in scopes(p) {
        request = request.add_scope(Scope::new(scope));
    }
    let (url, state) = request.set_pkce_challenge(challenge).url();
    Ok((
        url.to_string(),
        Pending {
            provider: p.name.clone(),
            state: state.secret().clone(),
            nonce: String::new(),
            verifier: verifier.secret().clone(),
            next: next.to_owned(),
        },
    ))
}

async fn api(
    http: &reqwest_for_oauth::Client,
    p: &ProviderConfig,
    token: &str,
    path: &str,
) -> Result<(u16, serde_json::Value), LoginError> {
    let url = format!("{}{path}", p.github_api_url.trim_end_matches('/'));
    let resp = http
        .get(url)
        .bearer_auth(token)
        .header("accept", "application/vnd.github+json")
        .header("user-agent", "tollgate")
        .send()
        .await
        .map_err(|e| LoginError::Unavailable(format!("{}{path}: {e}", p.name)))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| LoginError::Unavailable(format!("{}{path}: {e}", p.name)))?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

use openidconnect::reqwest as reqwest_for_oauth;

/// Exchanges the code (with the PKCE verifier) and reads who signed in.
pub async fn finish(
    http: &reqwest_for_oauth::Client,
    p: &ProviderConfig,
    secret: &str,
    redirect: &str,
    pending: &Pending,
    callback: &Callback,
) -> Result<Identity, LoginError> {
    let code = callback
        .code
        .clone()
        .ok_or_else(|| LoginError::Refused("no authorization code".into()))?;
    let token = client(p, secret, redirect)?
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| match e {
            oauth2::RequestTokenError::ServerResponse(r) => {
                LoginError::Refused(r.error().to_string())
            }
            other => LoginError::Unavailable(other.to_string()),
        })?;
    let access = token.access_token().secret();
    let (status, user) = api(http, p, access, "/user").await?;
    let id = user["id"]
        .as_i64()
        .filter(|_| status == 200)
        .ok_or_else(|| LoginError::Unavailable(format!("{}: /user answered {status}", p.name)))?;
    let login = user["login"].as_str().unwrap_or_default().to_owned();
    // Only a primary, verified address counts; it names the person when the login is odd.
    let (_, emails) = api(http, p, access, "/user/emails").await?;
    let email = emails.as_array().and_then(|list| {
        list.iter()
            .find(|e| e["primary"] == true && e["verified"] == true)
            .and_then(|e| e["email"].as_str())
            .map(str::to_owned)
    });
    // Teams need read:org; without it there are no groups.
    let (status, teams) = api(http, p, access, "/user/teams").await?;
    let groups = if status == 200 {
        teams
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|t| {
                        Some(format!(
                            "{}/{}",
                            t["organization"]["login"].as_str()?,
                            t["slug"].as_str()?
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let login_hint = if login.is_empty() {
        email
            .as_deref()
            .and_then(|e| e.split('@').next())
            .unwrap_or("user")
            .to_owned()
    } else {
        login
    };
    let grant = super::host_tokens::Grant::from_response(
        p,
        access,
        token.refresh_token().map(|r| r.secret().as_str()),
        token.expires_in(),
        token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect()),
    );
    Ok(Identity {
        subject: id.to_string(),
        login_hint,
        groups,
        grant,
    })
}
