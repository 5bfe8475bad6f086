//! The cluster timeline and the activity feed: against an emulated cluster with a simulated
//! Argo CD, *what was live at T* across a rollout and a drift episode, when each history entry
//! went live, the feed with its filters and live stream, and a restart that continues the open
//! drift episode. The timeline store's contract runs on SQLite and PostgreSQL.

use crate::status::{
    app_watching, apply_from_git, kube_api, store_with_crds, wait_applied, wait_state,
};
use crate::support::TestApp;
use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tollgate::config::{AgentConfig, AgentKind};
use tollgate::db::Db;
use tollgate::timeline::observe::{APPLIED, Observation, Op, STATE, Track};
use tollgate::timeline::store;
use tollgate_emulator::Emulator;

const LIVE: &str = "/api/v1/resources/ApiDefinition/payments/payments-api/live";
const RESOURCE: &str = "ApiDefinition/payments/payments-api";

fn now() -> String {
    store::stamp(OffsetDateTime::now_utc())
}

async fn live_at(app: &TestApp, at: &str) -> Value {
    let (status, report) = app
        .json(&format!(
            "{LIVE}?cluster=staging&at={}",
            at.replace('+', "%2B")
        ))
        .await;
    assert_eq!(status, 200, "{report}");
    report["clusters"][0].clone()
}

/// Waits until the timeline records, for payments-api in staging now, `revision` and `state`.
async fn wait_recorded(app: &TestApp, revision: &str, state: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let live = live_at(app, &now()).await;
        if live["revision"] == revision && live["state"] == state {
            return live;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never recorded {revision} {state}: {live}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn activity(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, page) = app.json(&format!("/api/v1/activity?{query}")).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["kind"].as_str()).collect()
}

async fn drift_by_kubectl(apis: &kube::Api<DynamicObject>, target: &str) {
    apis.patch(
        "payments-api",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"spec": {"proxy": {"target_url": target}}})),
    )
    .await
    .expect("edit");
}

