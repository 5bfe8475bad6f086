//! The HTTP front: control routes, host-down and faults, call counting, then the flavour's REST
//! routes or smart HTTP.

use super::api::{self, Req, Resp};
use super::state::{Call, Fault, Flavour};
use super::{Host, control, smart};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub fn router(host: Arc<Host>) -> Router {
    Router::new().fallback(handle).with_state(host)
}

/// A REST answer as an HTTP response.
pub fn to_response(flavour: Option<Flavour>, resp: Resp) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match resp.body {
        Some(body) => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    };
    let h = r.headers_mut();
    if flavour == Some(Flavour::GitHub)
        && !resp
            .headers
            .iter()
            .any(|(k, _)| k.starts_with("x-ratelimit"))
    {
        let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        for (k, v) in [
            ("x-ratelimit-limit", "5000".to_owned()),
            ("x-ratelimit-remaining", "4999".to_owned()),
            ("x-ratelimit-used", "1".to_owned()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-github-api-version-selected", "2022-11-28".to_owned()),
        ] {
            if let Ok(v) = header::HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
    }
    for (k, v) in resp.headers {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            header::HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    r
}

fn fault_response(flavour: Option<Flavour>, f: &Fault) -> Response {
    let status = f.status.unwrap_or(500);
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = f.body.clone().unwrap_or_else(|| match flavour {
        Some(Flavour::GitLab) => json!({"message": format!("{status} {reason}")}),
        _ => json!({"message": reason}),
    });
    let mut resp = Resp::json(status, body);
    resp.headers = f.headers.clone();
    if flavour.is_none() {
        let mut r = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            format!("{reason}\n"),
        )
            .into_response();
        for (k, v) in &f.headers {
            if let (Ok(k), Ok(v)) = (
                header::HeaderName::from_bytes(k.as_bytes()),
                header::HeaderValue::from_str(v),
            ) {
                r.headers_mut().insert(k, v);
            }
        }
        return r;
    }
    to_response(flavour, resp)
}

async fn handle(State(host): State<Arc<Host>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let Ok(body) = axum::body::to_bytes(body, 512 << 20).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n").into_response();
    };
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return control::handle(&host, parts.method.as_str(), &path, &query, &body).await;
    }
    if path.starts_with("/login/oauth/") {
        let mut st = host.lock();
        st.git_calls.push(Call {
            method: parts.method.as_str().to_owned(),
            path: path.clone(),
        });
        return super::oauth::handle(
            &mut st,
            parts.method.as_str(),
            &path,
            &query,
            &parts.headers,
            &body,
        );
    }
    let flavour = Flavour::ALL
        .into_iter()
        .find(|f| path == f.prefix() || path.starts_with(&format!("{}/", f.prefix())));
    let full = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let method = parts.method.as_str().to_owned();
    let (down, fault) = {
        let mut st = host.lock();
        let call = Call {
            method: method.clone(),
            path: full.clone(),
        };
        match flavour {
            Some(f) => st.calls.entry(f).or_default().push(call),
            None => st.git_calls.push(call),
        }
        let fault = match st.faults.iter().position(|f| f.matches(&method, &full)) {
            Some(i) => {
                let f = st.faults[i].clone();
                if let Some(t) = st.faults[i].times.as_mut() {
                    *t = t.saturating_sub(1);
                    if *t == 0 {
                        st.faults.remove(i);
                    }
                }
                Some(f)
            }
            None => None,
        };
        (st.down, fault)
    };
    if down {
        let f = Fault {
            status: Some(503),
            ..Fault::default()
        };
        return fault_response(flavour, &f);
    }
    if let Some(f) = &fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.status.is_some() && !f.after_write {
            return fault_response(flavour, f);
        }
    }
    let response = match flavour {
        Some(f) => {
            let rest = &path[f.prefix().len()..];
            let req = Req {
                method: parts.method.clone(),
                segs: rest
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| api::decode(s, false))
                    .collect(),
                query: api::parse_query(&query),
                headers: parts.headers.clone(),
                body,
            };
            let h = Arc::clone(&host);
            match tokio::task::spawn_blocking(move || api::run(&h, f, &req)).await {
                Ok(resp) => to_response(Some(f), resp),
                Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "handler failed").into_response(),
            }
        }
        None => {
            smart::handle(
                Arc::clone(&host),
                parts.method,
                &path,
                &query,
                &parts.headers,
                body,
            )
            .await
        }
    };
    match &fault {
        Some(f) if f.status.is_some() && f.after_write => fault_response(flavour, f),
        _ => response,
    }
}
