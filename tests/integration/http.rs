//! The real server on port 0 with a fresh data folder and the seeded example repo: REST
//! endpoints, OpenAPI, server-rendered pages, sign-in, and following new commits.

use crate::support::{TestApp, TestRepo, wait_for};
use std::time::Duration;

#[tokio::test]
async fn rest_api_serves_the_indexed_repo() {
    let app = TestApp::demo().await;

    let (status, body) = app.json("/api/v1/resources?kind=ApiDefinition").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 13);
    assert_eq!(
        body["namespaces"],
        serde_json::json!(["catalog", "identity", "payments"])
    );
    assert_eq!(body["commit"].as_str().map(str::len), Some(40));

    let (_, body) = app.json("/api/v1/resources").await;
    assert_eq!(
        body["total"],
        13 + 4 + 1,
        "APIs, policies and the OAS API; ConfigMaps only on request"
    );

    let (_, body) = app
        .json("/api/v1/resources?kind=apis&namespace=payments&q=JWT")
        .await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["name"], "invoices");
    assert_eq!(body["items"][0]["auth_mode"], "jwt");

    let (_, page) = app
        .json("/api/v1/resources?kind=ApiDefinition&offset=10&limit=5")
        .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(13), Some(3))
    );

    let (status, detail) = app
        .json("/api/v1/resources/ApiDefinition/payments/payments-api")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        detail["tyk_id"],
        tollgate::resources::tyk_id("payments", "payments-api")
    );
    assert_eq!(detail["summary"]["listen_path"], "/payments/payments-api/");
    assert_eq!(detail["document"]["kind"], "ApiDefinition");
    assert!(
        detail["yaml"]
            .as_str()
            .is_some_and(|y| y.contains("target_url:"))
    );
    let granted_by: Vec<&str> = detail["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(granted_by, vec!["payments-standard"]);

    let (_, policy) = app
        .json("/api/v1/resources/SecurityPolicy/identity/internal-readonly")
        .await;
    let granted: Vec<(String, bool)> = policy["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| {
            (
                format!(
                    "{}/{}/{}",
                    g["kind"].as_str().unwrap_or(""),
                    g["namespace"].as_str().unwrap_or(""),
                    g["name"].as_str().unwrap_or("")
                ),
                g["exists"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert!(
        granted.contains(&("TykOasApiDefinition/catalog/pet-store".to_owned(), true)),
        "{granted:?}"
    );

    let (_, oas) = app
        .json("/api/v1/resources/TykOasApiDefinition/catalog/pet-store")
        .await;
    assert_eq!(oas["summary"]["listen_path"], "/catalog/pets/");
    assert_eq!(oas["summary"]["target"], "http://petstore.catalog.svc:8080");

    let (status, err) = app
        .json("/api/v1/resources/ApiDefinition/payments/nope")
        .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (status, err) = app.json("/api/v1/resources?kind=Deployment").await;
    assert_eq!((status, err["code"].as_str()), (400, Some("unknown_kind")));
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("Deployment"))
    );
    let (status, err) = app.json("/api/v1/resources?offset=-1").await;
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_query")));
    let (status, _) = app.json("/api/v1/nothing-here").await;
    assert_eq!(status, 404);

    // Every resource is checked with the rules of an edit: the demo's deliberately broken API
    // is listed with its file and line.
    let (_, problems) = app.json("/api/v1/problems").await;
    let items = problems["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{problems}");
    assert_eq!(
        (
            items[0]["path"].as_str(),
            items[0]["line"].as_u64(),
            items[0]["kind"].as_str()
        ),
        (
            Some("apis/identity/legacy-sso.yaml"),
            Some(4),
            Some("invalid")
        ),
        "{problems}"
    );
    let message = items[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("identity/legacy-sso")
            && message.contains("keyless and use standard auth"),
        "{message}"
    );
    let (_, repo) = app.json("/api/v1/repo").await;
    assert_eq!(repo["problems"], 1, "{repo}");

    let (status, doc) = app.json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/v1/resources",
        "/api/v1/resources/{kind}/{namespace}/{name}",
        "/api/v1/problems",
        "/api/v1/validation-context",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["ResourceList"].is_object());
    assert!(doc["components"]["schemas"]["Environment"].is_object());

    let (status, text) = app.html("/healthz").await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    app.stop().await;
}

