//! GitLab: one `POST /repository/commits` makes the branch and its commit with the user as
//! author, a merge request per change, approvals and commit statuses, and webhooks carrying
//! the secret in `X-Gitlab-Token`.

use super::http::{self, HostClient, Req, Timing, Token};
use super::remote::{Secret, branch_of, delivery_id, header, payload};
use super::{
    AsUser, Check, CheckState, Delivery, FileChange, Hook, HookError, Host, HostError,
    HostErrorKind, HostKind, Publication, Published, RequestState, RequestStatus, Review,
    ReviewState,
};
use crate::config::{ConfigError, HostConfig, MergeMethod};
use base64::Engine;
use reqwest::header::HeaderName;
use serde::Deserialize;
use serde_json::{Value, json};

/// A GitLab project.
#[derive(Debug)]
pub struct Gitlab {
    http: HostClient,
    /// `/projects/group%2Fname`.
    project: String,
    clone_url: String,
    merge_method: MergeMethod,
    secret: Secret,
}

impl Gitlab {
    pub fn new(config: &HostConfig, secret: Secret, timing: Timing) -> Result<Self, ConfigError> {
        let token = Token::new(
            HeaderName::from_static("private-token"),
            "",
            &config.token()?,
        )
        .map_err(ConfigError::new)?;
        let http = HostClient::new(
            HostKind::Gitlab,
            &config.api_url,
            &config.repo,
            Vec::new(),
            Box::new(token),
            timing,
        )
        .map_err(ConfigError::new)?;
        Ok(Self {
            project: format!("/projects/{}", http::segment(http.repo())),
            clone_url: config.clone_url(),
            merge_method: config.merge_method,
            secret,
            http,
        })
    }

    /// Finds or opens the merge request for `p.branch`, with `auth` (the user's) or the
    /// service token.
    async fn open_with(
        &self,
        p: &Publication,
        auth: Option<(HeaderName, reqwest::header::HeaderValue)>,
    ) -> Result<RequestState, HostError> {
        if let Some(mr) = self.find(p).await? {
            return Ok(mr.state());
        }
        let req = Req::post(
            self.url("/merge_requests"),
            json!({
                "source_branch": p.branch, "target_branch": p.base_branch,
                "title": p.title, "description": p.body,
            }),
        );
        let sent = match auth {
            Some(auth) => self.http.send_as(req, auth, false).await,
            None => self.http.send_once(req).await,
        };
        let lost = match sent {
            Ok(resp) if resp.is_success() => return Ok(resp.json::<Mr>()?.state()),
            Ok(resp) if resp.status == 409 => self.http.error(&resp),
            Ok(resp) => return Err(self.http.error(&resp)),
            Err(e) if e.kind == HostErrorKind::Unavailable => e,
            Err(e) => return Err(e),
        };
        match self.find(p).await? {
            Some(mr) => Ok(mr.state()),
            None => Err(lost),
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.project)
    }

    async fn find(&self, p: &Publication) -> Result<Option<Mr>, HostError> {
        let req = Req::get(self.url("/merge_requests"))
            .query("source_branch", p.branch.clone())
            .query("target_branch", p.base_branch.clone())
            .query("state", "all");
        let resp = self.http.send_retrying(req).await?;
        let mrs: Vec<Mr> = self.http.expect(resp)?;
        let open = mrs.iter().position(|m| m.state == "opened");
        Ok(match open {
            Some(i) => mrs.into_iter().nth(i),
            None => mrs.into_iter().next(),
        })
    }

    async fn mr(&self, iid: u64) -> Result<Mr, HostError> {
        self.http
            .get(self.url(&format!("/merge_requests/{iid}")))
            .await
    }

