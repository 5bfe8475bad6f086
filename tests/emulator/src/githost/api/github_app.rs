//! GitHub App installation tokens: `POST /app/installations/{id}/access_tokens` with an RS256
//! JWT signed by the app's private key (`iss` = app id, `exp` at most 10 minutes ahead) answers
//! a `ghs_` token for the app's bot user, valid for an hour (or the app's `token_ttl_s`).

use super::{Resp, b64};
use crate::githost::hooks::uuid;
use crate::githost::json::github::error;
use crate::githost::json::rfc3339;
use crate::githost::ops::unix_now;
use crate::githost::state::{State, Token};

use base64::Engine;
use serde_json::{Value, json};

/// The public key (PKCS#1 DER) of a PEM private key (`RSA PRIVATE KEY` or `PRIVATE KEY`), or of
/// an `RSA PUBLIC KEY`.
pub fn public_key(pem: &str) -> anyhow::Result<Vec<u8>> {
    let label = pem
        .lines()
        .find_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| anyhow::anyhow!("not a PEM key"))?
        .to_owned();
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim())?;
    let pair = match label.as_str() {
        "RSA PRIVATE KEY" => ring::signature::RsaKeyPair::from_der(&der),
        "PRIVATE KEY" => ring::signature::RsaKeyPair::from_pkcs8(&der),
        "RSA PUBLIC KEY" => return Ok(der),
        other => anyhow::bail!("unsupported PEM label {other}"),
    }
    .map_err(|e| anyhow::anyhow!("bad RSA key: {e}"))?;
    use ring::signature::KeyPair;
    Ok(pair.public_key().as_ref().to_vec())
}

fn unauthorized(m: &str) -> Resp {
    Resp::json(401, error(401, m))
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// Checks the JWT and issues an installation token.
pub fn access_token(st: &mut State, installation: &str, jwt: Option<&str>) -> Resp {
    let Some(jwt) = jwt else {
        return unauthorized("A JSON web token could not be decoded");
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, sig] = parts.as_slice() else {
        return unauthorized("A JSON web token could not be decoded");
    };
    let (Some(header), Some(payload), Some(sig)) = (b64url(h), b64url(p), b64url(sig)) else {
        return unauthorized("A JSON web token could not be decoded");
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Value>(&header),
        serde_json::from_slice::<Value>(&payload),
    ) else {
        return unauthorized("A JSON web token could not be decoded");
    };
    if header["alg"] != "RS256" {
        return unauthorized("A JSON web token could not be decoded");
    }
    let iss = match &claims["iss"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(app) = iss
        .and_then(|id| st.apps.iter().find(|a| a.app_id == id))
        .cloned()
    else {
        return unauthorized("Integration not found");
    };
    let signed = format!("{h}.{p}");
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &app.public_key,
    );
    if key.verify(signed.as_bytes(), &sig).is_err() {
        return unauthorized("A JSON web token could not be decoded");
    }
    let now = unix_now();
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return unauthorized(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        );
    };
    if iat > now + 60 {
        return unauthorized(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        );
    }
    if exp <= now {
        return unauthorized(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        );
    }
    if exp > now + 600 + 60 {
        return unauthorized("'Expiration time' claim ('exp') is too far in the future");
    }
    if installation.parse::<u64>().ok() != Some(app.installation_id) {
        return Resp::json(404, error(404, "Not Found"));
    }
    let login = format!("{}[bot]", app.slug);
    st.ensure_user(&login);
    let token = format!(
        "ghs_{}",
        b64(uuid().as_bytes()).replace(['=', '+', '/'], "")
    );
    let expires = now + app.token_ttl_s;
    st.tokens.insert(
        token.clone(),
        Token {
            login,
            write: true,
            expires_at: Some(expires),
        },
    );
    Resp::json(
        201,
        json!({"token": token, "expires_at": rfc3339(expires),
            "permissions": {"contents": "write", "pull_requests": "write", "metadata": "read",
                            "statuses": "read", "checks": "read"},
            "repository_selection": "all"}),
    )
}
