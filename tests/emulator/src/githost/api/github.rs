//! GitHub REST v3 (`/api/v3`): repository, Git database, contents, pulls, reviews, comments,
//! statuses and check runs.

use super::{Caller, Req, Resp, b64, paginate, s, unb64};
use crate::githost::git::{Ident, ZERO};
use crate::githost::hooks::Event;
use crate::githost::json::github::{self as j, error};
use crate::githost::ops::{self, MergeMethod, OpError, unix_now};
use crate::githost::state::{Flavour, Repo, ReviewState, State, StatusState};
use serde_json::{Value, json};

fn not_found() -> Resp {
    Resp::json(404, error(404, "Not Found"))
}

fn unprocessable(message: &str) -> Resp {
    Resp::json(422, error(422, message))
}

/// 422 "Validation Failed" with GitHub's `errors` list.
fn validation(errors: Value) -> Resp {
    let mut body = error(422, "Validation Failed");
    body["errors"] = errors;
    Resp::json(422, body)
}

pub fn handle(st: &mut State, req: &Req, ev: &mut Vec<Event>) -> Resp {
    let token = super::token(Flavour::GitHub, &req.headers);
    if req.method == "POST"
        && let ["app", "installations", id, "access_tokens"] = req
            .segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
    {
        return super::github_app::access_token(st, id, token.as_deref());
    }
    let caller = match super::whoami(st, token.as_deref()) {
        Some((user, write)) => Caller { user, write },
        None if token.is_some() => return Resp::json(401, error(401, "Bad credentials")),
        None if req.seg(0) == "repos" => return not_found(),
        None => return Resp::json(401, error(401, "Requires authentication")),
    };
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["user"]) => {
            let mut u = j::user(st, &caller.user.login);
            u["name"] = json!(caller.user.login);
            u["email"] = json!(caller.user.email());
            Resp::json(200, u)
        }
        ("GET", ["user", "emails"]) => Resp::json(
            200,
            json!([{"email": caller.user.email(), "primary": true, "verified": true, "visibility": "private"}]),
        ),
        ("GET", ["user", "teams"]) => {
            let teams: Vec<Value> = st
                .teams
                .get(&caller.user.login)
                .into_iter()
                .flatten()
                .filter_map(|t| t.split_once('/'))
                .map(|(org, slug)| json!({"slug": slug, "name": slug, "organization": {"login": org}}))
                .collect();
            Resp::json(200, Value::Array(teams))
        }
        ("POST", ["app", "installations", _, "access_tokens"]) => {
            Resp::json(401, error(401, "A JSON web token could not be decoded"))
        }
        (_, ["repos", o, r, rest @ ..]) => {
            let name = format!("{o}/{r}");
            if !st.repos.contains_key(&name) {
                return not_found();
            }
            if req.method != "GET" && !caller.write {
                return Resp::json(
                    403,
                    error(403, "Resource not accessible by personal access token"),
                );
            }
            repo_routes(st, req, &caller, &name, rest, ev)
        }
        _ => not_found(),
    }
}

