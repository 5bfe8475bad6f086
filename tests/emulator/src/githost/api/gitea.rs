//! Gitea / Forgejo REST v1 (`/api/v1`): repository, branches, ChangeFiles, contents, pulls,
//! reviews, comments and commit statuses.

use super::{Caller, Req, Resp, b64, paginate, s, unb64};
use crate::githost::git::{Ident, ZERO};
use crate::githost::hooks::Event;
use crate::githost::json::gitea::{self as j};
use crate::githost::ops::{self, MergeMethod, OpError, unix_now};
use crate::githost::state::{Flavour, ReviewState, State, StatusState};
use serde_json::{Value, json};

fn err(st: &State, status: u16, m: &str) -> Resp {
    Resp::json(status, j::error(st, m))
}

fn not_found(st: &State) -> Resp {
    let mut b = j::error(st, "The target couldn't be found.");
    b["errors"] = json!([]);
    Resp::json(404, b)
}

pub fn handle(st: &mut State, req: &Req, ev: &mut Vec<Event>) -> Resp {
    let token = super::token(Flavour::Gitea, &req.headers);
    let caller = match super::whoami(st, token.as_deref()) {
        Some((user, write)) => Caller { user, write },
        None if token.is_some() => return err(st, 401, "invalid username, password or token"),
        None if req.seg(0) == "repos" => return not_found(st),
        None => return err(st, 401, "token is required"),
    };
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["user"]) => Resp::json(200, j::user(st, &caller.user.login)),
        (_, ["repos", o, r, rest @ ..]) => {
            let name = format!("{o}/{r}");
            if !st.repos.contains_key(&name) {
                return not_found(st);
            }
            if req.method != "GET" && !caller.write {
                return err(
                    st,
                    403,
                    "token does not have at least one of required scope(s): [write:repository]",
                );
            }
            let Some(body) = req.json() else {
                return err(st, 422, "invalid JSON body");
            };
            repo_routes(st, req, &caller, &name, rest, &body, ev)
        }
        _ => not_found(st),
    }
}

