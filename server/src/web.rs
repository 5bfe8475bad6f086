//! HTTP: the REST API, the server-rendered pages, sign-in, static assets, health.
//! Handlers stay thin: extract, call one service function, map the result.

pub mod access;
mod api;
pub mod assets;
mod audit;
mod changes;
mod error;
mod guard;
mod history;
mod insights;
mod login;
mod openapi;
pub mod session;
mod status;
mod timeline;
mod tokens;

pub use error::WebError;

use crate::app::App;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::{any, delete, get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_sessions::{Expiry, SessionManagerLayer};

/// What handlers get: the app and the leptos options.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub leptos: LeptosOptions,
    /// The login providers.
    pub login: Arc<crate::auth::oidc::Providers>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Serves the catalog to the leptos pages during server rendering.
struct PageBackend(Arc<App>);

impl frontend::Backend for PageBackend {
    fn tokens(
        &self,
        owner: Option<String>,
    ) -> frontend::BoxFuture<Result<Vec<frontend::api::TokenView>, frontend::api::ApiError>> {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            let rows = crate::auth::tokens::list(&app.db, owner.as_deref())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot list tokens");
                    frontend::api::ApiError::new("database", "the tokens cannot be read now")
                })?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
    }

    fn history(
        &self,
        kind: String,
        namespace: String,
        name: String,
        page: usize,
    ) -> frontend::BoxFuture<Result<frontend::api::history::HistoryPage, frontend::api::ApiError>>
    {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            app.history
                .page(&kind, &namespace, &name, Some(page), None)
                .await
                .map_err(Into::into)
        })
    }
    fn activity(
        &self,
        query: frontend::api::timeline::ActivityQuery,
    ) -> frontend::BoxFuture<Result<frontend::api::timeline::ActivityPage, frontend::api::ApiError>>
    {
        let app = Arc::clone(&self.0);
        Box::pin(async move { app.timeline.activity(&query).await.map_err(Into::into) })
    }
    fn list(
        &self,
        query: &frontend::api::ResourceQuery,
    ) -> Result<frontend::api::ResourceList, frontend::api::ApiError> {
        let mut list = self.0.catalog.list(query)?;
        self.0.status.annotate(&mut list.items);
        Ok(list)
    }
    fn detail(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<frontend::api::ResourceDetail, frontend::api::ApiError> {
        self.0
            .catalog
            .detail(kind, namespace, name)
            .map_err(Into::into)
    }
    fn problems(&self) -> Result<frontend::api::ProblemList, frontend::api::ApiError> {
        self.0.catalog.problems().map_err(Into::into)
    }
    fn validation_context(
        &self,
    ) -> Result<frontend::validate::Environment, frontend::api::ApiError> {
        Ok(self.0.catalog.validation_context()?)
    }
    fn status(&self) -> frontend::api::RepoStatus {
        let mut status = self.0.catalog.status();
        status.host = self.0.changes.host_health();
        status
    }
    fn sync_status(
        &self,
        query: &frontend::api::StatusQuery,
    ) -> frontend::BoxFuture<frontend::api::StatusReport> {
        let app = Arc::clone(&self.0);
        let mut report = app.status.query(query);
        Box::pin(async move {
            app.changes.name_rollouts(&mut report).await;
            report
        })
    }
    fn changes(
        &self,
        state: Option<String>,
        reviewer: Option<String>,
    ) -> frontend::BoxFuture<Result<Vec<frontend::api::ChangeSummary>, frontend::api::ApiError>>
    {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            app.changes
                .list(state.as_deref(), reviewer.as_deref())
                .await
                .map_err(Into::into)
        })
    }
    fn change(
        &self,
        id: i64,
    ) -> frontend::BoxFuture<Result<frontend::api::ChangeView, frontend::api::ApiError>> {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            let mut view = app.changes.view(id).await?;
            crate::auth::guard::annotate(&app, &mut view).await?;
            Ok(view)
        })
    }
    fn insights(
        &self,
        query: frontend::api::insights::InsightsQuery,
    ) -> frontend::BoxFuture<Result<frontend::api::insights::InsightsReport, frontend::api::ApiError>>
    {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            crate::insights::query(&app.db, app.status.has_clusters(), &query)
                .await
                .map_err(Into::into)
        })
    }
    fn resource_changes(
        &self,
        kind: String,
        namespace: String,
        name: String,
    ) -> frontend::BoxFuture<Result<Vec<frontend::api::ChangeSummary>, frontend::api::ApiError>>
    {
        let app = Arc::clone(&self.0);
        Box::pin(async move {
            app.changes
                .for_resource(&kind, &namespace, &name)
                .await
                .map_err(Into::into)
        })
    }
}

/// The pages of the app, as routes. Listing them renders the app once, and leptos keeps tasks
/// from that render alive: done once per process, so a restarted server in the same process
/// leaves nothing behind.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| generate_route_list(frontend::App))
        .clone()
}

/// The paths of every page route, as the router spells them (for the route × role test).
pub fn page_paths() -> Vec<String> {
    page_routes().iter().map(|r| r.path().to_owned()).collect()
}

