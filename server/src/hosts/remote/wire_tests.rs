//! Each client against a tiny in-test HTTP server: the exact calls of the happy path (paths,
//! queries, bodies, auth headers) within the call budgets, and the retry, rate-limit,
//! lost-answer and refusal paths.

use crate::config::{Config, HostConfig};
use crate::hosts::http::Timing;
use crate::hosts::{
    FileChange, Host, HostErrorKind, HostKind, Publication, RequestStatus, remote::remote_with,
};
use crate::repo::Person;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BASE: &str = "1111111111111111111111111111111111111111";
const TREE: &str = "2222222222222222222222222222222222222222";
const OLD_BLOB: &str = "3333333333333333333333333333333333333333";

#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    /// Decoded query string.
    query: String,
    headers: ::http::HeaderMap,
    body: Value,
}

impl Call {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body,
    }
}

type Log = Arc<Mutex<Vec<Call>>>;

/// Serves `answer` on a free port; returns its base URL and the log of calls.
async fn fake(answer: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> (String, Log) {
    let log: Log = Arc::default();
    let answer = Arc::new(answer);
    let seen = log.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (seen, answer) = (seen.clone(), answer.clone());
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let query = parts.uri.query().unwrap_or_default().replace('+', " ");
            let call = Call {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query: percent_encoding::percent_decode_str(&query)
                    .decode_utf8_lossy()
                    .into_owned(),
                headers: parts.headers,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            };
            let r = answer(&call);
            seen.lock().unwrap().push(call);
            let mut resp = (
                ::http::StatusCode::from_u16(r.status).unwrap(),
                axum::Json(r.body),
            )
                .into_response();
            for (k, v) in r.headers {
                resp.headers_mut().insert(k, v.parse().unwrap());
            }
            resp
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

fn quick() -> Timing {
    Timing {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        max_rate_wait: Duration::from_secs(2),
    }
}

fn host(kind: HostKind, url: &str, path: &str) -> Arc<dyn Host> {
    let config = HostConfig {
        kind,
        api_url: format!("{url}{path}"),
        repo: "acme/apis".into(),
        token: "tok-123".into(),
        webhook_secret: "whsec".into(),
        ..Config::default().host
    };
    remote_with(&config, quick()).unwrap()
}

fn publication() -> Publication {
    Publication {
        change: 12,
        branch: "tollgate/12-edit-petstore".into(),
        base_branch: "main".into(),
        base: gix::ObjectId::from_hex(BASE.as_bytes()).unwrap(),
        base_tree: gix::ObjectId::from_hex(TREE.as_bytes()).unwrap(),
        files: vec![
            FileChange {
                path: "apis/default/petstore.yaml".into(),
                content: Some(b"kind: ApiDefinition\n".to_vec()),
                old_blob: Some(gix::ObjectId::from_hex(OLD_BLOB.as_bytes()).unwrap()),
            },
            FileChange {
                path: "apis/default/old.yaml".into(),
                content: None,
                old_blob: Some(gix::ObjectId::from_hex(OLD_BLOB.as_bytes()).unwrap()),
            },
        ],
        message: "Edit petstore\n\nRaise the rate limit.".into(),
        author: Person {
            name: "Alice Doe".into(),
            email: "alice@example.com".into(),
        },
        title: "Edit petstore".into(),
        body: "What changes".into(),
    }
}

fn github_pull(number: u64, state: &str) -> Value {
    json!({
        "number": number, "html_url": format!("https://github.example/acme/apis/pull/{number}"),
        "state": state, "merged": false, "merged_at": null, "merge_commit_sha": null,
        "mergeable": null, "mergeable_state": "unknown",
        "head": {"ref": "tollgate/12-edit-petstore", "sha": "c0ffee"},
        "base": {"ref": "main", "sha": BASE}, "user": {"login": "tollgate[bot]"},
        "title": "Edit petstore", "body": "What changes"
    })
}

fn github_answer(c: &Call) -> Reply {
    let repo = "/api/v3/repos/acme/apis";
    match (c.method.as_str(), c.path.strip_prefix(repo).unwrap_or("?")) {
        ("POST", "/git/trees") => reply(201, json!({"sha": "7ree", "tree": []})),
        ("POST", "/git/commits") => reply(
            201,
            json!({"sha": "c0ffee", "tree": {"sha": "7ree"}, "parents": [{"sha": BASE}]}),
        ),
        ("POST", "/git/refs") => reply(
            201,
            json!({"ref": "refs/heads/tollgate/12-edit-petstore", "object": {"sha": "c0ffee", "type": "commit"}}),
        ),
        ("GET", "/pulls") => reply(200, json!([])),
        ("POST", "/pulls") => reply(201, github_pull(5, "open")),
        _ => reply(404, json!({"message": "Not Found"})),
    }
}

#[tokio::test]
async fn github_publishes_and_opens_in_five_calls() {
    let (url, log) = fake(github_answer).await;
    let h = host(HostKind::Github, &url, "/api/v3");
    let p = publication();
    let published = h.publish(&p, None).await.unwrap();
    assert_eq!(
        (published.head.as_str(), published.parent.as_str()),
        ("c0ffee", BASE)
    );
    let state = h.open(&p).await.unwrap();
    assert_eq!((state.number, state.status), (5, RequestStatus::Open));
    assert_eq!(state.head_sha, "c0ffee");
    let calls = log.lock().unwrap().clone();
    assert_eq!(h.calls(), 5);
    assert!(calls.len() <= 6);
    for c in &calls {
        assert_eq!(c.header("authorization"), "Bearer tok-123");
        assert_eq!(c.header("accept"), "application/vnd.github+json");
        assert_eq!(c.header("x-github-api-version"), "2022-11-28");
    }
    let r = "/api/v3/repos/acme/apis";
    assert!(calls[0].is("POST", &format!("{r}/git/trees")));
    assert_eq!(
        calls[0].body,
        json!({"base_tree": TREE, "tree": [
            {"path": "apis/default/petstore.yaml", "mode": "100644", "type": "blob", "content": "kind: ApiDefinition\n"},
            {"path": "apis/default/old.yaml", "mode": "100644", "type": "blob", "sha": null},
        ]})
    );
    assert!(calls[1].is("POST", &format!("{r}/git/commits")));
    assert_eq!(
        calls[1].body,
        json!({
            "message": "Edit petstore\n\nRaise the rate limit.\n\nCo-authored-by: Alice Doe <alice@example.com>\n",
            "tree": "7ree", "parents": [BASE],
        })
    );
    assert!(calls[2].is("POST", &format!("{r}/git/refs")));
    assert_eq!(
        calls[2].body,
        json!({"ref": "refs/heads/tollgate/12-edit-petstore", "sha": "c0ffee"})
    );
    assert!(calls[3].is("GET", &format!("{r}/pulls")));
    assert_eq!(
        calls[3].query,
        "head=acme:tollgate/12-edit-petstore&state=all&per_page=100"
    );
    assert!(calls[4].is("POST", &format!("{r}/pulls")));
    assert_eq!(
        calls[4].body,
        json!({"title": "Edit petstore", "head": "tollgate/12-edit-petstore", "base": "main", "body": "What changes"})
    );
}

#[tokio::test]
async fn github_app_exchanges_its_jwt_once_and_stays_within_six_calls() {
    let (url, log) = fake(|c| {
        if c.is("POST", "/api/v3/app/installations/678/access_tokens") {
            return reply(
                201,
                json!({"token": "ghs_installation", "expires_at": "2099-01-01T00:00:00Z"}),
            );
        }
        github_answer(c)
    })
    .await;
    let config = HostConfig {
        kind: HostKind::Github,
        api_url: format!("{url}/api/v3"),
        repo: "acme/apis".into(),
        app_id: "12345".into(),
        installation_id: "678".into(),
        private_key_file: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/hosts/github/testdata/app-key.pem"
        )
        .into(),
        ..Config::default().host
    };
    let h = remote_with(&config, quick()).unwrap();
    let p = publication();
    h.publish(&p, None).await.unwrap();
    h.open(&p).await.unwrap();
    assert_eq!(h.calls(), 6);
    let calls = log.lock().unwrap().clone();
    assert!(calls[0].header("authorization").starts_with("Bearer ey"));
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.header("authorization") == "Bearer ghs_installation")
    );
    // The cached token also serves the mirror's fetch.
    let (clone, auth) = h.fetch_auth().await.unwrap().unwrap();
    assert_eq!(clone, format!("{url}/acme/apis.git"));
    assert_eq!(auth, "Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2luc3RhbGxhdGlvbg==");
    assert_eq!(h.calls(), 6);
}

