//! Gitea and Forgejo: one `POST /contents` makes the branch and its commit with the user as
//! author (per-file `sha` as compare-and-swap), a pull request per change, reviews and the
//! combined commit status, and webhooks signed in `X-Gitea-Signature`.

use super::http::{self, HostClient, Req, Timing, Token};
use super::remote::{
    Secret, branch_of, delivery_id, header, latest_reviews, payload, request_team_reviews,
};
use super::{
    AsUser, Check, CheckState, Delivery, FileChange, Hook, HookError, Host, HostError,
    HostErrorKind, HostKind, Publication, Published, RequestState, RequestStatus, Review,
    ReviewState,
};
use crate::config::{ConfigError, HostConfig, MergeMethod};
use base64::Engine;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};

/// A Gitea or Forgejo repository.
#[derive(Debug)]
pub struct Gitea {
    http: HostClient,
    /// `/repos/owner/name`.
    base: String,
    clone_url: String,
    merge_method: MergeMethod,
    secret: Secret,
}

impl Gitea {
    pub fn new(config: &HostConfig, secret: Secret, timing: Timing) -> Result<Self, ConfigError> {
        let token =
            Token::new(AUTHORIZATION, "token ", &config.token()?).map_err(ConfigError::new)?;
        let http = HostClient::new(
            HostKind::Gitea,
            &config.api_url,
            &config.repo,
            Vec::new(),
            Box::new(token),
            timing,
        )
        .map_err(ConfigError::new)?;
        Ok(Self {
            base: format!("/repos/{}", http::path(http.repo())),
            clone_url: config.clone_url(),
            merge_method: config.merge_method,
            secret,
            http,
        })
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }

    async fn find(&self, p: &Publication) -> Result<Option<Pull>, HostError> {
        let resp = self
            .http
            .send_retrying(Req::get(self.url(&format!(
                "/pulls/{}/{}",
                http::segment(&p.base_branch),
                http::path(&p.branch)
            ))))
            .await?;
        if resp.status == 404 {
            return Ok(None);
        }
        self.http.expect(resp).map(Some)
    }

    async fn pull(&self, number: u64) -> Result<Pull, HostError> {
        self.http.get(self.url(&format!("/pulls/{number}"))).await
    }

    async fn reviews(&self, number: u64) -> Result<Vec<Review>, HostError> {
        let resp = self
            .http
            .send_retrying(Req::get(self.url(&format!("/pulls/{number}/reviews"))))
            .await?;
        let reviews: Vec<GtReview> = self.http.expect(resp)?;
        Ok(latest_reviews(reviews.into_iter().filter_map(|r| {
            let state = review_state(&r.state, r.dismissed)?;
            Some(Review {
                login: r.user?.login,
                state,
            })
        })))
    }

    async fn statuses(&self, sha: &str) -> Result<Vec<Check>, HostError> {
        let combined: Combined = self
            .http
            .get(self.url(&format!("/commits/{}/status", http::segment(sha))))
            .await?;
        Ok(combined
            .statuses
            .into_iter()
            .map(|s| Check {
                state: status_state(&s.status),
                name: s.context,
                url: s.target_url.filter(|u| !u.is_empty()),
            })
            .collect())
    }

