//! Every state, the normalisation rules (the operator's own writes are not drift), attribution.

use super::*;
use crate::yaml::edit::Seg;
use serde_json::json;

fn api(target: &str) -> Value {
    json!({
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": "httpbin", "namespace": "default", "labels": {"team": "a"}},
        "spec": {"name": "httpbin", "protocol": "http", "use_standard_auth": true,
                 "proxy": {"listen_path": "/httpbin", "target_url": target, "strip_listen_path": true},
                 "tags": ["edge"]}
    })
}

/// What the cluster holds after the agent applied `desired` and the operator reconciled it.
fn live_of(desired: &Value) -> Value {
    let mut live = desired.clone();
    live["metadata"]["uid"] = json!("4f1c");
    live["metadata"]["resourceVersion"] = json!("812");
    live["metadata"]["generation"] = json!(3);
    live["metadata"]["finalizers"] = json!(["finalizers.tyk.io/apidefinition"]);
    live["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
    // Webhook defaults and operator writes.
    live["spec"]["version_data"] = json!({"not_versioned": true, "default_version": "Default", "versions": {"Default": {"name": "Default"}}});
    live["spec"]["auth_configs"] = json!({"authToken": {"auth_header_name": "Authorization"}});
    live["status"] = json!({"api_id": "ZGVmYXVsdC9odHRwYmlu", "latestTransaction": {"status": "Successful", "time": "2026-11-27T10:00:00Z"}});
    live["metadata"]["managedFields"] = json!([
        {"manager": "argocd-controller", "operation": "Apply", "time": "2026-11-27T10:00:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:name": {}, "f:protocol": {}, "f:use_standard_auth": {},
            "f:proxy": {"f:listen_path": {}, "f:target_url": {}, "f:strip_listen_path": {}}, "f:tags": {}}}},
        {"manager": "tyk-operator", "operation": "Update", "subresource": "status", "time": "2026-11-27T10:00:01Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:status": {"f:api_id": {}, "f:latestTransaction": {".": {}, "f:status": {}, "f:time": {}}}}}
    ]);
    live
}

fn inputs<'a>(
    head: Option<&'a Value>,
    applied: Option<Option<&'a Value>>,
    live: Option<&'a Value>,
) -> Inputs<'a> {
    Inputs {
        kind: Kind::ApiDefinition,
        head,
        applied,
        live,
        reachable: true,
    }
}

#[test]
fn synced_despite_server_metadata_status_and_operator_defaults() {
    let desired = api("http://httpbin.org");
    let live = live_of(&desired);
    let s = status(inputs(Some(&desired), Some(Some(&desired)), Some(&live)));
    assert_eq!(s.state, SyncState::Synced, "{s:?}");
    // No agent: the head is taken as applied.
    assert_eq!(
        status(inputs(Some(&desired), None, Some(&live))).state,
        SyncState::Synced
    );
}

#[test]
fn pending_until_the_agent_applies_the_head() {
    let old = api("http://old");
    let new = api("http://new");
    let live = live_of(&old);
    assert_eq!(
        status(inputs(Some(&new), Some(Some(&old)), Some(&live))).state,
        SyncState::Pending
    );
    // Added in Git, not applied yet; removed in Git, not pruned yet.
    assert_eq!(
        status(inputs(Some(&new), Some(None), None)).state,
        SyncState::Pending
    );
    assert_eq!(
        status(inputs(None, Some(Some(&old)), Some(&live))).state,
        SyncState::Pending
    );
}

#[test]
fn manual_edits_are_drift_with_their_author() {
    let desired = api("http://httpbin.org");
    let mut live = live_of(&desired);
    live["spec"]["proxy"]["target_url"] = json!("http://evil.example");
    live["metadata"]["managedFields"].as_array_mut().unwrap().push(json!(
        {"manager": "kubectl-edit", "operation": "Update", "time": "2026-11-27T10:32:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:proxy": {"f:target_url": {}}}}}
    ));
    let s = status(inputs(Some(&desired), Some(Some(&desired)), Some(&live)));
    assert_eq!(s.state, SyncState::Drifted);
    assert_eq!(s.drift.len(), 1);
    let d = &s.drift[0];
    assert_eq!(d.path, "spec.proxy.target_url");
    assert_eq!(
        (d.desired.clone(), d.live.clone()),
        (
            Some(json!("http://httpbin.org")),
            Some(json!("http://evil.example"))
        )
    );
    let owner = d.owner.clone().expect("attributed");
    assert_eq!(
        (
            owner.manager.as_str(),
            owner.operation.as_str(),
            owner.actor
        ),
        ("kubectl-edit", "Update", Actor::Manual)
    );
    assert_eq!(owner.time.as_deref(), Some("2026-11-27T10:32:00Z"));
}

