//! The status read model: for every API and policy in every cluster, the sync state computed by
//! the sync engine from the index (desired at the head and at the applied revision) and the
//! cluster watches (live). An [`engine::Engine`] owned by one task keeps the board current: a
//! watch event recomputes one cell, a moved head or applied revision the cells it touches.
//! Readers get the last published board; subscribers hear about each new version.

mod engine;

pub use engine::{Board, ClusterInputs, Documents, Engine, LiveObjects};

use crate::catalog::Catalog;
use crate::clusters::{Cluster, ClusterEvent, now};
use crate::config::{AgentKind, Config, EnvironmentConfig};
use crate::repo::{ConfigRepo, IndexOptions, RepoIndex};
use crate::resources::ResourceKey;
use crate::sync::{self, SyncState};
use frontend::api::{ClusterInfo, StateCount, StatusQuery, StatusReport, StatusRow};
use gix::ObjectId;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

/// How often heads, applied revisions and reachability are looked at besides watch events.
const TICK: Duration = Duration::from_millis(250);
/// Watch-event latencies kept for the metrics.
const LATENCY_WINDOW: usize = 4096;
/// Rows per page when a query does not say.
pub const DEFAULT_PER_PAGE: usize = 100;
/// The most rows one page can hold.
pub const MAX_PER_PAGE: usize = 1000;

/// Watches every configured cluster and keeps the board current.
pub struct StatusService {
    repo: ConfigRepo,
    catalog: Arc<Catalog>,
    branch: String,
    options: IndexOptions,
    environments: BTreeMap<String, EnvironmentConfig>,
    clusters: Vec<Cluster>,
    board: RwLock<Arc<Board>>,
    version: AtomicU64,
    tx: broadcast::Sender<u64>,
    rebuilds: mpsc::UnboundedSender<oneshot::Sender<Duration>>,
    /// From watch delivery to the published board, for the last events.
    latencies: Mutex<VecDeque<Duration>>,
    /// Indexes at other commits (applied revisions, other branches), by commit.
    indexes: Mutex<HashMap<ObjectId, Arc<RepoIndex>>>,
    /// Desired documents per commit and environment path, shared by the clusters that follow it.
    desired: Mutex<HashMap<(ObjectId, String), Arc<Documents>>>,
    /// Reports already serialised for the current version, by query: every open board refetches
    /// the same few queries after each event.
    answers: Mutex<(u64, HashMap<StatusQuery, axum::body::Bytes>)>,
    /// Counts every board stored (new versions and fresher last-seen times alike).
    published: AtomicU64,
    /// The engine's task and the one reading its inputs; they end with [`StatusService::stop`].
    tasks: crate::tasks::Tasks,
}

/// Distinct queries answered from memory per version.
const ANSWERS: usize = 256;

fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_matches('/');
    prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
}

