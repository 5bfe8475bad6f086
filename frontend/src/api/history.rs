//! Wire types of a resource's history and of restoring one of its versions.

use serde::{Deserialize, Serialize};

/// One field that changed between two versions of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// Dotted path, e.g. `spec.proxy.target_url` (list items in brackets).
    pub path: String,
    /// The value before (`None`: the field was absent).
    #[serde(default)]
    pub from: Option<serde_json::Value>,
    /// The value after (`None`: the field was removed).
    #[serde(default)]
    pub to: Option<serde_json::Value>,
}

/// The change request or pull request a commit came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullRequestRef {
    /// `#12` (GitHub, Gitea) or `!12` (GitLab); empty when only Tollgate's change is known.
    pub number: String,
    /// Its page on the host, when known.
    #[serde(default)]
    pub url: Option<String>,
    /// The Tollgate change it was merged from, when Tollgate made it.
    #[serde(default)]
    pub change_id: Option<i64>,
    /// Tollgate's page of that change (`/changes/{id}` or the trailer's link).
    #[serde(default)]
    pub change_url: Option<String>,
}

/// One commit that changed a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub commit: String,
    /// Commit time (RFC 3339).
    pub date: String,
    pub author: String,
    pub author_email: String,
    pub committer: String,
    pub committer_email: String,
    /// The first line of the commit message.
    pub title: String,
    /// `created`, `modified` or `deleted`.
    pub action: String,
    /// The file holding the resource after the commit (before it, for a delete).
    pub path: String,
    /// The file before, when the commit also moved the resource.
    #[serde(default)]
    pub moved_from: Option<String>,
    pub fields: Vec<FieldChange>,
    #[serde(default)]
    pub pull_request: Option<PullRequestRef>,
    /// The commit on the host, when the host has web pages.
    #[serde(default)]
    pub commit_url: Option<String>,
    /// When it went live in each cluster, from the cluster timeline (clusters where it has not
    /// yet are left out).
    #[serde(default)]
    pub live: Vec<super::timeline::LiveIn>,
}

/// `GET /api/v1/resources/{kind}/{ns}/{name}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// 1-based page, newest first.
    pub page: usize,
    pub per_page: usize,
    /// Entries in the whole history.
    pub total: usize,
    pub items: Vec<HistoryEntry>,
    /// The newest commit the history index has read (it may lag the branch briefly).
    #[serde(default)]
    pub indexed_commit: Option<String>,
}

/// `?page=` of a history request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct HistoryQuery {
    pub page: Option<usize>,
    pub per_page: Option<usize>,
}

/// `GET /api/v1/resources/{kind}/{ns}/{name}/at/{commit}`: the document as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceAt {
    pub commit: String,
    pub path: String,
    /// The document's text in that file at that commit.
    pub yaml: String,
    pub document: serde_json::Value,
}

/// The state of the history index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryStatus {
    pub branch: String,
    /// The newest commit indexed.
    pub head: Option<String>,
    /// First-parent commits indexed.
    pub commits: u64,
    /// Commits this process has read since it started (0 after a restart with nothing new).
    pub walked: u64,
}

/// `POST /api/v1/resources/{kind}/{ns}/{name}/restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreRequest {
    /// The version to restore: a commit on the branch.
    pub commit: String,
    /// The fields to restore (paths as in [`FieldChange::path`]). Absent: every field that
    /// differs, unless a later commit changed one of them (then the answer is a preview).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

/// A field a commit later than the change being undone also changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreWarning {
    pub path: String,
    /// The later commits that changed it, newest first.
    pub commits: Vec<HistoryEntry>,
}

/// The answer to a restore: the change made, or a preview to confirm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreResult {
    /// The change request prepared, when one was.
    #[serde(default)]
    pub created: Option<super::CreatedChange>,
    /// What restoring sets: each field from its current value back to the version's.
    pub fields: Vec<FieldChange>,
    /// Fields a later commit also changed: left out unless listed in `fields`.
    pub warnings: Vec<RestoreWarning>,
    /// Whether the resource is gone at the head and restoring recreates it.
    pub recreate: bool,
}
