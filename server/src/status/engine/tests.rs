use super::*;
use serde_json::json;

fn info(name: &str, reachable: bool) -> ClusterInfo {
    ClusterInfo {
        name: name.into(),
        environment: "main".into(),
        reachable,
        last_seen: Some("2026-11-27T10:00:00Z".into()),
        error: None,
        agent: "none".into(),
        applied_revision: None,
        head_revision: None,
        counts: Vec::new(),
        missing_kinds: Vec::new(),
    }
}

fn api(name: &str, target: &str) -> Value {
    json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"name": name, "proxy": {"target_url": target}}})
}

fn key(name: &str) -> ResourceKey {
    ResourceKey::new(Kind::ApiDefinition, "team", name)
}

fn live(name: &str, target: &str, manager: &str) -> Arc<Value> {
    let mut v = api(name, target);
    v["metadata"]["managedFields"] = json!([{"manager": manager, "operation": "Update",
        "time": "2026-11-27T09:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:proxy": {"f:target_url": {}}}}}]);
    v["metadata"]["resourceVersion"] = json!(format!("{target}@{manager}"));
    Arc::new(v)
}

fn docs(items: &[(&str, &str)]) -> Arc<Documents> {
    Arc::new(items.iter().map(|(n, t)| (key(n), api(n, t))).collect())
}

fn inputs(head: &Arc<Documents>, reachable: bool, name: &str) -> ClusterInputs {
    ClusterInputs {
        head: Arc::clone(head),
        applied: None,
        info: info(name, reachable),
    }
}

fn state_of(engine: &Engine, name: &str, cluster: &str) -> Option<String> {
    engine
        .board()
        .rows
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| r.cells.iter().find(|c| c.cluster == cluster))
        .map(|c| c.state.clone())
}

fn count(engine: &Engine, state: SyncState) -> usize {
    engine.board().counts[state_index(state.as_str())]
}

/// Rows as plain values, for comparing two boards.
fn rows(engine: &Engine) -> Vec<StatusRow> {
    engine.board().rows.iter().map(|r| (**r).clone()).collect()
}

#[test]
fn one_event_changes_one_cell_and_the_counts() {
    let head = docs(&[("a", "http://a"), ("b", "http://b"), ("c", "http://c")]);
    let mut engine = Engine::new(vec![info("staging", true), info("prod", true)]);
    for c in 0..2 {
        engine.set_inputs(c, inputs(&head, true, ["staging", "prod"][c]));
        for n in ["a", "b", "c"] {
            engine.set_live(
                c,
                key(n),
                Some(live(n, &format!("http://{n}"), "argocd-controller")),
            );
        }
    }
    assert_eq!(count(&engine, SyncState::Synced), 6);
    assert!(engine.take_dirty());
    let before: Vec<Arc<StatusRow>> = engine.board().rows.clone();

    engine.set_live(
        1,
        key("b"),
        Some(live("b", "http://hotfix", "kubectl-edit")),
    );
    assert!(engine.take_dirty());
    assert_eq!(state_of(&engine, "b", "prod").as_deref(), Some("drifted"));
    assert_eq!(state_of(&engine, "b", "staging").as_deref(), Some("synced"));
    assert_eq!(count(&engine, SyncState::Synced), 5);
    assert_eq!(count(&engine, SyncState::Drifted), 1);
    let drifted = state_index("drifted");
    assert_eq!(
        (
            engine.board().cluster_counts[0][drifted],
            engine.board().cluster_counts[1][drifted]
        ),
        (0, 1)
    );
    // Only row b is new; the others are the very same rows.
    let after = &engine.board().rows;
    for (old, new) in before.iter().zip(after) {
        assert_eq!(Arc::ptr_eq(old, new), old.name != "b", "row {}", old.name);
    }
    let cell = &after[1].cells[1];
    assert_eq!(cell.cluster, "prod");
    assert_eq!(cell.drift[0].path, "spec.proxy.target_url");
    assert_eq!(cell.drift[0].manager.as_deref(), Some("kubectl-edit"));

    // The same object again changes nothing.
    engine.set_live(
        1,
        key("b"),
        Some(live("b", "http://hotfix", "kubectl-edit")),
    );
    assert!(!engine.take_dirty());
}

