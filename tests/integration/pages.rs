//! Server-rendered change pages: Markdown descriptions and comments sanitised on the server.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::{Value, json};

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
