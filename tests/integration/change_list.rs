//! The change list: filtered by state, the changes waiting for my review, and when each was
//! created, over REST and on the server-rendered page.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::{Value, json};

/// Proposes a one-line change as `cookie`'s user; returns its id.
async fn propose(app: &TestApp, cookie: &str, title: &str, target: &str) -> i64 {
    let body = change(
        title,
        vec![patch(
            "ApiDefinition",
            "payments",
            "payments-api",
            json!({"spec": {"proxy": {"target_url": target}}}),
        )],
    );
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(cookie), Some(body), None)
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

/// The ids `GET path` lists for `cookie`'s user.
async fn listed(app: &TestApp, path: &str, cookie: Option<&str>) -> Vec<i64> {
    let (status, body) = app.call("GET", path, cookie, None, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_i64().unwrap_or_default())
        .collect()
}

async fn page_as(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut req = app.client.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.expect("request");
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

#[tokio::test]
async fn filter_by_state_and_waiting_for_my_review() {
    let app = TestApp::demo().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let by_alice = propose(&app, &alice, "Alice retargets", "http://a:8080").await;
    let by_bob = propose(&app, &bob, "Bob retargets", "http://b:8080").await;
    let approved = propose(&app, &alice, "Bob approved this", "http://c:8080").await;
    let closed = propose(&app, &alice, "Alice gave up", "http://d:8080").await;
    let (status, body) = app
        .act(&format!("/api/v1/changes/{approved}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .act(&format!("/api/v1/changes/{closed}/close"), &alice)
        .await;
    assert_eq!(status, 200, "{body}");

    // REST: by state, and waiting for my review (open, not mine, not approved by me).
    assert_eq!(
        listed(&app, "/api/v1/changes?state=open", None).await,
        vec![approved, by_bob, by_alice]
    );
    assert_eq!(
        listed(&app, "/api/v1/changes?state=closed", None).await,
        vec![closed]
    );
    assert_eq!(
        listed(&app, "/api/v1/changes?review=me", Some(&bob)).await,
        vec![by_alice]
    );
    assert_eq!(
        listed(&app, "/api/v1/changes?review=me", Some(&alice)).await,
        vec![by_bob]
    );
    assert_eq!(
        listed(&app, "/api/v1/changes?review=me", Some(&carol)).await,
        vec![approved, by_bob, by_alice]
    );
    let (status, body) = app
        .call("GET", "/api/v1/changes?review=me", None, None, None)
        .await;
    assert_eq!(status, 401, "signed out: {body}");
    assert_eq!(body["code"], json!("unauthenticated"));
    let (status, body): (u16, Value) = app
        .call("GET", "/api/v1/changes?review=them", Some(&bob), None, None)
        .await;
    assert_eq!(status, 400, "{body}");

    // The server-rendered page passes the filter through and marks the current chip.
    let html = page_as(&app, "/changes?state=closed", None).await;
    assert!(html.contains("Alice gave up"), "closed change listed");
    assert!(!html.contains("Bob retargets"), "open change not listed");
    assert!(
        html.contains(r#"href="/changes?state=closed" aria-current="true""#),
        "current chip marked: {html}"
    );
    for state in ["open", "draft", "merged"] {
        assert!(html.contains(&format!(r#"href="/changes?state={state}""#)));
    }
    assert!(
        !html.contains(r#"href="/changes?review=me""#),
        "signed out: no review chip"
    );
    assert!(
        html.contains("<time datetime=\"") && html.contains(" UTC\""),
        "created time, exact on hover"
    );

    let html = page_as(&app, "/changes?review=me", Some(&bob)).await;
    assert!(html.contains(r#"href="/changes?review=me" aria-current="true""#));
    assert!(html.contains("Alice retargets"));
    for other in ["Bob retargets", "Bob approved this", "Alice gave up"] {
        assert!(!html.contains(other), "{other} is not waiting for bob");
    }
    let html = page_as(&app, "/changes", Some(&bob)).await;
    assert!(html.contains(r#"href="/changes" aria-current="true""#));
    assert!(html.contains("Alice gave up") && html.contains("Bob retargets"));
    let html = page_as(&app, "/changes?review=me", None).await;
    assert!(html.contains("Sign in to see the changes waiting for your review."));
    app.stop().await;
}