#[test]
fn drift_covers_labels_lists_and_removed_fields() {
    let desired = api("http://httpbin.org");
    let mut live = live_of(&desired);
    live["metadata"]["labels"]["team"] = json!("b");
    live["spec"]["tags"] = json!(["edge", "extra"]);
    live["spec"]["proxy"]
        .as_object_mut()
        .unwrap()
        .remove("strip_listen_path");
    let s = status(inputs(Some(&desired), Some(Some(&desired)), Some(&live)));
    let paths: Vec<&str> = s.drift.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "metadata.labels.team",
            "spec.proxy.strip_listen_path",
            "spec.tags"
        ]
    );
    let removed = &s.drift[1];
    assert_eq!(removed.live, None);
    // Still attributed to the agent's apply: nobody else touched those fields.
    assert_eq!(
        s.drift[0].owner.as_ref().map(|o| o.actor),
        Some(Actor::Agent)
    );
    // Extra live keys are not drift; extra annotations neither.
    let mut more = live_of(&desired);
    more["spec"]["enable_detailed_recording"] = json!(true);
    more["metadata"]["annotations"]["x"] = json!("y");
    assert_eq!(
        status(inputs(Some(&desired), None, Some(&more))).state,
        SyncState::Synced
    );
}

#[test]
fn policy_fields_the_operator_writes_are_not_drift() {
    let desired = json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "SecurityPolicy", "metadata": {"name": "gold", "namespace": "default"},
        "spec": {"name": "Gold", "state": "active", "active": true, "org_id": "mine", "access_rights_array": [{"name": "httpbin", "namespace": "default", "versions": ["Default"]}]}});
    let mut live = desired.clone();
    live["spec"]["org_id"] = json!("5e9d9544a1dcd60001d0ed20");
    live["spec"]["id"] = json!("ZGVmYXVsdC9nb2xk");
    live["spec"]["_id"] = json!("64f0");
    live["spec"]["access_rights"] =
        json!({"ZGVmYXVsdC9odHRwYmlu": {"api_id": "ZGVmYXVsdC9odHRwYmlu"}});
    live["spec"]["access_rights_array"][0]["api_id"] = json!("ZGVmYXVsdC9odHRwYmlu");
    live["spec"]["access_rights_array"][0]["api_name"] = json!("httpbin");
    let s = status(Inputs {
        kind: Kind::SecurityPolicy,
        head: Some(&desired),
        applied: None,
        live: Some(&live),
        reachable: true,
    });
    assert_eq!(s.state, SyncState::Synced, "{s:?}");
    live["spec"]["access_rights_array"][0]["versions"] = json!(["v2"]);
    let s = status(Inputs {
        kind: Kind::SecurityPolicy,
        head: Some(&desired),
        applied: None,
        live: Some(&live),
        reachable: true,
    });
    assert_eq!(
        (s.state, s.drift[0].path.as_str()),
        (SyncState::Drifted, "spec.access_rights_array[0].versions")
    );
}

#[test]
fn written_back_certificate_ids_are_not_drift() {
    let mut desired = api("http://httpbin.org");
    desired["spec"]["certificate_secret_names"] = json!(["tls-secret"]);
    desired["spec"]["certificates"] = json!([]);
    let mut live = live_of(&desired);
    live["spec"]["certificates"] = json!(["5e9d9544a1dcd60001d0ed20a6ab77"]);
    assert_eq!(
        status(inputs(Some(&desired), None, Some(&live))).state,
        SyncState::Synced
    );
}

#[test]
fn failed_missing_orphaned_and_unknown() {
    let desired = api("http://httpbin.org");
    let mut live = live_of(&desired);
    live["status"]["latestTransaction"] =
        json!({"status": "Failed", "error": "unable to create api: listen path taken"});
    let s = status(inputs(Some(&desired), Some(Some(&desired)), Some(&live)));
    assert_eq!(
        (s.state, s.error.as_deref()),
        (
            SyncState::Failed,
            Some("unable to create api: listen path taken")
        )
    );
    assert_eq!(
        status(inputs(Some(&desired), Some(Some(&desired)), None)).state,
        SyncState::Missing
    );
    assert_eq!(
        status(inputs(None, Some(None), Some(&live))).state,
        SyncState::Orphaned
    );
    let unreachable = Inputs {
        reachable: false,
        ..inputs(Some(&desired), None, Some(&live))
    };
    assert_eq!(status(unreachable).state, SyncState::Unknown);
}

#[test]
fn list_items_are_attributed_by_key() {
    let live = json!({"metadata": {"managedFields": [
        {"manager": "argocd-controller", "operation": "Apply", "time": "2026-11-27T10:00:00Z",
         "fieldsV1": {"f:spec": {"f:access_rights_array": {"k:{\"name\":\"a\",\"namespace\":\"x\"}": {".": {}, "f:versions": {}}}}}},
        {"manager": "kubectl-patch", "operation": "Update", "time": "2026-11-27T11:00:00Z",
         "fieldsV1": {"f:spec": {"f:access_rights_array": {"k:{\"name\":\"b\",\"namespace\":\"x\"}": {"f:versions": {}}}}}}
    ]}, "spec": {"access_rights_array": [{"name": "a", "namespace": "x"}, {"name": "b", "namespace": "x"}]}});
    let path = |i| {
        vec![
            Seg::Key("spec".into()),
            Seg::Key("access_rights_array".into()),
            Seg::Index(i),
            Seg::Key("versions".into()),
        ]
    };
    assert_eq!(
        owner_of(&live, &path(0)).map(|o| o.manager),
        Some("argocd-controller".into())
    );
    assert_eq!(
        owner_of(&live, &path(1)).map(|o| (o.manager, o.actor)),
        Some(("kubectl-patch".into(), Actor::Manual))
    );
}

