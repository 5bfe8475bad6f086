//! Changes on a remote Git host, for each of GitHub, GitLab and Gitea, against the Git host
//! emulator (real bare repositories, the providers' REST shapes, git smart HTTP, signed
//! webhooks, faults): propose, retry, review in the host, merge through Tollgate, forged
//! webhooks, lost answers and a host that is down.

use crate::changes::{change, patch};
use crate::support::{TestApp, changed_lines, wait_for};
use serde_json::{Value, json};
use std::time::Duration;
use tollgate::hosts::HostKind;
use tollgate_emulator::githost::{Fault, Flavour, GitHost};

const REPO: &str = "acme/config";
const SECRET: &str = "webhook-secret-for-tests";

/// An emulated host holding the demo repo, and Tollgate following it.
struct Setup {
    host: GitHost,
    app: TestApp,
    flavour: Flavour,
    /// A second user's token on the host, to review there.
    bob_token: String,
    _dir: tempfile::TempDir,
}

fn kind(flavour: Flavour) -> HostKind {
    match flavour {
        Flavour::GitHub => HostKind::Github,
        Flavour::GitLab => HostKind::Gitlab,
        Flavour::Gitea => HostKind::Gitea,
    }
}

/// The demo repo's files, read from a seeded repo with the git CLI.
pub fn demo_files() -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.git");
    tollgate::repo::seed_demo_repo(&path, "main").expect("seed");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&path)
            .args(args)
            .output()
            .expect("git");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    git(&["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(|p| (p.to_owned(), git(&["show", &format!("main:{p}")])))
        .collect()
}

/// A Git host emulator in `dir` holding `REPO` with the demo files.
async fn host_with_demo_repo(dir: &std::path::Path) -> GitHost {
    let host = GitHost::start(&dir.join("host")).await.expect("emulator");
    let files = demo_files();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    host.create_repo(REPO, &refs).expect("repo");
    host
}

async fn setup(flavour: Flavour) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = host_with_demo_repo(dir.path()).await;
    let token = host.add_user("tollgate-bot");
    let bob_token = host.add_user("bob");
    let api_url = host.api_url(flavour);
    let app = TestApp::start(
        |c| {
            c.host.kind = kind(flavour);
            c.host.api_url = api_url;
            c.host.repo = REPO.into();
            c.host.token = token;
            c.host.webhook_secret = SECRET.into();
            // Webhooks carry the updates; the poll is only the fallback.
            c.host.poll_interval_secs = 60;
            // Approvals come from the host's reviewers, who have no groups in Tollgate.
            c.ownership.clear();
        },
        false,
    )
    .await;
    host.set_webhook(
        flavour,
        &app.url(&format!("/api/v1/hooks/{}", kind(flavour).as_str())),
        SECRET,
    );
    Setup {
        host,
        app,
        flavour,
        bob_token,
        _dir: dir,
    }
}

/// Where a flavour creates and lists its pull or merge requests.
fn requests_path(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::GitLab => "/merge_requests",
        _ => "/pulls",
    }
}

fn one_field_change() -> Value {
    change(
        "Point payments at v2",
        vec![patch(
            "ApiDefinition",
            "payments",
            "payments-api",
            json!({"spec": {"proxy": {"target_url": "http://payments-v2.payments.svc:8080"}}}),
        )],
    )
}

impl Setup {
    fn tollgate_branches(&self) -> Vec<(String, String)> {
        self.host
            .branches(REPO)
            .into_iter()
            .filter(|(b, _)| b.starts_with("tollgate/"))
            .collect()
    }

    async fn propose(&self, cookie: &str, key: &str) -> (u16, Value) {
        self.app
            .call(
                "POST",
                "/api/v1/changes",
                Some(cookie),
                Some(one_field_change()),
                Some(key),
            )
            .await
    }

