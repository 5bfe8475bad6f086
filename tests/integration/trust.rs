//! The trust fixes: every error is `{code, message, request_id}` with nothing internal in it;
//! security headers; writes only from Tollgate's own pages; sessions end with their sign-in
//! method; slow clients cannot take the server down; readiness follows the repo; a checked-out
//! branch is never moved; one key, one proposal, whatever the races.

use crate::support::{TestApp, TestRepo};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn edit_change(title: &str, target: &str) -> Value {
    json!({"title": title, "description": "", "edits": [{"kind": "ApiDefinition", "namespace": "payments",
        "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": target}}}}]})
}

/// Sends a raw request and returns the status, headers and body text.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.client.request(
        reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
        app.url(path),
    );
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

#[tokio::test]
async fn every_error_is_the_json_error_with_a_request_id_and_nothing_internal() {
    let app = TestApp::start(super::support::everyone_admin, true).await;
    let alice = app.login("alice").await;
    let cookie = alice.as_str();
    let csrf = app.csrf(cookie).await.expect("csrf");
    let csrf = csrf.as_str();
    // (method, path, headers, body, expected status)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<&'a str>,
        u16,
    );
    let cases: Vec<Case> = vec![
        ("GET", "/api/v1/nope", vec![], None, 404),
        (
            "POST",
            "/api/v1/nope",
            vec![("content-type", "application/json")],
            Some("{}"),
            404,
        ),
        ("GET", "/api/v1/changes/not-a-number", vec![], None, 400),
        ("GET", "/api/v1/changes/999999", vec![], None, 404),
        (
            "DELETE",
            "/api/v1/repo",
            vec![("cookie", cookie), ("x-csrf-token", csrf)],
            None,
            405,
        ),
        ("GET", "/api/v1/resources/Nope/x/y", vec![], None, 400),
        (
            "GET",
            "/api/v1/resources/ApiDefinition/payments/nothing",
            vec![],
            None,
            404,
        ),
        ("GET", "/api/v1/status?page=abc", vec![], None, 400),
        (
            "POST",
            "/api/v1/changes",
            vec![("content-type", "application/json")],
            Some("{}"),
            401,
        ),
        (
            "POST",
            "/api/v1/changes",
            vec![
                ("cookie", cookie),
                ("x-csrf-token", csrf),
                ("content-type", "application/json"),
            ],
            Some("{not json"),
            400,
        ),
        (
            "POST",
            "/api/v1/changes",
            vec![
                ("cookie", cookie),
                ("x-csrf-token", csrf),
                ("content-type", "application/json"),
            ],
            Some(r#"{"title": 5}"#),
            400,
        ),
        (
            "POST",
            "/api/v1/changes",
            vec![("cookie", cookie), ("x-csrf-token", csrf)],
            Some("title=x"),
            415,
        ),
        (
            "POST",
            "/api/v1/changes/1/approve",
            vec![
                ("cookie", cookie),
                ("x-csrf-token", csrf),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            None,
            415,
        ),
        (
            "POST",
            "/api/v1/status/adopt",
            vec![
                ("cookie", cookie),
                ("x-csrf-token", csrf),
                ("content-type", "application/json"),
            ],
            Some(r#"{"cluster": "x", "kind": "ApiDefinition", "namespace": "a", "name": "b"}"#),
            422,
        ),
        (
            "POST",
            "/api/v1/changes",
            vec![
                ("cookie", cookie),
                ("x-csrf-token", csrf),
                ("content-type", "application/json"),
            ],
            Some(
                r#"{"title": "t", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": 7}}}}]}"#,
            ),
            422,
        ),
    ];
    for (method, path, headers, body, want) in cases {
        let (status, response_headers, text) = raw(&app, method, path, &headers, body).await;
        assert_eq!(status, want, "{method} {path}: {text}");
        let error: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path} answered no JSON: {text}"));
        for field in ["code", "message", "request_id"] {
            assert!(
                error[field].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no {field} in {text}"
            );
        }
        assert_eq!(
            response_headers["x-request-id"].to_str().ok(),
            error["request_id"].as_str(),
            "{method} {path}"
        );
        for leak in [
            "Some(", "Status {", "/tmp/", "SELECT ", "INSERT ", "sqlx", "gix",
        ] {
            assert!(
                !text.contains(leak),
                "{method} {path} leaks {leak:?}: {text}"
            );
        }
    }
    // A client's own request id is kept (and echoed in the error).
    let (_, headers, text) = raw(
        &app,
        "GET",
        "/api/v1/nope",
        &[("x-request-id", "trace-42")],
        None,
    )
    .await;
    assert_eq!(headers["x-request-id"], "trace-42");
    assert!(text.contains("\"request_id\":\"trace-42\""), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn pages_send_security_headers_and_unknown_pages_are_404() {
    let app = TestApp::demo().await;
    let resp = app.get("/apis").await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    let html = resp.text().await.expect("html");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // The policy allows exactly the nonce the page's inline scripts carry.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let json = app.get("/api/v1/repo").await;
    assert_eq!(json.headers()["x-content-type-options"], "nosniff");
    assert_eq!(json.headers()["x-frame-options"], "DENY");
    // A stylesheet is no document: nosniff only. An SVG can be opened as one: it keeps a
    // policy that runs nothing.
    let css = app.get("/assets/tollgate.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.headers().get("x-frame-options").is_none());
    assert!(css.headers().get("content-security-policy").is_none());
    let svg = app.get("/assets/favicon.svg").await;
    assert_eq!(
        svg.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );

    for path in [
        "/no-such-page",
        "/apis/payments/no-such-api",
        "/policies/x/nothing",
        "/changes/424242",
    ] {
        let (status, html) = app.html(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("<html"), "{path} is still a page");
    }
    app.stop().await;
}

#[tokio::test]
async fn writes_from_other_origins_are_refused() {
    let app = TestApp::start(|c| c.changes.approvals_required = 1, true).await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(edit_change("Cross-origin target", "http://x:1")),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let approve = format!("/api/v1/changes/{}/approve", created["id"]);
    let host = app.base.trim_start_matches("http://").to_owned();
    // A page on another port of the same host posts a plain form with bob's cookie.
    let evil_origin = format!("http://{}:1", host.split(':').next().unwrap_or("127.0.0.1"));
    for headers in [
        vec![
            ("cookie", bob.as_str()),
            ("origin", evil_origin.as_str()),
            ("content-type", "application/json"),
        ],
        vec![
            ("cookie", bob.as_str()),
            ("sec-fetch-site", "same-site"),
            ("content-type", "application/json"),
        ],
        vec![
            ("cookie", bob.as_str()),
            ("origin", "null"),
            ("content-type", "application/json"),
        ],
    ] {
        let (status, _, text) = raw(&app, "POST", &approve, &headers, Some("{}")).await;
        assert_eq!(status, 403, "{headers:?}: {text}");
        assert!(text.contains("cross_origin"), "{text}");
    }
    // A form post (no JSON) from the same origin cannot reach a JSON endpoint either.
    let own = format!("http://{host}");
    let (status, _, _) = raw(
        &app,
        "POST",
        &approve,
        &[
            ("cookie", &bob),
            ("origin", &own),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some(""),
    )
    .await;
    assert_eq!(status, 415);
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", created["id"]),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(view["approvals"], json!([]), "nothing was approved");
    // Tollgate's own page does it.
    let (status, _, text) = raw(
        &app,
        "POST",
        &approve,
        &[
            ("cookie", &bob),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
            ("x-csrf-token", &app.csrf(&bob).await.expect("csrf")),
        ],
        Some("{}"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    // Sign-in forms from elsewhere are refused too.
    let (status, _, _) = raw(
        &app,
        "POST",
        "/auth/demo",
        &[
            ("origin", &evil_origin),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some("user=mallory"),
    )
    .await;
    assert_eq!(status, 403);
    app.stop().await;
}

#[tokio::test]
async fn demo_sessions_end_when_demo_sign_in_is_off() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let (_, session) = app
        .call("GET", "/api/v1/session", Some(&alice), None, None)
        .await;
    assert_eq!(session["user"], "alice");
    let mut app = app;
    app.config.auth.demo = false;
    let app = app.restart().await;
    let (_, session) = app
        .call("GET", "/api/v1/session", Some(&alice), None, None)
        .await;
    assert!(session["user"].is_null(), "{session}");
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(edit_change("After the demo", "http://x:2")),
            None,
        )
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn idle_and_slow_clients_cannot_take_the_server_down() {
    let app = TestApp::start(|c| c.server.header_timeout_secs = 1, true).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // 600 connections that never send a byte, and one that sends half a header.
    let mut idle = Vec::new();
    for _ in 0..600 {
        idle.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = std::time::Instant::now();
    let resp = tokio::time::timeout(Duration::from_secs(3), app.get("/healthz"))
        .await
        .expect("healthz answers while 600 connections idle");
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(3));
    // The half-sent request is cut off after the header timeout.
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut slow, &mut buf),
    )
    .await
    .expect("the server closes a slow client");
    assert!(
        read.map(|n| n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"))
            .unwrap_or(true)
    );
    // And so are the idle ones.
    let mut outcomes = Vec::new();
    for conn in idle.iter_mut().take(20) {
        let read = tokio::time::timeout(
            Duration::from_secs(3),
            tokio::io::AsyncReadExt::read(conn, &mut buf),
        )
        .await;
        outcomes.push(match read {
            Ok(Ok(0)) | Ok(Err(_)) => "closed".to_owned(),
            other => format!("{other:?}"),
        });
    }
    assert!(
        outcomes.iter().all(|o| o == "closed"),
        "idle connections are closed after the header timeout: {outcomes:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn readiness_follows_the_repo() {
    let app = TestApp::demo().await;
    let (status, ready) = app.json("/readyz").await;
    assert_eq!((status, ready["repo"].as_bool()), (200, Some(true)));
    let moved = app.config.repo.path.with_extension("moved");
    std::fs::rename(&app.config.repo.path, &moved).expect("move the repo away");
    let (status, ready) = app.json("/readyz").await;
    assert_eq!(
        (status, ready["repo"].as_bool()),
        (503, Some(false)),
        "{ready}"
    );
    std::fs::rename(&moved, &app.config.repo.path).expect("put it back");
    let (status, _) = app.json("/readyz").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_checked_out_branch_is_never_moved() {
    // A repository with a work tree, its `main` checked out.
    let repo = TestRepo::new();
    repo.write(
        "apis/payments.yaml",
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: payments-api\n  namespace: payments\nspec:\n  name: payments\n  protocol: http\n  use_keyless: true\n  active: true\n  proxy:\n    target_url: http://payments:8080\n    listen_path: /payments\n",
    );
    let seed = repo.commit("seed");
    let path = repo.path().to_owned();
    let app = TestApp::start(
        move |c| {
            super::support::everyone_admin(c);
            c.repo.path = path;
            c.changes.approvals_required = 0;
        },
        false,
    )
    .await;
    let alice = app.login("alice").await;
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(edit_change("Checked out", "http://v2:8080")),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, refused) = app
        .act(&format!("/api/v1/changes/{}/merge", created["id"]), &alice)
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("checked_out")),
        "{refused}"
    );
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("bare")),
        "{refused}"
    );
    // The work tree, index and branch are as they were: an ordinary commit there loses nothing.
    assert_eq!(repo.git(&["rev-parse", "main"]), seed);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.write("README.md", "hello\n");
    repo.commit("an ordinary commit");
    let shown = repo.git(&["show", "HEAD:apis/payments.yaml"]);
    assert!(shown.contains("http://payments:8080"), "{shown}");
    app.stop().await;
}

#[tokio::test]
async fn one_key_one_proposal_whatever_the_races() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let body = edit_change("Raced", "http://raced:8080");
    let csrf = app.csrf(&alice).await.expect("csrf");
    // 20 parallel requests with one key: one change, one proposal, the same answer for all.
    let mut calls = Vec::new();
    for _ in 0..20 {
        let csrf = csrf.clone();
        let (app_client, url, cookie, body) = (
            app.client.clone(),
            app.url("/api/v1/changes"),
            alice.clone(),
            body.clone(),
        );
        calls.push(tokio::spawn(async move {
            let resp = app_client
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .header("idempotency-key", "race-1")
                .json(&body)
                .send()
                .await
                .expect("request");
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.expect("json"),
            )
        }));
    }
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("task"));
    }
    let first = &answers[0].1;
    for (status, answer) in &answers {
        assert!(*status == 201 || *status == 200, "{answer}");
        assert_eq!(
            (&answer["id"], &answer["commit"]),
            (&first["id"], &first["commit"]),
            "{answers:?}"
        );
    }
    let branch = first["branch"].as_str().expect("branch");
    assert_eq!(
        app.git(&["rev-parse", branch]),
        first["commit"].as_str().expect("commit"),
        "the branch holds the answer"
    );
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", first["id"]),
            None,
            None,
            None,
        )
        .await;
    let proposals = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "propose")
        .count();
    assert_eq!(proposals, 1, "{view}");
    assert_eq!(
        app.git(&["rev-list", "--count", &format!("main..{branch}")]),
        "1"
    );

    // The same key with another body: refused.
    let (status, reused) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(edit_change("Raced", "http://other:8080")),
            Some("race-1"),
        )
        .await;
    assert_eq!(
        (status, reused["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{reused}"
    );

    // A refused body, then the corrected one with the same key: the correction is proposed,
    // never the stored invalid draft.
    let bad = json!({"title": "Fix", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api",
        "merge_patch": {"spec": {"proxy": {"target_url": 7}}}}]});
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(bad),
            Some("fix-1"),
        )
        .await;
    assert_eq!(status, 422);
    let good = json!({"title": "Fix", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api",
        "merge_patch": {"spec": {"proxy": {"target_url": "http://fixed:8080"}}}}]});
    let (status, fixed) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(good),
            Some("fix-1"),
        )
        .await;
    assert_eq!(status, 201, "{fixed}");
    let diff = app.git(&["diff", "main", fixed["branch"].as_str().expect("branch")]);
    assert!(
        diff.contains("+    target_url: http://fixed:8080"),
        "{diff}"
    );
    app.stop().await;
}