#[tokio::test]
async fn github_finds_the_pull_request_a_lost_answer_made() {
    let created = Arc::new(AtomicUsize::new(0));
    let made = created.clone();
    let (url, _log) = fake(move |c| {
        if c.is("GET", "/api/v3/repos/acme/apis/pulls") {
            return if made.load(Ordering::SeqCst) > 0 {
                reply(200, json!([github_pull(9, "open")]))
            } else {
                reply(200, json!([]))
            };
        }
        if c.is("POST", "/api/v3/repos/acme/apis/pulls") {
            made.fetch_add(1, Ordering::SeqCst);
            return reply(
                422,
                json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:tollgate/12-edit-petstore."}]}),
            );
        }
        github_answer(c)
    })
    .await;
    let h = host(HostKind::Github, &url, "/api/v3");
    let state = h.open(&publication()).await.unwrap();
    assert_eq!(state.number, 9);
    assert_eq!(created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn github_ref_create_after_a_lost_answer_is_looked_up() {
    let (url, log) = fake(|c| match c.path.as_str() {
        "/api/v3/repos/acme/apis/git/refs" => reply(502, json!({"message": "Bad Gateway"})),
        "/api/v3/repos/acme/apis/git/ref/heads/tollgate/12-edit-petstore" => reply(
            200,
            json!({"ref": "refs/heads/tollgate/12-edit-petstore", "object": {"sha": "c0ffee", "type": "commit"}}),
        ),
        _ => github_answer(c),
    })
    .await;
    let h = host(HostKind::Github, &url, "/api/v3");
    let published = h.publish(&publication(), None).await.unwrap();
    assert_eq!(published.head, "c0ffee");
    // The ref create was sent once (not retried blindly), then looked up.
    let refs = log
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.path.ends_with("/git/refs"))
        .count();
    assert_eq!(refs, 1);
}

#[tokio::test]
async fn github_branch_exists_and_merge_refusals_map_to_kinds() {
    let (url, _log) = fake(|c| match (c.method.as_str(), c.path.as_str()) {
        ("POST", "/api/v3/repos/acme/apis/git/refs") => {
            reply(422, json!({"message": "Reference already exists"}))
        }
        ("PUT", "/api/v3/repos/acme/apis/pulls/5/merge") => {
            reply(409, json!({"message": "Head branch was modified. Review and try the merge again."}))
        }
        ("PUT", "/api/v3/repos/acme/apis/pulls/6/merge") => {
            reply(405, json!({"message": "Pull Request is not mergeable"}))
        }
        ("PUT", "/api/v3/repos/acme/apis/pulls/7/merge") => {
            assert_eq!(c.body["sha"], "c0ffee");
            assert_eq!(c.body["merge_method"], "merge");
            reply(200, json!({"sha": "m3rge", "merged": true, "message": "Pull Request successfully merged"}))
        }
        _ => github_answer(c),
    })
    .await;
    let h = host(HostKind::Github, &url, "/api/v3");
    let e = h.publish(&publication(), None).await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::BranchExists);
    let e = h.merge(5, "c0ffee", "t", "m").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::HeadMoved);
    let e = h.merge(6, "c0ffee", "t", "m").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::NotMergeable);
    assert!(e.message.contains("Pull Request is not mergeable"), "{e}");
    assert_eq!(h.merge(7, "c0ffee", "t", "m").await.unwrap(), "m3rge");
}

