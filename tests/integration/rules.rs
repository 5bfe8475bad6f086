//! What the change flow refuses, and what survives it: names at the DNS-1123 limit (their file
//! names fit, the repo still clones), names that are not DNS-1123 subdomains, apiVersions
//! Tollgate does not know; titles that would forge commit text (the repo stays
//! `git fsck --strict` clean); approving one's own change under another case; closing someone
//! else's change; YAML tags that would be dropped. And the repo as it is, checked with the
//! same rules as an edit.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::{Value, json};

fn api_doc(ns: &str, name: &str, api_version: &str) -> Value {
    json!({"apiVersion": api_version, "kind": "ApiDefinition",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"name": "Long", "protocol": "http", "active": true, "use_keyless": true,
            "proxy": {"listen_path": format!("/{}/", &name[..name.len().min(20)]),
                "target_url": "http://long.payments.svc:8080"}}})
}

fn create(ns: &str, name: &str, api_version: &str) -> Value {
    json!({"kind": "ApiDefinition", "namespace": ns, "name": name,
        "document": api_doc(ns, name, api_version)})
}

#[tokio::test]
async fn a_name_at_the_limit_is_merged_and_the_repo_still_clones() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let long = "a".repeat(253);
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "Long name",
                vec![create("payments", &long, "tyk.tyk.io/v1alpha1")],
            )),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{view}");
    let (status, view) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("merged")),
        "{view}"
    );
    let path = view["resources"][0]["path"].as_str().expect("path");
    assert!(
        path.starts_with("apis/payments/aaaa") && path.ends_with(".yaml"),
        "{path}"
    );
    assert!(path.split('/').all(|c| c.len() <= 255), "{path}");

    // The real git CLI checks the merged branch out.
    let clone = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(&app.config.repo.path)
        .arg(clone.path().join("checkout"))
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git clone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(clone.path().join("checkout").join(path)).expect("file");
    assert!(text.contains(&format!("name: {long}")), "{text}");
    // And Tollgate serves it under its full name.
    let (status, detail) = app
        .json(&format!("/api/v1/resources/ApiDefinition/payments/{long}"))
        .await;
    assert_eq!(status, 200, "{detail}");
    app.stop().await;
}

#[tokio::test]
async fn names_that_are_not_dns_subdomains_are_refused() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    for name in ["a..b", "a.-b", &"a".repeat(254)] {
        let (status, err) = app
            .call(
                "POST",
                "/api/v1/changes/preview",
                Some(&alice),
                Some(change(
                    "Bad name",
                    vec![create("payments", name, "tyk.tyk.io/v1alpha1")],
                )),
                None,
            )
            .await;
        assert_eq!(status, 200, "{err}");
        let issue = err["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .find(|i| i["field"] == "metadata.name")
            .unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(issue["code"], "invalid_name", "{name}: {err}");
        let (status, err) = app
            .call(
                "POST",
                "/api/v1/changes",
                Some(&alice),
                Some(change(
                    "Bad name",
                    vec![create("payments", name, "tyk.tyk.io/v1alpha1")],
                )),
                None,
            )
            .await;
        assert_eq!(
            (status, err["code"].as_str()),
            (422, Some("validation_failed")),
            "{name}: {err}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_versions_are_refused_in_edits() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change(
                "Future",
                vec![create("payments", "future", "tyk.tyk.io/v9")],
            )),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str(), err["field"].as_str()),
        (
            422,
            Some("unknown_api_version"),
            Some("edits[0].document.apiVersion")
        ),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("tyk.tyk.io/v9")),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test]
