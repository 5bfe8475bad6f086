//! The status read model: for every API and policy in every cluster, the sync state computed by
//! the sync engine from the index (desired at the head and at the applied revision) and the
//! cluster watches (live). Recomputed when a watch reports a change or the branch moves; readers
//! get the last complete report, and subscribers hear about each new version.

use crate::catalog::Catalog;
use crate::clusters::Cluster;
use crate::config::{AgentKind, Config, EnvironmentConfig};
use crate::repo::{ConfigRepo, IndexOptions, RepoIndex};
use crate::resources::{Kind, ResourceKey};
use crate::sync::{self, Inputs, SyncState};
use frontend::api::{
    ClusterInfo, DriftView, StateCount, StatusCell, StatusQuery, StatusReport, StatusRow,
};
use gix::ObjectId;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// Documents by key.
type Documents = HashMap<ResourceKey, Value>;

/// Watches every configured cluster and keeps the report current.
pub struct StatusService {
    repo: ConfigRepo,
    catalog: Arc<Catalog>,
    branch: String,
    options: IndexOptions,
    environments: BTreeMap<String, EnvironmentConfig>,
    clusters: Vec<Cluster>,
    report: RwLock<Arc<StatusReport>>,
    version: AtomicU64,
    tx: broadcast::Sender<u64>,
    /// Indexes at other commits (applied revisions, other branches), by commit.
    indexes: Mutex<HashMap<ObjectId, Arc<RepoIndex>>>,
    /// Desired documents per commit and environment path, shared by the clusters that follow it.
    desired: Mutex<HashMap<(ObjectId, String), Arc<Documents>>>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_matches('/');
    prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
}

