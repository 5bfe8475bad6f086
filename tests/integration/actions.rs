//! Pages show only the actions their reader may take (the server checks every write too): in
//! the demo, carol (viewer) sees no edit, delete or proposing; alice (editor, owner of
//! `payments`) does; an approver of no group sees no edit of `payments`; approving is offered to
//! owners who are approvers. The token page creates, lists and revokes tokens for signed-in
//! people.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::json;

const API: &str = "/apis/payments/payments-api";

#[tokio::test]
async fn a_viewer_sees_no_edit_actions_and_an_owner_does() {
    let app = TestApp::demo().await;
    let (alice, carol, erin) = (
        app.login("alice").await,
        app.login("carol").await,
        app.login("erin").await,
    );

    let (status, html) = app.html_as(API, Some(&alice)).await;
    assert_eq!(status, 200);
    for action in [r#"id="edit""#, r#"id="edit-yaml""#, r#"id="delete""#] {
        assert!(html.contains(action), "alice is offered {action}");
    }
    // carol reads only; erin approves but owns nothing, and payments is owned.
    for (who, cookie) in [("carol", &carol), ("erin", &erin)] {
        let (status, html) = app.html_as(API, Some(cookie)).await;
        assert_eq!(status, 200);
        for action in [
            r#"id="edit""#,
            r#"id="edit-yaml""#,
            r#"id="delete""#,
            "edit-links",
        ] {
            assert!(!html.contains(action), "{who} is offered {action}");
        }
    }
    // Someone signed out is offered the edit: the form asks them to sign in.
    let (_, html) = app.html_as(API, None).await;
    assert!(html.contains(r#"id="edit""#));

    // The form itself tells a viewer why proposing is off, and keeps it off.
    let (_, html) = app.html_as(&format!("{API}/edit"), Some(&carol)).await;
    assert!(
        html.contains(r#"id="propose-role""#)
            && html.contains("Your role (viewer) may not propose changes."),
        "{html}"
    );
    let (_, html) = app.html_as(&format!("{API}/edit"), Some(&alice)).await;
    assert!(!html.contains(r#"id="propose-role""#));

    // A change of payments: bob (approver, owner) may approve it; carol and erin may not.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "Point payments at v2",
                vec![patch(
                    "ApiDefinition",
                    "payments",
                    "payments-api",
                    json!({"spec": {"proxy": {"target_url": "http://payments-v2.payments.svc:8080"}}}),
                )],
            )),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/changes/{}", created["id"]);
    let bob = app.login("bob").await;
    let (_, html) = app.html_as(&path, Some(&bob)).await;
    assert!(html.contains(r#"id="approve""#) && html.contains(r#"id="merge""#));
    assert!(html.contains(r#"id="comment-body""#));
    let (_, html) = app.html_as(&path, Some(&carol)).await;
    for action in [
        r#"id="approve""#,
        r#"id="merge""#,
        r#"id="close""#,
        r#"id="comment-body""#,
    ] {
        assert!(!html.contains(action), "carol is offered {action}");
    }
    let (_, html) = app.html_as(&path, Some(&erin)).await;
    assert!(
        !html.contains(r#"id="approve""#),
        "erin owns no namespace of it"
    );

    // Once merged, the first version can be restored, which proposes a change: offered to
    // alice, not to carol.
    app.approve_and_merge(&created["id"], &bob).await;
    let history = format!("{API}?tab=history");
    crate::support::wait_for(
        "the history index",
        std::time::Duration::from_secs(20),
        || async {
            app.html_as(&history, Some(&alice))
                .await
                .1
                .contains("Restore this version")
        },
    )
    .await;
    let (_, html) = app.html_as(&history, Some(&carol)).await;
    assert!(html.contains(r#"id="history""#) && html.contains("history-entry"));
    assert!(
        !html.contains("Restore this version"),
        "carol may not propose"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_token_page_makes_lists_and_revokes_tokens() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    // In the navigation of someone signed in only.
    let (_, html) = app.html_as("/apis", Some(&alice)).await;
    assert!(html.contains(r#"href="/settings/tokens""#));
    let (_, html) = app.html_as("/apis", None).await;
    assert!(!html.contains(r#"href="/settings/tokens""#));

    let (status, html) = app.html_as("/settings/tokens", Some(&alice)).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"id="new-token""#) && html.contains(r#"id="no-tokens""#));
    // The roles offered go up to alice's own (editor).
    assert!(
        html.contains(r#"<option value="editor""#) && !html.contains(r#"<option value="approver""#)
    );

    let (status, made) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&alice),
            Some(json!({"name": "ci-deploy", "role": "viewer", "expires_in_days": 30})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["token"].as_str().expect("secret").to_owned();
    let (_, html) = app.html_as("/settings/tokens", Some(&alice)).await;
    let table = &html[html.find(r#"id="tokens""#).unwrap_or(0)..];
    assert!(
        table.contains("ci-deploy") && table.contains("active") && table.contains("Revoke"),
        "{html}"
    );
    assert!(
        !html.contains(&secret),
        "the secret is shown once, never listed"
    );

    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{}", made["id"]),
            Some(&alice),
            None,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, html) = app.html_as("/settings/tokens", Some(&alice)).await;
    let table = &html[html.find(r#"id="tokens""#).unwrap_or(0)..];
    assert!(
        table.contains("revoked") && !table.contains("Revoke<"),
        "{html}"
    );

    // Someone else sees none of alice's tokens; a visitor must sign in.
    let carol = app.login("carol").await;
    let (_, html) = app.html_as("/settings/tokens", Some(&carol)).await;
    assert!(!html.contains("data-token=") && html.contains(r#"id="no-tokens""#));
    let (status, _) = app.html_as("/settings/tokens", None).await;
    assert!(status == 401 || status == 303, "{status}");
    app.stop().await;
}