async fn titles_are_one_line_and_commits_stay_valid() {
    let app = TestApp::demo().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let edits = || {
        vec![patch(
            "ApiDefinition",
            "payments",
            "payments-api",
            json!({"spec": {"proxy": {"target_url": "http://payments-v3.payments.svc:8080"}}}),
        )]
    };
    for (title, description, code, field) in [
        ("Fix\u{0}evil", "", "invalid_title", "title"),
        (
            "Fix\nSigned-off-by: Mallory <m@evil.example>",
            "",
            "invalid_title",
            "title",
        ),
        (
            "Fix\r\nTollgate-Change: http://evil.example",
            "",
            "invalid_title",
            "title",
        ),
        ("Bell\u{7}", "", "invalid_title", "title"),
        ("Fine", "a\u{0}b", "invalid_description", "description"),
    ] {
        let body = json!({"title": title, "description": description, "edits": edits()});
        let (status, err) = app
            .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
            .await;
        assert_eq!(
            (status, err["code"].as_str(), err["field"].as_str()),
            (422, Some(code), Some(field)),
            "{title:?}: {err}"
        );
    }
    assert_eq!(
        app.git(&["branch", "--list", "tollgate/*"]),
        "",
        "nothing proposed"
    );

    // Descriptions may hold lines (and trailer-like text): they stay in the body.
    let body = json!({"title": "Point payments at v3",
        "description": "Why:\n\nbecause.\nTrailer-Like: fine", "edits": edits()});
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let commit = created["commit"].as_str().expect("commit");
    assert_eq!(
        app.git(&["log", "-1", "--format=%s", commit]),
        "Point payments at v3"
    );
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{view}");
    let (status, view) = app.act(&format!("/api/v1/changes/{id}/merge"), &bob).await;
    assert_eq!(status, 200, "{view}");
    // The whole repo, every branch: no malformed commit.
    app.git(&["fsck", "--strict", "--no-dangling"]);
    app.stop().await;
}

/// Alice's change to the payments API's target, proposed; its id.
async fn alices_change(app: &TestApp, alice: &str, title: &str, target: &str) -> i64 {
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(alice),
            Some(change(
                title,
                vec![patch(
                    "ApiDefinition",
                    "payments",
                    "payments-api",
                    json!({"spec": {"proxy": {"target_url": target}}}),
                )],
            )),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

#[tokio::test]
async fn a_login_in_other_case_is_the_same_person() {
    let app = TestApp::start(super::support::everyone_admin, true).await;
    let alice = app.login("alice").await;
    let id = alices_change(&app, &alice, "Target v4", "http://v4:1").await;
    let shouting = app.login("ALICE").await;
    let (status, err) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &shouting)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("self_approval")),
        "{err}"
    );
    // No approval was recorded, and as the author ALICE may close it.
    let (_, view) = app
        .call("GET", &format!("/api/v1/changes/{id}"), None, None, None)
        .await;
    assert_eq!(view["approvals"], json!([]), "{view}");
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/close"), &shouting)
        .await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("closed")),
        "{view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_the_author_and_approvers_close_a_change() {
    let app = TestApp::demo().await;
    let (alice, bob, erin) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("erin").await,
    );
    let first = alices_change(&app, &alice, "Target v5", "http://v5:1").await;
    // The page offers Close to the author only (so far); others see it disabled, with why.
    for (who, offered) in [(&alice, true), (&erin, false)] {
        let html = app
            .client
            .get(app.url(&format!("/changes/{first}")))
            .header("cookie", who.as_str())
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert_eq!(html.contains(r#"<button id="close">"#), offered, "{who}");
        assert_eq!(html.contains(r#"id="close-why""#), !offered, "{who}");
    }
    let (status, err) = app
        .act(&format!("/api/v1/changes/{first}/close"), &erin)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("forbidden")),
        "{err}"
    );
    let (status, view) = app
        .act(&format!("/api/v1/changes/{first}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{view}");
    let (status, view) = app
        .act(&format!("/api/v1/changes/{first}/close"), &bob)
        .await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("closed")),
        "{view}"
    );

    let second = alices_change(&app, &alice, "Target v6", "http://v6:1").await;
    let (status, view) = app
        .act(&format!("/api/v1/changes/{second}/close"), &alice)
        .await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("closed")),
        "{view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn yaml_tags_are_refused_naming_the_line() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let text = |target: &str| {
        format!(
            "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: tagged\n  namespace: payments\nspec:\n  name: Tagged\n  protocol: http\n  use_keyless: true\n  proxy:\n    listen_path: /tagged/\n    target_url: {target}\n"
        )
    };
    for (target, tag) in [
        ("!custom http://tagged:8080", "!custom"),
        (
            "!!python/object:os.system [ls]",
            "!!python/object:os.system",
        ),
    ] {
        let body = change(
            "Tagged",
            vec![
                json!({"kind": "ApiDefinition", "namespace": "payments", "name": "tagged", "yaml": text(target)}),
            ],
        );
        let (status, err) = app
            .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
            .await;
        assert_eq!(
            (status, err["code"].as_str(), err["field"].as_str()),
            (422, Some("invalid_yaml"), Some("edits[0].yaml")),
            "{err}"
        );
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("line 12") && message.contains(tag),
            "{message}"
        );
    }
    // Without the tag, the same text is proposed.
    let body = change(
        "Untagged",
        vec![
            json!({"kind": "ApiDefinition", "namespace": "payments", "name": "tagged", "yaml": text("http://tagged:8080")}),
        ],
    );
    let (status, created) = app
        .call("POST", "/api/v1/changes", Some(&alice), Some(body), None)
        .await;
    assert_eq!(status, 201, "{created}");
    app.stop().await;
}

