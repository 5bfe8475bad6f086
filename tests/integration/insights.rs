//! Lead time and `/insights`: a change followed from propose to live on an emulated cluster
//! with a simulated Flux agent, then a drift episode and a change failure seen there; the report, page and metrics of a known data set on SQLite and
//! PostgreSQL; bad ranges answered 400.

use crate::support::TestApp;
use kube::api::{GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tollgate::db::Db;
use tollgate::db_run;
use tollgate::insights::{self, Range, store};

/// Inserts a merged change proposed at `proposed`, approved at `approved`, merged at `merged`,
/// touching `payments/<resource>`; returns its id.
async fn merged_change(
    db: &Db,
    title: &str,
    resource: &str,
    proposed: &str,
    approved: Option<&str>,
    merged: Option<&str>,
) -> i64 {
    let state = if merged.is_some() { "merged" } else { "open" };
    let (id,): (i64,) = db_run!(db, fetch_one, (i64,),
        "INSERT INTO changes (title, author, state, edits, base_commit, merge_commit, created_at, updated_at)
         VALUES ($1, 'alice', $2, '[]', 'base', $3, $4, $4) RETURNING id",
        title, state, merged.map(|_| "0123456789012345678901234567890123456789"), proposed)
    .expect("change");
    db_run!(db, execute,
        "INSERT INTO change_resources (change_id, kind, namespace, name, action, path) VALUES ($1, 'ApiDefinition', 'payments', $2, 'update', 'apis.yaml')",
        id, resource)
    .expect("resource");
    let mut events = vec![("propose", proposed)];
    events.extend(approved.map(|a| ("approval", a)));
    events.extend(merged.map(|m| ("merge", m)));
    for (kind, at) in events {
        db_run!(db, execute,
            "INSERT INTO change_events (change_id, kind, author, body, created_at) VALUES ($1, $2, 'bob', '', $3)",
            id, kind, at)
        .expect("event");
    }
    id
}

/// Two weeks from Monday 2026-01-05. Week 1: lead times 1 h, 2 h (failed: a failed state) and
/// 4 h. Week 2: 30 min (failed: restored the same day) and 10 h. One change merged after the
/// range. Drift: prod 1 h and 3 h, staging 30 min.
async fn seed(db: &Db) {
    merged_change(
        db,
        "a",
        "a",
        "2026-01-05T09:00:00Z",
        Some("2026-01-05T09:30:00Z"),
        Some("2026-01-05T10:00:00Z"),
    )
    .await;
    let b = merged_change(
        db,
        "b",
        "b",
        "2026-01-06T09:00:00Z",
        None,
        Some("2026-01-06T11:00:00Z"),
    )
    .await;
    merged_change(
        db,
        "c",
        "c",
        "2026-01-07T09:00:00Z",
        Some("2026-01-07T10:00:00Z"),
        Some("2026-01-07T13:00:00Z"),
    )
    .await;
    merged_change(
        db,
        "d",
        "d",
        "2026-01-12T10:00:00Z",
        None,
        Some("2026-01-12T10:30:00Z"),
    )
    .await;
    merged_change(
        db,
        "e",
        "e",
        "2026-01-13T08:00:00Z",
        None,
        Some("2026-01-13T18:00:00Z"),
    )
    .await;
    merged_change(
        db,
        "late",
        "late",
        "2026-01-19T08:00:00Z",
        None,
        Some("2026-01-19T09:00:00Z"),
    )
    .await;
    // A restore of d's resource, proposed two hours after d was merged.
    let r = merged_change(db, "restore d", "d", "2026-01-12T12:30:00Z", None, None).await;
    db_run!(
        db,
        execute,
        "INSERT INTO change_restores (change_id, created_at) VALUES ($1, '2026-01-12T12:30:00Z')",
        r
    )
    .expect("restore");
    assert!(
        store::record_failure(db, b, "prod", "2026-01-06T12:00:00Z", "boom")
            .await
            .expect("failure")
    );
    assert!(
        !store::record_failure(db, b, "prod", "2026-01-06T12:05:00Z", "again")
            .await
            .expect("failure")
    );
    for (cluster, start, end) in [
        ("prod", "2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z"),
        ("prod", "2026-01-14T00:00:00Z", "2026-01-14T03:00:00Z"),
        ("staging", "2026-01-08T00:00:00Z", "2026-01-08T00:30:00Z"),
    ] {
        // As the cluster timeline keeps them (`tollgate::timeline`).
        tollgate::db_run!(
            db,
            execute,
            "INSERT INTO timeline_episodes (cluster, track, kind, namespace, name, state, started_at, ended_at)
             VALUES ($1, 'state', 'ApiDefinition', 'payments', 'a', 'drifted', $2, $3)",
            cluster,
            start,
            end
        )
        .expect("drift");
    }
    // The changes were written without the merge path: their lead-time rows are filled in as
    // the migration fills those of earlier merges.
    assert_eq!(store::catch_up(db).await.expect("catch up"), 6);
    assert_eq!(store::catch_up(db).await.expect("again"), 0);
}

fn range() -> Range {
    let q = frontend::api::insights::InsightsQuery {
        from: Some("2026-01-05".into()),
        to: Some("2026-01-19".into()),
        weeks: None,
    };
    insights::range_of(&q, time::OffsetDateTime::now_utc()).expect("range")
}

const H: f64 = 3600.0;

async fn known_report(db: &Db) {
    seed(db).await;
    let r = insights::report(db, false, range()).await.expect("report");
    assert_eq!(r.weeks.len(), 2, "{r:?}");
    let (w1, w2) = (&r.weeks[0], &r.weeks[1]);
    assert_eq!(
        (w1.week.as_str(), w1.changes, w1.measured, w1.failed),
        ("2026-01-05", 3, 3, 1)
    );
    assert_eq!(
        (w1.median_seconds, w1.p90_seconds),
        (Some(2.0 * H), Some(4.0 * H))
    );
    assert_eq!(
        (w2.week.as_str(), w2.changes, w2.failed, w2.restores),
        ("2026-01-12", 2, 1, 1)
    );
    assert_eq!(
        (w2.median_seconds, w2.p90_seconds),
        (Some(5.25 * H), Some(10.0 * H))
    );
    assert_eq!((r.changes, r.failed), (5, 2));
    // Over 0.5, 1, 2, 4, 10 hours.
    assert_eq!(
        (r.median_seconds, r.p90_seconds),
        (Some(2.0 * H), Some(10.0 * H))
    );
    assert_eq!(r.drift.len(), 2);
    assert_eq!(
        (
            r.drift[0].cluster.as_str(),
            r.drift[0].episodes,
            r.drift[0].total_seconds,
            r.drift[0].median_seconds,
            r.drift[0].longest_seconds
        ),
        ("prod", 2, 4.0 * H, 2.0 * H, 3.0 * H)
    );
    assert_eq!(
        (
            r.drift[1].cluster.as_str(),
            r.drift[1].episodes,
            r.drift[1].total_seconds
        ),
        ("staging", 1, 0.5 * H)
    );
    // Newest first; the restore is not merged, so not listed.
    let titles: Vec<&str> = r.lead_times.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["e", "d", "c", "b", "a"]);
    assert_eq!(
        r.lead_times[4].approved.as_deref(),
        Some("2026-01-05T09:30:00Z")
    );
    // The recorder's writes are first-time-only.
    assert!(
        store::record_live(db, 1, "prod", "2026-01-05T10:05:00Z", "abc")
            .await
            .expect("live")
    );
    assert!(
        !store::record_live(db, 1, "prod", "2026-01-05T10:09:00Z", "abc")
            .await
            .expect("live")
    );
    assert_eq!(
        store::live_of(db, 1).await.expect("live")[0].at,
        "2026-01-05T10:05:00Z"
    );
    let r = insights::report(db, true, range()).await.expect("report");
    // With clusters, only a change seen live is measured: a, live 65 minutes after its proposal.
    assert_eq!(
        (r.weeks[0].measured, r.weeks[0].median_seconds),
        (1, Some(65.0 * 60.0))
    );
    assert_eq!(r.weeks[1].measured, 0);
}

