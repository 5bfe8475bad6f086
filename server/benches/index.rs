//! Benchmarks for the foundation: index a generated config repo of 10,000 APIs and 2,000
//! policies cold and after a one-file commit, then measure `GET /api/v1/resources` and the APIs
//! list page under concurrent load on loopback.
//!
//!     cargo bench -p tollgate --bench index
//!
//! Bounded: a fixed number of requests, to 127.0.0.1 only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::stats;

use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::repo::{ConfigRepo, IndexOptions, RepoIndex, commit_files};

const APIS: usize = 10_000;
const POLICIES: usize = 2_000;
const NAMESPACES: usize = 20;

fn api_yaml(i: usize, target: &str) -> String {
    let ns = i % NAMESPACES;
    let auth = match i % 3 {
        0 => "  use_keyless: true\n".to_owned(),
        1 => "  use_standard_auth: true\n  auth_configs:\n    authToken:\n      auth_header_name: Authorization\n".to_owned(),
        _ => format!("  enable_jwt: true\n  jwt_signing_method: rsa\n  jwt_source: https://idp.example/jwks\n  jwt_default_policies:\n    - team-{ns}/policy-{}\n", i % POLICIES),
    };
    format!(
        "# API {i}\napiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: api-{i}\n  namespace: team-{ns}\nspec:\n  name: Service {i}\n  protocol: http\n  active: true\n{auth}  proxy:\n    listen_path: /svc-{i}/\n    target_url: {target}\n    strip_listen_path: true\n  global_rate_limit: {{rate: 100, per: 60}}\n  tags: [team-{ns}, bench]\n"
    )
}

fn policy_yaml(j: usize) -> String {
    let ns = j % NAMESPACES;
    let mut rights = String::new();
    for k in 0..5 {
        let i = (j * 5 + k) % APIS;
        rights.push_str(&format!(
            "    - name: api-{i}\n      namespace: team-{}\n      versions: [Default]\n",
            i % NAMESPACES
        ));
    }
    format!(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: SecurityPolicy\nmetadata:\n  name: policy-{j}\n  namespace: team-{ns}\nspec:\n  name: Policy {j}\n  state: active\n  active: true\n  rate: 1000\n  per: 60\n  quota_max: -1\n  access_rights_array:\n{rights}"
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.git");
    let repo = gix::init_bare(&path).unwrap();
    std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let mut files: Vec<(String, Vec<u8>)> = (0..APIS)
        .map(|i| {
            (
                format!("apis/team-{}/api-{i}.yaml", i % NAMESPACES),
                api_yaml(i, &format!("http://svc-{i}:8080")).into_bytes(),
            )
        })
        .collect();
    files.extend((0..POLICIES).map(|j| {
        (
            format!("policies/team-{}/policy-{j}.yaml", j % NAMESPACES),
            policy_yaml(j).into_bytes(),
        )
    }));
    let started = Instant::now();
    let mut head = commit_files(&repo, "main", None, &files, "generated").unwrap();
    println!(
        "generated {} files in {:.1?}",
        files.len(),
        started.elapsed()
    );

    let config_repo = ConfigRepo::open(&path).unwrap();
    let options = IndexOptions::default();
    let mut cold = Vec::new();
    let mut index = None;
    for _ in 0..5 {
        let t = Instant::now();
        let built = RepoIndex::build(&config_repo, head, None, &options).unwrap();
        cold.push(t.elapsed());
        assert_eq!(built.resources().count(), APIS + POLICIES);
        assert!(built.problems().is_empty());
        index = Some(built);
    }
    println!(
        "index cold ({APIS} APIs + {POLICIES} policies): {}",
        stats(cold)
    );

    let mut index = index.unwrap();
    let mut incremental = Vec::new();
    for round in 0..30 {
        let i = round * 37 % APIS;
        let change = vec![(
            format!("apis/team-{}/api-{i}.yaml", i % NAMESPACES),
            api_yaml(i, &format!("http://changed-{round}:8080")).into_bytes(),
        )];
        head = commit_files(&repo, "main", Some(head), &change, "one change").unwrap();
        let t = Instant::now();
        let next = RepoIndex::build(&config_repo, head, Some(&index), &options).unwrap();
        incremental.push(t.elapsed());
        assert_eq!(next.stats().files_read, 1);
        index = next;
    }
    println!(
        "index incremental after a one-file commit: {}",
        stats(incremental)
    );

    // The whole refresh a new commit triggers: index plus the list views.
    let catalog = tollgate::catalog::Catalog::new(
        ConfigRepo::open(&path).unwrap(),
        "main".into(),
        options.clone(),
    );
    catalog.refresh().unwrap();
    let mut refresh = Vec::new();
    for round in 0..30 {
        let i = (round * 53 + 11) % APIS;
        let change = vec![(
            format!("apis/team-{}/api-{i}.yaml", i % NAMESPACES),
            api_yaml(i, &format!("http://refresh-{round}:8080")).into_bytes(),
        )];
        head = commit_files(&repo, "main", Some(head), &change, "one change").unwrap();
        let t = Instant::now();
        assert!(catalog.refresh().unwrap());
        refresh.push(t.elapsed());
    }
    println!(
        "catalog refresh (index + list views) after a one-file commit: {}",
        stats(refresh)
    );

    // The read model and HTTP under load.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let data = tempfile::tempdir().unwrap();
        let mut config = tollgate::config::Config::demo(data.path().to_owned());
        config.server.bind = "127.0.0.1:0".parse().unwrap();
        config.repo.path = path.clone();
        config.database.url = format!("sqlite://{}", data.path().join("bench.db").display());
        let running = tollgate::serve::start(config).await.unwrap();
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(Instant::now() < deadline, "not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let catalog = Arc::clone(&running.app.catalog);
        let mut inproc = Vec::new();
        for k in 0..200 {
            let q = frontend::api::ResourceQuery {
                kind: Some("ApiDefinition".into()),
                q: Some(format!("svc-{}", k * 7)),
                ..Default::default()
            };
            let t = Instant::now();
            let list = catalog.list(&q).unwrap();
            inproc.push(t.elapsed());
            assert!(list.total >= 1);
        }
        println!(
            "catalog list with a text filter over {APIS} APIs (in process): {}",
            stats(inproc)
        );

        for (label, paths) in [
            (
                "GET /api/v1/resources",
                vec![
                    "/api/v1/resources?kind=ApiDefinition",
                    "/api/v1/resources?kind=ApiDefinition&q=svc-42",
                    "/api/v1/resources?kind=ApiDefinition&namespace=team-3&offset=200",
                ],
            ),
            (
                "GET /apis (SSR page)",
                vec!["/apis", "/apis?q=svc-42", "/apis?namespace=team-3&page=5"],
            ),
        ] {
            let concurrency = 8;
            let urls: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
            let (samples, rate) = support::load(&client, &urls, concurrency, 250).await;
            println!(
                "{label} over {APIS} APIs, {concurrency} concurrent clients: {} ({rate:.0} req/s)",
                stats(samples)
            );
        }
        running.stop().await.unwrap();
    });
}