fn repo_routes(
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
            let mut v = j::repo(st, repo);
            v["permissions"] = json!({"admin": caller.write, "push": caller.write, "pull": true});
            Resp::json(200, v)
        }
        ("GET", ["branches"]) => {
            let list: Vec<Value> = repo
                .git
                .refs()
                .iter()
                .filter_map(|(n, sha)| {
                    Some(j::branch(
                        st,
                        repo,
                        n.trim_start_matches("refs/heads/"),
                        &repo.git.commit(sha)?,
                    ))
                })
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        ("GET", ["branches", br @ ..]) => {
            let br = br.join("/");
            match repo.git.branch(&br).and_then(|sha| repo.git.commit(&sha)) {
                Some(c) => Resp::json(200, j::branch(st, repo, &br, &c)),
                None => not_found(st),
            }
        }
        ("POST", ["branches"]) => {
            let Some(new) = s(body, "new_branch_name") else {
                return err(st, 422, "[NewBranchName]: Required");
            };
            let old = s(body, "old_ref_name")
                .or_else(|| s(body, "old_branch_name"))
                .unwrap_or(&repo.default_branch);
            let Some(sha) = repo.git.commit_of(old) else {
                return not_found(st);
            };
            if repo.git.branch(new).is_some() {
                return err(st, 409, "The branch already exists.");
            }
            if repo
                .git
                .update_ref(&format!("refs/heads/{new}"), &sha, Some(ZERO))
                .is_err()
            {
                return err(st, 409, "The branch already exists.");
            }
            let new = new.to_owned();
            ops::sync_refs(st, name, &login, ev);
            let repo = &st.repos[name];
            match repo.git.commit(&sha) {
                Some(c) => Resp::json(201, j::branch(st, repo, &new, &c)),
                None => not_found(st),
            }
        }
        ("DELETE", ["branches", br @ ..]) => {
            let br = br.join("/");
            let Some(old) = repo.git.branch(&br) else {
                return not_found(st);
            };
            if br == repo.default_branch {
                return err(st, 403, "can not delete default branch");
            }
            let _ = repo.git.delete_ref(&format!("refs/heads/{br}"), &old);
            ops::sync_refs(st, name, &login, ev);
            Resp::empty(204)
        }
        ("POST", ["contents"]) => change_files(st, caller, name, body, ev),
        ("GET", ["contents", path @ ..]) => {
            let rev = req.q("ref").unwrap_or(&repo.default_branch);
            contents(st, name, rev, &path.join("/"))
        }
        ("GET", ["git", "commits", sha]) => {
            match repo.git.commit_of(sha).and_then(|c| repo.git.commit(&c)) {
                Some(c) => Resp::json(200, j::commit(st, repo, &c)),
                None => not_found(st),
            }
        }
        ("POST", ["statuses", sha]) => {
            let state = match s(body, "state") {
                Some("pending") => StatusState::Pending,
                Some("success") => StatusState::Success,
                Some("failure") => StatusState::Failure,
                Some("error") => StatusState::Error,
                Some("warning") => StatusState::Warning,
                _ => return err(st, 422, "[State]: invalid commit status state"),
            };
            let context = s(body, "context").unwrap_or("default").to_owned();
            let target = s(body, "target_url").map(str::to_owned);
            let desc = s(body, "description").map(str::to_owned);
            let sha = sha.to_string();
            match ops::add_status(st, name, &sha, &context, state, target, desc, &login, ev) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.statuses.iter().find(|s| s.id == id) {
                        Some(s) => Resp::json(201, j::status(st, s)),
                        None => not_found(st),
                    }
                }
                Err(_) => not_found(st),
            }
        }
        ("GET", ["commits", r, "status"]) => {
            let Some(sha) = repo.git.commit_of(r) else {
                return not_found(st);
            };
            let latest = repo.latest_statuses(&sha);
            let state = if latest.is_empty() {
                ""
            } else if latest.iter().any(|s| s.state == StatusState::Error) {
                "error"
            } else if latest.iter().any(|s| s.state == StatusState::Failure) {
                "failure"
            } else if latest
                .iter()
                .any(|s| matches!(s.state, StatusState::Pending | StatusState::Running))
            {
                "pending"
            } else if latest.iter().any(|s| s.state == StatusState::Warning) {
                "warning"
            } else {
                "success"
            };
            Resp::json(
                200,
                json!({"state": state, "sha": sha, "total_count": latest.len(),
                "statuses": latest.iter().map(|s| j::status(st, s)).collect::<Vec<_>>(),
                "repository": j::repo(st, repo),
                "commit_url": format!("{}/repos/{name}/git/commits/{sha}", j::api(st)),
                "url": format!("{}/repos/{name}/commits/{sha}/status", j::api(st))}),
            )
        }
        ("GET", ["commits", r, "statuses"]) | ("GET", ["statuses", r]) => {
            let Some(sha) = repo.git.commit_of(r) else {
                return not_found(st);
            };
            let list: Vec<Value> = repo
                .statuses
                .iter()
                .rev()
                .filter(|s| s.sha == sha)
                .map(|s| j::status(st, s))
                .collect();
            Resp::json(200, Value::Array(paginate(list, req, 30)))
        }
        (_, ["pulls", ..]) | (_, ["issues", ..]) => {
            super::gitea_pulls::routes(st, req, caller, name, rest, body, ev)
        }
        _ => not_found(st),
    }
}