mod known_report {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        crate::db::on_sqlite(|db| async move {
            db.migrate().await.expect("migrate");
            super::known_report(&db).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        crate::db::on_postgres(|db| async move {
            db.migrate().await.expect("migrate");
            super::known_report(&db).await;
        })
        .await;
    }
}

#[tokio::test]
async fn the_page_the_api_and_the_metrics_show_a_known_data_set() {
    let app = TestApp::start(|_| {}, true).await;
    let db = Db::connect(&app.config.database.url, 2).await.expect("db");
    seed(&db).await;
    let (status, r) = app
        .json("/api/v1/insights?from=2026-01-05&to=2026-01-19")
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["changes"], 5);
    assert_eq!(r["weeks"][1]["median_seconds"], 5.25 * H);
    assert_eq!(r["drift"][0]["cluster"], "prod");

    let (status, html) = app.html("/insights?from=2026-01-05&to=2026-01-19").await;
    assert_eq!(status, 200);
    for needle in [
        "<svg",
        "id=\"lead-time-chart\"",
        "role=\"img\"",
        "<title id=\"lead-time-chart-title\">Lead time per week</title>",
        "Week of 2026-01-05: median 2 h over 3 changes",
        "Week of 2026-01-12: p90 10 h",
        "Week of 2026-01-12: median 5.3 h",
        "Week of 2026-01-05: 3 changes",
        "Week of 2026-01-05: 1 failed",
        "prod: 2 episodes, 4 h in all, median 2 h, longest 3 h",
        "id=\"weeks\"",
        "id=\"drift\"",
        "5 changes merged from 2026-01-05 00:00 UTC to 2026-01-19 00:00 UTC",
        "href=\"/insights\"",
    ] {
        assert!(html.contains(needle), "{needle} not in the page:\n{html}");
    }
    assert_eq!(html.matches("class=\"median\"").count(), 2);

