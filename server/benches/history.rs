//! History index benchmark on a generated repository: COMMITS first-parent commits (default
//! 50,000) touching RESOURCES APIs (default 10,000), written with `git fast-import`. Measures
//! building the index from scratch, the first history page of one resource (p95), indexing one
//! new commit, and `git log --follow -- <file>` for the same resource in the same run.
//!
//!     cargo bench -p tollgate --bench history
//!     HISTORY_COMMITS=5000 HISTORY_RESOURCES=1000 cargo bench -p tollgate --bench history

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;
use support::{env, stats};
use tollgate::db::Db;
use tollgate::history::{HistoryService, HostLinks};
use tollgate::hosts::HostKind;
use tollgate::repo::{ConfigRepo, IndexOptions};

fn api(i: usize, version: usize) -> String {
    format!(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: api-{i}\n  namespace: team-{}\nspec:\n  name: Service {i}\n  protocol: http\n  use_keyless: true\n  proxy:\n    listen_path: /svc-{i}/\n    target_url: http://svc-{i}-v{version}:8080\n",
        i % 20
    )
}

/// One commit adding every resource, then one commit per step changing one resource.
fn generate(dir: &std::path::Path, commits: usize, resources: usize) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "--bare", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut versions = vec![0usize; resources];
    let data = |out: &mut dyn std::io::Write, text: &str| {
        write!(out, "data {}\n{text}\n", text.len()).unwrap();
    };
    for c in 0..commits {
        let t = 1_700_000_000 + c as i64 * 60;
        writeln!(input, "commit refs/heads/main").unwrap();
        writeln!(input, "committer Bench <bench@example.com> {t} +0000").unwrap();
        data(&mut input, &format!("Commit {c}"));
        if c == 0 {
            for (i, v) in versions.iter().enumerate() {
                writeln!(input, "M 100644 inline apis/team-{}/api-{i}.yaml", i % 20).unwrap();
                data(&mut input, &api(i, *v));
            }
        } else {
            let i = (c * 7919) % resources;
            versions[i] += 1;
            writeln!(input, "M 100644 inline apis/team-{}/api-{i}.yaml", i % 20).unwrap();
            data(&mut input, &api(i, versions[i]));
        }
    }
    drop(input);
    assert!(child.wait().unwrap().success());
}

#[tokio::main]
async fn main() {
    let commits = env("HISTORY_COMMITS", 50_000);
    let resources = env("HISTORY_RESOURCES", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("repo.git");
    std::fs::create_dir_all(&repo_dir).unwrap();
    let started = Instant::now();
    generate(&repo_dir, commits, resources);
    println!(
        "generated {commits} commits touching {resources} resources in {:?}",
        started.elapsed()
    );

    let db = Db::connect(
        &format!("sqlite://{}", dir.path().join("h.db").display()),
        4,
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let repo = ConfigRepo::open(&repo_dir).unwrap();
    let links = HostLinks {
        kind: HostKind::Local,
        web: None,
        public_url: "http://127.0.0.1".into(),
    };
    let history = HistoryService::new(
        db.clone(),
        repo,
        "main".into(),
        IndexOptions::default(),
        links,
    );
    let started = Instant::now();
    let read = history.update().await.unwrap();
    println!(
        "index build from scratch: {read} commits in {:?}",
        started.elapsed()
    );

    // The resource changed most often: the first of the generated sequence.
    let target = 7919 % resources;
    let (ns, name) = (format!("team-{}", target % 20), format!("api-{target}"));
    let mut samples = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let page = history
            .page("ApiDefinition", &ns, &name, Some(1), None)
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert!(!page.items.is_empty());
    }
    println!(
        "first history page ({ns}/{name}): {}",
        stats(samples.clone())
    );

    let mut follow = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new("git")
            .args(["log", "--follow", "--format=%H", "main", "--"])
            .arg(format!("apis/{ns}/{name}.yaml"))
            .current_dir(&repo_dir)
            .output()
            .unwrap();
        follow.push(t.elapsed());
        assert!(out.status.success());
    }
    println!(
        "git log --follow for the same file: {}",
        stats(follow.clone())
    );
    samples.sort();
    follow.sort();
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "first page p95 {:?} vs git log --follow median {:?}: {:.0}x faster",
        p95,
        follow[follow.len() / 2],
        follow[follow.len() / 2].as_secs_f64() / p95.as_secs_f64().max(1e-9)
    );

    let mut one = Vec::new();
    for k in 0..20 {
        // A new commit on top, written with fast-import, then indexed.
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(&repo_dir)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let i = (k * 31) % resources;
        let text = api(i, 1_000_000 + k);
        write!(
            input,
            "commit refs/heads/main\ncommitter Bench <bench@example.com> 1800000000 +0000\ndata 3\nnew\nfrom refs/heads/main^0\nM 100644 inline apis/team-{}/api-{i}.yaml\ndata {}\n{text}\n",
            i % 20,
            text.len()
        )
        .unwrap();
        drop(input);
        assert!(child.wait().unwrap().success());
        let t = Instant::now();
        assert_eq!(history.update().await.unwrap(), 1);
        one.push(t.elapsed());
    }
    println!("indexing one new commit: {}", stats(one));
}
