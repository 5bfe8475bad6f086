//! Test fixtures: real git repositories (made with the git CLI) and a real server on port 0.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tollgate::config::Config;

/// The shared corpus beside the project (`../shared/corpus` from the checkout), or where
/// `TOLLGATE_CORPUS` points; `None` when it is not there (a fresh clone), so the tests that
/// iterate over the whole corpus can say they skipped. A `TOLLGATE_CORPUS` naming a missing
/// folder means absent too.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("TOLLGATE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: the shared corpus is not at {} (set TOLLGATE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// The project's own test fixtures (`tests/fixtures`): CRDs and sample manifests.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The text of a fixture file, e.g. `crds/tyk-operator.yaml`.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(fixtures().join(path)).expect("fixture file")
}

/// The Tyk Operator CRDs of the fixtures, as a file path (for `validation.crd_files`).
pub fn tyk_crds_file() -> PathBuf {
    fixtures().join("crds/tyk-operator.yaml")
}

/// The documents of a fixture CRD file, parsed as trusted YAML.
pub fn fixture_crds(path: &str) -> Vec<serde_json::Value> {
    tollgate::yaml::parse_trusted(&fixture(path)).expect("fixture CRDs parse")
}

/// A git repository with a work tree, driven by the real `git` CLI.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
}

impl TestRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Self { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
        self
    }

    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// The added and removed lines of a `git diff` (headers left out).
pub fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect()
}

/// Waits for a condition, polling, up to a deadline.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// For tests about something other than access: alice, bob and carol are admins and no
/// namespace has owners, so any of them may propose, approve, merge and adopt.
pub fn everyone_admin(c: &mut Config) {
    use tollgate::config::DemoUser;
    c.auth.demo_users = ["alice", "bob", "carol"]
        .into_iter()
        .map(|name| DemoUser::Entry {
            name: name.into(),
            role: tollgate::auth::Role::Admin,
            groups: Vec::new(),
        })
        .collect();
    c.ownership.clear();
}

/// A running server with its own data folder.
pub struct TestApp {
    pub running: Option<tollgate::serve::Running>,
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    data: tempfile::TempDir,
}

impl TestApp {
    /// The demo: a seeded example repo in a fresh data folder, demo sign-in on.
    pub async fn demo() -> Self {
        Self::start(|_| {}, true).await
    }

    pub async fn start(customise: impl FnOnce(&mut Config), seed: bool) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let mut config = Config::demo(data.path().to_owned());
        config.server.bind = "127.0.0.1:0".parse().expect("addr");
        config.repo.path = data.path().join("config-repo.git");
        config.database.url = format!("sqlite://{}", data.path().join("tollgate.db").display());
        config.repo.poll_interval_secs = 1;
        customise(&mut config);
        if seed {
            tollgate::repo::seed_demo_repo(&config.repo.path, &config.repo.branch).expect("seed");
        }
        Self::run(config, data).await
    }

    async fn run(config: Config, data: tempfile::TempDir) -> Self {
        let running = tollgate::serve::start(config.clone())
            .await
            .expect("server starts");
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let app = Self {
            running: Some(running),
            base,
            client,
            config,
            data,
        };
        let (client, url) = (app.client.clone(), app.url("/readyz"));
        wait_for("readiness", Duration::from_secs(20), || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    pub async fn html(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("text body"))
    }

    /// A page as someone signed in (`cookie`) or signed out (`None`) sees it.
    pub async fn html_as(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let resp = req.send().await.expect("page");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("text body"))
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }

    /// Stops and starts again on the same data folder, database and repo.
    pub async fn restart(mut self) -> Self {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
        let (config, data) = (
            self.config.clone(),
            std::mem::replace(&mut self.data, tempfile::tempdir().expect("tempdir")),
        );
        Self::run(config, data).await
    }

    /// Signs in with the demo sign-in; returns the session cookie.
    pub async fn login(&self, user: &str) -> String {
        let resp = self
            .client
            .post(self.url("/auth/demo"))
            .form(&[("user", user)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(resp.status(), 303);
        resp.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned()
    }

    /// A JSON call as `cookie`'s user.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<serde_json::Value>,
        key: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let write = method != reqwest::Method::GET;
        let mut req = self.client.request(method, self.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
            // A write with the session cookie carries the session's CSRF token.
            if write && let Some(token) = self.csrf(c).await {
                req = req.header("x-csrf-token", token);
            }
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// The CSRF token of `cookie`'s session (`csrf_token` in `GET /api/v1/session`).
    pub async fn csrf(&self, cookie: &str) -> Option<String> {
        let resp = self
            .client
            .get(self.url("/api/v1/session"))
            .header("cookie", cookie)
            .send()
            .await
            .ok()?;
        let info: serde_json::Value = resp.json().await.ok()?;
        info["csrf_token"].as_str().map(str::to_owned)
    }

    /// Approves change `id` as `reviewer` and merges it; asserts both worked and returns the
    /// merged change.
    pub async fn approve_and_merge(
        &self,
        id: &serde_json::Value,
        reviewer: &str,
    ) -> serde_json::Value {
        let (status, view) = self
            .act(&format!("/api/v1/changes/{id}/approve"), reviewer)
            .await;
        assert_eq!(status, 200, "{view}");
        let (status, view) = self
            .act(&format!("/api/v1/changes/{id}/merge"), reviewer)
            .await;
        assert_eq!(
            (status, view["state"].as_str()),
            (200, Some("merged")),
            "{view}"
        );
        view
    }

    /// A body-less POST (approve, merge, close, rebase) as `cookie`'s user.
    pub async fn act(&self, path: &str, cookie: &str) -> (u16, serde_json::Value) {
        self.call(
            "POST",
            path,
            Some(cookie),
            Some(serde_json::json!({})),
            None,
        )
        .await
    }

    /// Runs the git CLI on the config repo.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&self.config.repo.path)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}
