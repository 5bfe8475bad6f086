//! The emulator against the real `git` CLI and the hosts' documented answers.

use super::client::{self, Reply};
use super::git;
use super::{Fault, Flavour, GitHost};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REPO: &str = "acme/config";
const GL: &str = "acme%2Fconfig";

struct Fixture {
    _dir: tempfile::TempDir,
    host: GitHost,
    base: String,
    alice: String,
    bob: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let host = GitHost::start(dir.path()).await.unwrap();
    host.create_repo(
        REPO,
        &[
            ("apis/petstore.yaml", "name: petstore\nport: 8080\n"),
            ("README.md", "config\n"),
        ],
    )
    .unwrap();
    let alice = host.add_user("alice");
    let bob = host.add_user("bob");
    let base = host.branches(REPO)["main"].clone();
    Fixture {
        _dir: dir,
        host,
        base,
        alice,
        bob,
    }
}

fn auth(flavour: Flavour, token: &str) -> (String, String) {
    match flavour {
        Flavour::GitHub => ("Authorization".into(), format!("Bearer {token}")),
        Flavour::GitLab => ("PRIVATE-TOKEN".into(), token.into()),
        Flavour::Gitea => ("Authorization".into(), format!("token {token}")),
    }
}

impl Fixture {
    async fn call(
        &self,
        flavour: Flavour,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.host.api_url(flavour));
        let mut headers = vec![auth(flavour, token)];
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        if !body.is_empty() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let method = method.to_owned();
        tokio::task::spawn_blocking(move || {
            client::request(
                &method,
                &url,
                &headers,
                body.as_bytes(),
                Duration::from_secs(10),
            )
        })
        .await
        .unwrap()
        .unwrap()
    }

    /// Publishes a branch with one changed file through GitHub's Git database API.
    async fn github_branch(&self, branch: &str, content: &str) -> String {
        let tree = self
            .call(Flavour::GitHub, &self.alice, "POST", "/repos/acme/config/git/trees", Some(json!({
                "base_tree": self.base,
                "tree": [{"path": "apis/petstore.yaml", "mode": "100644", "type": "blob", "content": content}]
            })))
            .await;
        assert_eq!(tree.status, 201, "{:?}", tree.json());
        let commit = self
            .call(
                Flavour::GitHub,
                &self.alice,
                "POST",
                "/repos/acme/config/git/commits",
                Some(json!({
                    "message": "Change petstore", "tree": tree.json()["sha"], "parents": [self.base]
                })),
            )
            .await;
        assert_eq!(commit.status, 201);
        let sha = commit.json()["sha"].as_str().unwrap().to_owned();
        let r = self
            .call(
                Flavour::GitHub,
                &self.alice,
                "POST",
                "/repos/acme/config/git/refs",
                Some(json!({"ref": format!("refs/heads/{branch}"), "sha": sha})),
            )
            .await;
        assert_eq!(r.status, 201);
        sha
    }
}

