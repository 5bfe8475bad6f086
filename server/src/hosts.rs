//! Git hosts: where a change request is published, reviewed and merged. One interface, one
//! file per provider: `local` (the built-in host, reviews in Tollgate), `github`, `gitlab` and
//! `gitea` (Gitea and Forgejo). The change service holds the host-neutral flow (draft → plan →
//! publish → open → follow → merge/close) and never names a provider; only this module and the
//! change service see the host's credentials.

pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod local;
pub mod remote;

pub use remote::remote;

use crate::repo::Person;
use gix::ObjectId;
use serde::{Deserialize, Serialize};

/// Which host a deployment uses (`host.kind`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostKind {
    #[default]
    Local,
    Github,
    Gitlab,
    Gitea,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Gitea => "gitea",
        }
    }

    /// What people call a change request on this host.
    pub fn request_noun(self) -> &'static str {
        match self {
            Self::Gitlab => "merge request",
            Self::Local => "change",
            Self::Github | Self::Gitea => "pull request",
        }
    }
}

/// One file of a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// The whole new content; `None` deletes the file.
    pub content: Option<Vec<u8>>,
    /// The file's blob at the base commit, if it exists there (Gitea's and GitHub's per-file
    /// compare-and-swap `sha`; GitLab's action is `update` rather than `create`).
    pub old_blob: Option<ObjectId>,
}

/// One change request's files, published as one commit on its own branch.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The Tollgate change id: it keys every side effect (the branch name holds it).
    pub change: i64,
    /// `tollgate/<id>-<slug>`.
    pub branch: String,
    /// The branch the request targets (`repo.branch`).
    pub base_branch: String,
    /// The commit the files were planned at: the new commit's parent (Gitea commits onto the
    /// base branch's head instead; the per-file `sha` keeps that safe).
    pub base: ObjectId,
    /// The tree of `base` (GitHub's `base_tree`).
    pub base_tree: ObjectId,
    pub files: Vec<FileChange>,
    /// The commit message (title, blank line, body). Hosts that commit as the token's identity
    /// add a `Co-authored-by:` trailer for `author`.
    pub message: String,
    /// The signed-in user who made the change.
    pub author: Person,
    /// The request's title and Markdown description.
    pub title: String,
    pub body: String,
}

/// A published branch: its head commit and that commit's parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub head: String,
    pub parent: String,
}

/// Open, closed without merging, or merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Open,
    Closed,
    Merged,
}

/// A reviewer's latest verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub login: String,
    pub state: ReviewState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Pending,
    Success,
    Failure,
}

/// A commit status or check run on the request's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub state: CheckState,
    pub url: Option<String>,
}

/// What the host says about one change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    /// The pull/merge request number (GitLab: the `iid`; local: the change id).
    pub number: u64,
    /// Its page on the host.
    pub url: String,
    pub status: RequestStatus,
    /// The head commit of its branch.
    pub head_sha: String,
    /// The commit its merge made on the base branch.
    pub merge_commit: Option<String>,
    /// `None` while the host is still computing it.
    pub mergeable: Option<bool>,
    /// The host's own word on mergeability (`clean`, `blocked`, `conflict`, `need_rebase`, …).
    pub merge_status: Option<String>,
    /// Each reviewer's latest review, in the order they were first given.
    pub reviews: Vec<Review>,
    pub checks: Vec<Check>,
}

impl RequestState {
    /// Logins whose latest review approves.
    pub fn approvers(&self) -> impl Iterator<Item = &str> {
        self.reviews
            .iter()
            .filter(|r| r.state == ReviewState::Approved)
            .map(|r| r.login.as_str())
    }
}

/// Why a host call failed. Every message is for people: it names the repo, the permission or
/// the host's own answer, and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HostError {
    pub kind: HostErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostErrorKind {
    /// 401: the token is missing, wrong or expired.
    Unauthorized,
    /// 403: the token lacks a permission (the message names it).
    Forbidden,
    /// 404: the repo (or request) does not exist or the token cannot see it.
    NotFound,
    /// Rate-limited, 5xx or no answer after the bounded retries: try again later.
    Unavailable,
    /// The branch head moved (a merge's compare-and-swap failed).
    HeadMoved,
    /// The change's files changed on the base branch since it was proposed: it must be
    /// regenerated from the new base.
    Conflict,
    /// The host refuses to merge: branch protection, required checks, or it is still
    /// computing mergeability.
    NotMergeable,
    /// Creating the branch failed because it exists (a retry after a lost answer, or a
    /// regenerated change): the caller compares it and may replace it.
    BranchExists,
    /// Any other refusal (422 and friends), with the host's message.
    Rejected,
}

impl HostError {
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Before a branch is replaced: it must still be at `expected` (`found` is its head now), or
/// someone moved it meanwhile.
fn still_at(branch: &str, expected: &str, found: Option<&str>) -> Result<(), HostError> {
    match found {
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(HostError::new(
            HostErrorKind::HeadMoved,
            format!(
                "the branch {branch} moved to {found} (expected {expected}); read it again before replacing it"
            ),
        )),
        None => Err(HostError::new(
            HostErrorKind::HeadMoved,
            format!("the branch {branch} no longer exists (expected it at {expected})"),
        )),
    }
}

/// A user's own token on the host, to act as them (open their pull requests, post their
/// reviews). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AsUser(String);

impl AsUser {
    pub fn new(token: &str) -> Self {
        Self(token.to_owned())
    }

