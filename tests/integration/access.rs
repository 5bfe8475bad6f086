//! Who may do what: every route of the router × every kind of person (anonymous, viewer,
//! editor, approver, admin, owner and non-owner of a namespace). The routes come from the
//! permission table, checked against the OpenAPI document and the page routes, so a route
//! without a permission fails here; a refused request must change nothing.

use super::support::TestApp;
use serde_json::{Value, json};
use tollgate::auth::{Need, Role};
use tollgate::config::{Anonymous, Config, DemoUser, OwnershipConfig};
use tollgate::web::access::{ROUTES, Verb, need_of};

/// The people of these tests: (login, role, groups). alice and bob own `payments`.
const PEOPLE: &[(&str, Role, &[&str])] = &[
    ("vic", Role::Viewer, &[]),
    ("eddie", Role::Editor, &[]),
    ("alice", Role::Editor, &["team-payments"]),
    ("nora", Role::Approver, &[]),
    ("bob", Role::Approver, &["team-payments"]),
    ("dana", Role::Admin, &[]),
];

pub fn roles_config(c: &mut Config) {
    c.auth.anonymous = Anonymous::None;
    c.auth.demo_users = PEOPLE
        .iter()
        .map(|(name, role, groups)| DemoUser::Entry {
            name: (*name).into(),
            role: *role,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        })
        .collect();
    c.ownership = vec![OwnershipConfig {
        namespaces: vec!["payments".into(), "payments-*".into()],
        groups: vec!["team-payments".into()],
    }];
}

fn payments_change(title: &str) -> Value {
    json!({"title": title, "edits": [{"kind": "ApiDefinition", "namespace": "payments",
        "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": format!("http://{}:1", title.len())}}}}]})
}

/// Everything a refused request could have changed: branches, and every change with its
/// events.
async fn fingerprint(app: &TestApp, admin: &str) -> String {
    let refs = app.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
    let (_, list) = app
        .call("GET", "/api/v1/changes", Some(admin), None, None)
        .await;
    let mut out = format!("{refs}\n{list}\n");
    for c in list.as_array().cloned().unwrap_or_default() {
        let (_, view) = app
            .call(
                "GET",
                &format!("/api/v1/changes/{}", c["id"]),
                Some(admin),
                None,
                None,
            )
            .await;
        out.push_str(&format!("{} {}\n", view["events"], view["state"]));
    }
    out
}

/// A concrete request for a route: its path with parameters filled in, and a body.
fn concrete(path: &str, change: i64) -> String {
    path.replace("{kind}", "ApiDefinition")
        .replace("{namespace}", "payments")
        .replace("{name}", "payments-api")
        .replace("{id}", &change.to_string())
        .replace("{*rest}", "nothing-here")
        .replace("{*path}", "tollgate.css")
}