#[test]
fn deleting_the_last_cell_removes_the_row() {
    let mut engine = Engine::new(vec![info("staging", true)]);
    engine.set_inputs(0, inputs(&docs(&[]), true, "staging"));
    engine.set_live(
        0,
        key("stray"),
        Some(live("stray", "http://x", "kubectl-create")),
    );
    assert_eq!(
        state_of(&engine, "stray", "staging").as_deref(),
        Some("orphaned")
    );
    engine.set_live(0, key("stray"), None);
    assert!(engine.board().rows.is_empty());
    assert_eq!(engine.board().counts, [0; 7]);
}

#[test]
fn unreachable_cells_remember_their_last_state_and_recover() {
    let head = docs(&[("a", "http://a"), ("b", "http://b")]);
    let mut engine = Engine::new(vec![info("staging", true)]);
    engine.set_inputs(0, inputs(&head, true, "staging"));
    engine.set_live(
        0,
        key("a"),
        Some(live("a", "http://a", "argocd-controller")),
    );
    engine.set_live(0, key("b"), Some(live("b", "http://drift", "kubectl-edit")));

    engine.set_inputs(0, inputs(&head, false, "staging"));
    let cells: Vec<&StatusCell> = engine.board().rows.iter().map(|r| &r.cells[0]).collect();
    assert!(cells.iter().all(|c| c.state == "unknown"));
    assert_eq!(cells[0].last_known.as_deref(), Some("synced"));
    assert_eq!(cells[1].last_known.as_deref(), Some("drifted"));
    assert_eq!(cells[0].last_seen.as_deref(), Some("2026-11-27T10:00:00Z"));
    assert_eq!(count(&engine, SyncState::Unknown), 2);

    engine.set_inputs(0, inputs(&head, true, "staging"));
    assert_eq!(state_of(&engine, "a", "staging").as_deref(), Some("synced"));
    assert_eq!(
        state_of(&engine, "b", "staging").as_deref(),
        Some("drifted")
    );
    assert_eq!(count(&engine, SyncState::Unknown), 0);
}

#[test]
fn a_new_head_recomputes_only_what_it_changed() {
    let head = docs(&[("a", "http://a"), ("b", "http://b")]);
    let mut engine = Engine::new(vec![info("staging", true)]);
    engine.set_inputs(0, inputs(&head, true, "staging"));
    for n in ["a", "b"] {
        engine.set_live(
            0,
            key(n),
            Some(live(n, &format!("http://{n}"), "argocd-controller")),
        );
    }
    let before = engine.board().rows.clone();
    // A new commit: same a, changed b, new c. No agent, so the head counts as applied.
    let next = docs(&[("a", "http://a"), ("b", "http://b2"), ("c", "http://c")]);
    engine.set_inputs(0, inputs(&next, true, "staging"));
    let after = &engine.board().rows;
    assert!(Arc::ptr_eq(&before[0], &after[0]), "a is untouched");
    assert_eq!(
        state_of(&engine, "b", "staging").as_deref(),
        Some("drifted")
    );
    assert_eq!(
        state_of(&engine, "c", "staging").as_deref(),
        Some("missing")
    );
}

