//! Benchmark of the status read model: 10,000 APIs in Git × 3 emulated clusters, 100 of them
//! drifted in one cluster. The emulated clusters run in a child process (this binary, started
//! again), so the resident memory measured is Tollgate's own.
//!
//!     cargo bench -p tollgate --bench status
//!
//! Reports: time to converge, a full recompute, watch event → published board (the engine's
//! own measurement over 200 events), cluster edit → visible (end to end, over the watch), the
//! process RSS, `/api/v1/status` and the SSR board under concurrent clients, and a cluster edit
//! → announced to 1,000 connected SSE clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{rss_mb, stats};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::config::{ClusterConfig, EnvironmentConfig};
use tollgate::repo::commit_files;
use tollgate_emulator::{Emulator, Store};

const APIS: usize = 10_000;
const CLUSTERS: usize = 3;
const SSE_CLIENTS: usize = 1_000;

fn api(i: usize, target: &str) -> serde_json::Value {
    json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": format!("api-{i}"), "namespace": format!("team-{}", i % 20)},
        "spec": {"name": format!("Service {i}"), "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": format!("/svc-{i}/"), "target_url": target, "strip_listen_path": true}}})
}

/// The child process: three emulated clusters, 10,000 APIs each, kubeconfigs written to `dir`;
/// runs until its stdin closes.
fn serve_clusters(dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut emulators = Vec::new();
        for c in 0..CLUSTERS {
            let store = Arc::new(Store::new());
            store.register_builtin_crds();
            let t = store
                .type_for("tyk.tyk.io", "v1alpha1", "apidefinitions")
                .unwrap();
            for i in 0..APIS {
                let target = if c == 2 && i % 100 == 0 {
                    "http://hotfix:8080".to_owned()
                } else {
                    format!("http://svc-{i}:8080")
                };
                store
                    .create(
                        &t,
                        &format!("team-{}", i % 20),
                        api(i, &target),
                        "argocd-controller",
                        "Apply",
                    )
                    .unwrap();
            }
            let emulator = Emulator::serve("127.0.0.1:0".parse().unwrap(), store)
                .await
                .unwrap();
            std::fs::write(
                dir.join(format!("c{c}.kubeconfig")),
                emulator.kubeconfig(&format!("c{c}")),
            )
            .unwrap();
            emulators.push(emulator);
        }
        println!("ready");
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {}
        })
        .await
        .unwrap();
        drop(emulators);
    });
}

async fn kube_apis(kubeconfig: &Path) -> Api<DynamicObject> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&text).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    Api::all_with(
        client,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
            "apidefinitions",
        ),
    )
}

async fn edit(apis: &Api<DynamicObject>, i: usize, target: &str) {
    let ns = format!("team-{}", i % 20);
    let api = Api::<DynamicObject>::namespaced_with(
        apis.clone().into_client(),
        &ns,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
            "apidefinitions",
        ),
    );
    api.patch(
        &format!("api-{i}"),
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"spec": {"proxy": {"target_url": target}}})),
    )
    .await
    .unwrap();
}

