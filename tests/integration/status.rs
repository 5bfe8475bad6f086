//! Live status against emulated clusters: synced, drifted (attributed), failed, orphaned,
//! missing, pending then synced with an Argo CD agent, unknown while a cluster is away and back
//! within seconds; the JSON API, the event stream and the metrics.

use crate::support::{TestApp, fixture_crds};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tollgate::config::{AgentConfig, AgentKind, ClusterConfig, EnvironmentConfig};
use tollgate_emulator::{Emulator, Store};

pub(crate) fn store_with_crds() -> Arc<Store> {
    let store = Arc::new(Store::new());
    for doc in fixture_crds("crds/tyk-operator.yaml")
        .into_iter()
        .chain(fixture_crds("crds/argocd-application.yaml"))
    {
        store.register_crd(&doc).expect("registers");
    }
    store
}

pub(crate) async fn kube_api(
    emulator: &Emulator,
    gvk: GroupVersionKind,
    plural: &str,
    ns: &str,
) -> Api<DynamicObject> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&emulator.kubeconfig("t")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(config).expect("client");
    Api::namespaced_with(client, ns, &ApiResource::from_gvk_with_plural(&gvk, plural))
}

pub(crate) async fn cell(app: &TestApp, resource: &str, cluster: &str) -> Value {
    let (_, report) = app.json(&format!("/api/v1/status?cluster={cluster}")).await;
    report["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            format!(
                "{}/{}/{}",
                r["kind"].as_str().unwrap_or(""),
                r["namespace"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            ) == resource
        })
        .and_then(|r| r["cells"].as_array().and_then(|c| c.first()).cloned())
        .unwrap_or(Value::Null)
}

