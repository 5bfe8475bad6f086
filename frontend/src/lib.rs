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
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

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

/// The YAML editor's script: the hashed name on the server, the plain one in the browser (which
/// also serves it).
pub(crate) fn editor_script() -> String {
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
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Tollgate".to_owned() } else { format!("{page} · Tollgate") }/>
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <layout::Header/>
            <main id="main">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::ApisPage/>
                    <Route path=path!("/apis") view=pages::ApisPage/>
                    <Route path=path!("/apis/new") view=pages::ApiEditPage/>
                    <Route path=path!("/apis/:namespace/:name") view=pages::ApiDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/apis/:namespace/:name/edit") view=pages::ApiEditPage/>
                    <Route path=path!("/yaml/:kind/:namespace/:name") view=pages::YamlEditPage/>
                    <Route path=path!("/changes") view=pages::ChangesPage/>
                    <Route path=path!("/changes/new") view=pages::ChangeBasketPage/>
                    <Route path=path!("/changes/:id") view=pages::ChangePage ssr=SsrMode::Async/>
                    <Route path=path!("/oas/new") view=pages::OasEditPage/>
                    <Route path=path!("/oas/:namespace/:name") view=pages::OasDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/oas/:namespace/:name/edit") view=pages::OasEditPage/>
                    <Route path=path!("/policies") view=pages::PoliciesPage/>
                    <Route path=path!("/policies/new") view=pages::PolicyEditPage/>
                    <Route path=path!("/policies/:namespace/:name") view=pages::PolicyDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/policies/:namespace/:name/edit") view=pages::PolicyEditPage/>
                    <Route path=path!("/problems") view=pages::ProblemsPage/>
                    <Route path=path!("/insights") view=pages::InsightsPage ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=pages::StatusPage/>
                    <Route path=path!("/activity") view=pages::ActivityPage/>
                    <Route path=path!("/login") view=pages::LoginPage/>
                    <Route path=path!("/settings/tokens") view=pages::TokensPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the wasm bundle.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