fn contents(st: &State, name: &str, rev: &str, path: &str) -> Resp {
    let repo = &st.repos[name];
    let Some(commit) = repo.git.commit_of(rev) else {
        return not_found(st);
    };
    let api = format!("{}/repos/{name}", j::api(st));
    let entry = |p: &str, sha: &str, kind: &str, bytes: Option<&[u8]>| {
        let file_name = p.rsplit('/').next().unwrap_or(p);
        json!({"name": file_name, "path": p, "sha": sha, "type": kind,
            "size": bytes.map(|b| b.len()).unwrap_or(0),
            "encoding": bytes.map(|_| "base64"), "content": bytes.map(b64),
            "target": null, "last_commit_sha": repo.git.last_commit_for(&commit, p),
            "url": format!("{api}/contents/{p}?ref={rev}"),
            "html_url": format!("{}/{name}/src/branch/{rev}/{p}", st.base_url),
            "git_url": format!("{api}/git/blobs/{sha}"),
            "download_url": format!("{}/{name}/raw/branch/{rev}/{p}", st.base_url)})
    };
    if let Some(sha) = repo.git.blob_at(&commit, path) {
        let bytes = repo.git.read_blob(&sha).unwrap_or_default();
        return Resp::json(200, entry(path, &sha, "file", Some(&bytes)));
    }
    let spec = if path.is_empty() {
        commit.clone()
    } else {
        format!("{commit}:{path}")
    };
    let Some(tree) = repo.git.tree_of(&spec) else {
        return not_found(st);
    };
    let list: Vec<Value> = repo
        .git
        .ls_tree(&tree, false)
        .into_iter()
        .map(|(_, kind, sha, n)| {
            let p = if path.is_empty() {
                n
            } else {
                format!("{path}/{n}")
            };
            entry(&p, &sha, if kind == "tree" { "dir" } else { "file" }, None)
        })
        .collect();
    Resp::json(200, Value::Array(list))
}

fn person(v: Option<&Value>, fallback: &Ident, date: Option<&str>) -> Ident {
    let time = date
        .and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|d| d.unix_timestamp())
        .unwrap_or(fallback.time);
    let name = v.and_then(|v| s(v, "name")).filter(|n| !n.is_empty());
    let email = v.and_then(|v| s(v, "email")).filter(|n| !n.is_empty());
    Ident {
        name: name.unwrap_or(&fallback.name).to_owned(),
        email: email.unwrap_or(&fallback.email).to_owned(),
        time,
    }
}

