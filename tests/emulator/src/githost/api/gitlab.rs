//! GitLab REST v4 (`/api/v4`): projects, branches, multi-action commits, files, merge
//! requests, approvals, notes and commit statuses.

use super::{Caller, Req, Resp, b64, paginate, s, unb64};
use crate::githost::git::Ident;
use crate::githost::hooks::Event;
use crate::githost::json::gitlab as j;
use crate::githost::ops::{self, unix_now};
use crate::githost::state::{Flavour, State, StatusState};
use serde_json::{Value, json};

pub(super) fn msg(status: u16, m: &str) -> Resp {
    Resp::json(status, json!({"message": m}))
}

pub(super) fn not_found(what: &str) -> Resp {
    msg(404, &format!("404 {what} Not Found"))
}

pub fn handle(st: &mut State, req: &Req, ev: &mut Vec<Event>) -> Resp {
    let token = super::token(Flavour::GitLab, &req.headers);
    let caller = match super::whoami(st, token.as_deref()) {
        Some((user, write)) => Caller { user, write },
        None if token.is_none() && req.seg(0) == "projects" => return not_found("Project"),
        None => return msg(401, "401 Unauthorized"),
    };
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["user"]) => {
            let mut u = j::user(st, &caller.user.login);
            u["email"] = json!(caller.user.email());
            Resp::json(200, u)
        }
        (_, ["projects", id, rest @ ..]) => {
            let name = match id.parse::<u64>() {
                Ok(n) => st.repo_by_id(n).map(|r| r.full_name.clone()),
                Err(_) => st.repos.contains_key(*id).then(|| id.to_string()),
            };
            let Some(name) = name else {
                return not_found("Project");
            };
            if req.method != "GET" && !caller.write {
                return msg(403, "403 Forbidden");
            }
            let body = match req.json() {
                Some(b) => b,
                None => return Resp::json(400, json!({"error": "body is not valid JSON"})),
            };
            project_routes(st, req, &caller, &name, rest, &body, ev)
        }
        _ => msg(404, "404 Not Found"),
    }
}

