//! Resource history on real git repositories: across a file rename, a move into another file,
//! a multi-document file where only another document changed, a delete and a recreate; a
//! force-push; resuming after a restart without re-walking; restoring a version through the
//! change flow (a one-line diff; a warning when a later commit changed the same field).

use crate::changes::{change, patch};
use crate::support::{TestApp, TestRepo, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

fn api(name: &str, target: &str) -> String {
    format!(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  name: {name}\n  protocol: http\n  use_keyless: true\n  proxy:\n    listen_path: /{name}\n    target_url: {target}\n"
    )
}

const POLICY: &str = "apiVersion: tyk.tyk.io/v1alpha1\nkind: SecurityPolicy\nmetadata:\n  name: gold\n  namespace: shop\nspec:\n  name: Gold\n  state: active\n  active: true\n";

async fn on_repo(repo: &TestRepo) -> TestApp {
    let path = repo.path().to_owned();
    TestApp::start(move |c| c.repo.path = path, false).await
}

/// Waits until the history index has read `head`.
async fn indexed(app: &TestApp, head: &str) -> Value {
    let want = json!(head);
    wait_for("the history index", Duration::from_secs(20), || async {
        app.json("/api/v1/history/status").await.1["head"] == want
    })
    .await;
    app.json("/api/v1/history/status").await.1
}

async fn history(app: &TestApp, kind: &str, name: &str) -> Vec<Value> {
    let (status, page) = app
        .json(&format!("/api/v1/resources/{kind}/shop/{name}/history"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

fn commits(entries: &[Value]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["commit"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(list: &[(&String, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(c, a)| ((*c).clone(), (*a).to_owned()))
        .collect()
}

#[tokio::test]
async fn history_follows_the_document_not_the_file() {
    let repo = TestRepo::new();
    repo.write("apis/a.yaml", api("cart", "http://v1")).write(
        "apis/multi.yaml",
        format!("{}---\n{POLICY}", api("orders", "http://o1")),
    );
    let c1 = repo.commit("Add cart, orders and gold");
    repo.write("apis/a.yaml", api("cart", "http://v2"));
    let c2 = repo.commit("Point cart at v2");
    repo.git(&["mv", "apis/a.yaml", "apis/cart.yaml"]);
    let c3 = repo.commit("Rename the cart file");
    std::fs::remove_file(repo.path().join("apis/cart.yaml")).unwrap();
    repo.write(
        "apis/multi.yaml",
        format!(
            "{}---\n{POLICY}---\n{}",
            api("orders", "http://o1"),
            api("cart", "http://v2")
        ),
    );
    let c4 = repo.commit("Move cart into the shared file");
    repo.write(
        "apis/multi.yaml",
        format!(
            "{}---\n{POLICY}---\n{}",
            api("orders", "http://o2"),
            api("cart", "http://v2")
        ),
    );
    let c5 = repo.commit("Point orders at o2");
    repo.write(
        "apis/multi.yaml",
        format!(
            "{}---\n{POLICY}---\n{}",
            api("orders", "http://o2"),
            api("cart", "http://v3")
        ),
    );
    let c6 = repo.commit("Merge pull request #7 from acme/cart-v3\n\nPoint cart at v3");
    repo.write(
        "apis/multi.yaml",
        format!("{}---\n{POLICY}", api("orders", "http://o2")),
    );
    let c7 = repo.commit("Delete cart");
    repo.write("apis/again/cart.yaml", api("cart", "http://v4"));
    let c8 = repo.commit("Bring cart back");

    let app = on_repo(&repo).await;
    let status = indexed(&app, &c8).await;
    assert_eq!(status["commits"], 8);

    let cart = history(&app, "ApiDefinition", "cart").await;
    assert_eq!(
        commits(&cart),
        owned(&[
            (&c8, "created"),
            (&c7, "deleted"),
            (&c6, "modified"),
            (&c2, "modified"),
            (&c1, "created"),
        ]),
        "the rename ({c3}), the move ({c4}) and the other document's change ({c5}) are no entries"
    );
    assert_eq!(
        cart[2]["fields"],
        json!([{"path": "spec.proxy.target_url", "from": "http://v2", "to": "http://v3"}])
    );
    assert_eq!(cart[2]["path"], "apis/multi.yaml");
    assert_eq!(cart[2]["title"], "Merge pull request #7 from acme/cart-v3");
    assert_eq!(cart[2]["pull_request"]["number"], "#7");
    assert_eq!(cart[3]["path"], "apis/a.yaml");
    assert_eq!(cart[0]["path"], "apis/again/cart.yaml");
    assert_eq!(cart[0]["author"], "Test");
    assert!(cart[0]["date"].as_str().unwrap().contains('T'));

    let orders = history(&app, "ApiDefinition", "orders").await;
    assert_eq!(
        commits(&orders),
        owned(&[(&c5, "modified"), (&c1, "created")])
    );
    let gold = history(&app, "SecurityPolicy", "gold").await;
    assert_eq!(commits(&gold), owned(&[(&c1, "created")]));

    // Paged, newest first.
    let (_, page2) = app
        .json("/api/v1/resources/ApiDefinition/shop/cart/history?page=2&per_page=2")
        .await;
    assert_eq!(page2["total"], 5);
    assert_eq!(page2["items"][0]["commit"], json!(c6));

    // The document as it was: after the rename, after the move, and gone after the delete.
    let (status, at) = app
        .json(&format!(
            "/api/v1/resources/ApiDefinition/shop/cart/at/{c3}"
        ))
        .await;
    assert_eq!(status, 200, "{at}");
    assert_eq!(at["path"], "apis/cart.yaml");
    let (_, at) = app
        .json(&format!(
            "/api/v1/resources/ApiDefinition/shop/cart/at/{}",
            &c5[..10]
        ))
        .await;
    assert_eq!(at["path"], "apis/multi.yaml");
    assert_eq!(at["document"]["spec"]["proxy"]["target_url"], "http://v2");
    assert!(at["yaml"].as_str().unwrap().starts_with("apiVersion"));
    let (status, _) = app
        .json(&format!(
            "/api/v1/resources/ApiDefinition/shop/cart/at/{c7}"
        ))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .json("/api/v1/resources/ApiDefinition/shop/nope/history")
        .await;
    assert_eq!(status, 404);

    // The History tab of the API's and the policy's pages, rendered on the server.
    let (status, html) = app.html("/apis/shop/cart?tab=history").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"history\""), "{html}");
    assert!(html.contains("Bring cart back") && html.contains("Restore this version"));
    assert!(html.contains("spec.proxy.target_url") && html.contains("#7"));
    let (_, html) = app.html("/policies/shop/gold?tab=history").await;
    assert!(html.contains("Add cart, orders and gold"));
    let (_, html) = app.html("/policies/shop/gold").await;
    assert!(
        !html.contains("Add cart, orders and gold"),
        "history shows only on its tab"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_force_push_re_reads_only_from_the_merge_base_and_a_restart_resumes() {
    let repo = TestRepo::new();
    repo.write("apis/cart.yaml", api("cart", "http://v1"));
    let c1 = repo.commit("Add cart");
    repo.write("apis/cart.yaml", api("cart", "http://v2"));
    let c2 = repo.commit("v2");
    repo.write("apis/cart.yaml", api("cart", "http://v3"));
    let c3 = repo.commit("v3");

    let app = on_repo(&repo).await;
    let status = indexed(&app, &c3).await;
    assert_eq!(
        (status["commits"].clone(), status["walked"].clone()),
        (json!(3), json!(3))
    );

    // A restart reads nothing again.
    let app = app.restart().await;
    let status = indexed(&app, &c3).await;
    assert_eq!(
        (status["commits"].clone(), status["walked"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(history(&app, "ApiDefinition", "cart").await.len(), 3);

    // Rewrite the last two commits: only the new ones are read.
    repo.git(&["reset", "-q", "--hard", &c1]);
    repo.write("apis/cart.yaml", api("cart", "http://rewritten"));
    let r2 = repo.commit("rewritten");
    let status = indexed(&app, &r2).await;
    assert_eq!(
        (status["commits"].clone(), status["walked"].clone()),
        (json!(2), json!(1))
    );
    let cart = history(&app, "ApiDefinition", "cart").await;
    assert_eq!(
        commits(&cart),
        owned(&[(&r2, "modified"), (&c1, "created")])
    );
    assert!(!cart.iter().any(|e| e["commit"] == json!(c2)));
    let (status, _) = app
        .json(&format!(
            "/api/v1/resources/ApiDefinition/shop/cart/at/{c2}"
        ))
        .await;
    assert_eq!(status, 404, "a rewritten commit is no longer on the branch");

    // And it goes on incrementally.
    repo.write("apis/cart.yaml", api("cart", "http://v4"));
    let r3 = repo.commit("v4");
    let status = indexed(&app, &r3).await;
    assert_eq!(
        (status["commits"].clone(), status["walked"].clone()),
        (json!(3), json!(2))
    );
    app.stop().await;
}

async fn payments(app: &TestApp) -> Vec<Value> {
    let head = app.git(&["rev-parse", "main"]);
    indexed(app, &head).await;
    let (status, page) = app
        .json("/api/v1/resources/ApiDefinition/payments/payments-api/history")
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap()
}

fn diff_lines(view: &Value) -> Vec<String> {
    view["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["lines"].as_array().unwrap().clone())
        .filter(|l| l["kind"] == "added" || l["kind"] == "removed")
        .map(|l| {
            format!(
                "{} {}",
                l["kind"].as_str().unwrap(),
                l["text"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn restoring_a_one_field_change_is_a_one_line_diff() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let merge = {
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
            .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
            .await;
        assert_eq!(status, 201, "{created}");
        let view = app.approve_and_merge(&created["id"], &bob).await;
        (created["id"].clone(), view["merge_commit"].clone())
    };
    let entries = payments(&app).await;
    assert_eq!(entries[0]["commit"], merge.1);
    assert_eq!(
        entries[0]["pull_request"]["change_id"], merge.0,
        "{}",
        entries[0]
    );
    assert_eq!(entries[0]["fields"].as_array().unwrap().len(), 1);
    let before = entries[1]["commit"].as_str().unwrap().to_owned();

    let (status, unauthenticated) = app
        .call(
            "POST",
            "/api/v1/resources/ApiDefinition/payments/payments-api/restore",
            None,
            Some(json!({"commit": before})),
            None,
        )
        .await;
    assert_eq!(status, 401, "{unauthenticated}");
    let (status, restored) = app
        .call(
            "POST",
            "/api/v1/resources/ApiDefinition/payments/payments-api/restore",
            Some(&alice),
            Some(json!({"commit": before})),
            Some("restore-payments-1"),
        )
        .await;
    assert_eq!(status, 201, "{restored}");
    assert_eq!(restored["warnings"], json!([]));
    assert_eq!(restored["fields"][0]["path"], "spec.proxy.target_url");
    let id = &restored["created"]["id"];
    // A double click (or a retry after a lost answer) sends the same key: the same change.
    let (status, again) = app
        .call(
            "POST",
            "/api/v1/resources/ApiDefinition/payments/payments-api/restore",
            Some(&alice),
            Some(json!({"commit": before})),
            Some("restore-payments-1"),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(&again["created"]["id"], id, "one change request per key");
    let (_, all) = app.json("/api/v1/changes").await;
    let restores = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Restore"))
        })
        .count();
    assert_eq!(restores, 1, "{all}");
    let (_, view) = app.json(&format!("/api/v1/changes/{id}")).await;
    let lines = diff_lines(&view);
    assert_eq!(lines.len(), 2, "one line out, one line in: {lines:?}");
    assert!(
        lines[0].starts_with("removed") && lines[0].contains("payments-v2"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("added") && lines[1].contains("target_url"),
        "{lines:?}"
    );
    assert!(!lines[1].contains("payments-v2"), "{lines:?}");
    app.stop().await;
}

#[tokio::test]
async fn restore_warns_when_a_later_change_touched_the_same_field() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    for target in ["http://v2.payments:8080", "http://v3.payments:8080"] {
        let body = change(
            &format!("Point payments at {target}"),
            vec![patch(
                "ApiDefinition",
                "payments",
                "payments-api",
                json!({"spec": {"proxy": {"target_url": target}}}),
            )],
        );
        let (status, created) = app
            .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
            .await;
        assert_eq!(status, 201, "{created}");
        app.approve_and_merge(&created["id"], &bob).await;
    }
    let entries = payments(&app).await;
    let later = entries[0]["commit"].clone();
    let seed = entries[2]["commit"].as_str().unwrap().to_owned();
    let url = "/api/v1/resources/ApiDefinition/payments/payments-api/restore";

    let (status, preview) = app
        .call(
            "POST",
            url,
            Some(&alice),
            Some(json!({"commit": seed})),
            None,
        )
        .await;
    assert_eq!(status, 200, "a preview, nothing created: {preview}");
    assert_eq!(preview["created"], Value::Null);
    assert_eq!(preview["warnings"][0]["path"], "spec.proxy.target_url");
    assert_eq!(preview["warnings"][0]["commits"][0]["commit"], later);
    let (_, list) = app.json("/api/v1/changes?state=open").await;
    let open = list.as_array().map_or(0, Vec::len);

    let (status, restored) = app
        .call(
            "POST",
            url,
            Some(&alice),
            Some(json!({"commit": seed, "fields": ["spec.proxy.target_url"]})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{restored}");
    let (_, view) = app
        .json(&format!("/api/v1/changes/{}", restored["created"]["id"]))
        .await;
    assert_eq!(diff_lines(&view).len(), 2, "{view}");
    let (_, list) = app.json("/api/v1/changes?state=open").await;
    assert_eq!(list.as_array().map_or(0, Vec::len), open + 1);
    app.stop().await;
}

#[tokio::test]
async fn restoring_a_deleted_resource_recreates_it() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let document: Value = tollgate::yaml::parse_trusted(&api("returns", "http://returns:8080"))
        .unwrap()
        .remove(0);
    let mut merged = Vec::new();
    for (title, edit) in [
        (
            "Add returns",
            json!({"kind": "ApiDefinition", "namespace": "shop", "name": "returns", "document": document}),
        ),
        (
            "Remove returns",
            json!({"kind": "ApiDefinition", "namespace": "shop", "name": "returns", "delete": true}),
        ),
    ] {
        let (status, created) = app
            .call(
                "POST",
                "/api/v1/changes",
                Some(&alice),
                Some(change(title, vec![edit])),
                None,
            )
            .await;
        assert_eq!(status, 201, "{created}");
        merged.push(app.approve_and_merge(&created["id"], &bob).await["merge_commit"].clone());
    }
    let head = app.git(&["rev-parse", "main"]);
    indexed(&app, &head).await;
    let entries = history(&app, "ApiDefinition", "returns").await;
    assert_eq!(
        entries
            .iter()
            .map(|e| e["action"].clone())
            .collect::<Vec<_>>(),
        [json!("deleted"), json!("created")]
    );
    let (status, restored) = app
        .call(
            "POST",
            "/api/v1/resources/ApiDefinition/shop/returns/restore",
            Some(&alice),
            Some(json!({"commit": merged[0]})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{restored}");
    assert_eq!(restored["recreate"], true);
    let (_, view) = app
        .json(&format!("/api/v1/changes/{}", restored["created"]["id"]))
        .await;
    assert_eq!(view["files"][0]["status"], "added", "{view}");
    app.stop().await;
}
