//! Watching clusters, read-only: kube-runtime watchers per cluster (the Tyk kinds, the
//! ConfigMaps that hold OAS documents, the GitOps agent's object and the Tyk CRDs), each with its
//! own backoff, relisting when the API server says a resource version is too old. Every event is
//! converted to JSON once and handed to the status engine; pages and the API read the engine's
//! board, never the cluster. A cluster that fails marks only itself unreachable.

use crate::config::{AgentKind, ClusterConfig};
use crate::resources::{CrdSchemas, Kind, ResourceKey};
use crate::status::LiveObjects;
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use std::collections::HashMap;
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
    /// Reachability or the agent's object changed.
    Changed { cluster: usize },
}

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

/// How reachable a cluster is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub reachable: bool,
    /// When a watch last delivered anything (RFC 3339).
    pub last_seen: Option<String>,
    pub error: Option<String>,
}

/// Now, to the second (RFC 3339): what people read on the board.
pub(crate) fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
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
}

fn tyk(kind: Kind) -> ApiResource {
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

fn set_health(health: &RwLock<Health>, result: Result<(), String>) -> bool {
    let mut h = health
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let was = h.reachable;
    match result {
        Ok(()) => {
            h.reachable = true;
            h.error = None;
            h.last_seen = Some(now());
        }
        Err(e) => {
            h.reachable = false;
            h.error = Some(e);
        }
    }
    was != h.reachable
}

fn backoff() -> QuickBackoff {
    QuickBackoff {
        next: Duration::from_millis(250),
    }
}

impl Cluster {
    /// Connects with the cluster's kubeconfig and starts its watches; `index` identifies the
    /// cluster in the events it sends.
    pub async fn start(
        index: usize,
        config: ClusterConfig,
        events: UnboundedSender<ClusterEvent>,
    ) -> anyhow::Result<Self> {
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
        let client = kube::Client::try_from(client_config)
            .map_err(|e| anyhow::anyhow!("clusters.{}: {e}", config.name))?;
        let cluster = Self {
            config,
            health: Arc::new(RwLock::new(Health::default())),
            live: Arc::new(RwLock::new(HashMap::new())),
            agent: Arc::new(RwLock::new(None)),
            schemas: Arc::new(RwLock::new(None)),
        };
        for kind in [
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition,
            Kind::ConfigMap,
        ] {
            cluster.watch_kind(index, kind, client.clone(), events.clone());
        }
        cluster.probe(index, client.clone(), events.clone());
        cluster.watch_agent(index, client.clone(), events);
        cluster.watch_crds(client);
        Ok(cluster)
    }

    /// Asks the API server for its version every second: a resumed watch that has nothing to
    /// report would not tell us the cluster is back.
    fn probe(&self, index: usize, client: kube::Client, events: UnboundedSender<ClusterEvent>) {
        let health = Arc::clone(&self.health);
        tokio::spawn(async move {
            loop {
                let result =
                    tokio::time::timeout(Duration::from_secs(3), client.apiserver_version()).await;
                let result = match result {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the API server did not answer within 3 s".into()),
                };
                if set_health(&health, result)
                    && events
                        .send(ClusterEvent::Changed { cluster: index })
                        .is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Watches one kind across all namespaces and forwards every change.
    fn watch_kind(
        &self,
        index: usize,
        kind: Kind,
        client: kube::Client,
        events: UnboundedSender<ClusterEvent>,
    ) {
        let resource = tyk(kind);
        let api = Api::<DynamicObject>::all_with(client, &resource);
        let stream = watcher(api, watcher::Config::default().timeout(60)).backoff(backoff());
        let (health, live, name) = (
            Arc::clone(&self.health),
            Arc::clone(&self.live),
            self.config.name.clone(),
        );
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut listing: Option<LiveObjects> = None;
            let mut warned = false;
            while let Some(event) = stream.next().await {
                let at = Instant::now();
                let event = match event {
                    Ok(event) => {
                        warned = false;
                        if set_health(&health, Ok(())) {
                            let _ = events.send(ClusterEvent::Changed { cluster: index });
                        }
                        event
                    }
                    // ConfigMaps only add OAS documents: a cluster that will not show them (no
                    // permission, say) is still watched for everything else.
                    Err(e) if kind == Kind::ConfigMap => {
                        if !warned {
                            tracing::warn!(cluster = %name, error = %e, "cannot watch ConfigMaps: OAS documents are not compared");
                            warned = true;
                        }
                        continue;
                    }
                    Err(e) => {
                        if health.read().is_ok_and(|h| h.reachable) {
                            tracing::warn!(cluster = %name, %kind, error = %e, "cluster watch failed");
                        }
                        if set_health(&health, Err(e.to_string())) {
                            let _ = events.send(ClusterEvent::Changed { cluster: index });
                        }
                        continue;
                    }
                };
                let mut live = live
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let sent = match event {
                    watcher::Event::Init => {
                        listing = Some(HashMap::new());
                        Ok(())
                    }
                    watcher::Event::InitApply(obj) => {
                        if let Some(key) = key_of(kind, &obj)
                            && let Some(value) = object_value(obj)
                        {
                            listing
                                .get_or_insert_with(HashMap::new)
                                .insert(key, Arc::new(value));
                        }
                        Ok(())
                    }
                    watcher::Event::InitDone => {
                        let objects = listing.take().unwrap_or_default();
                        live.retain(|k, _| k.kind != kind);
                        live.extend(objects.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
                        events
                            .send(ClusterEvent::Relisted {
                                cluster: index,
                                kind,
                                objects,
                            })
                            .map_err(drop)
                    }
                    watcher::Event::Apply(obj) => match (key_of(kind, &obj), object_value(obj)) {
                        (Some(key), Some(value)) => {
                            let value = Arc::new(value);
                            live.insert(key.clone(), Arc::clone(&value));
                            events
                                .send(ClusterEvent::Live {
                                    cluster: index,
                                    key,
                                    value: Some(value),
                                    at,
                                })
                                .map_err(drop)
                        }
                        _ => Ok(()),
                    },
                    watcher::Event::Delete(obj) => match key_of(kind, &obj) {
                        Some(key) => {
                            live.remove(&key);
                            events
                                .send(ClusterEvent::Live {
                                    cluster: index,
                                    key,
                                    value: None,
                                    at,
                                })
                                .map_err(drop)
                        }
                        None => Ok(()),
                    },
                };
                if sent.is_err() {
                    // The status service is gone.
                    return;
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
        let api = Api::<DynamicObject>::namespaced_with(client, &agent.namespace, &resource);
        let config = watcher::Config::default()
            .timeout(60)
            .fields(&format!("metadata.name={}", agent.name));
        let stream = watcher(api, config).backoff(backoff());
        let (slot, wanted) = (Arc::clone(&self.agent), agent.name.clone());
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut listing: Option<Value> = None;
            while let Some(event) = stream.next().await {
                let Ok(event) = event else { continue };
                let is_ours = |o: &DynamicObject| o.metadata.name.as_deref() == Some(&wanted);
                let update = match event {
                    watcher::Event::Init => {
                        listing = None;
                        None
                    }
                    watcher::Event::InitApply(o) => {
                        if is_ours(&o) {
                            listing = object_value(o);
                        }
                        None
                    }
                    watcher::Event::InitDone => Some(listing.take()),
                    watcher::Event::Apply(o) if is_ours(&o) => Some(object_value(o)),
                    watcher::Event::Delete(o) if is_ours(&o) => Some(None),
                    _ => None,
                };
                if let Some(value) = update {
                    *slot
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
                    if events
                        .send(ClusterEvent::Changed { cluster: index })
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
    }

    /// Watches the cluster's CustomResourceDefinitions and keeps the Tyk ones' schemas, so edits
    /// can be checked against what each cluster will actually accept.
    fn watch_crds(&self, client: kube::Client) {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        );
        let api = Api::<DynamicObject>::all_with(client, &resource);
        let stream = watcher(api, watcher::Config::default().timeout(60)).backoff(backoff());
        let (slot, name) = (Arc::clone(&self.schemas), self.config.name.clone());
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut crds: HashMap<String, Value> = HashMap::new();
            let mut listing: Option<HashMap<String, Value>> = None;
            while let Some(event) = stream.next().await {
                let Ok(event) = event else { continue };
                let tyk =
                    |o: &DynamicObject| o.data["spec"]["group"] == crate::resources::TYK_GROUP;
                let changed = match event {
                    watcher::Event::Init => {
                        listing = Some(HashMap::new());
                        false
                    }
                    watcher::Event::InitApply(o) => {
                        if tyk(&o)
                            && let (Some(n), Some(v)) = (o.metadata.name.clone(), object_value(o))
                        {
                            listing.get_or_insert_with(HashMap::new).insert(n, v);
                        }
                        false
                    }
                    watcher::Event::InitDone => {
                        crds = listing.take().unwrap_or_default();
                        true
                    }
                    watcher::Event::Apply(o) if tyk(&o) => {
                        match (o.metadata.name.clone(), object_value(o)) {
                            (Some(n), Some(v)) => {
                                crds.insert(n, v);
                                true
                            }
                            _ => false,
                        }
                    }
                    watcher::Event::Delete(o) if tyk(&o) => o
                        .metadata
                        .name
                        .as_ref()
                        .is_some_and(|n| crds.remove(n).is_some()),
                    _ => false,
                };
                if changed {
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