#[tokio::test]
async fn reads_retry_5xx_and_writes_do_not() {
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let (url, log) = fake(move |c| {
        if c.is("GET", "/api/v3/repos/acme/apis") && f.fetch_add(1, Ordering::SeqCst) < 2 {
            return reply(503, json!({"message": "Service Unavailable"}));
        }
        if c.is("POST", "/api/v3/repos/acme/apis/issues/5/comments") {
            return reply(500, json!({"message": "Server Error"}));
        }
        if c.is("GET", "/api/v3/repos/acme/apis") {
            return reply(
                200,
                json!({"full_name": "acme/apis", "permissions": {"push": true, "pull": true}}),
            );
        }
        github_answer(c)
    })
    .await;
    let h = host(HostKind::Github, &url, "/api/v3");
    h.check().await.unwrap();
    assert_eq!(h.calls(), 3);
    let e = h.comment(5, "hello").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Unavailable);
    assert!(e.message.contains("500"), "{e}");
    assert_eq!(h.calls(), 4);
    assert!(!e.message.contains("tok-123"));
    assert_eq!(log.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn rate_limits_are_waited_out_when_short_and_reported_when_long() {
    let limited = Arc::new(AtomicUsize::new(0));
    let l = limited.clone();
    let (url, _log) = fake(move |c| {
        if c.path.ends_with("/git/ref/heads/short") && l.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply {
                status: 403,
                headers: vec![("retry-after", "0".into())],
                body: json!({"message": "You have exceeded a secondary rate limit."}),
            };
        }
        if c.path.ends_with("/git/ref/heads/short") {
            return reply(
                200,
                json!({"ref": "refs/heads/short", "object": {"sha": "abc"}}),
            );
        }
        let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        Reply {
            status: 403,
            headers: vec![
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            body: json!({"message": "API rate limit exceeded"}),
        }
    })
    .await;
    let h = host(HostKind::Github, &url, "/api/v3");
    assert_eq!(
        h.branch_head("short").await.unwrap().as_deref(),
        Some("abc")
    );
    let e = h.branch_head("long").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Unavailable);
    assert!(
        e.message.contains("rate-limits") && e.message.contains("UTC"),
        "{e}"
    );
}