fn body_for(verb: Verb, path: &str) -> Option<Value> {
    match (verb, path) {
        (Verb::Post, "/api/v1/changes" | "/api/v1/changes/preview") => {
            Some(payments_change("Matrix change"))
        }
        (Verb::Post, "/api/v1/changes/{id}/comments") => Some(json!({"body": "a comment"})),
        (Verb::Post, "/api/v1/status/adopt") => Some(
            json!({"cluster": "nowhere", "kind": "ApiDefinition", "namespace": "payments", "name": "payments-api"}),
        ),
        (Verb::Post | Verb::Delete | Verb::Any, _) => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = TestApp::start(roles_config, true).await;
    let mut cookies = std::collections::HashMap::new();
    for (name, _, _) in PEOPLE {
        cookies.insert(*name, app.login(name).await);
    }
    let admin = cookies["dana"].clone();

    // The table covers the OpenAPI document and every page: a route missing from it fails.
    let (_, doc) = app.json("/api/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 10);
    for (path, item) in paths {
        for method in item.as_object().expect("item").keys() {
            let m = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            assert!(
                ROUTES
                    .iter()
                    .any(|(v, p, _)| p == path && (v.as_str() == m.as_str() || (*v == Verb::Any))),
                "{method} {path} is in the OpenAPI document but has no permission in web::access::ROUTES"
            );
        }
    }
    let pages = tollgate::web::page_paths();
    assert!(pages.len() > 10);
    for page in &pages {
        assert!(
            need_of(&axum::http::Method::GET, page).is_some()
                && ROUTES.iter().any(|(_, p, _)| p == page),
            "page {page} has no permission in web::access::ROUTES"
        );
    }

    let mut checked = 0;
    for (verb, path, need) in ROUTES {
        let method = match verb {
            Verb::Any => "GET",
            v => v.as_str(),
        };
        let page = !path.starts_with("/api/") && !path.starts_with("/auth/") && *path != "/metrics";
        for who in std::iter::once(None).chain(PEOPLE.iter().map(Some)) {
            // Signing in and out moves sessions: those routes are tried anonymously.
            if path.starts_with("/auth/") && who.is_some() {
                continue;
            }
            let role = who.map(|(_, r, _)| *r);
            let cookie = who.map(|(name, _, _)| cookies[name].clone());
            // A fresh change by alice for every request on a change.
            let change = if path.contains("{id}") {
                let (status, created) = app
                    .call(
                        "POST",
                        "/api/v1/changes",
                        Some(&cookies["alice"]),
                        Some(payments_change(&format!("For {path} {checked}"))),
                        None,
                    )
                    .await;
                assert_eq!(status, 201, "{created}");
                created["id"].as_i64().expect("id")
            } else {
                0
            };
            let url = concrete(path, change);
            let allowed = need.check(who.is_some(), role).is_ok();
            let before = if allowed {
                String::new()
            } else {
                fingerprint(&app, &admin).await
            };
            let label = format!(
                "{method} {url} as {}",
                who.map_or("anonymous", |(n, _, _)| *n)
            );
            let status = if path.ends_with("/events") {
                // An event stream: only the status line is read.
                let mut req = app.client.get(app.url(&url));
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                let resp = req.send().await.expect("stream");
                let status = resp.status().as_u16();
                if status == 200 {
                    drop(resp);
                    (status, Value::Null)
                } else {
                    (status, resp.json().await.expect("json error"))
                }
            } else if page && !allowed {
                let mut req = app.client.get(app.url(&url));
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                let resp = req.send().await.expect("page");
                let status = resp.status().as_u16();
                let location = resp
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap_or_default().to_owned());
                (status, json!(location))
            } else {
                app.call(method, &url, cookie.as_deref(), body_for(*verb, path), None)
                    .await
            };
            let (status, answer) = status;
            if allowed {
                assert!(
                    status != 401
                        && !(status == 403
                            && answer["code"] == "forbidden"
                            && answer["message"]
                                .as_str()
                                .is_some_and(|m| m.contains("your role"))),
                    "{label}: allowed, got {status} {answer}"
                );
                assert_ne!(answer["code"], "no_permission", "{label}");
            } else if page && who.is_none() {
                assert_eq!(status, 303, "{label}: {answer}");
                assert!(
                    answer
                        .as_str()
                        .is_some_and(|l| l.starts_with("/login?next=")),
                    "{label}: {answer}"
                );
            } else if page {
                assert_eq!(status, 403, "{label}");
            } else if who.is_none() {
                assert_eq!(
                    (status, answer["code"].as_str()),
                    (401, Some("unauthenticated")),
                    "{label}: {answer}"
                );
            } else {
                assert_eq!(
                    (status, answer["code"].as_str()),
                    (403, Some("forbidden")),
                    "{label}: {answer}"
                );
            }
            if !allowed {
                assert_eq!(
                    fingerprint(&app, &admin).await,
                    before,
                    "{label}: a refused request changed something"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    // Public routes stay public, reads need a viewer, writes more.
    assert_eq!(
        need_of(&axum::http::Method::GET, "/healthz"),
        Some(Need::Public)
    );
    app.stop().await;
}

#[tokio::test]
async fn owners_propose_and_approve_their_namespaces() {
    let app = TestApp::start(roles_config, true).await;
    let (alice, eddie, nora, bob) = (
        app.login("alice").await,
        app.login("eddie").await,
        app.login("nora").await,
        app.login("bob").await,
    );
    let admin = app.login("dana").await;

    // An editor outside team-payments may not propose to payments, and nothing is written.
    let before = fingerprint(&app, &admin).await;
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(payments_change("Not mine")),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`payments`") && message.contains("team-payments"),
        "{message}"
    );
    assert_eq!(fingerprint(&app, &admin).await, before);
    // Moving a resource into payments is proposing to payments too.
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(json!({"title": "Sneak in", "edits": [{"kind": "ApiDefinition", "namespace": "catalog", "name": "products",
                "document": {"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition", "metadata": {"name": "products", "namespace": "payments"}}}]})),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    // An unowned namespace is open to every editor.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(json!({"title": "Catalog", "edits": [{"kind": "ApiDefinition", "namespace": "catalog", "name": "products",
                "merge_patch": {"spec": {"proxy": {"target_url": "http://products-v2:1"}}}}]})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");

    // alice owns payments: she proposes; the page and the API name the owners needed.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(payments_change("Owned")),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{id}"),
            Some(&nora),
            None,
            None,
        )
        .await;
    assert_eq!(
        view["owners"],
        json!([{"namespace": "payments", "groups": ["team-payments"], "approved_by": []}])
    );
    // nora approves but owns nothing here: refused, naming the namespace and the group.
    let before = fingerprint(&app, &admin).await;
    let (status, err) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &nora)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("team-payments"))
    );
    // Merging without an owner's approval is refused too.
    let (status, err) = app.act(&format!("/api/v1/changes/{id}/merge"), &nora).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("approval_required")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("`payments`") && m.contains("team-payments")),
        "{err}"
    );
    assert_eq!(fingerprint(&app, &admin).await, before);
    // bob owns payments: his approval counts, and then any approver may merge.
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["owners"][0]["approved_by"], json!(["bob"]));
    let (_, html) = app.html(&format!("/changes/{id}")).await;
    let _ = html;
    let page = app
        .client
        .get(app.url(&format!("/changes/{id}")))
        .header("cookie", &nora)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("id=\"owners\"") && page.contains("team-payments") && page.contains("bob"),
        "the change page shows the owners needed and who approved"
    );
    let (status, view) = app.act(&format!("/api/v1/changes/{id}/merge"), &nora).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("merged")),
        "{view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn pages_show_only_the_actions_a_role_allows() {
    let app = TestApp::start(roles_config, true).await;
    let alice = app.login("alice").await;
    let (_, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(payments_change("Buttons")),
            None,
        )
        .await;
    let id = created["id"].as_i64().expect("id");
    let page_as = |who: &str| {
        let (client, url, who) = (
            app.client.clone(),
            app.url(&format!("/changes/{id}")),
            who.to_owned(),
        );
        async move {
            client
                .get(url)
                .header("cookie", who)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let viewer = page_as(&app.login("vic").await).await;
    assert!(!viewer.contains("id=\"approve\"") && !viewer.contains("id=\"merge\""));
    assert!(
        !viewer.contains("id=\"comment-body\""),
        "viewers do not comment"
    );
    let editor = page_as(&app.login("eddie").await).await;
    assert!(!editor.contains("id=\"approve\"") && !editor.contains("id=\"merge\""));
    assert!(editor.contains("id=\"comment-body\""));
    let approver = page_as(&app.login("bob").await).await;
    assert!(approver.contains("id=\"approve\"") && approver.contains("id=\"merge\""));
    // Anonymous visitors are sent to sign in, with the way back.
    let resp = app.get(&format!("/changes/{id}")).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/login?next=/changes/{id}").as_str()
    );
    // A viewer asking the API to propose gets the JSON 403.
    let vic = app.login("vic").await;
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&vic),
            Some(payments_change("x")),
            None,
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    assert!(err["request_id"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn writes_need_the_csrf_token_and_a_same_origin() {
    let app = TestApp::start(roles_config, true).await;
    let alice = app.login("alice").await;
    let admin = app.login("dana").await;
    let token = app
        .csrf(&alice)
        .await
        .expect("csrf_token in GET /api/v1/session");
    assert_eq!(token.len(), 64);
    let before = fingerprint(&app, &admin).await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/changes"))
            .header("cookie", &alice)
            .json(&payments_change("CSRF"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    for (what, headers) in [
        ("no token", vec![]),
        ("a wrong token", vec![("x-csrf-token", "0".repeat(64))]),
        (
            "another session's token",
            vec![("x-csrf-token", app.csrf(&admin).await.expect("t"))],
        ),
        (
            "a foreign origin",
            vec![
                ("x-csrf-token", token.clone()),
                ("origin", "http://evil.example".into()),
            ],
        ),
    ] {
        let resp = post(headers).await.expect("post");
        assert_eq!(resp.status(), 403, "{what}");
        let body: Value = resp.json().await.expect("json");
        assert!(
            body["code"] == "csrf" || body["code"] == "cross_origin",
            "{what}: {body}"
        );
    }
    assert_eq!(
        fingerprint(&app, &admin).await,
        before,
        "refused writes changed nothing"
    );
    let resp = post(vec![("x-csrf-token", token.clone())])
        .await
        .expect("post");
    assert_eq!(resp.status(), 201);

    // Sign-out is a form: without the token it is refused and the session lives on.
    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &alice)
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 403);
    assert_eq!(
        app.call("GET", "/api/v1/session", Some(&alice), None, None)
            .await
            .1["user"],
        "alice"
    );
    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &alice)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 303);
    assert_eq!(
        app.call("GET", "/api/v1/session", Some(&alice), None, None)
            .await
            .1["user"],
        Value::Null
    );

    // The demo sign-in needs no token, but a foreign Origin is refused.
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .header("origin", "http://evil.example")
        .form(&[("user", "alice")])
        .send()
        .await
        .expect("demo");
    assert_eq!(resp.status(), 403);
    // Signing in again in the same browser changes the session id; the old one is over.
    let first = app.login("bob").await;
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .header("cookie", &first)
        .form(&[("user", "nora")])
        .send()
        .await
        .expect("demo");
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let second = cookie.split(';').next().expect("pair").to_owned();
    assert_ne!(second, first);
    assert_eq!(
        app.call("GET", "/api/v1/session", Some(&first), None, None)
            .await
            .1["user"],
        Value::Null
    );
    assert_eq!(
        app.call("GET", "/api/v1/session", Some(&second), None, None)
            .await
            .1["user"],
        "nora"
    );
    app.stop().await;

    // Behind HTTPS the cookie is Secure.
    let app = TestApp::start(|c| c.auth.secure_cookies = true, true).await;
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "alice")])
        .send()
        .await
        .expect("demo");
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .expect("c")
            .contains("Secure")
    );
    app.stop().await;
}

