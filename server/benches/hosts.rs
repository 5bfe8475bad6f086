//! Benchmarks of the change flow on a remote Git host, for GitHub, GitLab and Gitea, against the
//! Git host emulator on loopback (real bare repositories, the providers' REST shapes, smart
//! HTTP, signed webhooks), through the running server's REST API:
//!
//!     cargo bench -p tollgate --bench hosts
//!
//! Measures a proposal's latency (plan, publish, open the request, fetch the branch), counts
//! the host's REST calls per proposal, and the time from a review in the host (webhook) to the
//! change's view showing it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::stats;
use tollgate::config::Config;
use tollgate::hosts::HostKind;
use tollgate_emulator::githost::{Flavour, GitHost};

const REPO: &str = "acme/config";
const SECRET: &str = "bench-secret";
const PROPOSALS: usize = 40;

fn api_yaml(i: usize) -> String {
    format!(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: api-{i}\n  namespace: team\nspec:\n  name: Service {i}\n  protocol: http\n  active: true\n  use_keyless: true\n  proxy:\n    listen_path: /svc-{i}/\n    target_url: http://svc-{i}:8080\n    strip_listen_path: true\n"
    )
}

async fn run(flavour: Flavour, kind: HostKind) {
    let dir = tempfile::tempdir().unwrap();
    let host = GitHost::start(&dir.path().join("host")).await.unwrap();
    let files: Vec<(String, String)> = (0..PROPOSALS)
        .map(|i| (format!("apis/team/api-{i}.yaml"), api_yaml(i)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    host.create_repo(REPO, &refs).unwrap();
    let token = host.add_user("tollgate-bot");
    let bob = host.add_user("bob");

    let mut config = Config::demo(dir.path().to_owned());
    config.server.bind = "127.0.0.1:0".parse().unwrap();
    config.repo.path = dir.path().join("mirror.git");
    config.database.url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
    config.host.kind = kind;
    config.host.api_url = host.api_url(flavour);
    config.host.repo = REPO.into();
    config.host.token = token;
    config.host.webhook_secret = SECRET.into();
    config.host.poll_interval_secs = 600;
    let running = tollgate::serve::start(config).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(format!("{base}/auth/demo"))
        .form(&[("user", "alice")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // A read of the API as alice (the change views are public, the session is hers).
    let get = |path: String| {
        let request = client
            .get(format!("{base}{path}"))
            .header("cookie", &cookie);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Session writes carry the session's CSRF token.
    let session = get("/api/v1/session".into()).await;
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();

    let mut latencies = Vec::new();
    let mut calls = Vec::new();
    let mut ids = Vec::new();
    for i in 0..PROPOSALS {
        host.reset_calls();
        let body = json!({"title": format!("Retarget api-{i}"), "description": "", "edits": [
            {"kind": "ApiDefinition", "namespace": "team", "name": format!("api-{i}"),
             "merge_patch": {"spec": {"proxy": {"target_url": format!("http://svc-{i}-v2:8080")}}}}]});
        let started = Instant::now();
        let resp = client
            .post(format!("{base}/api/v1/changes"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let status = resp.status();
        let created: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{created}");
        latencies.push(elapsed);
        calls.push(host.calls(flavour).len());
        ids.push(created["id"].as_i64().unwrap());
    }
    let max_calls = calls.iter().max().copied().unwrap_or(0);
    println!(
        "{}: propose {} | host REST calls per proposal: max {max_calls}, e.g. {:?}",
        kind.as_str(),
        stats(latencies),
        host.calls(flavour)
            .iter()
            .map(|(m, p)| format!("{m} {}", p.split('?').next().unwrap_or(p)))
            .collect::<Vec<_>>()
    );

    // Webhooks from here on: the call counts above are the proposals' own, without the reads
    // that the hosts' "opened" deliveries trigger.
    host.set_webhook(
        flavour,
        &format!("{base}/api/v1/hooks/{}", kind.as_str()),
        SECRET,
    );
    // Webhook → change view: bob approves in the host; poll the view until it shows him.
    let mut webhook = Vec::new();
    let api = host.api_url(flavour);
    for id in ids.iter().take(15) {
        let view = get(format!("/api/v1/changes/{id}")).await;
        let number = view["host"]["number"]
            .as_u64()
            .unwrap_or_else(|| panic!("change {id} has no host request: {view}"));
        let req = match flavour {
            Flavour::GitHub => client
                .post(format!("{api}/repos/{REPO}/pulls/{number}/reviews"))
                .bearer_auth(&bob)
                .json(&json!({"event": "APPROVE"})),
            Flavour::GitLab => client
                .post(format!(
                    "{api}/projects/{}/merge_requests/{number}/approve",
                    REPO.replace('/', "%2F")
                ))
                .header("private-token", &bob),
            Flavour::Gitea => client
                .post(format!("{api}/repos/{REPO}/pulls/{number}/reviews"))
                .header("authorization", format!("token {bob}"))
                .json(&json!({"event": "APPROVED"})),
        };
        let started = Instant::now();
        assert!(req.send().await.unwrap().status().is_success());
        loop {
            let view = get(format!("/api/v1/changes/{id}")).await;
            if view["host"]["approvals"]
                .as_array()
                .is_some_and(|a| a.iter().any(|l| l == "bob"))
            {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no update");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        webhook.push(started.elapsed());
    }
    println!(
        "{}: review in the host → change view updated {}",
        kind.as_str(),
        stats(webhook)
    );
    running.stop().await.unwrap();
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run(Flavour::GitHub, HostKind::Github).await;
        run(Flavour::GitLab, HostKind::Gitlab).await;
        run(Flavour::Gitea, HostKind::Gitea).await;
    });
}
