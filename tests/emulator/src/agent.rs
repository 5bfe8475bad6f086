//! A GitOps agent and Tyk Operator simulator for the demo and tests: plays Argo CD or Flux for
//! one environment (applies the manifests at the branch head after a delay, with the agent's field
//! manager, prunes what left Git, and writes the sync status of its `Application` or
//! `Kustomization`), and
//! the Tyk Operator (writes `status.api_id` and `latestTransaction`, `Failed` for resources the
//! operator would reject). Reads the repo with the git CLI.

use crate::store::{PatchKind, Store, now};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which GitOps agent to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Argo CD: field manager `argocd-controller`, `Application.status.sync.revision`.
    #[default]
    ArgoCd,
    /// Flux: field manager `kustomize-controller`,
    /// `Kustomization.status.lastAppliedRevision` as `<branch>@sha1:<sha>`.
    Flux,
}

impl Flavor {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "argocd" => Some(Self::ArgoCd),
            "flux" => Some(Self::Flux),
            _ => None,
        }
    }

    fn manager(self) -> &'static str {
        match self {
            Self::ArgoCd => "argocd-controller",
            Self::Flux => "kustomize-controller",
        }
    }
}

/// What the simulated agent follows.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub flavor: Flavor,
    pub repo: PathBuf,
    pub branch: String,
    /// Repo path prefix of the environment ("" for the whole repo).
    pub path: String,
    /// How long after a commit appears the agent applies it (the head it finds when it starts,
    /// it applies at once).
    pub delay: Duration,
    /// The Argo CD Application or Flux Kustomization to keep up to date (namespace, name).
    pub object: (String, String),
}

fn git(repo: &PathBuf, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The documents the agent manages at `commit`.
fn manifests(settings: &AgentSettings, commit: &str) -> Vec<Value> {
    let Some(files) = git(&settings.repo, &["ls-tree", "-r", "--name-only", commit]) else {
        return Vec::new();
    };
    let prefix = settings.path.trim_matches('/');
    let mut docs = Vec::new();
    for file in files.lines() {
        if !(file.ends_with(".yaml") || file.ends_with(".yml"))
            || (!prefix.is_empty() && !file.starts_with(&format!("{prefix}/")))
        {
            continue;
        }
        let Some(text) = git(&settings.repo, &["show", &format!("{commit}:{file}")]) else {
            continue;
        };
        let Ok(values) = serde_saphyr::from_multiple::<Value>(&text) else {
            continue;
        };
        docs.extend(values.into_iter().filter(|d| {
            let kind = d["kind"].as_str().unwrap_or_default();
            (d["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("tyk.tyk.io/"))
                && matches!(
                    kind,
                    "ApiDefinition" | "SecurityPolicy" | "TykOasApiDefinition"
                ))
                || (d["apiVersion"] == "v1" && kind == "ConfigMap")
        }));
    }
    docs
}

fn plural(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "ApiDefinition" => ("tyk.tyk.io", "v1alpha1", "apidefinitions"),
        "SecurityPolicy" => ("tyk.tyk.io", "v1alpha1", "securitypolicies"),
        "TykOasApiDefinition" => ("tyk.tyk.io", "v1alpha1", "tykoasapidefinitions"),
        _ => ("", "v1", "configmaps"),
    }
}

/// The operator's verdict on an object: `Some(error)` when it would reject it.
fn operator_rejects(obj: &Value) -> Option<String> {
    let spec = &obj["spec"];
    let on = |k: &str| spec[k].as_bool() == Some(true);
    if obj["kind"] == "ApiDefinition" && on("use_keyless") && on("use_standard_auth") {
        return Some("ApiDefinition is invalid: spec.use_keyless: Forbidden: keyless and standard auth are mutually exclusive".into());
    }
    None
}

fn base64url(s: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Writes the agent's object: created when missing, its status saying `head` is applied.
fn report(store: &Store, settings: &AgentSettings, head: &str) {
    let (ns, name) = &settings.object;
    let (group, version, plural, kind, created_by) = match settings.flavor {
        Flavor::ArgoCd => (
            "argoproj.io",
            "v1alpha1",
            "applications",
            "Application",
            "argocd-server",
        ),
        Flavor::Flux => (
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "kustomizations",
            "Kustomization",
            "flux-client-side-apply",
        ),
    };
    let Some(t) = store.type_for(group, version, plural) else {
        return;
    };
    if store.get(&t, ns, name).is_none() {
        let spec = match settings.flavor {
            Flavor::ArgoCd => json!({"source": {"repoURL": settings.repo.display().to_string(),
                "targetRevision": settings.branch, "path": settings.path}}),
            Flavor::Flux => json!({"interval": "1m", "path": format!("./{}", settings.path),
                "prune": true, "sourceRef": {"kind": "GitRepository", "name": "config"}}),
        };
        let object = json!({"apiVersion": format!("{group}/{version}"), "kind": kind,
            "metadata": {"name": name, "namespace": ns}, "spec": spec});
        let _ = store.create(&t, ns, object, created_by, "Update");
    }
    let status = match settings.flavor {
        Flavor::ArgoCd => {
            json!({"status": {"sync": {"status": "Synced", "revision": head}, "reconciledAt": now(),
            "operationState": {"phase": "Succeeded", "finishedAt": now(), "operation": {"initiatedBy": {"automated": true}}}}})
        }
        Flavor::Flux => {
            let revision = format!("{}@sha1:{head}", settings.branch);
            json!({"status": {"lastAppliedRevision": revision, "lastAttemptedRevision": revision,
                "observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True",
                "reason": "ReconciliationSucceeded", "lastTransitionTime": now(),
                "message": format!("Applied revision: {revision}")}]}})
        }
    };
    let _ = store.patch(
        &t,
        ns,
        name,
        PatchKind::Merge,
        &status,
        settings.flavor.manager(),
        true,
    );
}