fn repo_routes(
    st: &mut State,
    req: &Req,
    caller: &Caller,
    name: &str,
    rest: &[&str],
    ev: &mut Vec<Event>,
) -> Resp {
    let m = req.method.as_str();
    let body = match req.json() {
        Some(b) => b,
        None => return Resp::json(400, error(400, "Problems parsing JSON")),
    };
    let Some(repo) = st.repos.get(name) else {
        return not_found();
    };
    match (m, rest) {
        ("GET", []) => {
            let mut v = j::repo(st, repo);
            let w = caller.write;
            v["permissions"] =
                json!({"admin": w, "maintain": w, "push": w, "triage": true, "pull": true});
            Resp::json(200, v)
        }
        ("GET", ["branches", br @ ..]) => {
            let br = br.join("/");
            let Some(sha) = repo.git.branch(&br) else {
                return Resp::json(404, error(404, "Branch not found"));
            };
            let Some(c) = repo.git.commit(&sha) else {
                return not_found();
            };
            Resp::json(
                200,
                json!({"name": br, "commit": j::rest_commit(st, repo, &c),
                "protected": br == repo.default_branch && repo.required_approvals > 0}),
            )
        }
        ("GET", ["git", "ref", r @ ..]) => {
            let full = format!("refs/{}", r.join("/"));
            match repo.git.refs().get(&full) {
                Some(sha) => Resp::json(200, j::git_ref(st, repo, &full, sha)),
                None => not_found(),
            }
        }
        ("GET", ["git", "refs", r @ ..]) => {
            let prefix = if r.is_empty() {
                "refs/".to_owned()
            } else {
                format!("refs/{}", r.join("/"))
            };
            let refs = repo.git.refs();
            if let Some(sha) = refs.get(&prefix) {
                return Resp::json(200, j::git_ref(st, repo, &prefix, sha));
            }
            let list: Vec<Value> = refs
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix))
                .map(|(n, s)| j::git_ref(st, repo, n, s))
                .collect();
            if list.is_empty() {
                not_found()
            } else {
                Resp::json(200, Value::Array(list))
            }
        }
        ("POST", ["git", "refs"]) => create_ref(st, caller, name, &body, ev),
        ("PATCH", ["git", "refs", r @ ..]) => update_ref(
            st,
            caller,
            name,
            &format!("refs/{}", r.join("/")),
            &body,
            ev,
        ),
        ("DELETE", ["git", "refs", r @ ..]) => {
            let full = format!("refs/{}", r.join("/"));
            let Some(old) = repo.git.refs().get(&full).cloned() else {
                return unprocessable("Reference does not exist");
            };
            if repo.git.delete_ref(&full, &old).is_err() {
                return unprocessable("Reference cannot be updated");
            }
            ops::sync_refs(st, name, &caller.user.login, ev);
            Resp::empty(204)
        }
        ("GET", ["git", "commits", sha]) => match repo
            .git
            .object_type(sha)
            .filter(|t| t == "commit")
            .and_then(|_| repo.git.commit(sha))
        {
            Some(c) => Resp::json(200, j::git_commit(st, repo, &c)),
            None => not_found(),
        },
        ("POST", ["git", "commits"]) => create_commit(st, caller, repo, &body),
        ("POST", ["git", "trees"]) => create_tree(st, repo, &body),
        ("GET", ["git", "trees", sha]) => {
            let Some(tree) = repo.git.tree_of(sha) else {
                return not_found();
            };
            let recursive = req
                .q("recursive")
                .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
            Resp::json(200, tree_json(st, repo, &tree, recursive))
        }
        ("POST", ["git", "blobs"]) => {
            let Some(content) = s(&body, "content") else {
                return validation(
                    json!([{"resource": "Blob", "field": "content", "code": "missing_field"}]),
                );
            };
            let bytes = match s(&body, "encoding").unwrap_or("utf-8") {
                "base64" => match unb64(content) {
                    Some(b) => b,
                    None => return unprocessable("Invalid base64 content"),
                },
                "utf-8" | "utf8" => content.as_bytes().to_vec(),
                _ => return unprocessable("encoding must be utf-8 or base64"),
            };
            match repo.git.write_blob(&bytes) {
                Ok(sha) => Resp::json(
                    201,
                    json!({"sha": sha, "url": format!("{}/repos/{name}/git/blobs/{sha}", j::api(st))}),
                ),
                Err(_) => Resp::json(500, error(500, "Server Error")),
            }
        }
        ("GET", ["git", "blobs", sha]) => match repo
            .git
            .object_type(sha)
            .filter(|t| t == "blob")
            .and_then(|_| repo.git.read_blob(sha))
        {
            Some(bytes) => Resp::json(
                200,
                json!({"sha": sha, "node_id": format!("B_{sha}"), "size": bytes.len(),
                "url": format!("{}/repos/{name}/git/blobs/{sha}", j::api(st)),
                "content": b64(&bytes), "encoding": "base64"}),
            ),
            None => not_found(),
        },
        ("GET", ["contents", path @ ..]) => {
            let rev = req.q("ref").unwrap_or(&repo.default_branch).to_owned();
            contents(st, repo, &rev, &path.join("/"))
        }
        ("GET", ["commits", r]) => match repo.git.commit_of(r).and_then(|c| repo.git.commit(&c)) {
            Some(c) => {
                let mut v = j::rest_commit(st, repo, &c);
                if let Some(parent) = c.parents.first() {
                    v["files"] = json!(repo.git.changed_paths(parent, &c.sha).into_iter().map(|(st, p)|
                        json!({"filename": p, "status": match st { 'A' => "added", 'D' => "removed", _ => "modified" }})).collect::<Vec<_>>());
                }
                Resp::json(200, v)
            }
            None => unprocessable(&format!("No commit found for SHA: {r}")),
        },
        ("GET", ["commits", r, "status"]) => {
            let Some(sha) = repo.git.commit_of(r) else {
                return unprocessable(&format!("No commit found for SHA: {r}"));
            };
            let latest = repo.latest_statuses(&sha);
            let state = j::status_state(ops::combined(&latest));
            Resp::json(
                200,
                json!({"state": state, "sha": sha, "total_count": latest.len(),
                "statuses": latest.iter().map(|s| j::status(st, s)).collect::<Vec<_>>(),
                "repository": j::repo(st, repo),
                "commit_url": format!("{}/repos/{name}/commits/{sha}", j::api(st)),
                "url": format!("{}/repos/{name}/commits/{sha}/status", j::api(st))}),
            )
        }
        ("GET", ["commits", r, "statuses"]) => {
            let Some(sha) = repo.git.commit_of(r) else {
                return unprocessable(&format!("No commit found for SHA: {r}"));
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
        ("GET", ["commits", r, "check-runs"]) => {
            let Some(sha) = repo.git.commit_of(r) else {
                return unprocessable(&format!("No commit found for SHA: {r}"));
            };
            let runs: Vec<Value> = repo
                .check_runs
                .iter()
                .filter(|c| c.head_sha == sha)
                .map(|c| j::check_run(st, repo, c))
                .collect();
            Resp::json(200, json!({"total_count": runs.len(), "check_runs": runs}))
        }
        ("POST", ["statuses", sha]) => {
            let state = match s(&body, "state") {
                Some("pending") => StatusState::Pending,
                Some("success") => StatusState::Success,
                Some("failure") => StatusState::Failure,
                Some("error") => StatusState::Error,
                _ => {
                    return validation(
                        json!([{"resource": "Status", "code": "custom", "field": "state",
                    "message": "state is not included in the list"}]),
                    );
                }
            };
            let context = s(&body, "context").unwrap_or("default").to_owned();
            let target = s(&body, "target_url").map(str::to_owned);
            let desc = s(&body, "description").map(str::to_owned);
            let sha = sha.to_string();
            match ops::add_status(
                st,
                name,
                &sha,
                &context,
                state,
                target,
                desc,
                &caller.user.login,
                ev,
            ) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.statuses.iter().find(|s| s.id == id) {
                        Some(s) => Resp::json(201, j::status(st, s)),
                        None => not_found(),
                    }
                }
                Err(OpError::Invalid(m)) => unprocessable(&m),
                Err(_) => not_found(),
            }
        }
        ("POST", ["check-runs"]) => {
            let (Some(nm), Some(head)) = (s(&body, "name"), s(&body, "head_sha")) else {
                return validation(json!([{"resource": "CheckRun", "code": "missing_field"}]));
            };
            let status = s(&body, "status").unwrap_or("queued").to_owned();
            let conclusion = s(&body, "conclusion").map(str::to_owned);
            let (nm, head) = (nm.to_owned(), head.to_owned());
            match ops::add_check_run(
                st,
                name,
                &head,
                &nm,
                &status,
                conclusion,
                &caller.user.login,
                ev,
            ) {
                Ok(id) => {
                    let repo = &st.repos[name];
                    match repo.check_runs.iter().find(|c| c.id == id) {
                        Some(c) => Resp::json(201, j::check_run(st, repo, c)),
                        None => not_found(),
                    }
                }
                Err(OpError::Invalid(m)) => unprocessable(&m),
                Err(_) => not_found(),
            }
        }
        (_, ["pulls", ..]) | (_, ["issues", ..]) => {
            super::github_pulls::routes(st, req, caller, name, rest, &body, ev)
        }
        _ => not_found(),
    }
}

