//! A Git host emulator for tests and the demo: one server speaking the GitHub (`/api/v3`),
//! GitLab (`/api/v4`) and Gitea/Forgejo (`/api/v1`) REST subsets Tollgate uses, over real bare
//! repositories, with git smart HTTP (`/{owner}/{name}.git`) through `git http-backend` so the
//! `git` CLI and gix clone, fetch and push unchanged.
//!
//! It checks tokens (HTTP Basic password or Bearer on smart HTTP; each flavour's header on
//! REST; read-only tokens get 403 on writes), keeps pull/merge requests with reviews (an author
//! cannot approve their own), comments, commit statuses and check runs, computes mergeability
//! with `git merge-tree`, merges with the head sha as compare-and-swap, sends webhooks with each
//! flavour's headers and signatures, and injects faults (status codes, after-write answers,
//! delays, host down). Tests drive it through [`GitHost`]; other processes through the JSON
//! control routes under `/_emulator/` (see `control.rs`).

mod api;
pub mod client;
mod control;
pub mod git;
pub mod hooks;
mod json;
pub mod oauth;
mod ops;
mod server;
mod smart;
pub mod state;
#[cfg(test)]
mod tests;

pub use git::CommitInfo;
pub use hooks::Delivery;
pub use state::{Fault, Flavour};

use hooks::{Event, Outbox};
use serde_json::{Value, json};
use state::{Hook, State, Token};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The shared host: state behind one lock, and the webhook outbox.
pub struct Host {
    state: Mutex<State>,
    outbox: Arc<Outbox>,
    queue: std::sync::mpsc::Sender<usize>,
}

impl Host {
    fn new(root: &Path) -> Self {
        let outbox = Arc::new(Outbox::default());
        let queue = hooks::start(Arc::clone(&outbox));
        Self {
            state: Mutex::new(State {
                root: root.to_owned(),
                ..State::default()
            }),
            outbox,
            queue,
        }
    }

    /// The state; a panic elsewhere does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the webhooks for `events`.
    pub fn dispatch(&self, st: &State, events: &[Event]) {
        if !events.is_empty() {
            hooks::dispatch(st, &self.outbox, &self.queue, events);
        }
    }

    pub fn create_repo(&self, name: &str, files: &[(String, Vec<u8>)]) -> anyhow::Result<String> {
        ops::create_repo(&mut self.lock(), name, files)
    }

    /// Adds (or reuses) the user and gives them a token (`token` or a fresh one).
    pub fn add_token(&self, login: &str, token: Option<String>, read_only: bool) -> String {
        let mut st = self.lock();
        st.ensure_user(login);
        let token = token.unwrap_or_else(|| format!("emu_{}", hooks::uuid().replace('-', "")));
        st.tokens.insert(
            token.clone(),
            Token {
                login: login.to_owned(),
                write: !read_only,
                expires_at: None,
            },
        );
        token
    }

    pub fn set_webhook(
        &self,
        flavour: Flavour,
        url: &str,
        secret: &str,
        repo: Option<&str>,
    ) -> u64 {
        let mut st = self.lock();
        let id = st.id();
        st.hooks.push(Hook {
            id,
            flavour,
            url: url.to_owned(),
            secret: secret.to_owned(),
            repo: repo.map(str::to_owned),
        });
        self.dispatch(&st, &[Event::Ping { hook_id: id }]);
        id
    }

    /// Registers a GitHub App by its key (the PEM private key the product signs JWTs with, or
    /// an `RSA PUBLIC KEY`); installation tokens live `token_ttl_s` seconds.
    pub fn register_app(
        &self,
        app_id: u64,
        installation_id: u64,
        slug: &str,
        key_pem: &str,
        token_ttl_s: i64,
    ) -> anyhow::Result<()> {
        let public_key = api::github_app::public_key(key_pem)?;
        let mut st = self.lock();
        st.apps.retain(|a| a.app_id != app_id);
        st.apps.push(state::App {
            app_id,
            installation_id,
            slug: slug.to_owned(),
            public_key,
            token_ttl_s,
        });
        Ok(())
    }

    pub fn set_repo(
        &self,
        repo: &str,
        required_approvals: Option<u32>,
        unknown_reads: Option<u32>,
    ) -> anyhow::Result<()> {
        let mut st = self.lock();
        let r = st
            .repos
            .get_mut(repo)
            .ok_or_else(|| anyhow::anyhow!("no repository {repo}"))?;
        if let Some(n) = required_approvals {
            r.required_approvals = n;
        }
        if let Some(n) = unknown_reads {
            r.mergeable_unknown_reads = n;
        }
        Ok(())
    }