impl StatusService {
    /// Starts a watch per cluster and the recompute loop. A cluster whose kubeconfig cannot be
    /// read stops the start with its name.
    pub async fn start(
        config: &Config,
        repo: ConfigRepo,
        catalog: Arc<Catalog>,
        options: IndexOptions,
    ) -> anyhow::Result<Arc<Self>> {
        let changed = Arc::new(Notify::new());
        let mut clusters = Vec::new();
        for c in &config.clusters {
            clusters.push(Cluster::start(c.clone(), Arc::clone(&changed)).await?);
        }
        let (tx, _) = broadcast::channel(64);
        let service = Arc::new(Self {
            repo,
            catalog,
            branch: config.repo.branch.clone(),
            options,
            environments: config.environments.clone(),
            clusters,
            report: RwLock::new(Arc::new(StatusReport::default())),
            version: AtomicU64::new(0),
            tx,
            indexes: Mutex::new(HashMap::new()),
            desired: Mutex::new(HashMap::new()),
        });
        let this = Arc::clone(&service);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = changed.notified() => tokio::time::sleep(Duration::from_millis(20)).await,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                let s = Arc::clone(&this);
                match tokio::task::spawn_blocking(move || s.compute()).await {
                    Ok(report) => this.publish(report),
                    Err(e) => tracing::error!(error = %e, "status recompute failed"),
                }
            }
        });
        Ok(service)
    }

    pub fn has_clusters(&self) -> bool {
        !self.clusters.is_empty()
    }

    /// Version announcements for live pages.
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.tx.subscribe()
    }

    fn publish(&self, mut report: StatusReport) {
        let current = self.current();
        if current.rows == report.rows && current.clusters == report.clusters {
            return;
        }
        report.version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        let version = report.version;
        *self
            .report
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(report);
        let _ = self.tx.send(version);
    }

    pub fn current(&self) -> Arc<StatusReport> {
        self.report
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_default()
    }

    /// The report, filtered.
    pub fn query(&self, q: &StatusQuery) -> StatusReport {
        let report = self.current();
        let cluster = q.cluster.as_deref().filter(|c| !c.is_empty());
        let state = q.state.as_deref().filter(|s| !s.is_empty());
        let namespace = q.namespace.as_deref().filter(|n| !n.is_empty());
        let rows = report
            .rows
            .iter()
            .filter(|r| namespace.is_none_or(|n| n == r.namespace))
            .map(|r| StatusRow {
                cells: r
                    .cells
                    .iter()
                    .filter(|c| cluster.is_none_or(|n| n == c.cluster))
                    .cloned()
                    .collect(),
                ..r.clone()
            })
            .filter(|r| state.is_none_or(|s| r.cells.iter().any(|c| c.state == s)))
            .collect::<Vec<_>>();
        StatusReport {
            clusters: report
                .clusters
                .iter()
                .filter(|c| cluster.is_none_or(|n| n == c.name))
                .cloned()
                .collect(),
            counts: counts(&rows),
            rows,
            version: report.version,
            generated_at: report.generated_at.clone(),
        }
    }

    fn index_at(&self, commit: ObjectId) -> Option<Arc<RepoIndex>> {
        let snapshot = self.catalog.snapshot();
        if let Some(s) = snapshot
            .as_ref()
            .filter(|s| s.index.commit() == Some(commit))
        {
            return Some(Arc::clone(&s.index));
        }
        let mut cache = self
            .indexes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = cache.get(&commit) {
            return Some(Arc::clone(i));
        }
        let built = RepoIndex::build(
            &self.repo,
            commit,
            snapshot.as_ref().map(|s| s.index.as_ref()),
            &self.options,
        )
        .ok()?;
        if cache.len() > 16 {
            cache.clear();
        }
        let built = Arc::new(built);
        cache.insert(commit, Arc::clone(&built));
        Some(built)
    }

    /// Documents at `commit` under an environment's path, as JSON; cached per commit.
    fn desired_at(
        &self,
        commit: ObjectId,
        env: &EnvironmentConfig,
    ) -> Option<Arc<HashMap<ResourceKey, Value>>> {
        let key = (commit, env.path.clone());
        if let Some(d) = self
            .desired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Some(Arc::clone(d));
        }
        let index = self.index_at(commit)?;
        let docs = Arc::new(Self::desired(&index, env));
        let mut cache = self
            .desired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 8 {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&docs));
        Some(docs)
    }

    /// Documents of an index under an environment's path, as JSON.
    fn desired(index: &RepoIndex, env: &EnvironmentConfig) -> HashMap<ResourceKey, Value> {
        index
            .resources()
            .filter(|r| {
                matches!(
                    r.key.kind,
                    Kind::ApiDefinition | Kind::SecurityPolicy | Kind::TykOasApiDefinition
                )
            })
            .filter(|r| under(&r.path, &env.path))
            .filter_map(|r| r.resource.to_value().ok().map(|v| ((*r.key).clone(), v)))
            .collect()
    }

    /// Computes the whole report. Blocking (may index other commits).
    pub fn compute(&self) -> StatusReport {
        let previous = self.current();
        let mut rows: BTreeMap<ResourceKey, Vec<StatusCell>> = BTreeMap::new();
        let mut infos = Vec::new();
        for cluster in &self.clusters {
            let config = &cluster.config;
            let Some(env) = self.environments.get(&config.environment) else {
                continue;
            };
            let health = cluster.health();
            let branch = if env.branch.is_empty() {
                self.branch.as_str()
            } else {
                env.branch.as_str()
            };
            let head_commit = self.repo.head_of(branch).ok();
            let head = head_commit
                .and_then(|c| self.desired_at(c, env))
                .unwrap_or_default();
            let agent = cluster.agent();
            let applied_commit = agent.as_ref().and_then(sync::applied_commit);
            let applied = match (config.agent.kind, &applied_commit) {
                (AgentKind::None, _) => None,
                (_, Some(sha)) => ObjectId::from_hex(sha.as_bytes())
                    .ok()
                    .and_then(|c| self.desired_at(c, env)),
                (_, None) => None,
            };
            let live = cluster.live();
            let mut keys: Vec<&ResourceKey> = head.keys().chain(live.keys()).collect();
            if let Some(a) = &applied {
                keys.extend(a.keys());
            }
            keys.sort();
            keys.dedup();
            for key in keys {
                let inputs = Inputs {
                    kind: key.kind,
                    head: head.get(key),
                    applied: applied.as_ref().map(|a| a.get(key)),
                    live: live.get(key).map(AsRef::as_ref),
                    reachable: health.reachable,
                };
                let status = sync::status(inputs);
                let last_known = (status.state == SyncState::Unknown)
                    .then(|| {
                        previous
                            .rows
                            .iter()
                            .find(|r| {
                                r.kind == key.kind.as_str()
                                    && r.namespace == key.namespace
                                    && r.name == key.name
                            })
                            .and_then(|r| r.cells.iter().find(|c| c.cluster == config.name))
                            .map(|c| {
                                if c.state == "unknown" {
                                    c.last_known.clone()
                                } else {
                                    Some(c.state.clone())
                                }
                            })
                    })
                    .flatten()
                    .flatten();
                rows.entry(key.clone()).or_default().push(StatusCell {
                    cluster: config.name.clone(),
                    state: status.state.as_str().into(),
                    drift: status
                        .drift
                        .into_iter()
                        .map(|d| DriftView {
                            path: d.path,
                            desired: d.desired,
                            live: d.live,
                            manager: d.owner.as_ref().map(|o| o.manager.clone()),
                            operation: d.owner.as_ref().map(|o| o.operation.clone()),
                            time: d.owner.as_ref().and_then(|o| o.time.clone()),
                            actor: d
                                .owner
                                .as_ref()
                                .map(|o| format!("{:?}", o.actor).to_lowercase()),
                        })
                        .collect(),
                    error: status.error,
                    last_known,
                    last_seen: health.last_seen.clone(),
                });
            }
            infos.push(ClusterInfo {
                name: config.name.clone(),
                environment: config.environment.clone(),
                reachable: health.reachable,
                last_seen: health.last_seen,
                error: health.error,
                agent: format!("{:?}", config.agent.kind).to_lowercase(),
                applied_revision: applied_commit,
                head_revision: head_commit.map(|c| c.to_string()),
            });
        }
        let rows: Vec<StatusRow> = rows
            .into_iter()
            .map(|(key, cells)| StatusRow {
                kind: key.kind.as_str().into(),
                namespace: key.namespace,
                name: key.name,
                cells,
            })
            .collect();
        StatusReport {
            clusters: infos,
            counts: counts(&rows),
            rows,
            version: previous.version,
            generated_at: now(),
        }
    }

    /// Turns a drifted resource's live values into a change request, with who changed what in
    /// its description.
    pub async fn adopt(
        &self,
        changes: &crate::changes::ChangeService,
        user: &str,
        req: frontend::api::AdoptRequest,
    ) -> Result<frontend::api::CreatedChange, frontend::api::ApiError> {
        let not_drifted = || {
            frontend::api::ApiError::new(
                "not_drifted",
                format!(
                    "{}/{}/{} is not drifted in {}",
                    req.kind, req.namespace, req.name, req.cluster
                ),
            )
        };
        let kind = Kind::parse(&req.kind).ok_or_else(|| {
            frontend::api::ApiError::new("unknown_kind", format!("unknown kind `{}`", req.kind))
        })?;
        let report = self.current();
        let cell = report
            .rows
            .iter()
            .find(|r| r.kind == kind.as_str() && r.namespace == req.namespace && r.name == req.name)
            .and_then(|r| r.cells.iter().find(|c| c.cluster == req.cluster))
            .filter(|c| c.state == "drifted")
            .ok_or_else(not_drifted)?;
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.config.name == req.cluster)
            .ok_or_else(not_drifted)?;
        let key = ResourceKey::new(kind, &req.namespace, &req.name);
        let live = cluster.live().remove(&key).ok_or_else(not_drifted)?;
        let live = live.as_ref();
        let desired = self
            .catalog
            .snapshot()
            .and_then(|s| s.index.get(&key).and_then(|r| r.resource.to_value().ok()))
            .ok_or_else(|| {
                frontend::api::ApiError::new(
                    "not_found",
                    format!("{key} is not in the config repo"),
                )
            })?;
        let paths: Vec<String> = cell.drift.iter().map(|d| d.path.clone()).collect();
        let patch = sync::adopt_patch(&desired, live, &paths);
        let mut description = format!(
            "Adopts into Git what runs in cluster `{}`:\n\n| Field | Git | Cluster | Changed by |\n| --- | --- | --- | --- |\n",
            req.cluster
        );
        for d in &cell.drift {
            let show = |v: &Option<Value>| {
                v.as_ref()
                    .map_or_else(|| "(absent)".to_owned(), ToString::to_string)
            };
            let who = match (&d.manager, &d.time) {
                (Some(m), Some(t)) => {
                    format!("{m} ({}) at {t}", d.operation.clone().unwrap_or_default())
                }
                (Some(m), None) => m.clone(),
                _ => "unknown".into(),
            };
            description.push_str(&format!(
                "| `{}` | `{}` | `{}` | {} |\n",
                d.path,
                show(&d.desired),
                show(&d.live),
                who
            ));
        }
        let request = frontend::api::CreateChangeRequest {
            title: format!(
                "Adopt drift of {}/{} from {}",
                req.namespace, req.name, req.cluster
            ),
            description,
            edits: vec![frontend::api::EditRequest {
                kind: kind.as_str().into(),
                namespace: req.namespace.clone(),
                name: req.name.clone(),
                document: None,
                merge_patch: Some(patch),
                yaml: None,
                delete: false,
            }],
        };
        changes
            .create(user, request, None)
            .await
            .map(|(_, created)| created)
    }

    /// Prometheus text exposition: resources per cluster and state, and reachability.
    pub fn metrics(&self) -> String {
        let report = self.current();
        let mut out = String::from(
            "# HELP tollgate_resources Resources per cluster and sync state.\n# TYPE tollgate_resources gauge\n",
        );
        for cluster in &report.clusters {
            for state in SyncState::ALL {
                let n = report
                    .rows
                    .iter()
                    .flat_map(|r| &r.cells)
                    .filter(|c| c.cluster == cluster.name && c.state == state.as_str())
                    .count();
                out.push_str(&format!(
                    "tollgate_resources{{cluster=\"{}\",state=\"{}\"}} {n}\n",
                    cluster.name,
                    state.as_str()
                ));
            }
        }
        out.push_str("# HELP tollgate_cluster_reachable Whether the cluster's watches are healthy.\n# TYPE tollgate_cluster_reachable gauge\n");
        for cluster in &report.clusters {
            out.push_str(&format!(
                "tollgate_cluster_reachable{{cluster=\"{}\"}} {}\n",
                cluster.name,
                u8::from(cluster.reachable)
            ));
        }
        out
    }
}

fn counts(rows: &[StatusRow]) -> Vec<StateCount> {
    SyncState::ALL
        .iter()
        .map(|s| StateCount {
            state: s.as_str().into(),
            count: rows
                .iter()
                .flat_map(|r| &r.cells)
                .filter(|c| c.state == s.as_str())
                .count(),
        })
        .collect()
}
