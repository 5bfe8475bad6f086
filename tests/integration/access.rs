//! Who may do what: every route of the router × every kind of person (anonymous, viewer,
//! editor, approver, admin, owner and non-owner of a namespace). The routes come from the
//! permission table, checked against the OpenAPI document and the page routes, so a route
//! without a permission fails here; a refused request must change nothing.

use super::support::TestApp;
use serde_json::{Value, json};
use tollgate::auth::{Need, Role};
use tollgate::config::{Anonymous, Config, DemoUser, OwnershipConfig};
use tollgate::web::access::{ROUTES, Verb, need_of};

/// The people of these tests: (login, role, groups). alice and bob own `payments`.
const PEOPLE: &[(&str, Role, &[&str])] = &[
    ("vic", Role::Viewer, &[]),
    ("eddie", Role::Editor, &[]),
    ("alice", Role::Editor, &["team-payments"]),
    ("nora", Role::Approver, &[]),
    ("bob", Role::Approver, &["team-payments"]),
    ("dana", Role::Admin, &[]),
];

pub fn roles_config(c: &mut Config) {
    c.auth.anonymous = Anonymous::None;
    c.auth.demo_users = PEOPLE
        .iter()
        .map(|(name, role, groups)| DemoUser::Entry {
            name: (*name).into(),
            role: *role,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        })
        .collect();
    c.ownership = vec![OwnershipConfig {
        namespaces: vec!["payments".into(), "payments-*".into()],
        groups: vec!["team-payments".into()],
    }];
}

fn payments_change(title: &str) -> Value {
    json!({"title": title, "edits": [{"kind": "ApiDefinition", "namespace": "payments",
        "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": format!("http://{}:1", title.len())}}}}]})
}

/// Everything a refused request could have changed: branches, and every change with its
/// events.
async fn fingerprint(app: &TestApp, admin: &str) -> String {
    let refs = app.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
    let (_, list) = app
        .call("GET", "/api/v1/changes", Some(admin), None, None)
        .await;
    let mut out = format!("{refs}\n{list}\n");
    for c in list.as_array().cloned().unwrap_or_default() {
        let (_, view) = app
            .call(
                "GET",
                &format!("/api/v1/changes/{}", c["id"]),
                Some(admin),
                None,
                None,
            )
            .await;
        out.push_str(&format!("{} {}\n", view["events"], view["state"]));
    }
    out
}

/// A concrete request for a route: its path with parameters filled in, and a body.
fn concrete(path: &str, change: i64) -> String {
    path.replace("{kind}", "ApiDefinition")
        .replace("{namespace}", "payments")
        .replace("{name}", "payments-api")
        .replace("{id}", &change.to_string())
        .replace("{*rest}", "nothing-here")
        .replace("{*path}", "tollgate.css")
}