    async fn approvals(&self, iid: u64) -> Result<Vec<Review>, HostError> {
        let resp = self
            .http
            .send_retrying(Req::get(
                self.url(&format!("/merge_requests/{iid}/approvals")),
            ))
            .await?;
        // Instances that hide approvals from the token show none rather than failing.
        if matches!(resp.status.as_u16(), 403 | 404) {
            return Ok(Vec::new());
        }
        let approvals: Approvals = self.http.expect(resp)?;
        Ok(approvals
            .approved_by
            .into_iter()
            .map(|a| Review {
                login: a.user.username,
                state: ReviewState::Approved,
            })
            .collect())
    }

    async fn statuses(&self, sha: &str) -> Result<Vec<Check>, HostError> {
        let resp = self
            .http
            .send_retrying(
                Req::get(self.url(&format!(
                    "/repository/commits/{}/statuses",
                    http::segment(sha)
                )))
                .query("per_page", "100"),
            )
            .await?;
        let statuses: Vec<Status> = self.http.expect(resp)?;
        Ok(statuses
            .into_iter()
            .map(|s| Check {
                state: status_state(&s.status),
                name: s.name,
                url: s.target_url.filter(|u| !u.is_empty()),
            })
            .collect())
    }
}

fn action(f: &FileChange) -> Value {
    let Some(content) = &f.content else {
        return json!({"action": "delete", "file_path": f.path});
    };
    let action = if f.old_blob.is_some() {
        "update"
    } else {
        "create"
    };
    match std::str::from_utf8(content) {
        Ok(text) => {
            json!({"action": action, "file_path": f.path, "content": text, "encoding": "text"})
        }
        Err(_) => json!({
            "action": action, "file_path": f.path, "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(content),
        }),
    }
}

#[async_trait::async_trait]
impl Host for Gitlab {
    fn kind(&self) -> HostKind {
        HostKind::Gitlab
    }

    fn calls(&self) -> u64 {
        self.http.calls()
    }