#[tokio::test]
async fn out_of_range_pages_serve_the_last_page() {
    let app = TestApp::demo().await;
    // 18 resources, 5 a page: page 99 is page 4 (items 16–18), and the response says so.
    let (status, body) = app.json("/api/v1/resources?page=99&limit=5").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["page"].as_u64(),
            body["offset"].as_u64(),
            body["items"].as_array().map(Vec::len)
        ),
        (Some(4), Some(15), Some(3)),
        "{body}"
    );
    let (_, body) = app.json("/api/v1/resources?page=2&limit=5").await;
    assert_eq!(
        (body["page"].as_u64(), body["offset"].as_u64()),
        (Some(2), Some(5))
    );
    let (_, body) = app.json("/api/v1/resources?page=99").await;
    assert_eq!(
        (body["page"].as_u64(), body["offset"].as_u64()),
        (Some(1), Some(0))
    );
    let (_, body) = app.json("/api/v1/resources?offset=1000&limit=10").await;
    assert_eq!(
        (body["page"].as_u64(), body["offset"].as_u64()),
        (Some(2), Some(10)),
        "{body}"
    );
    let (_, body) = app.json("/api/v1/resources?q=nothing-matches&page=3").await;
    assert_eq!(
        (body["total"].as_u64(), body["page"].as_u64()),
        (Some(0), Some(1))
    );

    // The APIs page: one page of 14, so page 2 shows page 1, not "51–50".
    let (status, html) = app.html("/apis?page=2").await;
    assert_eq!(status, 200);
    assert!(!html.contains("51–50"), "an empty page past the end");
    assert!(
        html.contains("Showing 1–14 of 14 APIs") && html.contains("Page 1 of 1"),
        "the last page, said as such"
    );

    app.stop().await;
}