    /// Bob approves pull/merge request `number` in the host, through its REST API.
    async fn approve_in_host(&self, number: u64) {
        let client = reqwest::Client::new();
        let api = self.host.api_url(self.flavour);
        let req = match self.flavour {
            Flavour::GitHub => client
                .post(format!("{api}/repos/{REPO}/pulls/{number}/reviews"))
                .bearer_auth(&self.bob_token)
                .header("accept", "application/vnd.github+json")
                .json(&json!({"event": "APPROVE", "body": "LGTM"})),
            Flavour::GitLab => client
                .post(format!(
                    "{api}/projects/{}/merge_requests/{number}/approve",
                    REPO.replace('/', "%2F")
                ))
                .header("private-token", &self.bob_token),
            Flavour::Gitea => client
                .post(format!("{api}/repos/{REPO}/pulls/{number}/reviews"))
                .header("authorization", format!("token {}", self.bob_token))
                .json(&json!({"event": "APPROVED", "body": "LGTM"})),
        };
        let resp = req.send().await.expect("approve");
        assert!(
            resp.status().is_success(),
            "approve in host: {} {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
    }

    async fn view(&self, id: &Value) -> Value {
        self.app.json(&format!("/api/v1/changes/{id}")).await.1
    }
}

async fn propose_review_and_merge(flavour: Flavour) {
    let s = setup(flavour).await;
    let alice = s.app.login("alice").await;
    let main_before = s.host.branches(REPO)["main"].clone();
    let (status, created) = s.propose(&alice, "one").await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].clone();

    // One branch with one commit on main whose diff is the one line.
    let branches = s.tollgate_branches();
    assert_eq!(branches.len(), 1, "{branches:?}");
    let (branch, head) = &branches[0];
    assert!(branch.starts_with(&format!("tollgate/{id}-")), "{branch}");
    assert_eq!(created["commit"].as_str(), Some(head.as_str()));
    let commits = s.host.commits(REPO, branch);
    assert_eq!(commits[1].sha, main_before, "one commit on main");
    let path = "apis/payments/payments-api.yaml";
    let (old, new) = (
        s.host.file_at(REPO, "main", path).expect("old"),
        s.host.file_at(REPO, branch, path).expect("new"),
    );
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .to_string();
    assert_eq!(
        changed_lines(&diff),
        vec![
            "-    target_url: http://payments-api.payments.svc:8080",
            "+    target_url: http://payments-v2.payments.svc:8080"
        ],
        "{diff}"
    );
    // The user is the author (GitLab, Gitea) or a co-author (GitHub keeps the App's identity).
    let commit = &commits[0];
    match flavour {
        Flavour::GitHub => assert!(
            commit
                .message
                .contains("Co-authored-by: alice <alice@users.tollgate>"),
            "{}",
            commit.message
        ),
        _ => assert_eq!(commit.author_name, "alice", "{commit:?}"),
    }
    // Gitea is told the committer (Tollgate); without it Gitea would make the author both.
    if flavour == Flavour::Gitea {
        assert_eq!(commit.committer_name, "Tollgate", "{commit:?}");
    }

    // One open request, with the description.
    let pulls = s.host.open_pulls(REPO);
    assert_eq!(pulls.len(), 1);
    assert!(
        pulls[0].body.contains(&format!("/changes/{id}")),
        "{}",
        pulls[0].body
    );
    let number = pulls[0].number;

    // A retry with the same key: the same change, still one branch and one request.
    let (status, again) = s.propose(&alice, "one").await;
    assert_eq!((status, &again["id"]), (201, &id), "{again}");
    assert_eq!(s.tollgate_branches().len(), 1);
    assert_eq!(s.host.pulls(REPO).len(), 1);

    let view = s.view(&id).await;
    assert_eq!(view["host"]["number"], json!(number), "{view}");
    assert_eq!(view["host"]["state"], "open");
    assert_eq!(view["host"]["kind"], kind(flavour).as_str());

