//! What the benchmarks share: summarising samples, the process's resident memory, and a bounded
//! load of concurrent clients against the running server on loopback.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant};

/// The number in environment variable `name` (a benchmark's size), or `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n=… min=… median=… p95=… max=…`.
pub fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "n={} min={:.2?} median={:.2?} p95={:.2?} max={:.2?}",
        samples.len(),
        samples[0],
        pick(0.5),
        pick(0.95),
        samples[samples.len() - 1]
    )
}

/// This process's resident memory, in MB.
pub fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

/// `clients` concurrent clients each GET `per_client` URLs (cycling through `urls`), every
/// answer a success with a body. Returns each request's latency and the requests per second.
pub async fn load(
    client: &reqwest::Client,
    urls: &[String],
    clients: usize,
    per_client: usize,
) -> (Vec<Duration>, f64) {
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..clients {
        let (client, urls) = (client.clone(), urls.to_vec());
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(per_client);
            for r in 0..per_client {
                let t = Instant::now();
                let response = client
                    .get(&urls[(w + r) % urls.len()])
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                assert!(!response.bytes().await.unwrap().is_empty());
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let rate = (clients * per_client) as f64 / started.elapsed().as_secs_f64();
    (all, rate)
}
