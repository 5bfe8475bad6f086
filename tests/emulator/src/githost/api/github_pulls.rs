//! GitHub pulls, reviews and issue comments.

use super::github::{merge_method, review_event};
use super::{Caller, Req, Resp, paginate, s};
use crate::githost::hooks::Event;
use crate::githost::json::github::{self as j, error};
use crate::githost::ops::{self, OpError};
use crate::githost::state::{ReviewState, State};
use serde_json::{Value, json};

fn not_found() -> Resp {
    Resp::json(404, error(404, "Not Found"))
}

fn validation(errors: Value) -> Resp {
    let mut body = error(422, "Validation Failed");
    body["errors"] = errors;
    Resp::json(422, body)
}

fn pull_resp(st: &mut State, name: &str, number: u64, status: u16, compute: bool) -> Resp {
    let Some(repo) = st.repos.get_mut(name) else {
        return not_found();
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
        None => not_found(),
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
    let number = rest.get(1).and_then(|n| n.parse::<u64>().ok());
    match (req.method.as_str(), rest) {
        ("GET", ["pulls"]) => list(st, req, name),
        ("POST", ["pulls"]) => create(st, caller, name, body, ev),
        ("GET", ["pulls", _]) => match number {
            Some(n) => pull_resp(st, name, n, 200, true),
            None => not_found(),
        },
        ("PATCH", ["pulls", _]) => {
            let Some(n) = number else { return not_found() };
            let r = ops::edit(st, name, n, s(body, "title"), s(body, "body"), &login, ev);
            if r == Err(OpError::NotFound) {
                return not_found();
            }
            match s(body, "state") {
                Some(state @ ("open" | "closed")) => {
                    match ops::set_open(st, name, n, state == "open", &login, ev) {
                        Ok(()) => {}
                        Err(OpError::NotFound) => return not_found(),
                        Err(_) => {
                            return validation(
                                json!([{"resource": "PullRequest", "code": "custom",
                                "message": "state cannot be changed. The pull request has been merged or its head branch is gone."}]),
                            );
                        }
                    }
                }
                Some(_) => {
                    return validation(
                        json!([{"resource": "PullRequest", "field": "state", "code": "invalid"}]),
                    );
                }
                None => {}
            }
            pull_resp(st, name, n, 200, true)
        }
        ("GET", ["pulls", _, "merge"]) => match number.and_then(|n| st.repos[name].pull(n)) {
            Some(p) if p.merged => Resp::empty(204),
            _ => Resp::empty(404),
        },
        ("PUT", ["pulls", _, "merge"]) => {
            let Some(n) = number else { return not_found() };
            merge(st, caller, name, n, body, ev)
        }
        ("POST", ["pulls", _, "requested_reviewers"]) => {
            let Some(n) = number else { return not_found() };
            let teams: Vec<String> = body["team_reviewers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let users = body["reviewers"].as_array().map_or(0, Vec::len);
            if teams.is_empty() && users == 0 {
                return validation(json!([{"resource": "PullRequest", "code": "custom",
                    "message": "Reviews may only be requested from collaborators or teams."}]));
            }
            let Some(p) = st.repos.get_mut(name).and_then(|r| r.pull_mut(n)) else {
                return not_found();
            };
            for t in teams {
                if !p.requested_teams.contains(&t) {
                    p.requested_teams.push(t);
                }
            }
            pull_resp(st, name, n, 201, false)
        }
        ("GET", ["pulls", _, "reviews"]) => {
            let Some(p) = number.and_then(|n| st.repos[name].pull(n)) else {
                return not_found();
            };
            let repo = &st.repos[name];
            let list: Vec<Value> = p
                .reviews
                .iter()
                .filter(|r| r.state != ReviewState::Pending || r.user == login)
                .map(|r| j::review(st, repo, p, r, false))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        ("POST", ["pulls", _, "reviews"]) => {
            let Some(n) = number else { return not_found() };
            let Some(state) = review_event(s(body, "event")) else {
                return Resp::json(422, error(422, "Unprocessable Entity"));
            };
            let text = s(body, "body").unwrap_or("");
            if matches!(
                state,
                ReviewState::ChangesRequested | ReviewState::Commented
            ) && text.is_empty()
            {
                let mut b = error(422, "Unprocessable Entity");
                b["errors"] = json!([format!(
                    "Review body is required when the event is {}",
                    s(body, "event").unwrap_or("")
                )]);
                return Resp::json(422, b);
            }
            match ops::review(st, name, n, &login, state, text, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    let Some(p) = repo.pull(n) else {
                        return not_found();
                    };
                    match p.reviews.iter().find(|r| r.id == id) {
                        Some(r) => Resp::json(200, j::review(st, repo, p, r, false)),
                        None => not_found(),
                    }
                }
                Err(OpError::NotFound) => not_found(),
                Err(OpError::OwnPull) => {
                    let what = if state == ReviewState::Approved {
                        "Can not approve your own pull request"
                    } else {
                        "Can not request changes on your own pull request"
                    };
                    let mut b = error(422, "Unprocessable Entity");
                    b["errors"] = json!([what]);
                    Resp::json(422, b)
                }
                Err(_) => {
                    let mut b = error(422, "Unprocessable Entity");
                    b["errors"] = json!(["Can not review a closed pull request"]);
                    Resp::json(422, b)
                }
            }
        }
        ("GET", ["issues", _, "comments"]) => {
            let Some(n) = number else { return not_found() };
            let repo = &st.repos[name];
            if repo.pull(n).is_none() {
                return not_found();
            }
            let list: Vec<Value> = repo
                .comments
                .iter()
                .filter(|c| c.number == n)
                .map(|c| j::comment(st, repo, c))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        ("POST", ["issues", _, "comments"]) => {
            let Some(n) = number else { return not_found() };
            let Some(text) = s(body, "body") else {
                return validation(
                    json!([{"resource": "IssueComment", "field": "body", "code": "missing_field"}]),
                );
            };
            match ops::comment(st, name, n, &login, text, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.comments.iter().find(|c| c.id == id) {
                        Some(c) => Resp::json(201, j::comment(st, repo, c)),
                        None => not_found(),
                    }
                }
                Err(_) => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn list(st: &mut State, req: &Req, name: &str) -> Resp {
    let repo = &st.repos[name];
    let state = req.q("state").unwrap_or("open");
    // `head` must be `owner:branch`; GitHub ignores a bare branch name.
    let head = req
        .q("head")
        .and_then(|h| h.split_once(':'))
        .map(|(o, b)| (o.to_owned(), b.to_owned()));
    let base = req.q("base");
    let mut pulls: Vec<_> = repo
        .pulls
        .iter()
        .filter(|p| match state {
            "all" => true,
            "closed" => !p.open,
            _ => p.open,
        })
        .filter(|p| {
            head.as_ref()
                .is_none_or(|(o, b)| o.eq_ignore_ascii_case(repo.owner()) && *b == p.head)
        })
        .filter(|p| base.is_none_or(|b| b == p.base))
        .collect();
    if req.q("direction") == Some("asc") {
        pulls.sort_by_key(|p| p.number);
    } else {
        pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    }
    let list: Vec<Value> = pulls.iter().map(|p| j::pull(st, repo, p, None)).collect();
    Resp::json(200, Value::Array(paginate(list, req, 30)))
}

fn create(st: &mut State, caller: &Caller, name: &str, body: &Value, ev: &mut Vec<Event>) -> Resp {
    let missing = |f: &str| {
        validation(json!([{"resource": "PullRequest", "field": f, "code": "missing_field"}]))
    };
    let Some(title) = s(body, "title") else {
        return missing("title");
    };
    let Some(head) = s(body, "head") else {
        return missing("head");
    };
    let Some(base) = s(body, "base") else {
        return missing("base");
    };
    let owner = st.repos[name].owner().to_owned();
    let head = match head.split_once(':') {
        Some((o, b)) if o.eq_ignore_ascii_case(&owner) => b.to_owned(),
        Some(_) => {
            return validation(
                json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]),
            );
        }
        None => head.to_owned(),
    };
    let text = s(body, "body").unwrap_or("");
    match ops::open_pull(st, name, &caller.user, &head, base, title, text, false, ev) {
        Ok(n) => pull_resp(st, name, n, 201, false),
        Err(OpError::BranchMissing(b)) => {
            let field = if b == head { "head" } else { "base" };
            validation(json!([{"resource": "PullRequest", "field": field, "code": "invalid"}]))
        }
        Err(OpError::Exists { .. }) => {
            validation(json!([{"resource": "PullRequest", "code": "custom",
            "message": format!("A pull request already exists for {owner}:{head}.")}]))
        }
        Err(OpError::NoCommits) => validation(json!([{"resource": "PullRequest", "code": "custom",
            "message": format!("No commits between {base} and {head}")}])),
        Err(_) => not_found(),
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
    let Some(method) = merge_method(s(body, "merge_method")) else {
        return validation(
            json!([{"resource": "PullRequest", "field": "merge_method", "code": "invalid"}]),
        );
    };
    let repo = &st.repos[name];
    let Some(p) = repo.pull(n) else {
        return not_found();
    };
    let (title, message) = match method {
        ops::MergeMethod::Squash => (format!("{} (#{n})", p.title), String::new()),
        _ => (
            format!("Merge pull request #{n} from {}/{}", repo.owner(), p.head),
            p.title.clone(),
        ),
    };
    let title = s(body, "commit_title").map(str::to_owned).unwrap_or(title);
    let message = s(body, "commit_message")
        .map(str::to_owned)
        .unwrap_or(message);
    let full = if message.is_empty() {
        format!("{title}\n")
    } else {
        format!("{title}\n\n{message}\n")
    };
    match ops::merge(st, name, n, &caller.user, method, s(body, "sha"), &full, ev) {
        Ok(sha) => Resp::json(
            200,
            json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"}),
        ),
        Err(OpError::NotFound) => not_found(),
        Err(OpError::HeadMoved { .. }) => Resp::json(
            409,
            error(
                409,
                "Head branch was modified. Review and try the merge again.",
            ),
        ),
        Err(OpError::BaseMoved) => Resp::json(
            409,
            error(
                409,
                "Base branch was modified. Review and try the merge again.",
            ),
        ),
        Err(OpError::NeedsApprovals { required }) => {
            let text = if required == 1 {
                "At least 1 approving review is required by reviewers with write access.".to_owned()
            } else {
                format!(
                    "At least {required} approving reviews are required by reviewers with write access."
                )
            };
            Resp::json(405, error(405, &text))
        }
        Err(_) => Resp::json(405, error(405, "Pull Request is not mergeable")),
    }
}
