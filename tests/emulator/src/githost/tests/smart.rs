//! Smart HTTP: clone, push (chunked too) and token checks with the real `git` CLI.

use super::hooks::receiver;
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_clones_with_a_token_and_gets_401_without() {
    let f = fixture().await;
    let work = tempfile::tempdir().unwrap();
    let addr = f.host.addr;
    let token = f.alice.clone();
    let dir = work.path().to_owned();
    let (with, without, status) = tokio::task::spawn_blocking(move || {
        let url = format!("http://x-access-token:{token}@{addr}/acme/config.git");
        let with = run_git(&["clone", "--quiet", &url, "with"], &dir);
        let anon = format!("http://{addr}/acme/config.git");
        let without = run_git(&["clone", "--quiet", &anon, "without"], &dir);
        let info = client::request(
            "GET",
            &format!("{anon}/info/refs?service=git-upload-pack"),
            &[],
            b"",
            Duration::from_secs(5),
        )
        .unwrap();
        (with, without, info)
    })
    .await
    .unwrap();
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let text = std::fs::read_to_string(work.path().join("with/apis/petstore.yaml")).unwrap();
    assert_eq!(text, "name: petstore\nport: 8080\n");
    assert!(!without.status.success());
    assert_eq!(status.status, 401);
    assert!(
        status
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert!(f.host.calls(Flavour::GitHub).is_empty());
    assert!(!f.host.git_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_push_moves_the_branch_and_read_only_tokens_cannot_push() {
    let f = fixture().await;
    let reader = f.host.add_token("carol", true);
    let work = tempfile::tempdir().unwrap();
    let (addr, token, dir) = (f.host.addr, f.alice.clone(), work.path().to_owned());
    let (pushed, refused) = tokio::task::spawn_blocking(move || {
        let url = format!("http://x:{token}@{addr}/acme/config.git");
        assert!(
            run_git(&["clone", "--quiet", &url, "w"], &dir)
                .status
                .success()
        );
        let w = dir.join("w");
        std::fs::write(w.join("new.yaml"), "a: 1\n").unwrap();
        run_git(&["add", "."], &w);
        let c = run_git(
            &[
                "-c",
                "user.name=A",
                "-c",
                "user.email=a@x",
                "commit",
                "-qm",
                "add",
            ],
            &w,
        );
        assert!(c.status.success());
        let pushed = run_git(
            &["push", "--quiet", "origin", "HEAD:refs/heads/feature"],
            &w,
        );
        let ro = format!("http://x:{reader}@{addr}/acme/config.git");
        let refused = run_git(&["push", "--quiet", &ro, "HEAD:refs/heads/other"], &w);
        (pushed, refused)
    })
    .await
    .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert!(!refused.status.success());
    let branches = f.host.branches(REPO);
    assert!(branches.contains_key("feature"));
    assert!(!branches.contains_key("other"));
    assert_eq!(
        f.host.file_at(REPO, "feature", "new.yaml").as_deref(),
        Some("a: 1\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_push_lands_and_sends_push_and_synchronize() {
    let f = fixture().await;
    let (url, got) = receiver().await;
    f.host.set_webhook(Flavour::GitHub, &url, "s");
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::GitHub,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let (addr, token, dir) = (f.host.addr, f.bob.clone(), work.path().to_owned());
    let pushed = tokio::task::spawn_blocking(move || {
        let url = format!("http://x:{token}@{addr}/acme/config.git");
        assert!(
            run_git(&["clone", "--quiet", "-b", "tollgate/1-a", &url, "w"], &dir)
                .status
                .success()
        );
        let w = dir.join("w");
        // Incompressible data above a tiny postBuffer: git sends the pack chunked.
        let mut noise = Vec::new();
        let mut x: u32 = 1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push((x & 0xff) as u8);
        }
        std::fs::write(w.join("big.bin"), noise).unwrap();
        run_git(&["add", "."], &w);
        assert!(
            run_git(
                &[
                    "-c",
                    "user.name=B",
                    "-c",
                    "user.email=b@x",
                    "commit",
                    "-qm",
                    "big"
                ],
                &w
            )
            .status
            .success()
        );
        run_git(
            &[
                "-c",
                "http.postBuffer=4096",
                "push",
                "--quiet",
                "origin",
                "HEAD",
            ],
            &w,
        )
    })
    .await
    .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let head = f.host.branches(REPO)["tollgate/1-a"].clone();
    assert_eq!(f.host.pulls(REPO)[0].head_sha, head);
    let host = &f.host;
    assert!(host.deliveries_settled(Duration::from_secs(5)).await);
    let actions: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            let v: Value = serde_json::from_slice(b).unwrap();
            format!(
                "{}:{}",
                h["x-github-event"].to_str().unwrap(),
                v["action"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        actions[actions.len() - 2..],
        ["push:".to_owned(), "pull_request:synchronize".to_owned()]
    );
}