    /// Commits `files` (path → content, `None` deletes) on `branch` as `user`, as if pushed:
    /// the branch is created from the default branch when missing; webhooks follow.
    pub fn commit_files(
        &self,
        repo: &str,
        branch: &str,
        files: &[(String, Option<Vec<u8>>)],
        message: &str,
        user: &str,
    ) -> anyhow::Result<String> {
        let mut st = self.lock();
        let u = st.ensure_user(user);
        let r = st
            .repos
            .get(repo)
            .ok_or_else(|| anyhow::anyhow!("no repository {repo}"))?;
        let old = r.git.branch(branch);
        let parent = match &old {
            Some(h) => h.clone(),
            None => r
                .git
                .branch(&r.default_branch)
                .ok_or_else(|| anyhow::anyhow!("no default branch"))?,
        };
        let who = u.ident(ops::unix_now());
        let mut events = Vec::new();
        let sha = ops::commit_to_branch(
            &mut st,
            repo,
            branch,
            Some(&parent),
            old.as_deref(),
            &files.to_vec(),
            &format!("{message}\n"),
            &who,
            &who,
            user,
            &mut events,
        )?;
        self.dispatch(&st, &events);
        Ok(sha)
    }

    /// Branches and pulls of a repository, as the control API reports them.
    pub fn repo_state(&self, repo: &str) -> Option<Value> {
        let st = self.lock();
        let r = st.repos.get(repo)?;
        let branches: BTreeMap<String, String> = r
            .git
            .refs()
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("refs/heads/").to_owned(), v))
            .collect();
        Some(json!({
            "name": r.full_name, "id": r.id, "default_branch": r.default_branch,
            "required_approvals": r.required_approvals, "branches": branches,
            "pulls": r.pulls, "comments": r.comments, "statuses": r.statuses,
        }))
    }
}

/// A pull as tests read it back.
pub type PullInfo = state::Pull;

/// A running Git host emulator.
pub struct GitHost {
    pub addr: SocketAddr,
    host: Arc<Host>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
}