#[tokio::test]
async fn check_says_what_is_wrong() {
    let (url, _log) = fake(|c| match c.path.as_str() {
        "/bad/api/v3/repos/acme/apis" => reply(401, json!({"message": "Bad credentials"})),
        "/ro/api/v3/repos/acme/apis" => reply(
            200,
            json!({"permissions": {"admin": false, "push": false, "pull": true}}),
        ),
        "/gone/api/v4/projects/acme%2Fapis" => {
            reply(404, json!({"message": "404 Project Not Found"}))
        }
        "/ro/api/v4/projects/acme%2Fapis" => reply(
            200,
            json!({"permissions": {"project_access": {"access_level": 20}, "group_access": null}}),
        ),
        "/ok/api/v4/projects/acme%2Fapis" => reply(
            200,
            json!({"permissions": {"project_access": null, "group_access": {"access_level": 40}}}),
        ),
        "/ro/api/v1/repos/acme/apis" => reply(200, json!({"permissions": {"push": false}})),
        _ => reply(404, json!({"message": "Not Found"})),
    })
    .await;
    let e = host(HostKind::Github, &url, "/bad/api/v3")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Unauthorized);
    let e = host(HostKind::Github, &url, "/ro/api/v3")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Forbidden);
    assert!(e.message.contains("may not write"), "{e}");
    let e = host(HostKind::Github, &url, "/none/api/v3")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::NotFound);
    assert!(
        e.message.contains("acme/apis") && e.message.contains(&url),
        "{e}"
    );
    let e = host(HostKind::Gitlab, &url, "/gone/api/v4")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::NotFound);
    let e = host(HostKind::Gitlab, &url, "/ro/api/v4")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Forbidden);
    host(HostKind::Gitlab, &url, "/ok/api/v4")
        .check()
        .await
        .unwrap();
    let e = host(HostKind::Gitea, &url, "/ro/api/v1")
        .check()
        .await
        .unwrap_err();
    assert_eq!(e.kind, HostErrorKind::Forbidden);
}

