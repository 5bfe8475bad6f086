//! GitHub and GitHub Enterprise: one commit through the Git database API (tree on
//! `base_tree`, commit with no author so App commits stay Verified, ref), a pull request per
//! change, reviews, commit statuses and check runs, and `X-Hub-Signature-256` webhooks.

mod app;
mod hook;

use super::http::{self, HostClient, Req, Resp, Timing, Token};
use super::remote::{Secret, latest_reviews, request_team_reviews, with_co_author};
use super::{
    AsUser, Check, CheckState, Delivery, FileChange, HookError, Host, HostError, HostErrorKind,
    HostKind, Publication, Published, RequestState, RequestStatus, Review, ReviewState,
};
use crate::config::{ConfigError, HostConfig, MergeMethod};
use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::json;

pub use app::{AppAuth, Claims};

/// A GitHub repository.
#[derive(Debug)]
pub struct Github {
    http: HostClient,
    owner: String,
    /// `/repos/owner/name`.
    base: String,
    clone_url: String,
    merge_method: MergeMethod,
    secret: Secret,
}

impl Github {
    pub fn new(config: &HostConfig, secret: Secret, timing: Timing) -> Result<Self, ConfigError> {
        let credentials: Box<dyn http::Credentials> = if config.app_id.trim().is_empty() {
            Box::new(
                Token::new(AUTHORIZATION, "Bearer ", &config.token()?).map_err(ConfigError::new)?,
            )
        } else {
            let pem = std::fs::read(&config.private_key_file).map_err(|e| {
                ConfigError::new(format!(
                    "host.private_key_file {}: {e}",
                    config.private_key_file.display()
                ))
            })?;
            Box::new(
                AppAuth::new(config.app_id.trim(), config.installation_id.trim(), &pem)
                    .map_err(ConfigError::new)?,
            )
        };
        let headers = vec![
            (
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            ),
            (
                HeaderName::from_static("x-github-api-version"),
                HeaderValue::from_static("2022-11-28"),
            ),
        ];
        let http = HostClient::new(
            HostKind::Github,
            &config.api_url,
            &config.repo,
            headers,
            credentials,
            timing,
        )
        .map_err(ConfigError::new)?;
        let repo = http.repo().to_owned();
        let owner = repo.split('/').next().unwrap_or_default().to_owned();
        Ok(Self {
            base: format!("/repos/{}", http::path(&repo)),
            owner,
            clone_url: config.clone_url(),
            merge_method: config.merge_method,
            secret,
            http,
        })
    }

