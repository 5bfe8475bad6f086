//! `/insights` benchmark: TRANSITIONS recorded transitions (default 100,000: per change, its
//! proposal, first approval, merge and live in two clusters, plus drift episodes) over the last
//! 12 weeks in SQLite. Measures the report with its three charts, the read of the merged
//! changes alone, and the whole `/insights`
//! page over HTTP from a running server.
//!
//!     cargo bench -p tollgate --bench insights
//!     INSIGHTS_TRANSITIONS=10000 cargo test -p tollgate --bench insights   (dev profile, smaller)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};
use support::{env, stats};
use tollgate::db::Db;
use tollgate::insights::{self, stamp};

/// Writes `transitions` transitions: five per change, and one drift episode per 50.
async fn generate(db: &Db, transitions: usize) {
    let Db::Sqlite(pool) = db else {
        panic!("the benchmark writes SQLite")
    };
    let now = time::OffsetDateTime::now_utc();
    let changes = transitions / 5;
    let span = 12 * 7 * 86400 - 86400;
    let mut tx = pool.begin().await.unwrap();
    for i in 0..changes {
        let proposed = now - time::Duration::seconds(86400 + (i as i64 * 7919) % span);
        let step = |minutes: i64| stamp(proposed + time::Duration::minutes(minutes));
        let (approved, merged) = (step(20 + (i as i64 % 90)), step(120 + (i as i64 % 600)));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO changes (title, author, state, edits, base_commit, merge_commit, created_at, updated_at)
             VALUES (?1, 'alice', 'merged', '[]', 'base', 'abc', ?2, ?2) RETURNING id",
        )
        .bind(format!("change {i}"))
        .bind(stamp(proposed))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO change_resources (change_id, kind, namespace, name, action, path) VALUES (?1, 'ApiDefinition', 'team', ?2, 'update', 'x.yaml')")
            .bind(id)
            .bind(format!("api-{}", i % 1000))
            .execute(&mut *tx)
            .await
            .unwrap();
        for (kind, at) in [
            ("propose", stamp(proposed)),
            ("approval", approved),
            ("merge", merged),
        ] {
            sqlx::query("INSERT INTO change_events (change_id, kind, author, body, created_at) VALUES (?1, ?2, 'bob', '', ?3)")
                .bind(id)
                .bind(kind)
                .bind(at)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        for (c, cluster) in ["prod", "staging"].iter().enumerate() {
            sqlx::query("INSERT INTO change_live (change_id, cluster, live_at, revision) VALUES (?1, ?2, ?3, 'abc')")
                .bind(id)
                .bind(cluster)
                .bind(step(700 + 30 * c as i64 + (i as i64 % 300)))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        if i % 10 == 0 {
            sqlx::query("INSERT INTO timeline_episodes (cluster, track, kind, namespace, name, state, started_at, ended_at) VALUES (?1, 'state', 'ApiDefinition', 'team', 'api', 'drifted', ?2, ?3)")
                .bind(["prod", "staging", "dev"][i % 3])
                .bind(step(5))
                .bind(step(5 + (i as i64 % 240)))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    // The lead-time rows, as the migration writes them for earlier merges.
    assert_eq!(
        tollgate::insights::store::catch_up(db).await.unwrap(),
        changes as u64
    );
}

#[tokio::main]
async fn main() {
    let transitions = env("INSIGHTS_TRANSITIONS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut config = tollgate::config::Config::demo(dir.path().to_owned());
    config.server.bind = "127.0.0.1:0".parse().unwrap();
    config.repo.path = dir.path().join("config-repo.git");
    config.database.url = format!("sqlite://{}", dir.path().join("i.db").display());
    tollgate::repo::seed_demo_repo(&config.repo.path, &config.repo.branch).unwrap();
    let db = Db::connect(&config.database.url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let started = Instant::now();
    generate(&db, transitions).await;
    println!("wrote {transitions} transitions in {:?}", started.elapsed());

    let query = frontend::api::insights::InsightsQuery {
        weeks: Some(12),
        ..Default::default()
    };
    let mut samples = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let report = insights::query(&db, true, &query).await.unwrap();
        let svg = [
            frontend::charts::lead_time_chart(&report.weeks),
            frontend::charts::changes_chart(&report.weeks),
            frontend::charts::drift_chart(&report.drift),
        ];
        samples.push(t.elapsed());
        assert!(
            report.changes * 5 >= transitions * 9 / 10,
            "{}",
            report.changes
        );
        assert!(svg.iter().all(|s| s.starts_with("<svg")));
    }
    println!("report and charts: {}", stats(samples));
    let (from, to) = (
        tollgate::insights::stamp(time::OffsetDateTime::now_utc() - time::Duration::weeks(12)),
        tollgate::insights::stamp(time::OffsetDateTime::now_utc()),
    );
    let mut rows = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let merged = tollgate::insights::store::merged_between(&db, &from, &to)
            .await
            .unwrap();
        rows.push(t.elapsed());
        assert!(!merged.is_empty());
    }
    println!("merged_between alone: {}", stats(rows));

    let running = tollgate::serve::start(config).await.unwrap();
    let url = format!("http://{}/insights?weeks=12", running.addr);
    let client = reqwest::Client::new();
    let mut pages = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let resp = client.get(&url).send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let html = resp.text().await.unwrap();
        pages.push(t.elapsed());
        assert!(html.contains("id=\"lead-time-chart\""));
    }
    pages.sort();
    let p95 = pages[pages.len() * 95 / 100];
    println!(
        "GET /insights: {} (target p95 <= 200 ms: {})",
        stats(pages),
        if p95 <= Duration::from_millis(200) {
            "met"
        } else {
            "MISSED"
        }
    );
    running.stop().await.unwrap();
    db.close().await;
}