fn run_git(args: &[&str], cwd: &Path) -> std::process::Output {
    git::command().args(args).current_dir(cwd).output().unwrap()
}

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
async fn github_tree_commit_ref_makes_a_branch_with_the_files() {
    let f = fixture().await;
    let tree = f
        .call(Flavour::GitHub, &f.alice, "POST", "/repos/acme/config/git/trees", Some(json!({
            "base_tree": f.base,
            "tree": [
                {"path": "apis/new.yaml", "mode": "100644", "type": "blob", "content": "name: new\n"},
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": null}
            ]
        })))
        .await;
    assert_eq!(tree.status, 201);
    let commit = f
        .call(Flavour::GitHub, &f.alice, "POST", "/repos/acme/config/git/commits", Some(json!({
            "message": "Add new\n\nCo-authored-by: Bob <bob@example.com>", "tree": tree.json()["sha"], "parents": [f.base]
        })))
        .await;
    assert_eq!(commit.status, 201);
    let c = commit.json();
    assert_eq!(c["parents"][0]["sha"], json!(f.base));
    assert_eq!(c["author"]["name"], "alice");
    let sha = c["sha"].as_str().unwrap().to_owned();
    let made = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/tollgate/1-new", "sha": sha})),
        )
        .await;
    assert_eq!(made.status, 201);
    assert_eq!(made.json()["object"]["sha"], json!(sha));
    let again = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/tollgate/1-new", "sha": sha})),
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["message"], "Reference already exists");
    let head = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/git/ref/heads/tollgate/1-new",
            None,
        )
        .await;
    assert_eq!(head.json()["object"]["sha"], json!(sha));
    // The real repository holds it: `git show` sees the files.
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-new", "apis/new.yaml")
            .as_deref(),
        Some("name: new\n")
    );
    assert_eq!(f.host.file_at(REPO, "tollgate/1-new", "README.md"), None);
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-new", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 8080\n")
    );
    // A non-fast-forward update needs force.
    let other = f
        .github_branch("tollgate/2-other", "name: petstore\nport: 1\n")
        .await;
    let patch = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PATCH",
            "/repos/acme/config/git/refs/heads/tollgate/1-new",
            Some(json!({"sha": other})),
        )
        .await;
    assert_eq!(patch.status, 422);
    assert_eq!(patch.json()["message"], "Update is not a fast forward");
    let forced = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PATCH",
            "/repos/acme/config/git/refs/heads/tollgate/1-new",
            Some(json!({"sha": other, "force": true})),
        )
        .await;
    assert_eq!(forced.status, 200);
    // A read-only token cannot write.
    let ro = f.host.add_token("carol", true);
    let denied = f
        .call(
            Flavour::GitHub,
            &ro,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/x", "sha": sha})),
        )
        .await;
    assert_eq!(denied.status, 403);
    let bad = f
        .call(Flavour::GitHub, "nope", "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["message"], "Bad credentials");
    let repo = f
        .call(Flavour::GitHub, &f.alice, "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(repo.json()["permissions"]["push"], true);
}

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
        "content": super::api::b64(b"name: petstore\nport: 1\n"), "sha": sha}])
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pull_for_the_same_branch_is_refused_by_each_flavour() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let gh = json!({"title": "T", "head": "tollgate/1-a", "base": "main", "body": "B"});
    let first = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(gh.clone()),
        )
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["number"], 1);
    assert_eq!(first.json()["mergeable"], Value::Null);
    let second = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(gh),
        )
        .await;
    assert_eq!(second.status, 422);
    assert_eq!(
        second.json()["errors"][0]["message"],
        "A pull request already exists for acme:tollgate/1-a."
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "POST",
            &format!("/projects/{GL}/merge_requests"),
            Some(json!({"source_branch": "tollgate/1-a", "target_branch": "main", "title": "T"})),
        )
        .await;
    assert_eq!(gl.status, 409);
    assert_eq!(
        gl.json()["message"][0],
        "Another open merge request already exists for this source branch: !1"
    );
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(json!({"head": "tollgate/1-a", "base": "main", "title": "T"})),
        )
        .await;
    assert_eq!(gt.status, 409);
    assert!(
        gt.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("pull request already exists for these targets")
    );
    // Found by head branch in each dialect.
    let listed = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls?head=acme:tollgate/1-a&state=all",
            None,
        )
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    let found = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/main/tollgate/1-a",
            None,
        )
        .await;
    assert_eq!(found.json()["number"], 1);
    let mrs = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests?source_branch=tollgate/1-a&state=all"),
            None,
        )
        .await;
    assert_eq!(mrs.json()[0]["iid"], 1);
    assert_eq!(f.host.open_pulls(REPO).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_cannot_approve_their_own_pull() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
        )
        .await;
    assert_eq!(pr.status, 201);
    let gh = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVE"})),
        )
        .await;
    assert_eq!(gh.status, 422);
    assert_eq!(
        gh.json()["errors"][0],
        "Can not approve your own pull request"
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "POST",
            &format!("/projects/{GL}/merge_requests/1/approve"),
            None,
        )
        .await;
    assert_eq!(gl.status, 401);
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVED"})),
        )
        .await;
    assert_eq!(gt.status, 422);
    assert_eq!(gt.json()["message"], "approve your own pull is not allowed");
    let ok = f
        .call(
            Flavour::GitHub,
            &f.bob,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVE"})),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["state"], "APPROVED");
    let approvals = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1/approvals"),
            None,
        )
        .await;
    assert_eq!(
        approvals.json()["approved_by"][0]["user"]["username"],
        "bob"
    );
    let reviews = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1/reviews",
            None,
        )
        .await;
    assert_eq!(reviews.json().as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_check_the_head_sha_and_the_required_approvals() {
    let f = fixture().await;
    f.host.set_required_approvals(REPO, 1).unwrap();
    let head = f
        .github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::GitHub,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await
        .json();
    assert_eq!(
        (pr["mergeable"].clone(), pr["mergeable_state"].clone()),
        (json!(true), json!("blocked"))
    );
    let blocked = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head})),
        )
        .await;
    assert_eq!(blocked.status, 405);
    assert_eq!(
        blocked.json()["message"],
        "At least 1 approving review is required by reviewers with write access."
    );
    f.call(
        Flavour::GitHub,
        &f.bob,
        "POST",
        "/repos/acme/config/pulls/1/reviews",
        Some(json!({"event": "APPROVE"})),
    )
    .await;
    let stale = "0123456789abcdef0123456789abcdef01234567";
    let gh = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": stale})),
        )
        .await;
    assert_eq!(gh.status, 409);
    assert_eq!(
        gh.json()["message"],
        "Head branch was modified. Review and try the merge again."
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/1/merge"),
            Some(json!({"sha": stale})),
        )
        .await;
    assert_eq!(gl.status, 409);
    assert_eq!(
        gl.json()["message"],
        format!("SHA does not match HEAD of source branch: {head}")
    );
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"Do": "merge", "head_commit_id": stale})),
        )
        .await;
    assert_eq!(gt.status, 409);
    let merged = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head, "merge_method": "merge"})),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
    let sha = merged.json()["sha"].as_str().unwrap().to_owned();
    assert_eq!(f.host.branches(REPO)["main"], sha);
    let log = f.host.commits(REPO, "main");
    assert_eq!(log[0].parents, vec![f.base.clone(), head.clone()]);
    assert_eq!(
        f.host
            .file_at(REPO, "main", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 1\n")
    );
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            pr["state"].clone(),
            pr["merged"].clone(),
            pr["merge_commit_sha"].clone()
        ),
        (json!("closed"), json!(true), json!(sha))
    );
    let mr = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1"),
            None,
        )
        .await
        .json();
    assert_eq!(mr["state"], "merged");
    let again = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head})),
        )
        .await;
    assert_eq!(again.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_pulls_are_not_mergeable_and_squash_merges_one_commit() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let b = f
        .github_branch("tollgate/2-b", "name: petstore\nport: 2\n")
        .await;
    for (n, head) in [(1, "tollgate/1-a"), (2, "tollgate/2-b")] {
        let r = f
            .call(
                Flavour::GitHub,
                &f.alice,
                "POST",
                "/repos/acme/config/pulls",
                Some(json!({"title": format!("T{n}"), "head": head, "base": "main"})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"Do": "squash"})),
        )
        .await;
    assert_eq!(gt.status, 200);
    let main = f.host.commits(REPO, "main");
    assert_eq!(main[0].parents, vec![f.base.clone()]);
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/2",
            None,
        )
        .await
        .json();
    assert_eq!(
        (pr["mergeable"].clone(), pr["mergeable_state"].clone()),
        (json!(false), json!("dirty"))
    );
    let mr = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/2"),
            None,
        )
        .await
        .json();
    assert_eq!(mr["detailed_merge_status"], "conflict");
    let refused = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/2/merge",
            Some(json!({"sha": b})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json()["message"].clone()),
        (405, json!("Pull Request is not mergeable"))
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/2/merge"),
            Some(json!({"sha": b})),
        )
        .await;
    assert_eq!(gl.status, 422);
}

