//! The REST and watch protocol over the store.

use crate::store::{ApiErr, PatchKind, Store, TypeInfo};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The handler state: the store, and a signal that ends open watches when the server stops.
#[derive(Clone)]
pub struct Server {
    pub store: Arc<Store>,
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub fn router(store: Arc<Store>, stopping: tokio::sync::watch::Receiver<bool>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Server { store, stopping })
}

fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(e: &ApiErr) -> Response {
    json_response(e.code, &e.status())
}

fn query(req: &Request) -> HashMap<String, String> {
    req.uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a request points.
struct Target {
    t: TypeInfo,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

fn resource_list(store: &Store, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = store
        .types()
        .into_iter()
        .filter(|t| t.group == group && t.version == version)
        .flat_map(|t| {
            let mut out = vec![json!({
                "name": t.plural, "singularName": t.kind.to_lowercase(), "namespaced": t.namespaced, "kind": t.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]
            })];
            if t.status_subresource {
                out.push(json!({"name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced,
                    "kind": t.kind, "verbs": ["get", "patch", "update"]}));
            }
            out
        })
        .collect();
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn groups(store: &Store) -> Value {
    let mut seen: Vec<(String, String)> = store
        .types()
        .into_iter()
        .filter(|t| !t.group.is_empty())
        .map(|t| (t.group, t.version))
        .collect();
    seen.sort();
    seen.dedup();
    let groups: Vec<Value> = seen
        .into_iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/openapi/v3`: the group-versions served, each with the address of its document.
fn openapi_index(store: &Store) -> Value {
    let mut paths = serde_json::Map::new();
    for t in store.types() {
        let gv = if t.group.is_empty() {
            format!("api/{}", t.version)
        } else {
            format!("apis/{}/{}", t.group, t.version)
        };
        let url = format!("/openapi/v3/{gv}?hash={}", store.resource_version());
        paths.insert(gv, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

/// The OpenAPI v3 document of one group-version, as far as clients read it: each kind's paths
/// with the operation's `x-kubernetes-group-version-kind` and its query parameters (kubectl
/// looks for `fieldValidation` there to decide that the server validates), and a schema per
/// kind that accepts any object (the emulator does not validate against CRD schemas).
fn openapi_group(store: &Store, group: &str, version: &str) -> Option<Value> {
    let types: Vec<_> = store
        .types()
        .into_iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let params = json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        {"name": "force", "in": "query", "schema": {"type": "boolean"}}
    ]);
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    let reversed: Vec<&str> = group.split('.').rev().collect();
    for t in types {
        let gvk = json!({"group": group, "version": version, "kind": t.kind});
        let schema_name = if group.is_empty() {
            format!("io.k8s.api.core.{version}.{}", t.kind)
        } else {
            format!("{}.{version}.{}", reversed.join("."), t.kind)
        };
        let reference = json!({"$ref": format!("#/components/schemas/{schema_name}")});
        let body = json!({"content": {"application/json": {"schema": reference}}});
        let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}});
        let op = |verb: &str, with_body: bool| {
            let mut op = json!({"operationId": format!("{verb}{}", t.kind), "parameters": params,
                "responses": ok, "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk});
            if with_body {
                op["requestBody"] = body.clone();
            }
            op
        };
        let base = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(
            collection.clone(),
            json!({"get": op("list", false), "post": op("post", true)}),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"get": op("get", false), "put": op("put", true), "patch": op("patch", true),
                "delete": op("delete", false)}),
        );
        schemas.insert(
            schema_name,
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": [gvk]}),
        );
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0-tollgate-emulator"},
        "paths": paths, "components": {"schemas": schemas}}),
    )
}

async fn handle(State(server): State<Server>, req: Request) -> Response {
    let store = server.store;
    let path = req.uri().path().trim_matches('/').to_owned();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["version"] => {
            return json_response(
                200,
                &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-tollgate-emulator", "platform": "linux/amd64"}),
            );
        }
        ["api"] => {
            return json_response(
                200,
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        ["api", "v1"] => return json_response(200, &resource_list(&store, "", "v1")),
        ["apis"] => return json_response(200, &groups(&store)),
        ["apis", g, v] => return json_response(200, &resource_list(&store, g, v)),
        ["openapi", "v3"] => return json_response(200, &openapi_index(&store)),
        ["openapi", "v3", "api", v] | ["openapi", "v3", "apis", "", v] => {
            if let Some(doc) = openapi_group(&store, "", v) {
                return json_response(200, &doc);
            }
        }
        ["openapi", "v3", "apis", g, v] => {
            if let Some(doc) = openapi_group(&store, g, v) {
                return json_response(200, &doc);
            }
        }
        _ => {}
    }
    let (group, version, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => {
            return error(&ApiErr::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ));
        }
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, r, tail @ ..] => (Some((*ns).to_owned()), {
            let mut v = vec![*r];
            v.extend_from_slice(tail);
            v
        }),
        r => (None, r.to_vec()),
    };
    let (plural, name, status) = match rest.as_slice() {
        [p] => (*p, None, false),
        [p, n] => (*p, Some((*n).to_owned()), false),
        [p, n, "status"] => (*p, Some((*n).to_owned()), true),
        _ => {
            return error(&ApiErr::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ));
        }
    };
    let Some(t) = store.type_for(group, version, plural) else {
        return error(&ApiErr::new(
            404,
            "NotFound",
            format!(
                "the server could not find the requested resource ({plural}.{group}/{version})"
            ),
        ));
    };
    let target = Target {
        t,
        namespace,
        name,
        status,
    };
    let q = query(&req);
    let method = req.method().clone();
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 8 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return error(&ApiErr::new(
                413,
                "RequestEntityTooLarge",
                "request body too large",
            ));
        }
    };
    dispatch(&store, server.stopping, &method, &headers, &q, target, body).await
}

fn manager(q: &HashMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    agent.split('/').next().unwrap_or("unknown").to_owned()
}

fn parse_body(body: &Bytes) -> Result<Value, ApiErr> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiErr::new(400, "BadRequest", "body is not UTF-8"))?;
    if text.trim_start().starts_with(['{', '[']) {
        serde_json::from_str(text).map_err(|e| ApiErr::new(400, "BadRequest", e.to_string()))
    } else {
        serde_saphyr::from_str(text).map_err(|e| ApiErr::new(400, "BadRequest", e.to_string()))
    }
}

async fn dispatch(
    store: &Arc<Store>,
    stopping: tokio::sync::watch::Receiver<bool>,
    method: &Method,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    target: Target,
    body: Bytes,
) -> Response {
    let Target {
        t,
        namespace,
        name,
        status,
    } = target;
    let ns = namespace.clone().unwrap_or_default();
    let manager = manager(q, headers);
    let result = match (method.as_str(), &name) {
        ("GET", None) if matches!(q.get("watch").map(String::as_str), Some("true" | "1")) => {
            return watch(Arc::clone(store), stopping, t, namespace, q);
        }
        ("GET", None) => {
            let selector = match Selector::parse(q) {
                Ok(s) => s,
                Err(e) => return error(&e),
            };
            let (mut items, rv) = store.list(&t, namespace.as_deref());
            items.retain(|o| selector.matches(o));
            return json_response(
                200,
                &json!({"apiVersion": t.api_version(), "kind": format!("{}List", t.kind),
                "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
            );
        }
        ("GET", Some(n)) => store.get(&t, &ns, n).ok_or_else(|| {
            ApiErr::new(
                404,
                "NotFound",
                format!("{}.{} \"{n}\" not found", t.plural, t.group),
            )
        }),
        ("POST", None) => match parse_body(&body) {
            Ok(obj) => store
                .create(&t, &ns, obj, &manager, "Update")
                .map(return_created),
            Err(e) => Err(e),
        },
        ("PUT", Some(n)) => {
            parse_body(&body).and_then(|obj| store.update(&t, &ns, n, obj, &manager, status))
        }
        ("PATCH", Some(n)) => {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let kind = if ct.starts_with("application/json-patch") {
                PatchKind::Json
            } else if ct.starts_with("application/apply-patch") {
                PatchKind::Apply
            } else {
                PatchKind::Merge
            };
            if kind == PatchKind::Apply && q.get("fieldManager").is_none_or(String::is_empty) {
                Err(ApiErr::new(
                    422,
                    "Invalid",
                    "fieldManager is required for apply requests",
                ))
            } else {
                parse_body(&body).and_then(|b| store.patch(&t, &ns, n, kind, &b, &manager, status))
            }
        }
        ("DELETE", Some(n)) => store.delete(&t, &ns, n),
        _ => Err(ApiErr::new(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported here"),
        )),
    };
    match result {
        Ok(obj) if obj.get("__created").is_some() => {
            let mut obj = obj;
            if let Some(m) = obj.as_object_mut() {
                m.remove("__created");
            }
            json_response(201, &obj)
        }
        Ok(obj) => json_response(200, &obj),
        Err(e) => error(&e),
    }
}

fn return_created(mut obj: Value) -> Value {
    obj["__created"] = json!(true);
    obj
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// A watch: events after `resourceVersion` (or all current objects as ADDED when none is
/// given), then live events, bookmarks when asked, until `timeoutSeconds`.
/// `fieldSelector` (`metadata.name`, `metadata.namespace`; `=`, `==`, `!=`) and `labelSelector`
/// (`k=v`, `k==v`, `k!=v`, `k`, `!k`), comma-separated, as the API server reads them for any
/// resource; other fields are refused as it refuses them.
struct Selector {
    /// (field, equals, value)
    fields: Vec<(String, bool, String)>,
    labels: Vec<LabelRequirement>,
}

/// (key, `Some((equals, value))` or `None` for existence, whether it must exist)
type LabelRequirement = (String, Option<(bool, String)>, bool);

impl Selector {
    fn parse(q: &HashMap<String, String>) -> Result<Self, ApiErr> {
        let split = |text: &str| -> Option<(String, bool, String)> {
            if let Some((k, v)) = text.split_once("!=") {
                return Some((k.trim().to_owned(), false, v.trim().to_owned()));
            }
            let (k, v) = text.split_once("==").or_else(|| text.split_once('='))?;
            Some((k.trim().to_owned(), true, v.trim().to_owned()))
        };
        let mut fields = Vec::new();
        for part in q
            .get("fieldSelector")
            .into_iter()
            .flat_map(|s| s.split(','))
            .filter(|p| !p.trim().is_empty())
        {
            let (field, eq, value) = split(part).ok_or_else(|| {
                ApiErr::new(400, "BadRequest", format!("invalid field selector: {part}"))
            })?;
            if field != "metadata.name" && field != "metadata.namespace" {
                return Err(ApiErr::new(
                    400,
                    "BadRequest",
                    format!("field label not supported: {field}"),
                ));
            }
            fields.push((field, eq, value));
        }
        let mut labels = Vec::new();
        for part in q
            .get("labelSelector")
            .into_iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match split(part) {
                Some((k, eq, v)) => labels.push((k, Some((eq, v)), true)),
                None => match part.strip_prefix('!') {
                    Some(k) => labels.push((k.trim().to_owned(), None, false)),
                    None => labels.push((part.to_owned(), None, true)),
                },
            }
        }
        Ok(Self { fields, labels })
    }

    fn matches(&self, obj: &Value) -> bool {
        let meta = &obj["metadata"];
        self.fields.iter().all(|(field, eq, value)| {
            let actual = meta[field.trim_start_matches("metadata.")]
                .as_str()
                .unwrap_or_default();
            (actual == value) == *eq
        }) && self.labels.iter().all(|(key, test, present)| {
            let actual = meta["labels"][key.as_str()].as_str();
            match test {
                None => actual.is_some() == *present,
                Some((true, v)) => actual == Some(v.as_str()),
                Some((false, v)) => actual != Some(v.as_str()),
            }
        })
    }
}

fn watch(
    store: Arc<Store>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    t: TypeInfo,
    namespace: Option<String>,
    q: &HashMap<String, String>,
) -> Response {
    let from = q
        .get("resourceVersion")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0);
    let bookmarks = matches!(
        q.get("allowWatchBookmarks").map(String::as_str),
        Some("true" | "1")
    );
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1800)
        .min(3600);
    let selector = match Selector::parse(q) {
        Ok(s) => s,
        Err(e) => return error(&e),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let mut live = store.subscribe();
    let backlog = match from {
        Some(rv) => store
            .events_since(&t, namespace.as_deref(), rv)
            .map(|events| {
                let last = events.last().map_or(rv, |e| e.rv);
                (
                    events
                        .iter()
                        .filter(|e| selector.matches(&e.object))
                        .map(|e| line(e.kind, &e.object))
                        .collect::<Vec<_>>(),
                    last,
                )
            }),
        None => {
            let (items, rv) = store.list(&t, namespace.as_deref());
            Ok((
                items
                    .iter()
                    .filter(|o| selector.matches(o))
                    .map(|o| line("ADDED", o))
                    .collect(),
                rv,
            ))
        }
    };
    tokio::spawn(async move {
        let mut last = match backlog {
            Ok((lines, last)) => {
                for l in lines {
                    if tx.send(l).await.is_err() {
                        return;
                    }
                }
                last
            }
            Err(e) => {
                let _ = tx.send(line("ERROR", &e.status())).await;
                return;
            }
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = stopping.changed() => return,
                _ = tick.tick(), if bookmarks => {
                    let rv = store.resource_version().max(last);
                    let mark = json!({"apiVersion": t.api_version(), "kind": t.kind, "metadata": {"resourceVersion": rv.to_string()}});
                    if tx.send(line("BOOKMARK", &mark)).await.is_err() {
                        return;
                    }
                }
                event = live.recv() => match event {
                    Ok(e) if e.rv > last && e.group == t.group && e.plural == t.plural && namespace.as_deref().is_none_or(|n| n == e.namespace) => {
                        last = e.rv;
                        if selector.matches(&e.object) && tx.send(line(e.kind, &e.object)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let gone = ApiErr::new(410, "Expired", "watch fell behind");
                        let _ = tx.send(line("ERROR", &gone.status())).await;
                        return;
                    }
                    Err(_) => return,
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