    async fn check(&self) -> Result<(), HostError> {
        let resp = self
            .http
            .send_retrying(Req::get(self.project.clone()))
            .await?;
        if resp.status == 404 {
            return Err(HostError::new(
                HostErrorKind::NotFound,
                format!(
                    "GitLab has no project {} at {}, or the token cannot see it",
                    self.http.repo(),
                    crate::config::redact_url(self.http.api_url())
                ),
            ));
        }
        let project: Project = self.http.expect(resp)?;
        let level = project
            .permissions
            .map(|p| {
                [p.project_access, p.group_access]
                    .into_iter()
                    .flatten()
                    .map(|a| a.access_level)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        if level < 30 {
            return Err(HostError::new(
                HostErrorKind::Forbidden,
                format!(
                    "the token can read {} on GitLab but may not push to it (access level {level}): it needs {}",
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
                self.url(&format!("/repository/branches/{}", http::segment(branch))),
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
        let mut body = json!({
            "branch": p.branch,
            "start_sha": p.base.to_string(),
            "commit_message": p.message,
            "actions": p.files.iter().map(action).collect::<Vec<_>>(),
            "author_name": p.author.name,
            "author_email": p.author.email,
        });
        if replace.is_some() {
            body["force"] = json!(true);
        }
        let req = Req::post(self.url("/repository/commits"), body);
        // Replacing lands the same files on the same start whatever the tries: safe to repeat.
        // Creating is not (the second try finds the branch), so a lost answer is looked up.
        let sent = if replace.is_some() {
            self.http.send_retrying(req).await
        } else {
            self.http.send_once(req).await
        };
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) if e.kind == HostErrorKind::Unavailable && replace.is_none() => {
                return match self.branch_head(&p.branch).await {
                    Ok(Some(_)) => Err(branch_exists(&p.branch)),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        if resp.is_success() {
            let commit: Commit = resp.json()?;
            let parent = commit
                .parent_ids
                .into_iter()
                .next()
                .unwrap_or_else(|| p.base.to_string());
            return Ok(Published {
                head: commit.id,
                parent,
            });
        }
        let said = resp.message();
        if resp.status == 400 && said.contains("branch") && said.contains("already exists") {
            return Err(branch_exists(&p.branch));
        }
        Err(self.http.error(&resp))
    }

    async fn open(&self, p: &Publication) -> Result<RequestState, HostError> {
        self.open_with(p, None).await
    }

    async fn open_as(&self, p: &Publication, user: &AsUser) -> Result<RequestState, HostError> {
        self.open_with(p, Some(user.authorization()?)).await
    }

    /// An approval (GitLab's reviews have no verdict of their own), then the note.
    async fn approve_as(&self, number: u64, body: &str, user: &AsUser) -> Result<(), HostError> {
        let req = Req::post(
            self.url(&format!("/merge_requests/{number}/approve")),
            json!({}),
        );
        let resp = self.http.send_as(req, user.authorization()?, false).await?;
        self.http.expect_ok(resp)?;
        let note = Req::post(
            self.url(&format!("/merge_requests/{number}/notes")),
            json!({"body": body}),
        );
        let resp = self
            .http
            .send_as(note, user.authorization()?, false)
            .await?;
        self.http.expect_ok(resp)
    }

    async fn read(&self, number: u64) -> Result<RequestState, HostError> {
        let mr = self.mr(number).await?;
        let (reviews, checks) = tokio::try_join!(self.approvals(number), self.statuses(&mr.sha))?;
        let mut state = mr.state();
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
        let text = if message.trim().is_empty() {
            title.to_owned()
        } else {
            format!("{title}\n\n{message}")
        };
        let squash = self.merge_method == MergeMethod::Squash;
        let mut body = json!({"sha": head, "merge_commit_message": text, "squash": squash});
        if squash {
            body["squash_commit_message"] = json!(text);
        }
        let req = Req::put(self.url(&format!("/merge_requests/{number}/merge")), body);
        let resp = match self.http.send_once(req).await {
            Ok(resp) => resp,
            Err(e) if e.kind == HostErrorKind::Unavailable => {
                return match self.mr(number).await {
                    Ok(mr) if mr.state == "merged" => mr.merged_commit().ok_or(e),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        match resp.status.as_u16() {
            200..=299 => {
                let mr: Mr = resp.json()?;
                mr.merged_commit().ok_or_else(|| {
                    HostError::new(
                        HostErrorKind::Unavailable,
                        format!("GitLab accepted the merge of !{number} but has not finished it; it shows as merged once it has"),
                    )
                })
            }
            409 => Err(HostError::new(
                HostErrorKind::HeadMoved,
                format!(
                    "the branch of merge request !{number} moved since it was read ({})",
                    resp.message()
                ),
            )),
            405 | 406 | 422 => Err(HostError::new(
                HostErrorKind::NotMergeable,
                format!("GitLab will not merge !{number}: {}", resp.message()),
            )),
            _ => Err(self.http.error(&resp)),
        }
    }

    async fn close(&self, number: u64) -> Result<(), HostError> {
        let resp = self
            .http
            .send_retrying(Req::put(
                self.url(&format!("/merge_requests/{number}")),
                json!({"state_event": "close"}),
            ))
            .await?;
        self.http.expect_ok(resp)
    }

    async fn comment(&self, number: u64, body: &str) -> Result<(), HostError> {
        let resp = self
            .http
            .send_once(Req::post(
                self.url(&format!("/merge_requests/{number}/notes")),
                json!({"body": body}),
            ))
            .await?;
        self.http.expect_ok(resp)
    }

    fn webhook(&self, headers: &::http::HeaderMap, body: &[u8]) -> Result<Delivery, HookError> {
        self.secret
            .verify_plain(header(headers, "x-gitlab-token"))?;
        let id = delivery_id(headers, &["x-gitlab-event-uuid", "idempotency-key"], body);
        let v = payload(body)?;
        let event = header(headers, "x-gitlab-event").unwrap_or_default();
        Ok(Delivery {
            id,
            hook: event_hook(event, &v)?,
        })
    }

    async fn fetch_auth(&self) -> Result<Option<(String, String)>, HostError> {
        let (_, value) = self.http.authorization().await?;
        let token = value.to_str().unwrap_or_default();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("oauth2:{token}"));
        Ok(Some((self.clone_url.clone(), format!("Basic {basic}"))))
    }
}

fn branch_exists(branch: &str) -> HostError {
    HostError::new(
        HostErrorKind::BranchExists,
        format!("the branch {branch} already exists on GitLab"),
    )
}

fn event_hook(event: &str, v: &Value) -> Result<Hook, HookError> {
    let kind = match event {
        "" => v["object_kind"].as_str().unwrap_or_default(),
        "Merge Request Hook" => "merge_request",
        "Push Hook" => "push",
        "Pipeline Hook" => "pipeline",
        "Note Hook" => "note",
        "Job Hook" => "build",
        _ => "",
    };
    let missing = |what: &str| HookError::Payload(format!("{event}: no {what}"));
    Ok(match kind {
        "merge_request" => Hook::Request {
            number: v["object_attributes"]["iid"]
                .as_u64()
                .ok_or_else(|| missing("object_attributes.iid"))?,
        },
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
        "pipeline" => Hook::Commit {
            sha: v["object_attributes"]["sha"]
                .as_str()
                .ok_or_else(|| missing("object_attributes.sha"))?
                .to_owned(),
        },
        "build" => match v["sha"].as_str() {
            Some(sha) => Hook::Commit {
                sha: sha.to_owned(),
            },
            None => Hook::Other,
        },
        "note" => match v["merge_request"]["iid"].as_u64() {
            Some(number) => Hook::Request { number },
            None => Hook::Other,
        },
        _ => Hook::Other,
    })
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    permissions: Option<Permissions>,
}

#[derive(Deserialize)]
struct Permissions {
    #[serde(default)]
    project_access: Option<Access>,
    #[serde(default)]
    group_access: Option<Access>,
}

#[derive(Deserialize)]
struct Access {
    access_level: u32,
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
struct Commit {
    id: String,
    #[serde(default)]
    parent_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Mr {
    iid: u64,
    web_url: String,
    state: String,
    #[serde(default)]
    sha: String,
    #[serde(default)]
    merge_commit_sha: Option<String>,
    #[serde(default)]
    squash_commit_sha: Option<String>,
    #[serde(default)]
    detailed_merge_status: Option<String>,
    /// Deprecated, read when `detailed_merge_status` is absent (GitLab before 15.6).
    #[serde(default)]
    merge_status: Option<String>,
}

impl Mr {
    /// The commit a merge left on the target: the merge or squash commit, or the head itself
    /// after a fast-forward merge.
    fn merged_commit(&self) -> Option<String> {
        if self.state != "merged" {
            return None;
        }
        self.merge_commit_sha
            .clone()
            .or_else(|| self.squash_commit_sha.clone())
            .or_else(|| (!self.sha.is_empty()).then(|| self.sha.clone()))
    }

    fn state(self) -> RequestState {
        let status = match self.state.as_str() {
            "merged" => RequestStatus::Merged,
            "closed" => RequestStatus::Closed,
            // `locked` is an open request in the middle of being merged.
            _ => RequestStatus::Open,
        };
        let (mergeable, merge_status) = mergeability(
            self.detailed_merge_status.as_deref(),
            self.merge_status.as_deref(),
        );
        RequestState {
            number: self.iid,
            merge_commit: self.merged_commit(),
            url: self.web_url,
            status,
            head_sha: self.sha,
            mergeable,
            merge_status,
            reviews: Vec::new(),
            checks: Vec::new(),
        }
    }
}

/// GitLab's `detailed_merge_status` (or the older `merge_status`) as mergeable-or-not, `None`
/// while GitLab is still working it out.
fn mergeability(detailed: Option<&str>, old: Option<&str>) -> (Option<bool>, Option<String>) {
    match (detailed, old) {
        (Some("mergeable"), _) => (Some(true), Some("mergeable".into())),
        (Some(s @ ("checking" | "unchecked" | "preparing" | "approvals_syncing")), _) => {
            (None, Some(s.into()))
        }
        (Some(s), _) => (Some(false), Some(s.into())),
        (None, Some("can_be_merged")) => (Some(true), Some("can_be_merged".into())),
        (None, Some(s @ ("unchecked" | "checking" | "cannot_be_merged_recheck"))) => {
            (None, Some(s.into()))
        }
        (None, Some(s)) => (Some(false), Some(s.into())),
        (None, None) => (None, None),
    }
}

#[derive(Deserialize)]
struct Approvals {
    #[serde(default)]
    approved_by: Vec<Approver>,
}

#[derive(Deserialize)]
struct Approver {
    user: User,
}

#[derive(Deserialize)]
struct User {
    username: String,
}

#[derive(Deserialize)]
struct Status {
    name: String,
    status: String,
    #[serde(default)]
    target_url: Option<String>,
}

fn status_state(status: &str) -> CheckState {
    match status {
        "success" | "skipped" => CheckState::Success,
        "failed" | "canceled" => CheckState::Failure,
        _ => CheckState::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_status_maps_to_mergeable() {
        assert_eq!(mergeability(Some("mergeable"), None).0, Some(true));
        assert_eq!(
            mergeability(Some("checking"), None),
            (None, Some("checking".into()))
        );
        assert_eq!(mergeability(Some("unchecked"), None).0, None);
        assert_eq!(
            mergeability(Some("ci_must_pass"), Some("can_be_merged")),
            (Some(false), Some("ci_must_pass".into()))
        );
        assert_eq!(mergeability(Some("conflict"), None).0, Some(false));
        assert_eq!(mergeability(None, Some("can_be_merged")).0, Some(true));
        assert_eq!(mergeability(None, Some("cannot_be_merged")).0, Some(false));
    }

    #[test]
    fn merge_requests_map_from_gitlabs_fields() {
        let mr: Mr = serde_json::from_value(json!({
            "id": 1, "iid": 4, "web_url": "https://gitlab.example.com/acme/apis/-/merge_requests/4",
            "state": "merged", "sha": "h", "merge_commit_sha": null, "squash_commit_sha": "s",
            "detailed_merge_status": "not_open", "has_conflicts": false,
            "author": {"username": "tollgate-bot"}
        }))
        .unwrap();
        let s = mr.state();
        assert_eq!((s.number, s.status), (4, RequestStatus::Merged));
        assert_eq!(s.merge_commit.as_deref(), Some("s"));
        let mr: Mr = serde_json::from_value(json!({
            "iid": 5, "web_url": "u", "state": "opened", "sha": "h2",
            "merge_commit_sha": null, "detailed_merge_status": "mergeable"
        }))
        .unwrap();
        let s = mr.state();
        assert_eq!(
            (s.status, s.mergeable, s.merge_commit),
            (RequestStatus::Open, Some(true), None)
        );
        assert_eq!(status_state("running"), CheckState::Pending);
        assert_eq!(status_state("canceled"), CheckState::Failure);
    }

    #[test]
    fn actions_follow_the_base_blob() {
        let id = gix::ObjectId::empty_blob(gix::hash::Kind::Sha1);
        let f = |content: Option<&[u8]>, old| FileChange {
            path: "apis/a.yaml".into(),
            content: content.map(<[u8]>::to_vec),
            old_blob: old,
        };
        assert_eq!(action(&f(Some(b"a: 1\n"), None))["action"], "create");
        assert_eq!(action(&f(Some(b"a: 1\n"), Some(id)))["action"], "update");
        assert_eq!(action(&f(Some(b"a: 1\n"), Some(id)))["encoding"], "text");
        assert_eq!(
            action(&f(None, Some(id))),
            json!({"action": "delete", "file_path": "apis/a.yaml"})
        );
        assert_eq!(action(&f(Some(&[0xff, 0]), None))["encoding"], "base64");
    }

    fn gitlab(secret: &str) -> Gitlab {
        let config = HostConfig {
            kind: HostKind::Gitlab,
            api_url: "https://gitlab.example.com/api/v4".into(),
            repo: "acme/platform/apis".into(),
            token: "glpat-secret".into(),
            ..crate::config::Config::default().host
        };
        Gitlab::new(&config, Secret(secret.into()), Timing::default()).unwrap()
    }

    fn hook_headers(event: &str, token: Option<&str>) -> ::http::HeaderMap {
        let mut h = ::http::HeaderMap::new();
        h.insert("x-gitlab-event", event.parse().unwrap());
        h.insert(
            "x-gitlab-event-uuid",
            "13792a34-cac6-4fda-95a8-c58e00a3954e".parse().unwrap(),
        );
        if let Some(t) = token {
            h.insert("x-gitlab-token", t.parse().unwrap());
        }
        h
    }

    #[test]
    fn webhooks_need_the_token_and_map_events() {
        let g = gitlab("s3cret");
        assert_eq!(g.project, "/projects/acme%2Fplatform%2Fapis");
        assert!(!format!("{g:?}").contains("glpat-secret"));
        let mr = br#"{"object_kind":"merge_request","event_type":"merge_request",
            "user":{"username":"bob"},"project":{"path_with_namespace":"acme/platform/apis"},
            "object_attributes":{"iid":4,"action":"approved","state":"opened",
            "last_commit":{"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7"}}}"#;
        let d = g
            .webhook(&hook_headers("Merge Request Hook", Some("s3cret")), mr)
            .unwrap();
        assert_eq!(d.id, "13792a34-cac6-4fda-95a8-c58e00a3954e");
        assert_eq!(d.hook, Hook::Request { number: 4 });
        for wrong in [None, Some("s3cre"), Some("S3cret")] {
            assert_eq!(
                g.webhook(&hook_headers("Merge Request Hook", wrong), mr),
                Err(HookError::Signature)
            );
        }
        let push = br#"{"object_kind":"push","ref":"refs/heads/main",
            "before":"95790bf891e76fee5e1747ab589903a6a1f80f22",
            "after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7"}"#;
        assert_eq!(
            g.webhook(&hook_headers("Push Hook", Some("s3cret")), push)
                .unwrap()
                .hook,
            Hook::Push {
                branch: "main".into(),
                after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7".into()
            }
        );
        let pipeline = br#"{"object_kind":"pipeline","object_attributes":{"id":31,"sha":"bcbb5ec3","status":"success"}}"#;
        assert_eq!(
            g.webhook(&hook_headers("Pipeline Hook", Some("s3cret")), pipeline)
                .unwrap()
                .hook,
            Hook::Commit {
                sha: "bcbb5ec3".into()
            }
        );
        let note = br#"{"object_kind":"note","object_attributes":{"noteable_type":"MergeRequest"},"merge_request":{"iid":9}}"#;
        assert_eq!(
            g.webhook(&hook_headers("Note Hook", Some("s3cret")), note)
                .unwrap()
                .hook,
            Hook::Request { number: 9 }
        );
        let issue_note = br#"{"object_kind":"note","issue":{"iid":2}}"#;
        assert_eq!(
            g.webhook(&hook_headers("Note Hook", Some("s3cret")), issue_note)
                .unwrap()
                .hook,
            Hook::Other
        );
        // No secret configured: nothing is accepted.
        assert_eq!(
            gitlab("").webhook(&hook_headers("Push Hook", Some("")), push),
            Err(HookError::Signature)
        );
    }
}
