//! GitLab multi-action commits and Gitea ChangeFiles.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_commits_with_start_sha_then_refuses_an_existing_branch() {
    let f = fixture().await;
    let body = json!({
        "branch": "tollgate/1-x", "start_sha": f.base, "commit_message": "Change",
        "author_name": "Bob Builder", "author_email": "bob@example.com",
        "actions": [
            {"action": "update", "file_path": "apis/petstore.yaml", "content": "name: petstore\nport: 9090\n", "encoding": "text"},
            {"action": "create", "file_path": "apis/new.yaml", "content": "bmFtZTogbmV3Cg==", "encoding": "base64"},
            {"action": "delete", "file_path": "README.md"}
        ]
    });
    let path = format!("/projects/{GL}/repository/commits");
    let made = f
        .call(Flavour::GitLab, &f.alice, "POST", &path, Some(body.clone()))
        .await;
    assert_eq!(made.status, 201, "{:?}", made.json());
    let c = made.json();
    assert_eq!(c["parent_ids"], json!([f.base]));
    assert_eq!(c["author_name"], "Bob Builder");
    assert_eq!(c["committer_name"], "alice");
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-x", "apis/new.yaml")
            .as_deref(),
        Some("name: new\n")
    );
    assert_eq!(f.host.file_at(REPO, "tollgate/1-x", "README.md"), None);
    let again = f
        .call(Flavour::GitLab, &f.alice, "POST", &path, Some(body.clone()))
        .await;
    assert_eq!(again.status, 400);
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("A branch called 'tollgate/1-x' already exists.")
    );
    let mut forced = body.clone();
    forced["force"] = json!(true);
    let replaced = f
        .call(Flavour::GitLab, &f.alice, "POST", &path, Some(forced))
        .await;
    assert_eq!(replaced.status, 201);
    assert_eq!(replaced.json()["parent_ids"], json!([f.base]));
    let branch = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/repository/branches/tollgate%2F1-x"),
            None,
        )
        .await;
    assert_eq!(branch.json()["commit"]["id"], replaced.json()["id"]);
    let missing = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/repository/branches/nope"),
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.json()["message"].clone()),
        (404, json!("404 Branch Not Found"))
    );
    let create_again = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "POST",
            &path,
            Some(
                json!({"branch": "b2", "start_branch": "main", "commit_message": "m",
            "actions": [{"action": "create", "file_path": "README.md", "content": "x"}]}),
            ),
        )
        .await;
    assert_eq!(create_again.status, 400);
    assert_eq!(
        create_again.json()["message"],
        "A file with this name already exists"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_change_files_checks_each_sha() {
    let f = fixture().await;
    let blob = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/contents/apis/petstore.yaml?ref=main",
            None,
        )
        .await
        .json()["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    let files = |sha: &str| {
        json!([{"operation": "update", "path": "apis/petstore.yaml",
        "content": crate::githost::api::b64(b"name: petstore\nport: 1\n"), "sha": sha}])
    };
    let stale = f
        .call(Flavour::Gitea, &f.alice, "POST", "/repos/acme/config/contents", Some(json!({
            "branch": "main", "new_branch": "tollgate/1-g", "message": "m", "files": files("0123456789012345678901234567890123456789")})))
        .await;
    assert_eq!(stale.status, 422);
    assert!(
        stale.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("sha does not match")
    );
    assert!(!f.host.branches(REPO).contains_key("tollgate/1-g"));
    let ok = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/contents",
            Some(json!({
            "branch": "main", "new_branch": "tollgate/1-g", "message": "m", "files": files(&blob),
            "author": {"name": "Bob", "email": "bob@example.com"}})),
        )
        .await;
    assert_eq!(ok.status, 201, "{:?}", ok.json());
    assert_eq!(ok.json()["commit"]["parents"][0]["sha"], json!(f.base));
    assert_eq!(ok.json()["commit"]["author"]["name"], "Bob");
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-g", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 1\n")
    );
    let exists = f
        .call(Flavour::Gitea, &f.alice, "POST", "/repos/acme/config/contents", Some(json!({
            "branch": "main", "new_branch": "tollgate/1-g", "message": "m", "files": files(&blob)})))
        .await;
    assert_eq!(exists.status, 422);
    assert_eq!(
        exists.json()["message"],
        "branch already exists [name: tollgate/1-g]"
    );
}
