//! The one way the browser writes: typed calls to the REST API, each sent as part of a user
//! [`Action`] that owns an `Idempotency-Key`. A second click or a retry of the same action sends
//! the same key, so the server makes one change request, not two; a new action (other content)
//! gets a new key. While a request is in flight the action is busy and further clicks are
//! ignored (buttons show it through [`Action::busy`]).

use crate::api::{
    AdoptRequest, ApiError, ChangeView, CommentRequest, CreateChangeRequest, CreatedChange,
};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A write to the REST API, answered with a `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write<T> {
    pub method: &'static str,
    pub url: String,
    /// The JSON body, if any.
    pub body: Option<String>,
    answer: PhantomData<fn() -> T>,
}

impl<T> Write<T> {
    fn new(method: &'static str, url: String, body: Option<String>) -> Self {
        Self {
            method,
            url,
            body,
            answer: PhantomData,
        }
    }

    fn post(url: String, body: &impl serde::Serialize) -> Self {
        // Serialising the wire types cannot fail (string keys, no custom serialisers).
        Self::new("POST", url, serde_json::to_string(body).ok())
    }

    /// What identifies the action: the same request twice is the same action.
    fn fingerprint(&self) -> String {
        format!(
            "{} {}\n{}",
            self.method,
            self.url,
            self.body.as_deref().unwrap_or_default()
        )
    }
}

/// `POST /api/v1/changes`: save a draft and propose it.
pub fn create_change(req: &CreateChangeRequest) -> Write<CreatedChange> {
    Write::post("/api/v1/changes".into(), req)
}

/// `POST /api/v1/resources/{kind}/{ns}/{name}/restore`: a change request back to a version.
pub fn restore(
    kind: &str,
    namespace: &str,
    name: &str,
    req: &crate::api::history::RestoreRequest,
) -> Write<crate::api::history::RestoreResult> {
    use crate::data::encode;
    Write::post(
        format!(
            "/api/v1/resources/{}/{}/{}/restore",
            encode(kind),
            encode(namespace),
            encode(name)
        ),
        req,
    )
}

/// `POST /api/v1/changes/preview`: the diff and validation, nothing written.
pub fn preview_change(req: &CreateChangeRequest) -> Write<ChangeView> {
    Write::post("/api/v1/changes/preview".into(), req)
}

/// `POST /api/v1/status/adopt`: a drifted resource's live values as a change request.
pub fn adopt(req: &AdoptRequest) -> Write<CreatedChange> {
    Write::post("/api/v1/status/adopt".into(), req)
}

/// `POST /api/v1/changes/{id}/comments`.
pub fn comment(id: i64, req: &CommentRequest) -> Write<ChangeView> {
    Write::post(format!("/api/v1/changes/{id}/comments"), req)
}

/// A review step: `approve`, `merge`, `close` or `rebase`. Its body is the empty JSON object:
/// the API takes JSON only, so no cross-site form can reach it.
pub fn review(id: i64, step: ReviewStep) -> Write<ChangeView> {
    Write::new(
        "POST",
        format!("/api/v1/changes/{id}/{}", step.path()),
        Some("{}".into()),
    )
}

/// `POST /api/v1/tokens`: a token for scripts (its secret comes back once).
pub fn create_token(req: &crate::api::CreateTokenRequest) -> Write<crate::api::CreatedToken> {
    Write::post("/api/v1/tokens".into(), req)
}

/// `DELETE /api/v1/tokens/{id}`: revoke a token.
pub fn revoke_token(id: i64) -> Write<()> {
    Write::new("DELETE", format!("/api/v1/tokens/{id}"), None)
}

/// `DELETE /api/v1/changes/{id}`: discard a draft.
pub fn discard(id: i64) -> Write<()> {
    Write::new("DELETE", format!("/api/v1/changes/{id}"), None)
}

/// The review steps of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStep {
    Approve,
    Merge,
    Close,
    Rebase,
}

impl ReviewStep {
    fn path(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Merge => "merge",
            Self::Close => "close",
            Self::Rebase => "rebase",
        }
    }
}

/// One user action (propose, delete, adopt, approve…): whether its request is in flight, and
/// the idempotency key of what it last sent.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    busy: RwSignal<bool>,
    last: StoredValue<Option<(String, String)>>,
}

impl Default for Action {
    fn default() -> Self {
        Self::new()
    }
}

impl Action {
    pub fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            last: StoredValue::new(None),
        }
    }

    /// Whether a request is in flight (tracked: use it for `disabled`).
    pub fn busy(&self) -> bool {
        self.busy.get()
    }

    /// The key for `write`: the one sent before when the request is the same (a retry, a
    /// second click), a new one otherwise.
    pub fn key_for<T>(&self, write: &Write<T>) -> String {
        self.key_for_request(write.fingerprint())
    }

    /// The key for the request `fingerprint` names, as [`key_for`](Self::key_for).
    fn key_for_request(&self, fingerprint: String) -> String {
        if let Some((fp, key)) = self.last.get_value()
            && fp == fingerprint
        {
            return key;
        }
        let key = new_key();
        self.last.set_value(Some((fingerprint, key.clone())));
        key
    }

    /// Sends `write` unless a request of this action is in flight; `done` gets the answer.
    pub fn run<T: DeserializeOwned + 'static>(
        &self,
        write: Write<T>,
        done: impl FnOnce(Result<T, ApiError>) + 'static,
    ) {
        let fingerprint = write.fingerprint();
        self.run_with(
            fingerprint,
            move |key| async move { send(write, &key).await },
            done,
        );
    }

    /// As [`run`](Self::run), for a write that `send` makes with the key it is given (one
    /// whose code is loaded lazily, say); `fingerprint` names the request, so the same request
    /// again gets the same key.
    pub fn run_with<T: 'static, F: std::future::Future<Output = Result<T, ApiError>> + 'static>(
        &self,
        fingerprint: String,
        send: impl FnOnce(String) -> F,
        done: impl FnOnce(Result<T, ApiError>) + 'static,
    ) {
        if self.busy.get_untracked() {
            return;
        }
        let key = self.key_for_request(fingerprint);
        self.busy.set(true);
        let busy = self.busy;
        let sending = send(key);
        leptos::task::spawn_local(async move {
            let answer = sending.await;
            busy.set(false);
            done(answer);
        });
    }
}

/// A fresh idempotency key: 128 random bits in hex.
pub fn new_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        let part = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
        format!("{:08x}{:08x}{:08x}{:08x}", part(), part(), part(), part())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        // Nothing is sent outside the browser; distinct keys keep the tests honest.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        format!(
            "key-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    }
}

/// Sends a write with its key and reads the answer (`204` reads as JSON `null`).
pub async fn send<T: DeserializeOwned>(write: Write<T>, key: &str) -> Result<T, ApiError> {
    #[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
    {
        send_wrapper::SendWrapper::new(fetch(write, key.to_owned())).await
    }
    #[cfg(any(feature = "ssr", not(feature = "hydrate")))]
    {
        let _ = (write, key);
        Err(ApiError::new("unsupported", "actions run in the browser"))
    }
}

#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
thread_local! {
    /// The session's CSRF token, read once from `GET /api/v1/session`.
    static CSRF: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The session's CSRF token (`fresh`: read again, e.g. after signing in elsewhere).
#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
async fn csrf_token(fresh: bool) -> Option<String> {
    if !fresh && let Some(token) = CSRF.with(|c| c.borrow().clone()) {
        return Some(token);
    }
    let token = crate::data::session().await.ok()?.csrf_token;
    CSRF.with(|c| *c.borrow_mut() = token.clone());
    token
}

/// Sends a write with the session's CSRF token in `X-CSRF-Token`; a refusal for a stale token
/// is retried once with the current one (the idempotency key keeps that safe).
#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
async fn fetch<T: DeserializeOwned>(write: Write<T>, key: String) -> Result<T, ApiError> {
    let token = csrf_token(false).await;
    match fetch_once::<T>(&write, &key, token.as_deref()).await {
        Err(e) if e.code == "csrf" => {
            let token = csrf_token(true).await;
            fetch_once(&write, &key, token.as_deref()).await
        }
        answer => answer,
    }
}

#[cfg(all(not(feature = "ssr"), feature = "hydrate"))]
async fn fetch_once<T: DeserializeOwned>(
    write: &Write<T>,
    key: &str,
    csrf: Option<&str>,
) -> Result<T, ApiError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let network = || ApiError::new("network", "the server could not be reached");
    let init = web_sys::RequestInit::new();
    init.set_method(write.method);
    let headers = web_sys::Headers::new().map_err(|_| network())?;
    if let Some(body) = &write.body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
        headers
            .set("content-type", "application/json")
            .map_err(|_| network())?;
    }
    headers.set("idempotency-key", key).map_err(|_| network())?;
    if let Some(token) = csrf {
        headers.set("x-csrf-token", token).map_err(|_| network())?;
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(network)?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&write.url, &init))
            .await
            .map_err(|_| network())?
            .dyn_into()
            .map_err(|_| network())?;
    crate::data::read_response(response).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_carry_the_shared_request_types() {
        let w = create_change(&CreateChangeRequest {
            title: "t".into(),
            description: String::new(),
            edits: Vec::new(),
        });
        assert_eq!((w.method, w.url.as_str()), ("POST", "/api/v1/changes"));
        assert_eq!(
            w.body.as_deref(),
            Some(r#"{"title":"t","description":"","edits":[]}"#)
        );
        let d = discard(7);
        assert_eq!(
            (d.method, d.url.as_str(), d.body),
            ("DELETE", "/api/v1/changes/7", None)
        );
        assert_eq!(review(3, ReviewStep::Merge).url, "/api/v1/changes/3/merge");
        assert_eq!(review(3, ReviewStep::Merge).body.as_deref(), Some("{}"));
    }

    #[test]
    fn the_same_request_is_the_same_action() {
        let owner = Owner::new();
        owner.with(|| {
            let action = Action::new();
            let first = comment(1, &CommentRequest { body: "a".into() });
            let k1 = action.key_for(&first);
            assert_eq!(action.key_for(&first.clone()), k1, "a retry reuses the key");
            let other = comment(1, &CommentRequest { body: "b".into() });
            let k2 = action.key_for(&other);
            assert_ne!(k2, k1, "other content is a new action");
            assert_eq!(action.key_for(&other), k2);
            assert_ne!(Action::new().key_for(&first), k1, "so is another action");
        });
    }
}
