//! The emulator against the real `git` CLI and the hosts' documented answers.

mod control;
mod github;
mod gitlab_gitea;
mod hooks;
mod pulls;
mod smart;

pub(super) use super::client::{self, Reply};
pub(super) use super::git;
pub(super) use super::{Fault, Flavour, GitHost};
pub(super) use serde_json::{Value, json};
pub(super) use std::path::Path;
pub(super) use std::sync::{Arc, Mutex};
pub(super) use std::time::Duration;

pub(super) const REPO: &str = "acme/config";
pub(super) const GL: &str = "acme%2Fconfig";

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub(super) host: GitHost,
    pub(super) base: String,
    pub(super) alice: String,
    pub(super) bob: String,
}

pub(super) async fn fixture() -> Fixture {
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
    pub(super) async fn call(
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
    pub(super) async fn github_branch(&self, branch: &str, content: &str) -> String {
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

pub(super) fn run_git(args: &[&str], cwd: &Path) -> std::process::Output {
    git::command().args(args).current_dir(cwd).output().unwrap()
}
