//! The HTTP client the remote hosts share: no redirects, connect and request timeouts, bounded
//! retries with jittered backoff for calls that are safe to repeat, rate-limit answers honoured,
//! and every failure turned into a [`HostError`] whose message is for people. Secrets stay in
//! sensitive header values: they never reach a message, a log line or `Debug` output.

use super::{HostError, HostErrorKind, HostKind};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Timeouts, retries and the longest rate-limit wait worth sitting out.
#[derive(Debug, Clone)]
pub struct Timing {
    pub connect: Duration,
    pub request: Duration,
    /// Attempts of a retrying call (1 = no retry).
    pub attempts: u32,
    /// The first backoff; it doubles per attempt up to `backoff_max`, with jitter.
    pub backoff: Duration,
    pub backoff_max: Duration,
    /// A rate limit that resets within this is waited out; a later one fails at once.
    pub max_rate_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(20),
            attempts: 3,
            backoff: Duration::from_millis(200),
            backoff_max: Duration::from_secs(1),
            max_rate_wait: Duration::from_secs(5),
        }
    }
}

/// Where a request's `Authorization` (or `PRIVATE-TOKEN`) header comes from.
#[async_trait::async_trait]
pub trait Credentials: Send + Sync {
    /// The header for the next request. May call the host (a GitHub App's token exchange)
    /// through [`HostClient::send_as`].
    async fn authorize(&self, client: &HostClient) -> Result<(HeaderName, HeaderValue), HostError>;

    /// The host answered 401: forget any cached token so the next call gets a fresh one.
    fn refused(&self) {}
}

/// A fixed token sent in one header.
pub struct Token {
    header: HeaderName,
    value: HeaderValue,
}

impl Token {
    /// `header: prefix token` (prefix `""`, `"Bearer "` or `"token "`). The value is marked
    /// sensitive, so it is never logged.
    pub fn new(header: HeaderName, prefix: &str, token: &str) -> Result<Self, String> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{token}"))
            .map_err(|_| "host.token holds characters an HTTP header cannot carry".to_owned())?;
        value.set_sensitive(true);
        Ok(Self { header, value })
    }
}

#[async_trait::async_trait]
impl Credentials for Token {
    async fn authorize(&self, _: &HostClient) -> Result<(HeaderName, HeaderValue), HostError> {
        Ok((self.header.clone(), self.value.clone()))
    }
}

/// One call: method, path under the API URL, query and JSON body.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::POST, path).json(body)
    }

    pub fn put(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::PUT, path).json(body)
    }

    pub fn patch(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::PATCH, path).json(body)
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    fn is_read(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}

/// A host's answer (any status below 500 that is not a rate limit).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    who: &'static str,
    what: String,
}

impl Resp {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The body as `T`; a body that is not `T` is the host misbehaving, not a refusal.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HostError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            HostError::new(
                HostErrorKind::Unavailable,
                format!(
                    "{} answered {} with a body Tollgate cannot read ({e}); is host.api_url the API's URL?",
                    self.who, self.what
                ),
            )
        })
    }

    /// The host's own words: GitHub's and Gitea's `message` (plus GitHub's `errors[].message`),
    /// GitLab's `message` (a string, a list or a field map) or `error`. Cut to a readable length.
    pub fn message(&self) -> String {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&self.body) else {
            let text = String::from_utf8_lossy(&self.body);
            return short(text.trim());
        };
        let mut parts = Vec::new();
        for key in ["message", "error", "error_description"] {
            flatten(&v[key], &mut parts);
        }
        if let Some(errors) = v["errors"].as_array() {
            for e in errors {
                if e.is_string() {
                    flatten(e, &mut parts);
                } else {
                    flatten(&e["message"], &mut parts);
                }
            }
        }
        short(&parts.join("; "))
    }
}

fn flatten(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                let mut inner = Vec::new();
                flatten(v, &mut inner);
                if !inner.is_empty() {
                    out.push(format!("{k} {}", inner.join(", ")));
                }
            }
        }
        _ => {}
    }
}

fn short(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut}…")
}

/// The client one remote host uses.
pub struct HostClient {
    http: reqwest::Client,
    kind: HostKind,
    api_url: String,
    repo: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    credentials: Box<dyn Credentials>,
    timing: Timing,
    calls: AtomicU64,
}

impl std::fmt::Debug for HostClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostClient")
            .field("kind", &self.kind)
            .field("api_url", &crate::config::redact_url(&self.api_url))
            .field("repo", &self.repo)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

