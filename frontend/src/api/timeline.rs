//! Wire types of the cluster timeline (what ran where, and when) and of the activity feed.

use super::{ChangeRef, DriftView, ResourceRef};
use serde::{Deserialize, Serialize};

/// When a history entry's commit went live in one cluster: the first revision the cluster's
/// agent applied that contains the commit, once the resource was synced there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LiveIn {
    pub cluster: String,
    /// RFC 3339.
    pub since: String,
    /// The applied revision that brought it.
    pub revision: String,
}

/// `?cluster=&at=` of `GET /api/v1/resources/{kind}/{ns}/{name}/live`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct LiveQuery {
    /// One cluster; absent: every cluster with a recorded timeline.
    pub cluster: Option<String>,
    /// An RFC 3339 time, e.g. `2026-11-28T14:05:00Z`; absent: now.
    pub at: Option<String>,
}

/// What one cluster ran of a resource at a time, as the timeline recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LiveAt {
    pub cluster: String,
    /// The revision the agent had applied then (`None`: none recorded yet).
    pub revision: Option<String>,
    /// Since when that revision was applied.
    pub revision_since: Option<String>,
    /// The resource's sync state then (`None`: not recorded then).
    pub state: Option<String>,
    /// Since when the resource was in that state.
    pub state_since: Option<String>,
    /// The drifted fields then, with who changed them.
    #[serde(default)]
    pub drift: Vec<DriftView>,
    /// The operator's error then, when the state was `failed`.
    #[serde(default)]
    pub error: Option<String>,
    /// Whether the cluster could be reached then.
    pub reachable: bool,
}

/// `GET /api/v1/resources/{kind}/{ns}/{name}/live`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LiveReport {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The time asked about (RFC 3339, UTC).
    pub at: String,
    pub clusters: Vec<LiveAt>,
}

/// Query of `GET /api/v1/activity`. A filter keeps the items that have that attribute and
/// match it: a namespace or kind filter leaves out cluster-wide items (rollouts, unreachable
/// periods), a cluster filter leaves out changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct ActivityQuery {
    pub namespace: Option<String>,
    pub cluster: Option<String>,
    /// `ApiDefinition`, `SecurityPolicy`, `TykOasApiDefinition` or `ConfigMap`.
    pub kind: Option<String>,
    /// 1-based page, newest first (default 1).
    pub page: Option<usize>,
    /// Items per page (default 50, at most 200).
    pub per_page: Option<usize>,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityItem {
    /// `proposed`, `merged`, `rollout`, `drift`, `failed` or `unreachable`.
    pub kind: String,
    /// When it happened (or began), RFC 3339.
    pub at: String,
    /// When a drift, failure or unreachable period ended (`None`: it lasts, or not a period).
    #[serde(default)]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    /// The resources concerned (a change may touch several; a rollout none).
    #[serde(default)]
    pub resources: Vec<ResourceRef>,
    #[serde(default)]
    pub change: Option<ChangeRef>,
    /// Who proposed or merged a change.
    #[serde(default)]
    pub actor: Option<String>,
    /// The revision rolled out, or the merge commit.
    #[serde(default)]
    pub revision: Option<String>,
    /// Drifted fields with their field managers.
    #[serde(default)]
    pub drift: Vec<DriftView>,
    /// The operator's error, or why the cluster was unreachable.
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /api/v1/activity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityPage {
    pub page: usize,
    pub per_page: usize,
    pub items: Vec<ActivityItem>,
    /// Whether an older page has items.
    pub more: bool,
}