    /// `Authorization: Bearer <token>`, the header every host takes for OAuth tokens.
    pub fn authorization(&self) -> Result<(::http::HeaderName, ::http::HeaderValue), HostError> {
        let mut value =
            ::http::HeaderValue::from_str(&format!("Bearer {}", self.0)).map_err(|_| {
                HostError::new(
                    HostErrorKind::Unauthorized,
                    "the user's host token holds characters an HTTP header cannot carry",
                )
            })?;
        value.set_sensitive(true);
        Ok((::http::header::AUTHORIZATION, value))
    }
}

impl std::fmt::Debug for AsUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsUser(***)")
    }
}

/// A verified webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The host's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `X-Gitea-Delivery`);
    /// a repeated one is ignored.
    pub id: String,
    pub hook: Hook,
}

/// What a delivery means to Tollgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// A branch moved: fetch the mirror.
    Push { branch: String, after: String },
    /// A request was opened, closed, merged, synchronised or reviewed: re-read it.
    Request { number: u64 },
    /// A status or check on a commit changed: re-read the requests whose head it is.
    Commit { sha: String },
    /// Anything else (ping, other events): acknowledged, nothing to do.
    Other,
}

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// Missing or wrong signature or token: 401, nothing parsed.
    #[error("the webhook signature is missing or wrong")]
    Signature,
    /// Signed, but not a payload we can read: 400.
    #[error("the webhook payload cannot be read: {0}")]
    Payload(String),
}

/// A Git host. Every method that writes is idempotent, keyed by the change's branch: a retry
/// after a timeout, a 5xx, a crash or a restart never makes a second branch, commit or request.
#[async_trait::async_trait]
pub trait Host: Send + Sync + 'static {
    fn kind(&self) -> HostKind;

    /// Calls the host once: the token works, the repo exists and may be written. The error
    /// says which of these fails.
    async fn check(&self) -> Result<(), HostError>;

    /// Whether requests change outside Tollgate (reviews, merges in the host), so they are
    /// followed by webhooks and polling. The local host: no.
    fn follows(&self) -> bool {
        true
    }

    /// The head of `branch`, if it exists.
    async fn branch_head(&self, branch: &str) -> Result<Option<String>, HostError>;

    /// Publishes `p` as one commit on `p.branch`. With `replace: None` the branch must not
    /// exist (else [`HostErrorKind::BranchExists`]); with `Some(head)` the branch is moved from
    /// `head` to the new commit (a regenerated change; only `tollgate/` branches).
    async fn publish(&self, p: &Publication, replace: Option<&str>)
    -> Result<Published, HostError>;

    /// The change request for `p.branch`: found (open, closed or merged) when one exists,
    /// opened otherwise.
    async fn open(&self, p: &Publication) -> Result<RequestState, HostError>;

    /// [`Host::open`], with the user's own token, so the host shows them as the author. A
    /// host that cannot act as a user opens it with its own token.
    async fn open_as(&self, p: &Publication, user: &AsUser) -> Result<RequestState, HostError> {
        let _ = user;
        self.open(p).await
    }

    /// Approves request `number` as the user (a review with `body`), so the host shows them as
    /// the reviewer. A host that cannot answers [`HostErrorKind::Rejected`].
    async fn approve_as(&self, number: u64, body: &str, user: &AsUser) -> Result<(), HostError> {
        let _ = (number, body, user);
        Err(HostError::new(
            HostErrorKind::Rejected,
            "this host takes no reviews from Tollgate",
        ))
    }

    /// Asks the owners (`groups`, e.g. GitHub's `org/team`) to review request `number`, where
    /// the host can. Returns the groups it asked; the others are only named in the description.
    async fn request_reviews(
        &self,
        number: u64,
        groups: &[String],
    ) -> Result<Vec<String>, HostError> {
        let _ = (number, groups);
        Ok(Vec::new())
    }

    /// Reads one request's state, reviews and checks.
    async fn read(&self, number: u64) -> Result<RequestState, HostError>;

    /// Merges, only if the request's head is still `head` (compare-and-swap). Returns the
    /// merge commit.
    async fn merge(
        &self,
        number: u64,
        head: &str,
        title: &str,
        message: &str,
    ) -> Result<String, HostError>;

    /// Closes without merging.
    async fn close(&self, number: u64) -> Result<(), HostError>;

    /// Posts a comment on the request.
    async fn comment(&self, number: u64, body: &str) -> Result<(), HostError>;

    /// Verifies a webhook delivery's signature over the raw body, then parses it.
    fn webhook(&self, headers: &::http::HeaderMap, body: &[u8]) -> Result<Delivery, HookError>;

    /// Where the mirror fetches from, and the `Authorization` header value to send (`None` for
    /// the local host, which has no remote).
    async fn fetch_auth(&self) -> Result<Option<(String, String)>, HostError>;

    /// HTTP calls made to the host so far (retries and token exchanges included), so a
    /// benchmark can count them. The local host makes none.
    fn calls(&self) -> u64 {
        0
    }
}