#[test]
fn incremental_updates_agree_with_a_rebuild() {
    // A deterministic walk through creates, edits, deletes, relists, head moves and outages
    // on three clusters; after every step the board equals one computed from scratch.
    let names: Vec<String> = (0..12).map(|i| format!("api-{i}")).collect();
    let mut engine = Engine::new(vec![info("c0", true), info("c1", true), info("c2", true)]);
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut head = docs(&[]);
    for step in 0..400 {
        let c = next() % 3;
        let n = &names[next() % names.len()];
        match next() % 10 {
            0..=4 => {
                let target = ["http://a", "http://b", "http://c"][next() % 3];
                engine.set_live(c, key(n), Some(live(n, target, "kubectl-edit")));
            }
            5 => engine.set_live(c, key(n), None),
            6 => {
                let mut items: Vec<(String, &str)> = Vec::new();
                for m in &names {
                    if next() % 2 == 0 {
                        items.push((m.clone(), ["http://a", "http://b"][next() % 2]));
                    }
                }
                let items: Vec<(&str, &str)> =
                    items.iter().map(|(m, t)| (m.as_str(), *t)).collect();
                head = docs(&items);
                for cl in 0..3 {
                    let reachable = engine.board().clusters[cl].reachable;
                    engine.set_inputs(cl, inputs(&head, reachable, &format!("c{cl}")));
                }
            }
            7 => {
                let objects: LiveObjects = names
                    .iter()
                    .filter(|_| next() % 3 != 0)
                    .map(|m| (key(m), live(m, "http://a", "argocd-controller")))
                    .collect();
                engine.replace_live(c, Kind::ApiDefinition, objects);
            }
            _ => {
                let reachable = next() % 2 == 0;
                engine.set_inputs(c, inputs(&head, reachable, &format!("c{c}")));
            }
        }
        let incremental = rows(&engine);
        let counts = engine.board().counts;
        let mut fresh = Engine::new(engine.board().clusters.clone());
        for cl in 0..3 {
            let reachable = engine.board().clusters[cl].reachable;
            fresh.set_inputs(cl, inputs(&head, true, &format!("c{cl}")));
            let objects = engine.live(cl).cloned().unwrap_or_default();
            fresh.replace_live(cl, Kind::ApiDefinition, objects);
            if !reachable {
                fresh.set_inputs(cl, inputs(&head, false, &format!("c{cl}")));
            }
        }
        // Outages remember the last state seen, which only the incremental engine knows;
        // compare everything but that.
        let strip = |rows: Vec<StatusRow>| -> Vec<StatusRow> {
            rows.into_iter()
                .map(|mut r| {
                    for cell in &mut r.cells {
                        cell.last_known = None;
                    }
                    r
                })
                .collect()
        };
        assert_eq!(strip(incremental), strip(rows(&fresh)), "step {step}");
        assert_eq!(counts, fresh.board().counts, "step {step}");
        assert_eq!(
            engine.board().cluster_counts,
            fresh.board().cluster_counts,
            "step {step}"
        );
        let mut rebuilt = fresh;
        rebuilt.rebuild();
        assert_eq!(rebuilt.board().counts, counts, "rebuild at step {step}");
    }
}

#[test]
fn configmaps_without_oas_are_not_rows() {
    let mut engine = Engine::new(vec![info("staging", true)]);
    engine.set_inputs(0, inputs(&docs(&[]), true, "staging"));
    let cm = |name: &str, data: Value| {
        Arc::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "team"}, "data": data}))
    };
    engine.set_live(
        0,
        ResourceKey::new(Kind::ConfigMap, "team", "kube-root-ca.crt"),
        Some(cm(
            "kube-root-ca.crt",
            json!({"ca.crt": "-----BEGIN CERTIFICATE-----"}),
        )),
    );
    assert!(engine.board().rows.is_empty());
    let oas = json!({"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"}, "paths": {},
        "x-tyk-api-gateway": {"info": {"name": "pets", "state": {"active": true}}}});
    engine.set_live(
        0,
        ResourceKey::new(Kind::ConfigMap, "team", "pets-oas"),
        Some(cm("pets-oas", json!({"oas.json": oas.to_string()}))),
    );
    assert_eq!(engine.board().rows.len(), 1);
    assert_eq!(engine.board().rows[0].cells[0].state, "orphaned");
}
