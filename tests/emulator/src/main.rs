//! `kube-emulator`: serve an emulated cluster for the demo, optionally with a simulated Argo CD
//! and Tyk Operator applying a config repo to it.
//!
//!     kube-emulator [--listen ADDR] [--kubeconfig FILE] [--context NAME]
//!                   [--agent-repo GIT_DIR --agent-branch main --agent-path "" --agent-delay SECS
//!                    --agent argocd|flux --application argocd/tyk-apis] [CRD.yaml...]
//!
//! `--application` names the Argo CD Application, or with `--agent flux` the Flux Kustomization.

use std::sync::Arc;
use std::time::Duration;
use tollgate_emulator::agent::{self, AgentSettings, Flavor};
use tollgate_emulator::{Emulator, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut args = std::env::args().skip(1);
    let (mut listen, mut kubeconfig, mut context, mut crds) = (
        "127.0.0.1:0".to_owned(),
        None,
        "emulator".to_owned(),
        Vec::new(),
    );
    let mut flavor = Flavor::ArgoCd;
    let (mut repo, mut branch, mut path, mut delay, mut application) = (
        None,
        "main".to_owned(),
        String::new(),
        0u64,
        "argocd/tyk-apis".to_owned(),
    );
    while let Some(arg) = args.next() {
        let mut value = |default: String| args.next().unwrap_or(default);
        match arg.as_str() {
            "--listen" => listen = value(listen.clone()),
            "--kubeconfig" => kubeconfig = Some(value(String::new())),
            "--context" => context = value(context.clone()),
            "--agent-repo" => repo = Some(value(String::new())),
            "--agent-branch" => branch = value(branch.clone()),
            "--agent-path" => path = value(path.clone()),
            "--agent-delay" => delay = value("0".into()).parse().unwrap_or(0),
            "--application" => application = value(application.clone()),
            "--agent" => {
                let name = value(String::new());
                flavor = Flavor::parse(&name)
                    .ok_or_else(|| anyhow::anyhow!("--agent: `{name}` is not argocd or flux"))?;
            }
            "--help" | "-h" => {
                println!(
                    "kube-emulator [--listen ADDR] [--kubeconfig FILE] [--context NAME] [--agent-repo GIT_DIR --agent-branch B --agent-path P --agent-delay SECS --agent argocd|flux --application NS/NAME] [CRD.yaml...]"
                );
                return Ok(());
            }
            file => crds.push(file.to_owned()),
        }
    }
    let store = Arc::new(Store::new());
    store.register_builtin_crds();
    for file in crds {
        let text = std::fs::read_to_string(&file)?;
        // CRDs nest deeply; this is a trusted file, so the budgets are generous.
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_depth: 200,
                max_nodes: 4_000_000,
                max_events: 8_000_000,
                max_total_scalar_bytes: 64 << 20,
                max_reader_input_bytes: Some(64 << 20),
            },
        };
        for doc in serde_saphyr::from_multiple_with_options::<serde_json::Value>(&text, options)
            .map_err(|e| anyhow::anyhow!("{file}: {e}"))?
        {
            if doc["kind"] == "CustomResourceDefinition" {
                store
                    .register_crd(&doc)
                    .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            }
        }
    }
    let emulator = Emulator::serve(listen.parse()?, Arc::clone(&store)).await?;
    if let Some(file) = kubeconfig {
        std::fs::write(&file, emulator.kubeconfig(&context))?;
    }
    if let Some(repo) = repo {
        let (ns, name) = application
            .split_once('/')
            .unwrap_or(("argocd", application.as_str()));
        let settings = AgentSettings {
            flavor,
            repo: repo.into(),
            branch,
            path,
            delay: Duration::from_secs(delay),
            object: (ns.to_owned(), name.to_owned()),
        };
        tokio::spawn(agent::run(Arc::clone(&store), settings));
    }
    println!("kube-emulator serving {} at {}", context, emulator.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