fn tree_json(st: &State, repo: &Repo, tree: &str, recursive: bool) -> Value {
    let base = format!("{}/repos/{}/git", j::api(st), repo.full_name);
    let entries: Vec<Value> = repo
        .git
        .ls_tree(tree, recursive)
        .into_iter()
        .map(|(mode, kind, sha, path)| {
            let url = format!(
                "{base}/{}s/{sha}",
                if kind == "tree" { "tree" } else { "blob" }
            );
            json!({"path": path, "mode": mode, "type": kind, "sha": sha, "url": url})
        })
        .collect();
    json!({"sha": tree, "url": format!("{base}/trees/{tree}"), "tree": entries, "truncated": false})
}

fn contents(st: &State, repo: &Repo, rev: &str, path: &str) -> Resp {
    let Some(commit) = repo.git.commit_of(rev) else {
        return Resp::json(
            404,
            error(404, &format!("No commit found for the ref {rev}")),
        );
    };
    let api = format!("{}/repos/{}", j::api(st), repo.full_name);
    if let Some(sha) = repo.git.blob_at(&commit, path) {
        let bytes = repo.git.read_blob(&sha).unwrap_or_default();
        let wrapped: Vec<String> = b64(&bytes)
            .as_bytes()
            .chunks(60)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let name = path.rsplit('/').next().unwrap_or(path);
        return Resp::json(
            200,
            json!({"type": "file", "encoding": "base64", "size": bytes.len(), "name": name, "path": path,
            "content": wrapped.join("\n") + "\n", "sha": sha,
            "url": format!("{api}/contents/{path}?ref={rev}"),
            "git_url": format!("{api}/git/blobs/{sha}"),
            "html_url": format!("{}/{}/blob/{rev}/{path}", st.base_url, repo.full_name),
            "download_url": null}),
        );
    }
    let spec = if path.is_empty() {
        commit.clone()
    } else {
        format!("{commit}:{path}")
    };
    let Some(tree) = repo.git.tree_of(&spec) else {
        return not_found();
    };
    let list: Vec<Value> = repo
        .git
        .ls_tree(&tree, false)
        .into_iter()
        .map(|(_, kind, sha, name)| {
            let p = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            json!({"type": if kind == "tree" { "dir" } else { "file" }, "name": name, "path": p, "sha": sha,
                "url": format!("{api}/contents/{p}?ref={rev}")})
        })
        .collect();
    Resp::json(200, Value::Array(list))
}

