//! JSON control routes under `/_emulator/` for processes that cannot call [`super::GitHost`]
//! (the Node browser tests, the bench). No auth: the emulator listens on loopback.
//!
//! | route | body / query | answer |
//! | --- | --- | --- |
//! | `GET /_emulator/health` | | `{ok, url}` |
//! | `POST /_emulator/repos` | `{name, files: {path: text}, required_approvals?, mergeable_unknown_reads?}` | 201 `{name, sha, clone_url}` |
//! | `POST /_emulator/repos/settings` | `{repo, required_approvals?, mergeable_unknown_reads?}` | 200 |
//! | `GET /_emulator/repo?name=o/r` | | `{branches, pulls, comments, statuses, ...}` |
//! | `POST /_emulator/commits` | `{repo, branch, files: {path: text \| null}, message?, user?}` | 201 `{sha}` (a push by `user`) |
//! | `POST /_emulator/users` | `{login, token?, read_only?}` | 201 `{login, token}` |
//! | `POST /_emulator/apps` | `{app_id, installation_id, slug?, key_pem, token_ttl_s?}` | 201 (GitHub App; `key_pem` = its private key PEM) |
//! | `POST /_emulator/webhooks` | `{flavour, url, secret, repo?}` | 201 `{id}` |
//! | `DELETE /_emulator/webhooks` | | 204 |
//! | `POST /_emulator/faults` | `{method?, path_contains, status?, times?, after_write?, delay_ms?, headers?, body?}` | 201 |
//! | `DELETE /_emulator/faults` | | 204 |
//! | `POST /_emulator/down` | `{down: bool}` | 200 |
//! | `GET /_emulator/calls` | | `{github: [{method, path}], gitlab, gitea, git}` |
//! | `DELETE /_emulator/calls` | | 204 |
//! | `GET /_emulator/deliveries` | | `[{id, flavour, event, url, headers, body, status}]` |
//! | `DELETE /_emulator/deliveries` | | 204 |