fn gitlab_mr(iid: u64) -> Value {
    json!({
        "id": 100 + iid, "iid": iid, "project_id": 1, "title": "Edit petstore",
        "state": "opened", "web_url": format!("https://gitlab.example/acme/apis/-/merge_requests/{iid}"),
        "source_branch": "tollgate/12-edit-petstore", "target_branch": "main",
        "sha": "c0ffee", "merge_commit_sha": null, "squash_commit_sha": null,
        "detailed_merge_status": "checking", "has_conflicts": false,
        "author": {"username": "tollgate-bot"}
    })
}

#[tokio::test]
async fn gitlab_publishes_and_opens_in_three_calls() {
    let (url, log) = fake(|c| {
        let p = "/api/v4/projects/acme%2Fapis";
        match (c.method.as_str(), c.path.strip_prefix(p).unwrap_or("?")) {
            ("POST", "/repository/commits") => reply(
                201,
                json!({"id": "c0ffee", "short_id": "c0ffee", "parent_ids": [BASE], "title": "Edit petstore"}),
            ),
            ("GET", "/merge_requests") => reply(200, json!([])),
            ("POST", "/merge_requests") => reply(201, gitlab_mr(4)),
            _ => reply(404, json!({"message": "404 Not Found"})),
        }
    })
    .await;
    let h = host(HostKind::Gitlab, &url, "/api/v4");
    let p = publication();
    let published = h.publish(&p, None).await.unwrap();
    assert_eq!(
        (published.head.as_str(), published.parent.as_str()),
        ("c0ffee", BASE)
    );
    let state = h.open(&p).await.unwrap();
    assert_eq!((state.number, state.mergeable), (4, None));
    assert_eq!(h.calls(), 3);
    let calls = log.lock().unwrap().clone();
    assert!(calls.iter().all(|c| c.header("private-token") == "tok-123"));
    assert_eq!(
        calls[0].body,
        json!({
            "branch": "tollgate/12-edit-petstore", "start_sha": BASE,
            "commit_message": "Edit petstore\n\nRaise the rate limit.",
            "actions": [
                {"action": "update", "file_path": "apis/default/petstore.yaml", "content": "kind: ApiDefinition\n", "encoding": "text"},
                {"action": "delete", "file_path": "apis/default/old.yaml"},
            ],
            "author_name": "Alice Doe", "author_email": "alice@example.com",
        })
    );
    assert_eq!(
        calls[1].query,
        "source_branch=tollgate/12-edit-petstore&target_branch=main&state=all"
    );
    assert_eq!(
        calls[2].body,
        json!({"source_branch": "tollgate/12-edit-petstore", "target_branch": "main", "title": "Edit petstore", "description": "What changes"})
    );
}

