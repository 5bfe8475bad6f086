//! Benchmarks for the change flow on a large repo: 10,000 files and 20,000 commits.
//!
//!     cargo bench -p tollgate --bench changes
//!
//! Measures propose (validate, patch, commit, open the local change request) and merge with a
//! clean re-apply onto a moved head, through the same service the REST API calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::stats;

use frontend::api::{CreateChangeRequest, EditRequest};
use serde_json::json;
use std::time::Instant;
use tollgate::repo::commit_files;

const FILES: usize = 10_000;
const COMMITS: usize = 20_000;

fn api_yaml(i: usize, target: &str) -> String {
    format!(
        "# API {i}\napiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: api-{i}\n  namespace: team-{}\nspec:\n  name: Service {i}\n  protocol: http\n  active: true\n  use_keyless: true\n  proxy:\n    listen_path: /svc-{i}/\n    target_url: {target}\n    strip_listen_path: true\n",
        i % 20
    )
}

fn path(i: usize) -> String {
    format!("apis/team-{}/api-{i}.yaml", i % 20)
}

fn patch(i: usize, target: &str) -> CreateChangeRequest {
    CreateChangeRequest {
        title: format!("Retarget api-{i}"),
        description: String::new(),
        edits: vec![EditRequest {
            kind: "ApiDefinition".into(),
            namespace: format!("team-{}", i % 20),
            name: format!("api-{i}"),
            document: None,
            merge_patch: Some(json!({"spec": {"proxy": {"target_url": target}}})),
            yaml: None,
            delete: false,
        }],
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repo_path = dir.path().join("big.git");
    let repo = gix::init_bare(&repo_path).unwrap();
    std::fs::write(repo_path.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let started = Instant::now();
    let files: Vec<(String, Vec<u8>)> = (0..FILES)
        .map(|i| {
            (
                path(i),
                api_yaml(i, &format!("http://svc-{i}:8080")).into_bytes(),
            )
        })
        .collect();
    let mut head = commit_files(&repo, "main", None, &files, "generated").unwrap();
    for c in 1..COMMITS {
        let i = (c * 7919) % FILES;
        let change = vec![(
            path(i),
            api_yaml(i, &format!("http://svc-{i}-r{c}:8080")).into_bytes(),
        )];
        head = commit_files(&repo, "main", Some(head), &change, "history").unwrap();
    }
    println!(
        "generated {FILES} files and {COMMITS} commits in {:.1?}",
        started.elapsed()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let data = tempfile::tempdir().unwrap();
        let mut config = tollgate::config::Config::demo(data.path().to_owned());
        config.repo.path = repo_path.clone();
        config.database.url = format!("sqlite://{}", data.path().join("bench.db").display());
        config.changes.approvals_required = 0;
        let app = tollgate::app::App::build(config).await.unwrap();
        let catalog = std::sync::Arc::clone(&app.catalog);
        tokio::task::spawn_blocking(move || catalog.refresh())
            .await
            .unwrap()
            .unwrap();

        // Propose: each a new change on a different API.
        let mut propose = Vec::new();
        let mut ids = Vec::new();
        for k in 0..40 {
            let i = (k * 131) % FILES;
            let t = Instant::now();
            let (_, created) = app
                .changes
                .create("alice", patch(i, &format!("http://new-{k}:8080")), None)
                .await
                .unwrap();
            propose.push(t.elapsed());
            ids.push(created.id);
        }
        println!(
            "propose (validate, patch, commit, open) on {FILES} files / {COMMITS} commits: {}",
            stats(propose)
        );

        // Merge with a clean re-apply: every merge after the first lands on a moved head.
        let mut merges = Vec::new();
        for (n, id) in ids.iter().enumerate() {
            let t = Instant::now();
            app.changes.merge(*id, "bob").await.unwrap();
            if n > 0 {
                merges.push(t.elapsed());
            }
        }
        println!(
            "merge with a clean re-apply onto a moved head: {}",
            stats(merges)
        );
    });
}