fn main() {
    if let Ok(dir) = std::env::var("TOLLGATE_BENCH_CLUSTERS_DIR") {
        serve_clusters(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("TOLLGATE_BENCH_CLUSTERS_DIR", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the emulated clusters did not start");

    let repo_path = dir.path().join("status.git");
    let repo = gix::init_bare(&repo_path).unwrap();
    std::fs::write(repo_path.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..APIS)
        .map(|i| {
            (
                format!("apis/team-{}/api-{i}.yaml", i % 20),
                serde_json::to_string_pretty(&api(i, &format!("http://svc-{i}:8080")))
                    .unwrap()
                    .into_bytes(),
            )
        })
        .collect();
    commit_files(&repo, "main", None, &files, "generated").unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()
        .unwrap();
    rt.block_on(async {
        let clusters = (0..CLUSTERS)
            .map(|c| ClusterConfig {
                name: format!("cluster-{c}"),
                kubeconfig: dir.path().join(format!("c{c}.kubeconfig")),
                context: None,
                environment: "main".into(),
                agent: Default::default(),
            })
            .collect();
        let data = tempfile::tempdir().unwrap();
        let mut config = tollgate::config::Config::demo(data.path().to_owned());
        config.server.bind = "127.0.0.1:0".parse().unwrap();
        config.repo.path = repo_path.clone();
        config.database.url = format!("sqlite://{}", data.path().join("bench.db").display());
        config.environments.insert(
            "main".into(),
            EnvironmentConfig {
                path: String::new(),
                branch: "main".into(),
            },
        );
        config.clusters = clusters;
        let running = tollgate::serve::start(config).await.unwrap();
        let app = Arc::clone(&running.app);
        let started = Instant::now();
        let drifted = tollgate::sync::SyncState::ALL
            .iter()
            .position(|s| *s == tollgate::sync::SyncState::Drifted)
            .unwrap();
        loop {
            let b = app.status.current();
            let cells: usize = b.rows.iter().map(|row| row.cells.len()).sum();
            if b.clusters.iter().all(|c| c.reachable)
                && cells == APIS * CLUSTERS
                && b.counts[drifted] == APIS / 100
            {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "status never converged");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "converged: {APIS} APIs x {CLUSTERS} clusters in {:.1?} after start",
            started.elapsed()
        );

        let mut full = Vec::new();
        for _ in 0..5 {
            full.push(app.status.rebuild().await.unwrap());
        }
        println!("full recompute ({APIS} APIs x {CLUSTERS} clusters): {}", stats(full));

        // Cluster edits through the real kube client, one at a time: the engine's own
        // measurement (watch delivery → published board) and the end-to-end time.
        let apis = kube_apis(&dir.path().join("c0.kubeconfig")).await;
        let mut end_to_end = Vec::new();
        let before = app.status.event_latencies().len();
        for k in 0..200 {
            let i = 1 + k * 37 % APIS;
            let version = app.status.current().version;
            let t0 = Instant::now();
            edit(&apis, i, &format!("http://event-{k}")).await;
            let name = format!("api-{i}");
            loop {
                let b = app.status.current();
                if b.version > version
                    && b.rows.iter().any(|row| {
                        row.name == name
                            && row.cells.iter().any(|c| c.cluster == "cluster-0" && c.state == "drifted")
                    })
                {
                    break;
                }
                assert!(t0.elapsed() < Duration::from_secs(10));
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            end_to_end.push(t0.elapsed());
        }
        let engine: Vec<Duration> = app.status.event_latencies().split_off(before);
        println!("watch event -> published board (engine): {}", stats(engine));
        println!("cluster edit (kube client patch) -> visible in the board: {}", stats(end_to_end));
        println!(
            "process RSS, Tollgate alone with {CLUSTERS} clusters x {APIS} watched objects: {} MB",
            rss_mb()
        );

        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::new();
        for (label, path) in [
            ("GET /api/v1/status (first page)", "/api/v1/status"),
            ("GET /api/v1/status?state=drifted", "/api/v1/status?state=drifted"),
            ("GET /api/v1/status?namespace=team-3&page=3", "/api/v1/status?namespace=team-3&page=3"),
            ("GET /status (SSR board, first page)", "/status"),
            ("GET /status?state=drifted (SSR)", "/status?state=drifted"),
        ] {
            let (samples, _) = support::load(&client, &[format!("{base}{path}")], 8, 50).await;
            println!("{label}, 8 concurrent clients: {}", stats(samples));
        }

        // 1,000 open event streams; a cluster edit must reach every one of them.
        // Each client does what an open board does: on an event, fetch the report again.
        let (seen_tx, mut seen_rx) =
            tokio::sync::mpsc::unbounded_channel::<(usize, u64, Instant, Instant)>();
        let (connected_tx, mut connected_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        for n in 0..SSE_CLIENTS {
            let (client, url) = (client.clone(), format!("{base}/api/v1/status/events"));
            let report_url = format!("{base}/api/v1/status");
            let (seen_tx, connected_tx) = (seen_tx.clone(), connected_tx.clone());
            tokio::spawn(async move {
                let Ok(mut response) = client.get(&url).send().await else {
                    return;
                };
                let mut buffer = String::new();
                let mut first = true;
                while let Ok(Some(chunk)) = response.chunk().await {
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let event: String = buffer.drain(..end + 2).collect();
                        let Some(v) = event
                            .lines()
                            .find_map(|l| l.strip_prefix("data:"))
                            .and_then(|d| d.trim().parse::<u64>().ok())
                        else {
                            continue;
                        };
                        if first {
                            first = false;
                            let _ = connected_tx.send(());
                        } else {
                            let heard = Instant::now();
                            // Errors only happen when the server stops at the end.
                            let Ok(response) = client.get(&report_url).send().await else {
                                return;
                            };
                            let Ok(report) = response.json::<serde_json::Value>().await else {
                                return;
                            };
                            assert!(report["version"].as_u64().unwrap_or(0) >= v);
                            let _ = seen_tx.send((n, v, heard, Instant::now()));
                        }
                    }
                }
            });
        }
        for _ in 0..SSE_CLIENTS {
            tokio::time::timeout(Duration::from_secs(60), connected_rx.recv())
                .await
                .expect("SSE clients connect")
                .unwrap();
        }
        let (mut delays, mut visible) = (Vec::new(), Vec::new());
        for k in 0..5 {
            let version = app.status.current().version;
            let t0 = Instant::now();
            edit(&apis, 5 + k * 101, &format!("http://sse-{k}")).await;
            let mut heard = vec![false; SSE_CLIENTS];
            let mut count = 0;
            while count < SSE_CLIENTS {
                let (n, v, at, shown) = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv())
                    .await
                    .expect("every client hears the change")
                    .unwrap();
                if v > version && !heard[n] {
                    heard[n] = true;
                    count += 1;
                    delays.push(at - t0);
                    visible.push(shown - t0);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            while seen_rx.try_recv().is_ok() {}
        }
        println!(
            "cluster edit -> SSE event received, {SSE_CLIENTS} clients connected (all clients, 5 edits): {}",
            stats(delays)
        );
        println!(
            "cluster edit -> report refetched by every client ({SSE_CLIENTS} clients, 5 edits): {}",
            stats(visible)
        );
        running.stop().await.unwrap();
    });
    drop(child.stdin.take());
    let _ = child.wait();
}