#[test]
fn the_repo_is_checked_with_the_rules_of_an_edit() {
    use tollgate::repo::{ConfigRepo, IndexOptions, ProblemKind, RepoIndex};
    let api = |name: &str, path: &str, extra: &str| {
        format!(
            "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  name: {name}\n  protocol: http\n  active: true\n  use_keyless: true\n  proxy:\n    listen_path: {path}\n    target_url: http://{name}:8080\n{extra}"
        )
    };
    let repo = crate::support::TestRepo::new();
    repo.write("apis/orders.yaml", api("orders", "/orders/", ""))
        .write(
            "apis/more.yaml",
            format!(
                "# two more\n{}---\n{}",
                api("orders-v2", "/orders", ""),
                api("tls", "/tls/", "    transport: {ssl_min_version: 999}\n")
            ),
        )
        .write(
            "policies/gold.yaml",
            "apiVersion: tyk.tyk.io/v1alpha1\nkind: SecurityPolicy\nmetadata:\n  name: gold\n  namespace: shop\nspec:\n  name: Gold\n  state: active\n  active: true\n  access_rights_array:\n    - {name: orders, namespace: shop}\n    - {name: gone, namespace: shop}\n",
        );
    repo.commit("init");
    let config_repo = ConfigRepo::open(repo.path()).expect("open");
    let head = config_repo.head_of("main").expect("head");
    let index =
        RepoIndex::build(&config_repo, head, None, &IndexOptions::default()).expect("index");
    let crds = crate::support::fixture_crds("crds/tyk-operator.yaml");
    let schemas = tollgate::resources::SchemaSources::new(
        tollgate::resources::CrdSchemas::from_documents(&crds).expect("schemas"),
    );
    let check = tollgate::rules::RepoCheck::new(&index, &schemas, None);
    assert_eq!(check.checked(), 4);
    let problems = check.problems();
    let found: Vec<(String, Option<u32>, bool)> = problems
        .iter()
        .map(|p| (p.path.clone(), p.line, p.kind == ProblemKind::Invalid))
        .collect();
    assert_eq!(
        found,
        [
            ("apis/more.yaml".into(), Some(2), true),
            ("apis/more.yaml".into(), Some(16), true),
            ("apis/orders.yaml".into(), Some(1), true),
            ("policies/gold.yaml".into(), Some(1), true),
        ],
        "{problems:#?}"
    );
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages[0].contains("/orders") && messages[0].contains("listen_path_taken"));
    assert!(messages[1].contains("ssl_min_version") && messages[1].contains("(schema)"));
    assert!(messages[2].contains("is already used by shop/orders-v2"));
    assert!(messages[3].contains("grants ApiDefinition shop/gone"));

    // One file changes: only its resource is checked again, but the cross-resource rules see
    // the whole repo, so fixing the listen path clears the problem of the file left alone.
    repo.write("apis/orders.yaml", api("orders", "/orders-v1/", ""));
    repo.commit("move orders");
    let head = config_repo.head_of("main").expect("head");
    let next = RepoIndex::build(&config_repo, head, Some(&index), &IndexOptions::default())
        .expect("index");
    let again = tollgate::rules::RepoCheck::new(&next, &schemas, Some(&check));
    assert_eq!(again.checked(), 1, "only the changed resource");
    let left: Vec<(&str, Option<u32>)> = again
        .problems()
        .iter()
        .map(|p| (p.path.as_str(), p.line))
        .collect();
    assert_eq!(
        left,
        [
            ("apis/more.yaml", Some(16)),
            ("policies/gold.yaml", Some(1))
        ],
        "{:#?}",
        again.problems()
    );
}

