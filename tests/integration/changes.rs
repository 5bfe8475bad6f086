//! The change flow over REST on real git: propose, review, merge; create, rename, delete;
//! validation; idempotent retries; conflicts; restarts.

use crate::support::{TestApp, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

pub fn patch(kind: &str, ns: &str, name: &str, patch: Value) -> Value {
    json!({"kind": kind, "namespace": ns, "name": name, "merge_patch": patch})
}

pub fn change(title: &str, edits: Vec<Value>) -> Value {
    json!({"title": title, "description": "Tested change", "edits": edits})
}

async fn api_target(app: &TestApp, ns: &str, name: &str) -> Value {
    app.json(&format!("/api/v1/resources/ApiDefinition/{ns}/{name}"))
        .await
        .1["summary"]["target"]
        .clone()
}

async fn wait_target(app: &TestApp, ns: &str, name: &str, want: &str) {
    let want = json!(want);
    for _ in 0..200 {
        if api_target(app, ns, name).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{ns}/{name} never showed target {want}");
}

#[tokio::test]
async fn propose_review_and_merge() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let body = change(
        "Point payments at v2",
        vec![patch(
            "ApiDefinition",
            "payments",
            "payments-api",
            json!({"spec": {"proxy": {"target_url": "http://payments-v2.payments.svc:8080"}}}),
        )],
    );

    let (status, err) = app
        .call("POST", "/api/v1/changes", None, Some(body.clone()), None)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("unauthenticated"))
    );

    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(body.clone()),
            Some("draft-1"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let branch = created["branch"].as_str().expect("branch").to_owned();
    assert_eq!(branch, format!("tollgate/{id}-point-payments-at-v2"));
    // The same request again: the same change, no second branch.
    let (status, again) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(body),
            Some("draft-1"),
        )
        .await;
    assert_eq!((status, &again), (201, &created));
    assert_eq!(
        app.git(&["branch", "--list", "tollgate/*"]).lines().count(),
        1
    );

    // The commit: authored by alice, committed by Tollgate, one line changed.
    let commit = created["commit"].as_str().expect("commit");
    assert_eq!(
        app.git(&["log", "-1", "--format=%an|%cn", commit]),
        "alice|Tollgate"
    );
    let diff = app.git(&["diff", "--unified=0", &format!("{commit}~1"), commit]);
    let changed = crate::support::changed_lines(&diff);
    assert_eq!(
        changed,
        vec![
            "-    target_url: http://payments-api.payments.svc:8080",
            "+    target_url: http://payments-v2.payments.svc:8080"
        ],
        "{diff}"
    );
    let message = app.git(&["log", "-1", "--format=%B", commit]);
    assert!(
        message.starts_with("Point payments at v2\n")
            && message.contains("update ApiDefinition payments/payments-api")
            && message.contains(&format!("/changes/{id}")),
        "{message}"
    );

    let (_, view) = app
        .call("GET", &format!("/api/v1/changes/{id}"), None, None, None)
        .await;
    assert_eq!(view["state"], "open");
    assert_eq!(view["files"][0]["path"], "apis/payments/payments-api.yaml");
    let kinds: Vec<&str> = view["files"][0]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["kind"].as_str())
        .filter(|k| *k != "context")
        .collect();
    assert_eq!(kinds, vec!["removed", "added"]);
    let (_, open) = app
        .call(
            "GET",
            "/api/v1/resources/ApiDefinition/payments/payments-api/changes",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(open[0]["id"], id);
    let (_, description) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{id}/description"),
            None,
            None,
            None,
        )
        .await;
    assert!(
        description.as_str().is_some_and(|d| d
            .contains("| update | ApiDefinition | `payments/payments-api` |")
            && d.contains("All checks passed")),
        "{description}"
    );

    // Review: alice is an editor, who neither approves nor merges; merging needs an approval.
    let (status, err) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &alice)
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    let (status, err) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("approval_required"))
    );
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/changes/{id}/comments"),
            Some(&bob),
            Some(json!({"body": "Looks right"})),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!((status, view["approvals"].clone()), (200, json!(["bob"])));
    let (status, view) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "merged");
    assert_eq!(
        app.git(&["rev-parse", "main"]),
        commit,
        "main fast-forwarded to the change"
    );
    wait_target(
        &app,
        "payments",
        "payments-api",
        "http://payments-v2.payments.svc:8080",
    )
    .await;
    let (status, err) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("not_open")));
    app.stop().await;
}