    let resp = app.get("/metrics").await;
    let text = resp.text().await.expect("text");
    for line in [
        // Propose to first approval: 30 min and 1 h.
        "tollgate_change_lead_time_seconds_bucket{stage=\"approved\",le=\"1800\"} 1",
        "tollgate_change_lead_time_seconds_bucket{stage=\"approved\",le=\"3600\"} 2",
        "tollgate_change_lead_time_seconds_count{stage=\"approved\"} 2",
        "tollgate_change_lead_time_seconds_sum{stage=\"approved\"} 5400",
        // Propose to merge: 1 h, 2 h, 4 h, 30 min, 10 h, and the later 1 h.
        "tollgate_change_lead_time_seconds_bucket{stage=\"merged\",le=\"1800\"} 1",
        "tollgate_change_lead_time_seconds_bucket{stage=\"merged\",le=\"3600\"} 3",
        "tollgate_change_lead_time_seconds_bucket{stage=\"merged\",le=\"14400\"} 5",
        "tollgate_change_lead_time_seconds_bucket{stage=\"merged\",le=\"28800\"} 5",
        "tollgate_change_lead_time_seconds_bucket{stage=\"merged\",le=\"+Inf\"} 6",
        "tollgate_change_lead_time_seconds_count{stage=\"live\"} 0",
        "tollgate_drift_episode_seconds_count{cluster=\"prod\"} 2",
        "tollgate_drift_episode_seconds_bucket{cluster=\"staging\",le=\"1800\"} 1",
        "tollgate_changes_merged_total 6",
        "tollgate_change_failures_total 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    db.close().await;
    app.stop().await;
}

#[tokio::test]
async fn bad_ranges_are_a_clear_400() {
    let app = TestApp::start(|_| {}, true).await;
    for (query, field, says) in [
        ("from=2026-02-01&to=2026-01-01", "from", "before"),
        ("from=yesterday", "from", "YYYY-MM-DD"),
        ("to=2026-13-01", "to", "YYYY-MM-DD"),
        ("weeks=0", "weeks", "from 1 to 104"),
        ("weeks=500", "weeks", "from 1 to 104"),
        ("weeks=3&from=2026-01-01", "weeks", "either"),
        ("from=2020-01-01&to=2026-01-01", "from", "at most 104 weeks"),
    ] {
        let (status, body) = app.json(&format!("/api/v1/insights?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_query", "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(says)),
            "{query}: {body}"
        );
    }
    let (status, body) = app.json("/api/v1/insights?weeks=many").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query")),
        "{body}"
    );
    // The page says what is wrong instead of drawing.
    let (status, html) = app.html("/insights?from=2026-02-01&to=2026-01-01").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("from must be before to") && !html.contains("<svg xmlns"),
        "{html}"
    );
    app.stop().await;
}

