//! Loading data: in-process during server rendering, over the REST API in the browser.

use crate::api::{
    ApiError, ChangeSummary, ChangeView, ProblemList, ResourceDetail, ResourceList, ResourceQuery,
    SessionInfo,
};

#[cfg(feature = "ssr")]
fn backend() -> Result<crate::BackendRef, ApiError> {
    leptos::prelude::use_context::<crate::BackendRef>()
        .ok_or_else(|| ApiError::new("internal", "no backend in the rendering context"))
}

pub async fn list(query: ResourceQuery) -> Result<ResourceList, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.list(&query)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let mut params = Vec::new();
        for (key, value) in [
            ("kind", &query.kind),
            ("namespace", &query.namespace),
            ("q", &query.q),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                params.push(format!("{key}={}", encode(v)));
            }
        }
        if let Some(o) = query.offset {
            params.push(format!("offset={o}"));
        }
        if let Some(l) = query.limit {
            params.push(format!("limit={l}"));
        }
        get_json(&format!("/api/v1/resources?{}", params.join("&"))).await
    }
}

pub async fn detail(
    kind: String,
    namespace: String,
    name: String,
) -> Result<ResourceDetail, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.detail(&kind, &namespace, &name)
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json(&format!(
            "/api/v1/resources/{}/{}/{}",
            encode(&kind),
            encode(&namespace),
            encode(&name)
        ))
        .await
    }
}

pub async fn problems() -> Result<ProblemList, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.problems()
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json("/api/v1/problems").await
    }
}

/// What the cross-resource rules need of every API and policy: loaded once by each form.
pub async fn validation_context() -> Result<crate::validate::Environment, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.validation_context()
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json("/api/v1/validation-context").await
    }
}

/// What the header shows of the repo: how many problems it has, and its Git host. The fields
/// of [`RepoStatus`](crate::api::RepoStatus) the header reads, so the main module reads no more of it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RepoProblems {
    pub problems: usize,
    #[serde(default)]
    pub host: Option<crate::api::HostHealth>,
}

/// `GET /api/v1/repo`, as the header reads it.
pub async fn repo_problems() -> Result<RepoProblems, ApiError> {
    #[cfg(feature = "ssr")]
    {
        let status = backend()?.0.status();
        Ok(RepoProblems {
            problems: status.problems,
            host: status.host,
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json("/api/v1/repo").await
    }
}

/// `GET /api/v1/tokens`: the signed-in user's API tokens (an admin's: everyone's).
pub async fn tokens() -> Result<Vec<crate::api::TokenView>, ApiError> {
    #[cfg(feature = "ssr")]
    {
        let me = session().await?;
        let Some(login) = me.user.clone() else {
            return Err(ApiError::new(
                "unauthenticated",
                "Sign in to manage your tokens.",
            ));
        };
        let owner = (me.role != Some(crate::api::Role::Admin)).then_some(login);
        backend()?.0.tokens(owner).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json("/api/v1/tokens").await
    }
}

pub async fn session() -> Result<SessionInfo, ApiError> {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>();
        Ok(parts
            .and_then(|p| p.extensions.get::<SessionInfo>().cloned())
            .unwrap_or_default())
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json("/api/v1/session").await
    }
}

/// `GET /api/v1/changes`: in `state` when given; with `review_me`, the open changes waiting for
/// the signed-in user's review (an error when nobody is signed in).
pub async fn changes(
    state: Option<String>,
    review_me: bool,
) -> Result<Vec<ChangeSummary>, ApiError> {
    #[cfg(feature = "ssr")]
    {
        let reviewer = if review_me {
            let me = leptos::prelude::use_context::<http::request::Parts>()
                .and_then(|p| p.extensions.get::<SessionInfo>().cloned())
                .and_then(|s| s.user);
            Some(me.ok_or_else(|| {
                ApiError::new(
                    "unauthenticated",
                    "Sign in to see the changes waiting for your review.",
                )
            })?)
        } else {
            None
        };
        backend()?.0.changes(state, reviewer).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        let mut params = Vec::new();
        if let Some(s) = state.filter(|s| !s.is_empty()) {
            params.push(format!("state={}", encode(&s)));
        }
        if review_me {
            params.push("review=me".to_owned());
        }
        let q = if params.is_empty() {
            String::new()
        } else {
            format!("?{}", params.join("&"))
        };
        get_json(&format!("/api/v1/changes{q}")).await
    }
}

pub async fn change(id: i64) -> Result<ChangeView, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.change(id).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json(&format!("/api/v1/changes/{id}")).await
    }
}