#[tokio::test]
async fn create_rename_and_delete() {
    let app = TestApp::start(
        |c| {
            super::support::everyone_admin(c);
            c.changes.approvals_required = 0;
        },
        true,
    )
    .await;
    let alice = app.login("alice").await;
    let new_api = json!({
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": "orders", "namespace": "shop"},
        "spec": {"name": "Orders", "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": "/shop/orders/", "target_url": "http://orders.shop.svc:8080", "strip_listen_path": true}}
    });
    let create = change(
        "Add orders",
        vec![
            json!({"kind": "ApiDefinition", "namespace": "shop", "name": "orders", "document": new_api}),
        ],
    );
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(create), None)
        .await;
    assert_eq!(status, 201, "{created}");
    let file = app.git(&[
        "show",
        &format!(
            "{}:apis/shop/orders.yaml",
            created["commit"].as_str().expect("commit")
        ),
    ]);
    assert!(
        file.starts_with(
            "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: orders\n"
        ),
        "{file}"
    );
    let (status, _) = app
        .act(&format!("/api/v1/changes/{}/merge", created["id"]), &alice)
        .await;
    assert_eq!(status, 200);

    // Rename: a document with another name.
    wait_target(&app, "shop", "orders", "http://orders.shop.svc:8080").await;
    let (_, current) = app
        .json("/api/v1/resources/ApiDefinition/shop/orders")
        .await;
    let mut renamed = current["document"].clone();
    renamed["metadata"]["name"] = json!("orders-v2");
    let (status, created) = app.call("POST", "/api/v1/changes", Some(&alice),
        Some(change("Rename orders", vec![json!({"kind": "ApiDefinition", "namespace": "shop", "name": "orders", "document": renamed})])), None).await;
    assert_eq!(status, 201, "{created}");
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", created["id"]),
            None,
            None,
            None,
        )
        .await;
    assert!(
        view["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["code"] == "renamed" && i["severity"] == "warning"),
        "{view}"
    );
    let files: Vec<(&str, &str)> = view["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("apis/shop/orders-v2.yaml", "added"),
            ("apis/shop/orders.yaml", "deleted")
        ]
    );

    // Delete an API a policy still grants: refused, naming the policy.
    let delete = json!({"kind": "ApiDefinition", "namespace": "payments", "name": "refunds", "delete": true});
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change("Drop refunds", vec![delete.clone()])),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed")),
        "{err}"
    );
    let issue = &err["issues"][0];
    assert_eq!(
        (issue["code"].as_str(), issue["resource"].as_str()),
        (
            Some("missing_api"),
            Some("SecurityPolicy/payments/payments-standard")
        )
    );
    // With the policy fixed in the same change: accepted, two files.
    let (_, policy) = app
        .json("/api/v1/resources/SecurityPolicy/payments/payments-standard")
        .await;
    let mut fixed = policy["document"].clone();
    let rights: Vec<Value> = fixed["spec"]["access_rights_array"]
        .as_array()
        .expect("rights")
        .iter()
        .filter(|r| r["name"] != "refunds")
        .cloned()
        .collect();
    fixed["spec"]["access_rights_array"] = Value::Array(rights);
    let both = change(
        "Drop refunds",
        vec![
            delete,
            json!({"kind": "SecurityPolicy", "namespace": "payments", "name": "payments-standard", "document": fixed}),
        ],
    );
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(both), None)
        .await;
    assert_eq!(status, 201, "{created}");
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", created["id"]),
            None,
            None,
            None,
        )
        .await;
    let statuses: Vec<&str> = view["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["deleted", "modified"]);
    app.stop().await;
}