/// Runs forever: applies new heads after the delay, then plays the operator.
pub async fn run(store: Arc<Store>, settings: AgentSettings) {
    let mut applied: Option<String> = None;
    let mut seen: Option<(String, Instant)> = None;
    let mut managed: BTreeSet<(String, String, String)> = BTreeSet::new();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Some(head) = git(
            &settings.repo,
            &["rev-parse", &format!("refs/heads/{}", settings.branch)],
        )
        .map(|h| h.trim().to_owned()) else {
            continue;
        };
        if applied.as_deref() == Some(head.as_str()) {
            continue;
        }
        // What the branch holds when the agent starts is applied at once (the cluster was in
        // sync before); every later commit waits for the delay.
        match &seen {
            _ if applied.is_none() => {}
            Some((h, at)) if *h == head && at.elapsed() >= settings.delay => {}
            Some((h, _)) if *h == head => continue,
            _ => {
                seen = Some((head.clone(), Instant::now()));
                if !settings.delay.is_zero() {
                    continue;
                }
            }
        }
        let docs = manifests(&settings, &head);
        let mut now_managed = BTreeSet::new();
        for doc in &docs {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let (group, version, plural) = plural(kind);
            let Some(t) = store.type_for(group, version, plural) else {
                continue;
            };
            let ns = doc["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned();
            let Some(name) = doc["metadata"]["name"].as_str().map(str::to_owned) else {
                continue;
            };
            if store
                .patch(
                    &t,
                    &ns,
                    &name,
                    PatchKind::Apply,
                    doc,
                    settings.flavor.manager(),
                    false,
                )
                .is_err()
            {
                continue;
            }
            now_managed.insert((kind.to_owned(), ns.clone(), name.clone()));
            if kind != "ConfigMap" {
                let error = operator_rejects(doc);
                let mut status = json!({"latestTransaction": {
                    "status": if error.is_some() { "Failed" } else { "Successful" },
                    "time": now(),
                }});
                if let Some(e) = error {
                    status["latestTransaction"]["error"] = json!(e);
                } else if kind == "ApiDefinition" {
                    status["api_id"] = json!(base64url(&format!("{ns}/{name}")));
                }
                let _ = store.patch(
                    &t,
                    &ns,
                    &name,
                    PatchKind::Merge,
                    &json!({"status": status}),
                    "tyk-operator",
                    true,
                );
            }
        }
        // Prune what left Git.
        for (kind, ns, name) in managed.difference(&now_managed) {
            let (group, version, plural) = plural(kind);
            if let Some(t) = store.type_for(group, version, plural) {
                let _ = store.delete(&t, ns, name);
            }
        }
        managed = now_managed;
        report(&store, &settings, &head);
        applied = Some(head);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_ids_are_base64url_without_padding() {
        assert_eq!(super::base64url("default/httpbin"), "ZGVmYXVsdC9odHRwYmlu");
        assert_eq!(super::base64url("a/b"), "YS9i");
    }
}
