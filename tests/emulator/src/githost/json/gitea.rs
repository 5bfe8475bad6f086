//! Gitea's (and Forgejo's) shapes (REST v1 and webhooks).

use super::rfc3339;
use crate::githost::git::CommitInfo;
use crate::githost::state::{
    Comment, CommitStatus, Pull, Repo, Review, ReviewState, State, StatusState,
};
use serde_json::{Value, json};

pub fn api(st: &State) -> String {
    format!("{}/api/v1", st.base_url)
}

pub fn user(st: &State, login: &str) -> Value {
    let u = st.user(login);
    json!({
        "id": u.map(|u| u.id).unwrap_or(0), "login": login, "login_name": "", "full_name": "",
        "email": u.map(|u| u.email()).unwrap_or_default(), "avatar_url": "", "username": login,
        "html_url": format!("{}/{login}", st.base_url), "is_admin": false,
    })
}

pub fn repo(st: &State, r: &Repo) -> Value {
    json!({
        "id": r.id, "name": r.name(), "full_name": r.full_name, "private": true, "fork": false,
        "owner": {"id": 1_000_000 + r.id, "login": r.owner(), "username": r.owner()},
        "html_url": format!("{}/{}", st.base_url, r.full_name),
        "clone_url": format!("{}/{}.git", st.base_url, r.full_name),
        "default_branch": r.default_branch, "archived": false, "empty": false,
        "has_pull_requests": true, "allow_merge_commits": true, "allow_rebase": true,
        "allow_squash_merge": true, "allow_rebase_explicit": true,
        "default_merge_style": "merge",
    })
}

pub fn pull(st: &State, r: &Repo, p: &Pull, mergeable: Option<bool>) -> Value {
    let rj = repo(st, r);
    json!({
        "id": p.id, "number": p.number, "url": format!("{}/{}/pulls/{}", st.base_url, r.full_name, p.number),
        "html_url": format!("{}/{}/pulls/{}", st.base_url, r.full_name, p.number),
        "diff_url": format!("{}/{}/pulls/{}.diff", st.base_url, r.full_name, p.number),
        "user": user(st, &p.author), "title": p.title, "body": p.body,
        "state": if p.open { "open" } else { "closed" }, "draft": false, "is_locked": false,
        "comments": r.comments.iter().filter(|c| c.number == p.number).count(),
        "mergeable": mergeable.unwrap_or(false), "merged": p.merged, "merged_at": p.merged_at,
        "merge_commit_sha": p.merge_commit_sha,
        "merged_by": p.merged_by.as_deref().map(|l| user(st, l)),
        "base": {"label": p.base, "ref": p.base, "sha": p.base_sha, "repo_id": r.id, "repo": rj.clone()},
        "head": {"label": p.head, "ref": p.head, "sha": p.head_sha, "repo_id": r.id, "repo": rj},
        "merge_base": p.base_sha, "created_at": p.created_at, "updated_at": p.updated_at,
        "closed_at": p.closed_at, "allow_maintainer_edit": false,
    })
}

pub fn review_state(s: ReviewState) -> &'static str {
    match s {
        ReviewState::Approved => "APPROVED",
        ReviewState::ChangesRequested => "REQUEST_CHANGES",
        ReviewState::Commented | ReviewState::Dismissed => "COMMENT",
        ReviewState::Pending => "PENDING",
    }
}

pub fn review(st: &State, r: &Repo, p: &Pull, rv: &Review) -> Value {
    json!({
        "id": rv.id, "user": user(st, &rv.user), "team": null, "state": review_state(rv.state),
        "body": rv.body, "commit_id": rv.commit_id, "stale": rv.commit_id != p.head_sha,
        "official": true, "dismissed": rv.state == ReviewState::Dismissed, "comments_count": 0,
        "submitted_at": rv.submitted_at, "updated_at": rv.submitted_at,
        "html_url": format!("{}/{}/pulls/{}#issuecomment-{}", st.base_url, r.full_name, p.number, rv.id),
        "pull_request_url": format!("{}/{}/pulls/{}", st.base_url, r.full_name, p.number),
    })
}

pub fn status_state(s: StatusState) -> &'static str {
    match s {
        StatusState::Pending | StatusState::Running => "pending",
        StatusState::Success => "success",
        StatusState::Failure => "failure",
        StatusState::Error => "error",
        StatusState::Warning => "warning",
    }
}

pub fn status(st: &State, s: &CommitStatus) -> Value {
    json!({
        "id": s.id, "status": status_state(s.state), "target_url": s.target_url.clone().unwrap_or_default(),
        "description": s.description.clone().unwrap_or_default(), "context": s.context,
        "creator": user(st, &s.creator), "created_at": s.created_at, "updated_at": s.created_at,
        "url": "",
    })
}

/// A commit as `GET /repos/{o}/{r}/git/commits/{sha}` and the contents API write it.
pub fn commit(st: &State, r: &Repo, c: &CommitInfo) -> Value {
    json!({
        "sha": c.sha, "url": format!("{}/repos/{}/git/commits/{}", api(st), r.full_name, c.sha),
        "html_url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha),
        "created": rfc3339(c.committer_time),
        "author": {"name": c.author_name, "email": c.author_email, "date": rfc3339(c.author_time)},
        "committer": {"name": c.committer_name, "email": c.committer_email, "date": rfc3339(c.committer_time)},
        "message": c.message,
        "tree": {"sha": c.tree, "url": format!("{}/repos/{}/git/trees/{}", api(st), r.full_name, c.tree)},
        "parents": c.parents.iter().map(|p| json!({"sha": p,
            "url": format!("{}/repos/{}/git/commits/{p}", api(st), r.full_name)})).collect::<Vec<_>>(),
        "commit": {"message": c.message, "tree": {"sha": c.tree},
            "author": {"name": c.author_name, "email": c.author_email, "date": rfc3339(c.author_time)},
            "committer": {"name": c.committer_name, "email": c.committer_email, "date": rfc3339(c.committer_time)}},
    })
}

pub fn branch(st: &State, r: &Repo, name: &str, c: &CommitInfo) -> Value {
    json!({
        "name": name,
        "commit": {"id": c.sha, "message": c.message, "url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha),
            "author": {"name": c.author_name, "email": c.author_email},
            "committer": {"name": c.committer_name, "email": c.committer_email},
            "timestamp": rfc3339(c.committer_time)},
        "protected": false, "user_can_push": true, "user_can_merge": true,
        "effective_branch_protection_name": "",
    })
}

pub fn comment(st: &State, r: &Repo, c: &Comment) -> Value {
    json!({
        "id": c.id, "body": c.body, "user": user(st, &c.user), "created_at": c.created_at,
        "updated_at": c.created_at,
        "html_url": format!("{}/{}/pulls/{}#issuecomment-{}", st.base_url, r.full_name, c.number, c.id),
        "pull_request_url": format!("{}/{}/pulls/{}", st.base_url, r.full_name, c.number),
        "issue_url": format!("{}/{}/issues/{}", st.base_url, r.full_name, c.number),
    })
}

/// Gitea's error body: `{"message", "url"}`.
pub fn error(st: &State, message: &str) -> Value {
    json!({"message": message, "url": format!("{}/api/swagger", st.base_url)})
}
