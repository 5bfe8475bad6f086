//! GitLab's shapes (REST v4 and webhooks).

use super::rfc3339;
use crate::githost::git::CommitInfo;
use crate::githost::state::{Comment, CommitStatus, Pull, Repo, State, StatusState};
use serde_json::{Value, json};

pub fn user(st: &State, login: &str) -> Value {
    let u = st.user(login);
    json!({
        "id": u.map(|u| u.id).unwrap_or(0), "username": login, "name": login, "state": "active",
        "locked": false, "avatar_url": "", "web_url": format!("{}/{login}", st.base_url),
        "email": u.map(|u| u.email()),
    })
}

pub fn project(st: &State, r: &Repo) -> Value {
    json!({
        "id": r.id, "name": r.name(), "path": r.name(), "path_with_namespace": r.full_name,
        "name_with_namespace": r.full_name.replace('/', " / "),
        "namespace": {"full_path": r.owner(), "path": r.owner(), "name": r.owner(), "kind": "group"},
        "default_branch": r.default_branch, "visibility": "private",
        "web_url": format!("{}/{}", st.base_url, r.full_name),
        "http_url_to_repo": format!("{}/{}.git", st.base_url, r.full_name),
        "merge_method": "merge", "squash_option": "default_off",
        "only_allow_merge_if_pipeline_succeeds": false, "archived": false,
    })
}

/// The `project` object inside webhook payloads.
pub fn hook_project(st: &State, r: &Repo) -> Value {
    json!({
        "id": r.id, "name": r.name(), "path_with_namespace": r.full_name, "namespace": r.owner(),
        "web_url": format!("{}/{}", st.base_url, r.full_name), "default_branch": r.default_branch,
        "git_http_url": format!("{}/{}.git", st.base_url, r.full_name), "visibility_level": 0,
    })
}

pub fn hook_repository(st: &State, r: &Repo) -> Value {
    json!({
        "name": r.name(), "url": format!("{}/{}.git", st.base_url, r.full_name),
        "homepage": format!("{}/{}", st.base_url, r.full_name),
        "git_http_url": format!("{}/{}.git", st.base_url, r.full_name),
    })
}

/// `detailed_merge_status` as GitLab computes it.
pub fn detailed_status(r: &Repo, p: &Pull, mergeable: Option<bool>) -> &'static str {
    if !p.open {
        return "not_open";
    }
    match mergeable {
        None => "checking",
        Some(false) => "conflict",
        Some(true) => {
            if p.base == r.default_branch && (p.approvers().len() as u32) < r.required_approvals {
                "not_approved"
            } else {
                "mergeable"
            }
        }
    }
}

pub fn merge_request(st: &State, r: &Repo, p: &Pull, mergeable: Option<bool>) -> Value {
    let state = if p.merged {
        "merged"
    } else if p.open {
        "opened"
    } else {
        "closed"
    };
    let merge_status = match mergeable {
        None if p.open => "checking",
        Some(false) => "cannot_be_merged",
        _ => "can_be_merged",
    };
    let merged = p.merged;
    json!({
        "id": p.id, "iid": p.number, "project_id": r.id, "title": p.title, "description": p.body,
        "state": state, "created_at": p.created_at, "updated_at": p.updated_at,
        "merged_at": p.merged_at, "closed_at": if merged { None } else { p.closed_at.clone() },
        "merged_by": p.merged_by.as_deref().map(|l| user(st, l)),
        "merge_user": p.merged_by.as_deref().map(|l| user(st, l)),
        "target_branch": p.base, "source_branch": p.head,
        "source_project_id": r.id, "target_project_id": r.id,
        "author": user(st, &p.author), "draft": false, "work_in_progress": false,
        "merge_status": merge_status, "detailed_merge_status": detailed_status(r, p, mergeable),
        "has_conflicts": mergeable == Some(false),
        "sha": p.head_sha, "merge_commit_sha": if merged { p.merge_commit_sha.clone() } else { None },
        "squash_commit_sha": null, "squash": false,
        "diff_refs": {"base_sha": p.base_sha, "head_sha": p.head_sha, "start_sha": p.base_sha},
        "web_url": format!("{}/{}/-/merge_requests/{}", st.base_url, r.full_name, p.number),
        "references": {"short": format!("!{}", p.number), "full": format!("{}!{}", r.full_name, p.number)},
        "user_notes_count": r.comments.iter().filter(|c| c.number == p.number).count(),
        "should_remove_source_branch": null, "force_remove_source_branch": false,
    })
}

pub fn approvals(st: &State, r: &Repo, p: &Pull) -> Value {
    let approvers = p.approvers();
    let left = r.required_approvals.saturating_sub(approvers.len() as u32);
    json!({
        "id": p.id, "iid": p.number, "project_id": r.id, "title": p.title,
        "state": if p.merged { "merged" } else if p.open { "opened" } else { "closed" },
        "approved": left == 0 && (r.required_approvals > 0 || !approvers.is_empty()),
        "approvals_required": r.required_approvals, "approvals_left": left,
        "approved_by": approvers.iter().map(|l| json!({"user": user(st, l)})).collect::<Vec<_>>(),
    })
}

pub fn commit(st: &State, r: &Repo, c: &CommitInfo) -> Value {
    let title = c.message.lines().next().unwrap_or_default();
    json!({
        "id": c.sha, "short_id": &c.sha[..8.min(c.sha.len())], "title": title,
        "message": c.message, "parent_ids": c.parents,
        "author_name": c.author_name, "author_email": c.author_email,
        "authored_date": rfc3339(c.author_time),
        "committer_name": c.committer_name, "committer_email": c.committer_email,
        "committed_date": rfc3339(c.committer_time), "created_at": rfc3339(c.committer_time),
        "web_url": format!("{}/{}/-/commit/{}", st.base_url, r.full_name, c.sha),
    })
}

pub fn branch(st: &State, r: &Repo, name: &str, c: &CommitInfo) -> Value {
    json!({
        "name": name, "commit": commit(st, r, c), "merged": false,
        "protected": name == r.default_branch, "default": name == r.default_branch,
        "developers_can_push": false, "developers_can_merge": false, "can_push": true,
        "web_url": format!("{}/{}/-/tree/{name}", st.base_url, r.full_name),
    })
}

pub fn status_state(s: StatusState) -> &'static str {
    match s {
        StatusState::Pending => "pending",
        StatusState::Running => "running",
        StatusState::Success => "success",
        StatusState::Failure => "failed",
        StatusState::Error | StatusState::Warning => "canceled",
    }
}

pub fn status(st: &State, s: &CommitStatus) -> Value {
    json!({
        "id": s.id, "sha": s.sha, "ref": null, "status": status_state(s.state), "name": s.context,
        "target_url": s.target_url, "description": s.description, "created_at": s.created_at,
        "started_at": null, "finished_at": null, "allow_failure": false, "coverage": null,
        "author": user(st, &s.creator),
    })
}

pub fn note(st: &State, c: &Comment) -> Value {
    json!({
        "id": c.id, "type": null, "body": c.body, "attachment": null, "author": user(st, &c.user),
        "created_at": c.created_at, "updated_at": c.created_at, "system": false,
        "noteable_type": "MergeRequest", "noteable_iid": c.number, "resolvable": false,
    })
}