    /// Finds or opens the pull request for `p.branch`, with `auth` (the user's) or the
    /// service credentials.
    async fn open_with(
        &self,
        p: &Publication,
        auth: Option<(HeaderName, HeaderValue)>,
    ) -> Result<RequestState, HostError> {
        if let Some(pr) = self.find(p).await? {
            return Ok(pr.state());
        }
        let req = Req::post(
            self.url("/pulls"),
            json!({"title": p.title, "head": p.branch, "base": p.base_branch, "body": p.body}),
        );
        let sent = match auth {
            Some(auth) => self.http.send_as(req, auth, false).await,
            None => self.http.send_once(req).await,
        };
        let lost = match sent {
            Ok(resp) if resp.is_success() => return Ok(resp.json::<Pull>()?.state()),
            Ok(resp) if resp.status == 422 && resp.message().contains("already exists") => {
                self.http.error(&resp)
            }
            Ok(resp) => return Err(self.http.error(&resp)),
            Err(e) if e.kind == HostErrorKind::Unavailable => e,
            Err(e) => return Err(e),
        };
        // Made by an earlier try whose answer was lost: find it.
        match self.find(p).await? {
            Some(pr) => Ok(pr.state()),
            None => Err(lost),
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }

    async fn tree(&self, p: &Publication) -> Result<String, HostError> {
        let mut entries = Vec::with_capacity(p.files.len());
        for f in &p.files {
            entries.push(self.tree_entry(f).await?);
        }
        // Trees are content-addressed: repeating the call makes the same tree.
        let resp = self
            .http
            .send_retrying(Req::post(
                self.url("/git/trees"),
                json!({"base_tree": p.base_tree.to_string(), "tree": entries}),
            ))
            .await?;
        Ok(self.http.expect::<Sha>(resp)?.sha)
    }

    async fn tree_entry(&self, f: &FileChange) -> Result<serde_json::Value, HostError> {
        let Some(content) = &f.content else {
            return Ok(json!({"path": f.path, "mode": "100644", "type": "blob", "sha": null}));
        };
        if let Ok(text) = std::str::from_utf8(content) {
            return Ok(json!({"path": f.path, "mode": "100644", "type": "blob", "content": text}));
        }
        // Inline tree content must be text; other bytes go up as a blob first.
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        let resp = self
            .http
            .send_retrying(Req::post(
                self.url("/git/blobs"),
                json!({"content": encoded, "encoding": "base64"}),
            ))
            .await?;
        let blob = self.http.expect::<Sha>(resp)?;
        Ok(json!({"path": f.path, "mode": "100644", "type": "blob", "sha": blob.sha}))
    }

    async fn commit(&self, p: &Publication, tree: &str) -> Result<String, HostError> {
        // No author or committer: the token's identity commits, so an App's commit is signed.
        let message = with_co_author(&p.message, &p.author);
        let resp = self
            .http
            .send_retrying(Req::post(
                self.url("/git/commits"),
                json!({"message": message, "tree": tree, "parents": [p.base.to_string()]}),
            ))
            .await?;
        Ok(self.http.expect::<Sha>(resp)?.sha)
    }

    async fn create_ref(&self, branch: &str, sha: &str) -> Result<(), HostError> {
        let req = Req::post(
            self.url("/git/refs"),
            json!({"ref": format!("refs/heads/{branch}"), "sha": sha}),
        );
        match self.http.send_once(req).await {
            Ok(resp) if resp.is_success() => Ok(()),
            Ok(resp) if resp.status == 422 && resp.message().contains("already exists") => {
                Err(branch_exists(branch, &resp))
            }
            Ok(resp) => Err(self.http.error(&resp)),
            Err(e) if e.kind == HostErrorKind::Unavailable => {
                // The answer may be lost after the ref was made: look before failing.
                match self.branch_head(branch).await {
                    Ok(Some(head)) if head == sha => Ok(()),
                    Ok(Some(_)) => Err(HostError::new(
                        HostErrorKind::BranchExists,
                        format!("the branch {branch} already exists on GitHub"),
                    )),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn find(&self, p: &Publication) -> Result<Option<Pull>, HostError> {
        let req = Req::get(self.url("/pulls"))
            .query("head", format!("{}:{}", self.owner, p.branch))
            .query("state", "all")
            .query("per_page", "100");
        let resp = self.http.send_retrying(req).await?;
        let pulls: Vec<Pull> = self.http.expect(resp)?;
        let mut mine = pulls.into_iter().filter(|pr| pr.head.git_ref == p.branch);
        let first = mine.next();
        Ok(match first {
            Some(pr) if pr.state == "open" => Some(pr),
            other => mine.find(|pr| pr.state == "open").or(other),
        })
    }

    async fn pull(&self, number: u64) -> Result<Pull, HostError> {
        self.http.get(self.url(&format!("/pulls/{number}"))).await
    }

    async fn reviews(&self, number: u64) -> Result<Vec<Review>, HostError> {
        let resp = self
            .http
            .send_retrying(
                Req::get(self.url(&format!("/pulls/{number}/reviews"))).query("per_page", "100"),
            )
            .await?;
        let reviews: Vec<GhReview> = self.http.expect(resp)?;
        Ok(latest_reviews(reviews.into_iter().filter_map(|r| {
            let state = review_state(&r.state)?;
            Some(Review {
                login: r.user?.login,
                state,
            })
        })))
    }

    /// Commit statuses and check runs on `sha`. A token without the statuses or checks read
    /// permission sees none rather than failing the whole read.
    async fn checks(&self, sha: &str) -> Result<Vec<Check>, HostError> {
        let sha = http::segment(sha);
        let (status, runs) = tokio::try_join!(
            self.http.send_retrying(
                Req::get(self.url(&format!("/commits/{sha}/status"))).query("per_page", "100")
            ),
            self.http.send_retrying(
                Req::get(self.url(&format!("/commits/{sha}/check-runs"))).query("per_page", "100")
            ),
        )?;
        let mut checks = Vec::new();
        if let Some(combined) = self.optional::<Combined>(status)? {
            checks.extend(combined.statuses.into_iter().map(|s| Check {
                state: status_state(&s.state),
                name: s.context,
                url: s.target_url.filter(|u| !u.is_empty()),
            }));
        }
        if let Some(runs) = self.optional::<CheckRuns>(runs)? {
            checks.extend(runs.check_runs.into_iter().map(|r| Check {
                state: run_state(&r.status, r.conclusion.as_deref()),
                name: r.name,
                url: r.html_url.filter(|u| !u.is_empty()),
            }));
        }
        Ok(checks)
    }

    fn optional<T: serde::de::DeserializeOwned>(&self, resp: Resp) -> Result<Option<T>, HostError> {
        match resp.status.as_u16() {
            403 | 404 => Ok(None),
            _ => self.http.expect(resp).map(Some),
        }
    }
}

fn branch_exists(branch: &str, resp: &Resp) -> HostError {
    HostError::new(
        HostErrorKind::BranchExists,
        format!(
            "the branch {branch} already exists on GitHub ({})",
            resp.message()
        ),
    )
}

#[async_trait::async_trait]
impl Host for Github {
    fn kind(&self) -> HostKind {
        HostKind::Github
    }

    fn calls(&self) -> u64 {
        self.http.calls()
    }

    async fn check(&self) -> Result<(), HostError> {
        let resp = self.http.send_retrying(Req::get(self.base.clone())).await?;
        if resp.status == 404 {
            return Err(HostError::new(
                HostErrorKind::NotFound,
                format!(
                    "GitHub has no repository {} at {}, or the token cannot see it",
                    self.http.repo(),
                    crate::config::redact_url(self.http.api_url())
                ),
            ));
        }
        let repo: GhRepo = self.http.expect(resp)?;
        // An App's installation token gets no `permissions`: its grant is checked on writes.
        if repo.permissions.is_some_and(|p| !p.push) {
            return Err(HostError::new(
                HostErrorKind::Forbidden,
                format!(
                    "the token can read {} on GitHub but may not write to it: it needs {}",
                    self.http.repo(),
                    self.http.permission()
                ),
            ));
        }
        Ok(())
    }

    async fn branch_head(&self, branch: &str) -> Result<Option<String>, HostError> {
        let resp = self
            .http
            .send_retrying(Req::get(
                self.url(&format!("/git/ref/heads/{}", http::path(branch))),
            ))
            .await?;
        if resp.status == 404 {
            return Ok(None);
        }
        Ok(Some(self.http.expect::<GitRef>(resp)?.object.sha))
    }

    async fn publish(
        &self,
        p: &Publication,
        replace: Option<&str>,
    ) -> Result<Published, HostError> {
        if let Some(old) = replace {
            let head = self.branch_head(&p.branch).await?;
            super::still_at(&p.branch, old, head.as_deref())?;
        }
        let tree = self.tree(p).await?;
        let commit = self.commit(p, &tree).await?;
        match replace {
            None => self.create_ref(&p.branch, &commit).await?,
            Some(_) => {
                // Setting a ref to a given sha is safe to repeat.
                let resp = self
                    .http
                    .send_retrying(Req::patch(
                        self.url(&format!("/git/refs/heads/{}", http::path(&p.branch))),
                        json!({"sha": commit, "force": true}),
                    ))
                    .await?;
                self.http.expect_ok(resp)?;
            }
        }
        Ok(Published {
            head: commit,
            parent: p.base.to_string(),
        })
    }

    async fn open(&self, p: &Publication) -> Result<RequestState, HostError> {
        self.open_with(p, None).await
    }

    async fn open_as(&self, p: &Publication, user: &AsUser) -> Result<RequestState, HostError> {
        self.open_with(p, Some(user.authorization()?)).await
    }

    async fn approve_as(&self, number: u64, body: &str, user: &AsUser) -> Result<(), HostError> {
        let req = Req::post(
            self.url(&format!("/pulls/{number}/reviews")),
            json!({"event": "APPROVE", "body": body}),
        );
        let resp = self.http.send_as(req, user.authorization()?, false).await?;
        self.http.expect_ok(resp)
    }

    /// Teams of the repository's organisation (`org/team` groups with `org` the owner) are
    /// asked with `team_reviewers`; GitHub has no other kind of group.
    async fn request_reviews(
        &self,
        number: u64,
        groups: &[String],
    ) -> Result<Vec<String>, HostError> {
        let url = self.url(&format!("/pulls/{number}/requested_reviewers"));
        request_team_reviews(&self.http, url, &self.owner, groups).await
    }

    async fn read(&self, number: u64) -> Result<RequestState, HostError> {
        let pr = self.pull(number).await?;
        let (reviews, checks) = tokio::try_join!(self.reviews(number), self.checks(&pr.head.sha))?;
        let mut state = pr.state();
        state.reviews = reviews;
        state.checks = checks;
        Ok(state)
    }

    async fn merge(
        &self,
        number: u64,
        head: &str,
        title: &str,
        message: &str,
    ) -> Result<String, HostError> {
        let method = match self.merge_method {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        };
        let req = Req::put(
            self.url(&format!("/pulls/{number}/merge")),
            json!({"sha": head, "merge_method": method, "commit_title": title, "commit_message": message}),
        );
        let resp = match self.http.send_once(req).await {
            Ok(resp) => resp,
            Err(e) if e.kind == HostErrorKind::Unavailable => {
                // The merge may have happened and its answer been lost.
                return match self.pull(number).await {
                    Ok(pr) if pr.is_merged() => pr.merge_commit_sha.ok_or(e),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        match resp.status.as_u16() {
            200..=299 => Ok(resp.json::<Merged>()?.sha),
            405 => Err(HostError::new(
                HostErrorKind::NotMergeable,
                format!(
                    "GitHub will not merge pull request #{number}: {}",
                    resp.message()
                ),
            )),
            409 => Err(HostError::new(
                HostErrorKind::HeadMoved,
                format!(
                    "the branch of pull request #{number} moved since it was read ({})",
                    resp.message()
                ),
            )),
            _ => Err(self.http.error(&resp)),
        }
    }

    async fn close(&self, number: u64) -> Result<(), HostError> {
        let resp = self
            .http
            .send_retrying(Req::patch(
                self.url(&format!("/pulls/{number}")),
                json!({"state": "closed"}),
            ))
            .await?;
        self.http.expect_ok(resp)
    }

    async fn comment(&self, number: u64, body: &str) -> Result<(), HostError> {
        let resp = self
            .http
            .send_once(Req::post(
                self.url(&format!("/issues/{number}/comments")),
                json!({"body": body}),
            ))
            .await?;
        self.http.expect_ok(resp)
    }

    fn webhook(&self, headers: &::http::HeaderMap, body: &[u8]) -> Result<Delivery, HookError> {
        hook::delivery(&self.secret, headers, body)
    }

    async fn fetch_auth(&self) -> Result<Option<(String, String)>, HostError> {
        let (_, value) = self.http.authorization().await?;
        let value = value.to_str().unwrap_or_default();
        let token = value.strip_prefix("Bearer ").unwrap_or(value);
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
        Ok(Some((self.clone_url.clone(), format!("Basic {basic}"))))
    }
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct GitRef {
    object: Sha,
}

#[derive(Deserialize)]
struct Merged {
    sha: String,
}

#[derive(Deserialize)]
struct GhRepo {
    permissions: Option<Permissions>,
}

#[derive(Deserialize)]
struct Permissions {
    #[serde(default)]
    push: bool,
}

#[derive(Deserialize)]
struct Pull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    merge_commit_sha: Option<String>,
    #[serde(default)]
    mergeable: Option<bool>,
    #[serde(default)]
    mergeable_state: Option<String>,
    head: Head,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
}

impl Pull {
    fn is_merged(&self) -> bool {
        self.merged.unwrap_or(false) || self.merged_at.is_some()
    }

    fn state(self) -> RequestState {
        let status = if self.is_merged() {
            RequestStatus::Merged
        } else if self.state == "open" {
            RequestStatus::Open
        } else {
            RequestStatus::Closed
        };
        RequestState {
            number: self.number,
            url: self.html_url,
            status,
            head_sha: self.head.sha,
            merge_commit: self
                .merge_commit_sha
                .filter(|_| status == RequestStatus::Merged),
            mergeable: self.mergeable,
            merge_status: self.mergeable_state,
            reviews: Vec::new(),
            checks: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
struct GhReview {
    user: Option<Login>,
    state: String,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct Combined {
    #[serde(default)]
    statuses: Vec<GhStatus>,
}

#[derive(Deserialize)]
struct GhStatus {
    context: String,
    state: String,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Deserialize)]
struct CheckRuns {
    #[serde(default)]
    check_runs: Vec<CheckRun>,
}

#[derive(Deserialize)]
struct CheckRun {
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

/// A submitted review's verdict; pending (unsubmitted) reviews count for nothing.
fn review_state(state: &str) -> Option<ReviewState> {
    match state {
        "APPROVED" => Some(ReviewState::Approved),
        "CHANGES_REQUESTED" => Some(ReviewState::ChangesRequested),
        "COMMENTED" => Some(ReviewState::Commented),
        "DISMISSED" => Some(ReviewState::Dismissed),
        _ => None,
    }
}

fn status_state(state: &str) -> CheckState {
    match state {
        "success" => CheckState::Success,
        "pending" => CheckState::Pending,
        _ => CheckState::Failure,
    }
}

fn run_state(status: &str, conclusion: Option<&str>) -> CheckState {
    if status != "completed" {
        return CheckState::Pending;
    }
    match conclusion {
        Some("success" | "neutral" | "skipped") => CheckState::Success,
        None => CheckState::Pending,
        Some(_) => CheckState::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_states_map_from_githubs_fields() {
        let pr: Pull = serde_json::from_value(json!({
            "number": 7, "html_url": "https://github.com/acme/apis/pull/7", "state": "closed",
            "merged": true, "merged_at": "2026-01-01T00:00:00Z", "merge_commit_sha": "m1",
            "mergeable": null, "mergeable_state": "unknown",
            "head": {"ref": "tollgate/7-x", "sha": "h1"}, "base": {"ref": "main", "sha": "b1"},
            "user": {"login": "tollgate[bot]"}
        }))
        .unwrap();
        let s = pr.state();
        assert_eq!(s.status, RequestStatus::Merged);
        assert_eq!(s.merge_commit.as_deref(), Some("m1"));
        assert_eq!(s.mergeable, None);
        // A list item has no `merged`; an open pull request's merge_commit_sha is a test merge.
        let pr: Pull = serde_json::from_value(json!({
            "number": 8, "html_url": "u", "state": "open", "merged_at": null,
            "merge_commit_sha": "test-merge", "head": {"ref": "b", "sha": "h2"}
        }))
        .unwrap();
        let s = pr.state();
        assert_eq!(s.status, RequestStatus::Open);
        assert_eq!(s.merge_commit, None);
        let pr: Pull = serde_json::from_value(json!({
            "number": 9, "html_url": "u", "state": "closed", "merged": false,
            "head": {"ref": "b", "sha": "h3"}
        }))
        .unwrap();
        assert_eq!(pr.state().status, RequestStatus::Closed);
    }

    #[test]
    fn review_and_check_states_map() {
        assert_eq!(review_state("APPROVED"), Some(ReviewState::Approved));
        assert_eq!(
            review_state("CHANGES_REQUESTED"),
            Some(ReviewState::ChangesRequested)
        );
        assert_eq!(review_state("DISMISSED"), Some(ReviewState::Dismissed));
        assert_eq!(review_state("PENDING"), None);
        assert_eq!(status_state("error"), CheckState::Failure);
        assert_eq!(status_state("pending"), CheckState::Pending);
        assert_eq!(run_state("in_progress", None), CheckState::Pending);
        assert_eq!(run_state("completed", Some("skipped")), CheckState::Success);
        assert_eq!(
            run_state("completed", Some("timed_out")),
            CheckState::Failure
        );
    }
}
