//! Server-rendered change pages: Markdown descriptions and comments sanitised on the server,
//! links from a change to its resources, commits and back, and why each review action is
//! unavailable.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::{Value, json};

/// The page at `path` as rendered for `cookie`'s session.
async fn page_as(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

/// The element that starts at the first `marker` up to its closing `</div>`.
fn element<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

const HOSTILE: &str = "**bold** and `code`\n\n- one\n- two\n\n[docs](https://example.com/docs)\n\n\
<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n\
<a href=\"javascript:alert(2)\">y</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n\
<style>body { display: none }</style>\n";

fn assert_safe(html: &str, what: &str) {
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "<style",
        "alert(1)</",
    ] {
        assert!(!html.contains(bad), "{what} keeps {bad:?}: {html}");
    }
    for good in [
        "<strong>bold</strong>",
        "<code>code</code>",
        "<li>one</li>",
        r#"<a href="https://example.com/docs" rel="noopener noreferrer">docs</a>"#,
    ] {
        assert!(html.contains(good), "{what} lacks {good:?}: {html}");
    }
}

#[tokio::test]
async fn descriptions_and_comments_are_sanitised_markdown() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let mut body = change(
        "Hostile markdown",
        vec![patch(
            "ApiDefinition",
            "payments",
            "payments-api",
            json!({"spec": {"proxy": {"target_url": "http://payments-md:8080"}}}),
        )],
    );
    body["description"] = json!(HOSTILE);
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/changes/{id}/comments"),
            Some(&bob),
            Some(json!({"body": HOSTILE})),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (_, view) = app
        .call("GET", &format!("/api/v1/changes/{id}"), None, None, None)
        .await;
    assert_eq!(view["description"], HOSTILE, "the text itself is kept");
    assert_safe(
        view["description_html"].as_str().expect("html"),
        "JSON description",
    );
    let comment: &Value = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "comment")
        .expect("comment");
    assert_safe(comment["body_html"].as_str().expect("html"), "JSON comment");

    let (status, html) = app.html(&format!("/changes/{id}")).await;
    assert_eq!(status, 200);
    assert_safe(element(&html, r#"id="description""#), "page description");
    assert_safe(
        element(&html, r#"class="event-body markdown""#),
        "page comment",
    );
    // Nowhere on the page, hydration data included, does the markup come back to life.
    for bad in [
        "<script>alert(1)",
        "<iframe src",
        "<style>body",
        "<img src=x",
    ] {
        assert!(!html.contains(bad), "page keeps {bad:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn change_pages_link_and_explain_disabled_actions() {
    let app = TestApp::demo().await;
    let (alice, bob, erin) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("erin").await,
    );
    let target = |url: &str| {
        change(
            "Retarget payments",
            vec![patch(
                "ApiDefinition",
                "payments",
                "payments-api",
                json!({"spec": {"proxy": {"target_url": url}}}),
            )],
        )
    };
    let (_, first) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(target("http://one:8080")),
            None,
        )
        .await;
    let (_, second) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(target("http://two:8080")),
            None,
        )
        .await;
    let (id, other) = (
        first["id"].as_i64().expect("id"),
        second["id"].as_i64().expect("id"),
    );
    let path = format!("/changes/{id}");

    let html = page_as(&app, &path, &bob).await;
    assert!(
        html.contains(r#"href="/apis/payments/payments-api""#),
        "resource link"
    );
    let head = first["commit"].as_str().expect("commit");
    assert!(
        html.contains(&format!(r#"title="{head}" class="sha">{}"#, &head[..7])),
        "head commit short sha with the full sha as title"
    );
    assert!(html.contains(r#"aria-describedby="merge-why""#));
    assert!(html.contains("Merge needs 1 more approval from someone other than alice."));
    let html = page_as(&app, &path, &alice).await;
    assert!(html.contains("You cannot approve your own change."));
    let html = page_as(&app, &path, &erin).await;
    assert!(html.contains("Only the author (alice) and those who approved can close this change."));

    let (status, _) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!(status, 200);
    let html = page_as(&app, &path, &bob).await;
    assert!(html.contains("You approved this."));
    assert!(
        !html.contains(r#"id="merge-why""#),
        "approved: merge needs nothing"
    );
    let (status, merged) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!(status, 200, "{merged}");
    let merge = merged["merge_commit"].as_str().expect("merge commit");
    let html = page_as(&app, &path, &bob).await;
    assert!(html.contains("merged as") && html.contains(&format!(r#"title="{merge}""#)));

    // The other change now conflicts: only its author may regenerate it, and the page says so.
    let html = page_as(&app, &format!("/changes/{other}"), &bob).await;
    assert!(
        html.contains("Only the author (alice) can regenerate this change."),
        "rebase explained"
    );
    assert!(html.contains(r#"aria-describedby="rebase-why""#));

    // The resource lists its merged change as well as its open one.
    let (_, listed) = app
        .json("/api/v1/resources/ApiDefinition/payments/payments-api/changes")
        .await;
    let states: Vec<(i64, &str)> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap_or(0),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(states, vec![(other, "open"), (id, "merged")]);
    let (_, html) = app.html("/apis/payments/payments-api").await;
    assert!(html.contains("Merged changes:") && html.contains(&format!(r#"href="/changes/{id}""#)));
    assert!(html.contains(&format!(r#"href="/changes/{other}""#)));
    app.stop().await;
}