    // Not approved: Tollgate refuses to merge.
    let bob = s.app.login("bob").await;
    let (status, refused) = s
        .app
        .act(&format!("/api/v1/changes/{id}/merge"), &bob)
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("approval_required")),
        "{refused}"
    );

    // Bob approves in the host; the webhook brings it to the change page.
    s.approve_in_host(number).await;
    let app = &s.app;
    wait_for("the approval from the host", Duration::from_secs(2), || {
        let url = format!("/api/v1/changes/{id}");
        async move {
            app.json(&url).await.1["host"]["approvals"]
                .as_array()
                .is_some_and(|a| a.iter().any(|l| l == "bob"))
        }
    })
    .await;

    // A forged webhook changes nothing.
    let forged = s
        .app
        .client
        .post(
            s.app
                .url(&format!("/api/v1/hooks/{}", kind(flavour).as_str())),
        )
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "forged-1")
        .header("x-hub-signature-256", "sha256=00")
        .header("x-gitea-signature", "00")
        .header("x-gitea-event", "pull_request")
        .header("x-gitea-delivery", "forged-1")
        .header("x-gitlab-token", "wrong")
        .header("x-gitlab-event", "Merge Request Hook")
        .body(json!({"action": "closed", "number": number}).to_string())
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 401);
    assert_eq!(s.view(&id).await["state"], "open");

    // The host delivering the same delivery again (its retry after a lost answer): a repeat.
    assert!(s.host.deliveries_settled(Duration::from_secs(5)).await);
    let delivered = s
        .host
        .deliveries()
        .into_iter()
        .rfind(|d| d.status == Some(200))
        .expect("a delivery Tollgate took");
    let mut again = s
        .app
        .client
        .post(&delivered.url)
        .body(delivered.body.clone());
    for (name, value) in &delivered.headers {
        again = again.header(name.as_str(), value.as_str());
    }
    let again = again.send().await.expect("redelivery");
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["duplicate"], true, "{again}");

    // Merge through Tollgate (bob is an approver): the host's main has the change, and
    // Tollgate's index moves.
    let (status, merged) = s
        .app
        .act(&format!("/api/v1/changes/{id}/merge"), &bob)
        .await;
    assert_eq!(
        (status, merged["state"].as_str()),
        (200, Some("merged")),
        "{merged}"
    );
    assert_eq!(
        s.host.file_at(REPO, "main", path).as_deref(),
        Some(new.as_str())
    );
    assert_eq!(s.host.open_pulls(REPO).len(), 0);
    let (_, api) = s
        .app
        .json("/api/v1/resources/ApiDefinition/payments/payments-api")
        .await;
    assert_eq!(
        api["summary"]["target"], "http://payments-v2.payments.svc:8080",
        "the index moved to the merged commit: {api}"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn github_propose_review_and_merge() {
    propose_review_and_merge(Flavour::GitHub).await;
}

#[tokio::test]
async fn gitlab_propose_review_and_merge() {
    propose_review_and_merge(Flavour::GitLab).await;
}

#[tokio::test]
async fn gitea_propose_review_and_merge() {
    propose_review_and_merge(Flavour::Gitea).await;
}

/// The host creates the request and loses its answer (502): whether the proposal recovers at
/// once or fails with the draft kept, the retry leaves exactly one branch and one request.
async fn lost_answer(flavour: Flavour) {
    let s = setup(flavour).await;
    let alice = s.app.login("alice").await;
    let create_path = requests_path(flavour);
    // The create is done and its answer lost (a 502 after the write): the client finds the
    // request it made, in the same call or on the retry.
    let mut fault = Fault::status("POST", create_path, 502);
    fault.after_write = true;
    s.host.inject_fault(fault);
    let (status, first) = s.propose(&alice, "lost").await;
    assert!(status == 201 || status >= 500, "{status} {first}");
    assert_eq!(s.host.pulls(REPO).len(), 1, "the host did the write");
    let (status, created) = s.propose(&alice, "lost").await;
    assert!(status == 201 || status == 200, "{status} {created}");
    assert_eq!(s.tollgate_branches().len(), 1);
    assert_eq!(s.host.pulls(REPO).len(), 1);
    let view = s.view(&created["id"]).await;
    assert_eq!(view["state"], "open", "{view}");
    assert_eq!(view["host"]["number"], json!(s.host.pulls(REPO)[0].number));
    s.app.stop().await;
}

#[tokio::test]
async fn github_lost_answer_leaves_one_pull_request() {
    lost_answer(Flavour::GitHub).await;
}

#[tokio::test]
async fn gitlab_lost_answer_leaves_one_merge_request() {
    lost_answer(Flavour::GitLab).await;
}

#[tokio::test]
async fn gitea_lost_answer_leaves_one_pull_request() {
    lost_answer(Flavour::Gitea).await;
}

/// While the host is down, browsing works from the mirror, proposing fails clearly with the
/// draft kept, and the retry succeeds once the host is back.
async fn host_down(flavour: Flavour) {
    let s = setup(flavour).await;
    let alice = s.app.login("alice").await;
    s.host.set_down(true);
    let (status, list) = s.app.json("/api/v1/resources?kind=ApiDefinition").await;
    assert_eq!(status, 200, "{list}");
    let (status, failed) = s.propose(&alice, "down").await;
    assert_eq!(status, 503, "{failed}");
    assert_eq!(failed["code"], "host_unavailable", "{failed}");
    let (_, drafts) = s.app.json("/api/v1/changes?state=draft").await;
    assert_eq!(drafts.as_array().map(Vec::len), Some(1), "{drafts}");
    assert!(s.tollgate_branches().is_empty());

    s.host.set_down(false);
    let (status, created) = s.propose(&alice, "down").await;
    assert!(status == 201 || status == 200, "{status} {created}");
    assert_eq!(s.tollgate_branches().len(), 1);
    assert_eq!(s.host.pulls(REPO).len(), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn github_down_keeps_browsing_and_the_draft() {
    host_down(Flavour::GitHub).await;
}

#[tokio::test]
async fn gitlab_down_keeps_browsing_and_the_draft() {
    host_down(Flavour::GitLab).await;
}

#[tokio::test]
async fn gitea_down_keeps_browsing_and_the_draft() {
    host_down(Flavour::Gitea).await;
}

/// Opening the request fails after the branch was published: the draft keeps the host's
/// message, and the retry finds the branch it made (same commit, not a second one) and opens
/// one request for it.
async fn failed_open(flavour: Flavour) {
    let s = setup(flavour).await;
    let alice = s.app.login("alice").await;
    let create_path = requests_path(flavour);
    let mut refused = Fault::status("POST", create_path, 500);
    refused.times = None;
    s.host.inject_fault(refused);
    let (status, failed) = s.propose(&alice, "open").await;
    assert!(status >= 500, "{status} {failed}");
    let branches = s.tollgate_branches();
    assert_eq!(branches.len(), 1, "{branches:?}");
    assert!(s.host.pulls(REPO).is_empty());
    let (_, drafts) = s.app.json("/api/v1/changes?state=draft").await;
    let draft = &drafts[0];
    let view = s.view(&draft["id"]).await;
    assert!(
        view["error"].as_str().is_some_and(|e| !e.is_empty()),
        "the draft says why: {view}"
    );

    s.host.clear_faults();
    let (status, created) = s.propose(&alice, "open").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        s.tollgate_branches(),
        branches,
        "the same branch and commit"
    );
    assert_eq!(s.host.pulls(REPO).len(), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn github_retry_after_a_failed_open_reuses_the_branch() {
    failed_open(Flavour::GitHub).await;
}

#[tokio::test]
async fn gitlab_retry_after_a_failed_open_reuses_the_branch() {
    failed_open(Flavour::GitLab).await;
}

#[tokio::test]
async fn gitea_retry_after_a_failed_open_reuses_the_branch() {
    failed_open(Flavour::Gitea).await;
}

/// Merged in the host (not through Tollgate): the webhook brings the merge to the change
/// within 2 s, and Tollgate's index moves to the merged commit.
async fn merged_in_host(flavour: Flavour) {
    let s = setup(flavour).await;
    let alice = s.app.login("alice").await;
    let (status, created) = s.propose(&alice, "host-merge").await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].clone();
    let number = s.view(&id).await["host"]["number"]
        .as_u64()
        .expect("number");
    let head = created["commit"].as_str().expect("commit").to_owned();
    let client = reqwest::Client::new();
    let api = s.host.api_url(flavour);
    let req = match flavour {
        Flavour::GitHub => client
            .put(format!("{api}/repos/{REPO}/pulls/{number}/merge"))
            .bearer_auth(&s.bob_token)
            .json(&json!({"sha": head, "merge_method": "merge"})),
        Flavour::GitLab => client
            .put(format!(
                "{api}/projects/{}/merge_requests/{number}/merge",
                REPO.replace('/', "%2F")
            ))
            .header("private-token", &s.bob_token)
            .json(&json!({"sha": head})),
        Flavour::Gitea => client
            .post(format!("{api}/repos/{REPO}/pulls/{number}/merge"))
            .header("authorization", format!("token {}", s.bob_token))
            .json(&json!({"Do": "merge", "head_commit_id": head})),
    };
    let resp = req.send().await.expect("merge in host");
    assert!(
        resp.status().is_success(),
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let app = &s.app;
    wait_for("the merge from the host", Duration::from_secs(2), || {
        let url = format!("/api/v1/changes/{id}");
        async move { app.json(&url).await.1["state"] == "merged" }
    })
    .await;
    let view = s.view(&id).await;
    assert_eq!(view["host"]["state"], "merged", "{view}");
    assert_eq!(
        view["merge_commit"].as_str(),
        Some(s.host.branches(REPO)["main"].as_str())
    );
    wait_for(
        "the index at the merged commit",
        Duration::from_secs(2),
        || async move {
            app.json("/api/v1/resources/ApiDefinition/payments/payments-api")
                .await
                .1["summary"]["target"]
                == "http://payments-v2.payments.svc:8080"
        },
    )
    .await;
    s.app.stop().await;
}

#[tokio::test]
async fn github_merge_in_the_host_reaches_the_change() {
    merged_in_host(Flavour::GitHub).await;
}

#[tokio::test]
async fn gitlab_merge_in_the_host_reaches_the_change() {
    merged_in_host(Flavour::GitLab).await;
}

#[tokio::test]
async fn gitea_merge_in_the_host_reaches_the_change() {
    merged_in_host(Flavour::Gitea).await;
}

/// GitHub App authentication: Tollgate signs a JWT with the App's key, buys an installation
/// token from the host, and the App's bot makes the commit (the person is a co-author).
#[tokio::test]
async fn github_app_authentication_proposes_as_the_app() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = host_with_demo_repo(dir.path()).await;
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/hosts/github/testdata/app-key.pem");
    let pem = std::fs::read_to_string(&key).expect("key");
    host.register_github_app(4242, 77, "tollgate-app", &pem, 3600)
        .expect("app");
    let api_url = host.api_url(Flavour::GitHub);
    let app = TestApp::start(
        |c| {
            c.host.kind = HostKind::Github;
            c.host.api_url = api_url;
            c.host.repo = REPO.into();
            c.host.app_id = "4242".into();
            c.host.installation_id = "77".into();
            c.host.private_key_file = key.clone();
            c.host.webhook_secret = SECRET.into();
            c.host.poll_interval_secs = 60;
        },
        false,
    )
    .await;
    let alice = app.login("alice").await;
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/changes",
            Some(&alice),
            Some(one_field_change()),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let branch = created["branch"].as_str().expect("branch");
    let commit = &host.commits(REPO, branch)[0];
    assert_eq!(commit.author_name, "tollgate-app[bot]", "{commit:?}");
    assert!(
        commit.message.contains("Co-authored-by: alice"),
        "{}",
        commit.message
    );
    let pulls = host.open_pulls(REPO);
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].author, "tollgate-app[bot]");
    app.stop().await;
}

/// A wrong token or repo stops the start with the host's reason, instead of failing later.
#[tokio::test]
async fn the_start_checks_the_token_and_the_repo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = GitHost::start(&dir.path().join("host"))
        .await
        .expect("emulator");
    host.create_repo(REPO, &[("README.md", "config\n")])
        .expect("repo");
    let token = host.add_user("tollgate-bot");
    for (flavour, repo, token, expect) in [
        (Flavour::GitHub, REPO, "wrong-token", "token"),
        (
            Flavour::GitLab,
            "acme/missing",
            token.as_str(),
            "acme/missing",
        ),
        (Flavour::Gitea, REPO, "wrong-token", "token"),
    ] {
        let data = dir.path().join(flavour.prefix().replace('/', "-"));
        std::fs::create_dir_all(&data).expect("data dir");
        let mut config = tollgate::config::Config::demo(data.clone());
        config.server.bind = "127.0.0.1:0".parse().expect("addr");
        config.repo.path = data.join("mirror.git");
        config.database.url = format!("sqlite://{}", data.join("tollgate.db").display());
        config.host.kind = kind(flavour);
        config.host.api_url = host.api_url(flavour);
        config.host.repo = repo.into();
        config.host.token = token.into();
        let Err(e) = tollgate::serve::start(config).await else {
            panic!("{flavour:?} started with a bad host configuration");
        };
        let message = format!("{e:#}");
        assert!(
            message.contains(expect) && !message.contains("wrong-token"),
            "{flavour:?}: {message}"
        );
    }
}