#[tokio::test]
async fn gitlab_reads_merges_and_maps_refusals() {
    let (url, _log) = fake(|c| {
        let p = "/api/v4/projects/acme%2Fapis";
        match (c.method.as_str(), c.path.strip_prefix(p).unwrap_or("?")) {
            ("POST", "/repository/commits") => {
                reply(400, json!({"message": "A branch called 'tollgate/12-edit-petstore' already exists."}))
            }
            ("GET", "/merge_requests/4") => reply(200, gitlab_mr(4)),
            ("GET", "/merge_requests/4/approvals") => reply(
                200,
                json!({"approvals_left": 0, "approved_by": [{"user": {"username": "bob", "name": "Bob"}}]}),
            ),
            ("GET", "/repository/commits/c0ffee/statuses") => reply(
                200,
                json!([{"name": "lint", "status": "running", "target_url": "https://ci/1"}]),
            ),
            ("PUT", "/merge_requests/4/merge") => {
                reply(409, json!({"message": "SHA does not match HEAD of source branch: c0ffee"}))
            }
            ("PUT", "/merge_requests/5/merge") => {
                reply(422, json!({"message": "Branch cannot be merged"}))
            }
            _ => reply(404, json!({"message": "404 Not Found"})),
        }
    })
    .await;
    let h = host(HostKind::Gitlab, &url, "/api/v4");
    let e = h.publish(&publication(), None).await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::BranchExists);
    let s = h.read(4).await.unwrap();
    assert_eq!(s.approvers().collect::<Vec<_>>(), ["bob"]);
    assert_eq!(s.checks.len(), 1);
    assert_eq!(s.merge_status.as_deref(), Some("checking"));
    let e = h.merge(4, "old", "t", "m").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::HeadMoved);
    let e = h.merge(5, "c0ffee", "t", "m").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::NotMergeable);
    assert!(e.message.contains("Branch cannot be merged"));
}

fn gitea_pull(number: u64) -> Value {
    json!({
        "id": 40 + number, "number": number, "html_url": format!("https://gitea.example/acme/apis/pulls/{number}"),
        "state": "open", "merged": false, "merge_commit_sha": null, "mergeable": true,
        "head": {"ref": "tollgate/12-edit-petstore", "sha": "c0ffee"},
        "base": {"ref": "main", "sha": BASE}, "user": {"login": "tollgate"}
    })
}

#[tokio::test]
async fn gitea_publishes_and_opens_in_three_calls() {
    let (url, log) = fake(|c| {
        let r = "/api/v1/repos/acme/apis";
        match (c.method.as_str(), c.path.strip_prefix(r).unwrap_or("?")) {
            ("POST", "/contents") => reply(
                201,
                json!({"files": [], "commit": {"sha": "c0ffee", "parents": [{"sha": "ba5e2"}]}}),
            ),
            ("GET", "/pulls/main/tollgate/12-edit-petstore") => {
                reply(404, json!({"message": "The target couldn't be found."}))
            }
            ("POST", "/pulls") => reply(201, gitea_pull(3)),
            _ => reply(404, json!({"message": "not found"})),
        }
    })
    .await;
    let h = host(HostKind::Gitea, &url, "/api/v1");
    let p = publication();
    let published = h.publish(&p, None).await.unwrap();
    assert_eq!(
        (published.head.as_str(), published.parent.as_str()),
        ("c0ffee", "ba5e2")
    );
    let state = h.open(&p).await.unwrap();
    assert_eq!((state.number, state.mergeable), (3, Some(true)));
    assert_eq!(h.calls(), 3);
    let calls = log.lock().unwrap().clone();
    assert!(
        calls
            .iter()
            .all(|c| c.header("authorization") == "token tok-123")
    );
    assert_eq!(
        calls[0].body,
        json!({
            "branch": "main", "new_branch": "tollgate/12-edit-petstore",
            "message": "Edit petstore\n\nRaise the rate limit.",
            "files": [
                {"operation": "update", "path": "apis/default/petstore.yaml", "content": "a2luZDogQXBpRGVmaW5pdGlvbgo=", "sha": OLD_BLOB},
                {"operation": "delete", "path": "apis/default/old.yaml", "sha": OLD_BLOB},
            ],
            "author": {"name": "Alice Doe", "email": "alice@example.com"},
            "committer": {"name": "Tollgate", "email": "tollgate@localhost"},
        })
    );
    assert_eq!(
        calls[2].body,
        json!({"head": "tollgate/12-edit-petstore", "base": "main", "title": "Edit petstore", "body": "What changes"})
    );
}

