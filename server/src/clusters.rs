//! Watching clusters, read-only: a kube-runtime reflector per cluster and kind (the Tyk
//! resources, and the GitOps agent's object), each with its own backoff. Pages and the API read
//! the stores, never the cluster; a cluster that fails marks only itself unreachable.

use crate::config::{AgentKind, ClusterConfig};
use crate::resources::{Kind, ResourceKey};
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Notify;

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

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One watched cluster.
pub struct Cluster {
    pub config: ClusterConfig,
    stores: Vec<(Kind, reflector::Store<DynamicObject>)>,
    agent: Option<reflector::Store<DynamicObject>>,
    health: Arc<RwLock<Health>>,
    /// Objects already converted to JSON, by uid, with the resourceVersion they were read at.
    converted: std::sync::Mutex<HashMap<String, (String, Arc<Value>)>>,
}

fn tyk(kind: Kind) -> ApiResource {
    let (k, plural) = match kind {
        Kind::ApiDefinition => ("ApiDefinition", "apidefinitions"),
        Kind::SecurityPolicy => ("SecurityPolicy", "securitypolicies"),
        Kind::TykOasApiDefinition | Kind::ConfigMap => {
            ("TykOasApiDefinition", "tykoasapidefinitions")
        }
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", k), plural)
}

impl Cluster {
    /// Connects with the cluster's kubeconfig and starts its watches.
    pub async fn start(config: ClusterConfig, changed: Arc<Notify>) -> anyhow::Result<Self> {
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
        let health = Arc::new(RwLock::new(Health::default()));
        let mut cluster = Self {
            config,
            stores: Vec::new(),
            agent: None,
            health,
            converted: std::sync::Mutex::new(HashMap::new()),
        };
        for kind in [
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition,
        ] {
            let store = cluster.watch(
                Api::all_with(client.clone(), &tyk(kind)),
                tyk(kind),
                Arc::clone(&changed),
            );
            cluster.stores.push((kind, store));
        }
        let agent = &cluster.config.agent;
        let gvk = match agent.kind {
            AgentKind::Argocd => Some((
                GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
                "applications",
            )),
            AgentKind::Flux => Some((
                GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
                "kustomizations",
            )),
            AgentKind::None => None,
        };
        cluster.probe(client.clone(), Arc::clone(&changed));
        if let Some((gvk, plural)) = gvk {
            let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
            let api = Api::namespaced_with(client.clone(), &agent.namespace.clone(), &resource);
            cluster.agent = Some(cluster.watch(api, resource, changed));
        }
        Ok(cluster)
    }

    /// Asks the API server for its version every second: a resumed watch that has nothing to
    /// report would not tell us the cluster is back.
    fn probe(&self, client: kube::Client, changed: Arc<Notify>) {
        let health = Arc::clone(&self.health);
        tokio::spawn(async move {
            loop {
                let result =
                    tokio::time::timeout(Duration::from_secs(3), client.apiserver_version()).await;
                {
                    let mut h = health
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let was = h.reachable;
                    match result {
                        Ok(Ok(_)) => {
                            h.reachable = true;
                            h.error = None;
                            h.last_seen = Some(now());
                        }
                        Ok(Err(e)) => {
                            h.reachable = false;
                            h.error = Some(e.to_string());
                        }
                        Err(_) => {
                            h.reachable = false;
                            h.error = Some("the API server did not answer within 3 s".into());
                        }
                    }
                    if was != h.reachable {
                        changed.notify_one();
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    fn watch(
        &mut self,
        api: Api<DynamicObject>,
        resource: ApiResource,
        changed: Arc<Notify>,
    ) -> reflector::Store<DynamicObject> {
        let writer = reflector::store::Writer::<DynamicObject>::new(resource);
        let reader = writer.as_reader();
        let health = Arc::clone(&self.health);
        let name = self.config.name.clone();
        let stream = reflector(writer, watcher(api, watcher::Config::default().timeout(60)))
            .backoff(QuickBackoff {
                next: Duration::from_millis(250),
            });
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let mut h = health
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match event {
                    Ok(_) => {
                        h.last_seen = Some(now());
                        h.error = None;
                        h.reachable = true;
                    }
                    Err(e) => {
                        if h.reachable {
                            tracing::warn!(cluster = %name, error = %e, "cluster watch failed");
                        }
                        h.reachable = false;
                        h.error = Some(e.to_string());
                    }
                }
                drop(h);
                changed.notify_one();
            }
        });
        reader
    }

    pub fn health(&self) -> Health {
        self.health.read().map(|h| h.clone()).unwrap_or_default()
    }

    /// The live Tyk objects, as JSON, keyed by kind/namespace/name. Objects unchanged since
    /// the last call (same uid and resourceVersion) are not converted again.
    pub fn live(&self) -> HashMap<ResourceKey, Arc<Value>> {
        let mut converted = self
            .converted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut seen = HashMap::with_capacity(converted.len());
        let mut out = HashMap::new();
        for (kind, store) in &self.stores {
            for obj in store.state() {
                let (Some(ns), Some(name)) =
                    (obj.metadata.namespace.clone(), obj.metadata.name.clone())
                else {
                    continue;
                };
                let uid = obj
                    .metadata
                    .uid
                    .clone()
                    .unwrap_or_else(|| format!("{kind}/{ns}/{name}"));
                let rv = obj.metadata.resource_version.clone().unwrap_or_default();
                let value = match converted.get(&uid) {
                    Some((at, v)) if *at == rv => Arc::clone(v),
                    _ => match serde_json::to_value(obj.as_ref()) {
                        Ok(v) => Arc::new(v),
                        Err(_) => continue,
                    },
                };
                seen.insert(uid, (rv, Arc::clone(&value)));
                out.insert(ResourceKey::new(*kind, ns, name), value);
            }
        }
        *converted = seen;
        out
    }

    /// The agent's object (Argo CD Application or Flux Kustomization), when configured and seen.
    pub fn agent(&self) -> Option<Value> {
        let store = self.agent.as_ref()?;
        let name = &self.config.agent.name;
        store
            .state()
            .into_iter()
            .find(|o| o.metadata.name.as_deref() == Some(name.as_str()))
            .and_then(|o| serde_json::to_value(o.as_ref()).ok())
    }
}