impl GitHost {
    /// Serves on `127.0.0.1:0`, keeping repositories under `dir`.
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        Self::serve(SocketAddr::from(([127, 0, 0, 1], 0)), dir).await
    }

    /// Serves on `addr` (port 0 picks a free port), keeping repositories under `dir`.
    pub async fn serve(addr: SocketAddr, dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let host = Arc::new(Host::new(dir));
        host.lock().base_url = format!("http://{addr}");
        let app = server::router(Arc::clone(&host));
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.changed().await;
                })
                .await;
        });
        Ok(Self {
            addr,
            host,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The REST base of a flavour, as Tollgate's `api_url`.
    pub fn api_url(&self, flavour: Flavour) -> String {
        format!("{}{}", self.url(), flavour.prefix())
    }

    /// `http://127.0.0.1:PORT/owner/name.git`.
    pub fn clone_url(&self, repo: &str) -> String {
        format!("{}/{repo}.git", self.url())
    }

    /// Creates `repo` (`owner/name`) with one commit of `files` on `main` (fixed author and
    /// date: the same commit id every run). Returns the commit.
    pub fn create_repo(&self, repo: &str, files: &[(&str, &str)]) -> anyhow::Result<String> {
        let files: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect();
        self.host.create_repo(repo, &files)
    }

    /// A user with a read-write token; returns the token.
    pub fn add_user(&self, login: &str) -> String {
        self.host.add_token(login, None, false)
    }

    /// A given token for `login` (the user is created if new), e.g. a fixed token for a demo.
    pub fn add_user_token(&self, login: &str, token: &str, read_only: bool) -> String {
        self.host
            .add_token(login, Some(token.to_owned()), read_only)
    }

    /// Another token for `login` (the user is created if new).
    pub fn add_token(&self, login: &str, read_only: bool) -> String {
        self.host.add_token(login, None, read_only)
    }

    /// Registers a webhook for every repository; returns its id.
    pub fn set_webhook(&self, flavour: Flavour, url: &str, secret: &str) -> u64 {
        self.host.set_webhook(flavour, url, secret, None)
    }

    /// A GitHub App whose JWTs (RS256, signed with `key_pem`'s private key) buy installation
    /// tokens for `installation_id` at `POST /api/v3/app/installations/{id}/access_tokens`;
    /// they act as `{slug}[bot]` and expire after `token_ttl_s` seconds.
    pub fn register_github_app(
        &self,
        app_id: u64,
        installation_id: u64,
        slug: &str,
        key_pem: &str,
        token_ttl_s: i64,
    ) -> anyhow::Result<()> {
        self.host
            .register_app(app_id, installation_id, slug, key_pem, token_ttl_s)
    }

    /// Branch protection on the default branch: `n` approvals by others before a merge.
    /// Registers a GitHub OAuth app (`/login/oauth/*`). Its user tokens expire after
    /// `token_ttl_s` seconds and come with a refresh token; `None`: they never expire.
    pub fn register_oauth_app(&self, client_id: &str, secret: &str, token_ttl_s: Option<i64>) {
        self.host.lock().oauth.apps.insert(
            client_id.to_owned(),
            oauth::OAuthApp {
                secret: secret.to_owned(),
                token_ttl_s,
            },
        );
    }

    /// Who is signed in at the host's web pages: the next OAuth authorization is theirs.
    pub fn sign_in_at_host(&self, login: &str) {
        let mut st = self.host.lock();
        st.ensure_user(login);
        st.oauth.signed_in = Some(login.to_owned());
    }

    /// `login`'s teams, as `org/slug`.
    pub fn set_teams(&self, login: &str, teams: &[&str]) {
        self.host.lock().teams.insert(
            login.to_owned(),
            teams.iter().map(|t| (*t).to_owned()).collect(),
        );
    }

    /// How many refresh grants the OAuth endpoint served.
    pub fn oauth_refreshes(&self) -> u64 {
        self.host.lock().oauth.refreshes
    }

    /// The user access tokens the OAuth endpoint issued, oldest first.
    pub fn oauth_tokens(&self) -> Vec<String> {
        self.host.lock().oauth.issued.clone()
    }

    pub fn set_required_approvals(&self, repo: &str, n: u32) -> anyhow::Result<()> {
        self.host.set_repo(repo, Some(n), None)
    }

    /// After a pull is opened or moves, its next `n` reads answer "mergeability not computed
    /// yet" (GitHub `mergeable: null`, GitLab `checking`, Gitea `mergeable: false`).
    pub fn set_mergeable_unknown_reads(&self, repo: &str, n: u32) -> anyhow::Result<()> {
        self.host.set_repo(repo, None, Some(n))
    }

    pub fn inject_fault(&self, fault: Fault) {
        self.host.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.host.lock().faults.clear();
    }

    /// Host down: every REST and smart-HTTP call answers 503.
    pub fn set_down(&self, down: bool) {
        self.host.lock().down = down;
    }

    /// REST calls received for a flavour: `(method, path?query)`.
    pub fn calls(&self, flavour: Flavour) -> Vec<(String, String)> {
        self.host
            .lock()
            .calls
            .get(&flavour)
            .map(|c| {
                c.iter()
                    .map(|c| (c.method.clone(), c.path.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Smart-HTTP requests received.
    pub fn git_calls(&self) -> Vec<(String, String)> {
        self.host
            .lock()
            .git_calls
            .iter()
            .map(|c| (c.method.clone(), c.path.clone()))
            .collect()
    }

    pub fn reset_calls(&self) {
        let mut st = self.host.lock();
        st.calls.clear();
        st.git_calls.clear();
    }

    /// Branch name → commit.
    pub fn branches(&self, repo: &str) -> BTreeMap<String, String> {
        let st = self.host.lock();
        st.repos
            .get(repo)
            .map(|r| {
                r.git
                    .refs()
                    .into_iter()
                    .map(|(k, v)| (k.trim_start_matches("refs/heads/").to_owned(), v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// First-parent history of a branch (or any revision), newest first.
    pub fn commits(&self, repo: &str, rev: &str) -> Vec<CommitInfo> {
        let st = self.host.lock();
        st.repos
            .get(repo)
            .map(|r| r.git.log(rev, 1000))
            .unwrap_or_default()
    }

    /// A file's text at a revision.
    pub fn file_at(&self, repo: &str, rev: &str, path: &str) -> Option<String> {
        let st = self.host.lock();
        let bytes = st.repos.get(repo)?.git.file_at(rev, path)?;
        String::from_utf8(bytes).ok()
    }

    /// Every pull of a repository.
    pub fn pulls(&self, repo: &str) -> Vec<PullInfo> {
        let st = self.host.lock();
        st.repos
            .get(repo)
            .map(|r| r.pulls.clone())
            .unwrap_or_default()
    }

    pub fn open_pulls(&self, repo: &str) -> Vec<PullInfo> {
        self.pulls(repo).into_iter().filter(|p| p.open).collect()
    }

    /// Someone else pushes a commit to `branch` (created from the default branch if new).
    pub fn push_files(
        &self,
        repo: &str,
        branch: &str,
        files: &[(&str, Option<&str>)],
        message: &str,
        user: &str,
    ) -> anyhow::Result<String> {
        let files: Vec<(String, Option<Vec<u8>>)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.map(|c| c.as_bytes().to_vec())))
            .collect();
        self.host.commit_files(repo, branch, &files, message, user)
    }

    /// Webhook deliveries so far (queued ones have `status: None`).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.host.outbox.deliveries()
    }

    /// Waits (blocking the thread) until every queued delivery was attempted; `false` on timeout.
    pub fn wait_deliveries(&self, timeout: Duration) -> bool {
        self.host.outbox.wait_idle(timeout)
    }

    /// [`Self::wait_deliveries`] for async tests.
    pub async fn deliveries_settled(&self, timeout: Duration) -> bool {
        let outbox = Arc::clone(&self.host.outbox);
        tokio::task::spawn_blocking(move || outbox.wait_idle(timeout))
            .await
            .unwrap_or(false)
    }

    /// Stops serving.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

impl Drop for GitHost {
    fn drop(&mut self) {
        self.stop();
    }
}
