//! The Kubernetes API emulator, driven by the real `kube` client (and `kubectl` where installed):
//! discovery, CRUD, conflicts, patches, server-side apply with managedFields, status,
//! finalizers, and a reflector that survives the server going away and a `410 Gone` on its
//! return.

use crate::support::{fixture_crds, wait_for};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tollgate_emulator::{Emulator, Store};

fn crds(store: &Store) {
    for doc in fixture_crds("crds/tyk-operator.yaml") {
        store.register_crd(&doc).expect("registers");
    }
}

async fn client(emulator: &Emulator) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&emulator.kubeconfig("test")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("config");
    kube::Client::try_from(config).expect("client")
}

fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("tyk.tyk.io", "v1alpha1", "ApiDefinition"),
        "apidefinitions",
    )
}

fn httpbin(target: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": "httpbin", "namespace": "default"},
        "spec": {"name": "httpbin", "protocol": "http", "use_keyless": true, "proxy": {"listen_path": "/httpbin", "target_url": target}}
    }))
    .expect("object")
}

#[tokio::test]
async fn the_real_kube_client_works_against_the_emulator() {
    let store = Arc::new(Store::new());
    crds(&store);
    let emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    let client = client(&emulator).await;

    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let kinds: Vec<String> = discovery
        .groups()
        .filter(|g| g.name() == "tyk.tyk.io")
        .flat_map(|g| g.recommended_resources())
        .map(|(r, _)| r.kind)
        .collect();
    assert!(
        kinds.contains(&"ApiDefinition".to_owned()) && kinds.contains(&"SecurityPolicy".to_owned()),
        "{kinds:?}"
    );

    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &api_resource());
    // Server-side apply, as Argo CD does.
    let applied = api
        .patch(
            "httpbin",
            &PatchParams::apply("argocd-controller").force(),
            &Patch::Apply(httpbin("http://httpbin.org")),
        )
        .await
        .expect("apply");
    assert_eq!(applied.metadata.generation, Some(1));
    let managers: Vec<String> = applied
        .metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, vec!["argocd-controller"]);

    // A manual edit: ownership of that one field moves to kubectl-edit.
    let edited = api
        .patch(
            "httpbin",
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"proxy": {"target_url": "http://evil"}}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(edited.metadata.generation, Some(2));
    let live = serde_json::to_value(&edited).expect("json");
    let path = [
        tollgate::yaml::edit::Seg::Key("spec".into()),
        tollgate::yaml::edit::Seg::Key("proxy".into()),
        tollgate::yaml::edit::Seg::Key("target_url".into()),
    ];
    let owner = tollgate::sync::owner_of(&live, &path).expect("owned");
    assert_eq!(
        (
            owner.manager.as_str(),
            owner.operation.as_str(),
            owner.actor
        ),
        ("kubectl-edit", "Update", tollgate::sync::Actor::Manual)
    );
    let listen = [
        tollgate::yaml::edit::Seg::Key("spec".into()),
        tollgate::yaml::edit::Seg::Key("proxy".into()),
        tollgate::yaml::edit::Seg::Key("listen_path".into()),
    ];
    assert_eq!(
        tollgate::sync::owner_of(&live, &listen).map(|o| o.manager),
        Some("argocd-controller".into())
    );

    // Field and label selectors, as the API server reads them.
    let mut other = httpbin("http://other");
    other.metadata.name = Some("other".into());
    other.metadata.labels = Some([("team".to_owned(), "edge".to_owned())].into());
    api.create(&PostParams::default(), &other)
        .await
        .expect("create");
    let names = |list: kube::core::ObjectList<DynamicObject>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect()
    };
    let by_name = api
        .list(&kube::api::ListParams::default().fields("metadata.name=httpbin"))
        .await
        .expect("list");
    assert_eq!(names(by_name), ["httpbin"]);
    let by_label = api
        .list(&kube::api::ListParams::default().labels("team=edge"))
        .await
        .expect("list");
    assert_eq!(names(by_label), ["other"]);
    let unlabelled = api
        .list(&kube::api::ListParams::default().labels("!team"))
        .await
        .expect("list");
    assert_eq!(names(unlabelled), ["httpbin"]);
    let refused = api
        .list(&kube::api::ListParams::default().fields("spec.name=x"))
        .await
        .expect_err("unsupported field");
    assert!(
        matches!(&refused, kube::Error::Api(e) if e.code == 400 && e.message.contains("spec.name")),
        "{refused}"
    );
    api.delete("other", &DeleteParams::default())
        .await
        .expect("delete");

    // RFC 6902 JSON patches: applied in order; a failing `test` changes nothing and is a 422.
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/proxy/target_url", "value": "http://evil"},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "edge"}},
        {"op": "replace", "path": "/spec/proxy/target_url", "value": "http://patched"}
    ]))
    .expect("patch");
    let patched = api
        .patch("httpbin", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .expect("json patch");
    assert_eq!(
        patched.data["spec"]["proxy"]["target_url"],
        "http://patched"
    );
    assert_eq!(
        patched
            .metadata
            .labels
            .unwrap_or_default()
            .get("tier")
            .map(String::as_str),
        Some("edge")
    );
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/proxy/target_url", "value": "http://evil"},
        {"op": "remove", "path": "/spec/proxy"}
    ]))
    .expect("patch");
    let err = api
        .patch(
            "httpbin",
            &PatchParams::default(),
            &Patch::Json::<()>(failing),
        )
        .await
        .expect_err("test op fails");
    assert!(
        matches!(&err, kube::Error::Api(e) if e.code == 422),
        "{err}"
    );
    let unchanged = api.get("httpbin").await.expect("get");
    assert_eq!(
        unchanged.data["spec"]["proxy"]["target_url"],
        "http://patched"
    );

    // Optimistic concurrency: a stale resourceVersion is a conflict.
    let mut stale = applied.clone();
    stale.data["spec"]["name"] = json!("renamed");
    let err = api
        .replace("httpbin", &PostParams::default(), &stale)
        .await
        .expect_err("stale");
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 409),
        "{err:?}"
    );

    // JSON patch and the status subresource.
    api.patch(
        "httpbin",
        &PatchParams::default(),
        &Patch::<()>::Json(
            serde_json::from_value(
                json!([{"op": "replace", "path": "/spec/name", "value": "HTTP bin"}]),
            )
            .expect("patch"),
        ),
    )
    .await
    .expect("json patch");
    let with_status = api
        .patch_status("httpbin", &PatchParams { field_manager: Some("tyk-operator".into()), ..Default::default() }, &Patch::Merge(json!({"status": {"api_id": "ZGVmYXVsdC9odHRwYmlu", "latestTransaction": {"status": "Successful"}}})))
        .await
        .expect("status");
    assert_eq!(with_status.data["status"]["api_id"], "ZGVmYXVsdC9odHRwYmlu");
    assert_eq!(with_status.data["spec"]["name"], "HTTP bin");

    // Finalizers hold a deletion until they are removed.
    api.patch(
        "httpbin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["finalizers.tyk.io/apidefinition"]}})),
    )
    .await
    .expect("finalizer");
    api.delete("httpbin", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = api.get("httpbin").await.expect("still there");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    api.patch(
        "httpbin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .expect("release");
    assert!(matches!(api.get("httpbin").await, Err(kube::Error::Api(ref e)) if e.code == 404));
}

#[tokio::test]
async fn a_reflector_survives_an_outage_and_relists_after_410() {
    let store = Arc::new(Store::new());
    crds(&store);
    let mut emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    let addr = emulator.addr;
    let client = client(&emulator).await;
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &api_resource());
    api.create(&PostParams::default(), &httpbin("http://one"))
        .await
        .expect("create");

    let writer = reflector::store::Writer::<DynamicObject>::new(api_resource());
    let reader = writer.as_reader();
    let stream = reflector(
        writer,
        watcher(api.clone(), watcher::Config::default().timeout(5)).default_backoff(),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut stream = std::pin::pin!(stream);
        while stream.next().await.is_some() {}
    });
    let target = |reader: &reflector::Store<DynamicObject>| {
        reader.state().first().map(|o| {
            o.data["spec"]["proxy"]["target_url"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
    };
    let r = reader.clone();
    wait_for("the first list", Duration::from_secs(10), || {
        let r = r.clone();
        async move { target(&r).as_deref() == Some("http://one") }
    })
    .await;
    api.patch(
        "httpbin",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"proxy": {"target_url": "http://two"}}})),
    )
    .await
    .expect("patch");
    let r = reader.clone();
    wait_for("a watch event", Duration::from_secs(10), || {
        let r = r.clone();
        async move { target(&r).as_deref() == Some("http://two") }
    })
    .await;

    // The cluster goes away; meanwhile its state changes and its event history is compacted.
    emulator.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = store
        .type_for("tyk.tyk.io", "v1alpha1", "apidefinitions")
        .expect("type");
    store
        .patch(
            &t,
            "default",
            "httpbin",
            tollgate_emulator::PatchKind::Merge,
            &json!({"spec": {"proxy": {"target_url": "http://three"}}}),
            "kubectl-edit",
            false,
        )
        .expect("patch");
    store.compact();
    assert_eq!(
        target(&reader).as_deref(),
        Some("http://two"),
        "the store keeps the last state while the cluster is away"
    );
    // It returns on the same address: the watcher resumes, gets 410, relists.
    emulator = Emulator::serve(addr, Arc::clone(&store))
        .await
        .expect("serves again");
    let r = reader.clone();
    wait_for("the relist after 410", Duration::from_secs(15), || {
        let r = r.clone();
        async move { target(&r).as_deref() == Some("http://three") }
    })
    .await;
    assert_eq!(reader.state().len(), 1);
    task.abort();
    drop(emulator);
}

