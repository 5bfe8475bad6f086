//! Gitea pulls, reviews and issue comments.

use super::gitea::{merge_style, review_event};
use super::{Caller, Req, Resp, paginate, s};
use crate::githost::hooks::Event;
use crate::githost::json::gitea as j;
use crate::githost::ops::{self, OpError};
use crate::githost::state::{ReviewState, State};
use serde_json::{Value, json};

fn err(st: &State, status: u16, m: &str) -> Resp {
    Resp::json(status, j::error(st, m))
}

fn not_found(st: &State) -> Resp {
    let mut b = j::error(st, "The target couldn't be found.");
    b["errors"] = json!([]);
    Resp::json(404, b)
}

fn pull_resp(st: &mut State, name: &str, number: u64, status: u16, compute: bool) -> Resp {
    let Some(repo) = st.repos.get_mut(name) else {
        return not_found(st);
    };
    let mergeable = if compute {
        ops::mergeable(repo, number, true)
    } else {
        ops::refresh(repo, number);
        None
    };
    let repo = &st.repos[name];
    match repo.pull(number) {
        Some(p) => Resp::json(status, j::pull(st, repo, p, mergeable)),
        None => not_found(st),
    }
}

/// Sub-routes of `/pulls/{index}` (anything else after `/pulls/` is `{base}/{head}`).
const INDEX_ROUTES: [&str; 6] = [
    "merge",
    "reviews",
    "commits",
    "files",
    "update",
    "requested_reviewers",
];

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
    let index = rest
        .get(1)
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|_| rest.len() == 2 || rest.get(2).is_some_and(|s| INDEX_ROUTES.contains(s)));
    let m = req.method.as_str();
    if rest[0] == "pulls" && rest.len() >= 3 && index.is_none() && m == "GET" {
        // GET /pulls/{base}/{head}: the latest pull with that base and head.
        let base = rest[1];
        let head = rest[2..].join("/");
        let repo = &st.repos[name];
        return match repo
            .pulls
            .iter()
            .filter(|p| p.base == base && p.head == head)
            .max_by_key(|p| p.number)
            .map(|p| p.number)
        {
            Some(n) => pull_resp(st, name, n, 200, true),
            None => not_found(st),
        };
    }
    if rest.len() >= 2 && index.is_none_or(|n| st.repos[name].pull(n).is_none()) {
        return not_found(st);
    }
    let n = index.unwrap_or(0);
    match (m, rest) {
        ("GET", ["pulls"]) => {
            let repo = &st.repos[name];
            let state = req.q("state").unwrap_or("open");
            let mut list: Vec<_> = repo
                .pulls
                .iter()
                .filter(|p| match state {
                    "all" => true,
                    "closed" => !p.open,
                    _ => p.open,
                })
                .collect();
            list.sort_by_key(|p| std::cmp::Reverse(p.number));
            let list: Vec<Value> = list.iter().map(|p| j::pull(st, repo, p, None)).collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        ("POST", ["pulls"]) => {
            let (Some(head), Some(base)) = (s(body, "head"), s(body, "base")) else {
                return not_found(st);
            };
            let Some(title) = s(body, "title").filter(|t| !t.is_empty()) else {
                return Resp::json(
                    422,
                    json!([{"fieldNames": ["Title"], "classification": "RequiredError", "message": "Required"}]),
                );
            };
            let head = head.rsplit(':').next().unwrap_or(head).to_owned();
            let text = s(body, "body").unwrap_or("");
            match ops::open_pull(st, name, &caller.user, &head, base, title, text, false, ev) {
                Ok(n) => pull_resp(st, name, n, 201, false),
                Err(OpError::Exists { number, id }) => {
                    let rid = st.repos[name].id;
                    err(
                        st,
                        409,
                        &format!(
                            "pull request already exists for these targets [id: {id}, issue_id: {number}, head_repo_id: {rid}, base_repo_id: {rid}, head_branch: {head}, base_branch: {base}]"
                        ),
                    )
                }
                Err(OpError::NoCommits) => err(
                    st,
                    422,
                    "Invalid PullRequest: There are no changes between the head and the base",
                ),
                Err(_) => not_found(st),
            }
        }
        ("GET", ["pulls", _]) => pull_resp(st, name, n, 200, true),
        ("PATCH", ["pulls", _]) => {
            let _ = ops::edit(st, name, n, s(body, "title"), s(body, "body"), &login, ev);
            if let Some(state) = s(body, "state") {
                if st.repos[name].pull(n).is_some_and(|p| p.merged) {
                    return err(
                        st,
                        412,
                        "cannot change state of this pull request, it was already merged",
                    );
                }
                if ops::set_open(st, name, n, state == "open", &login, ev).is_err() {
                    return err(st, 422, "cannot reopen: the head branch is gone");
                }
            }
            // Gitea answers an edit with 201.
            pull_resp(st, name, n, 201, true)
        }
        ("GET", ["pulls", _, "merge"]) => match st.repos[name].pull(n) {
            Some(p) if p.merged => Resp::empty(204),
            _ => not_found(st),
        },
        ("POST", ["pulls", _, "merge"]) => merge(st, caller, name, n, body, ev),
        ("GET", ["pulls", _, "reviews"]) => {
            let repo = &st.repos[name];
            let Some(p) = repo.pull(n) else {
                return not_found(st);
            };
            let list: Vec<Value> = p
                .reviews
                .iter()
                .filter(|r| r.state != ReviewState::Pending || r.user == login)
                .map(|r| j::review(st, repo, p, r))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        ("POST", ["pulls", _, "requested_reviewers"]) => {
            let teams: Vec<String> = body["team_reviewers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let Some(p) = st.repos.get_mut(name).and_then(|r| r.pull_mut(n)) else {
                return not_found(st);
            };
            for t in teams {
                if !p.requested_teams.contains(&t) {
                    p.requested_teams.push(t);
                }
            }
            Resp::json(201, json!([]))
        }
        ("POST", ["pulls", _, "reviews"]) => {
            let Some(state) = review_event(s(body, "event")) else {
                return err(st, 422, "unknown review event");
            };
            let text = s(body, "body").unwrap_or("");
            if matches!(
                state,
                ReviewState::ChangesRequested | ReviewState::Commented
            ) && text.is_empty()
            {
                return err(
                    st,
                    422,
                    &format!(
                        "review event {} requires a body",
                        s(body, "event").unwrap_or("")
                    ),
                );
            }
            match ops::review(st, name, n, &login, state, text, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    let Some(p) = repo.pull(n) else {
                        return not_found(st);
                    };
                    match p.reviews.iter().find(|r| r.id == id) {
                        Some(r) => Resp::json(200, j::review(st, repo, p, r)),
                        None => not_found(st),
                    }
                }
                Err(OpError::OwnPull) if state == ReviewState::Approved => {
                    err(st, 422, "approve your own pull is not allowed")
                }
                Err(OpError::OwnPull) => err(st, 422, "reject your own pull is not allowed"),
                Err(e) => super::gitea::op_error(st, e),
            }
        }
        ("GET", ["issues", _, "comments"]) => {
            let repo = &st.repos[name];
            let list: Vec<Value> = repo
                .comments
                .iter()
                .filter(|c| c.number == n)
                .map(|c| j::comment(st, repo, c))
                .collect();
            Resp::json(200, Value::Array(list))
        }
        ("POST", ["issues", _, "comments"]) => {
            let Some(text) = s(body, "body") else {
                return err(st, 422, "[Body]: Required");
            };
            match ops::comment(st, name, n, &login, text, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.comments.iter().find(|c| c.id == id) {
                        Some(c) => Resp::json(201, j::comment(st, repo, c)),
                        None => not_found(st),
                    }
                }
                Err(e) => super::gitea::op_error(st, e),
            }
        }
        _ => not_found(st),
    }
}

