//! Changes that hold several resources: a new API and the policy that grants it are checked
//! together, proposed as one commit, and merged together.

use crate::changes::change;
use crate::support::TestApp;
use serde_json::{Value, json};

fn new_api(ns: &str, name: &str) -> Value {
    json!({"kind": "ApiDefinition", "namespace": ns, "name": name, "document": {
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"name": "Orders", "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": "/shop/orders/", "target_url": "http://orders.shop.svc:8080",
                           "strip_listen_path": true}}
    }})
}

fn new_policy(ns: &str, name: &str, grants: (&str, &str)) -> Value {
    json!({"kind": "SecurityPolicy", "namespace": ns, "name": name, "document": {
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "SecurityPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"name": "Orders gold", "state": "active", "active": true, "rate": 100, "per": 60,
                 "access_rights_array": [{"name": grants.1, "namespace": grants.0,
                                          "kind": "ApiDefinition", "versions": ["Default"]}]}
    }})
}

#[tokio::test]
async fn a_policy_may_grant_an_api_the_same_change_creates() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let body = change(
        "Orders with its gold plan",
        vec![
            new_api("shop", "orders"),
            new_policy("shop", "orders-gold", ("shop", "orders")),
        ],
    );

    // The preview sees both edits: the grant points at the API the change creates.
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
    assert_eq!(preview["issues"], json!([]), "{preview}");
    let paths: Vec<&str> = preview["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["apis/shop/orders.yaml", "policies/shop/orders-gold.yaml"]
    );

    // Proposed as one change with one commit holding both files.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(body),
            Some("basket-1"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let branch = created["branch"].as_str().expect("branch").to_owned();
    let stat = app.git(&["show", "--stat", "--format=%s", &branch]);
    assert!(
        stat.starts_with("Orders with its gold plan\n")
            && stat.contains("apis/shop/orders.yaml")
            && stat.contains("policies/shop/orders-gold.yaml")
            && stat.contains("2 files changed"),
        "{stat}"
    );
    assert_eq!(
        app.git(&["rev-list", "--count", &format!("main..{branch}")]),
        "1",
        "one commit"
    );

    // Approved by another user and merged: both resources are in the repo together.
    app.approve_and_merge(&json!(id), &bob).await;
    assert_eq!(
        app.git(&["rev-parse", "main"]),
        created["commit"].as_str().expect("commit")
    );
    crate::support::wait_for(
        "the merged policy and API indexed",
        std::time::Duration::from_secs(10),
        || async {
            let (a, _) = app
                .json("/api/v1/resources/ApiDefinition/shop/orders")
                .await;
            let (p, policy) = app
                .json("/api/v1/resources/SecurityPolicy/shop/orders-gold")
                .await;
            a == 200
                && p == 200
                && policy["document"]["spec"]["access_rights_array"][0]["name"] == "orders"
        },
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_policy_granting_an_api_nowhere_is_refused() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    // The change creates shop/orders, but the policy grants shop/invoices: in neither.
    let body = change(
        "Grant a missing API",
        vec![
            new_api("shop", "orders"),
            new_policy("shop", "orders-gold", ("shop", "invoices")),
        ],
    );
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
    let missing = |issues: &Value| {
        issues.as_array().is_some_and(|list| {
            list.iter().any(|i| {
                i["code"] == "missing_api"
                    && i["severity"] == "error"
                    && i["resource"] == "SecurityPolicy/shop/orders-gold"
                    && i["field"] == "spec.access_rights_array[0]"
            })
        })
    };
    assert!(missing(&preview["issues"]), "{preview}");
    let (status, err) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed")),
        "{err}"
    );
    assert!(missing(&err["issues"]), "{err}");
    assert_eq!(
        app.git(&["branch", "--list", "tollgate/*"]),
        "",
        "nothing was written"
    );
    app.stop().await;
}