/// What a receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A webhook receiver that keeps what it gets.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = Arc::clone(&got);
    let app = axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let keep = Arc::clone(&keep);
            async move {
                keep.lock().unwrap().push((headers, body.to_vec()));
                "ok"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_the_way_each_host_signs_them() {
    let f = fixture().await;
    let (url, got) = receiver().await;
    f.host.set_webhook(Flavour::GitHub, &url, "gh-secret");
    f.host.set_webhook(Flavour::GitLab, &url, "gl-secret");
    f.host.set_webhook(Flavour::Gitea, &url, "gt-secret");
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
    let host = &f.host;
    assert!(tokio::task::block_in_place(
        || host.wait_deliveries(Duration::from_secs(5))
    ));
    let got = got.lock().unwrap().clone();
    let header =
        |h: &axum::http::HeaderMap, n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
    let mut ids = std::collections::BTreeSet::new();
    let mut seen = Vec::new();
    for (h, body) in &got {
        let payload: Value = serde_json::from_slice(body).unwrap();
        if let Some(event) = header(h, "x-gitea-event") {
            assert_eq!(
                header(h, "x-gitea-signature").unwrap(),
                hmac_hex("gt-secret", body)
            );
            assert!(ids.insert(header(h, "x-gitea-delivery").unwrap()));
            seen.push(format!("gitea:{event}"));
        } else if let Some(event) = header(h, "x-gitlab-event") {
            assert_eq!(header(h, "x-gitlab-token").unwrap(), "gl-secret");
            assert!(ids.insert(header(h, "x-gitlab-event-uuid").unwrap()));
            seen.push(format!(
                "gitlab:{event}:{}",
                payload["object_kind"].as_str().unwrap()
            ));
        } else {
            let event = header(h, "x-github-event").unwrap();
            let sig = header(h, "x-hub-signature-256").unwrap();
            assert_eq!(sig, format!("sha256={}", hmac_hex("gh-secret", body)));
            assert!(ids.insert(header(h, "x-github-delivery").unwrap()));
            if event == "pull_request" {
                assert_eq!(payload["action"], "opened");
                assert_eq!(payload["pull_request"]["head"]["ref"], "tollgate/1-a");
            }
            seen.push(format!("github:{event}"));
        }
    }
    for want in [
        "github:ping",
        "github:push",
        "github:pull_request",
        "gitlab:Push Hook:push",
        "gitlab:Merge Request Hook:merge_request",
        "gitea:push",
        "gitea:pull_request",
    ] {
        assert!(seen.contains(&want.to_owned()), "{want} not in {seen:?}");
    }
    // In order: the push before the pull request.
    let gh: Vec<&String> = seen.iter().filter(|s| s.starts_with("github:")).collect();
    assert_eq!(gh, ["github:ping", "github:push", "github:pull_request"]);
}

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
    assert!(tokio::task::block_in_place(
        || host.wait_deliveries(Duration::from_secs(5))
    ));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_close_and_rebase_merge() {
    let f = fixture().await;
    let head = f
        .github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::Gitea,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let s = f
        .call(
            Flavour::GitHub,
            &f.bob,
            "POST",
            &format!("/repos/acme/config/statuses/{head}"),
            Some(json!({"state": "failure", "context": "ci/lint", "target_url": "http://ci/1"})),
        )
        .await;
    assert_eq!(s.status, 201);
    let gl = f
        .call(
            Flavour::GitLab,
            &f.bob,
            "POST",
            &format!("/projects/{GL}/statuses/{head}"),
            Some(json!({"state": "success", "name": "ci/lint"})),
        )
        .await;
    assert_eq!(gl.status, 201);
    let combined = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            &format!("/repos/acme/config/commits/{head}/status"),
            None,
        )
        .await
        .json();
    assert_eq!(
        (combined["state"].clone(), combined["total_count"].clone()),
        (json!("success"), json!(1))
    );
    let runs = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            &format!("/repos/acme/config/commits/{head}/check-runs"),
            None,
        )
        .await
        .json();
    assert_eq!(runs["total_count"], 0);
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/commits/tollgate%2F1-a/status",
            None,
        )
        .await
        .json();
    assert_eq!(gt["statuses"][0]["status"], "success");
    let listed = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/repository/commits/{head}/statuses"),
            None,
        )
        .await
        .json();
    assert_eq!(listed[0]["status"], "success");
    // Close and reopen, comment, then a rebase merge keeps the author and moves main linearly.
    let closed = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "PATCH",
            "/repos/acme/config/pulls/1",
            Some(json!({"state": "closed"})),
        )
        .await;
    assert_eq!(
        (closed.status, closed.json()["state"].clone()),
        (201, json!("closed"))
    );
    let reopened = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/1"),
            Some(json!({"state_event": "reopen"})),
        )
        .await;
    assert_eq!(reopened.json()["state"], "opened");
    let note = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/issues/1/comments",
            Some(json!({"body": "hello"})),
        )
        .await;
    assert_eq!(note.status, 201);
    let notes = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1/notes"),
            None,
        )
        .await
        .json();
    assert_eq!(notes[0]["body"], "hello");
    f.host
        .push_files(
            REPO,
            "main",
            &[("other.yaml", Some("o: 1\n"))],
            "Other change",
            "carol",
        )
        .unwrap();
    let merged = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head, "merge_method": "rebase"})),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
    let log = f.host.commits(REPO, "main");
    assert_eq!(log[0].author_name, "alice");
    assert_eq!(log[0].parents.len(), 1);
    assert_eq!(log[1].message, "Other change\n");
    assert_eq!(
        f.host.file_at(REPO, "main", "other.yaml").as_deref(),
        Some("o: 1\n")
    );
    assert_eq!(
        f.host
            .file_at(REPO, "main", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 1\n")
    );
}