/// Log lines written while the guard lives (the app's request tasks run on the test's thread).
pub struct Sink(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) async fn bearer(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn tokens_audit_and_no_secrets_anywhere() {
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&logs);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Sink(std::sync::Arc::clone(&sink)))
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Login providers with client secrets: GitHub's OAuth app on the emulated host (a user
    // OAuth token passes through the sign-in) and an OpenID provider that cannot be reached.
    let dir = tempfile::tempdir().expect("tempdir");
    let host = tollgate_emulator::githost::GitHost::start(&dir.path().join("host"))
        .await
        .expect("emulator");
    host.register_oauth_app("gh-client", "gh-client-secret-value", Some(3600));
    let (web, api) = (
        host.url(),
        host.api_url(tollgate_emulator::githost::Flavour::GitHub),
    );
    let port = crate::hostuser::free_port();
    let app = TestApp::start(
        move |c| {
            roles_config(c);
            c.server.bind = format!("127.0.0.1:{port}").parse().expect("addr");
            c.server.public_url = format!("http://127.0.0.1:{port}");
            c.auth.providers = vec![
                tollgate::config::ProviderConfig {
                    name: "gh".into(),
                    kind: tollgate::config::ProviderKind::Github,
                    client_id: "gh-client".into(),
                    client_secret: "gh-client-secret-value".into(),
                    github_url: web,
                    github_api_url: api,
                    ..crate::oidc::provider("")
                },
                tollgate::config::ProviderConfig {
                    client_secret: "oidc-client-secret-value".into(),
                    ..crate::oidc::provider("http://127.0.0.1:9/realms/none")
                },
            ];
        },
        true,
    )
    .await;
    let octo = crate::hostuser::sign_in_through_github(&app, &host, "octo").await;
    assert_eq!(
        host.oauth_tokens().len(),
        1,
        "a user token was issued to Tollgate"
    );
    let resp = app.get("/auth/sso/login").await;
    assert_eq!(resp.status(), 502, "the OpenID provider cannot be reached");
    let (alice, bob, vic, dana) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("vic").await,
        app.login("dana").await,
    );
    let mut seen = Vec::new();

    // A token with a role above your own is refused; at or below, it is made and shown once.
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&alice),
            Some(json!({"name": "ci", "role": "approver", "expires_in_days": 30})),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("forbidden")),
        "{err}"
    );
    seen.push(err);
    let (status, made) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&alice),
            Some(json!({"name": "ci", "role": "editor", "expires_in_days": 30})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("tg_") && token.len() == 67, "{token}");
    let id = made["id"].as_i64().expect("id");
    let (_, viewer_token) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&alice),
            Some(json!({"name": "wall", "role": "viewer", "expires_in_days": 1})),
            None,
        )
        .await;
    let viewer_token = viewer_token["token"].as_str().expect("token").to_owned();
    let (_, bobs) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&bob),
            Some(json!({"name": "bob-ci", "role": "approver", "expires_in_days": 7})),
            None,
        )
        .await;
    let bobs_id = bobs["id"].as_i64().expect("id");

    // Stored as its SHA-256 only.
    let db = &app.running.as_ref().expect("running").app.db;
    let stored: Vec<(String,)> =
        tollgate::db_run!(db, fetch_all, (String,), "SELECT hash FROM api_tokens").expect("rows");
    assert!(
        stored
            .iter()
            .any(|(h,)| *h == tollgate::auth::tokens::hash(&token))
    );
    assert!(stored.iter().all(|(h,)| !h.contains(&token[3..])));

    // A bearer request needs no session and no CSRF token, and acts with the token's role.
    let (status, created) = bearer(
        &app,
        "POST",
        "/api/v1/changes",
        &token,
        Some(payments_change("By token")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, err) = bearer(
        &app,
        "POST",
        "/api/v1/changes",
        &viewer_token,
        Some(payments_change("Viewer token")),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("forbidden")),
        "{err}"
    );
    seen.push(err);
    let (status, mine) = bearer(&app, "GET", "/api/v1/tokens", &token, None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = mine
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, vec!["wall", "ci"], "alice sees her own tokens only");
    assert!(
        !mine.to_string().contains(&token[3..]),
        "a list never shows a secret"
    );
    let (_, all) = app
        .call("GET", "/api/v1/tokens", Some(&dana), None, None)
        .await;
    assert_eq!(
        all.as_array().map(Vec::len),
        Some(3),
        "an admin sees every token"
    );

    // Revoking: not someone else's (unless admin); then the token stops working.
    let (status, err) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&bob),
            None,
            None,
        )
        .await;
    assert_eq!(status, 403, "{err}");
    seen.push(err);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&alice),
            None,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, err) = bearer(&app, "GET", "/api/v1/changes", &token, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("unauthenticated")),
        "{err}"
    );
    seen.push(err);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{bobs_id}"),
            Some(&dana),
            None,
            None,
        )
        .await;
    assert_eq!(status, 204, "admins revoke anyone's");
    // Expired tokens stop working too.
    tollgate::db_run!(db, execute, "UPDATE api_tokens SET expires_at = 0").expect("expire");
    let (status, _) = bearer(&app, "GET", "/api/v1/changes", &viewer_token, None).await;
    assert_eq!(status, 401);
    let (status, _) = bearer(&app, "GET", "/api/v1/changes", "tg_nonsense", None).await;
    assert_eq!(status, 401);

    // Refusals and state changes land in the audit log, for admins only.
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&vic),
            Some(payments_change("Viewer")),
            None,
        )
        .await;
    assert_eq!(status, 403);
    seen.push(err);
    let change = created["id"].clone();
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/changes/{change}/comments"),
            Some(&bob),
            Some(json!({"body": "ok"})),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .act(&format!("/api/v1/changes/{change}/approve"), &bob)
        .await;
    assert_eq!(status, 200);
    let (status, err) = app
        .call("GET", "/api/v1/audit", Some(&alice), None, None)
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    let (status, log) = app
        .call("GET", "/api/v1/audit?limit=200", Some(&dana), None, None)
        .await;
    assert_eq!(status, 200, "{log}");
    let entries = log.as_array().expect("entries");
    let has = |actor: &str, action: &str, outcome: &str, code: &str| {
        entries.iter().any(|e| {
            e["actor"] == actor
                && e["action"] == action
                && e["outcome"] == outcome
                && e["code"] == code
                && e["request_id"]
                    .as_str()
                    .is_some_and(|r| !r.is_empty() || action == "sign_in")
        })
    };
    assert!(has("alice", "sign_in", "ok", ""), "{log}");
    assert!(
        has("alice", "token_create", "refused", "forbidden"),
        "{log}"
    );
    assert!(has("alice", "token_create", "ok", ""), "{log}");
    assert!(
        has("alice", "propose", "ok", ""),
        "by token, as alice: {log}"
    );
    assert!(
        has("alice", "propose", "refused", "forbidden"),
        "the viewer token: {log}"
    );
    assert!(has("vic", "propose", "refused", "forbidden"), "{log}");
    assert!(has("bob", "token_revoke", "refused", "forbidden"), "{log}");
    assert!(has("dana", "token_revoke", "ok", ""), "{log}");
    assert!(has("bob", "comment", "ok", ""), "{log}");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "approve" && e["resource"] == format!("change/{change}")),
        "{log}"
    );
    // Filters and paging.
    let (_, only) = app
        .call(
            "GET",
            "/api/v1/audit?actor=vic&outcome=refused",
            Some(&dana),
            None,
            None,
        )
        .await;
    assert!(
        only.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e["actor"] == "vic")),
        "{only}"
    );
    let (_, page1) = app
        .call("GET", "/api/v1/audit?limit=2", Some(&dana), None, None)
        .await;
    let last = page1[1]["id"].as_i64().expect("id");
    let (_, page2) = app
        .call(
            "GET",
            &format!("/api/v1/audit?limit=2&before={last}"),
            Some(&dana),
            None,
            None,
        )
        .await;
    assert!(page2[0]["id"].as_i64().expect("id") < last);
    let page = app
        .client
        .get(app.url("/audit?action=propose"))
        .header("cookie", &dana)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("id=\"audit\"") && html.contains("propose") && !html.contains("sign_in"),
        "filtered page"
    );
    let refused = app
        .client
        .get(app.url("/audit"))
        .header("cookie", &alice)
        .send()
        .await
        .expect("page");
    assert_eq!(refused.status(), 403);

    // Sign out, then look for secrets in the logs, the error bodies and the audit log.
    let csrf = app.csrf(&alice).await.expect("csrf");
    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &alice)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 303);
    let (_, log) = app
        .call("GET", "/api/v1/audit?limit=200", Some(&dana), None, None)
        .await;
    assert!(log.to_string().contains("sign_out"));
    drop(_guard);
    let logs = String::from_utf8_lossy(&logs.lock().expect("lock")).into_owned();
    assert!(logs.contains("signed in"), "the logs were captured");
    let everything = format!("{logs}\n{log}\n{}", json!(seen));
    for (what, secret) in [
        ("a token", token[3..].to_owned()),
        ("a viewer token", viewer_token[3..].to_owned()),
        (
            "a session cookie",
            alice.split('=').nth(1).expect("value").to_owned(),
        ),
        (
            "a session cookie",
            dana.split('=').nth(1).expect("value").to_owned(),
        ),
        ("a CSRF token", csrf.clone()),
        (
            "a session cookie",
            octo.split('=').nth(1).expect("value").to_owned(),
        ),
        (
            "a GitHub client secret",
            "gh-client-secret-value".to_owned(),
        ),
        (
            "an OpenID client secret",
            "oidc-client-secret-value".to_owned(),
        ),
    ]
    .into_iter()
    .chain(
        host.oauth_tokens()
            .into_iter()
            .map(|t| ("a user's OAuth token", t)),
    ) {
        assert!(!everything.contains(&secret), "{what} leaked");
    }
    app.stop().await;
}
