//! What the emulated host remembers besides the Git objects: users and tokens, repository
//! settings, pull/merge requests with their reviews, comments and commit statuses, webhooks,
//! injected faults and the calls received.

use super::git::{Git, Ident};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which host's REST dialect a call or a webhook speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    GitHub,
    GitLab,
    Gitea,
}

impl Flavour {
    pub const ALL: [Flavour; 3] = [Flavour::GitHub, Flavour::GitLab, Flavour::Gitea];

    /// The path prefix of the flavour's REST API on the emulator.
    pub fn prefix(self) -> &'static str {
        match self {
            Flavour::GitHub => "/api/v3",
            Flavour::GitLab => "/api/v4",
            Flavour::Gitea => "/api/v1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "github" => Some(Flavour::GitHub),
            "gitlab" => Some(Flavour::GitLab),
            "gitea" | "forgejo" => Some(Flavour::Gitea),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Flavour::GitHub => "github",
            Flavour::GitLab => "gitlab",
            Flavour::Gitea => "gitea",
        }
    }
}

/// A user known to the host.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: u64,
    pub login: String,
}

impl User {
    pub fn email(&self) -> String {
        format!("{}+{}@users.noreply.emulator", self.id, self.login)
    }

    pub fn ident(&self, time: i64) -> Ident {
        Ident {
            name: self.login.clone(),
            email: self.email(),
            time,
        }
    }
}

/// A token: whose it is and whether it may write.
#[derive(Clone, Debug)]
pub struct Token {
    pub login: String,
    pub write: bool,
    /// Unix time after which the token is refused (installation tokens).
    pub expires_at: Option<i64>,
}

/// A registered GitHub App: JWTs signed with its key buy installation tokens.
#[derive(Clone, Debug)]
pub struct App {
    pub app_id: u64,
    pub installation_id: u64,
    /// The bot user is `{slug}[bot]`.
    pub slug: String,
    /// PKCS#1 `RSAPublicKey` DER.
    pub public_key: Vec<u8>,
    pub token_ttl_s: i64,
}

/// A fault to inject into matching calls (REST and smart HTTP).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// Only calls with this method (any when `None`).
    pub method: Option<String>,
    /// Only calls whose path (with the query) contains this.
    pub path_contains: String,
    /// The status to answer; `None` only delays.
    pub status: Option<u16>,
    /// How many calls it hits; `None` is every call until cleared.
    pub times: Option<u32>,
    /// Perform the call first, then answer `status` (a lost answer).
    pub after_write: bool,
    /// Delay before the call is handled.
    pub delay_ms: u64,
    /// Extra response headers (e.g. `x-ratelimit-remaining: 0`, `retry-after`).
    pub headers: Vec<(String, String)>,
    /// The response body; the flavour's usual `{"message": ...}` when `None`.
    pub body: Option<serde_json::Value>,
}

impl Fault {
    /// Answers `status` to `method` calls whose path contains `path_contains`, once.
    pub fn status(method: &str, path_contains: &str, status: u16) -> Self {
        Self {
            method: Some(method.to_owned()),
            path_contains: path_contains.to_owned(),
            status: Some(status),
            times: Some(1),
            ..Self::default()
        }
    }

    /// Delays matching calls by `ms`, once.
    pub fn delay(method: &str, path_contains: &str, ms: u64) -> Self {
        Self {
            method: Some(method.to_owned()),
            path_contains: path_contains.to_owned(),
            delay_ms: ms,
            times: Some(1),
            ..Self::default()
        }
    }

    /// GitHub's secondary rate limit: 403 with `x-ratelimit-remaining: 0` and `retry-after`.
    pub fn rate_limited(path_contains: &str, retry_after_s: u64) -> Self {
        let reset = time::OffsetDateTime::now_utc().unix_timestamp() + retry_after_s as i64;
        Self {
            path_contains: path_contains.to_owned(),
            status: Some(403),
            times: Some(1),
            headers: vec![
                ("x-ratelimit-limit".into(), "5000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
                ("retry-after".into(), retry_after_s.to_string()),
            ],
            body: Some(serde_json::json!({
                "message": "API rate limit exceeded for user.",
                "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
            })),
            ..Self::default()
        }
    }

    /// The write happens, then the answer is `status`.
    pub fn after_write(mut self) -> Self {
        self.after_write = true;
        self
    }

    pub fn times(mut self, n: Option<u32>) -> Self {
        self.times = n;
        self
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

/// The canonical state of a review; each flavour names it its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Pending,
    Dismissed,
}

#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub id: u64,
    pub user: String,
    pub state: ReviewState,
    pub body: String,
    pub commit_id: String,
    pub submitted_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    pub id: u64,
    pub number: u64,
    pub user: String,
    pub body: String,
    pub created_at: String,
}

/// The canonical state of a commit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StatusState {
    Pending,
    Running,
    Success,
    Failure,
    Error,
    Warning,
}