/// A host that does not answer at start: with a mirror from an earlier run, Tollgate starts and
/// serves the repo from it; without one there is nothing to serve, and the start fails saying
/// the host does not answer (never naming the token).
#[tokio::test]
async fn a_host_down_at_start_serves_the_last_mirror() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = host_with_demo_repo(dir.path()).await;
    let token = host.add_user("tollgate-bot");
    let config = |data: &std::path::Path| {
        std::fs::create_dir_all(data).expect("data dir");
        let mut config = tollgate::config::Config::demo(data.to_owned());
        config.server.bind = "127.0.0.1:0".parse().expect("addr");
        config.repo.path = data.join("mirror.git");
        config.database.url = format!("sqlite://{}", data.join("tollgate.db").display());
        config.host.kind = HostKind::Github;
        config.host.api_url = host.api_url(Flavour::GitHub);
        config.host.repo = REPO.into();
        config.host.token = token.clone();
        config.host.poll_interval_secs = 60;
        config
    };
    let total = |addr: std::net::SocketAddr| async move {
        let body: Value =
            reqwest::get(format!("http://{addr}/api/v1/resources?kind=ApiDefinition"))
                .await
                .expect("request")
                .json()
                .await
                .expect("json");
        body["total"].as_u64().unwrap_or(0)
    };
    let data = dir.path().join("tollgate");
    let running = tollgate::serve::start(config(&data))
        .await
        .expect("start with the host up");
    let addr = running.addr;
    wait_for("the mirror", Duration::from_secs(20), || async move {
        total(addr).await > 0
    })
    .await;
    running.stop().await.expect("stop");

    host.set_down(true);
    let running = tollgate::serve::start(config(&data))
        .await
        .expect("a start with the host down and a mirror");
    let addr = running.addr;
    wait_for(
        "the mirror served",
        Duration::from_secs(20),
        || async move { total(addr).await > 0 },
    )
    .await;
    // The pages say the host is unreachable, and which commit they show.
    let html = reqwest::get(format!("http://{addr}/apis"))
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("id=\"host-banner\"")
            && html.contains("The github host cannot be reached.")
            && html.contains("as last fetched: commit "),
        "{html}"
    );
    running.stop().await.expect("stop");

    let Err(e) = tollgate::serve::start(config(&dir.path().join("fresh"))).await else {
        panic!("started with the host down and no mirror");
    };
    let message = format!("{e:#}");
    assert!(
        message.contains("github") && !message.contains(&token),
        "{message}"
    );
    host.set_down(false);
}