fn project_routes(
    st: &mut State,
    req: &Req,
    caller: &Caller,
    name: &str,
    rest: &[&str],
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let login = caller.user.login.clone();
    let repo = &st.repos[name];
    match (req.method.as_str(), rest) {
        ("GET", []) => {
            let mut v = j::project(st, repo);
            let level = if caller.write { 40 } else { 20 };
            v["permissions"] = json!({"project_access": {"access_level": level, "notification_level": 3},
                "group_access": null});
            Resp::json(200, v)
        }
        ("GET", ["repository", "branches"]) => {
            let list: Vec<Value> = repo
                .git
                .refs()
                .iter()
                .filter_map(|(n, sha)| {
                    let b = n.trim_start_matches("refs/heads/");
                    Some(j::branch(st, repo, b, &repo.git.commit(sha)?))
                })
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 20)))
        }
        ("GET", ["repository", "branches", br]) => {
            match repo.git.branch(br).and_then(|sha| repo.git.commit(&sha)) {
                Some(c) => Resp::json(200, j::branch(st, repo, br, &c)),
                None => not_found("Branch"),
            }
        }
        ("POST", ["repository", "branches"]) => {
            let br = req
                .q("branch")
                .or_else(|| s(body, "branch"))
                .unwrap_or("")
                .to_owned();
            let r = req
                .q("ref")
                .or_else(|| s(body, "ref"))
                .unwrap_or("")
                .to_owned();
            if br.is_empty() || r.is_empty() {
                return Resp::json(400, json!({"error": "branch is missing, ref is missing"}));
            }
            if repo.git.branch(&br).is_some() {
                return msg(400, "Branch already exists");
            }
            let Some(sha) = repo.git.commit_of(&r) else {
                return msg(400, "Invalid reference name: ref");
            };
            if repo
                .git
                .update_ref(
                    &format!("refs/heads/{br}"),
                    &sha,
                    Some(crate::githost::git::ZERO),
                )
                .is_err()
            {
                return msg(400, "Branch already exists");
            }
            ops::sync_refs(st, name, &login, ev);
            let repo = &st.repos[name];
            match repo.git.commit(&sha) {
                Some(c) => Resp::json(201, j::branch(st, repo, &br, &c)),
                None => not_found("Commit"),
            }
        }
        ("DELETE", ["repository", "branches", br]) => {
            let Some(old) = repo.git.branch(br) else {
                return not_found("Branch");
            };
            if *br == repo.default_branch {
                return msg(405, "405 Method Not Allowed");
            }
            let _ = repo.git.delete_ref(&format!("refs/heads/{br}"), &old);
            ops::sync_refs_keeping_pulls(st, name, &login, ev);
            Resp::empty(204)
        }
        ("POST", ["repository", "commits"]) => create_commit(st, caller, name, body, ev),
        ("GET", ["repository", "commits", sha]) => {
            match repo.git.commit_of(sha).and_then(|c| repo.git.commit(&c)) {
                Some(c) => Resp::json(200, j::commit(st, repo, &c)),
                None => not_found("Commit"),
            }
        }
        ("GET", ["repository", "commits", sha, "statuses"]) => {
            let Some(full) = repo.git.commit_of(sha) else {
                return not_found("Commit");
            };
            let all = req.q("all").is_some_and(|v| v == "true");
            let list: Vec<Value> = if all {
                repo.statuses
                    .iter()
                    .rev()
                    .filter(|s| s.sha == full)
                    .map(|s| j::status(st, s))
                    .collect()
            } else {
                repo.latest_statuses(&full)
                    .iter()
                    .map(|s| j::status(st, s))
                    .collect()
            };
            Resp::json(200, Value::Array(paginate(list, req, 20)))
        }
        ("GET", ["repository", "files", path]) | ("GET", ["repository", "files", path, "raw"]) => {
            let raw = rest.len() == 4;
            let Some(r) = req.q("ref") else {
                return Resp::json(400, json!({"error": "ref is missing"}));
            };
            let Some(commit) = repo.git.commit_of(r) else {
                return not_found("Commit");
            };
            let Some(blob) = repo.git.blob_at(&commit, path) else {
                return not_found("File");
            };
            let bytes = repo.git.read_blob(&blob).unwrap_or_default();
            if raw {
                return Resp::json(
                    200,
                    Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                );
            }
            Resp::json(
                200,
                json!({"file_name": path.rsplit('/').next(), "file_path": path, "size": bytes.len(),
                "encoding": "base64", "content": b64(&bytes), "ref": r, "blob_id": blob,
                "commit_id": commit, "last_commit_id": repo.git.last_commit_for(&commit, path)}),
            )
        }
        ("POST", ["statuses", sha]) => {
            let state = match s(body, "state") {
                Some("pending") => StatusState::Pending,
                Some("running") => StatusState::Running,
                Some("success") => StatusState::Success,
                Some("failed") => StatusState::Failure,
                Some("canceled") => StatusState::Error,
                _ => return Resp::json(400, json!({"error": "state does not have a valid value"})),
            };
            let context = s(body, "name")
                .or_else(|| s(body, "context"))
                .unwrap_or("default")
                .to_owned();
            let target = s(body, "target_url").map(str::to_owned);
            let desc = s(body, "description").map(str::to_owned);
            let sha = sha.to_string();
            match ops::add_status(st, name, &sha, &context, state, target, desc, &login, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.statuses.iter().find(|s| s.id == id) {
                        Some(s) => Resp::json(201, j::status(st, s)),
                        None => not_found("Commit"),
                    }
                }
                Err(_) => not_found("Commit"),
            }
        }
        (_, ["merge_requests", ..]) => {
            super::gitlab_mrs::routes(st, req, caller, name, &rest[1..], body, ev)
        }
        _ => msg(404, "404 Not Found"),
    }
}

