//! Webhooks: each state change becomes one event; every registered hook gets it in its
//! flavour's payload and headers, signed with its secret, delivered in order by one thread.

use super::client;
use super::git::ZERO;
use super::json::{self, gitea, github, gitlab};
use super::state::{Flavour, Hook, ReviewState, State};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What happened to a pull.
#[derive(Clone, Debug)]
pub enum PullAction {
    Opened,
    Closed,
    Reopened,
    Edited,
    Merged,
    Synchronize { before: String },
}

/// A state change that webhooks report.
#[derive(Clone, Debug)]
pub enum Event {
    Push {
        repo: String,
        ref_name: String,
        before: String,
        after: String,
        pusher: String,
    },
    Pull {
        repo: String,
        number: u64,
        action: PullAction,
        actor: String,
    },
    Review {
        repo: String,
        number: u64,
        review_id: u64,
        actor: String,
    },
    Status {
        repo: String,
        status_id: u64,
        actor: String,
    },
    CheckRun {
        repo: String,
        check_run_id: u64,
        actor: String,
    },
    Comment {
        repo: String,
        comment_id: u64,
        actor: String,
    },
    Ping {
        hook_id: u64,
    },
}

impl Event {
    fn repo(&self) -> Option<&str> {
        match self {
            Event::Push { repo, .. }
            | Event::Pull { repo, .. }
            | Event::Review { repo, .. }
            | Event::Status { repo, .. }
            | Event::CheckRun { repo, .. }
            | Event::Comment { repo, .. } => Some(repo),
            Event::Ping { .. } => None,
        }
    }
}

/// One delivery: what was sent and what the receiver answered (`None` while queued, `Some(0)`
/// when it could not be reached).
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    pub hook_id: u64,
    pub flavour: Flavour,
    pub event: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: Option<u16>,
}

/// The delivery log and queue.
#[derive(Default)]
pub struct Outbox {
    log: Mutex<Vec<Delivery>>,
    sent: Condvar,
}

impl Outbox {
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    /// Waits until every queued delivery was attempted, or the timeout passes.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let Ok(guard) = self.log.lock() else {
            return false;
        };
        self.sent
            .wait_timeout_while(guard, timeout, |l| l.iter().any(|d| d.status.is_none()))
            .map(|(_, t)| !t.timed_out())
            .unwrap_or(false)
    }
}