impl HostClient {
    /// `headers` go on every request (GitHub's `Accept` and API version).
    pub fn new(
        kind: HostKind,
        api_url: &str,
        repo: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        credentials: Box<dyn Credentials>,
        timing: Timing,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timing.connect)
            .timeout(timing.request)
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("host: cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            kind,
            api_url: api_url.trim().trim_end_matches('/').to_owned(),
            repo: repo.trim_matches('/').to_owned(),
            headers,
            credentials,
            timing,
            calls: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far (retries and token exchanges included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn repo(&self) -> &str {
        &self.repo
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The provider's name in messages.
    pub fn who(&self) -> &'static str {
        match self.kind {
            HostKind::Github => "GitHub",
            HostKind::Gitlab => "GitLab",
            HostKind::Gitea => "Gitea",
            HostKind::Local => "the local host",
        }
    }

    /// The permissions the token needs, in the provider's words.
    pub fn permission(&self) -> &'static str {
        match self.kind {
            HostKind::Github => "contents and pull requests read/write, metadata read",
            HostKind::Gitlab => "the `api` scope and the Developer role (or higher) on the project",
            HostKind::Gitea => "the write:repository scope and write access to the repository",
            HostKind::Local => "none",
        }
    }

    /// The authorization header the next call sends (the mirror's fetch reuses the token).
    pub async fn authorization(&self) -> Result<(HeaderName, HeaderValue), HostError> {
        self.credentials.authorize(self).await
    }

    /// Sends once: for writes that must not be repeated blindly. A rate-limit answer (the
    /// host did nothing) is still waited out when it is short.
    pub async fn send_once(&self, req: Req) -> Result<Resp, HostError> {
        self.send(&req, false, None).await
    }

    /// Sends with bounded retries on 5xx, timeouts and connection errors: for reads, and for
    /// writes that are safe to repeat.
    pub async fn send_retrying(&self, req: Req) -> Result<Resp, HostError> {
        self.send(&req, true, None).await
    }

    /// Sends with an explicit authorization instead of the client's credentials (a GitHub
    /// App's JWT for its token exchange).
    pub async fn send_as(
        &self,
        req: Req,
        auth: (HeaderName, HeaderValue),
        retrying: bool,
    ) -> Result<Resp, HostError> {
        self.send(&req, retrying, Some(auth)).await
    }

    /// A retrying `GET` that must answer 2xx with `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: impl Into<String>) -> Result<T, HostError> {
        let resp = self.send_retrying(Req::get(path)).await?;
        self.expect(resp)
    }

    /// The body of a 2xx answer as `T`, or the error the status means.
    pub fn expect<T: DeserializeOwned>(&self, resp: Resp) -> Result<T, HostError> {
        if resp.is_success() {
            resp.json()
        } else {
            Err(self.error(&resp))
        }
    }

    /// A 2xx answer, or the error its status means (the body is not needed).
    pub fn expect_ok(&self, resp: Resp) -> Result<(), HostError> {
        if resp.is_success() {
            Ok(())
        } else {
            Err(self.error(&resp))
        }
    }