use super::Host;
use super::api::{parse_query, s};
use super::state::{Fault, Flavour};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn reply(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn bad(message: impl std::fmt::Display) -> Response {
    reply(400, json!({"message": message.to_string()}))
}

/// `{path: text}` or `[[path, text]]` → file list; `null` texts are deletions.
fn files(v: Option<&Value>) -> Vec<(String, Option<Vec<u8>>)> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(|s| s.as_bytes().to_vec())))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|e| {
                let p = e.get(0)?.as_str()?.to_owned();
                Some((
                    p,
                    e.get(1)
                        .and_then(Value::as_str)
                        .map(|s| s.as_bytes().to_vec()),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn settings(host: &Host, repo: &str, body: &Value) -> anyhow::Result<()> {
    let n = |k: &str| body.get(k).and_then(Value::as_u64).map(|n| n as u32);
    host.set_repo(repo, n("required_approvals"), n("mergeable_unknown_reads"))
}

pub async fn handle(host: &Host, method: &str, path: &str, query: &str, body: &[u8]) -> Response {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return bad(format!("invalid JSON: {e}")),
        }
    };
    let q = parse_query(query);
    let route = path.trim_start_matches("/_emulator").trim_end_matches('/');
    match (method, route) {
        ("GET", "/health") | ("GET", "") => {
            reply(200, json!({"ok": true, "url": host.lock().base_url}))
        }
        ("POST", "/repos") => {
            let Some(name) = s(&body, "name") else {
                return bad("name is required");
            };
            let list: Vec<(String, Vec<u8>)> = files(body.get("files"))
                .into_iter()
                .filter_map(|(p, c)| Some((p, c?)))
                .collect();
            match host.create_repo(name, &list) {
                Ok(sha) => {
                    if let Err(e) = settings(host, name, &body) {
                        return bad(e);
                    }
                    let url = host.lock().base_url.clone();
                    reply(
                        201,
                        json!({"name": name, "sha": sha, "clone_url": format!("{url}/{name}.git")}),
                    )
                }
                Err(e) => bad(e),
            }
        }
        ("POST", "/repos/settings") => {
            let Some(repo) = s(&body, "repo") else {
                return bad("repo is required");
            };
            match settings(host, repo, &body) {
                Ok(()) => reply(200, json!({"ok": true})),
                Err(e) => bad(e),
            }
        }
        ("GET", "/repo") => match q.get("name").and_then(|n| host.repo_state(n)) {
            Some(v) => reply(200, v),
            None => reply(404, json!({"message": "no such repository"})),
        },
        ("POST", "/commits") => {
            let (Some(repo), Some(branch)) = (s(&body, "repo"), s(&body, "branch")) else {
                return bad("repo and branch are required");
            };
            let message = s(&body, "message").unwrap_or("Update files");
            let user = s(&body, "user").unwrap_or("someone-else");
            match host.commit_files(repo, branch, &files(body.get("files")), message, user) {
                Ok(sha) => reply(201, json!({"sha": sha})),
                Err(e) => bad(e),
            }
        }
        ("POST", "/users") => {
            let Some(login) = s(&body, "login") else {
                return bad("login is required");
            };
            let read_only = body
                .get("read_only")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let token = host.add_token(login, s(&body, "token").map(str::to_owned), read_only);
            let id = host.lock().user(login).map(|u| u.id);
            reply(201, json!({"login": login, "id": id, "token": token}))
        }
        ("POST", "/apps") => {
            let n = |k: &str| body.get(k).and_then(Value::as_u64);
            let (Some(app), Some(inst), Some(pem)) =
                (n("app_id"), n("installation_id"), s(&body, "key_pem"))
            else {
                return bad("app_id, installation_id and key_pem are required");
            };
            let slug = s(&body, "slug").unwrap_or("tollgate");
            let ttl = body
                .get("token_ttl_s")
                .and_then(Value::as_i64)
                .unwrap_or(3600);
            match host.register_app(app, inst, slug, pem, ttl) {
                Ok(()) => reply(201, json!({"ok": true})),
                Err(e) => bad(e),
            }
        }
        ("POST", "/webhooks") => {
            let (Some(flavour), Some(url)) = (
                s(&body, "flavour").and_then(Flavour::parse),
                s(&body, "url"),
            ) else {
                return bad("flavour (github|gitlab|gitea) and url are required");
            };
            let secret = s(&body, "secret").unwrap_or("");
            let id = host.set_webhook(flavour, url, secret, s(&body, "repo"));
            reply(201, json!({"id": id}))
        }
        ("DELETE", "/webhooks") => {
            host.lock().hooks.clear();
            reply(204, json!({}))
        }
        ("POST", "/faults") => match serde_json::from_value::<Fault>(body) {
            Ok(f) => {
                host.lock().faults.push(f);
                reply(201, json!({"ok": true}))
            }
            Err(e) => bad(e),
        },
        ("DELETE", "/faults") => {
            host.lock().faults.clear();
            reply(204, json!({}))
        }
        ("POST", "/down") => {
            let down = body.get("down").and_then(Value::as_bool).unwrap_or(true);
            host.lock().down = down;
            reply(200, json!({"down": down}))
        }
        ("GET", "/calls") => {
            let st = host.lock();
            let list = |c: Option<&Vec<super::state::Call>>| json!(c.cloned().unwrap_or_default());
            reply(
                200,
                json!({
                    "github": list(st.calls.get(&Flavour::GitHub)),
                    "gitlab": list(st.calls.get(&Flavour::GitLab)),
                    "gitea": list(st.calls.get(&Flavour::Gitea)),
                    "git": st.git_calls,
                }),
            )
        }
        ("DELETE", "/calls") => {
            let mut st = host.lock();
            st.calls.clear();
            st.git_calls.clear();
            reply(204, json!({}))
        }
        ("GET", "/deliveries") => reply(200, json!(host.outbox.deliveries())),
        ("DELETE", "/deliveries") => {
            host.outbox.clear();
            reply(204, json!({}))
        }
        _ => reply(404, json!({"message": "unknown control route"})),
    }
}
