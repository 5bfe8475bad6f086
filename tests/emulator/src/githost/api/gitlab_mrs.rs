//! GitLab merge requests: list, create, read, update, merge, approvals and notes.

use super::gitlab::{msg, not_found};
use super::{Caller, Req, Resp, paginate, s};
use crate::githost::hooks::Event;
use crate::githost::json::gitlab as j;
use crate::githost::ops::{self, MergeMethod, OpError};
use crate::githost::state::{ReviewState, State};
use serde_json::{Value, json};

fn mr_resp(st: &mut State, name: &str, iid: u64, status: u16, compute: bool) -> Resp {
    let Some(repo) = st.repos.get_mut(name) else {
        return not_found("Project");
    };
    let mergeable = if compute {
        ops::mergeable(repo, iid, true)
    } else {
        ops::refresh(repo, iid);
        None
    };
    let repo = &st.repos[name];
    match repo.pull(iid) {
        Some(p) => Resp::json(status, j::merge_request(st, repo, p, mergeable)),
        None => msg(404, "404 Not found"),
    }
}

pub fn routes(
    st: &mut State,
    req: &Req,
    caller: &Caller,
    name: &str,
    rest: &[&str],
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let login = caller.user.login.clone();
    let iid = rest.first().and_then(|n| n.parse::<u64>().ok());
    if !rest.is_empty() && iid.is_none_or(|n| st.repos[name].pull(n).is_none()) {
        return msg(404, "404 Not found");
    }
    let iid = iid.unwrap_or(0);
    match (req.method.as_str(), rest) {
        ("GET", []) => {
            let repo = &st.repos[name];
            let state = req.q("state").unwrap_or("all");
            let mut list: Vec<_> = repo
                .pulls
                .iter()
                .filter(|p| match state {
                    "opened" => p.open,
                    "merged" => p.merged,
                    "closed" => !p.open && !p.merged,
                    "locked" => false,
                    _ => true,
                })
                .filter(|p| req.q("source_branch").is_none_or(|b| b == p.head))
                .filter(|p| req.q("target_branch").is_none_or(|b| b == p.base))
                .collect();
            list.sort_by_key(|p| std::cmp::Reverse(p.number));
            let list: Vec<Value> = list
                .iter()
                .map(|p| j::merge_request(st, repo, p, None))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 20)))
        }
        ("POST", []) => {
            let (Some(src), Some(tgt), Some(title)) = (
                s(body, "source_branch"),
                s(body, "target_branch"),
                s(body, "title"),
            ) else {
                return Resp::json(
                    400,
                    json!({"error": "source_branch is missing, target_branch is missing, title is missing"}),
                );
            };
            let desc = s(body, "description").unwrap_or("");
            match ops::open_pull(st, name, &caller.user, src, tgt, title, desc, true, ev) {
                Ok(n) => mr_resp(st, name, n, 201, false),
                Err(OpError::Exists { number, .. }) => Resp::json(
                    409,
                    json!({"message": [format!("Another open merge request already exists for this source branch: !{number}")]}),
                ),
                Err(OpError::BranchMissing(b)) if b == src => {
                    Resp::json(422, json!({"message": ["Source branch does not exist"]}))
                }
                Err(_) => Resp::json(422, json!({"message": ["Target branch does not exist"]})),
            }
        }
        ("GET", [_]) => mr_resp(st, name, iid, 200, true),
        ("PUT", [_]) => {
            let _ = ops::edit(
                st,
                name,
                iid,
                s(body, "title"),
                s(body, "description"),
                &login,
                ev,
            );
            match s(body, "state_event") {
                Some(e @ ("close" | "reopen"))
                    if ops::set_open(st, name, iid, e == "reopen", &login, ev).is_err() =>
                {
                    return msg(405, "405 Method Not Allowed");
                }
                Some("close" | "reopen") => {}
                Some(_) => {
                    return Resp::json(
                        400,
                        json!({"error": "state_event does not have a valid value"}),
                    );
                }
                None => {}
            }
            mr_resp(st, name, iid, 200, true)
        }
        ("PUT", [_, "merge"]) => {
            let squash = body.get("squash").and_then(Value::as_bool).unwrap_or(false)
                || s(body, "squash") == Some("true");
            let repo = &st.repos[name];
            let Some(p) = repo.pull(iid) else {
                return msg(404, "404 Not found");
            };
            let default = format!(
                "Merge branch '{}' into '{}'\n\n{}\n\nSee merge request {}!{}\n",
                p.head, p.base, p.title, repo.full_name, iid
            );
            let message = if squash {
                s(body, "squash_commit_message")
                    .map(|m| format!("{m}\n"))
                    .unwrap_or_else(|| format!("{}\n", p.title))
            } else {
                s(body, "merge_commit_message")
                    .map(|m| format!("{m}\n"))
                    .unwrap_or(default)
            };
            let method = if squash {
                MergeMethod::Squash
            } else {
                MergeMethod::Merge
            };
            match ops::merge(
                st,
                name,
                iid,
                &caller.user,
                method,
                s(body, "sha"),
                &message,
                ev,
            ) {
                Ok(_) => mr_resp(st, name, iid, 200, false),
                Err(OpError::HeadMoved { current }) => msg(
                    409,
                    &format!("SHA does not match HEAD of source branch: {current}"),
                ),
                Err(OpError::Conflict) => msg(422, "Branch cannot be merged"),
                Err(OpError::BaseMoved) => msg(409, "Branch cannot be merged"),
                Err(_) => msg(405, "405 Method Not Allowed"),
            }
        }
        ("GET", [_, "approvals"]) => {
            let repo = &st.repos[name];
            match repo.pull(iid) {
                Some(p) => Resp::json(200, j::approvals(st, repo, p)),
                None => msg(404, "404 Not found"),
            }
        }
        ("POST", [_, "approve"]) => {
            let repo = &st.repos[name];
            let Some(p) = repo.pull(iid) else {
                return msg(404, "404 Not found");
            };
            if let Some(sha) = s(body, "sha")
                && sha != p.head_sha
            {
                return msg(
                    409,
                    &format!("SHA does not match HEAD of source branch: {}", p.head_sha),
                );
            }
            if p.approvers().contains(&login) {
                return msg(401, "401 Unauthorized");
            }
            match ops::review(st, name, iid, &login, ReviewState::Approved, "", ev) {
                Ok(_) => {
                    let repo = &st.repos[name];
                    match repo.pull(iid) {
                        Some(p) => Resp::json(201, j::approvals(st, repo, p)),
                        None => msg(404, "404 Not found"),
                    }
                }
                Err(_) => msg(401, "401 Unauthorized"),
            }
        }
        ("POST", [_, "unapprove"]) => {
            let repo = &st.repos[name];
            let Some(p) = repo.pull(iid) else {
                return msg(404, "404 Not found");
            };
            if !p.approvers().contains(&login) {
                return msg(404, "404 Not found");
            }
            match ops::review(st, name, iid, &login, ReviewState::Dismissed, "", ev) {
                Ok(_) => {
                    let repo = &st.repos[name];
                    match repo.pull(iid) {
                        Some(p) => Resp::json(201, j::approvals(st, repo, p)),
                        None => msg(404, "404 Not found"),
                    }
                }
                Err(_) => msg(401, "401 Unauthorized"),
            }
        }
        ("GET", [_, "notes"]) => {
            let repo = &st.repos[name];
            let list: Vec<Value> = repo
                .comments
                .iter()
                .rev()
                .filter(|c| c.number == iid)
                .map(|c| j::note(st, c))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 20)))
        }
        ("POST", [_, "notes"]) => {
            let Some(text) = s(body, "body") else {
                return Resp::json(400, json!({"error": "body is missing"}));
            };
            match ops::comment(st, name, iid, &login, text, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.comments.iter().find(|c| c.id == id) {
                        Some(c) => Resp::json(201, j::note(st, c)),
                        None => msg(404, "404 Not found"),
                    }
                }
                Err(_) => msg(404, "404 Not found"),
            }
        }
        _ => msg(404, "404 Not Found"),
    }
}