    /// One `ChangeFiles` call making `p.branch` from the base branch.
    async fn create(&self, p: &Publication) -> Result<Published, HostError> {
        let req = Req::post(
            self.url("/contents"),
            json!({
                "branch": p.base_branch,
                "new_branch": p.branch,
                "message": p.message,
                "files": p.files.iter().map(file).collect::<Vec<_>>(),
                "author": {"name": p.author.name, "email": p.author.email},
                // Without a committer Gitea makes the author the committer too.
                "committer": {
                    "name": crate::repo::TOLLGATE_NAME,
                    "email": crate::repo::TOLLGATE_EMAIL,
                },
            }),
        );
        let resp = match self.http.send_once(req).await {
            Ok(resp) => resp,
            Err(e) if e.kind == HostErrorKind::Unavailable => {
                // The branch may have been made and the answer lost: look before failing.
                return match self.branch_head(&p.branch).await {
                    Ok(Some(_)) => Err(branch_exists(&p.branch)),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        if resp.is_success() {
            let changed: FilesResponse = resp.json()?;
            let parent = changed
                .commit
                .parents
                .into_iter()
                .next()
                .map(|c| c.sha)
                .unwrap_or_else(|| p.base.to_string());
            return Ok(Published {
                head: changed.commit.sha,
                parent,
            });
        }
        let said = resp.message();
        let lower = said.to_lowercase();
        if matches!(resp.status.as_u16(), 409 | 422) {
            if lower.contains("branch") && lower.contains("already exist") {
                return Err(branch_exists(&p.branch));
            }
            if lower.contains("sha") && lower.contains("match") {
                return Err(HostError::new(
                    HostErrorKind::Conflict,
                    format!(
                        "a file changed on {} since the change was planned ({said}); propose it again to plan it on the new head",
                        p.base_branch
                    ),
                ));
            }
        }
        Err(self.http.error(&resp))
    }

    async fn open_request(
        &self,
        p: &Publication,
        auth: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    ) -> Result<RequestState, HostError> {
        if let Some(pr) = self.find(p).await? {
            return Ok(pr.state());
        }
        let req = Req::post(
            self.url("/pulls"),
            json!({"head": p.branch, "base": p.base_branch, "title": p.title, "body": p.body}),
        );
        let sent = match auth {
            Some(auth) => self.http.send_as(req, auth, false).await,
            None => self.http.send_once(req).await,
        };
        let lost = match sent {
            Ok(resp) if resp.is_success() => return Ok(resp.json::<Pull>()?.state()),
            Ok(resp) if resp.status == 409 => self.http.error(&resp),
            Ok(resp) => return Err(self.http.error(&resp)),
            Err(e) if e.kind == HostErrorKind::Unavailable => e,
            Err(e) => return Err(e),
        };
        match self.find(p).await? {
            Some(pr) => Ok(pr.state()),
            None => Err(lost),
        }
    }

    /// Reopens a pull request that shows closed but not merged.
    async fn reopen(&self, number: u64) -> Result<(), HostError> {
        let pr = self.pull(number).await?;
        if pr.state == "open" || pr.merged {
            return Ok(());
        }
        let resp = self
            .http
            .send_retrying(Req::patch(
                self.url(&format!("/pulls/{number}")),
                json!({"state": "open"}),
            ))
            .await?;
        self.http.expect_ok(resp)
    }

    async fn delete_branch(&self, branch: &str) -> Result<(), HostError> {
        let resp = self
            .http
            .send_retrying(Req::delete(
                self.url(&format!("/branches/{}", http::path(branch))),
            ))
            .await?;
        // Gone already (a repeat after a lost answer) is what was wanted.
        if resp.status == 404 {
            return Ok(());
        }
        self.http.expect_ok(resp)
    }
}

fn file(f: &FileChange) -> Value {
    let mut v = json!({"path": f.path});
    match &f.content {
        None => v["operation"] = json!("delete"),
        Some(content) => {
            v["operation"] = json!(if f.old_blob.is_some() {
                "update"
            } else {
                "create"
            });
            v["content"] = json!(base64::engine::general_purpose::STANDARD.encode(content));
        }
    }
    if let Some(old) = f.old_blob {
        v["sha"] = json!(old.to_string());
    }
    v
}

fn branch_exists(branch: &str) -> HostError {
    HostError::new(
        HostErrorKind::BranchExists,
        format!("the branch {branch} already exists on Gitea"),
    )
}

#[async_trait::async_trait]
impl Host for Gitea {
    fn kind(&self) -> HostKind {
        HostKind::Gitea
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
                    "Gitea has no repository {} at {}, or the token cannot see it",
                    self.http.repo(),
                    crate::config::redact_url(self.http.api_url())
                ),
            ));
        }
        let repo: GtRepo = self.http.expect(resp)?;
        if !repo.permissions.is_some_and(|p| p.push) {
            return Err(HostError::new(
                HostErrorKind::Forbidden,
                format!(
                    "the token can read {} on Gitea but may not write to it: it needs {}",
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
                self.url(&format!("/branches/{}", http::path(branch))),
            ))
            .await?;
        if resp.status == 404 {
            return Ok(None);
        }
        Ok(Some(self.http.expect::<Branch>(resp)?.commit.id))
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
        // Gitea cannot move a branch to an unrelated commit: it is made afresh. Deleting it
        // closes its open pull request, which is reopened once the branch is back.
        let reopen = match replace {
            Some(_) => {
                let open = self
                    .find(p)
                    .await?
                    .filter(|pr| pr.state == "open" && !pr.merged);
                self.delete_branch(&p.branch).await?;
                open.map(|pr| pr.number)
            }
            None => None,
        };
        let published = self.create(p).await?;
        if let Some(number) = reopen
            && let Err(e) = self.reopen(number).await
        {
            tracing::warn!(number, error = %e, "could not reopen the pull request after replacing its branch");
        }
        Ok(published)
    }

    async fn open(&self, p: &Publication) -> Result<RequestState, HostError> {
        self.open_request(p, None).await
    }

    async fn open_as(&self, p: &Publication, user: &AsUser) -> Result<RequestState, HostError> {
        self.open_request(p, Some(user.authorization()?)).await
    }

    async fn approve_as(&self, number: u64, body: &str, user: &AsUser) -> Result<(), HostError> {
        let req = Req::post(
            self.url(&format!("/pulls/{number}/reviews")),
            json!({"event": "APPROVED", "body": body}),
        );
        let resp = self.http.send_as(req, user.authorization()?, false).await?;
        self.http.expect_ok(resp)
    }

    /// Gitea asks teams of the repository's organisation by name (`org/team` groups with `org`
    /// the owner), as GitHub does.
    async fn request_reviews(
        &self,
        number: u64,
        groups: &[String],
    ) -> Result<Vec<String>, HostError> {
        let owner = self.http.repo().split('/').next().unwrap_or_default();
        let url = self.url(&format!("/pulls/{number}/requested_reviewers"));
        request_team_reviews(&self.http, url, owner, groups).await
    }

    async fn read(&self, number: u64) -> Result<RequestState, HostError> {
        let pr = self.pull(number).await?;
        let (reviews, checks) =
            tokio::try_join!(self.reviews(number), self.statuses(&pr.head.sha))?;
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
        let how = match self.merge_method {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        };
        let req = Req::post(
            self.url(&format!("/pulls/{number}/merge")),
            json!({
                "Do": how, "head_commit_id": head,
                "MergeTitleField": title, "MergeMessageField": message,
            }),
        );
        let lost = match self.http.send_once(req).await {
            Ok(resp) => match resp.status.as_u16() {
                200..=299 => None,
                405 => {
                    return Err(HostError::new(
                        HostErrorKind::NotMergeable,
                        format!(
                            "Gitea will not merge pull request #{number}: {}",
                            resp.message()
                        ),
                    ));
                }
                409 => {
                    return Err(HostError::new(
                        HostErrorKind::HeadMoved,
                        format!(
                            "the branch of pull request #{number} moved since it was read ({})",
                            resp.message()
                        ),
                    ));
                }
                _ => return Err(self.http.error(&resp)),
            },
            Err(e) if e.kind == HostErrorKind::Unavailable => Some(e),
            Err(e) => return Err(e),
        };
        // Gitea answers a merge with no body: the merge commit is on the pull request.
        let pr = self.pull(number).await?;
        match (pr.merged, pr.merge_commit_sha, lost) {
            (true, Some(sha), _) => Ok(sha),
            (_, _, Some(e)) => Err(e),
            _ => Err(HostError::new(
                HostErrorKind::Unavailable,
                format!("Gitea accepted the merge of #{number} but does not show it merged yet"),
            )),
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
        let signature = header(headers, "x-gitea-signature")
            .or_else(|| header(headers, "x-forgejo-signature"))
            .or_else(|| header(headers, "x-gogs-signature"))
            .or_else(|| {
                header(headers, "x-hub-signature-256").and_then(|s| s.strip_prefix("sha256="))
            });
        self.secret.verify_hmac_hex(signature, body)?;
        let id = delivery_id(
            headers,
            &[
                "x-gitea-delivery",
                "x-forgejo-delivery",
                "x-gogs-delivery",
                "x-github-delivery",
            ],
            body,
        );
        let event = [
            "x-gitea-event",
            "x-forgejo-event",
            "x-gogs-event",
            "x-github-event",
        ]
        .iter()
        .find_map(|n| header(headers, n))
        .unwrap_or_default();
        let v = payload(body)?;
        Ok(Delivery {
            id,
            hook: event_hook(event, &v)?,
        })
    }

    async fn fetch_auth(&self) -> Result<Option<(String, String)>, HostError> {
        let (_, value) = self.http.authorization().await?;
        let value = value.to_str().unwrap_or_default();
        let token = value.strip_prefix("token ").unwrap_or(value);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("tollgate:{token}"));
        Ok(Some((self.clone_url.clone(), format!("Basic {basic}"))))
    }
}

fn event_hook(event: &str, v: &Value) -> Result<Hook, HookError> {
    let missing = |what: &str| HookError::Payload(format!("{event}: no {what}"));
    Ok(match event {
        // pull_request, pull_request_approved/_rejected/_comment, pull_request_sync, …
        e if e.starts_with("pull_request") => Hook::Request {
            number: v["pull_request"]["number"]
                .as_u64()
                .or_else(|| v["number"].as_u64())
                .ok_or_else(|| missing("pull_request.number"))?,
        },
        "issue_comment" if v["is_pull"].as_bool() == Some(true) => {
            match v["issue"]["number"].as_u64() {
                Some(number) => Hook::Request { number },
                None => Hook::Other,
            }
        }
        "push" => {
            let git_ref = v["ref"].as_str().ok_or_else(|| missing("ref"))?;
            match branch_of(git_ref) {
                Some(branch) => Hook::Push {
                    branch: branch.to_owned(),
                    after: v["after"]
                        .as_str()
                        .ok_or_else(|| missing("after"))?
                        .to_owned(),
                },
                None => Hook::Other,
            }
        }
        "status" => Hook::Commit {
            sha: v["sha"].as_str().ok_or_else(|| missing("sha"))?.to_owned(),
        },
        _ => Hook::Other,
    })
}

#[derive(Deserialize)]
struct GtRepo {
    #[serde(default)]
    permissions: Option<Permissions>,
}

#[derive(Deserialize)]
struct Permissions {
    #[serde(default)]
    push: bool,
}

#[derive(Deserialize)]
struct Branch {
    commit: BranchCommit,
}

#[derive(Deserialize)]
struct BranchCommit {
    id: String,
}

#[derive(Deserialize)]
struct FilesResponse {
    commit: FileCommit,
}

#[derive(Deserialize)]
struct FileCommit {
    sha: String,
    #[serde(default)]
    parents: Vec<Parent>,
}

#[derive(Deserialize)]
struct Parent {
    sha: String,
}

#[derive(Deserialize)]
struct Pull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: bool,
    #[serde(default)]
    merge_commit_sha: Option<String>,
    #[serde(default)]
    mergeable: Option<bool>,
    head: Head,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

impl Pull {
    fn state(self) -> RequestState {
        let status = if self.merged {
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
            merge_commit: self.merge_commit_sha.filter(|_| self.merged),
            mergeable: self.mergeable,
            merge_status: None,
            reviews: Vec::new(),
            checks: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
struct GtReview {
    #[serde(default)]
    user: Option<Login>,
    state: String,
    #[serde(default)]
    dismissed: bool,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct Combined {
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    context: String,
    /// Gitea names it `status`; some versions also send GitHub's `state`.
    #[serde(alias = "state")]
    status: String,
    #[serde(default)]
    target_url: Option<String>,
}

/// A review's verdict; pending reviews and review requests count for nothing.
fn review_state(state: &str, dismissed: bool) -> Option<ReviewState> {
    let state = match state {
        "APPROVED" => ReviewState::Approved,
        "REQUEST_CHANGES" => ReviewState::ChangesRequested,
        "COMMENT" => ReviewState::Commented,
        _ => return None,
    };
    Some(if dismissed {
        ReviewState::Dismissed
    } else {
        state
    })
}

fn status_state(status: &str) -> CheckState {
    match status {
        "success" => CheckState::Success,
        "pending" => CheckState::Pending,
        _ => CheckState::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn gitea(secret: &str) -> Gitea {
        let config = HostConfig {
            kind: HostKind::Gitea,
            api_url: "https://git.example.com/api/v1".into(),
            repo: "acme/apis".into(),
            token: "gitea-token-secret".into(),
            ..crate::config::Config::default().host
        };
        Gitea::new(&config, Secret(secret.into()), Timing::default()).unwrap()
    }

    fn signed(event: &str, body: &[u8], secret: &str) -> ::http::HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let mut h = ::http::HeaderMap::new();
        h.insert("x-gitea-event", event.parse().unwrap());
        h.insert(
            "x-gitea-delivery",
            "9d5b4a0e-1b1a-4f2b-8f0e-1d3c2b1a0f9e".parse().unwrap(),
        );
        h.insert(
            "x-gitea-signature",
            hex::encode(mac.finalize().into_bytes()).parse().unwrap(),
        );
        h
    }

    #[test]
    fn webhooks_are_verified_then_mapped() {
        let g = gitea("whsec");
        assert!(!format!("{g:?}").contains("gitea-token-secret"));
        let pr = br#"{"action":"closed","number":3,"pull_request":{"number":3,"merged":true},"repository":{"full_name":"acme/apis"}}"#;
        let d = g.webhook(&signed("pull_request", pr, "whsec"), pr).unwrap();
        assert_eq!(d.id, "9d5b4a0e-1b1a-4f2b-8f0e-1d3c2b1a0f9e");
        assert_eq!(d.hook, Hook::Request { number: 3 });
        let review = br#"{"action":"reviewed","number":3,"pull_request":{"number":3},"review":{"type":"pull_request_review_approved","content":"LGTM"}}"#;
        assert_eq!(
            g.webhook(&signed("pull_request_approved", review, "whsec"), review)
                .unwrap()
                .hook,
            Hook::Request { number: 3 }
        );
        let push = br#"{"ref":"refs/heads/main","before":"28e1879d029cb852e4844d9c718537df08844e03","after":"bffeb74224043ba2feb48d137756c8a9331c449a"}"#;
        assert_eq!(
            g.webhook(&signed("push", push, "whsec"), push)
                .unwrap()
                .hook,
            Hook::Push {
                branch: "main".into(),
                after: "bffeb74224043ba2feb48d137756c8a9331c449a".into()
            }
        );
        let status = br#"{"sha":"bffeb742","context":"ci","state":"success"}"#;
        assert_eq!(
            g.webhook(&signed("status", status, "whsec"), status)
                .unwrap()
                .hook,
            Hook::Commit {
                sha: "bffeb742".into()
            }
        );
        // Wrong secret, a `sha256=` prefix (not Gitea's form), tampered body, no signature.
        assert_eq!(
            g.webhook(&signed("push", push, "nope"), push),
            Err(HookError::Signature)
        );
        let mut prefixed = signed("push", push, "whsec");
        let sig = header(&prefixed, "x-gitea-signature")
            .unwrap_or_default()
            .to_owned();
        prefixed.insert(
            "x-gitea-signature",
            format!("sha256={sig}").parse().unwrap(),
        );
        assert_eq!(g.webhook(&prefixed, push), Err(HookError::Signature));
        assert_eq!(
            g.webhook(&signed("push", push, "whsec"), b"{}"),
            Err(HookError::Signature)
        );
        let mut unsigned = signed("push", push, "whsec");
        unsigned.remove("x-gitea-signature");
        assert_eq!(g.webhook(&unsigned, push), Err(HookError::Signature));
    }

    #[test]
    fn files_carry_the_base_blob_and_base64() {
        let id = gix::ObjectId::empty_blob(gix::hash::Kind::Sha1);
        let update = file(&FileChange {
            path: "apis/a.yaml".into(),
            content: Some(b"a: 1\n".to_vec()),
            old_blob: Some(id),
        });
        assert_eq!(
            update,
            json!({"path": "apis/a.yaml", "operation": "update", "content": "YTogMQo=", "sha": id.to_string()})
        );
        let delete = file(&FileChange {
            path: "apis/b.yaml".into(),
            content: None,
            old_blob: Some(id),
        });
        assert_eq!(
            delete,
            json!({"path": "apis/b.yaml", "operation": "delete", "sha": id.to_string()})
        );
    }

    #[test]
    fn states_map() {
        assert_eq!(review_state("APPROVED", false), Some(ReviewState::Approved));
        assert_eq!(review_state("APPROVED", true), Some(ReviewState::Dismissed));
        assert_eq!(review_state("REQUEST_REVIEW", false), None);
        assert_eq!(review_state("PENDING", false), None);
        assert_eq!(status_state("warning"), CheckState::Failure);
        let pr: Pull = serde_json::from_value(json!({
            "number": 2, "html_url": "u", "state": "closed", "merged": true,
            "merge_commit_sha": "m", "mergeable": false, "head": {"ref": "b", "sha": "h"}
        }))
        .unwrap();
        let s = pr.state();
        assert_eq!(
            (s.status, s.merge_commit.as_deref()),
            (RequestStatus::Merged, Some("m"))
        );
    }
}