    async fn send(
        &self,
        req: &Req,
        retrying: bool,
        auth: Option<(HeaderName, HeaderValue)>,
    ) -> Result<Resp, HostError> {
        let attempts = if retrying {
            self.timing.attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        let mut rate_waits = 0;
        loop {
            attempt += 1;
            let header = match &auth {
                Some(h) => h.clone(),
                None => self.credentials.authorize(self).await?,
            };
            match self.execute(req, header).await {
                Ok(resp) => {
                    if let Some(wait) = rate_limited(&resp) {
                        if wait <= self.timing.max_rate_wait && rate_waits < 2 {
                            rate_waits += 1;
                            tokio::time::sleep(wait).await;
                            attempt -= 1;
                            continue;
                        }
                        return Err(self.rate_limit_error(wait));
                    }
                    if resp.status.is_server_error() {
                        if attempt < attempts {
                            tokio::time::sleep(self.backoff(attempt)).await;
                            continue;
                        }
                        return Err(self.unavailable(
                            req,
                            &format!("answered {}", resp.status),
                            attempt,
                        ));
                    }
                    if resp.status == StatusCode::UNAUTHORIZED && auth.is_none() {
                        self.credentials.refused();
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    if attempt < attempts {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    let why = if e.is_timeout() {
                        "did not answer in time".to_owned()
                    } else if e.is_connect() {
                        "could not be reached".to_owned()
                    } else {
                        format!("did not answer ({e})")
                    };
                    return Err(self.unavailable(req, &why, attempt));
                }
            }
        }
    }

    async fn execute(
        &self,
        req: &Req,
        auth: (HeaderName, HeaderValue),
    ) -> Result<Resp, reqwest::Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.api_url, req.path);
        let mut builder = self.http.request(req.method.clone(), url);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder = builder.header(auth.0, auth.1);
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let answer = builder.send().await;
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let e = e.without_url();
                tracing::debug!(method = %req.method, path = %req.path, error = %e, "host call failed");
                return Err(e);
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| e.without_url())?
            .to_vec();
        tracing::debug!(method = %req.method, path = %req.path, status = status.as_u16(), "host call");
        Ok(Resp {
            status,
            headers,
            body,
            who: self.who(),
            what: format!("{} {}", req.method, req.path),
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .timing
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(8));
        let base = exp.min(self.timing.backoff_max);
        base.mul_f64(0.5 + fastrand::f64())
    }

    fn unavailable(&self, req: &Req, why: &str, attempts: u32) -> HostError {
        let tries = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        let outcome = if req.is_read() {
            "nothing was changed; try again later"
        } else {
            "the change may be half-done in the host; try again and Tollgate picks up where it stopped"
        };
        HostError::new(
            HostErrorKind::Unavailable,
            format!(
                "{} at {} {why}{tries} ({} {}): {outcome}",
                self.who(),
                crate::config::redact_url(&self.api_url),
                req.method,
                req.path
            ),
        )
    }

    fn rate_limit_error(&self, wait: Duration) -> HostError {
        let at = time::OffsetDateTime::now_utc() + wait;
        HostError::new(
            HostErrorKind::Unavailable,
            format!(
                "{} rate-limits this token until {:02}:{:02}:{:02} UTC (in {} s); nothing was changed, try again then",
                self.who(),
                at.hour(),
                at.minute(),
                at.second(),
                wait.as_secs()
            ),
        )
    }

    /// The error a non-2xx answer means, in words people can act on.
    pub fn error(&self, resp: &Resp) -> HostError {
        let who = self.who();
        let said = resp.message();
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        let what = &resp.what;
        let api = crate::config::redact_url(&self.api_url);
        match resp.status.as_u16() {
            401 => HostError::new(
                HostErrorKind::Unauthorized,
                format!(
                    "{who} refused the token ({what} answered 401{said}): it is missing, invalid or expired; set a valid host.token"
                ),
            ),
            403 => {
                // GitHub names what this one call needed (fine-grained tokens and Apps):
                // that is the permission the token lacks.
                let lacks = resp
                    .headers
                    .get("x-accepted-github-permissions")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| format!(" This call needs {}: the token lacks it.", v.trim()))
                    .unwrap_or_default();
                HostError::new(
                    HostErrorKind::Forbidden,
                    format!(
                        "{who} refused {what} with 403{said}.{lacks} The token needs {} on {}",
                        self.permission(),
                        self.repo
                    ),
                )
            }
            404 => HostError::new(
                HostErrorKind::NotFound,
                format!(
                    "{who} answered 404 to {what}: the repository {} at {api} does not exist, the token cannot see it, or the item asked for is gone",
                    self.repo
                ),
            ),
            code => HostError::new(
                HostErrorKind::Rejected,
                format!("{who} refused {what} ({code}{said})"),
            ),
        }
    }
}

/// How long a rate-limit answer asks to wait (`retry-after`, or GitHub's
/// `x-ratelimit-remaining: 0` with `x-ratelimit-reset`); `None` when it is no rate limit.
fn rate_limited(resp: &Resp) -> Option<Duration> {
    let status = resp.status.as_u16();
    if status != 403 && status != 429 {
        return None;
    }
    let header = |name: &str| {
        resp.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let secs = u64::try_from(reset - now).unwrap_or(0);
        // The reset is whole seconds: wait one more so the window has surely turned.
        return Some(Duration::from_secs(secs + 1));
    }
    (status == 429).then(|| Duration::from_secs(60))
}

/// Percent-encodes one path segment (`/` included: GitLab's `group%2Fproject`).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Percent-encodes a path that keeps its `/` (a branch name in GitHub's and Gitea's routes).
pub fn path(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, PATH).to_string()
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const PATH: &percent_encoding::AsciiSet = &SEGMENT.remove(b'/');

#[cfg(test)]
mod tests {
    use super::*;

