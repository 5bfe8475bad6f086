//! Sign-in through a real OpenID provider: npm `oidc-provider`, started on loopback by
//! `tests/oidc/op.mjs`, driven headless through its development login pages. Skipped (and
//! said so) where node or the npm packages are missing.

use super::support::TestApp;
use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tollgate::auth::Role;
use tollgate::config::{ProviderConfig, ProviderKind, RoleMapping};

/// The provider process; killed when dropped.
pub struct Op {
    child: Child,
    pub issuer: String,
}

impl Drop for Op {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Starts the provider for a Tollgate at `base`, or `None` (said plainly) without node.
pub fn start_op(base: &str, groups: &str, userinfo_groups: bool) -> Option<Op> {
    let node = Command::new("node").arg("--version").output();
    if node.is_err() || !root().join("node_modules/oidc-provider").is_dir() {
        eprintln!(
            "skipped: the OpenID provider tests need node and `npm ci` (node_modules/oidc-provider)"
        );
        return None;
    }
    let mut cmd = Command::new("node");
    cmd.arg(root().join("tests/oidc/op.mjs"))
        .args(["--redirect", &format!("{base}/auth/sso/callback")])
        .args(["--groups", groups]);
    if userinfo_groups {
        cmd.arg("--userinfo-groups");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut issuer = None;
    let mut lines = std::io::BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(&line).expect("json");
            issuer = v["issuer"].as_str().map(str::to_owned);
            break;
        }
    }
    // Whatever it prints later is read (and dropped), so it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Some(Op {
        child,
        issuer: issuer.expect("the provider printed its issuer"),
    })
}

/// A free loopback port for Tollgate, so the provider knows its callback before it starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub fn provider(issuer: &str) -> ProviderConfig {
    ProviderConfig {
        name: "sso".into(),
        kind: ProviderKind::Oidc,
        issuer: issuer.into(),
        client_id: "tollgate".into(),
        client_secret: "tollgate-test-secret".into(),
        client_secret_file: Default::default(),
        scopes: ["openid", "profile", "email", "groups"]
            .map(String::from)
            .to_vec(),
        groups_claim: "groups".into(),
        github_url: String::new(),
        github_api_url: String::new(),
        host: false,
    }
}

/// Tollgate with the provider `sso`, where platform-team members are admins.
async fn app_with_op(groups: &str, userinfo_groups: bool) -> Option<(TestApp, Op)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let op = start_op(&base, groups, userinfo_groups)?;
    let issuer = op.issuer.clone();
    let app = TestApp::start(
        move |c| {
            c.server.bind = format!("127.0.0.1:{port}").parse().expect("addr");
            c.server.public_url = base;
            c.auth.providers = vec![provider(&issuer)];
            c.auth.roles = vec![RoleMapping {
                group: "platform-team".into(),
                role: Role::Admin,
            }];
        },
        true,
    )
    .await;
    Some((app, op))
}

/// The session cookie a response sets, if any.
fn set_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tollgate_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// A browser's visit to the provider: a cookie jar, following its redirects and filling in
/// its login and consent pages, until it sends the browser back to Tollgate.
async fn through_provider(app: &TestApp, op: &Op, auth_url: &str, login: &str) -> String {
    let mut jar: HashMap<String, String> = HashMap::new();
    let mut url = auth_url.to_owned();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..20 {
        if url.starts_with(&app.base) {
            return url;
        }
        let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = match form.take() {
            Some(f) => app.client.post(&url).form(&f),
            None => app.client.get(&url),
        };
        let resp = req
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .expect("provider");
        for v in resp.headers().get_all("set-cookie") {
            if let Some((k, v)) = v
                .to_str()
                .ok()
                .and_then(|c| c.split(';').next()?.split_once('='))
            {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        if let Some(location) = resp.headers().get("location") {
            let location = location.to_str().expect("location");
            url = if location.starts_with('/') {
                format!("{}{location}", op.issuer)
            } else {
                location.to_owned()
            };
            continue;
        }
        let page = resp.text().await.expect("page");
        assert!(
            url.contains("/interaction/"),
            "unexpected page at {url}: {page}"
        );
        form = Some(if page.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "x")]
        } else {
            vec![("prompt", "consent")]
        });
    }
    panic!("the provider never sent the browser back");
}