/// Waits for `check` on the change's JSON.
async fn wait_change(
    app: &TestApp,
    id: &Value,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, change) = app.json(&format!("/api/v1/changes/{id}")).await;
        if check(&change) {
            return change;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {change}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn lead_times_on_an_emulated_cluster_from_propose_to_live() {
    let (store, emulator) = crate::status::emulated_cluster().await;
    let (app, _kubeconfig) =
        crate::status::app_watching_requiring(&emulator, "prod", crate::status::flux_agent(), 1)
            .await;
    let agent = tokio::spawn(tollgate_emulator::agent::run(
        Arc::clone(&store),
        tollgate_emulator::agent::AgentSettings {
            flavor: tollgate_emulator::agent::Flavor::Flux,
            repo: app.config.repo.path.clone(),
            branch: "main".into(),
            path: String::new(),
            delay: Duration::from_secs(2),
            object: ("flux-system".into(), "tyk-apis".into()),
        },
    ));
    let seed = app.git(&["rev-parse", "main"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, report) = app.json("/api/v1/status").await;
        if report["clusters"][0]["applied_revision"] == seed.as_str() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (status, created) = app.call("POST", "/api/v1/changes", Some(&alice), Some(json!({"title": "v2", "edits": [{"kind": "ApiDefinition", "namespace": "payments", "name": "payments-api", "merge_patch": {"spec": {"proxy": {"target_url": "http://payments-v2:8080"}}}}]})), None).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].clone();
    let merged = app.approve_and_merge(&id, &bob).await;
    // Not live yet: the agent waits before applying the new head.
    assert_eq!(merged["live"], json!([]), "{merged}");
    let change = wait_change(&app, &id, "live in prod", |c| {
        c["live"][0]["cluster"] == "prod"
    })
    .await;
    let at = |kind: &str| {
        change["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["kind"] == kind)
            .and_then(|e| e["at"].as_str())
            .expect(kind)
            .to_owned()
    };
    let (proposed, approved, merged_at) = (at("propose"), at("approval"), at("merge"));
    let live = change["live"][0]["at"].as_str().expect("live").to_owned();
    let t = |s: &str| insights::parse_time(s).expect(s);
    assert!(
        t(&proposed) <= t(&approved) && t(&approved) <= t(&merged_at) && t(&merged_at) < t(&live),
        "{proposed} {approved} {merged_at} {live}"
    );
    // The agent waited 2 s after the merge before applying it.
    assert!(
        t(&live) - t(&merged_at) >= time::Duration::milliseconds(1500),
        "{merged_at} {live}"
    );
    let head = app.git(&["rev-parse", "main"]);
    let (_, report) = app.json("/api/v1/status").await;
    assert_eq!(report["clusters"][0]["applied_revision"], head.as_str());

    // The change page draws the way, with the times as text.
    let (_, html) = app.html(&format!("/changes/{id}")).await;
    assert!(
        html.contains("id=\"change-timeline\"") && html.contains("Live in prod"),
        "{html}"
    );
    assert!(
        html.contains(&format!("Live in prod: {}", frontend_time(&live))),
        "{html}"
    );

    let (status, r) = app.json("/api/v1/insights?weeks=1").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["changes"].as_u64(), r["clusters"].as_bool()),
        (Some(1), Some(true)),
        "{r}"
    );
    let lead = r["lead_times"][0]["lead_seconds"]
        .as_f64()
        .expect("measured");
    let expected = (t(&live) - t(&proposed)).as_seconds_f64();
    assert!((lead - expected).abs() < 0.001, "{lead} {expected}");
    assert_eq!(
        r["weeks"].as_array().map(|w| w
            .iter()
            .map(|w| w["measured"].as_u64().unwrap_or(0))
            .sum::<u64>()),
        Some(1)
    );
    assert_eq!(r["failed"], 0, "payments-api is synced, not failed: {r}");
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(
        text.lines()
            .any(|l| l == "tollgate_change_lead_time_seconds_count{stage=\"live\"} 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "tollgate_change_lead_time_seconds_bucket{stage=\"live\",le=\"300\"} 1"),
        "{text}"
    );

    // Someone edits the cluster: the recorder sees a drift episode start, and end when the
    // value is put back.
    let apis = crate::status::kube_api(
        &emulator,
        GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
        "apidefinitions",
        "payments",
    )
    .await;
    let edit = |url: &'static str| {
        let apis = apis.clone();
        async move {
            let params = PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..Default::default()
            };
            apis.patch(
                "payments-api",
                &params,
                &Patch::Merge(json!({"spec": {"proxy": {"target_url": url}}})),
            )
            .await
            .expect("edit");
        }
    };
    edit("http://hotfix:8080").await;
    let drift = wait_insights(&app, "a drift episode", |r| r["drift"][0]["episodes"] == 1).await;
    assert_eq!(drift["drift"][0]["cluster"], "prod");
    assert_eq!(
        drift["episodes"][0]["resource"],
        "ApiDefinition/payments/payments-api"
    );
    assert!(drift["episodes"][0]["ended"].is_null(), "{drift}");
    edit("http://payments-v2:8080").await;
    let ended = wait_insights(&app, "the episode's end", |r| {
        !r["episodes"][0]["ended"].is_null()
    })
    .await;
    assert_eq!(ended["drift"][0]["episodes"], 1, "{ended}");

    // The operator fails the change's resource within a day of the merge: a change failure.
    apis.patch_status(
        "payments-api",
        &PatchParams { field_manager: Some("tyk-operator".into()), ..Default::default() },
        &Patch::Merge(json!({"status": {"latestTransaction": {"status": "Failed", "error": "listen path already in use"}}})),
    )
    .await
    .expect("status");
    let failed = wait_insights(&app, "a change failure", |r| r["failed"] == 1).await;
    assert_eq!(failed["lead_times"][0]["failed"], true, "{failed}");
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(
        text.lines()
            .any(|l| l == "tollgate_change_failures_total 1"),
        "{text}"
    );
    agent.abort();
    app.stop().await;
}

/// Waits for `check` on `GET /api/v1/insights?weeks=1`.
async fn wait_insights(app: &TestApp, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, report) = app.json("/api/v1/insights?weeks=1").await;
        if check(&report) {
            return report;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How the pages print a stored time (`YYYY-MM-DD HH:MM UTC`).
fn frontend_time(at: &str) -> String {
    format!("{} {} UTC", &at[..10], &at[11..16])
}