#[tokio::test]
async fn the_timeline_answers_what_was_live_across_a_rollout_and_a_drift() {
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
    let before = now();
    let seed = app.git(&["rev-parse", "main"]);

    // Argo CD applies the seed commit.
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    let application: DynamicObject = serde_json::from_value(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "tyk-apis", "namespace": "argocd"}, "spec": {}, "status": {"sync": {"status": "Synced", "revision": seed}}})).expect("app");
    apps.create(&PostParams::default(), &application)
        .await
        .expect("application");
    wait_state(&app, RESOURCE, "staging", "synced", Duration::from_secs(10)).await;
    wait_recorded(&app, &seed, "synced").await;
    let t_synced = now();

    // Someone edits the cluster: a drift episode, attributed.
    drift_by_kubectl(&apis, "http://hotfix:8080").await;
    wait_state(&app, RESOURCE, "staging", "drifted", Duration::from_secs(5)).await;
    wait_recorded(&app, &seed, "drifted").await;
    let t_drifted = now();

    // The agent heals it.
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    wait_recorded(&app, &seed, "synced").await;
    let t_healed = now();

    // A change is proposed, merged and rolled out.
    let alice = app.login("alice").await;
    let (status, created) = app.call("POST", "/api/v1/changes", Some(&alice), Some(json!({"title": "Payments v2", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": "http://payments-v2:8080"}}}}]})), None).await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = app
        .act(&format!("/api/v1/changes/{}/merge", created["id"]), &alice)
        .await;
    assert_eq!(status, 200);
    let head = app.git(&["rev-parse", "main"]);
    assert_ne!(head, seed);
    wait_state(
        &app,
        RESOURCE,
        "staging",
        "pending",
        Duration::from_secs(10),
    )
    .await;
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    apps.patch_status(
        "tyk-apis",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"sync": {"revision": head}}})),
    )
    .await
    .expect("revision");
    wait_applied(&app, &head).await;
    wait_recorded(&app, &head, "synced").await;
    let t_rolled = now();

    // What was live at each moment.
    let at = live_at(&app, &before).await;
    assert_eq!(
        (at["revision"].clone(), at["state"].clone()),
        (Value::Null, Value::Null),
        "{at}"
    );
    let at = live_at(&app, &t_synced).await;
    assert_eq!(
        (at["revision"].as_str(), at["state"].as_str()),
        (Some(seed.as_str()), Some("synced")),
        "{at}"
    );
    assert_eq!(at["drift"], json!([]), "{at}");
    assert_eq!(at["reachable"], true);
    let at = live_at(&app, &t_drifted).await;
    assert_eq!(
        (at["revision"].as_str(), at["state"].as_str()),
        (Some(seed.as_str()), Some("drifted")),
        "{at}"
    );
    assert_eq!(
        (
            at["drift"][0]["path"].as_str(),
            at["drift"][0]["manager"].as_str(),
            at["drift"][0]["live"].as_str()
        ),
        (
            Some("spec.proxy.target_url"),
            Some("kubectl-edit"),
            Some("http://hotfix:8080")
        ),
        "{at}"
    );
    let at = live_at(&app, &t_healed).await;
    assert_eq!(
        (at["revision"].as_str(), at["state"].as_str()),
        (Some(seed.as_str()), Some("synced")),
        "{at}"
    );
    let at = live_at(&app, &t_rolled).await;
    assert_eq!(
        (at["revision"].as_str(), at["state"].as_str()),
        (Some(head.as_str()), Some("synced")),
        "{at}"
    );
    // Any offset is understood; the answer is in UTC.
    let (_, all) = app
        .json(&format!("{LIVE}?at={}", t_rolled.replace('Z', "%2B00:00")))
        .await;
    assert_eq!(all["clusters"][0]["cluster"], "staging", "{all}");
    assert_eq!(all["clusters"][0]["revision"], head.as_str(), "{all}");

    // Bad input is a clear error.
    let (status, e) = app.json(&format!("{LIVE}?at=yesterday")).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_query")),
        "{e}"
    );
    let (status, e) = app.json(&format!("{LIVE}?cluster=nowhere")).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );
    let (status, e) = app.json("/api/v1/resources/Gadget/payments/x/live").await;
    assert_eq!(e["code"], "unknown_kind", "{status} {e}");

    // Each history entry says when it went live: the merged change once its revision was
    // applied and the API synced; the seed's version when the seed was.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let entries = loop {
        let (_, history) = app
            .json("/api/v1/resources/ApiDefinition/payments/payments-api/history")
            .await;
        let entries = history["items"].as_array().cloned().unwrap_or_default();
        if entries.first().is_some_and(|e| {
            e["commit"] == head.as_str() && !e["live"].as_array().is_none_or(Vec::is_empty)
        }) {
            break entries;
        }
        assert!(std::time::Instant::now() < deadline, "{history}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let newest = &entries[0]["live"][0];
    assert_eq!(
        (newest["cluster"].as_str(), newest["revision"].as_str()),
        (Some("staging"), Some(head.as_str())),
        "{newest}"
    );
    assert!(
        newest["since"].as_str() > Some(t_healed.as_str())
            && newest["since"].as_str() <= Some(t_rolled.as_str()),
        "{newest}"
    );
    let oldest = &entries.last().expect("the seed's entry")["live"][0];
    assert_eq!(oldest["revision"].as_str(), Some(seed.as_str()), "{oldest}");
    assert!(
        oldest["since"].as_str() > Some(before.as_str())
            && oldest["since"].as_str() <= Some(t_synced.as_str()),
        "{oldest}"
    );
    let (_, html) = app.html("/apis/payments/payments-api?tab=history").await;
    assert!(
        html.contains("live in <strong>staging"),
        "the history tab shows it"
    );

    // The activity feed: newest first, every kind of item.
    let items = activity(&app, "").await;
    let order = kinds(&items);
    for kind in ["rollout", "merged", "proposed", "drift"] {
        assert!(order.contains(&kind), "{kind} in {order:?}");
    }
    let times: Vec<OffsetDateTime> = items
        .iter()
        .filter_map(|i| i["at"].as_str())
        .filter_map(|at| {
            OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
        })
        .collect();
    assert_eq!(times.len(), items.len());
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {items:?}"
    );
    let rollout = items
        .iter()
        .find(|i| i["kind"] == "rollout")
        .expect("rollout");
    assert_eq!(
        (rollout["cluster"].as_str(), rollout["revision"].as_str()),
        (Some("staging"), Some(head.as_str())),
        "the newest rollout first: {items:?}"
    );
    let merged = items
        .iter()
        .find(|i| i["kind"] == "merged")
        .expect("merged");
    assert_eq!(merged["change"]["id"], created["id"]);
    assert_eq!(merged["actor"], "alice");
    assert_eq!(merged["resources"][0]["name"], "payments-api");
    let drift = items.iter().find(|i| i["kind"] == "drift").expect("drift");
    assert_eq!(drift["resources"][0]["name"], "payments-api");
    assert_eq!(drift["drift"][0]["manager"], "kubectl-edit");
    assert!(drift["ended_at"].is_string(), "the episode ended: {drift}");
    assert!(
        kinds(&items).iter().position(|k| *k == "rollout")
            < kinds(&items).iter().position(|k| *k == "drift")
    );
    // Filters.
    let by_cluster = activity(&app, "cluster=staging").await;
    assert!(
        !by_cluster.is_empty() && by_cluster.iter().all(|i| i["cluster"] == "staging"),
        "{by_cluster:?}"
    );
    assert!(
        !kinds(&by_cluster).contains(&"merged"),
        "changes belong to no cluster"
    );
    let by_namespace = activity(&app, "namespace=payments").await;
    assert!(
        kinds(&by_namespace).contains(&"drift") && kinds(&by_namespace).contains(&"merged"),
        "{by_namespace:?}"
    );
    assert!(
        !kinds(&by_namespace).contains(&"rollout"),
        "{by_namespace:?}"
    );
    assert!(activity(&app, "namespace=nowhere").await.is_empty());
    let by_kind = activity(&app, "kind=SecurityPolicy").await;
    assert!(
        !kinds(&by_kind).contains(&"drift") && !kinds(&by_kind).contains(&"merged"),
        "{by_kind:?}"
    );
    assert!(kinds(&activity(&app, "kind=ApiDefinition").await).contains(&"drift"));
    let (status, e) = app.json("/api/v1/activity?kind=Gadget").await;
    assert_eq!(e["code"], "unknown_kind", "{status} {e}");
    let (status, e) = app.json("/api/v1/activity?page=abc").await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_query")),
        "{e}"
    );
    // Paged.
    let (_, first) = app.json("/api/v1/activity?per_page=1").await;
    let (_, second) = app.json("/api/v1/activity?per_page=1&page=2").await;
    assert_eq!(
        (
            first["items"].as_array().map(Vec::len),
            first["more"].as_bool()
        ),
        (Some(1), Some(true))
    );
    assert_eq!(first["items"][0], items[0]);
    assert_eq!(second["items"][0], items[1]);
    // The page.
    let (status, html) = app.html("/activity?namespace=payments").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("activity-drift")
            && html.contains("kubectl-edit")
            && html.contains("Payments v2"),
        "{html}"
    );
    assert!(!html.contains(r#"data-kind="rollout""#), "filtered");
    assert!(
        app.html("/apis").await.1.contains(r#"href="/activity""#),
        "in the navigation"
    );

    // Live: the feed's event stream announces new items.
    let mut events = app
        .client
        .get(app.url("/api/v1/activity/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("in time")
        .expect("chunk")
        .expect("data");
    assert!(String::from_utf8_lossy(&first).contains("event: activity"));
    drift_by_kubectl(&apis, "http://hotfix-2:8080").await;
    let next = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("announced in time")
        .expect("chunk")
        .expect("data");
    assert!(String::from_utf8_lossy(&next).contains("event: activity"));
    // A proposal is announced too.
    let (status, proposed) = app.call("POST", "/api/v1/changes", Some(&alice), Some(json!({"title": "Payments v3", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": "http://payments-v3:8080"}}}}]})), None).await;
    assert_eq!(status, 201, "{proposed}");
    let next = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("announced in time")
        .expect("chunk")
        .expect("data");
    assert!(String::from_utf8_lossy(&next).contains("event: activity"));
    drop(events);
    let newest = activity(&app, "namespace=payments&per_page=5").await;
    assert!(
        newest
            .iter()
            .any(|i| i["kind"] == "proposed" && i["change"]["id"] == proposed["id"]),
        "{newest:?}"
    );

    // The REST routes are documented.
    let (_, doc) = app.json("/api/openapi.json").await;
    assert!(doc["paths"]["/api/v1/resources/{kind}/{namespace}/{name}/live"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/activity"]["get"].is_object());
    assert!(
        doc["components"]["schemas"]["ActivityPage"].is_object(),
        "{}",
        doc["components"]["schemas"]
    );
    let open = wait_recorded(&app, &head, "drifted").await;
    let since = open["state_since"].as_str().expect("since").to_owned();

    // A restart continues the open drift episode and keeps the past.
    let app = app.restart().await;
    wait_state(
        &app,
        RESOURCE,
        "staging",
        "drifted",
        Duration::from_secs(10),
    )
    .await;
    // Longer than the recorder's settle time: anything it would write, it has.
    tokio::time::sleep(tollgate::timeline::SETTLE * 2).await;
    let again = live_at(&app, &now()).await;
    assert_eq!(
        (again["state"].as_str(), again["state_since"].as_str()),
        (Some("drifted"), Some(since.as_str())),
        "{again}"
    );
    let at = live_at(&app, &t_drifted).await;
    assert_eq!(
        (at["revision"].as_str(), at["state"].as_str()),
        (Some(seed.as_str()), Some("drifted")),
        "{at}"
    );
    let drifts = activity(&app, "kind=ApiDefinition&cluster=staging").await;
    let drifts: Vec<&Value> = drifts.iter().filter(|i| i["kind"] == "drift").collect();
    assert_eq!(
        drifts.len(),
        2,
        "one episode, not a second after the restart: {drifts:?}"
    );
    assert!(drifts[0]["ended_at"].is_null());
    // Healing closes it.
    apply_from_git(&app, &apis, "ApiDefinition", "payments", "payments-api").await;
    wait_recorded(&app, &head, "synced").await;
    let drifts = activity(&app, "cluster=staging").await;
    assert!(
        drifts
            .iter()
            .filter(|i| i["kind"] == "drift")
            .all(|i| i["ended_at"].is_string()),
        "{drifts:?}"
    );

    // The cluster goes away and comes back: an unreachable period, while the resource's last
    // known state goes on.
    emulator.stop();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let away = loop {
        let live = live_at(&app, &now()).await;
        if live["reachable"] == false {
            break live;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never recorded away: {live}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(away["state"], "synced", "{away}");
    let t_away = now();
    emulator = Emulator::serve(addr, Arc::clone(&store))
        .await
        .expect("serves again");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while live_at(&app, &now()).await["reachable"] == false {
        assert!(std::time::Instant::now() < deadline, "never back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at = live_at(&app, &t_away).await;
    assert_eq!(
        (at["reachable"].as_bool(), at["state"].as_str()),
        (Some(false), Some("synced")),
        "{at}"
    );
    let outages = activity(&app, "cluster=staging").await;
    let outage = outages
        .iter()
        .find(|i| i["kind"] == "unreachable")
        .expect("the outage is in the feed");
    assert!(
        outage["ended_at"].is_string() && outage["error"].is_string(),
        "{outage}"
    );
    assert!(
        activity(&app, "namespace=payments")
            .await
            .iter()
            .all(|i| i["kind"] != "unreachable"),
        "cluster-wide"
    );
    drop(emulator);
    app.stop().await;
}

fn t(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000 + seconds)
}

fn observation(state: &str, detail: &str) -> Observation {
    Observation {
        state: state.into(),
        detail: detail.into(),
    }
}

/// The store's contract: episodes open and close in one write, the episode covering a time,
/// the open ones read back after a restart, the feed's filters, and when a commit went live.
async fn store_story(db: &Db) {
    let api = Track {
        cluster: "prod".into(),
        track: STATE,
        kind: "ApiDefinition".into(),
        namespace: "payments".into(),
        name: "payments-api".into(),
    };
    let applied = Track::cluster("prod", APPLIED);
    let open = |track: &Track, state: &str, detail: &str, at: i64| Op::Open {
        track: track.clone(),
        observation: observation(state, detail),
        at: t(at),
    };
    store::apply(
        db,
        &[open(&applied, "c1", "", 0), open(&api, "synced", "", 0)],
    )
    .await
    .expect("apply");
    let drift = r#"{"drift":[{"path":"spec.proxy.target_url","desired":"a","live":"b","manager":"kubectl-edit","operation":"Update","time":null,"actor":"manual"}]}"#;
    store::apply(db, &[open(&api, "drifted", "{}", 10)])
        .await
        .expect("drift");
    store::apply(
        db,
        &[Op::Update {
            track: api.clone(),
            detail: drift.into(),
        }],
    )
    .await
    .expect("update");
    store::apply(
        db,
        &[open(&api, "synced", "", 20), open(&applied, "c2", "", 30)],
    )
    .await
    .expect("rollout");
    // A second replica (or a retry) writing the same change a moment later changes nothing.
    store::apply(
        db,
        &[open(&api, "synced", "", 21), open(&applied, "c2", "", 31)],
    )
    .await
    .expect("the same again");
    assert_eq!(
        store::episodes(db, &applied).await.expect("episodes").len(),
        2
    );
    // The database holds one open episode per track, whoever writes.
    assert!(
        tollgate::db_run!(
            db,
            execute,
            "INSERT INTO timeline_episodes (cluster, track, state, started_at) VALUES ('prod', 'applied', 'c9', 'x')"
        )
        .is_err()
    );

    let covering = |track: &Track, at: i64| {
        let track = track.clone();
        async move {
            store::covering(db, &track, &store::stamp(t(at)))
                .await
                .expect("covering")
                .map(|e| (e.state, e.detail))
        }
    };
    assert_eq!(covering(&applied, -1).await, None);
    assert_eq!(
        covering(&applied, 5).await.map(|e| e.0).as_deref(),
        Some("c1")
    );
    assert_eq!(
        covering(&applied, 29).await.map(|e| e.0).as_deref(),
        Some("c1")
    );
    assert_eq!(
        covering(&applied, 30).await.map(|e| e.0).as_deref(),
        Some("c2")
    );
    assert_eq!(
        covering(&api, 15).await,
        Some(("drifted".into(), drift.into()))
    );
    assert_eq!(
        covering(&api, 20).await.map(|e| e.0).as_deref(),
        Some("synced")
    );

    // What a restart reads back: one open episode per track.
    let open_now = store::open(db).await.expect("open");
    assert_eq!(open_now.len(), 2);
    assert_eq!(open_now.get(&applied), Some(&observation("c2", "")));
    assert_eq!(open_now.get(&api), Some(&observation("synced", "")));

    let feed = |namespace: &'static str, kind: &'static str, cluster: &'static str| async move {
        store::activity(db, namespace, kind, cluster, 10)
            .await
            .expect("activity")
            .into_iter()
            .map(|e| (e.track, e.state))
            .collect::<Vec<_>>()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        feed("", "", "").await,
        vec![
            pair("applied", "c2"),
            pair("state", "drifted"),
            pair("applied", "c1")
        ]
    );
    assert_eq!(
        feed("payments", "", "").await,
        vec![pair("state", "drifted")]
    );
    assert_eq!(
        feed("", "ApiDefinition", "prod").await,
        vec![pair("state", "drifted")]
    );
    assert_eq!(feed("", "", "other").await, vec![]);

    for (seq, commit) in [(1i64, "c1"), (2, "c2")] {
        tollgate::db_run!(
            db,
            execute,
            "INSERT INTO history_commits (branch, seq, commit_id) VALUES ($1, $2, $3)",
            "main",
            seq,
            commit
        )
        .expect("commit");
    }
    let key = ("ApiDefinition", "payments", "payments-api");
    let live = |commit: &'static str| async move {
        tollgate::timeline::went_live(db, "main", key, commit, false)
            .await
            .expect("went live")
            .into_iter()
            .map(|l| (l.cluster, l.revision, l.since))
            .collect::<Vec<_>>()
    };
    let triple = |r: &str, at: i64| ("prod".to_owned(), r.to_owned(), store::stamp(t(at)));
    assert_eq!(live("c1").await, vec![triple("c1", 0)]);
    assert_eq!(live("c2").await, vec![triple("c2", 30)]);
    assert_eq!(live("c3").await, vec![]);

    // Proposals and merges of changes, filtered by the resources they touch.
    let changes =
        tollgate::changes::store::insert_draft(db, "v2", "", "alice", "[]", "c1", None, None)
            .await
            .expect("draft");
    let touched = frontend::api::ChangedResource {
        kind: "ApiDefinition".into(),
        namespace: "payments".into(),
        name: "payments-api".into(),
        action: "update".into(),
        path: "apis/payments/payments-api.yaml".into(),
    };
    tollgate::changes::store::set_proposed(
        db,
        changes,
        "c1",
        "tollgate/1",
        "h1",
        &[touched],
        "[]",
        "alice",
        1,
        "{}",
    )
    .await
    .expect("propose");
    tollgate::changes::store::set_merged(db, changes, "c2", "bob")
        .await
        .expect("merge");
    let events = |namespace: &'static str, kind: &'static str| async move {
        store::change_activity(db, namespace, kind, 10)
            .await
            .expect("change activity")
            .into_iter()
            .map(|e| (e.event, e.author, e.change_id, e.title))
            .collect::<Vec<_>>()
    };
    let both = vec![
        (
            "merge".to_owned(),
            "bob".to_owned(),
            changes,
            "v2".to_owned(),
        ),
        (
            "propose".to_owned(),
            "alice".to_owned(),
            changes,
            "v2".to_owned(),
        ),
    ];
    assert_eq!(events("", "").await, both);
    assert_eq!(events("payments", "ApiDefinition").await, both);
    assert_eq!(events("payments", "SecurityPolicy").await, vec![]);
    assert_eq!(events("other", "").await, vec![]);

    store::apply(
        db,
        &[Op::Close {
            track: api.clone(),
            at: t(40),
        }],
    )
    .await
    .expect("close");
    assert_eq!(covering(&api, 41).await, None);
    assert_eq!(store::open(db).await.expect("open").len(), 1);
    assert_eq!(store::episodes(db, &api).await.expect("episodes").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_store_on_sqlite() {
    crate::db::on_sqlite(|db| async move {
        db.migrate().await.expect("migrate");
        store_story(&db).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_store_on_postgres() {
    crate::db::on_postgres(|db| async move {
        db.migrate().await.expect("migrate");
        store_story(&db).await;
    })
    .await;
}