/// `POST /repos/{o}/{r}/contents`: several files in one commit, optionally on a new branch.
fn change_files(
    st: &mut State,
    caller: &Caller,
    name: &str,
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let repo = &st.repos[name];
    let Some(files) = body.get("files").and_then(Value::as_array) else {
        return err(st, 422, "[Files]: Required");
    };
    let branch = s(body, "branch")
        .filter(|b| !b.is_empty())
        .unwrap_or(&repo.default_branch)
        .to_owned();
    let Some(base) = repo.git.branch(&branch) else {
        return err(st, 404, &format!("branch does not exist [name: {branch}]"));
    };
    let new_branch = s(body, "new_branch").filter(|b| !b.is_empty() && *b != branch);
    if let Some(nb) = new_branch
        && repo.git.branch(nb).is_some()
    {
        return err(st, 422, &format!("branch already exists [name: {nb}]"));
    }
    let mut changes = Vec::new();
    let mut paths = Vec::new();
    for f in files {
        let Some(path) = s(f, "path").filter(|p| !p.is_empty()) else {
            return err(st, 422, "[Path]: Required");
        };
        let current = repo.git.blob_at(&base, path);
        let content = || s(f, "content").map(unb64).unwrap_or(Some(Vec::new()));
        let check_sha = |current: &str| -> Option<Resp> {
            match s(f, "sha").filter(|x| !x.is_empty()) {
                None => Some(err(
                    st,
                    422,
                    "a SHA or commit ID must be proved when updating a file",
                )),
                Some(given) if given != current => Some(err(
                    st,
                    422,
                    &format!("sha does not match [given: {given}, expected: {current}]"),
                )),
                Some(_) => None,
            }
        };
        match s(f, "operation") {
            Some("create") => {
                if current.is_some() {
                    return err(
                        st,
                        422,
                        &format!("repository file already exists [path: {path}]"),
                    );
                }
                let Some(c) = content() else {
                    return err(st, 422, "invalid base64 content");
                };
                changes.push((path.to_owned(), Some(c)));
            }
            Some("update") | Some("delete") => {
                let Some(cur) = current else {
                    return err(
                        st,
                        404,
                        &format!("repository file does not exist [path: {path}]"),
                    );
                };
                if let Some(r) = check_sha(&cur) {
                    return r;
                }
                if s(f, "operation") == Some("delete") {
                    changes.push((path.to_owned(), None));
                } else {
                    let Some(c) = content() else {
                        return err(st, 422, "invalid base64 content");
                    };
                    if let Some(from) = s(f, "from_path").filter(|p| *p != path) {
                        changes.push((from.to_owned(), None));
                    }
                    changes.push((path.to_owned(), Some(c)));
                }
            }
            _ => return err(st, 422, "[Operation]: Required"),
        }
        paths.push(path.to_owned());
    }
    let now = unix_now();
    let me = caller.user.ident(now);
    let dates = body.get("dates");
    // As Gitea's GetAuthorAndCommitterUsers: an identity counts when it has an e-mail; with
    // only one given, it is both author and committer; with neither, both are the caller.
    let given = |key: &str| {
        body.get(key)
            .filter(|v| s(v, "email").is_some_and(|e| !e.is_empty()))
    };
    let (author_v, committer_v) = match (given("author"), given("committer")) {
        (Some(a), Some(c)) => (Some(a), Some(c)),
        (Some(a), None) => (Some(a), Some(a)),
        (None, Some(c)) => (Some(c), Some(c)),
        (None, None) => (None, None),
    };
    let author = person(author_v, &me, dates.and_then(|d| s(d, "author")));
    let committer = person(committer_v, &me, dates.and_then(|d| s(d, "committer")));
    let message = s(body, "message")
        .filter(|m| !m.is_empty())
        .map(|m| format!("{m}\n"))
        .unwrap_or_else(|| format!("Update {}\n", paths.join(", ")));
    let target = new_branch.unwrap_or(&branch).to_owned();
    let old = if new_branch.is_some() {
        None
    } else {
        Some(base.clone())
    };
    match ops::commit_to_branch(
        st,
        name,
        &target,
        Some(&base),
        old.as_deref(),
        &changes,
        &message,
        &author,
        &committer,
        &caller.user.login,
        ev,
    ) {
        Ok(sha) => {
            let repo = &st.repos[name];
            let Some(c) = repo.git.commit(&sha) else {
                return not_found(st);
            };
            let files: Vec<Value> = paths
                .iter()
                .map(|p| match contents(st, name, &sha, p) {
                    r if r.status == 200 => r.body.unwrap_or(Value::Null),
                    _ => Value::Null,
                })
                .collect();
            Resp::json(
                201,
                json!({"files": files, "commit": j::commit(st, repo, &c),
                "verification": {"verified": false, "reason": "gpg.error.not_signed_commit", "signature": "", "payload": ""}}),
            )
        }
        Err(_) => err(st, 409, "branch moved while committing"),
    }
}

/// Gitea's merge styles.
pub fn merge_style(s: Option<&str>) -> Option<MergeMethod> {
    match s.unwrap_or("merge") {
        "" | "merge" => Some(MergeMethod::Merge),
        "squash" => Some(MergeMethod::Squash),
        "rebase" => Some(MergeMethod::Rebase),
        "fast-forward-only" => Some(MergeMethod::FastForward),
        _ => None,
    }
}

pub fn review_event(s: Option<&str>) -> Option<ReviewState> {
    match s.unwrap_or("") {
        "" | "PENDING" => Some(ReviewState::Pending),
        "APPROVED" | "APPROVE" => Some(ReviewState::Approved),
        "REQUEST_CHANGES" => Some(ReviewState::ChangesRequested),
        "COMMENT" => Some(ReviewState::Commented),
        _ => None,
    }
}

pub fn op_error(st: &State, e: OpError) -> Resp {
    match e {
        OpError::NotFound => not_found(st),
        other => err(st, 422, &format!("{other:?}")),
    }
}