fn create_commit(
    st: &mut State,
    caller: &Caller,
    name: &str,
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let repo = &st.repos[name];
    let (Some(branch), Some(message)) = (s(body, "branch"), s(body, "commit_message")) else {
        return Resp::json(
            400,
            json!({"error": "branch is missing, commit_message is missing"}),
        );
    };
    let Some(actions) = body.get("actions").and_then(Value::as_array) else {
        return Resp::json(400, json!({"error": "actions is missing"}));
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let existing = repo.git.branch(branch);
    let start = match (s(body, "start_branch"), s(body, "start_sha")) {
        (Some(_), Some(_)) => {
            return Resp::json(
                400,
                json!({"error": "start_branch, start_sha are mutually exclusive"}),
            );
        }
        (Some(b), None) => match repo.git.branch(b) {
            Some(sha) => Some(sha),
            None => {
                return msg(
                    400,
                    "You can only create or edit files when you are on a branch",
                );
            }
        },
        (None, Some(sha)) => match repo.git.commit_of(sha) {
            Some(c) if c.starts_with(sha) || c == sha => Some(c),
            _ => return msg(400, &format!("Cannot find start_sha '{sha}'")),
        },
        (None, None) => None,
    };
    let parent = match (&existing, &start) {
        (Some(_), Some(start)) if force => start.clone(),
        (Some(head), Some(start)) if head == start && s(body, "start_branch") == Some(branch) => {
            head.clone()
        }
        (Some(_), Some(_)) => {
            return msg(
                400,
                &format!(
                    "A branch called '{branch}' already exists. Switch to that branch in order to make changes"
                ),
            );
        }
        (Some(head), None) => head.clone(),
        (None, Some(start)) => start.clone(),
        (None, None) => {
            return msg(
                400,
                "You can only create or edit files when you are on a branch",
            );
        }
    };
    let mut changes = Vec::new();
    for a in actions {
        let Some(path) = s(a, "file_path") else {
            return Resp::json(400, json!({"error": "actions[file_path] is missing"}));
        };
        let exists = repo.git.blob_at(&parent, path).is_some();
        if let Some(last) = s(a, "last_commit_id")
            && repo.git.last_commit_for(&parent, path).as_deref() != Some(last)
        {
            return msg(
                400,
                &format!("The file has changed since you started editing it: {path}"),
            );
        }
        let content = || -> Option<Vec<u8>> {
            let text = s(a, "content").unwrap_or("");
            match s(a, "encoding").unwrap_or("text") {
                "base64" => unb64(text),
                _ => Some(text.as_bytes().to_vec()),
            }
        };
        match s(a, "action") {
            Some("create") => {
                if exists {
                    return msg(400, "A file with this name already exists");
                }
                let Some(c) = content() else {
                    return msg(400, "Invalid base64 content");
                };
                changes.push((path.to_owned(), Some(c)));
            }
            Some("update") => {
                if !exists {
                    return msg(400, "A file with this name doesn't exist");
                }
                let Some(c) = content() else {
                    return msg(400, "Invalid base64 content");
                };
                changes.push((path.to_owned(), Some(c)));
            }
            Some("delete") => {
                if !exists {
                    return msg(400, "A file with this name doesn't exist");
                }
                changes.push((path.to_owned(), None));
            }
            Some("move") => {
                let Some(prev) = s(a, "previous_path") else {
                    return Resp::json(400, json!({"error": "actions[previous_path] is missing"}));
                };
                let Some(old) = repo.git.file_at(&parent, prev) else {
                    return msg(400, "A file with this name doesn't exist");
                };
                let c = if a.get("content").is_some() {
                    content()
                } else {
                    Some(old)
                };
                let Some(c) = c else {
                    return msg(400, "Invalid base64 content");
                };
                changes.push((prev.to_owned(), None));
                changes.push((path.to_owned(), Some(c)));
            }
            _ => {
                return Resp::json(
                    400,
                    json!({"error": "actions[action] does not have a valid value"}),
                );
            }
        }
    }
    let me = caller.user.ident(unix_now());
    let author = Ident {
        name: s(body, "author_name").unwrap_or(&me.name).to_owned(),
        email: s(body, "author_email").unwrap_or(&me.email).to_owned(),
        time: me.time,
    };
    let branch = branch.to_owned();
    let message = message.to_owned();
    let old = existing.clone();
    match ops::commit_to_branch(
        st,
        name,
        &branch,
        Some(&parent),
        old.as_deref(),
        &changes,
        &message,
        &author,
        &me,
        &caller.user.login,
        ev,
    ) {
        Ok(sha) => {
            let repo = &st.repos[name];
            match repo.git.commit(&sha) {
                Some(c) => {
                    let mut v = j::commit(st, repo, &c);
                    v["stats"] = json!({"additions": 0, "deletions": 0, "total": 0});
                    v["status"] = Value::Null;
                    v["project_id"] = json!(repo.id);
                    v["last_pipeline"] = Value::Null;
                    Resp::json(201, v)
                }
                None => msg(500, "500 Internal Server Error"),
            }
        }
        Err(_) => msg(400, "Could not update branch: the branch moved"),
    }
}
