//! Watching clusters, read-only: kube-runtime watchers per cluster (the Tyk kinds, the
//! ConfigMaps that hold OAS documents, the GitOps agent's object and the Tyk CRDs), each with its
//! own backoff, relisting when the API server says a resource version is too old. Every event is
//! converted to JSON once and handed to the status engine; pages and the API read the engine's
//! board, never the cluster.
//!
//! Reachability comes from one place, a probe of the API server's version: a watch that fails
//! says something about its kind (not installed, forbidden), not about the cluster. A Tyk kind the
//! cluster does not serve is found through discovery, reported once and looked for again when the
//! cluster's CRDs change. What people read is a short sentence; the detail goes to the log, once
//! when a condition starts and at most once a minute while it lasts.
//!
//! Every task a cluster runs is owned by it and ends with [`Cluster::stop`] (or when it is
//! dropped).

use crate::config::{AgentKind, ClusterConfig};
use crate::resources::{CrdSchemas, Kind, ResourceKey};
use crate::sync::LiveObjects;
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// What a cluster's watchers report to the status engine.
#[derive(Debug)]
pub enum ClusterEvent {
    /// One object was created or changed (`Some`) or deleted (`None`); `at` is when the watch
    /// delivered it.
    Live {
        cluster: usize,
        key: ResourceKey,
        value: Option<Arc<Value>>,
        at: Instant,
    },
    /// A list (first, or after a watch expired) completed: the objects of `kind` are these.
    Relisted {
        cluster: usize,
        kind: Kind,
        objects: LiveObjects,
    },
    /// Reachability, the served kinds or the agent's object changed.
    Changed { cluster: usize },
}

/// How often the API server is asked whether it is there.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long a probe may take before the cluster counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often a lasting condition is logged again.
const LOG_AGAIN: Duration = Duration::from_secs(60);
/// How often a kind the cluster does not serve is looked for, besides CRD changes.
const REDISCOVER: Duration = Duration::from_secs(60);

/// Retries quickly at first, then every 2 s, so a returning cluster is seen within seconds.
struct QuickBackoff {
    next: Duration,
}

impl Iterator for QuickBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let delay = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(2));
        Some(delay)
    }
}

impl kube::runtime::utils::Backoff for QuickBackoff {
    fn reset(&mut self) {
        self.next = Duration::from_millis(250);
    }
}

fn backoff() -> QuickBackoff {
    QuickBackoff {
        next: Duration::from_millis(250),
    }
}

/// How reachable a cluster is, and what it cannot show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub reachable: bool,
    /// When the API server last answered (RFC 3339).
    pub last_seen: Option<String>,
    /// Why the cluster is unreachable, in a sentence.
    pub error: Option<String>,
    /// Tyk kinds the cluster does not serve (their CRD is not installed).
    pub missing_kinds: BTreeSet<Kind>,
}

/// Now, to the second (RFC 3339): what people read on the board.
pub(crate) fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A short sentence for people about a failed call to a cluster; the detail is for the log.
pub fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => match status.code {
            401 => "the API server refused the kubeconfig's credentials (401)".into(),
            403 => "permission denied (403): check the ClusterRole Tollgate runs with".into(),
            404 => "not found on the API server (404)".into(),
            410 => "the watch expired (410) and is listed again".into(),
            429 => "the API server is throttling requests (429)".into(),
            c if c >= 500 => format!("the API server failed ({c})"),
            c => format!("the API server refused the request ({c})"),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            "cannot connect to the API server".into()
        }
        kube::Error::Auth(_) => "cannot get credentials from the kubeconfig".into(),
        kube::Error::RustlsTls(_) => "the TLS connection to the API server failed".into(),
        kube::Error::SerdeError(_) => "the API server sent an answer Tollgate cannot read".into(),
        _ => "the call to the API server failed".into(),
    }
}

fn watch_describe(e: &watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => describe(e),
        watcher::Error::WatchError(status) if status.code == 410 => {
            "the watch expired (410) and is listed again".into()
        }
        watcher::Error::WatchError(status) => format!("the watch failed ({})", status.code),
        watcher::Error::NoResourceVersion => "the API server cannot watch this resource".into(),
    }
}

