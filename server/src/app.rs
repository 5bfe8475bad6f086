//! Building the application from its configuration, in one place, and running it.

use crate::catalog::Catalog;
use crate::changes::{ChangeService, ChangeSettings, PathTemplates};
use crate::config::Config;
use crate::db::Db;
use crate::repo::{ConfigRepo, IndexOptions};
use anyhow::Context as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The services every handler and worker shares.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub catalog: Arc<Catalog>,
    pub changes: ChangeService,
    pub status: Arc<crate::status::StatusService>,
    /// Set when the server stops, so long-lived responses (event streams) end.
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl App {
    /// Connects the database (running migrations) and opens the config repo.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        let db = Db::connect(&config.database.url, config.database.max_connections).await?;
        db.migrate().await?;
        let repo = ConfigRepo::open(&config.repo.path).context(
            "repo.path: set it to a local git repository (or run `tollgate demo` for an example repo)",
        )?;
        let options = IndexOptions {
            max_file_bytes: config.repo.max_file_bytes,
            default_namespace: config.repo.default_namespace.clone(),
        };
        let schemas = Arc::new(crate::resources::SchemaSources::new(load_schemas(
            &config.validation.crd_files,
        )?));
        let catalog = Arc::new(
            Catalog::new(repo.clone(), config.repo.branch.clone(), options.clone())
                .with_schemas(Arc::clone(&schemas)),
        );
        let settings = ChangeSettings {
            schemas: Arc::clone(&schemas),
            approvals_required: config.changes.approvals_required,
            templates: PathTemplates {
                api: config.changes.api_path.clone(),
                policy: config.changes.policy_path.clone(),
                oas: config.changes.oas_path.clone(),
            },
            public_url: config.server.public_url.clone(),
        };
        let changes = ChangeService::new(
            db.clone(),
            repo.clone(),
            Arc::clone(&catalog),
            config.repo.branch.clone(),
            options.clone(),
            settings,
        );
        let status =
            crate::status::StatusService::start(&config, repo, Arc::clone(&catalog), options)
                .await?;
        // Changes land on the repo branch: check them against the CRDs of the clusters that
        // follow it.
        for cluster in status.clusters() {
            let Some(env) = config.environments.get(&cluster.config.environment) else {
                continue;
            };
            if env.branch.is_empty() || env.branch == config.repo.branch {
                schemas.add_cluster(&cluster.config.name, &env.path, cluster.schema_slot());
            }
        }
        Ok(Arc::new(Self {
            config,
            db,
            catalog,
            changes,
            status,
            stopping: tokio::sync::watch::channel(false).0,
        }))
    }

    /// Watches the branch: indexes it now, then whenever its head moves.
    pub fn spawn_workers(self: &Arc<Self>) {
        let catalog = Arc::clone(&self.catalog);
        let every = Duration::from_secs(self.config.repo.poll_interval_secs);
        tokio::spawn(async move {
            let mut last_error: Option<String> = None;
            loop {
                let c = Arc::clone(&catalog);
                match tokio::task::spawn_blocking(move || c.refresh()).await {
                    Ok(Ok(_)) => last_error = None,
                    Ok(Err(e)) => {
                        let message = e.to_string();
                        if last_error.as_deref() != Some(message.as_str()) {
                            tracing::warn!(error = %message, "cannot index the config repo");
                        }
                        last_error = Some(message);
                    }
                    Err(e) => tracing::error!(error = %e, "indexer task failed"),
                }
                tokio::time::sleep(every).await;
            }
        });
        let sessions = self.db.session_store();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "cannot delete expired sessions");
                }
            }
        });
    }
}

/// Reads the configured CRD files; a missing or broken file stops the start with its name.
fn load_schemas(files: &[std::path::PathBuf]) -> anyhow::Result<crate::resources::CrdSchemas> {
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("validation.crd_files: cannot read {}", file.display()))?;
        documents.extend(
            crate::yaml::parse_trusted(&text)
                .map_err(|e| anyhow::anyhow!("validation.crd_files: {}: {e}", file.display()))?,
        );
    }
    let schemas = crate::resources::CrdSchemas::from_documents(&documents)
        .map_err(|e| anyhow::anyhow!("validation.crd_files: {e}"))?;
    if !files.is_empty() {
        tracing::info!(kinds = ?schemas.kinds(), "loaded CRD schemas");
    }
    Ok(schemas)
}

/// A running server: where it listens, and how to stop it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub app: Arc<App>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) -> std::io::Result<()> {
        self.app.stopping.send_replace(true);
        let _ = self.shutdown.send(());
        self.task.await.unwrap_or(Ok(()))
    }
}

/// Builds the app, binds (`server.bind`, port 0 allowed) and serves in the background.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.server.bind)
        .await
        .with_context(|| format!("server.bind: cannot listen on {}", config.server.bind))?;
    let addr = listener.local_addr()?;
    let app = App::build(config).await?;
    app.spawn_workers();
    let router = crate::web::router(Arc::clone(&app), addr);
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    // Event streams write small frames: send each at once rather than wait for an ACK (Nagle).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        app,
        shutdown,
        task,
    })
}
