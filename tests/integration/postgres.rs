//! The whole app on PostgreSQL, the scale-out database: the store tests cover each store's
//! queries; this walks one user story through the running server, so the stores work together
//! there too (change flow, history index, restore, API tokens, audit log, restart).

use crate::access::bearer;
use crate::changes::{change, patch};
use crate::support::{TestApp, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

async fn history_at(app: &TestApp, head: &Value) -> Vec<Value> {
    wait_for("the history index", Duration::from_secs(20), || async {
        app.json("/api/v1/history/status").await.1["head"] == *head
    })
    .await;
    let (status, page) = app
        .json("/api/v1/resources/ApiDefinition/payments/payments-api/history")
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_demo_runs_on_postgresql() {
    crate::db::with_postgres_url(|url| async move {
        let app = TestApp::start(move |c| c.database.url = url, true).await;
        let (alice, bob, dana) = (
            app.login("alice").await,
            app.login("bob").await,
            app.login("dana").await,
        );

        // Propose, approve, merge.
        let body = change(
            "Point payments at v2",
            vec![patch(
                "ApiDefinition",
                "payments",
                "payments-api",
                json!({"spec": {"proxy": {"target_url": "http://payments-v2.payments.svc:8080"}}}),
            )],
        );
        let (status, created) = app
            .call(
                "POST",
                "/api/v1/changes",
                Some(&alice),
                Some(body),
                Some("pg-1"),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let view = app.approve_and_merge(&created["id"], &bob).await;
        assert_eq!(view["state"], "merged", "{view}");

        // The history index, kept in PostgreSQL, attributes the merge to its change.
        let entries = history_at(&app, &view["merge_commit"]).await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0]["pull_request"]["change_id"], created["id"]);
        let first = entries[1]["commit"].clone();

        // Restoring, twice with one key: one change request.
        let mut restored = Vec::new();
        for _ in 0..2 {
            let (status, r) = app
                .call(
                    "POST",
                    "/api/v1/resources/ApiDefinition/payments/payments-api/restore",
                    Some(&alice),
                    Some(json!({"commit": first})),
                    Some("pg-restore"),
                )
                .await;
            assert_eq!(status, 201, "{r}");
            restored.push(r["created"]["id"].clone());
        }
        assert_eq!(restored[0], restored[1]);

        // An API token works until it is revoked.
        let (status, made) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&dana),
                Some(json!({"name": "ci", "role": "viewer", "expires_in_days": 1})),
                None,
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let token = made["token"].as_str().expect("token").to_owned();
        assert_eq!(
            bearer(&app, "GET", "/api/v1/changes", &token, None).await.0,
            200
        );
        let (status, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{}", made["id"]),
                Some(&dana),
                None,
                None,
            )
            .await;
        assert!((200..300).contains(&status), "{status}");
        assert_eq!(
            bearer(&app, "GET", "/api/v1/changes", &token, None).await.0,
            401
        );

        // The audit log has the story.
        let (status, log) = app
            .call("GET", "/api/v1/audit?limit=200", Some(&dana), None, None)
            .await;
        assert_eq!(status, 200, "{log}");
        let actions: Vec<(String, String)> = log
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap_or_default().to_owned(),
                    e["action"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        for (actor, action) in [
            ("alice", "propose"),
            ("bob", "approve"),
            ("bob", "merge"),
            ("alice", "restore"),
            ("dana", "token_create"),
            ("dana", "token_revoke"),
        ] {
            assert!(
                actions.iter().any(|(a, b)| a == actor && b == action),
                "no {actor} {action} in {actions:?}"
            );
        }

        // A restart resumes from the database: the changes are there, the index is not re-read.
        let app = app.restart().await;
        let (_, list) = app.json("/api/v1/changes").await;
        assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
        let entries = history_at(&app, &view["merge_commit"]).await;
        assert_eq!(entries.len(), 2);
        let (_, status) = app.json("/api/v1/history/status").await;
        assert_eq!(status["walked"], 0, "resumed without re-walking: {status}");
        app.stop().await;
    })
    .await;
}
