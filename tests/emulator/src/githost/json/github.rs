//! GitHub's shapes (REST v3 and webhooks).

use super::rfc3339;
use crate::githost::git::CommitInfo;
use crate::githost::state::{
    CheckRun, Comment, CommitStatus, Pull, Repo, Review, ReviewState, State, StatusState,
};
use serde_json::{Value, json};

pub fn api(st: &State) -> String {
    format!("{}/api/v3", st.base_url)
}

pub fn user(st: &State, login: &str) -> Value {
    let id = st.user(login).map(|u| u.id).unwrap_or(0);
    json!({
        "login": login, "id": id, "node_id": format!("U_{id}"), "type": "User", "site_admin": false,
        "avatar_url": "", "html_url": format!("{}/{login}", st.base_url),
        "url": format!("{}/users/{login}", api(st)),
    })
}

pub fn repo(st: &State, r: &Repo) -> Value {
    let owner_id = 1_000_000 + r.id;
    json!({
        "id": r.id, "node_id": format!("R_{}", r.id), "name": r.name(), "full_name": r.full_name,
        "private": true, "visibility": "private", "fork": false, "archived": false, "disabled": false,
        "owner": {"login": r.owner(), "id": owner_id, "type": "Organization",
                  "url": format!("{}/users/{}", api(st), r.owner())},
        "html_url": format!("{}/{}", st.base_url, r.full_name),
        "url": format!("{}/repos/{}", api(st), r.full_name),
        "clone_url": format!("{}/{}.git", st.base_url, r.full_name),
        "default_branch": r.default_branch,
        "allow_merge_commit": true, "allow_squash_merge": true, "allow_rebase_merge": true,
    })
}

fn review_state(s: ReviewState) -> &'static str {
    match s {
        ReviewState::Approved => "APPROVED",
        ReviewState::ChangesRequested => "CHANGES_REQUESTED",
        ReviewState::Commented => "COMMENTED",
        ReviewState::Pending => "PENDING",
        ReviewState::Dismissed => "DISMISSED",
    }
}

/// `mergeable_state` as GitHub reports it.
pub fn mergeable_state(r: &Repo, p: &Pull, mergeable: Option<bool>) -> &'static str {
    if !p.open {
        return "unknown";
    }
    match mergeable {
        None => "unknown",
        Some(false) => "dirty",
        Some(true) => {
            if p.base == r.default_branch && (p.approvers().len() as u32) < r.required_approvals {
                "blocked"
            } else if r
                .latest_statuses(&p.head_sha)
                .iter()
                .any(|s| matches!(s.state, StatusState::Failure | StatusState::Error))
            {
                "unstable"
            } else {
                "clean"
            }
        }
    }
}

pub fn pull(st: &State, r: &Repo, p: &Pull, mergeable: Option<bool>) -> Value {
    let url = format!("{}/repos/{}/pulls/{}", api(st), r.full_name, p.number);
    let rj = repo(st, r);
    json!({
        "url": url, "id": p.id, "node_id": format!("PR_{}", p.id),
        "html_url": format!("{}/{}/pull/{}", st.base_url, r.full_name, p.number),
        "number": p.number, "state": if p.open { "open" } else { "closed" }, "locked": false,
        "title": p.title, "body": p.body, "user": user(st, &p.author), "draft": false,
        "created_at": p.created_at, "updated_at": p.updated_at, "closed_at": p.closed_at,
        "merged_at": p.merged_at, "merge_commit_sha": p.merge_commit_sha,
        "head": {"label": format!("{}:{}", r.owner(), p.head), "ref": p.head, "sha": p.head_sha,
                 "repo": rj.clone(), "user": {"login": r.owner()}},
        "base": {"label": format!("{}:{}", r.owner(), p.base), "ref": p.base, "sha": p.base_sha,
                 "repo": rj, "user": {"login": r.owner()}},
        "merged": p.merged, "mergeable": mergeable, "rebaseable": mergeable,
        "mergeable_state": mergeable_state(r, p, mergeable),
        "merged_by": p.merged_by.as_deref().map(|l| user(st, l)),
        "comments": r.comments.iter().filter(|c| c.number == p.number).count(),
        "review_comments": 0, "maintainer_can_modify": false, "author_association": "MEMBER",
        "_links": {"html": {"href": format!("{}/{}/pull/{}", st.base_url, r.full_name, p.number)}},
    })
}

