//! A Kubernetes API server emulator for tests and the demo: an in-memory store behind the real
//! REST and watch protocol, so the real `kube` client and `kubectl` work against it unchanged.
//!
//! Supported: discovery; list with `resourceVersion`; get; watch (resume from a resource
//! version, bookmarks, `410 Gone` once a version has been compacted away); create; update with
//! optimistic-concurrency conflicts; JSON merge, strategic merge (as merge) and JSON patches;
//! server-side apply; `metadata.managedFields` per field manager; the status subresource;
//! finalizers; CustomResourceDefinitions registered from YAML or through the API; field
//! (`metadata.name`, `metadata.namespace`) and label selectors on list and watch; `/openapi/v3`
//! documents of the kinds served, enough for kubectl's validation check (the emulator does not
//! validate against CRD schemas).

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod agent;
mod fields;
pub mod githost;
mod http;
mod store;

pub use store::{ApiErr, PatchKind, Store, TypeInfo};

use std::net::SocketAddr;
use std::sync::Arc;

/// A running emulator.
pub struct Emulator {
    pub addr: SocketAddr,
    pub store: Arc<Store>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
}

impl Emulator {
    /// Serves an empty cluster (ConfigMaps, Namespaces and CRDs built in) on `addr`.
    pub async fn start(addr: SocketAddr) -> anyhow::Result<Self> {
        let store = Arc::new(Store::new());
        Self::serve(addr, store).await
    }

    /// Serves `store` on `addr` (port 0 picks a free port).
    pub async fn serve(addr: SocketAddr, store: Arc<Store>) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let app = http::router(Arc::clone(&store), rx.clone());
        // Watch streams write one small event at a time, as the API server does: no Nagle.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.changed().await;
                })
                .await;
        });
        Ok(Self {
            addr,
            store,
            shutdown: Some(tx),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig for this emulator, with one context named `context`.
    pub fn kubeconfig(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {context}\n  cluster:\n    server: {url}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n    namespace: default\nusers:\n- name: {context}\n  user:\n    token: emulator\ncurrent-context: {context}\n",
            url = self.url()
        )
    }

    /// Stops serving; the store survives, so a new emulator can serve it again.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // Ends open watches too, so clients see the server go away.
            let _ = tx.send(true);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