/// Starts a sign-in at Tollgate: the session cookie holding it and the provider's URL.
async fn start(app: &TestApp, next: &str) -> (String, String) {
    let resp = app.get(&format!("/auth/sso/login?next={next}")).await;
    assert_eq!(resp.status(), 303);
    let cookie = set_cookie(&resp).expect("a session for the sign-in under way");
    let location = resp.headers()["location"].to_str().expect("loc").to_owned();
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    assert!(
        location.contains("nonce=") && location.contains("state="),
        "{location}"
    );
    (cookie, location)
}

async fn callback(app: &TestApp, url: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("callback")
}

async fn who(app: &TestApp, cookie: &str) -> serde_json::Value {
    app.call("GET", "/api/v1/session", Some(cookie), None, None)
        .await
        .1
}

#[tokio::test]
async fn sign_in_through_an_openid_provider() {
    let Some((app, op)) =
        app_with_op(r#"{"alice": ["platform-team", "team-payments"]}"#, false).await
    else {
        return;
    };
    let (pending, auth_url) = start(&app, "/changes").await;
    let back = through_provider(&app, &op, &auth_url, "alice").await;
    assert!(
        back.starts_with(&format!("{}/auth/sso/callback?code=", app.base)),
        "{back}"
    );
    let resp = callback(&app, &back, &pending).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/changes",
        "back where they came from"
    );
    let cookie = set_cookie(&resp).expect("a new session");
    assert_ne!(cookie, pending, "the session id changes at sign-in");
    let me = who(&app, &cookie).await;
    assert_eq!(me["user"], "alice");
    assert_eq!(
        me["role"], "admin",
        "platform-team is mapped to admin: {me}"
    );
    assert_eq!(
        me["groups"],
        serde_json::json!(["platform-team", "team-payments"])
    );
    assert_eq!(who(&app, &pending).await["user"], serde_json::Value::Null);

    // The same callback again: the sign-in it answered is over.
    let resp = callback(&app, &back, &cookie).await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .expect("page")
            .contains("no sign-in is under way")
    );

    // Sign-out ends the session and offers the provider's end-session URL.
    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", app.csrf(&cookie).await.expect("csrf token"))])
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.expect("page");
    assert!(
        page.contains("id=\"end-session\"") && page.contains(&format!("{}/session/end", op.issuer)),
        "{page}"
    );
    assert_eq!(who(&app, &cookie).await["user"], serde_json::Value::Null);

    // The same person again keeps their login (keyed by provider and subject).
    let (pending, auth_url) = start(&app, "/").await;
    let back = through_provider(&app, &op, &auth_url, "alice").await;
    let resp = callback(&app, &back, &pending).await;
    let cookie = set_cookie(&resp).expect("session");
    assert_eq!(who(&app, &cookie).await["user"], "alice");
    // bob, in no mapped group, gets the default role.
    let (pending, auth_url) = start(&app, "/").await;
    let back = through_provider(&app, &op, &auth_url, "bob").await;
    let cookie = set_cookie(&callback(&app, &back, &pending).await).expect("session");
    let me = who(&app, &cookie).await;
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("bob"), Some("viewer"))
    );
    app.stop().await;
}

#[tokio::test]
async fn groups_from_userinfo_when_the_id_token_has_none() {
    let Some((app, op)) = app_with_op(r#"{"dora": ["platform-team"]}"#, true).await else {
        return;
    };
    let (pending, auth_url) = start(&app, "/").await;
    let back = through_provider(&app, &op, &auth_url, "dora").await;
    let cookie = set_cookie(&callback(&app, &back, &pending).await).expect("session");
    let me = who(&app, &cookie).await;
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("dora"), Some("admin")),
        "{me}"
    );
    app.stop().await;
}

