//! GitHub webhook payloads.

use super::{Event, PullAction};
use crate::githost::git::ZERO;
use crate::githost::json::{self, github as j};
use crate::githost::state::{Repo, ReviewState, State};
use serde_json::{Value, json};

pub fn render(st: &State, r: &Repo, ev: &Event) -> Option<(String, Value)> {
    let repository = j::repo(st, r);
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
                "sender": j::user(st, pusher)}),
            )
        }
        Event::Pull {
            number,
            action,
            actor,
            ..
        } => {
            let p = r.pull(*number)?;
            let mut body = json!({"number": number, "pull_request": j::pull(st, r, p, None),
                "repository": repository, "sender": j::user(st, actor)});
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
                "review": j::review(st, r, p, rv, true), "pull_request": j::pull(st, r, p, None),
                "repository": repository, "sender": j::user(st, actor)}),
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
                "state": j::status_state(s.state), "commit": {"sha": s.sha}, "branches": branches,
                "created_at": s.created_at, "updated_at": s.created_at, "repository": repository,
                "sender": j::user(st, actor)}),
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
                json!({"action": action, "check_run": j::check_run(st, r, c),
                "repository": repository, "sender": j::user(st, actor)}),
            )
        }
        Event::Comment {
            comment_id, actor, ..
        } => {
            let c = r.comments.iter().find(|c| c.id == *comment_id)?;
            let p = r.pull(c.number)?;
            let issue = json!({"number": p.number, "title": p.title, "state": if p.open { "open" } else { "closed" },
                "user": j::user(st, &p.author),
                "pull_request": {"url": format!("{}/repos/{}/pulls/{}", j::api(st), r.full_name, p.number),
                                 "html_url": format!("{}/{}/pull/{}", st.base_url, r.full_name, p.number)}});
            (
                "issue_comment".into(),
                json!({"action": "created", "issue": issue,
                "comment": j::comment(st, r, c), "repository": repository,
                "sender": j::user(st, actor)}),
            )
        }
        Event::Ping { .. } => return None,
    })
}
