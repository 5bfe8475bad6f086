//! GitLab webhook payloads.

use super::{Event, PullAction};
use crate::githost::git::ZERO;
use crate::githost::json::{self, gitlab as j};
use crate::githost::state::{Repo, ReviewState, State};
use serde_json::{Value, json};

fn gitlab_user(st: &State, login: &str) -> Value {
    let u = st.user(login);
    json!({"id": u.map(|u| u.id).unwrap_or(0), "name": login, "username": login,
        "email": u.map(|u| u.email()), "avatar_url": ""})
}

fn gitlab_mr_attrs(st: &State, r: &Repo, p: &crate::githost::state::Pull, action: &str) -> Value {
    let mut mr = j::merge_request(st, r, p, None);
    let last = r.git.commit(&p.head_sha);
    mr["action"] = json!(action);
    mr["url"] = mr["web_url"].clone();
    mr["author_id"] = json!(st.user(&p.author).map(|u| u.id));
    mr["last_commit"] = json!(last.map(|c| json!({"id": c.sha, "message": c.message,
        "title": c.message.lines().next().unwrap_or_default(), "timestamp": json::rfc3339(c.committer_time),
        "author": {"name": c.author_name, "email": c.author_email}})));
    mr
}

pub fn render(st: &State, r: &Repo, ev: &Event) -> Option<(String, Value)> {
    let project = j::hook_project(st, r);
    let repository = j::hook_repository(st, r);
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
                    "status": j::status_state(s.state), "detailed_status": j::status_state(s.state),
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