impl StatusService {
    /// Starts the watches of every cluster and the task that keeps the board. A cluster whose
    /// kubeconfig cannot be read stops the start with its name.
    pub async fn start(
        config: &Config,
        repo: ConfigRepo,
        catalog: Arc<Catalog>,
        options: IndexOptions,
    ) -> anyhow::Result<Arc<Self>> {
        let (events, events_rx) = mpsc::unbounded_channel();
        let mut clusters = Vec::new();
        for (i, c) in config.clusters.iter().enumerate() {
            clusters.push(Cluster::start(i, c.clone(), events.clone()).await);
        }
        drop(events);
        let (tx, _) = broadcast::channel(64);
        let (rebuilds, rebuilds_rx) = mpsc::unbounded_channel();
        let infos: Vec<ClusterInfo> = clusters
            .iter()
            .map(|c| ClusterInfo {
                name: c.config.name.clone(),
                environment: c.config.environment.clone(),
                reachable: false,
                last_seen: None,
                error: None,
                agent: format!("{:?}", c.config.agent.kind).to_lowercase(),
                applied_revision: None,
                head_revision: None,
                counts: Vec::new(),
                missing_kinds: Vec::new(),
            })
            .collect();
        let engine = Engine::new(infos);
        let service = Arc::new(Self {
            repo,
            catalog,
            branch: config.repo.branch.clone(),
            options,
            environments: config.environments.clone(),
            clusters,
            board: RwLock::new(Arc::new(engine.snapshot(0, now()))),
            version: AtomicU64::new(0),
            tx,
            rebuilds,
            latencies: Mutex::new(VecDeque::with_capacity(LATENCY_WINDOW)),
            indexes: Mutex::new(HashMap::new()),
            desired: Mutex::new(HashMap::new()),
            answers: Mutex::new((u64::MAX, HashMap::new())),
            published: AtomicU64::new(0),
            tasks: crate::tasks::Tasks::default(),
        });
        if service.has_clusters() {
            service.spawn(Arc::clone(&service).run(engine, events_rx, rebuilds_rx));
        }
        Ok(service)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Stops watching: every cluster's tasks and the engine's end, and are waited for.
    pub async fn stop(&self) {
        for cluster in &self.clusters {
            cluster.stop().await;
        }
        self.tasks.stop().await;
    }

    /// The engine's task: applies watch events, new inputs and rebuild requests as they come,
    /// and publishes each new board. Reading the repo happens in [`StatusService::watch_inputs`],
    /// so an event never waits for disk.
    async fn run(
        self: Arc<Self>,
        mut engine: Engine,
        mut events: mpsc::UnboundedReceiver<ClusterEvent>,
        mut rebuilds: mpsc::UnboundedReceiver<oneshot::Sender<Duration>>,
    ) {
        let look = Arc::new(Notify::new());
        let (inputs_tx, mut inputs) = mpsc::unbounded_channel();
        self.spawn(Arc::clone(&self).watch_inputs(Arc::clone(&look), inputs_tx));
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut timings: Vec<Instant> = Vec::new();
        // Clusters that could not start (a missing kubeconfig) send nothing; the others' watches
        // end only when the service stops.
        let mut watching = true;
        loop {
            tokio::select! {
                event = events.recv(), if watching => {
                    let Some(event) = event else {
                        watching = false;
                        continue;
                    };
                    let mut changed = self.apply(&mut engine, event, &mut timings);
                    // Take what else is waiting, so a burst is published once.
                    while let Ok(event) = events.try_recv() {
                        changed |= self.apply(&mut engine, event, &mut timings);
                    }
                    if changed {
                        look.notify_one();
                    }
                }
                input = inputs.recv() => {
                    let Some((i, input)) = input else { return };
                    engine.set_inputs(i, input);
                }
                // Fresher last-seen times, published without a new version.
                _ = tick.tick() => {}
                reply = rebuilds.recv() => {
                    if let Some(reply) = reply {
                        let started = Instant::now();
                        engine.rebuild();
                        let _ = reply.send(started.elapsed());
                    }
                }
            }
            self.publish(&mut engine);
            if !timings.is_empty() {
                let mut latencies = self
                    .latencies
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for at in timings.drain(..) {
                    if latencies.len() == LATENCY_WINDOW {
                        latencies.pop_front();
                    }
                    latencies.push_back(at.elapsed());
                }
            }
        }
    }

    /// Looks at each cluster's branch head, agent revision and reachability every tick, and when
    /// told to; sends the engine what changed. Blocking reads run off the async threads.
    async fn watch_inputs(
        self: Arc<Self>,
        look: Arc<Notify>,
        send: mpsc::UnboundedSender<(usize, ClusterInputs)>,
    ) {
        let mut sent: Vec<Option<ClusterInputs>> = vec![None; self.clusters.len()];
        loop {
            let this = Arc::clone(&self);
            let Ok(all) = tokio::task::spawn_blocking(move || {
                (0..this.clusters.len())
                    .map(|i| this.inputs(i))
                    .collect::<Vec<_>>()
            })
            .await
            else {
                tracing::error!("reading the status inputs failed");
                return;
            };
            for (i, input) in all.into_iter().enumerate() {
                let same = sent[i].as_ref().is_some_and(|last| {
                    Arc::ptr_eq(&last.head, &input.head)
                        && match (&last.applied, &input.applied) {
                            (None, None) => true,
                            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                            _ => false,
                        }
                        && engine::hard(&last.info) == engine::hard(&input.info)
                });
                if !same {
                    sent[i] = Some(input.clone());
                    if send.send((i, input)).is_err() {
                        return;
                    }
                }
            }
            tokio::select! {
                () = look.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    /// Applies one event; `true` when the cluster's other inputs need a look.
    fn apply(&self, engine: &mut Engine, event: ClusterEvent, timings: &mut Vec<Instant>) -> bool {
        match event {
            ClusterEvent::Live {
                cluster,
                key,
                value,
                at,
            } => {
                engine.set_live(cluster, key, value);
                timings.push(at);
                false
            }
            ClusterEvent::Relisted {
                cluster,
                kind,
                objects,
            } => {
                engine.replace_live(cluster, kind, objects);
                false
            }
            ClusterEvent::Changed { .. } => true,
        }
    }

    /// Publishes the engine's board: a new version when a cell or a cluster's state changed,
    /// the same version with fresh last-seen times when only those moved, nothing otherwise.
    fn publish(&self, engine: &mut Engine) {
        let mut touched = false;
        for (i, cluster) in self.clusters.iter().enumerate() {
            let health = cluster.health();
            touched |= engine.touch_info(i, health.last_seen, health.error);
        }
        if engine.take_dirty() {
            let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
            self.store(engine.snapshot(version, now()));
            let _ = self.tx.send(version);
        } else if touched {
            let current = self.current();
            self.store(engine.snapshot(current.version, current.generated_at.clone()));
        }
    }

    fn store(&self, board: Board) {
        let mut current = self
            .board
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = Arc::new(board);
        self.published.fetch_add(1, Ordering::SeqCst);
    }

    /// What the engine needs about cluster `i` besides its live objects. Blocking (may index a
    /// commit).
    fn inputs(&self, i: usize) -> ClusterInputs {
        let cluster = &self.clusters[i];
        let config = &cluster.config;
        let health = cluster.health();
        let env = self.environments.get(&config.environment);
        let branch = env
            .map(|e| e.branch.as_str())
            .filter(|b| !b.is_empty())
            .unwrap_or(self.branch.as_str());
        let head_commit = self.repo.head_of(branch).ok();
        let head = match (head_commit, env) {
            (Some(c), Some(env)) => self.desired_at(c, env),
            _ => None,
        }
        .unwrap_or_default();
        let applied_commit = match config.agent.kind {
            AgentKind::None => None,
            _ => cluster.agent().as_ref().and_then(sync::applied_commit),
        };
        let applied = match (&applied_commit, env) {
            (Some(sha), Some(env)) => ObjectId::from_hex(sha.as_bytes())
                .ok()
                .and_then(|c| self.desired_at(c, env)),
            _ => None,
        };
        ClusterInputs {
            head,
            applied,
            info: ClusterInfo {
                name: config.name.clone(),
                environment: config.environment.clone(),
                reachable: health.reachable,
                last_seen: health.last_seen,
                error: health.error,
                agent: format!("{:?}", config.agent.kind).to_lowercase(),
                applied_revision: applied_commit,
                head_revision: head_commit.map(|c| c.to_string()),
                counts: Vec::new(),
                missing_kinds: health
                    .missing_kinds
                    .iter()
                    .map(|k| k.as_str().to_owned())
                    .collect(),
            },
        }
    }

    /// The config repository the board is computed from.
    pub fn repo(&self) -> &ConfigRepo {
        &self.repo
    }

    pub fn has_clusters(&self) -> bool {
        !self.clusters.is_empty()
    }

    /// The clusters, in configuration order.
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// Version announcements for live pages.
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.tx.subscribe()
    }

    /// The board as last published.
    pub fn current(&self) -> Arc<Board> {
        self.board
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_default()
    }

    /// Recomputes every cell from scratch, as a restart would; returns how long that took.
    pub async fn rebuild(&self) -> Option<Duration> {
        let (reply, took) = oneshot::channel();
        self.rebuilds.send(reply).ok()?;
        took.await.ok()
    }

    /// From watch delivery to published board, for the last events (oldest first).
    pub fn event_latencies(&self) -> Vec<Duration> {
        self.latencies
            .lock()
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The board, filtered and paged.
    pub fn query(&self, q: &StatusQuery) -> StatusReport {
        let board = self.current();
        let cluster = q.cluster.as_deref().filter(|c| !c.is_empty());
        let state = q.state.as_deref().filter(|s| !s.is_empty());
        let namespace = q.namespace.as_deref().filter(|n| !n.is_empty());
        let kind = q.kind.as_deref().filter(|k| !k.is_empty());
        let name = q.name.as_deref().filter(|n| !n.is_empty());
        let per_page = q
            .per_page
            .unwrap_or(DEFAULT_PER_PAGE)
            .clamp(1, MAX_PER_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        let cell_in = |c: &frontend::api::StatusCell| cluster.is_none_or(|n| n == c.cluster);
        let row_in = |r: &StatusRow| {
            namespace.is_none_or(|n| n == r.namespace)
                && kind.is_none_or(|k| k == r.kind)
                && name.is_none_or(|n| n == r.name)
                && r.cells
                    .iter()
                    .any(|c| cell_in(c) && state.is_none_or(|s| state_matches(s, &c.state)))
        };
        let revisions: HashMap<&str, &Option<String>> = board
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), &c.applied_revision))
            .collect();
        let with_revision = |mut c: frontend::api::StatusCell| {
            c.applied_revision = revisions.get(c.cluster.as_str()).and_then(|r| (*r).clone());
            c
        };
        // A ConfigMap row links to the OAS API that reads its document.
        let with_oas = |mut row: StatusRow| {
            if row.kind == "ConfigMap" {
                row.oas = self.catalog.oas_of_configmap(&row.namespace, &row.name);
            }
            row
        };
        let mut counts = [0usize; 7];
        let mut total = 0;
        let mut rows = Vec::new();
        let unfiltered = [cluster, state, namespace, kind, name]
            .iter()
            .all(Option::is_none);
        // Past the last page, the last page (and the report says which).
        let page = if page > 1 {
            let matching = if unfiltered {
                board.rows.len()
            } else {
                board.rows.iter().filter(|r| row_in(r)).count()
            };
            page.min(matching.div_ceil(per_page).max(1))
        } else {
            page
        };
        let skip = (page - 1).saturating_mul(per_page);
        if unfiltered {
            counts = board.counts;
            total = board.rows.len();
            rows.extend(board.rows.iter().skip(skip).take(per_page).map(|r| {
                with_oas(StatusRow {
                    cells: r.cells.iter().cloned().map(with_revision).collect(),
                    ..StatusRow::clone(r)
                })
            }));
        } else {
            for row in board.rows.iter().filter(|r| row_in(r)) {
                for c in row.cells.iter().filter(|c| cell_in(c)) {
                    if let Some(i) = SyncState::ALL.iter().position(|s| s.as_str() == c.state) {
                        counts[i] += 1;
                    }
                }
                if total >= skip && rows.len() < per_page {
                    rows.push(with_oas(StatusRow {
                        cells: row
                            .cells
                            .iter()
                            .filter(|c| cell_in(c))
                            .cloned()
                            .map(with_revision)
                            .collect(),
                        ..StatusRow::clone(row)
                    }));
                }
                total += 1;
            }
        }
        StatusReport {
            clusters: board
                .clusters
                .iter()
                .zip(&board.cluster_counts)
                .filter(|(c, _)| cluster.is_none_or(|n| n == c.name))
                .map(|(c, counts)| ClusterInfo {
                    counts: state_counts(*counts),
                    ..c.clone()
                })
                .collect(),
            counts: state_counts(counts),
            rows,
            total_rows: total,
            page,
            per_page,
            version: board.version,
            generated_at: board.generated_at.clone(),
        }
    }

    /// [`StatusService::query`] as JSON, serialised once per published board and query.
    pub fn query_json(&self, q: &StatusQuery) -> axum::body::Bytes {
        // Read before the board: an answer is never filed under a newer stamp than its board.
        let version = self.published.load(Ordering::SeqCst);
        {
            let answers = self
                .answers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if answers.0 == version
                && let Some(body) = answers.1.get(q)
            {
                return body.clone();
            }
        }
        let report = self.query(q);
        let body = axum::body::Bytes::from(serde_json::to_vec(&report).unwrap_or_default());
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if answers.0 != version || answers.1.len() >= ANSWERS {
            *answers = (version, HashMap::new());
        }
        answers.1.insert(q.clone(), body.clone());
        body
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
            .filter(|r| under(&r.path, &env.path))
            .filter_map(|r| r.resource.to_value().ok().map(|v| ((*r.key).clone(), v)))
            .collect()
    }

    /// The cell of one resource in one cluster, as last published.
    pub fn cell(&self, cluster: &str, key: &ResourceKey) -> Option<frontend::api::StatusCell> {
        let board = self.current();
        let at = board
            .rows
            .binary_search_by(|r| {
                (r.kind.as_str(), r.namespace.as_str(), r.name.as_str()).cmp(&(
                    key.kind.as_str(),
                    key.namespace.as_str(),
                    key.name.as_str(),
                ))
            })
            .ok()?;
        board.rows[at]
            .cells
            .iter()
            .find(|c| c.cluster == cluster)
            .cloned()
    }

    /// Fills in each listed resource's state in every cluster, from the last published board.
    pub fn annotate(&self, items: &mut [frontend::api::ResourceSummary]) {
        if !self.has_clusters() {
            return;
        }
        let board = self.current();
        for item in items {
            let at = board.rows.binary_search_by(|r| {
                (r.kind.as_str(), r.namespace.as_str(), r.name.as_str()).cmp(&(
                    item.kind.as_str(),
                    item.namespace.as_str(),
                    item.name.as_str(),
                ))
            });
            item.clusters = at
                .map(|i| {
                    board.rows[i]
                        .cells
                        .iter()
                        .map(|c| frontend::api::ClusterState {
                            cluster: c.cluster.clone(),
                            state: c.state.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
    }

    fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.config.name == name)
    }

    /// One live object in one cluster, as last watched.
    pub fn live_object(&self, cluster: &str, key: &ResourceKey) -> Option<Arc<Value>> {
        self.cluster(cluster)?.live_object(key)
    }

    /// Whether a configured cluster is reachable; `None` when no cluster has that name.
    pub fn reachable(&self, cluster: &str) -> Option<bool> {
        self.cluster(cluster).map(|c| c.health().reachable)
    }

    /// The clusters that will run a file of `branch` once it is there: those whose environment
    /// follows the branch and covers the path.
    pub fn followers(&self, branch: &str, path: &str) -> Vec<String> {
        self.clusters
            .iter()
            .filter(|c| {
                self.environments
                    .get(&c.config.environment)
                    .is_some_and(|env| {
                        let follows = if env.branch.is_empty() {
                            self.branch.as_str()
                        } else {
                            env.branch.as_str()
                        };
                        follows == branch && under(path, &env.path)
                    })
            })
            .map(|c| c.config.name.clone())
            .collect()
    }

    /// Prometheus text exposition: resources per cluster and state, reachability, and how long
    /// watch events take to reach the board.
    pub fn metrics(&self) -> String {
        use std::fmt::Write as _;
        let board = self.current();
        let mut out = String::from(
            "# HELP tollgate_resources Resources per cluster and sync state.\n# TYPE tollgate_resources gauge\n",
        );
        for (cluster, counts) in board.clusters.iter().zip(&board.cluster_counts) {
            for (state, n) in SyncState::ALL.iter().zip(counts) {
                let _ = writeln!(
                    out,
                    "tollgate_resources{{cluster=\"{}\",state=\"{}\"}} {n}",
                    cluster.name,
                    state.as_str()
                );
            }
        }
        out.push_str("# HELP tollgate_cluster_reachable Whether the cluster's watches are healthy.\n# TYPE tollgate_cluster_reachable gauge\n");
        for cluster in &board.clusters {
            let _ = writeln!(
                out,
                "tollgate_cluster_reachable{{cluster=\"{}\"}} {}",
                cluster.name,
                u8::from(cluster.reachable)
            );
        }
        let mut latencies = self.event_latencies();
        if !latencies.is_empty() {
            latencies.sort();
            out.push_str("# HELP tollgate_status_event_seconds From a watch event's delivery to the published board, over the last events.\n# TYPE tollgate_status_event_seconds summary\n");
            for q in [0.5, 0.95, 0.99] {
                let at = ((latencies.len() - 1) as f64 * q).round() as usize;
                let _ = writeln!(
                    out,
                    "tollgate_status_event_seconds{{quantile=\"{q}\"}} {}",
                    latencies[at].as_secs_f64()
                );
            }
            let sum: f64 = latencies.iter().map(Duration::as_secs_f64).sum();
            let _ = writeln!(out, "tollgate_status_event_seconds_sum {sum}");
            let _ = writeln!(
                out,
                "tollgate_status_event_seconds_count {}",
                latencies.len()
            );
        }
        out
    }
}

/// Whether a cell in `state` passes the `wanted` filter (a state, or `problems`).
fn state_matches(wanted: &str, state: &str) -> bool {
    wanted == state || (wanted == "problems" && state != SyncState::Synced.as_str())
}

fn state_counts(counts: [usize; 7]) -> Vec<StateCount> {
    SyncState::ALL
        .iter()
        .zip(counts)
        .map(|(s, count)| StateCount {
            state: s.as_str().into(),
            count,
        })
        .collect()
}