#[tokio::test]
async fn bad_edits_get_clear_errors_and_keep_the_draft() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let both_auth = change(
        "Break auth",
        vec![patch(
            "ApiDefinition",
            "catalog",
            "products",
            json!({"spec": {"use_standard_auth": true}}),
        )],
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(both_auth),
            Some("bad-1"),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed")),
        "{err}"
    );
    let codes: Vec<&str> = err["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"auth_exclusive") && codes.contains(&"auth_token_required"),
        "{codes:?}"
    );

    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(json!({"title": "x"})),
            None,
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_json")));
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "x",
                vec![json!({"kind": "Deployment", "namespace": "a", "name": "b", "delete": true})],
            )),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str(), err["field"].as_str()),
        (400, Some("unknown_kind"), Some("edits[0].kind"))
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "x",
                vec![patch("ApiDefinition", "a", "nope", json!({}))],
            )),
            None,
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (status, err) = app.call("POST", "/api/v1/changes", Some(&alice),
        Some(change("x", vec![json!({"kind": "ApiDefinition", "namespace": "a", "name": "b", "delete": true, "merge_patch": {}})])), None).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid_edit")));
    assert_eq!(
        app.git(&["branch", "--list", "tollgate/*"]),
        "",
        "nothing was written"
    );

    // The failed draft survives a restart, with its error.
    let app = app.restart().await;
    let (_, drafts) = app
        .call("GET", "/api/v1/changes?state=draft", None, None, None)
        .await;
    let draft = drafts
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["title"] == "Break auth")
        .expect("draft kept")
        .clone();
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", draft["id"]),
            None,
            None,
            None,
        )
        .await;
    assert!(
        view["error"]
            .as_str()
            .is_some_and(|e| e.contains("validation failed")),
        "{view}"
    );
    assert_eq!(view["issues"].as_array().map(Vec::len), Some(2));
    app.stop().await;
}