fn merge(
    st: &mut State,
    caller: &Caller,
    name: &str,
    n: u64,
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let style = s(body, "Do").or_else(|| s(body, "do"));
    let Some(method) = merge_style(style) else {
        return err(
            st,
            405,
            &format!(
                "{} is not allowed an allowed merge style for this repository",
                style.unwrap_or("")
            ),
        );
    };
    // Gitea checks that the pull can merge before it looks at the head commit.
    let Some(repo) = st.repos.get_mut(name) else {
        return not_found(st);
    };
    let mergeable = ops::mergeable(repo, n, false);
    let repo = &st.repos[name];
    let Some(p) = repo.pull(n) else {
        return not_found(st);
    };
    if p.merged {
        return err(st, 405, "");
    }
    if !p.open {
        return not_found(st);
    }
    if mergeable != Some(true) {
        return err(st, 405, "Please try again later");
    }
    if p.base == repo.default_branch && (p.approvers().len() as u32) < repo.required_approvals {
        return err(st, 405, "Does not have enough approvals");
    }
    let title = s(body, "MergeTitleField")
        .or_else(|| s(body, "merge_title_field"))
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|| match method {
            ops::MergeMethod::Squash => format!("{} (#{n})", p.title),
            _ => format!(
                "Merge pull request '{}' (#{n}) from {} into {}",
                p.title, p.head, p.base
            ),
        });
    let extra = s(body, "MergeMessageField")
        .or_else(|| s(body, "merge_message_field"))
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let message = match extra {
        Some(m) => format!("{title}\n\n{m}\n"),
        None => format!("{title}\n"),
    };
    let head = p.head.clone();
    let expected = s(body, "head_commit_id").map(str::to_owned);
    match ops::merge(
        st,
        name,
        n,
        &caller.user,
        method,
        expected.as_deref(),
        &message,
        ev,
    ) {
        Ok(_) => {
            if body
                .get("delete_branch_after_merge")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                let repo = &st.repos[name];
                if let Some(old) = repo.git.branch(&head) {
                    let _ = repo.git.delete_ref(&format!("refs/heads/{head}"), &old);
                    ops::sync_refs(st, name, &caller.user.login, ev);
                }
            }
            Resp::empty(200)
        }
        Err(OpError::HeadMoved { .. }) => err(st, 409, "head out of date"),
        Err(OpError::BaseMoved) => err(st, 409, "merge push out of date"),
        Err(OpError::Conflict) => err(st, 409, "merge failed because of conflict"),
        Err(OpError::NeedsApprovals { .. }) => err(st, 405, "Does not have enough approvals"),
        Err(OpError::NotFound) => not_found(st),
        Err(_) => err(st, 405, "Please try again later"),
    }
}
