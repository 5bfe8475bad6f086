//! `kube-emulator`: serve an emulated cluster for the demo. Registers the CRDs given as files.
//!
//!     kube-emulator --listen 127.0.0.1:0 --kubeconfig out.yaml --context staging crds.yaml...

use std::sync::Arc;
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
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            "--kubeconfig" => kubeconfig = args.next(),
            "--context" => context = args.next().unwrap_or(context),
            "--help" | "-h" => {
                println!(
                    "kube-emulator [--listen ADDR] [--kubeconfig FILE] [--context NAME] [CRD.yaml...]"
                );
                return Ok(());
            }
            file => crds.push(file.to_owned()),
        }
    }
    let store = Arc::new(Store::new());
    for file in crds {
        let text = std::fs::read_to_string(&file)?;
        for doc in serde_saphyr::from_multiple::<serde_json::Value>(&text)
            .map_err(|e| anyhow::anyhow!("{file}: {e}"))?
        {
            if doc["kind"] == "CustomResourceDefinition" {
                store
                    .register_crd(&doc)
                    .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            }
        }
    }
    let emulator = Emulator::serve(listen.parse()?, store).await?;
    if let Some(path) = kubeconfig {
        std::fs::write(&path, emulator.kubeconfig(&context))?;
    }
    println!("kube-emulator serving {} at {}", context, emulator.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