fn body_for(verb: Verb, path: &str) -> Option<Value> {
    match (verb, path) {
        (Verb::Post, "/api/v1/changes" | "/api/v1/changes/preview") => {
            Some(payments_change("Matrix change"))
        }
        (Verb::Post, "/api/v1/changes/{id}/comments") => Some(json!({"body": "a comment"})),
        (Verb::Post, "/api/v1/status/adopt") => Some(
            json!({"cluster": "nowhere", "kind": "ApiDefinition", "namespace": "payments", "name": "payments-api"}),
        ),
        (Verb::Post | Verb::Delete | Verb::Any, _) => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = TestApp::start(roles_config, true).await;
    let mut cookies = std::collections::HashMap::new();
    for (name, _, _) in PEOPLE {
        cookies.insert(*name, app.login(name).await);
    }
    let admin = cookies["dana"].clone();

    // The table covers the OpenAPI document and every page: a route missing from it fails.
    let (_, doc) = app.json("/api/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 10);
    for (path, item) in paths {
        for method in item.as_object().expect("item").keys() {
            let m = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            assert!(
                ROUTES
                    .iter()
                    .any(|(v, p, _)| p == path && (v.as_str() == m.as_str() || (*v == Verb::Any))),
                "{method} {path} is in the OpenAPI document but has no permission in web::access::ROUTES"
            );
        }
    }
    let pages = tollgate::web::page_paths();
    assert!(pages.len() > 10);
    for page in &pages {
        assert!(
            need_of(&axum::http::Method::GET, page).is_some()
                && ROUTES.iter().any(|(_, p, _)| p == page),
            "page {page} has no permission in web::access::ROUTES"
        );
    }

    let mut checked = 0;
    for (verb, path, need) in ROUTES {
        let method = match verb {
            Verb::Any => "GET",
            v => v.as_str(),
        };
        let page = !path.starts_with("/api/") && !path.starts_with("/auth/") && *path != "/metrics";
        for who in std::iter::once(None).chain(PEOPLE.iter().map(Some)) {
            // Signing in and out moves sessions: those routes are tried anonymously.
            if path.starts_with("/auth/") && who.is_some() {
                continue;
            }
            let role = who.map(|(_, r, _)| *r);
            let cookie = who.map(|(name, _, _)| cookies[name].clone());
            // A fresh change by alice for every request on a change.
            let change = if path.contains("{id}") {
                let (status, created) = app
                    .call(
                        "POST",
                        "/api/v1/changes",
                        Some(&cookies["alice"]),
                        Some(payments_change(&format!("For {path} {checked}"))),
                        None,
                    )
                    .await;
                assert_eq!(status, 201, "{created}");
                created["id"].as_i64().expect("id")
            } else {
                0
            };
            let url = concrete(path, change);
            let allowed = need.check(who.is_some(), role).is_ok();
            let before = if allowed {
                String::new()
            } else {
                fingerprint(&app, &admin).await
            };
            let label = format!(
                "{method} {url} as {}",
                who.map_or("anonymous", |(n, _, _)| *n)
            );
            let status = if *path == "/api/v1/status/events" {
                // An event stream: only the status line is read.
                let mut req = app.client.get(app.url(&url));
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                let resp = req.send().await.expect("stream");
                let status = resp.status().as_u16();
                if status == 200 {
                    drop(resp);
                    (status, Value::Null)
                } else {
                    (status, resp.json().await.expect("json error"))
                }
            } else if page && !allowed {
                let mut req = app.client.get(app.url(&url));
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                let resp = req.send().await.expect("page");
                let status = resp.status().as_u16();
                let location = resp
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap_or_default().to_owned());
                (status, json!(location))
            } else {
                app.call(method, &url, cookie.as_deref(), body_for(*verb, path), None)
                    .await
            };
            let (status, answer) = status;
            if allowed {
                assert!(
                    status != 401
                        && !(status == 403
                            && answer["code"] == "forbidden"
                            && answer["message"]
                                .as_str()
                                .is_some_and(|m| m.contains("your role"))),
                    "{label}: allowed, got {status} {answer}"
                );
                assert_ne!(answer["code"], "no_permission", "{label}");
            } else if page && who.is_none() {
                assert_eq!(status, 303, "{label}: {answer}");
                assert!(
                    answer
                        .as_str()
                        .is_some_and(|l| l.starts_with("/login?next=")),
                    "{label}: {answer}"
                );
            } else if page {
                assert_eq!(status, 403, "{label}");
            } else if who.is_none() {
                assert_eq!(
                    (status, answer["code"].as_str()),
                    (401, Some("unauthenticated")),
                    "{label}: {answer}"
                );
            } else {
                assert_eq!(
                    (status, answer["code"].as_str()),
                    (403, Some("forbidden")),
                    "{label}: {answer}"
                );
            }
            if !allowed {
                assert_eq!(
                    fingerprint(&app, &admin).await,
                    before,
                    "{label}: a refused request changed something"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    // Public routes stay public, reads need a viewer, writes more.
    assert_eq!(
        need_of(&axum::http::Method::GET, "/healthz"),
        Some(Need::Public)
    );
    app.stop().await;
}

#[tokio::test]
async fn owners_propose_and_approve_their_namespaces() {
    let app = TestApp::start(roles_config, true).await;
    let (alice, eddie, nora, bob) = (
        app.login("alice").await,
        app.login("eddie").await,
        app.login("nora").await,
        app.login("bob").await,
    );
    let admin = app.login("dana").await;

    // An editor outside team-payments may not propose to payments, and nothing is written.
    let before = fingerprint(&app, &admin).await;
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(payments_change("Not mine")),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`payments`") && message.contains("team-payments"),
        "{message}"
    );
    assert_eq!(fingerprint(&app, &admin).await, before);
    // Moving a resource into payments is proposing to payments too.
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(json!({"title": "Sneak in", "edits": [{"kind": "ApiDefinition", "namespace": "catalog", "name": "products",
                "document": {"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition", "metadata": {"name": "products", "namespace": "payments"}}}]})),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    // An unowned namespace is open to every editor.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&eddie),
            Some(json!({"title": "Catalog", "edits": [{"kind": "ApiDefinition", "namespace": "catalog", "name": "products",
                "merge_patch": {"spec": {"proxy": {"target_url": "http://products-v2:1"}}}}]})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");

    // alice owns payments: she proposes; the page and the API name the owners needed.
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(payments_change("Owned")),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{id}"),
            Some(&nora),
            None,
            None,
        )
        .await;
    assert_eq!(
        view["owners"],
        json!([{"namespace": "payments", "groups": ["team-payments"], "approved_by": []}])
    );
    // nora approves but owns nothing here: refused, naming the namespace and the group.
    let before = fingerprint(&app, &admin).await;
    let (status, err) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &nora)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("not_owner")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("team-payments"))
    );
    // Merging without an owner's approval is refused too.
    let (status, err) = app.act(&format!("/api/v1/changes/{id}/merge"), &nora).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("approval_required")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("`payments`") && m.contains("team-payments")),
        "{err}"
    );
    assert_eq!(fingerprint(&app, &admin).await, before);
    // bob owns payments: his approval counts, and then any approver may merge.
    let (status, view) = app
        .act(&format!("/api/v1/changes/{id}/approve"), &bob)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["owners"][0]["approved_by"], json!(["bob"]));
    let (_, html) = app.html(&format!("/changes/{id}")).await;
    let _ = html;
    let page = app
        .client
        .get(app.url(&format!("/changes/{id}")))
        .header("cookie", &nora)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("id=\"owners\"") && page.contains("team-payments") && page.contains("bob"),
        "the change page shows the owners needed and who approved"
    );
    let (status, view) = app.act(&format!("/api/v1/changes/{id}/merge"), &nora).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("merged")),
        "{view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn pages_show_only_the_actions_a_role_allows() {
    let app = TestApp::start(roles_config, true).await;
    let alice = app.login("alice").await;
    let (_, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(payments_change("Buttons")),
            None,
        )
        .await;
    let id = created["id"].as_i64().expect("id");
    let page_as = |who: &str| {
        let (client, url, who) = (
            app.client.clone(),
            app.url(&format!("/changes/{id}")),
            who.to_owned(),
        );
        async move {
            client
                .get(url)
                .header("cookie", who)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let viewer = page_as(&app.login("vic").await).await;
    assert!(!viewer.contains("id=\"approve\"") && !viewer.contains("id=\"merge\""));
    assert!(
        !viewer.contains("id=\"comment-body\""),
        "viewers do not comment"
    );
    let editor = page_as(&app.login("eddie").await).await;
    assert!(!editor.contains("id=\"approve\"") && !editor.contains("id=\"merge\""));
    assert!(editor.contains("id=\"comment-body\""));
    let approver = page_as(&app.login("bob").await).await;
    assert!(approver.contains("id=\"approve\"") && approver.contains("id=\"merge\""));
    // Anonymous visitors are sent to sign in, with the way back.
    let resp = app.get(&format!("/changes/{id}")).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/login?next=/changes/{id}").as_str()
    );
    // A viewer asking the API to propose gets the JSON 403.
    let vic = app.login("vic").await;
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&vic),
            Some(payments_change("x")),
            None,
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    assert!(err["request_id"].is_string());
    app.stop().await;
}
