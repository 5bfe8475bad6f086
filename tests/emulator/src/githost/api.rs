//! The REST request and answer every flavour's routes work with, and token auth.

pub mod gitea;
pub mod gitea_pulls;
pub mod github;
pub mod github_app;
pub mod github_pulls;
pub mod gitlab;
pub mod gitlab_mrs;

use super::Host;
use super::hooks::Event;
use super::state::{Flavour, State, User};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;

/// A REST call, with its path split after the flavour's prefix.
pub struct Req {
    pub method: Method,
    /// Path segments after `/api/vN`, percent-decoded.
    pub segs: Vec<String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn seg(&self, i: usize) -> &str {
        self.segs.get(i).map(String::as_str).unwrap_or("")
    }

    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// The JSON body (an empty body is `{}`), or `None` when it does not parse.
    pub fn json(&self) -> Option<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Some(Value::Object(Default::default()));
        }
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.starts_with("application/x-www-form-urlencoded") {
            let text = String::from_utf8_lossy(&self.body);
            return Some(Value::Object(
                parse_query(&text)
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ));
        }
        serde_json::from_slice(&self.body).ok()
    }
}

/// A REST answer.
pub struct Resp {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
}

pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (decode(k, true), decode(v, true)))
        .collect()
}

/// Percent-decoding (`+` is a space only in queries and forms).
pub fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token a call carries, the way `flavour` accepts it.
pub fn token(flavour: Flavour, headers: &HeaderMap) -> Option<String> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if flavour == Flavour::GitLab
        && let Some(t) = header("private-token")
    {
        return Some(t.to_owned());
    }
    let auth = header("authorization")?;
    let (scheme, value) = auth.split_once(' ')?;
    let value = value.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(value.to_owned()),
        "token" if flavour != Flavour::GitLab => Some(value.to_owned()),
        "basic" => basic_password(value),
        _ => None,
    }
}

/// The password of an HTTP Basic credential.
pub fn basic_password(value: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

/// Who the call is, if the token is known: the user and whether the token may write.
pub fn whoami(st: &State, token: Option<&str>) -> Option<(User, bool)> {
    let t = st.tokens.get(token?)?;
    if t.expires_at.is_some_and(|e| e <= super::ops::unix_now()) {
        return None;
    }
    Some((st.user(&t.login)?.clone(), t.write))
}

/// The caller, after auth: what every route gets.
pub struct Caller {
    pub user: User,
    pub write: bool,
}

/// Runs a flavour's routes with the state locked, then sends the webhooks the call caused.
pub fn run(host: &Host, flavour: Flavour, req: &Req) -> Resp {
    let mut events: Vec<Event> = Vec::new();
    let mut st = host.lock();
    let resp = match flavour {
        Flavour::GitHub => github::handle(&mut st, req, &mut events),
        Flavour::GitLab => gitlab::handle(&mut st, req, &mut events),
        Flavour::Gitea => gitea::handle(&mut st, req, &mut events),
    };
    host.dispatch(&st, &events);
    resp
}

/// Base64 (standard, padded), as the contents APIs write it.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64 that may contain newlines (GitHub wraps at 60 columns).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

/// A string field of a JSON body.
pub fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Pages a list: `page` from 1, `per_page` (or `limit`) capped at 100.
pub fn paginate<T>(items: Vec<T>, req: &Req, default: usize) -> Vec<T> {
    let per = req
        .q("per_page")
        .or_else(|| req.q("limit"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, 100);
    let page = req
        .q("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    items.into_iter().skip((page - 1) * per).take(per).collect()
}
