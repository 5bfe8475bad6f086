//! Adopting drift: the live values of a drifted resource become a change request that records
//! what it adopts (cluster, resource, resourceVersion, fields and values). Every cluster that
//! follows the environment receives it once merged, so a change whose drift is gone (the agent
//! re-applied Git, or someone changed the cluster again) is stale and cannot be merged until it
//! is regenerated from what the cluster runs now, or closed.

use super::{ChangeService, err};
use crate::error::{Code, Error};
use crate::resources::{Kind, ResourceKey};
use crate::status::StatusService;
use crate::sync;
use frontend::api::{AdoptRequest, AdoptedField, Adoption, CreateChangeRequest, EditRequest};
use serde_json::Value;

/// What adopting a cell's drift takes: the edit, the record and the description.
pub(super) struct Adopted {
    pub request: CreateChangeRequest,
    pub adoption: Adoption,
}

/// Reads the drift of one resource in one cluster from the status board and the live object.
pub(super) fn read_drift(
    status: &StatusService,
    desired: Option<Value>,
    req: &AdoptRequest,
) -> Result<Adopted, Error> {
    let not_drifted = || {
        err(
            Code::NotDrifted,
            format!(
                "{}/{}/{} is not drifted in {}: the cluster runs what Git says",
                req.kind, req.namespace, req.name, req.cluster
            ),
        )
    };
    let kind = Kind::parse(&req.kind)
        .ok_or_else(|| err(Code::UnknownKind, format!("unknown kind `{}`", req.kind)))?;
    let key = ResourceKey::new(kind, &req.namespace, &req.name);
    let cell = status
        .cell(&req.cluster, &key)
        .filter(|c| c.state == "drifted")
        .ok_or_else(not_drifted)?;
    let live = status
        .live_object(&req.cluster, &key)
        .ok_or_else(not_drifted)?;
    let live = live.as_ref();
    let desired =
        desired.ok_or_else(|| err(Code::NotFound, format!("{key} is not in the config repo")))?;
    let mut paths: Vec<String> = cell.drift.iter().map(|d| d.path.clone()).collect();
    if kind == Kind::ConfigMap {
        // Drift inside an OAS document is adopted as the whole document under its key.
        paths = paths
            .iter()
            .filter_map(|p| sync::parse_path(p))
            .map(|segs| sync::path_text(&segs[..segs.len().min(2)]))
            .collect();
        paths.dedup();
    }
    let patch = sync::adopt_patch(&desired, live, &paths);
    let manager_of = |path: &str| {
        cell.drift
            .iter()
            .find(|d| d.path == path || d.path.starts_with(path))
            .and_then(|d| d.manager.clone())
    };
    let fields: Vec<AdoptedField> = paths
        .iter()
        .map(|p| AdoptedField {
            path: p.clone(),
            live: sync::value_at(live, p).cloned(),
            manager: manager_of(p),
        })
        .collect();
    let mut description = format!(
        "Adopts into Git what runs in cluster `{}`:\n\n| Field | Git | Cluster | Changed by |\n| --- | --- | --- | --- |\n",
        req.cluster
    );
    for d in &cell.drift {
        let show = |v: &Option<Value>| {
            v.as_ref()
                .map_or_else(|| "(absent)".to_owned(), ToString::to_string)
        };
        let who = match (&d.manager, &d.time) {
            (Some(m), Some(t)) => {
                format!("{m} ({}) at {t}", d.operation.clone().unwrap_or_default())
            }
            (Some(m), None) => m.clone(),
            _ => "unknown".into(),
        };
        description.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} |\n",
            d.path,
            show(&d.desired),
            show(&d.live),
            who
        ));
    }
    let request = CreateChangeRequest {
        title: format!(
            "Adopt drift of {}/{} from {}",
            req.namespace, req.name, req.cluster
        ),
        description,
        edits: vec![EditRequest {
            kind: kind.as_str().into(),
            namespace: req.namespace.clone(),
            name: req.name.clone(),
            document: None,
            merge_patch: Some(patch),
            yaml: None,
            delete: false,
        }],
    };
    let adoption = Adoption {
        cluster: req.cluster.clone(),
        kind: kind.as_str().into(),
        namespace: req.namespace.clone(),
        name: req.name.clone(),
        resource_version: live["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_owned),
        fields,
        receivers: Vec::new(),
        stale: None,
    };
    Ok(Adopted { request, adoption })
}

