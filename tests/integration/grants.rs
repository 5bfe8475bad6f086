//! Deleting an API a policy grants: refused alone, accepted in one change that also removes
//! the grant from the policy (the cross-resource rules run on the repo after all the edits).

use crate::support::{TestApp, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

fn codes(view: &Value) -> Vec<&str> {
    view["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["severity"] == "error")
        .filter_map(|i| i["code"].as_str())
        .collect()
}

#[tokio::test]
async fn deleting_a_granted_api_with_its_grant_is_one_change() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let delete_refunds = json!({"kind": "ApiDefinition", "namespace": "payments", "name": "refunds", "delete": true});

    // Alone, the delete leaves payments-standard granting nothing.
    let (status, preview) = app
        .call(
            "POST",
            "/api/v1/changes/preview",
            Some(&alice),
            Some(json!({"title": "Delete API payments/refunds", "description": "", "edits": [delete_refunds.clone()]})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(codes(&preview), vec!["missing_api"], "{preview}");

    // With the policy's document minus that grant, the change is valid.
    let (_, policy) = app
        .json("/api/v1/resources/SecurityPolicy/payments/payments-standard")
        .await;
    let mut doc = policy["document"].clone();
    let grants = doc["spec"]["access_rights_array"]
        .as_array_mut()
        .expect("grants");
    let before = grants.len();
    grants.retain(|g| g["name"] != "refunds");
    assert_eq!(grants.len(), before - 1, "the policy granted refunds once");
    let body = json!({
        "title": "Delete API payments/refunds and its grant in payments/payments-standard",
        "description": "",
        "edits": [
            delete_refunds,
            {"kind": "SecurityPolicy", "namespace": "payments", "name": "payments-standard", "document": doc},
        ],
    });
    let (status, preview) = app
        .call(
            "POST",
            "/api/v1/changes/preview",
            Some(&alice),
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(codes(&preview).is_empty(), "{preview}");

    let main = app.git(&["rev-parse", "main"]);
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(body),
            Some("delete-with-grant"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (id, commit) = (
        created["id"].as_i64().expect("id"),
        created["commit"].as_str().expect("commit").to_owned(),
    );
    // One commit on main's head, touching both files.
    assert_eq!(app.git(&["rev-parse", &format!("{commit}~1")]), main);
    let files = app.git(&["diff", "--name-status", &format!("{commit}~1"), &commit]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        vec![
            "D\tapis/payments/refunds.yaml",
            "M\tpolicies/payments/payments-standard.yaml"
        ]
    );
    let diff = app.git(&[
        "diff",
        "--unified=0",
        &format!("{commit}~1"),
        &commit,
        "--",
        "policies",
    ]);
    let changed = crate::support::changed_lines(&diff);
    assert!(
        changed.iter().all(|l| l.starts_with('-')),
        "the policy only loses lines: {diff}"
    );
    assert!(
        changed.iter().any(|l| l.contains("name: refunds")),
        "{diff}"
    );

    app.approve_and_merge(&json!(id), &bob).await;

    // Once indexed: the API is gone, the policy grants the rest, and the repo has no problem.
    wait_for("the merge indexed", Duration::from_secs(10), || async {
        app.json("/api/v1/resources/ApiDefinition/payments/refunds")
            .await
            .0
            == 404
    })
    .await;
    let (_, policy) = app
        .json("/api/v1/resources/SecurityPolicy/payments/payments-standard")
        .await;
    let granted: Vec<&str> = policy["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert!(
        !granted.contains(&"refunds") && granted.contains(&"payments-api"),
        "{policy}"
    );
    let (_, problems) = app.json("/api/v1/problems").await;
    assert!(
        !problems.to_string().contains("refunds"),
        "no problem about refunds: {problems}"
    );
    app.stop().await;
}