    fn client(kind: HostKind) -> HostClient {
        let token =
            Token::new(reqwest::header::AUTHORIZATION, "Bearer ", "ghp_supersecret").unwrap();
        HostClient::new(
            kind,
            "https://ghe.example.com/api/v3/",
            "acme/apis",
            Vec::new(),
            Box::new(token),
            Timing::default(),
        )
        .unwrap()
    }

    fn resp(status: u16, headers: &[(&'static str, &str)], body: &str) -> Resp {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Resp {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
            who: "GitHub",
            what: "POST /repos/acme/apis/git/refs".into(),
        }
    }

    #[test]
    fn statuses_map_to_kinds_with_messages_people_can_act_on() {
        let c = client(HostKind::Github);
        let e = c.error(&resp(401, &[], r#"{"message":"Bad credentials"}"#));
        assert_eq!(e.kind, HostErrorKind::Unauthorized);
        assert!(e.message.contains("Bad credentials") && e.message.contains("invalid"));
        let e = c.error(&resp(
            403,
            &[],
            r#"{"message":"Resource not accessible by personal access token"}"#,
        ));
        assert_eq!(e.kind, HostErrorKind::Forbidden);
        assert!(e.message.contains("pull requests read/write"), "{e}");
        let e = c.error(&resp(
            403,
            &[("x-accepted-github-permissions", "pull_requests=write")],
            r#"{"message":"Resource not accessible by personal access token"}"#,
        ));
        assert!(
            e.message
                .contains("This call needs pull_requests=write: the token lacks it."),
            "{e}"
        );
        let e = c.error(&resp(404, &[], r#"{"message":"Not Found"}"#));
        assert_eq!(e.kind, HostErrorKind::NotFound);
        assert!(
            e.message.contains("acme/apis") && e.message.contains("https://ghe.example.com/api/v3"),
            "{e}"
        );
        let e = c.error(&resp(
            422,
            &[],
            r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists for acme:x."}]}"#,
        ));
        assert_eq!(e.kind, HostErrorKind::Rejected);
        assert!(e.message.contains("A pull request already exists"), "{e}");
        let gitlab = client(HostKind::Gitlab);
        let e = gitlab.error(&resp(403, &[], r#"{"message":"403 Forbidden"}"#));
        assert!(e.message.contains("Developer role"), "{e}");
        let gitea = client(HostKind::Gitea);
        let e = gitea.error(&resp(
            403,
            &[],
            r#"{"message":"user should have a permission to write to a repo"}"#,
        ));
        assert!(e.message.contains("write:repository"), "{e}");
    }

    #[test]
    fn gitlab_messages_in_lists_and_maps_are_read() {
        let r = resp(
            409,
            &[],
            r#"{"message":["Another open merge request already exists for this source branch: !4"]}"#,
        );
        assert!(r.message().contains("!4"));
        let r = resp(400, &[], r#"{"message":{"branch":["is invalid"]}}"#);
        assert_eq!(r.message(), "branch is invalid");
        let r = resp(400, &[], r#"{"error":"actions is missing"}"#);
        assert_eq!(r.message(), "actions is missing");
    }

    #[test]
    fn rate_limits_are_recognised() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let reset = (now + 3).to_string();
        let r = resp(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
        );
        let wait = rate_limited(&r).unwrap();
        assert!(wait >= Duration::from_secs(3) && wait <= Duration::from_secs(4));
        let r = resp(429, &[("retry-after", "30")], "");
        assert_eq!(rate_limited(&r), Some(Duration::from_secs(30)));
        let r = resp(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"nope"}"#,
        );
        assert_eq!(rate_limited(&r), None);
        let c = client(HostKind::Github);
        let e = c.rate_limit_error(Duration::from_secs(600));
        assert_eq!(e.kind, HostErrorKind::Unavailable);
        assert!(
            e.message.contains("UTC") && e.message.contains("600 s"),
            "{e}"
        );
    }

    #[test]
    fn debug_and_messages_hold_no_secret() {
        let c = client(HostKind::Github);
        let debug = format!("{c:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        let e = c.unavailable(&Req::get("/repos/acme/apis"), "did not answer in time", 3);
        assert!(!e.message.contains("supersecret"));
        assert!(e.message.contains("nothing was changed") && e.message.contains("3 attempts"));
    }

    #[test]
    fn segments_and_paths_are_encoded() {
        assert_eq!(segment("group/sub/proj"), "group%2Fsub%2Fproj");
        assert_eq!(
            path("tollgate/12-edit petstore"),
            "tollgate/12-edit%20petstore"
        );
    }
}