/// The API server could not be reached at all (rather than answering with an error).
fn unreachable(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => matches!(
            e,
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)
        ),
        _ => false,
    }
}

/// The API server says the resource is not there (its CRD is not installed, or was removed).
fn not_served(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 404,
        watcher::Error::WatchError(s) => s.code == 404,
        _ => false,
    }
}

/// Logs a condition when it starts or changes, then at most once a minute while it lasts.
#[derive(Default)]
pub(crate) struct Quiet {
    last: Option<(String, Instant)>,
}

impl Quiet {
    /// Whether `what` should be logged now.
    pub(crate) fn should_log(&mut self, what: &str) -> bool {
        let now = Instant::now();
        match &self.last {
            Some((seen, at)) if seen == what && now.duration_since(*at) < LOG_AGAIN => false,
            _ => {
                self.last = Some((what.to_owned(), now));
                true
            }
        }
    }

    /// The condition ended; `true` when it had been logged (so its end is worth a line too).
    pub(crate) fn clear(&mut self) -> bool {
        self.last.take().is_some()
    }
}

/// One watched cluster.
pub struct Cluster {
    pub config: ClusterConfig,
    health: Arc<RwLock<Health>>,
    /// Every watched object, for the few reads that need a whole object (adopting drift).
    live: Arc<RwLock<LiveObjects>>,
    /// The agent's object (Argo CD Application or Flux Kustomization), when configured and seen.
    agent: Arc<RwLock<Option<Value>>>,
    /// The schemas of the Tyk CRDs installed in the cluster, when it has them.
    schemas: Arc<RwLock<Option<Arc<CrdSchemas>>>>,
    /// The tasks watching it.
    tasks: crate::tasks::Tasks,
}

fn resource_of(kind: Kind) -> ApiResource {
    let (group, version, k, plural) = match kind {
        Kind::ApiDefinition => ("tyk.tyk.io", "v1alpha1", "ApiDefinition", "apidefinitions"),
        Kind::SecurityPolicy => (
            "tyk.tyk.io",
            "v1alpha1",
            "SecurityPolicy",
            "securitypolicies",
        ),
        Kind::TykOasApiDefinition => (
            "tyk.tyk.io",
            "v1alpha1",
            "TykOasApiDefinition",
            "tykoasapidefinitions",
        ),
        Kind::ConfigMap => ("", "v1", "ConfigMap", "configmaps"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, k), plural)
}

