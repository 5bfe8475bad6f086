//! GitHub's OAuth app endpoints, so Tollgate can sign people in through the emulated host and
//! then act as them: `GET /login/oauth/authorize` (PKCE S256 required; the person "signed in
//! at the host" is set by the test) redirects back with a one-time code, and
//! `POST /login/oauth/access_token` exchanges it (client secret by HTTP Basic or form, PKCE
//! verifier checked) or a refresh token (rotated: the old one stops working) for a user token
//! that expires after the app's `token_ttl_s`. The tokens are ordinary emulator tokens of that
//! user, so the REST API records them as the author of what they do.

use super::state::{State, Token};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use std::collections::BTreeMap;

/// A registered OAuth app.
#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub secret: String,
    /// Lifetime of the user tokens it issues, in seconds (`None`: they never expire, and no
    /// refresh token is issued, as GitHub's classic OAuth apps).
    pub token_ttl_s: Option<i64>,
}

#[derive(Clone, Debug)]
struct Code {
    login: String,
    client_id: String,
    challenge: String,
    redirect_uri: String,
    scope: String,
}

#[derive(Clone, Debug)]
struct Refresh {
    login: String,
    client_id: String,
    scope: String,
}

/// The OAuth side of the host.
#[derive(Default, Debug)]
pub struct OAuth {
    pub apps: BTreeMap<String, OAuthApp>,
    /// Who is signed in at the host's web pages: the authorize endpoint grants for them.
    pub signed_in: Option<String>,
    codes: BTreeMap<String, Code>,
    refresh_tokens: BTreeMap<String, Refresh>,
    /// Refresh grants served, so a test can see a refresh happened.
    pub refreshes: u64,
    /// Access tokens issued so far (code and refresh grants), newest last.
    pub issued: Vec<String>,
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

fn random(prefix: &str) -> String {
    format!("{prefix}{}", super::hooks::uuid().replace('-', ""))
}

/// Handles `/login/oauth/*`.
pub fn handle(
    st: &mut State,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    match (method, path) {
        ("GET", "/login/oauth/authorize") => authorize(st, &super::api::parse_query(query)),
        ("POST", "/login/oauth/access_token") => {
            let form = super::api::parse_query(&String::from_utf8_lossy(body));
            access_token(st, headers, &form)
        }
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

fn authorize(st: &mut State, q: &std::collections::HashMap<String, String>) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    if !st.oauth.apps.contains_key(&client_id) {
        return error(StatusCode::NOT_FOUND, "invalid_client", "unknown client_id");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "PKCE with S256 is required",
        );
    }
    let Some(login) = st.oauth.signed_in.clone() else {
        return error(
            StatusCode::UNAUTHORIZED,
            "access_denied",
            "nobody is signed in at the host",
        );
    };
    let code = random("code_");
    let redirect_uri = get("redirect_uri");
    st.oauth.codes.insert(
        code.clone(),
        Code {
            login,
            client_id,
            challenge: get("code_challenge"),
            redirect_uri: redirect_uri.clone(),
            scope: get("scope").replace(' ', ","),
        },
    );
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let state = get("state");
    let location = format!("{redirect_uri}{sep}code={code}&state={state}");
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}

/// The client's id and secret: HTTP Basic, else the form's `client_id` and `client_secret`.
fn client_of(
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
) -> Option<(String, String)> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let (id, secret) = text.split_once(':')?;
            Some((
                super::api::decode(id, true),
                super::api::decode(secret, true),
            ))
        });
    basic.or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    })
}

fn access_token(
    st: &mut State,
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
) -> Response {
    let Some((client_id, secret)) = client_of(headers, form) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is missing",
        );
    };
    let Some(app) = st.oauth.apps.get(&client_id).cloned() else {
        return error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    if app.secret != secret {
        return error(
            StatusCode::UNAUTHORIZED,
            "incorrect_client_credentials",
            "the client secret is wrong",
        );
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (login, scope) = match get("grant_type").as_str() {
        "authorization_code" => {
            // A code is used once, whatever happens next.
            let Some(code) = st.oauth.codes.remove(&get("code")) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_verification_code",
                    "the code is wrong or was used",
                );
            };
            let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(get("code_verifier").as_bytes()));
            if code.client_id != client_id
                || hashed != code.challenge
                || get("redirect_uri") != code.redirect_uri
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_verification_code",
                    "the code does not match the verifier, client or redirect URI",
                );
            }
            (code.login, code.scope)
        }
        "refresh_token" => {
            let Some(r) = st.oauth.refresh_tokens.remove(&get("refresh_token")) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_refresh_token",
                    "the refresh token is wrong or was used",
                );
            };
            if r.client_id != client_id {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_refresh_token",
                    "the refresh token belongs to another client",
                );
            }
            st.oauth.refreshes += 1;
            (r.login, r.scope)
        }
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type `{other}` is not supported"),
            );
        }
    };
    st.ensure_user(&login);
    let access = random("gho_");
    let now = super::ops::unix_now();
    st.tokens.insert(
        access.clone(),
        Token {
            login: login.clone(),
            write: true,
            expires_at: app.token_ttl_s.map(|ttl| now + ttl),
        },
    );
    st.oauth.issued.push(access.clone());
    let mut body: Value = json!({"access_token": access, "token_type": "bearer", "scope": scope});
    if let Some(ttl) = app.token_ttl_s {
        let refresh = random("ghr_");
        st.oauth.refresh_tokens.insert(
            refresh.clone(),
            Refresh {
                login,
                client_id,
                scope,
            },
        );
        body["expires_in"] = json!(ttl);
        body["refresh_token"] = json!(refresh);
        body["refresh_token_expires_in"] = json!(15_897_600);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}
