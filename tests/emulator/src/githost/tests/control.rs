//! Faults, host down, call counting and the control routes.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_after_the_write_still_creates_the_pull() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.host
        .inject_fault(Fault::status("POST", "/repos/acme/config/pulls", 502).after_write());
    let lost = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
        )
        .await;
    assert_eq!(lost.status, 502);
    assert_eq!(f.host.open_pulls(REPO).len(), 1);
    let listed = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls?head=acme:tollgate/1-a&state=all",
            None,
        )
        .await;
    assert_eq!(listed.json()[0]["number"], 1);
    // A fault before the write changes nothing.
    f.host.inject_fault(Fault::status("PATCH", "/pulls/1", 503));
    let r = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PATCH",
            "/repos/acme/config/pulls/1",
            Some(json!({"state": "closed"})),
        )
        .await;
    assert_eq!(r.status, 503);
    assert!(f.host.pulls(REPO)[0].open);
    f.host.inject_fault(Fault::rate_limited("/pulls/1", 7));
    let limited = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await;
    assert_eq!(
        (limited.status, limited.header("x-ratelimit-remaining")),
        (403, Some("0"))
    );
    f.host.set_down(true);
    let down = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}"),
            None,
        )
        .await;
    assert_eq!(down.status, 503);
    f.host.set_down(false);
    let calls = f.host.calls(Flavour::GitHub);
    assert!(
        calls
            .iter()
            .filter(|(m, p)| m == "POST" && p.ends_with("/pulls"))
            .count()
            == 1
    );
    assert_eq!(f.host.calls(Flavour::GitLab).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_routes_drive_the_host_over_http() {
    let f = fixture().await;
    let url = f.host.url();
    let post = |path: &str, body: Value| {
        let url = format!("{url}/_emulator{path}");
        async move {
            tokio::task::spawn_blocking(move || {
                client::request(
                    "POST",
                    &url,
                    &[("Content-Type".into(), "application/json".into())],
                    body.to_string().as_bytes(),
                    Duration::from_secs(5),
                )
            })
            .await
            .unwrap()
            .unwrap()
        }
    };
    let repo = post(
        "/repos",
        json!({"name": "team/other", "files": {"a.yaml": "a: 1\n"}, "required_approvals": 2}),
    )
    .await;
    assert_eq!(repo.status, 201);
    let user = post("/users", json!({"login": "dave", "token": "fixed-token"})).await;
    assert_eq!(user.json()["token"], "fixed-token");
    let commit = post("/commits", json!({"repo": "team/other", "branch": "feature", "files": {"b.yaml": "b: 2\n", "a.yaml": null}, "user": "dave"})).await;
    assert_eq!(commit.status, 201);
    let fault = post(
        "/faults",
        json!({"path_contains": "/api/v1/repos/team/other", "status": 500, "times": 1}),
    )
    .await;
    assert_eq!(fault.status, 201);
    let r = f
        .call(
            Flavour::Gitea,
            "fixed-token",
            "GET",
            "/repos/team/other",
            None,
        )
        .await;
    assert_eq!(r.status, 500);
    let r = f
        .call(
            Flavour::Gitea,
            "fixed-token",
            "GET",
            "/repos/team/other/branches/feature",
            None,
        )
        .await;
    assert_eq!(r.json()["commit"]["id"], commit.json()["sha"]);
    let state = tokio::task::spawn_blocking(move || {
        client::request(
            "GET",
            &format!("{url}/_emulator/repo?name=team/other"),
            &[],
            b"",
            Duration::from_secs(5),
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(state.json()["required_approvals"], 2);
    assert!(state.json()["branches"]["feature"].is_string());
}
