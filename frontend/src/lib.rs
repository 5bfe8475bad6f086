//! Tollgate's web app: pages and components, rendered on the server and hydrated in the browser.
//!
//! Pages load data through [`data`]: during server rendering straight from the server's
//! services (the [`Backend`] the server provides), in the browser from the REST API.

#![recursion_limit = "256"]

pub mod api;
pub mod basket;
pub mod charts;
pub mod client;
pub mod data;
mod layout;
mod links;
mod pages;
pub mod titles;
mod ui;
pub mod validate;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::{Lazy, SsrMode};

/// What server rendering reads data from; implemented by the server.
#[cfg(feature = "ssr")]
pub trait Backend: Send + Sync {
    fn list(&self, query: &api::ResourceQuery) -> Result<api::ResourceList, api::ApiError>;
    fn detail(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<api::ResourceDetail, api::ApiError>;
    fn problems(&self) -> Result<api::ProblemList, api::ApiError>;
    /// What the cross-resource rules need of the repo (see [`validate::Environment`]).
    fn validation_context(&self) -> Result<validate::Environment, api::ApiError>;
    fn status(&self) -> api::RepoStatus;
    fn sync_status(&self, query: &api::StatusQuery) -> BoxFuture<api::StatusReport>;
    /// Changes in `state` when given; with `reviewer`, the open ones waiting for their review.
    fn changes(
        &self,
        state: Option<String>,
        reviewer: Option<String>,
    ) -> BoxFuture<Result<Vec<api::ChangeSummary>, api::ApiError>>;
    fn change(&self, id: i64) -> BoxFuture<Result<api::ChangeView, api::ApiError>>;
    fn resource_changes(
        &self,
        kind: String,
        namespace: String,
        name: String,
    ) -> BoxFuture<Result<Vec<api::ChangeSummary>, api::ApiError>>;
    /// API tokens: `owner`'s, or everyone's (`None`, for an admin), newest first.
    fn tokens(
        &self,
        owner: Option<String>,
    ) -> BoxFuture<Result<Vec<api::TokenView>, api::ApiError>> {
        let _ = owner;
        Box::pin(async { Err(api::ApiError::new("not_found", "no tokens here")) })
    }
    /// A page of a resource's history, newest first.
    fn history(
        &self,
        kind: String,
        namespace: String,
        name: String,
        page: usize,
    ) -> BoxFuture<Result<api::history::HistoryPage, api::ApiError>> {
        let _ = (kind, namespace, name, page);
        Box::pin(async { Err(api::ApiError::new("not_found", "no history here")) })
    }
    /// A page of the activity feed, newest first.
    fn activity(
        &self,
        query: api::timeline::ActivityQuery,
    ) -> BoxFuture<Result<api::timeline::ActivityPage, api::ApiError>> {
        let _ = query;
        Box::pin(async { Err(api::ApiError::new("not_found", "no activity here")) })
    }
    /// Lead time, changes per week, drift episodes and change failure over a range.
    fn insights(
        &self,
        query: api::insights::InsightsQuery,
    ) -> BoxFuture<Result<api::insights::InsightsReport, api::ApiError>> {
        let _ = query;
        Box::pin(async { Err(api::ApiError::new("not_found", "no insights here")) })
    }
}

/// A boxed future the backend returns for database-backed data.
#[cfg(feature = "ssr")]
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The backend as a leptos context value.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct BackendRef(pub std::sync::Arc<dyn Backend>);

/// Where the server serves the stylesheet (a content-hashed name); set once at start.
static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Tells the pages where the stylesheet is served (by the server, before the first page).
pub fn set_stylesheet(href: &str) {
    let _ = STYLESHEET.set(href.to_owned());
}

/// Where the server serves the YAML editor's script (a content-hashed name); set once at start.
static EDITOR_SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Tells the YAML editor page where its script is served (by the server, before the first page).
pub fn set_editor_script(href: &str) {
    let _ = EDITOR_SCRIPT.set(href.to_owned());
}

/// The YAML editor's script: the hashed name the server was given, which the browser reads from
/// the page's `<meta name="tollgate-editor-script">` (so hydrating the YAML editor page never
/// loads the editor a second time under another name); the plain name, which the server also
/// serves, when neither is known.
pub(crate) fn editor_script() -> String {
    #[cfg(feature = "hydrate")]
    if EDITOR_SCRIPT.get().is_none()
        && let Some(href) = document()
            .query_selector("meta[name=tollgate-editor-script]")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
    {
        let _ = EDITOR_SCRIPT.set(href);
    }
    EDITOR_SCRIPT
        .get()
        .cloned()
        .unwrap_or_else(|| "/pkg/yaml-editor.js".to_owned())
}

fn stylesheet() -> String {
    STYLESHEET
        .get()
        .cloned()
        .unwrap_or_else(|| "/assets/tollgate.css".to_owned())
}

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=stylesheet()/>
                <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"/>
                <meta name="tollgate-editor-script" content=editor_script()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: header, navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    basket::BasketState::provide();
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Tollgate".to_owned() } else { format!("{page} · Tollgate") }/>
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <layout::Header/>
            <main id="main">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::ApisPage/>
                    <Route path=path!("/apis") view=pages::ApisPage/>
                    <Route path=path!("/apis/new") view={Lazy::<pages::ApiEdit>::new()}/>
                    <Route path=path!("/apis/:namespace/:name") view={Lazy::<pages::ApiDetail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apis/:namespace/:name/edit") view={Lazy::<pages::ApiEdit>::new()}/>
                    <Route path=path!("/yaml/:kind/:namespace/:name") view={Lazy::<pages::YamlEdit>::new()}/>
                    <Route path=path!("/changes") view={Lazy::<pages::Changes>::new()}/>
                    <Route path=path!("/changes/new") view={Lazy::<pages::ChangeBasket>::new()}/>
                    <Route path=path!("/changes/:id") view={Lazy::<pages::Change>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/oas/new") view={Lazy::<pages::OasEdit>::new()}/>
                    <Route path=path!("/oas/:namespace/:name") view={Lazy::<pages::OasDetail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/oas/:namespace/:name/edit") view={Lazy::<pages::OasEdit>::new()}/>
                    <Route path=path!("/policies") view={Lazy::<pages::Policies>::new()}/>
                    <Route path=path!("/policies/new") view={Lazy::<pages::PolicyEdit>::new()}/>
                    <Route path=path!("/policies/:namespace/:name") view={Lazy::<pages::PolicyDetail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/policies/:namespace/:name/edit") view={Lazy::<pages::PolicyEdit>::new()}/>
                    <Route path=path!("/problems") view={Lazy::<pages::Problems>::new()}/>
                    <Route path=path!("/insights") view={Lazy::<pages::Insights>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=pages::StatusPage/>
                    <Route path=path!("/activity") view={Lazy::<pages::Activity>::new()}/>
                    <Route path=path!("/login") view={Lazy::<pages::Login>::new()}/>
                    <Route path=path!("/settings/tokens") view={Lazy::<pages::Tokens>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Sent on `window` once the whole page has hydrated, lazily loaded page included: state that
/// the browser reads (the collected change in `localStorage`) waits for it, so the page it
/// renders first is the page the server sent.
#[cfg(feature = "hydrate")]
pub(crate) const HYDRATED_EVENT: &str = "tollgate:hydrated";

/// Entry point of the wasm bundle.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // A part of the bundle that cannot be loaded: most likely Tollgate was upgraded since
        // this page loaded and serves another bundle now. Loading the page afresh gets that
        // one; at most once a minute, so a server that cannot serve its parts is no loop.
        // (The splitter's loader panics with "load callback should succeed" when it fails.)
        let said = info.to_string();
        if said.contains("load callback should succeed")
            || said.contains("failed to load split module")
        {
            reload_for_a_new_bundle();
        }
    }));
    // As `hydrate_lazy`: the router waits for a lazy page's part before hydrating it. Once the
    // whole page is hydrated, `<body data-hydrated>` says so (the tests wait for it).
    // (wasm-bindgen's executor: hydrating sets it up as leptos' executor too).
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
        if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(HYDRATED_EVENT))
        {
            let _ = window.dispatch_event(&event);
        }
    });
}

/// Reloads the page unless it was reloaded for this reason in the last minute.
#[cfg(feature = "hydrate")]
fn reload_for_a_new_bundle() {
    const KEY: &str = "tollgate.reloaded-for-bundle";
    let Some(window) = web_sys::window() else {
        return;
    };
    // Milliseconds, as an integer (no float formatting in the main module).
    let now = js_sys::Date::now() as u64;
    let storage = window.session_storage().ok().flatten();
    let last = storage
        .as_ref()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|v| v.parse::<u64>().ok());
    if last.is_some_and(|t| now.saturating_sub(t) < 60_000) {
        return;
    }
    if let Some(s) = &storage {
        let _ = s.set_item(KEY, &now.to_string());
    }
    let _ = window.location().reload();
}