/// A refused sign-in: a page that says why, and nobody signed in.
async fn refused(app: &TestApp, resp: reqwest::Response, status: u16, says: &str) {
    assert_eq!(resp.status().as_u16(), status);
    let cookie = set_cookie(&resp);
    let page = resp.text().await.expect("page");
    assert!(
        page.contains("id=\"login-error\"") && page.contains(says),
        "{says}: {page}"
    );
    if let Some(c) = cookie {
        assert_eq!(who(app, &c).await["user"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn what_a_sign_in_must_refuse() {
    let Some((app, op)) = app_with_op("{}", false).await else {
        return;
    };
    // Unknown provider.
    refused(
        &app,
        app.get("/auth/nope/login").await,
        404,
        "no login provider named `nope`",
    )
    .await;
    refused(
        &app,
        app.get("/auth/nope/callback?code=x&state=y").await,
        404,
        "`nope`",
    )
    .await;

    // Wrong state.
    let (pending, auth_url) = start(&app, "/").await;
    let back = through_provider(&app, &op, &auth_url, "mallory").await;
    let forged = back.replace("state=", "state=x");
    refused(
        &app,
        callback(&app, &forged, &pending).await,
        400,
        "state mismatch",
    )
    .await;
    // That sign-in is spent; a callback without one under way is refused too.
    refused(
        &app,
        callback(&app, &back, &pending).await,
        400,
        "no sign-in is under way",
    )
    .await;

    // A replayed code: a new sign-in under way, answered with the first one's code.
    let (pending, auth_url) = start(&app, "/").await;
    let first = through_provider(&app, &op, &auth_url, "mallory").await;
    let cookie = set_cookie(&callback(&app, &first, &pending).await).expect("signed in");
    let (pending, auth_url) = start(&app, "/").await;
    let state = auth_url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .expect("state");
    let code = first
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("code");
    let replay = format!("{}/auth/sso/callback?code={code}&state={state}", app.base);
    refused(
        &app,
        callback(&app, &replay, &pending).await,
        400,
        "invalid_grant",
    )
    .await;
    let _ = cookie;

    // Tampered ID tokens: wrong nonce, expired, signed with a key the provider never published.
    for (mode, says) in [
        ("wrong-nonce", "ID token was not accepted"),
        ("expired", "ID token was not accepted"),
        ("foreign", "ID token was not accepted"),
    ] {
        let (pending, auth_url) = start(&app, "/").await;
        let back = through_provider(&app, &op, &auth_url, "mallory").await;
        let set = app
            .client
            .post(format!("{}/__test/mode?m={mode}", op.issuer))
            .send()
            .await
            .expect("mode");
        assert_eq!(set.status(), 204);
        let resp = callback(&app, &back, &pending).await;
        assert_eq!(resp.status(), 400, "{mode}");
        let page = resp.text().await.expect("page");
        assert!(page.contains(says), "{mode}: {page}");
        let detail = match mode {
            "wrong-nonce" => "nonce",
            "expired" => "expired",
            _ => "signature",
        };
        assert!(page.to_lowercase().contains(detail), "{mode}: {page}");
    }
    app.stop().await;
}

/// A small fake of GitHub's OAuth endpoints and the `/user`, `/user/emails` and `/user/teams`
/// API calls: it checks the PKCE verifier against the challenge and the client secret.
async fn fake_github() -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::{Form, Query};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::{get, post};
    use base64::Engine as _;
    use sha2::Digest as _;
    let challenge = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (c1, c2) = (challenge.clone(), challenge.clone());
    let authed = |h: &HeaderMap| {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gho_fake")
    };
    let router = axum::Router::new()
        .route(
            "/login/oauth/authorize",
            get(move |Query(q): Query<HashMap<String, String>>| async move {
                assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"));
                assert_eq!(q.get("client_id").map(String::as_str), Some("gh-client"));
                *c1.lock().unwrap() = q["code_challenge"].clone();
                Redirect::to(&format!("{}?code=c0de&state={}", q["redirect_uri"], q["state"]))
            }),
        )
        .route(
            "/login/oauth/access_token",
            post(move |headers: HeaderMap, Form(f): Form<HashMap<String, String>>| async move {
                let basic = base64::engine::general_purpose::STANDARD.encode("gh-client:gh-secret");
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()));
                let ok = f.get("code").map(String::as_str) == Some("c0de")
                    && hashed == *c2.lock().unwrap()
                    && headers.get("authorization").and_then(|v| v.to_str().ok())
                        == Some(&format!("Basic {basic}"));
                if ok {
                    axum::Json(serde_json::json!({"access_token": "gho_fake", "token_type": "bearer", "scope": "read:user,user:email,read:org"})).into_response()
                } else {
                    (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "bad_verification_code"}))).into_response()
                }
            }),
        )
        .route("/user", get(move |h: HeaderMap| async move {
            if !authed(&h) { return StatusCode::UNAUTHORIZED.into_response(); }
            axum::Json(serde_json::json!({"id": 4242, "login": "Octo-Cat", "email": null})).into_response()
        }))
        .route("/user/emails", get(move |h: HeaderMap| async move {
            if !authed(&h) { return StatusCode::UNAUTHORIZED.into_response(); }
            axum::Json(serde_json::json!([
                {"email": "old@example.test", "primary": false, "verified": true},
                {"email": "octo@example.test", "primary": true, "verified": true}
            ])).into_response()
        }))
        .route("/user/teams", get(move |h: HeaderMap| async move {
            if !authed(&h) { return StatusCode::UNAUTHORIZED.into_response(); }
            axum::Json(serde_json::json!([
                {"slug": "api-reviewers", "organization": {"login": "acme"}},
                {"slug": "payments", "organization": {"login": "acme"}}
            ])).into_response()
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, task)
}

#[tokio::test]
async fn sign_in_with_github() {
    let (github, fake) = fake_github().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let gh = github.clone();
    let app = TestApp::start(
        move |c| {
            c.server.bind = format!("127.0.0.1:{port}").parse().expect("addr");
            c.server.public_url = base;
            c.auth.providers = vec![ProviderConfig {
                name: "gh".into(),
                kind: ProviderKind::Github,
                client_id: "gh-client".into(),
                client_secret: "gh-secret".into(),
                github_url: gh.clone(),
                github_api_url: gh,
                ..provider("")
            }];
            c.auth.roles = vec![RoleMapping {
                group: "acme/api-reviewers".into(),
                role: Role::Approver,
            }];
        },
        true,
    )
    .await;
    let sign_in = |tamper: bool| {
        let app = &app;
        async move {
            let resp = app.get("/auth/gh/login?next=/status").await;
            assert_eq!(resp.status(), 303);
            let cookie = set_cookie(&resp).expect("pending");
            let to = resp.headers()["location"].to_str().expect("loc").to_owned();
            assert!(
                to.contains("code_challenge_method=S256") && to.contains("read%3Aorg"),
                "{to}"
            );
            let resp = app.client.get(&to).send().await.expect("github");
            let mut back = resp.headers()["location"].to_str().expect("loc").to_owned();
            if tamper {
                back = back.replace("state=", "state=x");
            }
            (callback(app, &back, &cookie).await, cookie)
        }
    };
    let (resp, pending) = sign_in(false).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/status");
    let cookie = set_cookie(&resp).expect("session");
    assert_ne!(cookie, pending);
    let me = who(&app, &cookie).await;
    assert_eq!(me["user"], "octo-cat", "{me}");
    assert_eq!(me["role"], "approver", "{me}");
    assert_eq!(
        me["groups"],
        serde_json::json!(["acme/api-reviewers", "acme/payments"])
    );
    let (resp, _) = sign_in(true).await;
    refused(&app, resp, 400, "state mismatch").await;
    app.stop().await;
    fake.abort();
}