pub async fn resource_changes(
    kind: String,
    namespace: String,
    name: String,
) -> Result<Vec<ChangeSummary>, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.resource_changes(kind, namespace, name).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json(&format!(
            "/api/v1/resources/{}/{}/{}/changes",
            encode(&kind),
            encode(&namespace),
            encode(&name)
        ))
        .await
    }
}

pub async fn history(
    kind: String,
    namespace: String,
    name: String,
    page: usize,
) -> Result<crate::api::history::HistoryPage, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.history(kind, namespace, name, page).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json(&format!(
            "/api/v1/resources/{}/{}/{}/history?page={page}",
            encode(&kind),
            encode(&namespace),
            encode(&name)
        ))
        .await
    }
}

pub async fn activity(
    query: crate::api::timeline::ActivityQuery,
) -> Result<crate::api::timeline::ActivityPage, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.activity(query).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        get_json(&activity_url(&query)).await
    }
}

/// `GET /api/v1/activity` with the query's filters.
pub fn activity_url(query: &crate::api::timeline::ActivityQuery) -> String {
    let mut params = Vec::new();
    for (key, value) in [
        ("namespace", &query.namespace),
        ("cluster", &query.cluster),
        ("kind", &query.kind),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            params.push(format!("{key}={}", encode(v)));
        }
    }
    for (key, value) in [("page", query.page), ("per_page", query.per_page)] {
        if let Some(v) = value {
            params.push(format!("{key}={v}"));
        }
    }
    format!("/api/v1/activity?{}", params.join("&"))
}

pub async fn insights(
    query: crate::api::insights::InsightsQuery,
) -> Result<crate::api::insights::InsightsReport, ApiError> {
    #[cfg(feature = "ssr")]
    {
        backend()?.0.insights(query).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        let mut params = Vec::new();
        for (key, value) in [("from", &query.from), ("to", &query.to)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                params.push(format!("{key}={}", encode(v)));
            }
        }
        if let Some(w) = query.weeks {
            params.push(format!("weeks={w}"));
        }
        get_json(&format!("/api/v1/insights?{}", params.join("&"))).await
    }
}

pub async fn sync_status(
    query: crate::api::StatusQuery,
) -> Result<crate::api::StatusReport, ApiError> {
    #[cfg(feature = "ssr")]
    {
        Ok(backend()?.0.sync_status(&query).await)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let mut params = Vec::new();
        for (key, value) in [
            ("kind", &query.kind),
            ("namespace", &query.namespace),
            ("name", &query.name),
            ("state", &query.state),
            ("cluster", &query.cluster),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                params.push(format!("{key}={}", encode(v)));
            }
        }
        for (key, value) in [("page", query.page), ("per_page", query.per_page)] {
            if let Some(v) = value {
                params.push(format!("{key}={v}"));
            }
        }
        get_json(&format!("/api/v1/status?{}", params.join("&"))).await
    }
}

/// Percent-encodes a query or path component.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    // Browser futures are not `Send`; resources need `Send`, and the browser has one thread.
    send_wrapper::SendWrapper::new(fetch_json(url.to_owned())).await
}

#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
async fn fetch_json<T: serde::de::DeserializeOwned>(url: String) -> Result<T, ApiError> {
    let url = url.as_str();
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let network = || ApiError::new("network", "the server could not be reached");
    let window = web_sys::window().ok_or_else(network)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| network())?
        .dyn_into()
        .map_err(|_| network())?;
    read_response(response).await
}

#[cfg(all(not(feature = "ssr"), not(feature = "hydrate")))]
async fn get_json<T>(_url: &str) -> Result<T, ApiError> {
    Err(ApiError::new("unsupported", "built without ssr or hydrate"))
}

/// The JSON body of a response, or the API's error.
#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
pub(crate) async fn read_response<T: serde::de::DeserializeOwned>(
    response: web_sys::Response,
) -> Result<T, ApiError> {
    use wasm_bindgen_futures::JsFuture;
    let network = || ApiError::new("network", "the server could not be reached");
    let text = JsFuture::from(response.text().map_err(|_| network())?)
        .await
        .map_err(|_| network())?;
    let text = text.as_string().unwrap_or_default();
    if response.ok() {
        // An empty answer (`204 No Content`) reads as `null`, which is `()`.
        let text = if text.is_empty() {
            "null"
        } else {
            text.as_str()
        };
        serde_json::from_str(text).map_err(|e| ApiError::new("bad_response", e.to_string()))
    } else {
        Err(serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| {
            ApiError::new("http", format!("the server answered {}", response.status()))
        }))
    }
}