/// Why an adoption no longer matches its cluster; `None` while the cluster still runs exactly
/// the adopted values.
pub(super) fn stale_reason(status: &StatusService, adoption: &Adoption) -> Option<String> {
    let cluster = &adoption.cluster;
    let Some(kind) = Kind::parse(&adoption.kind) else {
        return Some(format!("unknown kind `{}`", adoption.kind));
    };
    let key = ResourceKey::new(kind, &adoption.namespace, &adoption.name);
    match status.reachable(cluster) {
        None => return Some(format!("cluster `{cluster}` is no longer configured")),
        Some(false) => {
            return Some(format!(
                "cluster `{cluster}` is unreachable, so the drift cannot be confirmed"
            ));
        }
        Some(true) => {}
    }
    let Some(live) = status.live_object(cluster, &key) else {
        return Some(format!("{key} is no longer in cluster `{cluster}`"));
    };
    let show = |v: Option<&Value>| v.map_or_else(|| "(absent)".to_owned(), ToString::to_string);
    let changed: Vec<String> = adoption
        .fields
        .iter()
        .filter(|f| sync::value_at(&live, &f.path) != f.live.as_ref())
        .map(|f| {
            format!(
                "`{}` is now {} (adopted {})",
                f.path,
                show(sync::value_at(&live, &f.path)),
                show(f.live.as_ref())
            )
        })
        .collect();
    (!changed.is_empty()).then(|| {
        format!(
            "cluster `{cluster}` no longer runs what this change adopts: {}; regenerate it from the cluster or close it",
            changed.join(", ")
        )
    })
}

impl ChangeService {
    /// `POST /api/v1/status/adopt`: a drifted resource's live values become a change request
    /// that records what it adopts.
    pub async fn adopt(
        &self,
        user: &str,
        req: AdoptRequest,
        key: Option<&str>,
    ) -> Result<frontend::api::CreatedChange, Error> {
        let desired = self.desired_value(&req);
        let adopted = read_drift(&self.status, desired, &req)?;
        self.create_with(user, adopted.request, key, Some(adopted.adoption))
            .await
            .map(|(_, created)| created)
    }

    /// The resource as Git has it at the branch head, as JSON.
    fn desired_value(&self, req: &AdoptRequest) -> Option<Value> {
        let kind = Kind::parse(&req.kind)?;
        let key = ResourceKey::new(kind, &req.namespace, &req.name);
        self.catalog
            .snapshot()
            .and_then(|s| s.index.get(&key).and_then(|r| r.resource.to_value().ok()))
    }

    /// Fills in who receives an adoption and whether it is stale.
    pub(super) fn judge(&self, adoption: &mut Adoption, paths: &[String]) {
        let mut receivers: Vec<String> = paths
            .iter()
            .flat_map(|p| self.status.followers(&self.branch, p))
            .collect();
        receivers.sort();
        receivers.dedup();
        adoption.receivers = receivers;
        adoption.stale = stale_reason(&self.status, adoption);
    }

    /// Regenerates an adopt change from what its cluster runs now: new edits, a new record.
    pub(super) async fn readopt(
        &self,
        id: i64,
        adoption: &Adoption,
    ) -> Result<(String, String), Error> {
        let req = AdoptRequest {
            cluster: adoption.cluster.clone(),
            kind: adoption.kind.clone(),
            namespace: adoption.namespace.clone(),
            name: adoption.name.clone(),
        };
        let adopted = read_drift(&self.status, self.desired_value(&req), &req).map_err(|e| {
            if e.code == Code::NotDrifted {
                err(
                    Code::NotDrifted,
                    format!(
                        "change {id}: nothing left to adopt, {}; close the change",
                        e.message
                    ),
                )
            } else {
                e
            }
        })?;
        let edits =
            serde_json::to_string(&adopted.request.edits).map_err(crate::error::Error::internal)?;
        let record =
            serde_json::to_string(&adopted.adoption).map_err(crate::error::Error::internal)?;
        Ok((edits, record))
    }
}
