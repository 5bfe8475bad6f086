//! Webhooks: signatures, delivery ids, order.

use super::*;

/// What a receiver got: headers and body of each request.
pub(super) type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A webhook receiver that keeps what it gets.
pub(super) async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = Arc::clone(&got);
    let app = axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let keep = Arc::clone(&keep);
            async move {
                keep.lock().unwrap().push((headers, body.to_vec()));
                "ok"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_the_way_each_host_signs_them() {
    let f = fixture().await;
    let (url, got) = receiver().await;
    f.host.set_webhook(Flavour::GitHub, &url, "gh-secret");
    f.host.set_webhook(Flavour::GitLab, &url, "gl-secret");
    f.host.set_webhook(Flavour::Gitea, &url, "gt-secret");
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::GitHub,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let host = &f.host;
    assert!(host.deliveries_settled(Duration::from_secs(5)).await);
    let got = got.lock().unwrap().clone();
    let header =
        |h: &axum::http::HeaderMap, n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
    let mut ids = std::collections::BTreeSet::new();
    let mut seen = Vec::new();
    for (h, body) in &got {
        let payload: Value = serde_json::from_slice(body).unwrap();
        if let Some(event) = header(h, "x-gitea-event") {
            assert_eq!(
                header(h, "x-gitea-signature").unwrap(),
                hmac_hex("gt-secret", body)
            );
            assert!(ids.insert(header(h, "x-gitea-delivery").unwrap()));
            seen.push(format!("gitea:{event}"));
        } else if let Some(event) = header(h, "x-gitlab-event") {
            assert_eq!(header(h, "x-gitlab-token").unwrap(), "gl-secret");
            assert!(ids.insert(header(h, "x-gitlab-event-uuid").unwrap()));
            seen.push(format!(
                "gitlab:{event}:{}",
                payload["object_kind"].as_str().unwrap()
            ));
        } else {
            let event = header(h, "x-github-event").unwrap();
            let sig = header(h, "x-hub-signature-256").unwrap();
            assert_eq!(sig, format!("sha256={}", hmac_hex("gh-secret", body)));
            assert!(ids.insert(header(h, "x-github-delivery").unwrap()));
            if event == "pull_request" {
                assert_eq!(payload["action"], "opened");
                assert_eq!(payload["pull_request"]["head"]["ref"], "tollgate/1-a");
            }
            seen.push(format!("github:{event}"));
        }
    }
    for want in [
        "github:ping",
        "github:push",
        "github:pull_request",
        "gitlab:Push Hook:push",
        "gitlab:Merge Request Hook:merge_request",
        "gitea:push",
        "gitea:pull_request",
    ] {
        assert!(seen.contains(&want.to_owned()), "{want} not in {seen:?}");
    }
    // In order: the push before the pull request.
    let gh: Vec<&String> = seen.iter().filter(|s| s.starts_with("github:")).collect();
    assert_eq!(gh, ["github:ping", "github:push", "github:pull_request"]);
}