#[tokio::test]
async fn gitea_merges_with_the_head_as_compare_and_swap() {
    let merged = Arc::new(AtomicUsize::new(0));
    let m = merged.clone();
    let (url, log) = fake(move |c| {
        let r = "/api/v1/repos/acme/apis";
        match (c.method.as_str(), c.path.strip_prefix(r).unwrap_or("?")) {
            ("POST", "/pulls/3/merge") => {
                m.fetch_add(1, Ordering::SeqCst);
                reply(200, Value::Null)
            }
            ("POST", "/pulls/4/merge") => reply(409, json!({"message": "head out of date"})),
            ("GET", "/pulls/3") => {
                let mut pr = gitea_pull(3);
                if m.load(Ordering::SeqCst) > 0 {
                    pr["state"] = json!("closed");
                    pr["merged"] = json!(true);
                    pr["merge_commit_sha"] = json!("m3rge");
                }
                reply(200, pr)
            }
            ("POST", "/contents") => reply(
                422,
                json!({"message": "branch already exists [name: tollgate/12-edit-petstore]", "url": "https://gitea.example/api/swagger"}),
            ),
            _ => reply(404, json!({"message": "not found"})),
        }
    })
    .await;
    let h = host(HostKind::Gitea, &url, "/api/v1");
    assert_eq!(
        h.merge(3, "c0ffee", "Edit petstore", "body").await.unwrap(),
        "m3rge"
    );
    let e = h.merge(4, "c0ffee", "t", "m").await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::HeadMoved);
    let e = h.publish(&publication(), None).await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::BranchExists);
    let merge = log
        .lock()
        .unwrap()
        .iter()
        .find(|c| c.path.ends_with("/pulls/3/merge"))
        .cloned()
        .unwrap();
    assert_eq!(
        merge.body,
        json!({"Do": "merge", "head_commit_id": "c0ffee", "MergeTitleField": "Edit petstore", "MergeMessageField": "body"})
    );
}

#[tokio::test]
async fn gitea_replace_remakes_the_branch_and_reopens_its_pull_request() {
    let deleted = Arc::new(AtomicUsize::new(0));
    let d = deleted.clone();
    let (url, log) = fake(move |c| {
        let r = "/api/v1/repos/acme/apis";
        let gone = d.load(Ordering::SeqCst) > 0;
        match (c.method.as_str(), c.path.strip_prefix(r).unwrap_or("?")) {
            ("GET", "/branches/tollgate/12-edit-petstore") => reply(
                200,
                json!({"name": "tollgate/12-edit-petstore", "commit": {"id": "01d"}}),
            ),
            ("GET", "/pulls/main/tollgate/12-edit-petstore") => reply(200, gitea_pull(3)),
            ("DELETE", "/branches/tollgate/12-edit-petstore") => {
                d.fetch_add(1, Ordering::SeqCst);
                reply(204, Value::Null)
            }
            ("POST", "/contents") => reply(
                201,
                json!({"commit": {"sha": "n3w", "parents": [{"sha": BASE}]}}),
            ),
            // Real Gitea closes the pull request of a deleted head branch.
            ("GET", "/pulls/3") => {
                let mut pr = gitea_pull(3);
                if gone {
                    pr["state"] = json!("closed");
                }
                reply(200, pr)
            }
            ("PATCH", "/pulls/3") => reply(201, gitea_pull(3)),
            _ => reply(404, json!({"message": "not found"})),
        }
    })
    .await;
    let h = host(HostKind::Gitea, &url, "/api/v1");
    let e = h.publish(&publication(), Some("other")).await.unwrap_err();
    assert_eq!(e.kind, HostErrorKind::HeadMoved);
    assert_eq!(deleted.load(Ordering::SeqCst), 0);
    let published = h.publish(&publication(), Some("01d")).await.unwrap();
    assert_eq!(published.head, "n3w");
    let calls = log.lock().unwrap().clone();
    let reopen = calls.last().unwrap();
    assert!(reopen.is("PATCH", "/api/v1/repos/acme/apis/pulls/3"));
    assert_eq!(reopen.body, json!({"state": "open"}));
}