#[derive(Clone, Debug, Serialize)]
pub struct CommitStatus {
    pub id: u64,
    pub sha: String,
    pub context: String,
    pub state: StatusState,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub creator: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckRun {
    pub id: u64,
    pub head_sha: String,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
}

/// A pull request (GitHub, Gitea) or merge request (GitLab).
#[derive(Clone, Debug, Serialize)]
pub struct Pull {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub open: bool,
    pub merged: bool,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub merged_at: Option<String>,
    pub merged_by: Option<String>,
    pub merge_commit_sha: Option<String>,
    /// The head commit: followed while open, frozen once closed.
    pub head_sha: String,
    /// The base branch tip when the pull was last updated (frozen once closed).
    pub base_sha: String,
    pub reviews: Vec<Review>,
    /// Teams asked to review (slugs, GitHub's `requested_teams`).
    pub requested_teams: Vec<String>,
    /// Reads left that answer "mergeability not computed yet".
    #[serde(skip)]
    pub unknown_reads: u32,
}

impl Pull {
    /// Each user's latest non-pending review.
    pub fn latest_reviews(&self) -> BTreeMap<String, &Review> {
        let mut out = BTreeMap::new();
        for r in &self.reviews {
            if r.state != ReviewState::Pending && r.state != ReviewState::Commented {
                out.insert(r.user.clone(), r);
            }
        }
        out
    }

    /// Logins whose latest review approves, never the author.
    pub fn approvers(&self) -> Vec<String> {
        self.latest_reviews()
            .into_iter()
            .filter(|(u, r)| r.state == ReviewState::Approved && *u != self.author)
            .map(|(u, _)| u)
            .collect()
    }
}

/// A hosted repository's settings and review state; its objects live in `git`.
#[derive(Debug)]
pub struct Repo {
    pub id: u64,
    pub full_name: String,
    pub git: Git,
    pub default_branch: String,
    /// Branch protection on the default branch: approvals needed before a merge.
    pub required_approvals: u32,
    /// After a pull is opened or moves, this many reads answer "not computed yet".
    pub mergeable_unknown_reads: u32,
    pub next_number: u64,
    pub pulls: Vec<Pull>,
    pub comments: Vec<Comment>,
    pub statuses: Vec<CommitStatus>,
    pub check_runs: Vec<CheckRun>,
    /// The branches as last seen, to notice moves made over smart HTTP.
    pub known_refs: BTreeMap<String, String>,
}

impl Repo {
    pub fn owner(&self) -> &str {
        self.full_name
            .rsplit_once('/')
            .map(|(o, _)| o)
            .unwrap_or(&self.full_name)
    }

    pub fn name(&self) -> &str {
        self.full_name
            .rsplit_once('/')
            .map(|(_, n)| n)
            .unwrap_or(&self.full_name)
    }

    pub fn pull(&self, number: u64) -> Option<&Pull> {
        self.pulls.iter().find(|p| p.number == number)
    }

    pub fn pull_mut(&mut self, number: u64) -> Option<&mut Pull> {
        self.pulls.iter_mut().find(|p| p.number == number)
    }

    /// Latest status per context for a commit, newest first.
    pub fn latest_statuses(&self, sha: &str) -> Vec<&CommitStatus> {
        let mut seen = std::collections::BTreeSet::new();
        self.statuses
            .iter()
            .rev()
            .filter(|s| s.sha == sha)
            .filter(|s| seen.insert(s.context.clone()))
            .collect()
    }
}

/// A registered webhook.
#[derive(Clone, Debug, Serialize)]
pub struct Hook {
    pub id: u64,
    pub flavour: Flavour,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    /// Only events of this repository (all when `None`).
    pub repo: Option<String>,
}

/// One call received.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub method: String,
    pub path: String,
}

/// Everything behind the host's one lock.
#[derive(Debug, Default)]
pub struct State {
    pub root: PathBuf,
    pub base_url: String,
    pub users: BTreeMap<String, User>,
    pub tokens: BTreeMap<String, Token>,
    pub repos: BTreeMap<String, Repo>,
    pub hooks: Vec<Hook>,
    pub apps: Vec<App>,
    pub faults: Vec<Fault>,
    pub down: bool,
    pub calls: BTreeMap<Flavour, Vec<Call>>,
    pub git_calls: Vec<Call>,
    pub next_id: u64,
    /// GitHub's OAuth apps, codes and refresh tokens.
    pub oauth: super::oauth::OAuth,
    /// Each user's teams as `org/slug` (GitHub's `GET /user/teams`).
    pub teams: BTreeMap<String, Vec<String>>,
}

impl State {
    /// A fresh id for users, pulls, reviews, comments, statuses, hooks.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn user(&self, login: &str) -> Option<&User> {
        self.users.get(login)
    }

    pub fn ensure_user(&mut self, login: &str) -> User {
        if let Some(u) = self.users.get(login) {
            return u.clone();
        }
        let id = self.id();
        let user = User {
            id,
            login: login.to_owned(),
        };
        self.users.insert(login.to_owned(), user.clone());
        user
    }

    pub fn repo_by_id(&self, id: u64) -> Option<&Repo> {
        self.repos.values().find(|r| r.id == id)
    }
}
