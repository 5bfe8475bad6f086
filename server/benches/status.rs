//! Benchmark of the status read model: 10,000 APIs in Git × 3 emulated clusters (in-process
//! `tollgate-emulator` servers on loopback), 100 of them drifted in one cluster.
//!
//!     cargo bench -p tollgate --bench status

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::config::{ClusterConfig, EnvironmentConfig};
use tollgate::repo::commit_files;
use tollgate_emulator::{Emulator, PatchKind, Store};

const APIS: usize = 10_000;

fn api(i: usize, target: &str) -> serde_json::Value {
    json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": format!("api-{i}"), "namespace": format!("team-{}", i % 20)},
        "spec": {"name": format!("Service {i}"), "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": format!("/svc-{i}/"), "target_url": target, "strip_listen_path": true}}})
}

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "n={} min={:.2?} median={:.2?} p95={:.2?} max={:.2?}",
        samples.len(),
        samples[0],
        pick(0.5),
        pick(0.95),
        samples[samples.len() - 1]
    )
}

fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
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
        let mut emulators = Vec::new();
        let mut clusters = Vec::new();
        for c in 0..3 {
            let store = Arc::new(Store::new());
            store.register_builtin_crds();
            let t = store.type_for("tyk.tyk.io", "v1alpha1", "apidefinitions").unwrap();
            for i in 0..APIS {
                let target = if c == 2 && i % 100 == 0 { "http://hotfix:8080".to_owned() } else { format!("http://svc-{i}:8080") };
                store.create(&t, &format!("team-{}", i % 20), api(i, &target), "argocd-controller", "Apply").unwrap();
            }
            let emulator = Emulator::serve("127.0.0.1:0".parse().unwrap(), Arc::clone(&store)).await.unwrap();
            let kubeconfig = dir.path().join(format!("c{c}.kubeconfig"));
            std::fs::write(&kubeconfig, emulator.kubeconfig(&format!("c{c}"))).unwrap();
            clusters.push(ClusterConfig { name: format!("cluster-{c}"), kubeconfig, context: None, environment: "main".into(), agent: Default::default() });
            emulators.push((emulator, store));
        }
        let data = tempfile::tempdir().unwrap();
        let mut config = tollgate::config::Config::demo(data.path().to_owned());
        config.server.bind = "127.0.0.1:0".parse().unwrap();
        config.repo.path = repo_path.clone();
        config.database.url = format!("sqlite://{}", data.path().join("bench.db").display());
        config.environments.insert("main".into(), EnvironmentConfig { path: String::new(), branch: "main".into() });
        config.clusters = clusters;
        let running = tollgate::app::start(config).await.unwrap();
        let app = Arc::clone(&running.app);
        let started = Instant::now();
        loop {
            let r = app.status.current();
            let cells: usize = r.rows.iter().map(|row| row.cells.len()).sum();
            if r.clusters.iter().filter(|c| c.reachable).count() == 3 && cells == APIS * 3 && r.counts.iter().any(|c| c.state == "drifted" && c.count == APIS / 100) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "status never converged");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("converged: {} APIs x 3 clusters in {:.1?} after start", APIS, started.elapsed());

        let mut full = Vec::new();
        for _ in 0..5 {
            let s = Arc::clone(&app.status);
            let t = Instant::now();
            tokio::task::spawn_blocking(move || s.compute()).await.unwrap();
            full.push(t.elapsed());
        }
        println!("full recompute (10,000 APIs x 3 clusters): {}", stats(full));

        // One cluster event to an updated report (watch delivery + debounce + recompute).
        let (_, store) = &emulators[0];
        let t = store.type_for("tyk.tyk.io", "v1alpha1", "apidefinitions").unwrap();
        let mut event = Vec::new();
        for k in 0..10 {
            let i = 1 + k * 7;
            let ns = format!("team-{}", i % 20);
            let name = format!("api-{i}");
            let before = app.status.current().version;
            let t0 = Instant::now();
            store.patch(&t, &ns, &name, PatchKind::Merge, &json!({"spec": {"proxy": {"target_url": format!("http://event-{k}")}}}), "kubectl-edit", false).unwrap();
            loop {
                let r = app.status.current();
                if r.version > before && r.rows.iter().any(|row| row.name == name && row.cells.iter().any(|c| c.cluster == "cluster-0" && c.state == "drifted")) {
                    break;
                }
                assert!(t0.elapsed() < Duration::from_secs(10));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            event.push(t0.elapsed());
        }
        println!("cluster event -> updated status report: {}", stats(event));
        println!("process RSS with 3 clusters x 10,000 watched objects (emulators in the same process): {} MB", rss_mb());

        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::new();
        for (label, path) in [("GET /api/v1/status?state=drifted", "/api/v1/status?state=drifted"), ("GET /api/v1/status?namespace=team-3", "/api/v1/status?namespace=team-3"), ("GET /status?state=drifted (SSR)", "/status?state=drifted")] {
            let mut workers = Vec::new();
            for _ in 0..4 {
                let (client, url) = (client.clone(), format!("{base}{path}"));
                workers.push(tokio::spawn(async move {
                    let mut samples = Vec::new();
                    for _ in 0..50 {
                        let t = Instant::now();
                        let body = client.get(&url).send().await.unwrap().bytes().await.unwrap();
                        assert!(!body.is_empty());
                        samples.push(t.elapsed());
                    }
                    samples
                }));
            }
            let mut all = Vec::new();
            for w in workers {
                all.extend(w.await.unwrap());
            }
            println!("{label}, 4 concurrent clients: {}", stats(all));
        }
        running.stop().await.unwrap();
    });
}