#[tokio::test]
async fn refused_proposals_leave_drafts_their_author_can_view_and_discard() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let edit = patch(
        "ApiDefinition",
        "catalog",
        "products",
        json!({"spec": {"use_standard_auth": true}}),
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change("Break auth", vec![edit.clone()])),
            Some("refused-1"),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed"))
    );

    // Listed as a draft, and its page shows what was saved: the edits and the issues.
    let (_, list) = app.json("/api/v1/changes").await;
    let listed = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["title"] == "Break auth")
        .expect("the draft is listed")
        .clone();
    assert_eq!(listed["state"], "draft");
    let id = listed["id"].as_i64().expect("id");
    let (status, view) = app.json(&format!("/api/v1/changes/{id}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "draft");
    assert_eq!(view["edits"], json!([edit]));
    assert!(
        view["issues"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["code"] == "auth_exclusive")),
        "{view}"
    );
    assert!(
        view["error"]
            .as_str()
            .is_some_and(|e| e.contains("validation failed")),
        "{view}"
    );

    // Only its author may discard it.
    let path = format!("/api/v1/changes/{id}");
    let (status, err) = app.call("DELETE", &path, None, None, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, err) = app.call("DELETE", &path, Some(&bob), None, None).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));

    // A proposed change is not a draft: it is closed, never deleted.
    let (status, open) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "Retarget products",
                vec![patch(
                    "ApiDefinition",
                    "catalog",
                    "products",
                    json!({"spec": {"proxy": {"target_url": "http://products-v2.catalog.svc:8080"}}}),
                )],
            )),
            None,
        )
        .await;
    assert_eq!(status, 201, "{open}");
    let open_path = format!("/api/v1/changes/{}", open["id"]);
    let (status, err) = app
        .call("DELETE", &open_path, Some(&alice), None, None)
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("not_draft")));
    let (_, still) = app.json(&open_path).await;
    assert_eq!(still["state"], "open");
    assert_eq!(
        still["edits"],
        Value::Null,
        "edits are shown for drafts only"
    );

    // The author discards the draft: gone from its page and the list.
    let (status, body) = app.call("DELETE", &path, Some(&alice), None, None).await;
    assert_eq!((status, body), (204, json!("")));
    let (status, err) = app.json(&path).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (_, list) = app.json("/api/v1/changes").await;
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|c| c["id"] != json!(id)),
        "{list}"
    );
    let (status, _) = app.call("DELETE", &path, Some(&alice), None, None).await;
    assert_eq!(status, 404);

    // Documented: DELETE with its answers, and the key on adopt as on create.
    let (_, doc) = app.json("/api/openapi.json").await;
    let delete = &doc["paths"]["/api/v1/changes/{id}"]["delete"];
    for code in ["204", "401", "403", "404", "409"] {
        assert!(delete["responses"][code].is_object(), "{code}: {delete}");
    }
    let adopt = &doc["paths"]["/api/v1/status/adopt"]["post"]["parameters"];
    assert!(
        adopt
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key")),
        "{adopt}"
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_edits_merge_cleanly_or_conflict() {
    let app = TestApp::start(super::support::everyone_admin, true).await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let post = |cookie: String, body: Value| {
        let app = &app;
        async move {
            app.call("POST", "/api/v1/changes", Some(&cookie), Some(body), None)
                .await
        }
    };
    let approve_merge = |id: i64, approver: String, merger: String| {
        let app = &app;
        async move {
            let (s, v) = app
                .act(&format!("/api/v1/changes/{id}/approve"), &approver)
                .await;
            assert_eq!(s, 200, "{v}");
            app.act(&format!("/api/v1/changes/{id}/merge"), &merger)
                .await
        }
    };
    // Alice and Bob edit the same API from the same base; Carol edits another one.
    let (_, a) = post(
        alice.clone(),
        change(
            "Alice target",
            vec![patch(
                "ApiDefinition",
                "payments",
                "refunds",
                json!({"spec": {"proxy": {"target_url": "http://alice:1"}}}),
            )],
        ),
    )
    .await;
    let (_, b) = post(
        bob.clone(),
        change(
            "Bob target",
            vec![patch(
                "ApiDefinition",
                "payments",
                "refunds",
                json!({"spec": {"proxy": {"target_url": "http://bob:1"}}}),
            )],
        ),
    )
    .await;
    let (_, b2) = post(
        bob.clone(),
        change(
            "Bob listen path",
            vec![patch(
                "ApiDefinition",
                "payments",
                "refunds",
                json!({"spec": {"proxy": {"listen_path": "/payments/refunds-v2/"}}}),
            )],
        ),
    )
    .await;
    let (_, c) = post(
        carol.clone(),
        change(
            "Carol products",
            vec![patch(
                "ApiDefinition",
                "catalog",
                "products",
                json!({"spec": {"proxy": {"target_url": "http://carol:1"}}}),
            )],
        ),
    )
    .await;
    let (a, b, b2, c) = (
        a["id"].as_i64().expect("a"),
        b["id"].as_i64().expect("b"),
        b2["id"].as_i64().expect("b2"),
        c["id"].as_i64().expect("c"),
    );

    let (status, v) = approve_merge(a, bob.clone(), alice.clone()).await;
    assert_eq!(status, 200, "{v}");
    // Carol's change touches another file: re-applied on the moved head.
    let (status, v) = approve_merge(c, alice.clone(), carol.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        app.git(&["rev-list", "--count", "main"]),
        "3",
        "seed + alice + carol's re-applied commit"
    );
    assert_eq!(
        app.git(&["log", "-1", "--format=%an|%cn", "main"]),
        "carol|Tollgate"
    );
    // Bob's change touches the file Alice changed: a conflict, nothing overwritten.
    let (status, err) = approve_merge(b, carol.clone(), bob.clone()).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("conflict")),
        "{err}"
    );
    let (_, view) = app
        .call("GET", &format!("/api/v1/changes/{b}"), None, None, None)
        .await;
    assert!(
        view["conflict"]
            .as_str()
            .is_some_and(|m| m.contains("apis/payments/refunds.yaml")),
        "{view}"
    );
    wait_target(&app, "payments", "refunds", "http://alice:1").await;
    // Regenerating Bob's change of the same field is refused; his other change regenerates.
    let (status, err) = app.act(&format!("/api/v1/changes/{b}/rebase"), &bob).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("conflict")));
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("spec.proxy.target_url")),
        "{err}"
    );
    let (status, err) = app
        .act(&format!("/api/v1/changes/{b2}/rebase"), &alice)
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    let (status, v) = app.act(&format!("/api/v1/changes/{b2}/rebase"), &bob).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["approvals"], json!([]));
    let (status, v) = approve_merge(b2, carol.clone(), bob.clone()).await;
    assert_eq!(status, 200, "{v}");
    let file = app.git(&["show", "main:apis/payments/refunds.yaml"]);
    assert!(
        file.contains("target_url: http://alice:1")
            && file.contains("listen_path: /payments/refunds-v2/"),
        "{file}"
    );
    let (status, _) = app.act(&format!("/api/v1/changes/{b}/close"), &bob).await;
    assert_eq!(status, 200);
    let (client, url) = (
        app.client.clone(),
        app.url("/api/v1/resources/ApiDefinition/payments/refunds"),
    );
    wait_for("the merged listen path", Duration::from_secs(10), || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let v: Value = match client.get(url).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => return false,
            };
            v["summary"]["listen_path"] == "/payments/refunds-v2/"
        }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn oas_document_edits_change_only_their_lines() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let (_, cm) = app
        .json("/api/v1/resources/ConfigMap/catalog/pet-store-oas")
        .await;
    let mut cm = cm["document"].clone();
    let text = cm["data"]["pet-store.json"]
        .as_str()
        .expect("oas text")
        .to_owned();
    let mut oas: Value = serde_json::from_str(&text).expect("json");
    oas["x-tyk-api-gateway"]["upstream"]["url"] = json!("http://petstore-v2.catalog.svc:8080");
    cm["data"]["pet-store.json"] = json!(format!(
        "{}\n",
        serde_json::to_string_pretty(&oas).expect("json")
    ));
    let edit = json!({"kind": "ConfigMap", "namespace": "catalog", "name": "pet-store-oas", "document": cm});
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change("Pet store v2", vec![edit])),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let commit = created["commit"].as_str().expect("commit");
    let diff = app.git(&["diff", "--unified=0", &format!("{commit}~1"), commit]);
    let changed = crate::support::changed_lines(&diff);
    assert_eq!(changed.len(), 2, "{diff}");
    assert!(
        changed[1].contains("\"url\": \"http://petstore-v2.catalog.svc:8080\""),
        "{diff}"
    );

    // A broken document is refused with the OAS rules, naming the API that reads it.
    oas["x-tyk-api-gateway"]["server"]["listenPath"]["value"] = json!("pets");
    cm["data"]["pet-store.json"] = json!(serde_json::to_string_pretty(&oas).expect("json"));
    let edit = json!({"kind": "ConfigMap", "namespace": "catalog", "name": "pet-store-oas", "document": cm});
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change("Break pets", vec![edit])),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed")),
        "{err}"
    );
    assert_eq!(
        err["issues"][0]["resource"],
        "TykOasApiDefinition/catalog/pet-store"
    );
    assert_eq!(err["issues"][0]["code"], "invalid_listen_path");
    app.stop().await;
}

#[tokio::test]
async fn edits_are_checked_against_configured_crd_schemas() {
    let crds = crate::support::tyk_crds_file();
    let app = TestApp::start(move |c| c.validation.crd_files = vec![crds], true).await;
    let alice = app.login("alice").await;
    // A field no form covers, with a value outside the CRD's enum.
    let body = change(
        "Old TLS",
        vec![patch(
            "ApiDefinition",
            "catalog",
            "products",
            json!({"spec": {"proxy": {"transport": {"ssl_min_version": 999}}}}),
        )],
    );
    let (status, err) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("validation_failed")),
        "{err}"
    );
    let issue = &err["issues"][0];
    assert_eq!(
        (issue["code"].as_str(), issue["field"].as_str()),
        (Some("schema"), Some("spec.proxy.transport.ssl_min_version")),
        "{err}"
    );
    let body = change(
        "TLS 1.2",
        vec![patch(
            "ApiDefinition",
            "catalog",
            "products",
            json!({"spec": {"proxy": {"transport": {"ssl_min_version": 771}}}}),
        )],
    );
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(status, 201, "{created}");
    app.stop().await;
}