pub fn review(st: &State, r: &Repo, p: &Pull, rv: &Review, lower_state: bool) -> Value {
    let state = review_state(rv.state);
    json!({
        "id": rv.id, "node_id": format!("PRR_{}", rv.id), "user": user(st, &rv.user), "body": rv.body,
        "state": if lower_state { state.to_ascii_lowercase() } else { state.to_owned() },
        "commit_id": rv.commit_id,
        "submitted_at": (rv.state != ReviewState::Pending).then(|| rv.submitted_at.clone()),
        "html_url": format!("{}/{}/pull/{}#pullrequestreview-{}", st.base_url, r.full_name, p.number, rv.id),
        "pull_request_url": format!("{}/repos/{}/pulls/{}", api(st), r.full_name, p.number),
        "author_association": "MEMBER",
    })
}

pub fn status_state(s: StatusState) -> &'static str {
    match s {
        StatusState::Pending | StatusState::Running => "pending",
        StatusState::Success => "success",
        StatusState::Failure => "failure",
        StatusState::Error | StatusState::Warning => "error",
    }
}

pub fn status(st: &State, s: &CommitStatus) -> Value {
    json!({
        "id": s.id, "node_id": format!("SC_{}", s.id), "state": status_state(s.state),
        "description": s.description, "target_url": s.target_url, "context": s.context,
        "created_at": s.created_at, "updated_at": s.created_at, "creator": user(st, &s.creator),
        "avatar_url": "",
    })
}

pub fn check_run(st: &State, r: &Repo, c: &CheckRun) -> Value {
    json!({
        "id": c.id, "head_sha": c.head_sha, "name": c.name, "status": c.status,
        "conclusion": c.conclusion, "html_url": c.html_url,
        "url": format!("{}/repos/{}/check-runs/{}", api(st), r.full_name, c.id),
        "external_id": "", "details_url": c.html_url, "output": {"title": null, "summary": null},
        "pull_requests": [],
    })
}

/// A commit as the Git database API writes it.
pub fn git_commit(st: &State, r: &Repo, c: &CommitInfo) -> Value {
    let base = format!("{}/repos/{}/git", api(st), r.full_name);
    json!({
        "sha": c.sha, "node_id": format!("C_{}", c.sha), "url": format!("{base}/commits/{}", c.sha),
        "html_url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha),
        "author": {"name": c.author_name, "email": c.author_email, "date": rfc3339(c.author_time)},
        "committer": {"name": c.committer_name, "email": c.committer_email, "date": rfc3339(c.committer_time)},
        "message": c.message.trim_end_matches('\n'),
        "tree": {"sha": c.tree, "url": format!("{base}/trees/{}", c.tree)},
        "parents": c.parents.iter().map(|p| json!({"sha": p, "url": format!("{base}/commits/{p}"),
            "html_url": format!("{}/{}/commit/{p}", st.base_url, r.full_name)})).collect::<Vec<_>>(),
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null},
    })
}

/// A commit as `GET /repos/{o}/{r}/commits/{ref}` writes it.
pub fn rest_commit(st: &State, r: &Repo, c: &CommitInfo) -> Value {
    json!({
        "sha": c.sha, "node_id": format!("C_{}", c.sha),
        "url": format!("{}/repos/{}/commits/{}", api(st), r.full_name, c.sha),
        "html_url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha),
        "commit": git_commit(st, r, c),
        "author": null, "committer": null,
        "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
    })
}

pub fn git_ref(st: &State, r: &Repo, name: &str, sha: &str) -> Value {
    json!({
        "ref": name, "node_id": format!("REF_{name}"),
        "url": format!("{}/repos/{}/git/{name}", api(st), r.full_name),
        "object": {"sha": sha, "type": "commit",
                   "url": format!("{}/repos/{}/git/commits/{sha}", api(st), r.full_name)},
    })
}

pub fn comment(st: &State, r: &Repo, c: &Comment) -> Value {
    json!({
        "id": c.id, "node_id": format!("IC_{}", c.id), "body": c.body, "user": user(st, &c.user),
        "created_at": c.created_at, "updated_at": c.created_at,
        "html_url": format!("{}/{}/pull/{}#issuecomment-{}", st.base_url, r.full_name, c.number, c.id),
        "issue_url": format!("{}/repos/{}/issues/{}", api(st), r.full_name, c.number),
        "url": format!("{}/repos/{}/issues/comments/{}", api(st), r.full_name, c.id),
        "author_association": "MEMBER",
    })
}

/// The standard error body: `{"message", "documentation_url", "status"}`.
pub fn error(status: u16, message: &str) -> Value {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()})
}