/// An object as JSON, moving its data rather than copying it.
pub fn object_value(obj: DynamicObject) -> Option<Value> {
    let DynamicObject {
        types,
        metadata,
        data,
    } = obj;
    let mut map = match data {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    if let Some(t) = types {
        map.insert("apiVersion".into(), Value::String(t.api_version));
        map.insert("kind".into(), Value::String(t.kind));
    }
    map.insert("metadata".into(), serde_json::to_value(metadata).ok()?);
    Some(Value::Object(map))
}

fn key_of(kind: Kind, obj: &DynamicObject) -> Option<ResourceKey> {
    Some(ResourceKey::new(
        kind,
        obj.metadata.namespace.clone()?,
        obj.metadata.name.clone()?,
    ))
}

/// What one watch tells its consumer.
enum Seen {
    /// A complete list: the objects there are now exactly these.
    Listed(Vec<DynamicObject>),
    Applied(DynamicObject),
    Deleted(DynamicObject),
}

/// Why a watch stopped.
enum Ended {
    /// The API server does not serve the resource (404).
    NotServed,
    /// The consumer is gone (the status service stopped).
    Closed,
}

/// The one watch loop: follows `api` (with backoff, relisting after `410 Gone`), hands each list
/// and change to `handle`, and logs failures quietly. Ends when the resource is not served, or
/// when `handle` returns `false`.
async fn follow(
    api: Api<DynamicObject>,
    config: watcher::Config,
    cluster: &str,
    what: &str,
    mut handle: impl FnMut(Seen) -> bool,
) -> Ended {
    let stream = watcher(api, config).backoff(backoff());
    let mut stream = std::pin::pin!(stream);
    let mut listing: Vec<DynamicObject> = Vec::new();
    let mut quiet = Quiet::default();
    while let Some(event) = stream.next().await {
        let seen = match event {
            Ok(watcher::Event::Init) => {
                listing.clear();
                continue;
            }
            Ok(watcher::Event::InitApply(o)) => {
                listing.push(o);
                continue;
            }
            Ok(watcher::Event::InitDone) => {
                if quiet.clear() {
                    tracing::info!(cluster, what, "watch resumed");
                }
                Seen::Listed(std::mem::take(&mut listing))
            }
            Ok(watcher::Event::Apply(o)) => Seen::Applied(o),
            Ok(watcher::Event::Delete(o)) => Seen::Deleted(o),
            Err(e) if not_served(&e) => return Ended::NotServed,
            Err(e) => {
                let sentence = watch_describe(&e);
                if quiet.should_log(&sentence) {
                    if unreachable(&e) {
                        // The probe reports an unreachable cluster, once.
                        tracing::debug!(cluster, what, problem = %sentence, detail = %e, "watch failed");
                    } else {
                        tracing::warn!(cluster, what, problem = %sentence, detail = %e, "watch failed");
                    }
                }
                continue;
            }
        };
        if !handle(seen) {
            return Ended::Closed;
        }
    }
    Ended::Closed
}

/// Whether the cluster serves a Tyk kind, by discovery. `Err` when the API server could not be
/// asked (the probe reports that).
async fn serves(client: &kube::Client, kind: Kind) -> Result<bool, kube::Error> {
    let resource = resource_of(kind);
    if resource.group.is_empty() {
        return Ok(true);
    }
    match client.list_api_group_resources(&resource.api_version).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == resource.plural)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

impl Cluster {
    /// Connects with the cluster's kubeconfig and starts its watches; `index` identifies the
    /// cluster in the events it sends. A kubeconfig that cannot be used leaves the cluster
    /// unreachable with the reason; the rest of Tollgate starts.
    pub async fn start(
        index: usize,
        config: ClusterConfig,
        events: UnboundedSender<ClusterEvent>,
    ) -> Self {
        let client = match Self::client(&config).await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(cluster = %config.name, error = %e, "cannot use the cluster's kubeconfig");
                None
            }
        };
        let health = Health {
            error: client
                .is_none()
                .then(|| format!("cannot use the kubeconfig {}", config.kubeconfig.display())),
            ..Health::default()
        };
        let cluster = Self {
            config,
            health: Arc::new(RwLock::new(health)),
            live: Arc::new(RwLock::new(HashMap::new())),
            agent: Arc::new(RwLock::new(None)),
            schemas: Arc::new(RwLock::new(None)),
            tasks: crate::tasks::Tasks::default(),
        };
        let Some(client) = client else {
            return cluster;
        };
        // Bumped whenever the cluster's Tyk CRDs change, so missing kinds are looked for again.
        let (crds_changed, _) = tokio::sync::watch::channel(0u64);
        for kind in [
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition,
            Kind::ConfigMap,
        ] {
            cluster.watch_kind(
                index,
                kind,
                client.clone(),
                events.clone(),
                crds_changed.subscribe(),
            );
        }
        cluster.probe(index, client.clone(), events.clone());
        cluster.watch_agent(index, client.clone(), events);
        cluster.watch_crds(client, crds_changed);
        cluster
    }

    async fn client(config: &ClusterConfig) -> anyhow::Result<kube::Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let text = std::fs::read_to_string(&config.kubeconfig).map_err(|e| {
            anyhow::anyhow!(
                "clusters.{}: cannot read {}: {e}",
                config.name,
                config.kubeconfig.display()
            )
        })?;
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).map_err(|e| {
            anyhow::anyhow!(
                "clusters.{}: {}: {e}",
                config.name,
                config.kubeconfig.display()
            )
        })?;
        let options = kube::config::KubeConfigOptions {
            context: config.context.clone(),
            ..Default::default()
        };
        let client_config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| anyhow::anyhow!("clusters.{}: {e}", config.name))?;
        kube::Client::try_from(client_config)
            .map_err(|e| anyhow::anyhow!("clusters.{}: {e}", config.name))
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Stops every task watching the cluster and waits for them to end.
    pub async fn stop(&self) {
        self.tasks.stop().await;
    }

    /// Asks the API server for its version every second: the one judge of reachability. A
    /// resumed watch that has nothing to report would not tell us the cluster is back, and a
    /// watch that fails may only mean its kind is not installed.
    fn probe(&self, index: usize, client: kube::Client, events: UnboundedSender<ClusterEvent>) {
        let (health, name) = (Arc::clone(&self.health), self.config.name.clone());
        self.spawn(async move {
            let mut quiet = Quiet::default();
            loop {
                let result = match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version())
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err((describe(&e), e.to_string())),
                    Err(_) => Err((
                        format!(
                            "the API server did not answer within {} s",
                            PROBE_TIMEOUT.as_secs()
                        ),
                        "timeout".to_owned(),
                    )),
                };
                let flipped = {
                    let mut h = health
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let was = (h.reachable, h.error.clone());
                    match &result {
                        Ok(()) => {
                            h.reachable = true;
                            h.error = None;
                            h.last_seen = Some(now());
                        }
                        Err((sentence, _)) => {
                            h.reachable = false;
                            h.error = Some(sentence.clone());
                        }
                    }
                    was != (h.reachable, h.error.clone())
                };
                match &result {
                    Ok(()) => {
                        if quiet.clear() {
                            tracing::info!(cluster = %name, "cluster reachable again");
                        }
                    }
                    Err((sentence, detail)) => {
                        if quiet.should_log(sentence) {
                            tracing::warn!(cluster = %name, problem = %sentence, %detail, "cluster unreachable");
                        }
                    }
                }
                if flipped
                    && events
                        .send(ClusterEvent::Changed { cluster: index })
                        .is_err()
                {
                    return;
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        });
    }

    /// Watches one kind across all namespaces and forwards every change. A Tyk kind the cluster
    /// does not serve is reported once and looked for again when the cluster's CRDs change.
    fn watch_kind(
        &self,
        index: usize,
        kind: Kind,
        client: kube::Client,
        events: UnboundedSender<ClusterEvent>,
        mut crds_changed: tokio::sync::watch::Receiver<u64>,
    ) {
        let (health, live, name) = (
            Arc::clone(&self.health),
            Arc::clone(&self.live),
            self.config.name.clone(),
        );
        self.spawn(async move {
            let set_missing = |missing: bool| -> bool {
                let mut h = health
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if missing {
                    h.missing_kinds.insert(kind)
                } else {
                    h.missing_kinds.remove(&kind)
                }
            };
            let mut quiet = Quiet::default();
            loop {
                // Look before watching: a kind that is not served would fail every list.
                match serves(&client, kind).await {
                    Ok(true) => {}
                    Ok(false) => {
                        if set_missing(true) {
                            tracing::warn!(cluster = %name, %kind, "{kind} is not installed in cluster {name}");
                            let cleared = ClusterEvent::Relisted {
                                cluster: index,
                                kind,
                                objects: HashMap::new(),
                            };
                            live.write()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .retain(|k, _| k.kind != kind);
                            if events.send(cleared).is_err()
                                || events.send(ClusterEvent::Changed { cluster: index }).is_err()
                            {
                                return;
                            }
                        }
                        tokio::select! {
                            changed = crds_changed.changed() => if changed.is_err() { return },
                            () = tokio::time::sleep(REDISCOVER) => {}
                        }
                        continue;
                    }
                    Err(e) => {
                        // Unreachable: the probe says so; look again shortly.
                        if quiet.should_log(&describe(&e)) {
                            tracing::debug!(cluster = %name, %kind, error = %e, "discovery failed");
                        }
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                }
                if set_missing(false) {
                    tracing::info!(cluster = %name, %kind, "{kind} is now installed in cluster {name}");
                    if events.send(ClusterEvent::Changed { cluster: index }).is_err() {
                        return;
                    }
                }
                let api = Api::<DynamicObject>::all_with(client.clone(), &resource_of(kind));
                let what = kind.as_str();
                let ended = follow(
                    api,
                    watcher::Config::default().timeout(60),
                    &name,
                    what,
                    |seen| {
                        let at = Instant::now();
                        let mut live = live
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        let event = match seen {
                            Seen::Listed(objects) => {
                                let objects: LiveObjects = objects
                                    .into_iter()
                                    .filter_map(|o| Some((key_of(kind, &o)?, Arc::new(object_value(o)?))))
                                    .collect();
                                live.retain(|k, _| k.kind != kind);
                                live.extend(objects.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
                                ClusterEvent::Relisted {
                                    cluster: index,
                                    kind,
                                    objects,
                                }
                            }
                            Seen::Applied(o) => {
                                let (Some(key), Some(value)) = (key_of(kind, &o), object_value(o))
                                else {
                                    return true;
                                };
                                let value = Arc::new(value);
                                live.insert(key.clone(), Arc::clone(&value));
                                ClusterEvent::Live {
                                    cluster: index,
                                    key,
                                    value: Some(value),
                                    at,
                                }
                            }
                            Seen::Deleted(o) => {
                                let Some(key) = key_of(kind, &o) else {
                                    return true;
                                };
                                live.remove(&key);
                                ClusterEvent::Live {
                                    cluster: index,
                                    key,
                                    value: None,
                                    at,
                                }
                            }
                        };
                        events.send(event).is_ok()
                    },
                )
                .await;
                match ended {
                    Ended::Closed => return,
                    // The CRD went away: back to discovery, which reports it.
                    Ended::NotServed if kind == Kind::ConfigMap => {
                        tokio::time::sleep(REDISCOVER).await;
                    }
                    Ended::NotServed => {}
                }
            }
        });
    }

    /// Watches the agent's object: Argo CD `Application` or Flux `Kustomization`.
    fn watch_agent(
        &self,
        index: usize,
        client: kube::Client,
        events: UnboundedSender<ClusterEvent>,
    ) {
        let agent = &self.config.agent;
        let gvk = match agent.kind {
            AgentKind::Argocd => (
                GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
                "applications",
            ),
            AgentKind::Flux => (
                GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
                "kustomizations",
            ),
            AgentKind::None => return,
        };
        let resource = ApiResource::from_gvk_with_plural(&gvk.0, gvk.1);
        let (namespace, wanted) = (agent.namespace.clone(), agent.name.clone());
        let (slot, name) = (Arc::clone(&self.agent), self.config.name.clone());
        self.spawn(async move {
            loop {
                let api = Api::<DynamicObject>::namespaced_with(client.clone(), &namespace, &resource);
                let config = watcher::Config::default()
                    .timeout(60)
                    .fields(&format!("metadata.name={wanted}"));
                let is_ours = |o: &DynamicObject| o.metadata.name.as_deref() == Some(&wanted);
                let ended = follow(api, config, &name, gvk.0.kind.as_str(), |seen| {
                    let value = match seen {
                        Seen::Listed(objects) => objects.into_iter().find(is_ours).and_then(object_value),
                        Seen::Applied(o) if is_ours(&o) => object_value(o),
                        Seen::Deleted(o) if is_ours(&o) => None,
                        _ => return true,
                    };
                    *slot
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
                    events.send(ClusterEvent::Changed { cluster: index }).is_ok()
                })
                .await;
                match ended {
                    Ended::Closed => return,
                    Ended::NotServed => {
                        tracing::warn!(cluster = %name, "the agent's {} is not installed in cluster {name}; applied revisions are unknown", gvk.0.kind);
                        tokio::time::sleep(REDISCOVER).await;
                    }
                }
            }
        });
    }

    /// Watches the cluster's CustomResourceDefinitions and keeps the Tyk ones' schemas, so edits
    /// can be checked against what each cluster will actually accept; tells the kind watches
    /// when they change.
    fn watch_crds(&self, client: kube::Client, changed: tokio::sync::watch::Sender<u64>) {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        );
        let (slot, name) = (Arc::clone(&self.schemas), self.config.name.clone());
        self.spawn(async move {
            let mut crds: HashMap<String, Value> = HashMap::new();
            loop {
                let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
                let tyk = |o: &DynamicObject| o.data["spec"]["group"] == crate::resources::TYK_GROUP;
                let ended = follow(
                    api,
                    watcher::Config::default().timeout(60),
                    &name,
                    "CustomResourceDefinition",
                    |seen| {
                        let touched = match seen {
                            Seen::Listed(objects) => {
                                let listed: HashMap<String, Value> = objects
                                    .into_iter()
                                    .filter(tyk)
                                    .filter_map(|o| Some((o.metadata.name.clone()?, object_value(o)?)))
                                    .collect();
                                let touched = listed != crds || crds.is_empty();
                                crds = listed;
                                touched
                            }
                            Seen::Applied(o) if tyk(&o) => {
                                match (o.metadata.name.clone(), object_value(o)) {
                                    (Some(n), Some(v)) => crds.insert(n, v.clone()) != Some(v),
                                    _ => false,
                                }
                            }
                            Seen::Deleted(o) if tyk(&o) => o
                                .metadata
                                .name
                                .as_ref()
                                .is_some_and(|n| crds.remove(n).is_some()),
                            _ => false,
                        };
                        if touched {
                            let documents: Vec<Value> = crds.values().cloned().collect();
                            let schemas = match CrdSchemas::from_documents(&documents) {
                                Ok(s) if s.kinds().is_empty() => None,
                                Ok(s) => Some(Arc::new(s)),
                                Err(e) => {
                                    tracing::warn!(cluster = %name, error = %e, "cannot use the cluster's Tyk CRDs");
                                    None
                                }
                            };
                            *slot
                                .write()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) = schemas;
                            changed.send_modify(|n| *n += 1);
                        }
                        true
                    },
                )
                .await;
                if let Ended::NotServed = ended {
                    tokio::time::sleep(REDISCOVER).await;
                }
            }
        });
    }

    pub fn health(&self) -> Health {
        self.health.read().map(|h| h.clone()).unwrap_or_default()
    }

    /// One live object, as JSON.
    pub fn live_object(&self, key: &ResourceKey) -> Option<Arc<Value>> {
        self.live.read().ok()?.get(key).cloned()
    }

    /// The agent's object, when configured and seen.
    pub fn agent(&self) -> Option<Value> {
        self.agent.read().ok()?.clone()
    }

    /// Where the cluster's Tyk CRD schemas are kept current.
    pub fn schema_slot(&self) -> crate::resources::ClusterSchemaSlot {
        Arc::clone(&self.schemas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lasting_condition_is_logged_once_until_it_changes() {
        let mut quiet = Quiet::default();
        assert!(quiet.should_log("cannot connect"));
        for _ in 0..100 {
            assert!(!quiet.should_log("cannot connect"));
        }
        assert!(quiet.should_log("permission denied"));
        assert!(quiet.clear());
        assert!(!quiet.clear());
        assert!(quiet.should_log("permission denied"));
    }

    #[test]
    fn errors_read_as_sentences_without_debug_text() {
        let status = kube::core::Status::failure("apidefinitions.tyk.tyk.io not found", "NotFound")
            .with_code(404);
        let sentence = describe(&kube::Error::Api(status.boxed()));
        assert_eq!(sentence, "not found on the API server (404)");
        for e in [
            kube::Error::Api(
                kube::core::Status::failure("x", "Forbidden")
                    .with_code(403)
                    .boxed(),
            ),
            kube::Error::Api(
                kube::core::Status::failure("x", "Boom")
                    .with_code(503)
                    .boxed(),
            ),
            kube::Error::LinesCodecMaxLineLengthExceeded,
        ] {
            let s = describe(&e);
            assert!(!s.contains("Status {") && !s.contains("Some("), "{s}");
        }
    }
}