fn create_tree(st: &State, repo: &Repo, body: &Value) -> Resp {
    let Some(entries) = body.get("tree").and_then(Value::as_array) else {
        return validation(json!([{"resource": "Tree", "field": "tree", "code": "missing_field"}]));
    };
    let base = match s(body, "base_tree") {
        Some(b) => match repo.git.tree_of(b) {
            Some(t) => Some(t),
            None => return unprocessable("base_tree is not a valid tree oid"),
        },
        None => None,
    };
    let mut changes = Vec::new();
    for e in entries {
        let Some(path) = s(e, "path").filter(|p| !p.is_empty() && !p.starts_with('/')) else {
            return unprocessable("tree.path is required");
        };
        let mode = s(e, "mode").unwrap_or("");
        if !matches!(mode, "100644" | "100755" | "120000") {
            return unprocessable(&format!("tree.mode contains a malformed mode: {mode}"));
        }
        if s(e, "type").is_some_and(|t| t != "blob") {
            return unprocessable("tree.type must be blob (the emulator writes blobs only)");
        }
        let has_sha = e.get("sha").is_some();
        match (e.get("content").and_then(Value::as_str), e.get("sha")) {
            (Some(_), Some(_)) => {
                return unprocessable("Must supply either tree.sha or tree.content, not both");
            }
            (Some(content), None) => match repo.git.write_blob(content.as_bytes()) {
                Ok(sha) => changes.push((path.to_owned(), Some((mode.to_owned(), sha)))),
                Err(_) => return Resp::json(500, error(500, "Server Error")),
            },
            (None, Some(Value::Null)) => changes.push((path.to_owned(), None)),
            (None, Some(Value::String(sha))) => {
                if repo.git.object_type(sha).as_deref() != Some("blob") {
                    return unprocessable(&format!("tree.sha {sha} is not a valid blob"));
                }
                changes.push((path.to_owned(), Some((mode.to_owned(), sha.clone()))));
            }
            _ if !has_sha => return unprocessable("Must supply tree.sha or tree.content"),
            _ => return unprocessable("tree.sha must be a string or null"),
        }
    }
    match repo.git.build_tree(base.as_deref(), &changes) {
        Ok(tree) => {
            let mut v = tree_json(st, repo, &tree, false);
            v["truncated"] = json!(false);
            Resp::json(201, v)
        }
        Err(_) => unprocessable("GitRPC::BadObjectState"),
    }
}