#[tokio::test]
async fn pages_render_their_data_on_the_server() {
    let app = TestApp::demo().await;

    let (status, html) = app.html("/apis").await;
    assert_eq!(status, 200);
    for text in [
        "<title>APIs · Tollgate</title>",
        "payments-api",
        "/payments/payments-api/",
        "http://refunds.payments.svc:8080",
        "Showing 1–14 of 14 APIs",
        "pet-store",
        "/frontend.js",
    ] {
        assert!(html.contains(text), "APIs page lacks {text:?}");
    }
    // The page links the bundle in a content-hashed folder (`/pkg/<bundle id>/`, when there is
    // a bundle), and that address serves the script.
    let script = html
        .split("rel=\"modulepreload\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a modulepreload link");
    let resp = app.get(script).await;
    if resp.status() == 200 {
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.contains("javascript")),
            "{script}"
        );
    }
    let (_, filtered) = app.html("/apis?q=keyless&namespace=catalog").await;
    assert!(
        filtered.contains("products")
            && filtered.contains("search")
            && !filtered.contains("payments-api")
    );

    let (status, html) = app.html("/apis/payments/payments-api").await;
    assert_eq!(status, 200);
    let id = tollgate::resources::tyk_id("payments", "payments-api");
    for text in [
        id.as_str(),
        "payments-standard",
        "Target URL",
        "apis/payments/payments-api.yaml:",
    ] {
        assert!(html.contains(text), "API page lacks {text:?}");
    }
    // The overview is the default tab; History is a link to its own address.
    assert!(html.contains(r#"href="/apis/payments/payments-api?tab=history""#));
    assert!(
        !html.contains("history-entry"),
        "history shows only on its tab"
    );
    // Once the index has read the branch, the History tab lists the seed commit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.json("/api/v1/history/status").await.1["commits"] == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the history index never read the branch"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, html) = app.html("/apis/payments/payments-api?tab=history").await;
    assert_eq!(status, 200);
    for text in [
        "1 commit changed it",
        "history-entry action-created",
        "Seed the example config repo",
        "Current version",
    ] {
        assert!(html.contains(text), "history tab lacks {text:?}");
    }
    assert!(
        html.contains(r#"id="overview" hidden"#),
        "the overview is hidden on the history tab"
    );
    assert!(
        !html.contains("Restore this version"),
        "nothing to restore the current version to"
    );

    let (_, html) = app.html("/policies").await;
    assert!(html.contains("partner-gold") && html.contains("jwt-default"));
    let (_, html) = app.html("/policies/catalog/partner-gold").await;
    for text in [
        "catalog/products",
        "catalog/inventory",
        "v1, v2",
        "Rate limit",
    ] {
        assert!(html.contains(text), "policy page lacks {text:?}");
    }
    assert!(
        html.contains(r#"href="/policies/catalog/partner-gold/edit""#),
        "policy form link"
    );
    assert!(
        html.contains(r#"href="/apis/catalog/products""#),
        "granted API link"
    );
    let (_, html) = app.html("/oas/catalog/pet-store").await;
    assert!(html.contains("/catalog/pets/") && html.contains("internal-readonly"));
    assert!(
        html.contains(r#"href="/oas/catalog/pet-store/edit""#),
        "OAS form link"
    );
    let (_, html) = app.html("/problems").await;
    assert!(
        html.contains("apis/identity/legacy-sso.yaml:4") && html.contains("keyless"),
        "the operator would refuse legacy-sso"
    );
    assert!(
        html.contains(r#"href="/apis/identity/legacy-sso""#),
        "problem links its resource"
    );

    let (status, html) = app.html("/apis/payments/missing").await;
    assert_eq!(status, 404, "a page whose resource does not exist is a 404");
    assert!(html.contains("no ApiDefinition payments/missing"));
    let (status, _) = app.html("/no/such/page").await;
    assert_eq!(status, 404);

    let resp = app.get("/pkg/frontend_bg.wasm").await;
    if resp.status() == 200 {
        assert_eq!(resp.headers()["content-type"], "application/wasm");
    }
    let resp = app.get("/assets/tollgate.css").await;
    assert_eq!(resp.status(), 200);
    // Revalidating an unchanged file costs a 304, not the file.
    let etag = resp.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/assets/tollgate.css"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    let other = app
        .client
        .get(app.url("/assets/tollgate.css"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn demo_sign_in_sets_a_session() {
    let app = TestApp::demo().await;
    let (_, session) = app.json("/api/v1/session").await;
    assert_eq!(session["user"], serde_json::Value::Null);
    assert_eq!(session["demo_login"], true);

    let (_, html) = app.html("/login").await;
    assert!(html.contains("Continue as alice") && html.contains("Continue as bob"));

    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "bob"), ("next", "/policies")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/policies");
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    assert!(cookie.starts_with("tollgate_session="));

    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"], "bob");
    let page = app
        .client
        .get(app.url("/apis"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(page.contains("bob") && page.contains("Sign out"));
    let record = app
        .running
        .as_ref()
        .expect("running")
        .app
        .db
        .user("bob")
        .await
        .expect("db");
    assert_eq!(record.map(|u| u.sign_ins), Some(1));

    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "<script>")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "eve"), ("next", "https://evil.example/")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.headers()["location"], "/");
    // Browsers drop tabs and newlines from URLs: `/\t/evil.example` would be another origin,
    // and a newline cannot go in a header at all. Both go home instead (not a 500).
    for next in ["/\t/evil.example", "/\n/evil.example", "/\\evil.example"] {
        let resp = app
            .client
            .post(app.url("/auth/demo"))
            .form(&[("user", "eve"), ("next", next)])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 303, "{next:?}");
        assert_eq!(resp.headers()["location"], "/", "{next:?}");
    }

    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", app.csrf(&cookie).await.expect("csrf token"))])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"], serde_json::Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn demo_sign_in_is_off_unless_configured() {
    let repo = TestRepo::new();
    repo.write("api.yaml", "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata: {name: a, namespace: ns}\nspec: {name: a, protocol: http, proxy: {listen_path: /a, target_url: 'http://a'}}\n");
    repo.commit("init");
    let path = repo.path().to_owned();
    let app = TestApp::start(
        move |c| {
            c.auth.demo = false;
            c.repo.path = path;
        },
        false,
    )
    .await;
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "alice")])
        .send()
        .await
        .expect("post");
    assert!(
        matches!(resp.status().as_u16(), 404 | 405),
        "{}",
        resp.status()
    );
    let (_, session) = app.json("/api/v1/session").await;
    assert_eq!(session["demo_login"], false);

    // A work-tree repository is read too, and a new commit shows up without a restart.
    let (_, list) = app.json("/api/v1/resources").await;
    assert_eq!(list["total"], 1);
    repo.write("b.yaml", "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata: {name: b, namespace: ns}\nspec: {name: b, protocol: http, proxy: {listen_path: /b, target_url: 'http://b'}}\n");
    repo.commit("add b");
    let (client, url) = (app.client.clone(), app.url("/api/v1/resources"));
    wait_for(
        "the new commit to be indexed",
        Duration::from_secs(10),
        || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let body: serde_json::Value = match client.get(url).send().await {
                    Ok(r) => r.json().await.unwrap_or_default(),
                    Err(_) => return false,
                };
                body["total"] == 2
            }
        },
    )
    .await;
    app.stop().await;
}

/// Writes need a sign-in up front, and signing in comes back: a signed-out form says so with
/// a link carrying the page (path and query), its Propose is off, the sign-in page carries
/// `next` into its forms, and signing in redirects there. Rendered on the server, so it
/// holds before (and without) hydration.
#[tokio::test]
async fn signed_out_forms_ask_for_sign_in_and_come_back() {
    let app = TestApp::demo().await;
    let (status, html) = app.html("/apis/new?from=list").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"href="/login?next=%2Fapis%2Fnew%3Ffrom%3Dlist" id="sign-in-to-propose""#),
        "{html}"
    );
    // Preview is off only for want of a sign-in (Propose also waits for a valid form).
    for button in ["preview", "propose"] {
        assert!(
            html.contains(&format!(r#"<button type="button" id="{button}" disabled"#)),
            "{button}: {html}"
        );
    }
    // Proposing a delete is off too.
    let (_, html) = app.html("/apis/payments/refunds").await;
    assert!(
        html.contains(r#"id="delete" disabled title="Sign in to propose changes""#),
        "{html}"
    );
    let (_, html) = app.html("/login?next=%2Fapis%2Fnew%3Ffrom%3Dlist").await;
    assert!(
        html.contains(r#"<input type="hidden" name="next" value="/apis/new?from=list">"#),
        "{html}"
    );
    let resp = app
        .client
        .post(app.url("/auth/demo"))
        .form(&[("user", "carol"), ("next", "/apis/new?from=list")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/apis/new?from=list");

    let carol = app.login("carol").await;
    let (_, html) = app.html_as("/apis/new", Some(&carol)).await;
    assert!(!html.contains("sign-in-notice"), "{html}");
    // Signed in, carol is a viewer: the form says her role may not propose, and keeps it off.
    assert!(html.contains(r#"id="propose-role""#), "{html}");
    assert!(
        html.contains(r#"<button type="button" id="preview" disabled>"#),
        "{html}"
    );
    let alice = app.login("alice").await;
    let (_, html) = app.html_as("/apis/new", Some(&alice)).await;
    assert!(!html.contains("sign-in-notice") && !html.contains(r#"id="propose-role""#));
    assert!(
        html.contains(r#"<button type="button" id="preview">"#),
        "{html}"
    );
    app.stop().await;
}

/// The lazily loaded pages. A page whose code is split out of the main module names the parts
/// it needs as preloads, so the browser fetches them beside the main module instead of after
/// it; each part is served from the bundle's content-hashed folder; the APIs list and the
/// status board, whose code is all in the main module, preload none. Skipped, and said so, without a split bundle in
/// `site/pkg` (a fresh clone before `build_wasm`).
#[tokio::test]
async fn lazy_pages_preload_their_parts_from_the_bundle_folder() {
    use tollgate::web::assets;
    let Some(manifest) = assets::split_manifest() else {
        eprintln!("skipped: site/pkg holds no split bundle (build it with build_wasm)");
        return;
    };
    let folder = format!("/{}/", assets::AssetNames::current().pkg_dir);
    assert!(folder.starts_with("/pkg/") && folder.len() == "/pkg/".len() + 17);
    let app = TestApp::demo().await;
    let wasm_links = |html: &str| -> Vec<String> {
        html.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|href| href.ends_with(".wasm"))
            .map(str::to_owned)
            .collect()
    };

    for page in ["/apis", "/status"] {
        let (status, html) = app.html(page).await;
        assert_eq!(status, 200);
        assert_eq!(
            wasm_links(&html),
            [format!("{folder}frontend_bg.wasm")],
            "{page} preloads only the main module"
        );
    }

    for page in ["/apis/new", "/changes", "/apis/payments/payments-api"] {
        let (status, html) = app.html(page).await;
        assert_eq!(status, 200, "{page}");
        let links = wasm_links(&html);
        let parts: Vec<&String> = links
            .iter()
            .filter(|l| !l.ends_with("/frontend_bg.wasm"))
            .collect();
        assert!(!parts.is_empty(), "{page} preloads its parts: {links:?}");
        let loader = format!("href=\"{folder}__wasm_split.js\"");
        assert!(
            html.split("<link ")
                .filter_map(|rest| rest.split('>').next())
                .any(|tag| tag.contains(&loader) && tag.contains("rel=\"modulepreload\"")),
            "{page} preloads the parts' loader"
        );
        for part in parts {
            let name = part
                .strip_prefix(&folder)
                .unwrap_or_else(|| panic!("{part} outside {folder}"));
            assert!(
                manifest
                    .values()
                    .flatten()
                    .any(|p| format!("{p}.wasm") == name),
                "{page}: {name} is not a part of the bundle"
            );
            let resp = app.get(part).await;
            assert_eq!(resp.status(), 200, "{part}");
            assert_eq!(resp.headers()["content-type"], "application/wasm");
        }
    }
    // Another bundle's folder is not this one's.
    let resp = app.get("/pkg/0000000000000000/frontend_bg.wasm").await;
    assert_eq!(resp.status(), 404);
    app.stop().await;
}