/// Runs kubectl against the emulator; `None` when kubectl is not installed.
fn kubectl(kubeconfig: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .envs(env.iter().copied())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("kubectl: {e}"),
    };
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The real `kubectl`, when installed: discovery, server-side apply, get, patch, `kubectl edit`
/// (its own field manager), delete. Skipped, saying so, where kubectl is absent.
#[tokio::test]
async fn kubectl_works_against_the_emulator() {
    let store = Arc::new(Store::new());
    crds(&store);
    let emulator = Emulator::serve("127.0.0.1:0".parse().expect("addr"), Arc::clone(&store))
        .await
        .expect("serves");
    let dir = tempfile::tempdir().expect("dir");
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, emulator.kubeconfig("test")).expect("kubeconfig");
    let manifest = dir.path().join("httpbin.yaml");
    std::fs::write(
        &manifest,
        serde_json::to_string(&httpbin("http://httpbin.org")).expect("json"),
    )
    .expect("manifest");
    let kc2 = kc.clone();
    let run = move |args: Vec<String>, env: Vec<(String, String)>| {
        let kc = kc2.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                kubectl(&kc, &args, &env)
            })
            .await
            .expect("kubectl ran")
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let Some(resources) = run(args(&["api-resources", "--api-group=tyk.tyk.io"]), vec![]).await
    else {
        eprintln!("kubectl is not installed: skipping the kubectl test");
        return;
    };
    assert!(resources.contains("apidefinitions"), "{resources}");
    let m = manifest.display().to_string();
    run(
        args(&[
            "apply",
            "--server-side",
            "--field-manager=argocd-controller",
            "-f",
            &m,
        ]),
        vec![],
    )
    .await;
    let got = run(
        args(&["get", "apidefinitions", "-n", "default", "-o", "json"]),
        vec![],
    )
    .await
    .expect("kubectl");
    let list: serde_json::Value = serde_json::from_str(&got).expect("json");
    assert_eq!(list["items"][0]["metadata"]["name"], "httpbin", "{list}");
    run(
        args(&[
            "patch",
            "apidefinition",
            "httpbin",
            "-n",
            "default",
            "--type=merge",
            "-p",
            r#"{"spec":{"proxy":{"preserve_host_header":true}}}"#,
        ]),
        vec![],
    )
    .await;
    // `kubectl edit` with a scripted editor: what someone fixing prod by hand does.
    run(
        args(&["edit", "apidefinition", "httpbin", "-n", "default"]),
        vec![(
            "KUBE_EDITOR".into(),
            "sed -i s#http://httpbin.org#http://hotfix:8080#".into(),
        )],
    )
    .await;
    let t = store
        .type_for("tyk.tyk.io", "v1alpha1", "apidefinitions")
        .expect("type");
    let obj = store.get(&t, "default", "httpbin").expect("object");
    assert_eq!(obj["spec"]["proxy"]["target_url"], "http://hotfix:8080");
    assert_eq!(obj["spec"]["proxy"]["preserve_host_header"], true);
    let managers: Vec<&str> = obj["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    for manager in ["argocd-controller", "kubectl-patch", "kubectl-edit"] {
        assert!(managers.contains(&manager), "{manager} in {managers:?}");
    }
    run(
        args(&["delete", "apidefinition", "httpbin", "-n", "default"]),
        vec![],
    )
    .await;
    assert!(store.get(&t, "default", "httpbin").is_none());
}
