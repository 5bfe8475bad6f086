//! Building the application from its configuration, in one place, and running it.

use crate::catalog::Catalog;
use crate::changes::{ChangeService, ChangeSettings, PathTemplates};
use crate::config::Config;
use crate::db::Db;
use crate::hosts::{Host, HostKind, local::LocalHost};
use crate::repo::{ConfigRepo, IndexOptions};
use anyhow::Context as _;
use std::sync::Arc;
use std::time::Duration;

/// The services every handler and worker shares.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub catalog: Arc<Catalog>,
    pub changes: ChangeService,
    /// The users' own Git-host tokens (acting as them on the host).
    pub host_tokens: Arc<crate::auth::host_tokens::HostTokens>,
    pub status: Arc<crate::status::StatusService>,
    /// The history index of the branch (resource history, versions, restore).
    pub history: Arc<crate::history::HistoryService>,
    /// What the status engine observed over time (rollouts, drift, failures, outages).
    pub timeline: Arc<crate::timeline::TimelineService>,
    /// Set when the server stops, so long-lived responses (event streams) end.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Background work (indexing, session clean-up); ends with [`App::stop`].
    workers: crate::tasks::Tasks,
}

impl App {
    /// Connects the database (running migrations) and opens the config repo.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        let db = Db::connect(&config.database.url, config.database.max_connections).await?;
        db.migrate().await?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let remote = match config.host.kind {
            HostKind::Local => None,
            _ => Some(crate::hosts::remote(&config.host)?),
        };
        if let Some(host) = &remote {
            // Fail now, with the host's reason, rather than at the first proposal. A host that
            // does not answer is no reason to stay down when an earlier run left a mirror of
            // the branch: Tollgate serves that (the pages say the host is unreachable) and
            // catches up when the host is back. A refusal (token, permission, repo) still stops
            // the start: waiting would not mend it.
            let stale_mirror = || {
                ConfigRepo::open(&config.repo.path)
                    .and_then(|repo| repo.head_of(&config.repo.branch))
                    .is_ok()
            };
            match host.check().await {
                Ok(()) => {}
                Err(e) if e.kind == crate::hosts::HostErrorKind::Unavailable && stale_mirror() => {
                    tracing::warn!(
                        error = %e,
                        "the Git host does not answer: starting from the mirror it last gave; proposals wait until it is back"
                    );
                }
                Err(e) => {
                    return Err(anyhow::anyhow!(
                        "host: {} ({}, repo {}): {e}",
                        config.host.kind.as_str(),
                        crate::config::redact_url(&config.host.api_url),
                        config.host.repo
                    ));
                }
            }
            crate::repo::ensure_bare(&config.repo.path)
                .context("repo.path: cannot create the mirror of the Git host")?;
        }
        let repo = ConfigRepo::open(&config.repo.path).context(
            "repo.path: set it to a local git repository (or run `tollgate demo` for an example repo)",
        )?;
        if repo.is_checked_out(&config.repo.branch) {
            tracing::warn!(
                path = %config.repo.path.display(),
                branch = %config.repo.branch,
                "the branch is checked out in this repository's work tree: Tollgate proposes changes but never merges into a checked-out branch (as git's receive.denyCurrentBranch); point repo.path at a bare repository (git clone --bare) to merge"
            );
        }
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
            ownership: config.ownership.clone(),
        };
        let host_tokens = Arc::new(crate::auth::host_tokens::HostTokens::new(
            &config,
            db.clone(),
        )?);
        let status = crate::status::StatusService::start(
            &config,
            repo.clone(),
            Arc::clone(&catalog),
            options.clone(),
        )
        .await?;
        let host: Arc<dyn Host> = match remote {
            Some(host) => host,
            None => Arc::new(LocalHost::new(
                repo.clone(),
                config.repo.branch.clone(),
                config.server.public_url.clone(),
            )),
        };
        let history = Arc::new(crate::history::HistoryService::new(
            db.clone(),
            repo.clone(),
            config.repo.branch.clone(),
            options.clone(),
            crate::history::HostLinks::from_config(&config),
        ));
        let changes = ChangeService::new(
            db.clone(),
            repo,
            Arc::clone(&catalog),
            config.repo.branch.clone(),
            options,
            settings,
            Arc::clone(&status),
            host,
            config.host.repo.clone(),
            Arc::clone(&host_tokens),
        );
        if changes.host().follows() {
            // The first fetch: the pages need the branch. A mirror fetched before keeps the
            // server usable while the host is down.
            if let Err(e) = changes.sync_mirror().await {
                let Ok(head) = crate::repo::ConfigRepo::open(&config.repo.path)
                    .and_then(|r| r.head_of(&config.repo.branch))
                else {
                    anyhow::bail!("host: cannot fetch {}: {e}", config.host.clone_url());
                };
                tracing::warn!(error = %e, "cannot fetch from the Git host; serving the mirror as last fetched");
                changes.serving_stale_mirror(head.to_string());
            }
        }
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
        let timeline = Arc::new(crate::timeline::TimelineService::new(
            db.clone(),
            config.clusters.iter().map(|c| c.name.clone()).collect(),
        ));
        Ok(Arc::new(Self {
            config,
            db,
            catalog,
            changes,
            host_tokens,
            status,
            history,
            timeline,
            stopping: tokio::sync::watch::channel(false).0,
            workers: crate::tasks::Tasks::default(),
        }))
    }

    /// Watches the branch: indexes it now, then whenever its head moves.
    pub fn spawn_workers(self: &Arc<Self>) {
        let catalog = Arc::clone(&self.catalog);
        let every = Duration::from_secs(self.config.repo.poll_interval_secs);
        self.workers.spawn(async move {
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
        if self.changes.host().follows() {
            let app = Arc::clone(self);
            let every = Duration::from_secs(self.config.host.poll_interval_secs);
            self.workers
                .spawn(async move { app.changes.follow(every).await });
        }
        let history = Arc::clone(&self.history);
        let every = Duration::from_secs(self.config.repo.poll_interval_secs);
        self.workers
            .spawn(async move { crate::history::run(history, every).await });
        if self.status.has_clusters() {
            let (timeline, status) = (Arc::clone(&self.timeline), Arc::clone(&self.status));
            self.workers
                .spawn(async move { timeline.record(status).await });
            let (db, status) = (self.db.clone(), Arc::clone(&self.status));
            self.workers
                .spawn(async move { crate::insights::recorder::run(db, status).await });
        }
        let sessions = self.db.session_store();
        self.workers.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "cannot delete expired sessions");
                }
            }
        });
    }
}

impl App {
    /// Stops every background task (workers, cluster watches, the status engine) and waits
    /// for them to end.
    pub async fn stop(&self) {
        self.stopping.send_replace(true);
        self.workers.stop().await;
        self.status.stop().await;
        self.db.close().await;
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