pub(crate) async fn wait_state(
    app: &TestApp,
    resource: &str,
    cluster: &str,
    state: &str,
    within: Duration,
) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let c = cell(app, resource, cluster).await;
        if c["state"] == state {
            return c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{resource} in {cluster} never became {state}; last {c}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Does what Argo CD does for one resource: server-side applies the document Git has (as the
/// REST API shows it) with field manager `argocd-controller`. Returns that document.
pub(crate) async fn apply_from_git(
    app: &TestApp,
    api: &Api<DynamicObject>,
    kind: &str,
    namespace: &str,
    name: &str,
) -> DynamicObject {
    let (_, detail) = app
        .json(&format!("/api/v1/resources/{kind}/{namespace}/{name}"))
        .await;
    let doc: DynamicObject = serde_json::from_value(detail["document"].clone()).expect("object");
    api.patch(
        name,
        &PatchParams::apply("argocd-controller").force(),
        &Patch::Apply(&doc),
    )
    .await
    .expect("apply");
    doc
}

/// A cluster: the emulator, serving a store with the built-in CRDs, on a free port.
pub(crate) async fn emulated_cluster() -> (Arc<Store>, Emulator) {
    let store = Arc::new(Store::new());
    store.register_builtin_crds();
    let emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    (store, emulator)
}

/// Flux's Kustomization `flux-system/tyk-apis`, as the emulated agent reports it.
pub(crate) fn flux_agent() -> AgentConfig {
    AgentConfig {
        kind: AgentKind::Flux,
        namespace: "flux-system".into(),
        name: "tyk-apis".into(),
    }
}

/// Starts Tollgate (seeded, no approvals needed) watching one emulated cluster, `name`, that
/// follows the repo's `main` branch; the kubeconfig file lives as long as the returned handle.
pub(crate) async fn app_watching(
    emulator: &Emulator,
    name: &str,
    agent: AgentConfig,
) -> (TestApp, tempfile::NamedTempFile) {
    app_watching_requiring(emulator, name, agent, 0).await
}

/// As [`app_watching`], with `approvals` approvals needed to merge.
pub(crate) async fn app_watching_requiring(
    emulator: &Emulator,
    name: &str,
    agent: AgentConfig,
    approvals: u32,
) -> (TestApp, tempfile::NamedTempFile) {
    let kubeconfig = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(kubeconfig.path(), emulator.kubeconfig(name)).expect("write");
    let (kc, name) = (kubeconfig.path().to_owned(), name.to_owned());
    let app = TestApp::start(
        move |c| {
            super::support::everyone_admin(c);
            c.changes.approvals_required = approvals;
            c.environments.insert(
                "main".into(),
                EnvironmentConfig {
                    path: String::new(),
                    branch: "main".into(),
                },
            );
            c.clusters.push(ClusterConfig {
                name,
                kubeconfig: kc,
                context: None,
                environment: "main".into(),
                agent,
            });
        },
        true,
    )
    .await;
    (app, kubeconfig)
}

/// Adopts a drifted resource as `session`: the created change, its commit's diff, and the lines
/// that diff changes.
async fn adopt(app: &TestApp, session: &str, body: Value) -> (Value, String, Vec<String>) {
    let (status, adopted) = app
        .call(
            "POST",
            "/api/v1/status/adopt",
            Some(session),
            Some(body),
            None,
        )
        .await;
    assert_eq!(status, 201, "{adopted}");
    let commit = adopted["commit"].as_str().expect("commit").to_owned();
    let diff = app.git(&["diff", "--unified=0", &format!("{commit}~1"), &commit]);
    let changed = crate::support::changed_lines(&diff)
        .into_iter()
        .map(|l| l.to_string())
        .collect();
    (adopted, diff, changed)
}

/// Waits for the first cluster's agent to report `revision` as applied (the agent's object is
/// its own event, so it may trail the objects it applied by a moment).
pub(crate) async fn wait_applied(app: &TestApp, revision: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, report) = app.json("/api/v1/status").await;
        if report["clusters"][0]["applied_revision"] == revision {
            return report;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn live_status_follows_the_clusters() {
    let store = store_with_crds();
    let mut emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    let addr = emulator.addr;
    let (app, _kubeconfig) = app_watching(
        &emulator,
        "staging",
        AgentConfig {
            kind: AgentKind::Argocd,
            namespace: "argocd".into(),
            name: "tyk-apis".into(),
        },
    )
    .await;
    let apis = kube_api(
        &emulator,
        GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
        "apidefinitions",
        "payments",
    )
    .await;
    let apps = kube_api(
        &emulator,
        GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
        "applications",
        "argocd",
    )
    .await;
    let seed = app.git(&["rev-parse", "main"]);

    // Argo CD applied the seed commit: payments-api runs as Git says.
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    let application: DynamicObject = serde_json::from_value(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "tyk-apis", "namespace": "argocd"}, "spec": {}, "status": {"sync": {"status": "Synced", "revision": seed}}})).expect("app");
    apps.create(&PostParams::default(), &application)
        .await
        .expect("application");
    let resource = "ApiDefinition/payments/payments-api";
    wait_state(&app, resource, "staging", "synced", Duration::from_secs(10)).await;
    let c = cell(&app, "ApiDefinition/payments/refunds", "staging").await;
    assert_eq!(
        c["state"], "missing",
        "in Git at the applied revision, not in the cluster"
    );

    // Someone edits the cluster: drift, attributed.
    apis.patch(
        "payments-api",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"spec": {"proxy": {"target_url": "http://hotfix:8080"}}})),
    )
    .await
    .expect("edit");
    let c = wait_state(&app, resource, "staging", "drifted", Duration::from_secs(5)).await;
    let drift = &c["drift"][0];
    assert_eq!(
        (
            drift["path"].as_str(),
            drift["manager"].as_str(),
            drift["actor"].as_str()
        ),
        (
            Some("spec.proxy.target_url"),
            Some("kubectl-edit"),
            Some("manual")
        )
    );
    assert_eq!(
        (drift["desired"].as_str(), drift["live"].as_str()),
        (
            Some("http://payments-api.payments.svc:8080"),
            Some("http://hotfix:8080")
        )
    );

    // Adopt the drift: a change whose diff is exactly the drifted field, attributed.
    let alice = app.login("alice").await;
    // The API's page offers the same *Adopt into Git* at its drifted cell, signed in only.
    let page = |cookie: Option<String>| {
        let mut req = app.client.get(app.url("/apis/payments/payments-api"));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.expect("page").text().await.expect("html") }
    };
    let html = page(Some(alice.clone())).await;
    let states = &html[html.find(r#"id="cluster-states""#).expect("cluster states")..];
    let states = &states[..states.find("</section>").unwrap_or(states.len())];
    assert!(
        states.contains("sync-drifted") && states.contains(r#"class="adopt small">Adopt into Git"#),
        "{states}"
    );
    assert!(
        !page(None).await.contains(r#"class="adopt small""#),
        "signed out: no adopt"
    );
    let (adopted, diff, changed) = adopt(
        &app,
        &alice,
        json!({"cluster": "staging", "kind": "ApiDefinition", "namespace": "payments", "name": "payments-api"}),
    )
    .await;
    assert_eq!(
        changed,
        vec![
            "-    target_url: http://payments-api.payments.svc:8080",
            "+    target_url: http://hotfix:8080"
        ],
        "{diff}"
    );
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/changes/{}", adopted["id"]),
            None,
            None,
            None,
        )
        .await;
    assert!(
        view["description"]
            .as_str()
            .is_some_and(|d| d.contains("kubectl-edit") && d.contains("spec.proxy.target_url")),
        "{view}"
    );
    // The change records what it adopts and who will receive it.
    let adoption = &view["adoption"];
    assert_eq!(
        (
            adoption["cluster"].as_str(),
            adoption["fields"][0]["path"].as_str(),
            adoption["fields"][0]["live"].as_str(),
            adoption["fields"][0]["manager"].as_str()
        ),
        (
            Some("staging"),
            Some("spec.proxy.target_url"),
            Some("http://hotfix:8080"),
            Some("kubectl-edit")
        ),
        "{view}"
    );
    assert!(adoption["resource_version"].is_string(), "{view}");
    assert_eq!(adoption["receivers"], json!(["staging"]), "{view}");
    assert!(adoption["stale"].is_null(), "{view}");

    // Adopting with an Idempotency-Key twice (a double click, a retried request) makes one
    // change, not two.
    let body = json!({"cluster": "staging", "kind": "ApiDefinition", "namespace": "payments", "name": "payments-api"});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, again) = app
            .call(
                "POST",
                "/api/v1/status/adopt",
                Some(&alice),
                Some(body.clone()),
                Some("adopt-once"),
            )
            .await;
        assert_eq!(status, 201, "{again}");
        ids.push(again["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], adopted["id"]);
    app.act(&format!("/api/v1/changes/{}/close", ids[0]), &alice)
        .await;

    // The agent heals it: the adopt change is stale, and merging it would ship the hotfix to
    // every cluster, so it is refused with the reason.
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    wait_state(&app, resource, "staging", "synced", Duration::from_secs(5)).await;
    let change = format!("/api/v1/changes/{}", adopted["id"]);
    let (_, view) = app.call("GET", &change, None, None, None).await;
    let stale = view["adoption"]["stale"].as_str().unwrap_or_default();
    assert!(
        stale.contains("spec.proxy.target_url") && stale.contains("hotfix"),
        "{view}"
    );
    let (status, refused) = app.act(&format!("{change}/merge"), &alice).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("stale")),
        "{refused}"
    );
    // Regenerating finds nothing left to adopt.
    let (status, refused) = app.act(&format!("{change}/rebase"), &alice).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("not_drifted")),
        "{refused}"
    );
    assert_eq!(app.git(&["rev-parse", "main"]), seed, "nothing merged");
    let (_, closed) = app.act(&format!("{change}/close"), &alice).await;
    assert_eq!(closed["state"], "closed");

    // The operator reports a failure.
    apis.patch_status("payments-api", &PatchParams { field_manager: Some("tyk-operator".into()), ..Default::default() },
        &Patch::Merge(json!({"status": {"latestTransaction": {"status": "Failed", "error": "listen path already in use"}}}))).await.expect("status");
    let c = wait_state(&app, resource, "staging", "failed", Duration::from_secs(5)).await;
    assert_eq!(c["error"], "listen path already in use");
    apis.patch_status(
        "payments-api",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"status": {"latestTransaction": {"status": "Successful", "error": null}}}),
        ),
    )
    .await
    .expect("status");

    // A change merged in Git is pending until Argo CD applies it.
    let (status, created) = app.call("POST", "/api/v1/changes", Some(&alice), Some(json!({"title": "v2", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": "http://payments-v2:8080"}}}}]})), None).await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = app
        .act(&format!("/api/v1/changes/{}/merge", created["id"]), &alice)
        .await;
    assert_eq!(status, 200);
    let c = wait_state(
        &app,
        resource,
        "staging",
        "pending",
        Duration::from_secs(10),
    )
    .await;
    // The pending cell names the change being rolled out, on the board as in the JSON.
    assert_eq!(c["change"]["id"], created["id"], "{c}");
    let (_, board) = app.html("/status").await;
    assert!(
        board.contains("rolling out")
            && board.contains(&format!(r#"href="/changes/{}""#, created["id"])),
        "pending links its change"
    );
    assert!(
        board.contains(r#"href="/apis/payments/payments-api""#),
        "rows link their resource"
    );
    // A ConfigMap's row links to the OAS API that reads its document.
    assert!(board.contains(r#"title="OAS API catalog/pet-store""#));
    let (_, maps) = app.json("/api/v1/status?kind=ConfigMap").await;
    assert_eq!(maps["rows"][0]["oas"]["name"], "pet-store", "{maps}");
    let head = app.git(&["rev-parse", "main"]);
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    apps.patch_status(
        "tyk-apis",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"sync": {"revision": head}}})),
    )
    .await
    .expect("revision");
    wait_state(&app, resource, "staging", "synced", Duration::from_secs(5)).await;
    wait_applied(&app, &head).await;

    // Something nobody put in Git.
    let stray: DynamicObject = serde_json::from_value(json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": "stray", "namespace": "payments"}, "spec": {"name": "stray", "protocol": "http", "proxy": {"target_url": "http://x", "listen_path": "/x"}}})).expect("stray");
    apis.create(&PostParams::default(), &stray)
        .await
        .expect("create");
    wait_state(
        &app,
        "ApiDefinition/payments/stray",
        "staging",
        "orphaned",
        Duration::from_secs(5),
    )
    .await;
    apis.delete("stray", &DeleteParams::default())
        .await
        .expect("delete");

    // `problems`: everything not synced, here the missing refunds, never the synced API.
    let (_, problems) = app.json("/api/v1/status?state=problems").await;
    let names: Vec<&str> = problems["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"refunds"), "{problems}");
    assert!(!names.contains(&"payments-api"), "{problems}");
    // Filters, metrics and the event stream.
    let (_, drifted) = app.json("/api/v1/status?state=orphaned").await;
    assert!(
        drifted["rows"]
            .as_array()
            .is_some_and(|r| r.iter().all(|row| row["cells"]
                .as_array()
                .is_some_and(|c| c.iter().any(|x| x["state"] == "orphaned"))))
    );
    let metrics = app.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains("tollgate_resources{cluster=\"staging\",state=\"synced\"}")
            && metrics.contains("tollgate_cluster_reachable{cluster=\"staging\"} 1"),
        "{metrics}"
    );
    let mut events = app
        .client
        .get(app.url("/api/v1/status/events"))
        .send()
        .await
        .expect("sse");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("in time")
        .expect("chunk")
        .expect("data");
    assert!(String::from_utf8_lossy(&first).contains("event: status"));

    // The cluster goes away: unknown, with the last state; it comes back within seconds.
    emulator.stop();
    let c = wait_state(
        &app,
        resource,
        "staging",
        "unknown",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(c["last_known"], "synced");
    assert!(c["last_seen"].is_string());
    // While it is away, something is created there, and the server forgets its event log: the
    // watches come back to `410 Gone`, relist, and lose nothing.
    let t = store
        .type_for("tyk.tyk.io", "v1alpha1", "apidefinitions")
        .expect("type");
    store
        .create(&t, "payments", json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
            "metadata": {"name": "created-while-away", "namespace": "payments"},
            "spec": {"name": "x", "protocol": "http", "proxy": {"target_url": "http://x", "listen_path": "/away"}}}),
            "kubectl-create", "Update")
        .expect("create");
    store.compact();
    let back = std::time::Instant::now();
    emulator = Emulator::serve(addr, Arc::clone(&store))
        .await
        .expect("serves again");
    wait_state(&app, resource, "staging", "synced", Duration::from_secs(5)).await;
    assert!(back.elapsed() < Duration::from_secs(5));
    wait_state(
        &app,
        "ApiDefinition/payments/created-while-away",
        "staging",
        "orphaned",
        Duration::from_secs(5),
    )
    .await;
    drop(emulator);
    app.stop().await;
}

#[tokio::test]
async fn oas_configmaps_and_the_clusters_own_crds() {
    let (store, emulator) = emulated_cluster().await;
    // The cluster has the Tyk CRDs installed: objects the watch can see.
    let crd_type = store
        .type_for("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .expect("CRD type");
    for doc in fixture_crds("crds/tyk-operator.yaml") {
        store
            .create(&crd_type, "", doc, "helm", "Update")
            .expect("installs");
    }
    let (app, _kubeconfig) = app_watching(&emulator, "staging", AgentConfig::default()).await;

    // The OAS document's ConfigMap, as Git has it, then edited in the cluster.
    let configmaps = kube_api(
        &emulator,
        GroupVersionKind::gvk("", "v1", "ConfigMap"),
        "configmaps",
        "catalog",
    )
    .await;
    let doc = apply_from_git(&app, &configmaps, "ConfigMap", "catalog", "pet-store-oas").await;
    let noise: DynamicObject = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-root-ca.crt", "namespace": "catalog"}, "data": {"ca.crt": "-----BEGIN CERTIFICATE-----"}}))
        .expect("configmap");
    configmaps
        .create(&PostParams::default(), &noise)
        .await
        .expect("create");
    let resource = "ConfigMap/catalog/pet-store-oas";
    wait_state(&app, resource, "staging", "synced", Duration::from_secs(10)).await;
    let text = doc.data["data"]["pet-store.json"]
        .as_str()
        .expect("OAS text")
        .replace(
            "\"title\": \"Pet Store\"",
            "\"title\": \"Hotfixed Pet Store\"",
        );
    configmaps
        .patch(
            "pet-store-oas",
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"data": {"pet-store.json": text}})),
        )
        .await
        .expect("edit");
    let c = wait_state(&app, resource, "staging", "drifted", Duration::from_secs(5)).await;
    assert_eq!(
        c["drift"][0]["path"], r#"data["pet-store.json"].info.title"#,
        "{c}"
    );
    assert_eq!(c["drift"][0]["live"], "Hotfixed Pet Store", "{c}");
    assert_eq!(c["drift"][0]["manager"], "kubectl-edit", "{c}");
    // Adopting it writes the cluster's document into Git: one line of it changes.
    let alice = app.login("alice").await;
    let (_, diff, changed) = adopt(
        &app,
        &alice,
        json!({"cluster": "staging", "kind": "ConfigMap", "namespace": "catalog", "name": "pet-store-oas"}),
    )
    .await;
    assert_eq!(changed.len(), 2, "{diff}");
    assert!(
        changed[0].contains("\"title\": \"Pet Store\"")
            && changed[1].contains("\"title\": \"Hotfixed Pet Store\""),
        "{diff}"
    );
    let (_, report) = app.json("/api/v1/status?kind=ConfigMap").await;
    let names: Vec<&str> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["pet-store-oas"],
        "ConfigMaps without OAS are not Tollgate's"
    );

    // A quiet cluster makes no new versions (open boards are not told to refetch every
    // second), while its last-seen time moves on.
    let (_, before) = app.json("/api/v1/status").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, after) = app.json("/api/v1/status").await;
    assert_eq!(before["version"], after["version"]);
    assert_ne!(
        before["clusters"][0]["last_seen"],
        after["clusters"][0]["last_seen"]
    );

    // With no CRD files configured, edits are still checked against the cluster's CRDs.
    let body = json!({"title": "Old TLS", "edits": [{"kind": "ApiDefinition", "namespace": "catalog", "name": "products",
        "merge_patch": {"spec": {"proxy": {"transport": {"ssl_min_version": 999}}}}}]});
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let issue = loop {
        let (status, view) = app
            .call(
                "POST",
                "/api/v1/changes/preview",
                Some(&alice),
                Some(body.clone()),
                None,
            )
            .await;
        assert_eq!(status, 200, "{view}");
        let found = view["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["code"] == "schema")
            .cloned();
        if let Some(issue) = found {
            break issue;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the cluster's CRDs were never used: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(issue["field"], "spec.proxy.transport.ssl_min_version");
    assert!(
        issue["message"]
            .as_str()
            .is_some_and(|m| m.contains("of cluster `staging`")),
        "{issue}"
    );
    drop(emulator);
    app.stop().await;
}

/// The simulated Flux applies the repo; a merged change is pending until it applies the new head.
#[tokio::test]
async fn flux_applies_the_head_and_the_status_follows() {
    let (store, emulator) = emulated_cluster().await;
    let (app, _kubeconfig) = app_watching(&emulator, "prod", flux_agent()).await;
    let agent = tokio::spawn(tollgate_emulator::agent::run(
        Arc::clone(&store),
        tollgate_emulator::agent::AgentSettings {
            flavor: tollgate_emulator::agent::Flavor::Flux,
            repo: app.config.repo.path.clone(),
            branch: "main".into(),
            path: String::new(),
            delay: Duration::from_secs(3),
            object: ("flux-system".into(), "tyk-apis".into()),
        },
    ));
    let resource = "ApiDefinition/payments/payments-api";
    // What the branch holds when the agent starts, it applies at once, not after its delay.
    let c = wait_state(
        &app,
        resource,
        "prod",
        "synced",
        Duration::from_millis(2500),
    )
    .await;
    assert!(c["drift"].as_array().is_some_and(Vec::is_empty));
    let c = wait_state(
        &app,
        "ApiDefinition/identity/legacy-sso",
        "prod",
        "failed",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        c["error"]
            .as_str()
            .is_some_and(|e| e.contains("mutually exclusive")),
        "{c}"
    );
    let seed = app.git(&["rev-parse", "main"]);
    let report = wait_applied(&app, &seed).await;
    assert_eq!(report["clusters"][0]["agent"], "flux");
    // The APIs list says what the cluster makes of each API, not only `spec.active`: the one
    // the operator rejects is failed there.
    let (_, list) = app.json("/api/v1/resources?q=legacy-sso").await;
    assert_eq!(
        list["items"][0]["clusters"],
        json!([{"cluster": "prod", "state": "failed"}]),
        "{list}"
    );
    let (_, html) = app.html("/apis?q=legacy-sso").await;
    assert!(html.contains("prod: failed"), "{html}");

    let alice = app.login("alice").await;
    let (status, created) = app.call("POST", "/api/v1/changes", Some(&alice), Some(json!({"title": "v2", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": "http://payments-v2:8080"}}}}]})), None).await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = app
        .act(&format!("/api/v1/changes/{}/merge", created["id"]), &alice)
        .await;
    assert_eq!(status, 200);
    wait_state(&app, resource, "prod", "pending", Duration::from_secs(5)).await;
    let c = wait_state(&app, resource, "prod", "synced", Duration::from_secs(10)).await;
    assert_eq!(c["state"], "synced");
    let head = app.git(&["rev-parse", "main"]);
    assert_ne!(head, seed);
    wait_applied(&app, &head).await;
    let c = cell(&app, resource, "prod").await;
    assert_eq!(c["applied_revision"], head.as_str(), "{c}");
    // Other resources never left `synced` while the change rolled out.
    let (_, report) = app.json("/api/v1/status?state=drifted").await;
    assert_eq!(report["total_rows"], 0, "{report}");
    agent.abort();
    drop(emulator);
    app.stop().await;
}

/// Log lines at WARN and above, written while the guard lives. `#[tokio::test]` runs every task
/// on the test's own thread, so the app's watch tasks log here.
struct Warnings(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Warnings {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_warnings() -> (
    Arc<std::sync::Mutex<Vec<u8>>>,
    tracing::subscriber::DefaultGuard,
) {
    let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&buffer);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Warnings(Arc::clone(&sink)))
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

/// A Tyk Operator v0.x cluster (or one where the OAS CRD was never installed) serves
/// ApiDefinition and SecurityPolicy only. The missing kind is found through discovery and
/// reported once; the cluster stays reachable and every other state holds still; the OAS
/// resources are missing with the reason; installing the CRD later brings them in.
#[tokio::test]
async fn a_cluster_without_the_oas_crd_holds_still() {
    let (warnings, _guard) = capture_warnings();
    let store = Arc::new(Store::new());
    for (plural, kind) in [
        ("apidefinitions", "ApiDefinition"),
        ("securitypolicies", "SecurityPolicy"),
    ] {
        store.register(tollgate_emulator::TypeInfo {
            group: "tyk.tyk.io".into(),
            version: "v1alpha1".into(),
            plural: plural.into(),
            kind: kind.into(),
            namespaced: true,
            status_subresource: true,
        });
    }
    let emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    let (app, _kubeconfig) = app_watching(&emulator, "prod", AgentConfig::default()).await;
    let apis = kube_api(
        &emulator,
        GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
        "apidefinitions",
        "payments",
    )
    .await;
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    let resource = "ApiDefinition/payments/payments-api";
    wait_state(&app, resource, "prod", "synced", Duration::from_secs(10)).await;
    let oas = wait_state(
        &app,
        "TykOasApiDefinition/catalog/pet-store",
        "prod",
        "missing",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        oas["error"], "TykOasApiDefinition is not installed in cluster prod",
        "{oas}"
    );

    // 50 samples over 5 s: the same states every time, reachable throughout.
    let states = |report: &Value| -> Vec<(String, String)> {
        report["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| {
                r["cells"].as_array().into_iter().flatten().map(move |c| {
                    (
                        format!("{}/{}/{}", r["kind"], r["namespace"], r["name"]),
                        c["state"].as_str().unwrap_or("").to_owned(),
                    )
                })
            })
            .collect()
    };
    let (_, first) = app.json("/api/v1/status?cluster=prod&per_page=1000").await;
    let version = first["version"].clone();
    assert_eq!(
        first["clusters"][0]["missing_kinds"],
        json!(["TykOasApiDefinition"])
    );
    for _ in 0..50 {
        let (_, report) = app.json("/api/v1/status?cluster=prod&per_page=1000").await;
        assert_eq!(report["clusters"][0]["reachable"], true, "{report}");
        assert!(report["clusters"][0]["error"].is_null(), "{report}");
        assert_eq!(states(&report), states(&first));
        assert_eq!(
            report["version"], version,
            "no new board while nothing changes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logged = String::from_utf8_lossy(&warnings.lock().expect("lock")).into_owned();
    let lines: Vec<&str> = logged.lines().filter(|l| l.contains("WARN")).collect();
    assert!(lines.len() <= 1, "at most one warning: {lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("TykOasApiDefinition is not installed in cluster prod")),
        "{lines:#?}"
    );

    // The operator is upgraded: the CRD appears, the kind is watched, the OAS API arrives.
    let crd_type = store
        .type_for("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .expect("CRD type");
    store
        .create(
            &crd_type,
            "",
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "tykoasapidefinitions.tyk.tyk.io"},
                "spec": {"group": "tyk.tyk.io", "scope": "Namespaced",
                    "names": {"kind": "TykOasApiDefinition", "plural": "tykoasapidefinitions", "singular": "tykoasapidefinition"},
                    "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                        "subresources": {"status": {}}}]}}),
            "helm",
            "Update",
        )
        .expect("installs");
    let oas_api = kube_api(
        &emulator,
        GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "TykOasApiDefinition"),
        "tykoasapidefinitions",
        "catalog",
    )
    .await;
    apply_from_git(
        &app,
        &oas_api,
        "TykOasApiDefinition",
        "catalog",
        "pet-store",
    )
    .await;
    let oas = wait_state(
        &app,
        "TykOasApiDefinition/catalog/pet-store",
        "prod",
        "synced",
        Duration::from_secs(10),
    )
    .await;
    assert!(oas["error"].is_null(), "{oas}");
    crate::support::wait_for("no missing kinds", Duration::from_secs(5), || async {
        let (_, report) = app.json("/api/v1/status?cluster=prod").await;
        report["clusters"][0]["missing_kinds"] == json!([])
    })
    .await;
    drop(emulator);
    app.stop().await;
}

/// An unreachable cluster is one steady `unknown`: no new board versions while nothing changes,
/// a short sentence for people (no Rust `Debug` text), and one warning, not a flood.
#[tokio::test]
async fn an_unreachable_cluster_is_quiet() {
    let (warnings, _guard) = capture_warnings();
    let (_, mut emulator) = emulated_cluster().await;
    let (app, _kubeconfig) = app_watching(&emulator, "staging", AgentConfig::default()).await;
    let resource = "ApiDefinition/payments/payments-api";
    wait_state(
        &app,
        resource,
        "staging",
        "missing",
        Duration::from_secs(10),
    )
    .await;
    emulator.stop();
    wait_state(
        &app,
        resource,
        "staging",
        "unknown",
        Duration::from_secs(10),
    )
    .await;
    let (_, first) = app.json("/api/v1/status").await;
    let error = first["clusters"][0]["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "{first}");
    for debug in ["Some(", "Status {", "Error {", "hyper", "tcp connect"] {
        assert!(!error.contains(debug), "{error}");
    }
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, report) = app.json("/api/v1/status").await;
        assert_eq!(report["version"], first["version"], "{report}");
        assert_eq!(report["clusters"][0]["reachable"], false);
    }
    let logged = String::from_utf8_lossy(&warnings.lock().expect("lock")).into_owned();
    let lines: Vec<&str> = logged.lines().filter(|l| l.contains("WARN")).collect();
    assert!(
        lines.len() <= 2,
        "a state change is logged once: {lines:#?}"
    );
    app.stop().await;
}

/// Tasks alive on this runtime once they stop changing (connection tasks wind down a moment
/// after a server stops).
async fn settled_tasks() -> usize {
    let (mut last, mut steady) = (usize::MAX, 0);
    for _ in 0..100 {
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        steady = if alive == last { steady + 1 } else { 0 };
        if steady == 10 {
            break;
        }
        last = alive;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// A cluster whose kubeconfig is missing does not stop Tollgate: it is unreachable with the
/// reason. And stopping the app ends every task it started: starting and stopping it again
/// leaves no more tasks behind than the first time.
#[tokio::test]
async fn a_missing_kubeconfig_is_one_unknown_cluster_and_stopping_leaves_no_task() {
    // The cluster runs on a runtime of its own, so only Tollgate's tasks are counted here.
    let cluster_runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = Arc::new(Store::new());
    store.register_builtin_crds();
    let emulator = {
        let store = Arc::clone(&store);
        let handle = cluster_runtime.handle().clone();
        std::thread::spawn(move || {
            handle.block_on(Emulator::serve("127.0.0.1:0".parse().expect("addr"), store))
        })
        .join()
        .expect("thread")
        .expect("serves")
    };
    let kubeconfig = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(kubeconfig.path(), emulator.kubeconfig("real")).expect("write");
    let real = kubeconfig.path().to_owned();
    let configure = move |c: &mut tollgate::config::Config| {
        c.environments.insert(
            "main".into(),
            EnvironmentConfig {
                path: String::new(),
                branch: "main".into(),
            },
        );
        for (name, kubeconfig) in [
            ("ghost", std::path::PathBuf::from("/nonexistent/kubeconfig")),
            ("real", real.clone()),
        ] {
            c.clusters.push(ClusterConfig {
                name: name.into(),
                kubeconfig,
                context: None,
                environment: "main".into(),
                agent: AgentConfig::default(),
            });
        }
    };
    let mut left = Vec::new();
    for _ in 0..3 {
        let app = TestApp::start(configure.clone(), true).await;
        let c = wait_state(
            &app,
            "ApiDefinition/payments/payments-api",
            "ghost",
            "unknown",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(c["state"], "unknown");
        wait_state(
            &app,
            "ApiDefinition/payments/payments-api",
            "real",
            "missing",
            Duration::from_secs(10),
        )
        .await;
        let (status, report) = app.json("/api/v1/status?cluster=ghost").await;
        assert_eq!(status, 200);
        let ghost = &report["clusters"][0];
        assert_eq!(ghost["reachable"], false);
        assert!(
            ghost["error"]
                .as_str()
                .is_some_and(|e| e.contains("kubeconfig")),
            "{report}"
        );
        let (status, _) = app.json("/api/v1/repo").await;
        assert_eq!(status, 200, "the rest of Tollgate runs");
        app.stop().await;
        left.push(settled_tasks().await);
    }
    assert!(
        left.windows(2).all(|w| w[1] <= w[0]),
        "tasks left after each stop: {left:?}"
    );
    drop(emulator);
    cluster_runtime.shutdown_background();
}

#[tokio::test]
async fn a_page_past_the_end_is_the_last_page() {
    let (_, emulator) = emulated_cluster().await;
    let (app, _kubeconfig) = app_watching(&emulator, "staging", AgentConfig::default()).await;
    let (client, url) = (app.client.clone(), app.url("/api/v1/status"));
    crate::support::wait_for("status rows", Duration::from_secs(10), || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let Ok(resp) = client.get(url).send().await else {
                return false;
            };
            let report: Value = resp.json().await.unwrap_or_default();
            report["total_rows"].as_u64().is_some_and(|n| n > 5)
        }
    })
    .await;
    for query in ["", "&namespace=payments"] {
        let (status, report) = app
            .json(&format!("/api/v1/status?page=99&per_page=3{query}"))
            .await;
        assert_eq!(status, 200, "{report}");
        let total = report["total_rows"].as_u64().expect("total");
        let last = total.div_ceil(3);
        assert!(last > 1, "{report}");
        assert_eq!(report["page"].as_u64(), Some(last), "{query}: {report}");
        let rows = report["rows"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(rows, total - (last - 1) * 3, "{query}: {report}");
    }
    drop(emulator);
    app.stop().await;
}