#[test]
fn applied_revisions_from_argo_and_flux() {
    let sha = "1eabc9a41ca088515cab83f1cce49eb43e84b67f";
    assert_eq!(
        applied_commit(&json!({"status": {"sync": {"revision": sha}}})).as_deref(),
        Some(sha)
    );
    for rev in [
        format!("main@sha1:{sha}"),
        format!("sha1:{sha}"),
        format!("refs/heads/main@sha1:{sha}"),
        format!("main/{sha}"),
    ] {
        assert_eq!(
            applied_commit(&json!({"status": {"lastAppliedRevision": rev}})).as_deref(),
            Some(sha),
            "{rev}"
        );
    }
    assert_eq!(
        applied_commit(&json!({"status": {"lastAppliedRevision": "latest@sha256:abc"}})),
        None
    );
    assert_eq!(applied_commit(&json!({})), None);
}

#[test]
fn adopting_drift_patches_only_the_drifted_fields() {
    let desired = json!({"spec": {"proxy": {"target_url": "a", "listen_path": "/x"}, "tags": ["edge"],
        "access_rights_array": [{"name": "a", "versions": ["Default"]}, {"name": "b", "versions": ["v1"]}]}});
    let live = json!({"spec": {"proxy": {"target_url": "b", "listen_path": "/x"}, "tags": ["edge", "more"],
        "access_rights_array": [{"name": "a", "versions": ["Default"], "api_id": "x"}, {"name": "b", "versions": ["v2"], "api_id": "y"}]}});
    let patch = adopt_patch(
        &desired,
        &live,
        &[
            "spec.proxy.target_url".into(),
            "spec.tags".into(),
            "spec.access_rights_array[1].versions".into(),
            "spec.gone".into(),
        ],
    );
    assert_eq!(
        patch,
        json!({"spec": {"proxy": {"target_url": "b"}, "tags": ["edge", "more"], "gone": null,
        "access_rights_array": [{"name": "a", "versions": ["Default"]}, {"name": "b", "versions": ["v2"]}]}})
    );
}

#[test]
fn paths_with_dotted_keys_read_back_and_adopt() {
    use crate::yaml::edit::Seg;
    let path = vec![Seg::Key("data".into()), Seg::Key("pet-store.json".into())];
    let text = super::path_text(&path);
    assert_eq!(text, r#"data["pet-store.json"]"#);
    assert_eq!(super::parse_path(&text), Some(path));
    let list = vec![
        Seg::Key("spec".into()),
        Seg::Key("rules".into()),
        Seg::Index(2),
        Seg::Key("a]b".into()),
    ];
    assert_eq!(super::parse_path(&super::path_text(&list)), Some(list));
    assert_eq!(super::parse_path("spec..x"), None);
    assert_eq!(super::parse_path("spec[x]"), None);
    let desired = json!({"data": {"pet-store.json": "{\"a\": 1}", "other": "x"}});
    let live = json!({"data": {"pet-store.json": "{\"a\": 2}", "other": "x"}});
    assert_eq!(
        adopt_patch(&desired, &live, &[text]),
        json!({"data": {"pet-store.json": "{\"a\": 2}"}})
    );
}

#[test]
fn oas_documents_in_configmaps_drift_field_by_field() {
    let doc = |title: &str, extra: bool| {
        let mut oas = json!({"openapi": "3.0.3", "info": {"title": title, "version": "1"},
            "x-tyk-api-gateway": {"info": {"name": "pets"}}});
        if extra {
            oas["x-added"] = json!(true);
        }
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pets", "namespace": "team"},
            "data": {"oas.json": serde_json::to_string_pretty(&oas).unwrap_or_default()}})
    };
    let desired = doc("Pets", false);
    // Same document, other formatting: not drift.
    let mut reformatted = desired.clone();
    let compact: Value = serde_json::from_str(desired["data"]["oas.json"].as_str().unwrap_or("{}"))
        .unwrap_or_default();
    reformatted["data"]["oas.json"] = json!(compact.to_string());
    assert!(compare(Kind::ConfigMap, &desired, &reformatted).is_empty());
    let diffs = compare(Kind::ConfigMap, &desired, &doc("Hotfix", true));
    let paths: Vec<String> = diffs.iter().map(|d| d.path_text()).collect();
    assert_eq!(
        paths,
        [
            r#"data["oas.json"].info.title"#,
            r#"data["oas.json"].x-added"#
        ]
    );
    assert_eq!(diffs[0].live, Some(json!("Hotfix")));
    assert_eq!(
        (diffs[1].desired.clone(), diffs[1].live.clone()),
        (None, Some(json!(true)))
    );
    // Text that is not a document compares as text.
    let mut plain = desired.clone();
    plain["data"]["oas.json"] = json!("not json");
    let diffs = compare(Kind::ConfigMap, &desired, &plain);
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].path_text(), r#"data["oas.json"]"#);
}
