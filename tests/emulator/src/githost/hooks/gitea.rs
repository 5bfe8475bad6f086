//! Gitea / Forgejo webhook payloads and event types.

use super::{Event, PullAction};
use crate::githost::git::ZERO;
use crate::githost::json::{self, gitea as j};
use crate::githost::state::{Repo, ReviewState, State};
use serde_json::{Value, json};

/// Gitea's `X-Gitea-Event-Type`, where it differs from `X-Gitea-Event`.
pub fn kind(ev: &Event, st: &State) -> Option<String> {
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
            if after == ZERO {
                return Some((
                    "delete".into(),
                    json!({"ref": ref_name.trim_start_matches("refs/heads/"), "ref_type": "branch",
                    "pusher_type": "user", "repository": repository, "sender": j::user(st, pusher)}),
                ));
            }
            let web = format!("{}/{}", st.base_url, r.full_name);
            let commits = json::pushed_commits(&r.git, &web, before, after);
            (
                "push".into(),
                json!({"ref": ref_name, "before": before, "after": after,
                "compare_url": format!("{web}/compare/{before}...{after}"),
                "total_commits": commits.len(), "head_commit": commits.last().cloned(), "commits": commits,
                "repository": repository, "pusher": j::user(st, pusher), "sender": j::user(st, pusher)}),
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
                "pull_request": j::pull(st, r, p, None), "requested_reviewer": null,
                "repository": repository, "sender": j::user(st, actor), "commit_id": "", "review": null}),
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
                "pull_request": j::pull(st, r, p, None), "repository": repository,
                "sender": j::user(st, actor), "commit_id": rv.commit_id,
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
                "state": j::status_state(s.state), "target_url": s.target_url,
                "description": s.description, "created_at": s.created_at, "updated_at": s.created_at,
                "commit": commit.map(|c| json!({"id": c.sha, "message": c.message,
                    "url": format!("{}/{}/commit/{}", st.base_url, r.full_name, c.sha)})),
                "repository": repository, "sender": j::user(st, actor)}),
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
                "issue": {"id": p.id, "number": p.number, "title": p.title, "user": j::user(st, &p.author),
                    "state": if p.open { "open" } else { "closed" },
                    "pull_request": {"merged": p.merged, "merged_at": p.merged_at}},
                "pull_request": j::pull(st, r, p, None),
                "comment": j::comment(st, r, c), "repository": repository,
                "sender": j::user(st, actor), "is_pull": true}),
            )
        }
        Event::CheckRun { .. } | Event::Ping { .. } => return None,
    })
}