/// An RS256 JWT for `claims`, signed with a PKCS#1 DER private key.
fn jwt(key_der: &[u8], claims: Value) -> String {
    use base64::Engine;
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let signing = format!(
        "{}.{}",
        enc(&json!({"alg": "RS256", "typ": "JWT"})),
        enc(&claims)
    );
    let pair = ring::signature::RsaKeyPair::from_der(key_der).unwrap();
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!(
        "{signing}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
    )
}

fn rsa_key(dir: &Path, name: &str) -> Option<(String, Vec<u8>)> {
    let pem = dir.join(format!("{name}.pem"));
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&pem)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !made.success() {
        return None;
    }
    let text = std::fs::read_to_string(&pem).ok()?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    Some((text, der))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_app_jwts_buy_installation_tokens() {
    let f = fixture().await;
    let keys = tempfile::tempdir().unwrap();
    let Some((pem, der)) = rsa_key(keys.path(), "app") else {
        eprintln!("openssl not available: skipped");
        return;
    };
    let Some((_, other)) = rsa_key(keys.path(), "other") else {
        return;
    };
    f.host
        .register_github_app(42, 7, "tollgate", &pem, 3600)
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exchange = |token: String| {
        let f = &f;
        async move {
            f.call(
                Flavour::GitHub,
                &token,
                "POST",
                "/app/installations/7/access_tokens",
                None,
            )
            .await
        }
    };
    let good = exchange(jwt(
        &der,
        json!({"iss": "42", "iat": now - 60, "exp": now + 540}),
    ))
    .await;
    assert_eq!(good.status, 201, "{:?}", good.json());
    let token = good.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    let me = f.call(Flavour::GitHub, &token, "GET", "/user", None).await;
    assert_eq!(me.json()["login"], "tollgate[bot]");
    let far = exchange(jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 3600}))).await;
    assert_eq!(far.status, 401);
    assert_eq!(
        far.json()["message"],
        "'Expiration time' claim ('exp') is too far in the future"
    );
    let forged = exchange(jwt(
        &other,
        json!({"iss": 42, "iat": now, "exp": now + 300}),
    ))
    .await;
    assert_eq!(forged.status, 401);
    let wrong = f
        .call(
            Flavour::GitHub,
            &jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 300})),
            "POST",
            "/app/installations/8/access_tokens",
            None,
        )
        .await;
    assert_eq!(wrong.status, 404);
    // An expired installation token is refused like any bad token.
    f.host
        .register_github_app(42, 7, "tollgate", &pem, 0)
        .unwrap();
    let short = exchange(jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 300})))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired = f
        .call(Flavour::GitHub, &short, "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(expired.status, 401);
}