/// The browser and the server say the same thing about a listen path another API uses: the
/// form checks against `GET /api/v1/validation-context` with `validate_in_context`, the server
/// plans the edit against the repo, and both put the same message on `spec.proxy.listen_path`
/// (in a preview, and in the 422 of a refused proposal).
#[tokio::test]
async fn a_taken_listen_path_is_refused_in_the_words_the_form_uses() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let (status, context) = app.json("/api/v1/validation-context").await;
    assert_eq!(status, 200, "{context}");
    let context: frontend::validate::Environment =
        serde_json::from_value(context).expect("an environment");
    assert!(
        context.apis.iter().any(
            |a| a.name == "invoices" && a.listen_path.as_deref() == Some("/payments/invoices/")
        ),
        "{context:?}"
    );
    let mut doc = api_doc("shop", "orders", "tyk.tyk.io/v1alpha1");
    doc["spec"]["proxy"]["listen_path"] = json!("/payments/invoices/");
    let browser =
        frontend::validate::validate_in_context(&context, "ApiDefinition", None, "default", &doc);
    assert_eq!(browser.len(), 1, "{browser:?}");
    let expected = "listen path /payments/invoices/ is already used by payments/invoices";
    assert_eq!(browser[0].message, expected);

    let edit =
        json!({"kind": "ApiDefinition", "namespace": "shop", "name": "orders", "document": doc});
    let on_field = |issues: &Value| -> Vec<(String, String)> {
        issues
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["code"] == "listen_path_taken")
            .map(|i| {
                (
                    i["field"].as_str().unwrap_or_default().to_owned(),
                    i["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let want = vec![("spec.proxy.listen_path".to_owned(), expected.to_owned())];
    let (status, preview) = app
        .call(
            "POST",
            "/api/v1/changes/preview",
            Some(&alice),
            Some(change("Orders", vec![edit.clone()])),
            None,
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(on_field(&preview["issues"]), want, "{preview}");
    let (status, refused) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(change("Orders", vec![edit])),
            None,
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("validation_failed")),
        "{refused}"
    );
    assert_eq!(on_field(&refused["issues"]), want, "{refused}");

    // Editing the API that has the path is no conflict with itself.
    let (_, invoices) = app
        .json("/api/v1/resources/ApiDefinition/payments/invoices")
        .await;
    let own = invoices["document"].clone();
    assert!(
        frontend::validate::validate_in_context(
            &context,
            "ApiDefinition",
            Some(("payments", "invoices")),
            "default",
            &own
        )
        .is_empty()
    );
}

/// An OAS API's listen path (in the OAS document of its ConfigMap) counts like an
/// `ApiDefinition`'s: the validation context has it, and moving the OAS API onto a taken path
/// is refused at `x-tyk-api-gateway.server.listenPath.value`, the OAS form's field.
#[tokio::test]
async fn an_oas_api_listen_path_is_unique_too() {
    let app = TestApp::demo().await;
    let alice = app.login("alice").await;
    let (_, context) = app.json("/api/v1/validation-context").await;
    let context: frontend::validate::Environment =
        serde_json::from_value(context).expect("an environment");
    assert!(
        context
            .apis
            .iter()
            .any(|a| a.name == "pet-store" && a.listen_path.as_deref() == Some("/catalog/pets/")),
        "{context:?}"
    );
    let (_, cm) = app
        .json("/api/v1/resources/ConfigMap/catalog/pet-store-oas")
        .await;
    let mut cm = cm["document"].clone();
    let text = cm["data"]["pet-store.json"]
        .as_str()
        .expect("the OAS document")
        .replace("/catalog/pets/", "/payments/invoices/");
    cm["data"]["pet-store.json"] = json!(text);
    let cm_edit = json!({"kind": "ConfigMap", "namespace": "catalog", "name": "pet-store-oas", "document": cm});
    let cr_edit = json!({"kind": "TykOasApiDefinition", "namespace": "catalog", "name": "pet-store", "merge_patch": {}});
    // As the OAS form sends it (both objects), and the ConfigMap alone.
    for edits in [vec![cm_edit.clone(), cr_edit], vec![cm_edit]] {
        let (status, preview) = app
            .call(
                "POST",
                "/api/v1/changes/preview",
                Some(&alice),
                Some(change("Pets move", edits)),
                None,
            )
            .await;
        assert_eq!(status, 200, "{preview}");
        let taken: Vec<(&str, &str)> = preview["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["code"] == "listen_path_taken")
            .map(|i| {
                (
                    i["field"].as_str().unwrap_or_default(),
                    i["message"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            taken,
            [(
                "x-tyk-api-gateway.server.listenPath.value",
                "listen path /payments/invoices/ is already used by payments/invoices"
            )],
            "{preview}"
        );
    }
}