/// Starts the delivery thread; the sender queues log indexes.
pub fn start(outbox: Arc<Outbox>) -> std::sync::mpsc::Sender<usize> {
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    std::thread::spawn(move || {
        while let Ok(i) = rx.recv() {
            let Some(d) = outbox.log.lock().ok().and_then(|l| l.get(i).cloned()) else {
                continue;
            };
            let status = client::request(
                "POST",
                &d.url,
                &d.headers,
                d.body.as_bytes(),
                Duration::from_secs(5),
            )
            .map(|r| r.status)
            .unwrap_or(0);
            if let Ok(mut l) = outbox.log.lock()
                && let Some(entry) = l.get_mut(i)
            {
                entry.status = Some(status);
            }
            outbox.sent.notify_all();
        }
    });
    tx
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A random-looking UUID v4, unique in this process.
pub fn uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex HMAC-SHA256 of `body` with `secret`.
pub fn sign256(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

fn sign1(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// Renders `events` for every matching hook and queues them.
pub fn dispatch(
    st: &State,
    outbox: &Outbox,
    tx: &std::sync::mpsc::Sender<usize>,
    events: &[Event],
) {
    for ev in events {
        for hook in &st.hooks {
            if let Some(r) = ev.repo()
                && hook.repo.as_deref().is_some_and(|h| h != r)
            {
                continue;
            }
            if let Event::Ping { hook_id } = ev
                && *hook_id != hook.id
            {
                continue;
            }
            let Some((event, kind, payload)) = render(st, hook, ev) else {
                continue;
            };
            let body = payload.to_string();
            let id = uuid();
            let headers = headers(hook, &event, &kind, &id, body.as_bytes());
            let Ok(mut log) = outbox.log.lock() else {
                return;
            };
            log.push(Delivery {
                id,
                hook_id: hook.id,
                flavour: hook.flavour,
                event,
                url: hook.url.clone(),
                headers,
                body,
                status: None,
            });
            let _ = tx.send(log.len() - 1);
        }
    }
}

fn headers(hook: &Hook, event: &str, kind: &str, id: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut h = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let mut add = |k: &str, v: String| h.push((k.to_owned(), v));
    match hook.flavour {
        Flavour::GitHub => {
            add("User-Agent", "GitHub-Hookshot/emulator".into());
            add("X-GitHub-Event", event.into());
            add("X-GitHub-Delivery", id.into());
            add("X-GitHub-Hook-ID", hook.id.to_string());
            add(
                "X-GitHub-Hook-Installation-Target-Type",
                "repository".into(),
            );
            if !hook.secret.is_empty() {
                add(
                    "X-Hub-Signature",
                    format!("sha1={}", sign1(&hook.secret, body)),
                );
                add(
                    "X-Hub-Signature-256",
                    format!("sha256={}", sign256(&hook.secret, body)),
                );
            }
        }
        Flavour::GitLab => {
            add("User-Agent", "GitLab/17.0.0".into());
            add("X-Gitlab-Event", event.into());
            add("X-Gitlab-Event-UUID", id.into());
            add("X-Gitlab-Webhook-UUID", format!("hook-{}", hook.id));
            add("X-Gitlab-Instance", "emulator".into());
            add("Idempotency-Key", id.into());
            if !hook.secret.is_empty() {
                add("X-Gitlab-Token", hook.secret.clone());
            }
        }
        Flavour::Gitea => {
            let sig = if hook.secret.is_empty() {
                String::new()
            } else {
                sign256(&hook.secret, body)
            };
            for p in ["Gitea", "Gogs", "Forgejo"] {
                add(&format!("X-{p}-Delivery"), id.into());
                add(&format!("X-{p}-Event"), event.into());
                add(&format!("X-{p}-Event-Type"), kind.into());
                add(&format!("X-{p}-Signature"), sig.clone());
            }
            add("X-GitHub-Delivery", id.into());
            add("X-GitHub-Event", event.into());
            add("X-GitHub-Event-Type", kind.into());
            if !hook.secret.is_empty() {
                add(
                    "X-Hub-Signature",
                    format!("sha1={}", sign1(&hook.secret, body)),
                );
                add("X-Hub-Signature-256", format!("sha256={sig}"));
            }
        }
    }
    h
}

/// `(event header, event type header, payload)` for one hook, or `None` when its flavour has
/// no such event.
fn render(st: &State, hook: &Hook, ev: &Event) -> Option<(String, String, Value)> {
    if let Event::Ping { hook_id } = ev {
        return ping(st, hook, *hook_id);
    }
    let repo = st.repos.get(ev.repo()?)?;
    match hook.flavour {
        Flavour::GitHub => render_github(st, repo, ev),
        Flavour::GitLab => render_gitlab(st, repo, ev),
        Flavour::Gitea => render_gitea(st, repo, ev),
    }
    .map(|(e, p)| (e.clone(), e, p))
    .map(|(e, k, p)| {
        if hook.flavour == Flavour::Gitea {
            let kind = gitea_kind(ev, st);
            (e, kind.unwrap_or(k), p)
        } else {
            (e, k, p)
        }
    })
}

/// GitHub pings a hook when it is created; GitLab and Gitea do not.
fn ping(st: &State, hook: &Hook, id: u64) -> Option<(String, String, Value)> {
    if hook.flavour != Flavour::GitHub {
        return None;
    }
    let config = json!({"url": hook.url, "content_type": "json", "insecure_ssl": "0"});
    let body = json!({"zen": "Keep it logically awesome.", "hook_id": id,
        "hook": {"id": id, "type": "Repository", "active": true, "events": ["*"], "config": config},
        "repository": hook.repo.as_ref().and_then(|r| st.repos.get(r)).map(|r| github::repo(st, r))});
    Some(("ping".into(), "ping".into(), body))
}

fn render_github(st: &State, r: &super::state::Repo, ev: &Event) -> Option<(String, Value)> {
    let repository = github::repo(st, r);
    Some(match ev {
        Event::Push {
            ref_name,
            before,
            after,
            pusher,
            ..
        } => {
            let web = format!("{}/{}", st.base_url, r.full_name);
            let commits = json::pushed_commits(&r.git, &web, before, after);
            let forced = before != ZERO && after != ZERO && !r.git.is_ancestor(before, after);
            let email = st.user(pusher).map(|u| u.email());
            (
                "push".into(),
                json!({"ref": ref_name, "before": before, "after": after,
                "created": before == ZERO, "deleted": after == ZERO, "forced": forced, "base_ref": null,
                "compare": format!("{web}/compare/{}...{}", &before[..12], &after[..12]),
                "head_commit": commits.last().cloned(), "commits": commits,
                "repository": repository, "pusher": {"name": pusher, "email": email},
                "sender": github::user(st, pusher)}),
            )
        }
        Event::Pull {
            number,
            action,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let mut body = json!({"number": number, "pull_request": github::pull(st, r, p, None),
                "repository": repository, "sender": github::user(st, actor)});
            let name = match action {
                PullAction::Opened => "opened",
                PullAction::Closed | PullAction::Merged => "closed",
                PullAction::Reopened => "reopened",
                PullAction::Edited => "edited",
                PullAction::Synchronize { before } => {
                    body["before"] = json!(before);
                    body["after"] = json!(p.head_sha);
                    "synchronize"
                }
            };
            body["action"] = json!(name);
            ("pull_request".into(), body)
        }
        Event::Review {
            number,
            review_id,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let rv = p.reviews.iter().find(|x| x.id == *review_id)?;
            let action = if rv.state == ReviewState::Dismissed {
                "dismissed"
            } else {
                "submitted"
            };
            (
                "pull_request_review".into(),
                json!({"action": action,
                "review": github::review(st, r, p, rv, true), "pull_request": github::pull(st, r, p, None),
                "repository": repository, "sender": github::user(st, actor)}),
            )
        }
        Event::Status {
            status_id, actor, ..
        } => {
            let s = r.statuses.iter().find(|s| s.id == *status_id)?;
            let branches: Vec<Value> = r
                .git
                .refs()
                .into_iter()
                .filter(|(_, sha)| *sha == s.sha)
                .map(|(n, sha)| json!({"name": n.trim_start_matches("refs/heads/"), "commit": {"sha": sha}}))
                .collect();
            (
                "status".into(),
                json!({"id": s.id, "sha": s.sha, "name": r.full_name,
                "target_url": s.target_url, "context": s.context, "description": s.description,
                "state": github::status_state(s.state), "commit": {"sha": s.sha}, "branches": branches,
                "created_at": s.created_at, "updated_at": s.created_at, "repository": repository,
                "sender": github::user(st, actor)}),
            )
        }
        Event::CheckRun {
            check_run_id,
            actor,
            ..
        } => {
            let c = r.check_runs.iter().find(|c| c.id == *check_run_id)?;
            let action = if c.status == "completed" {
                "completed"
            } else {
                "created"
            };
            (
                "check_run".into(),
                json!({"action": action, "check_run": github::check_run(st, r, c),
                "repository": repository, "sender": github::user(st, actor)}),
            )
        }
        Event::Comment {
            comment_id, actor, ..
        } => {
            let c = r.comments.iter().find(|c| c.id == *comment_id)?;
            let p = r.pull(c.number)?;
            let issue = json!({"number": p.number, "title": p.title, "state": if p.open { "open" } else { "closed" },
                "user": github::user(st, &p.author),
                "pull_request": {"url": format!("{}/repos/{}/pulls/{}", github::api(st), r.full_name, p.number),
                                 "html_url": format!("{}/{}/pull/{}", st.base_url, r.full_name, p.number)}});
            (
                "issue_comment".into(),
                json!({"action": "created", "issue": issue,
                "comment": github::comment(st, r, c), "repository": repository,
                "sender": github::user(st, actor)}),
            )
        }
        Event::Ping { .. } => return None,
    })
}

fn gitlab_user(st: &State, login: &str) -> Value {
    let u = st.user(login);
    json!({"id": u.map(|u| u.id).unwrap_or(0), "name": login, "username": login,
        "email": u.map(|u| u.email()), "avatar_url": ""})
}

fn gitlab_mr_attrs(
    st: &State,
    r: &super::state::Repo,
    p: &super::state::Pull,
    action: &str,
) -> Value {
    let mut mr = gitlab::merge_request(st, r, p, None);
    let last = r.git.commit(&p.head_sha);
    mr["action"] = json!(action);
    mr["url"] = mr["web_url"].clone();
    mr["author_id"] = json!(st.user(&p.author).map(|u| u.id));
    mr["last_commit"] = json!(last.map(|c| json!({"id": c.sha, "message": c.message,
        "title": c.message.lines().next().unwrap_or_default(), "timestamp": json::rfc3339(c.committer_time),
        "author": {"name": c.author_name, "email": c.author_email}})));
    mr
}

fn render_gitlab(st: &State, r: &super::state::Repo, ev: &Event) -> Option<(String, Value)> {
    let project = gitlab::hook_project(st, r);
    let repository = gitlab::hook_repository(st, r);
    Some(match ev {
        Event::Push {
            ref_name,
            before,
            after,
            pusher,
            ..
        } => {
            let web = format!("{}/{}/-", st.base_url, r.full_name);
            let commits = json::pushed_commits(&r.git, &web, before, after);
            let u = st.user(pusher);
            (
                "Push Hook".into(),
                json!({"object_kind": "push", "event_name": "push",
                "before": before, "after": after, "ref": ref_name, "ref_protected": ref_name == &format!("refs/heads/{}", r.default_branch),
                "checkout_sha": if after == ZERO { None } else { Some(after.clone()) },
                "user_id": u.map(|u| u.id), "user_name": pusher, "user_username": pusher,
                "user_email": u.map(|u| u.email()), "user_avatar": "", "project_id": r.id,
                "project": project, "total_commits_count": commits.len(), "commits": commits,
                "repository": repository}),
            )
        }
        Event::Pull {
            number,
            action,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let name = match action {
                PullAction::Opened => "open",
                PullAction::Closed => "close",
                PullAction::Reopened => "reopen",
                PullAction::Edited | PullAction::Synchronize { .. } => "update",
                PullAction::Merged => "merge",
            };
            let mut attrs = gitlab_mr_attrs(st, r, p, name);
            if let PullAction::Synchronize { before } = action {
                attrs["oldrev"] = json!(before);
            }
            (
                "Merge Request Hook".into(),
                json!({"object_kind": "merge_request", "event_type": "merge_request",
                "user": gitlab_user(st, actor), "project": project, "object_attributes": attrs,
                "repository": repository, "labels": [], "changes": {}}),
            )
        }
        Event::Review {
            number,
            review_id,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let rv = p.reviews.iter().find(|x| x.id == *review_id)?;
            let name = match rv.state {
                ReviewState::Approved => "approved",
                ReviewState::Dismissed => "unapproved",
                _ => return None,
            };
            (
                "Merge Request Hook".into(),
                json!({"object_kind": "merge_request", "event_type": "merge_request",
                "user": gitlab_user(st, actor), "project": project,
                "object_attributes": gitlab_mr_attrs(st, r, p, name), "repository": repository,
                "labels": [], "changes": {}}),
            )
        }
        Event::Status {
            status_id, actor, ..
        } => {
            let s = r.statuses.iter().find(|s| s.id == *status_id)?;
            let mr = r
                .pulls
                .iter()
                .find(|p| p.open && p.head_sha == s.sha)
                .map(|p| json!({"iid": p.number, "id": p.id, "title": p.title, "source_branch": p.head,
                    "target_branch": p.base, "state": "opened", "url": format!("{}/{}/-/merge_requests/{}", st.base_url, r.full_name, p.number)}));
            (
                "Pipeline Hook".into(),
                json!({"object_kind": "pipeline",
                "object_attributes": {"id": s.id, "iid": s.id, "sha": s.sha, "before_sha": ZERO,
                    "ref": mr.as_ref().map(|m| m["source_branch"].clone()), "tag": false, "source": "external",
                    "status": gitlab::status_state(s.state), "detailed_status": gitlab::status_state(s.state),
                    "stages": ["external"], "created_at": s.created_at, "finished_at": null},
                "merge_request": mr, "user": gitlab_user(st, actor), "project": project,
                "commit": {"id": s.sha}, "builds": []}),
            )
        }
        Event::Comment {
            comment_id, actor, ..
        } => {
            let c = r.comments.iter().find(|c| c.id == *comment_id)?;
            let p = r.pull(c.number)?;
            (
                "Note Hook".into(),
                json!({"object_kind": "note", "event_type": "note",
                "user": gitlab_user(st, actor), "project_id": r.id, "project": project,
                "object_attributes": {"id": c.id, "note": c.body, "noteable_type": "MergeRequest",
                    "author_id": st.user(&c.user).map(|u| u.id), "created_at": c.created_at,
                    "noteable_id": p.id, "url": format!("{}/{}/-/merge_requests/{}#note_{}", st.base_url, r.full_name, p.number, c.id)},
                "merge_request": gitlab_mr_attrs(st, r, p, "update"), "repository": repository}),
            )
        }
        Event::CheckRun { .. } | Event::Ping { .. } => return None,
    })
}

/// Gitea's `X-Gitea-Event-Type`, where it differs from `X-Gitea-Event`.
fn gitea_kind(ev: &Event, st: &State) -> Option<String> {
    match ev {
        Event::Pull {
            action: PullAction::Synchronize { .. },
            ..
        } => Some("pull_request_sync".into()),
        Event::Review {
            repo,
            number,
            review_id,
            ..
        } => {
            let rv = st
                .repos
                .get(repo)?
                .pull(*number)?
                .reviews
                .iter()
                .find(|x| x.id == *review_id)?
                .state;
            Some(
                match rv {
                    ReviewState::Approved => "pull_request_review_approved",
                    ReviewState::ChangesRequested => "pull_request_review_rejected",
                    _ => "pull_request_review_comment",
                }
                .into(),
            )
        }
        Event::Comment { .. } => Some("pull_request_comment".into()),
        _ => None,
    }
}

fn render_gitea(st: &State, r: &super::state::Repo, ev: &Event) -> Option<(String, Value)> {
    let repository = gitea::repo(st, r);
    Some(match ev {
        Event::Push {
            ref_name,
            before,
            after,
            pusher,
            ..
        } => {
            if after == ZERO {
                return Some((
                    "delete".into(),
                    json!({"ref": ref_name.trim_start_matches("refs/heads/"), "ref_type": "branch",
                    "pusher_type": "user", "repository": repository, "sender": gitea::user(st, pusher)}),
                ));
            }
            let web = format!("{}/{}", st.base_url, r.full_name);
            let commits = json::pushed_commits(&r.git, &web, before, after);
            (
                "push".into(),
                json!({"ref": ref_name, "before": before, "after": after,
                "compare_url": format!("{web}/compare/{before}...{after}"),
                "total_commits": commits.len(), "head_commit": commits.last().cloned(), "commits": commits,
                "repository": repository, "pusher": gitea::user(st, pusher), "sender": gitea::user(st, pusher)}),
            )
        }
        Event::Pull {
            number,
            action,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let name = match action {
                PullAction::Opened => "opened",
                PullAction::Closed | PullAction::Merged => "closed",
                PullAction::Reopened => "reopened",
                PullAction::Edited => "edited",
                PullAction::Synchronize { .. } => "synchronized",
            };
            (
                "pull_request".into(),
                json!({"action": name, "number": number,
                "pull_request": gitea::pull(st, r, p, None), "requested_reviewer": null,
                "repository": repository, "sender": gitea::user(st, actor), "commit_id": "", "review": null}),
            )
        }
        Event::Review {
            number,
            review_id,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let rv = p.reviews.iter().find(|x| x.id == *review_id)?;
            let (event, kind) = match rv.state {
                ReviewState::Approved => ("pull_request_approved", "pull_request_review_approved"),
                ReviewState::ChangesRequested => {
                    ("pull_request_rejected", "pull_request_review_rejected")
                }
                _ => ("pull_request_comment", "pull_request_review_comment"),
            };
            (
                event.into(),
                json!({"action": "reviewed", "number": number,
                "pull_request": gitea::pull(st, r, p, None), "repository": repository,
                "sender": gitea::user(st, actor), "commit_id": rv.commit_id,
                "review": {"type": kind, "content": rv.body}}),
            )
        }
        Event::Status {
            status_id, actor, ..
        } => {
            let s = r.statuses.iter().find(|s| s.id == *status_id)?;
            let commit = r.git.commit(&s.sha);
            (
                "status".into(),
                json!({"id": s.id, "sha": s.sha, "context": s.context,
                "state": gitea::status_state(s.state), "target_url": s.target_url,
                "description": s.description, "created_at": s.created_at, "updated_at": s.created_at,
                "commit": commit.map(|c| json!({"id": c.sha, "message": c.message,
                    "url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha)})),
                "repository": repository, "sender": gitea::user(st, actor)}),
            )
        }
        Event::Comment {
            comment_id, actor, ..
        } => {
            let c = r.comments.iter().find(|c| c.id == *comment_id)?;
            let p = r.pull(c.number)?;
            (
                "issue_comment".into(),
                json!({"action": "created",
                "issue": {"id": p.id, "number": p.number, "title": p.title, "user": gitea::user(st, &p.author),
                    "state": if p.open { "open" } else { "closed" },
                    "pull_request": {"merged": p.merged, "merged_at": p.merged_at}},
                "pull_request": gitea::pull(st, r, p, None),
                "comment": gitea::comment(st, r, c), "repository": repository,
                "sender": gitea::user(st, actor), "is_pull": true}),
            )
        }
        Event::CheckRun { .. } | Event::Ping { .. } => return None,
    })
}
