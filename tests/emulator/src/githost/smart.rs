//! Git smart HTTP at `/{owner}/{name}.git/...` through `git http-backend` (CGI), with token
//! auth. After a push, branch moves become webhook events like any API write.

use super::Host;
use super::api;
use super::git;
use super::hooks::Event;
use super::ops;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::Arc;

fn text(status: u16, body: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

fn unauthorized() -> Response {
    let mut r = text(401, "Authentication required\n");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"Git Host Emulator\""),
    );
    r
}

/// The token of a smart-HTTP call: HTTP Basic password (any user name) or Bearer.
fn token(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = auth.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => api::basic_password(value),
        "bearer" => Some(value.trim().to_owned()),
        _ => None,
    }
}

pub async fn handle(
    host: Arc<Host>,
    method: Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let Some(idx) = path
        .find(".git/")
        .or_else(|| path.ends_with(".git").then(|| path.len() - 4))
    else {
        return text(404, "Not found\n");
    };
    let repo_name = api::decode(&path[1..idx], false);
    let rest = &path[idx + 4..];
    let (root, user) = {
        let st = host.lock();
        if !st.repos.contains_key(&repo_name) {
            return text(404, "Repository not found\n");
        }
        let Some((user, write)) = api::whoami(&st, token(headers).as_deref()) else {
            return unauthorized();
        };
        let pushing = rest == "/git-receive-pack" || query.contains("service=git-receive-pack");
        if pushing && !write {
            return text(403, "Write access to the repository is not granted\n");
        }
        (st.root.clone(), user)
    };
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let env = vec![
        ("GIT_PROJECT_ROOT", root.display().to_string()),
        ("GIT_HTTP_EXPORT_ALL", "1".to_owned()),
        ("PATH_INFO", format!("/{repo_name}.git{rest}")),
        ("QUERY_STRING", query.to_owned()),
        ("REQUEST_METHOD", method.as_str().to_owned()),
        ("CONTENT_TYPE", header("content-type")),
        ("CONTENT_LENGTH", body.len().to_string()),
        ("REMOTE_USER", user.login.clone()),
        ("REMOTE_ADDR", "127.0.0.1".to_owned()),
        ("HTTP_GIT_PROTOCOL", header("git-protocol")),
        ("HTTP_CONTENT_ENCODING", header("content-encoding")),
        ("GIT_HTTP_MAX_REQUEST_BUFFER", "100M".to_owned()),
    ];
    let is_push = method == Method::POST && rest == "/git-receive-pack";
    let out = tokio::task::spawn_blocking(move || cgi(&env, &body)).await;
    let response = match out {
        Ok(Ok(raw)) => cgi_response(&raw),
        _ => text(500, "git http-backend failed\n"),
    };
    if is_push {
        let mut events: Vec<Event> = Vec::new();
        let mut st = host.lock();
        ops::sync_refs(&mut st, &repo_name, &user.login, &mut events);
        host.dispatch(&st, &events);
    }
    response
}

/// Runs `git http-backend` with the CGI environment, feeding the body while reading the output.
fn cgi(env: &[(&str, String)], body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut cmd = git::command();
    cmd.arg("http-backend")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take();
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let input = body.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
        drop(stdin);
    });
    let mut raw = Vec::new();
    stdout.read_to_end(&mut raw)?;
    let _ = writer.join();
    child.wait()?;
    Ok(raw)
}

/// CGI output → HTTP response: headers up to the blank line (`Status:` sets the code).
fn cgi_response(raw: &[u8]) -> Response {
    let (head, body) = match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => match raw.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => (&raw[..0], raw),
        },
    };
    let mut builder = Response::builder();
    let mut status = 200;
    for line in String::from_utf8_lossy(head).lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            status = v
                .split(' ')
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
        } else {
            builder = builder.header(k, v);
        }
    }
    builder
        .status(status)
        .body(Body::from(body.to_vec()))
        .unwrap_or_else(|_| text(500, "bad CGI response\n"))
}