/// The whole router.
pub fn router(app: Arc<App>, addr: std::net::SocketAddr) -> Router {
    let names = assets::AssetNames::current();
    frontend::set_stylesheet(&names.stylesheet);
    frontend::set_editor_script(&names.editor);
    let leptos = LeptosOptions::builder()
        .output_name("frontend")
        .site_pkg_dir(names.pkg_dir.as_str())
        .site_addr(addr)
        .build();
    let public_url = if app.config.server.public_url.is_empty() {
        format!("http://{addr}")
    } else {
        app.config.server.public_url.clone()
    };
    let login = crate::auth::oidc::Providers::new(&app.config.auth, &public_url)
        .or_else(|e| {
            tracing::error!(error = %e, "login providers are off");
            crate::auth::oidc::Providers::new(&crate::config::Config::default().auth, &public_url)
        })
        .map(Arc::new);
    let login = match login {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for login providers");
            return Router::new();
        }
    };
    let state = AppState {
        app: Arc::clone(&app),
        leptos: leptos.clone(),
        login,
    };
    let routes = page_routes();
    let backend: frontend::BackendRef =
        frontend::BackendRef(Arc::new(PageBackend(Arc::clone(&app))));

    let sessions = SessionManagerLayer::new(app.db.session_store())
        .with_name("tollgate_session")
        .with_secure(app.config.auth.secure_cookies)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_http_only(true)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(i64::from(
            app.config.auth.session_hours,
        ))));

    let mut auth = Router::new()
        .route("/auth/logout", post(session::post_logout))
        .route("/auth/{provider}/login", get(login::get_provider_login))
        .route(
            "/auth/{provider}/callback",
            get(login::get_provider_callback),
        );
    if app.config.auth.demo {
        auth = auth.route("/auth/demo", post(session::post_demo_sign_in));
    }

    let pages_state = state.clone();
    let split = assets::split_manifest().map(|manifest| {
        leptos::WasmSplitManifest(leptos::prelude::ArcStoredValue::new((
            format!("/{}", names.pkg_dir),
            manifest,
            "__wasm_split.js".to_owned(),
        )))
    });
    Router::new()
        .route("/healthz", get(api::get_healthz))
        .route("/readyz", get(api::get_readyz))
        .route("/api/openapi.json", get(openapi::get_openapi))
        .route("/api/v1/resources", get(api::list_resources))
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}",
            get(api::get_resource),
        )
        .route("/api/v1/problems", get(api::list_problems))
        .route(
            "/api/v1/validation-context",
            get(api::get_validation_context),
        )
        .route("/api/v1/repo", get(api::get_repo_status))
        .route("/api/v1/session", get(api::get_session))
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}/changes",
            get(changes::resource_changes),
        )
        .route("/api/v1/status", get(status::get_status))
        .route("/api/v1/status/events", get(status::status_events))
        .route("/api/v1/status/adopt", post(status::adopt_drift))
        .route("/metrics", get(status::get_metrics))
        .route(
            "/api/v1/changes",
            get(changes::list_changes).post(changes::create_change),
        )
        .route("/api/v1/changes/preview", post(changes::preview_change))
        .route(
            "/api/v1/changes/{id}",
            get(changes::get_change).delete(changes::discard_change),
        )
        .route(
            "/api/v1/changes/{id}/description",
            get(changes::get_change_description),
        )
        .route(
            "/api/v1/changes/{id}/approve",
            post(changes::approve_change),
        )
        .route("/api/v1/changes/{id}/merge", post(changes::merge_change))
        .route("/api/v1/changes/{id}/events", get(changes::change_events))
        .route("/api/v1/hooks/{provider}", post(changes::post_hook))
        .route("/api/v1/changes/{id}/close", post(changes::close_change))
        .route("/api/v1/changes/{id}/rebase", post(changes::rebase_change))
        .route(
            "/api/v1/changes/{id}/comments",
            post(changes::comment_change),
        )
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}/history",
            get(history::get_history),
        )
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}/at/{commit}",
            get(history::get_resource_at),
        )
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}/restore",
            post(history::restore),
        )
        .route("/api/v1/history/status", get(history::get_history_status))
        .route("/api/v1/insights", get(insights::get_insights))
        .route(
            "/api/v1/resources/{kind}/{namespace}/{name}/live",
            get(timeline::get_live),
        )
        .route("/api/v1/activity", get(timeline::list_activity))
        .route("/api/v1/activity/events", get(timeline::activity_events))
        .route(
            "/api/v1/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/api/v1/tokens/{id}", delete(tokens::revoke_token))
        .route("/api/v1/audit", get(audit::list_audit))
        .route("/audit", get(audit::audit_page))
        .route("/api/v1/{*rest}", any(api::not_found))
        .route("/api/{*rest}", any(api::not_found))
        .merge(auth)
        .route("/pkg/{*path}", get(assets::get_pkg))
        .route("/assets/{*path}", get(assets::get_asset))
        .route("/favicon.ico", get(assets::get_favicon))
        .leptos_routes_with_context(
            &pages_state,
            routes,
            move || {
                provide_context(backend.clone());
                // Lazy pages rendered here get preload links for the parts of the bundle
                // they need, so the browser fetches those beside the main module.
                if let Some(split) = &split {
                    provide_context(split.clone());
                }
                // The page's inline scripts carry this nonce; nothing else may run.
                if let (Some(nonce), Some(response)) = (
                    leptos::nonce::use_nonce(),
                    use_context::<leptos_axum::ResponseOptions>(),
                ) && let Ok(policy) =
                    axum::http::HeaderValue::from_str(&guard::page_policy(nonce.as_inner()))
                {
                    response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
                }
            },
            {
                let leptos = leptos.clone();
                move || frontend::shell(leptos.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            frontend::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::identify,
        ))
        .layer(sessions)
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(guard::json_errors))
        .layer(axum::middleware::from_fn(guard::same_origin_writes))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(app.config.server.body_timeout_secs.max(1)),
        ))
        .layer(axum::middleware::from_fn(guard::secure_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(guard::observe))
        .with_state(state)
}