/// `{name, email, date}` as a commit identity, defaulting to `fallback`.
fn ident(v: Option<&Value>, fallback: &Ident) -> Ident {
    let Some(v) = v.filter(|v| v.is_object()) else {
        return fallback.clone();
    };
    let time = s(v, "date")
        .and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|d| d.unix_timestamp())
        .unwrap_or(fallback.time);
    Ident {
        name: s(v, "name").unwrap_or(&fallback.name).to_owned(),
        email: s(v, "email").unwrap_or(&fallback.email).to_owned(),
        time,
    }
}

fn create_commit(st: &State, caller: &Caller, repo: &Repo, body: &Value) -> Resp {
    let (Some(message), Some(tree)) = (s(body, "message"), s(body, "tree")) else {
        return validation(json!([{"resource": "Commit", "code": "missing_field"}]));
    };
    if repo.git.object_type(tree).as_deref() != Some("tree") {
        return unprocessable("Tree SHA does not exist");
    }
    let mut parents = Vec::new();
    for p in body
        .get("parents")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        match p.as_str() {
            Some(sha) if repo.git.object_type(sha).as_deref() == Some("commit") => {
                parents.push(sha.to_owned())
            }
            _ => return unprocessable("Parent SHA does not exist or is not a commit object"),
        }
    }
    let me = caller.user.ident(unix_now());
    let author = ident(body.get("author"), &me);
    let committer = ident(body.get("committer"), &author);
    match repo
        .git
        .commit_tree(tree, &parents, message, &author, &committer)
        .ok()
        .and_then(|sha| repo.git.commit(&sha))
    {
        Some(c) => Resp::json(201, j::git_commit(st, repo, &c)),
        None => Resp::json(500, error(500, "Server Error")),
    }
}

fn create_ref(
    st: &mut State,
    caller: &Caller,
    name: &str,
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let (Some(r), Some(sha)) = (s(body, "ref"), s(body, "sha")) else {
        return validation(json!([{"resource": "Reference", "code": "missing_field"}]));
    };
    if !r.starts_with("refs/") || r.matches('/').count() < 2 {
        return unprocessable(
            "Reference name must start with 'refs/' and have at least two slashes.",
        );
    }
    let repo = &st.repos[name];
    if repo.git.object_type(sha).as_deref() != Some("commit") {
        return unprocessable("Object does not exist");
    }
    if repo.git.refs().contains_key(r) {
        return unprocessable("Reference already exists");
    }
    if repo.git.update_ref(r, sha, Some(ZERO)).is_err() {
        return unprocessable("Reference already exists");
    }
    ops::sync_refs(st, name, &caller.user.login, ev);
    Resp::json(201, j::git_ref(st, &st.repos[name], r, sha))
}

fn update_ref(
    st: &mut State,
    caller: &Caller,
    name: &str,
    full: &str,
    body: &Value,
    ev: &mut Vec<Event>,
) -> Resp {
    let Some(sha) = s(body, "sha") else {
        return validation(
            json!([{"resource": "Reference", "field": "sha", "code": "missing_field"}]),
        );
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let repo = &st.repos[name];
    let Some(old) = repo.git.refs().get(full).cloned() else {
        return unprocessable("Reference does not exist");
    };
    if repo.git.object_type(sha).as_deref() != Some("commit") {
        return unprocessable("Object does not exist");
    }
    if !force && !repo.git.is_ancestor(&old, sha) {
        return unprocessable("Update is not a fast forward");
    }
    if repo.git.update_ref(full, sha, Some(&old)).is_err() {
        return unprocessable("Reference cannot be updated");
    }
    ops::sync_refs(st, name, &caller.user.login, ev);
    Resp::json(200, j::git_ref(st, &st.repos[name], full, sha))
}

/// `merge` / `squash` / `rebase`.
pub fn merge_method(s: Option<&str>) -> Option<MergeMethod> {
    match s.unwrap_or("merge") {
        "merge" => Some(MergeMethod::Merge),
        "squash" => Some(MergeMethod::Squash),
        "rebase" => Some(MergeMethod::Rebase),
        _ => None,
    }
}

pub fn review_event(s: Option<&str>) -> Option<ReviewState> {
    match s {
        None | Some("") => Some(ReviewState::Pending),
        Some("APPROVE") => Some(ReviewState::Approved),
        Some("REQUEST_CHANGES") => Some(ReviewState::ChangesRequested),
        Some("COMMENT") => Some(ReviewState::Commented),
        _ => None,
    }
}
