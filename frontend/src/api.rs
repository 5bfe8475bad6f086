//! Wire types of the REST API (`/api/v1/...`), shared by the server and the browser.

use serde::{Deserialize, Serialize};

pub mod history;
pub mod insights;
pub mod timeline;

/// An error as the API returns it: a stable snake_case `code` and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
    /// The input field at fault, when one is (`edits[0].document.spec.proxy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Validation findings, when validation failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<crate::validate::Issue>,
    /// The request's `x-request-id`, to quote when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            field: None,
            issues: Vec::new(),
            request_id: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Query of `GET /api/v1/resources`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct ResourceQuery {
    /// Kinds, comma-separated (`ApiDefinition`, `SecurityPolicy`, `TykOasApiDefinition`,
    /// `ConfigMap`; plurals and short names accepted). Default: every kind but ConfigMap.
    pub kind: Option<String>,
    /// Exact namespace.
    pub namespace: Option<String>,
    /// Case-insensitive text searched in name, namespace, title, listen path, target and tags.
    pub q: Option<String>,
    /// Items to skip (default 0). Past the last item, the last page is served.
    pub offset: Option<usize>,
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// 1-based page of `limit` items, instead of `offset`. Past the last page, the last page
    /// is served (the response says which).
    pub page: Option<usize>,
}

/// One row of a resource list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceSummary {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `spec.name` (or the OAS document's name): what people call it.
    pub title: Option<String>,
    pub listen_path: Option<String>,
    pub target: Option<String>,
    pub domain: Option<String>,
    /// `keyless`, `auth-token`, `jwt`, `oauth2`, `basic`, `mtls`, `other`, or `on`/`off` for OAS.
    pub auth_mode: Option<String>,
    pub active: Option<bool>,
    /// Policies: `active`, `draft` or `deny`.
    pub state: Option<String>,
    /// Policies: how many APIs they grant.
    pub grants: Option<usize>,
    pub tags: Vec<String>,
    /// File in the config repo and the 1-based line the document starts at.
    pub path: String,
    pub line: u32,
    /// Its sync state in each watched cluster (empty when no cluster is configured): whether
    /// the clusters run it, which `active` alone does not say.
    #[serde(default)]
    pub clusters: Vec<ClusterState>,
}

/// A resource's state in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterState {
    pub cluster: String,
    /// `synced`, `pending`, `drifted`, `missing`, `orphaned`, `failed` or `unknown`.
    pub state: String,
}

/// A page of `GET /api/v1/resources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceList {
    /// Matching resources in all pages.
    pub total: usize,
    /// The offset served: the one asked for, or the last page's when that was past the end.
    pub offset: usize,
    pub limit: usize,
    /// The 1-based page served (`offset / limit + 1`).
    pub page: usize,
    pub items: Vec<ResourceSummary>,
    /// Every namespace of the listed kinds, for filters.
    pub namespaces: Vec<String>,
    /// The indexed commit.
    pub commit: Option<String>,
}

/// A label and value shown on a detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// Rate limits, quotas and throttling of a policy or of one API in it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Limits {
    pub rate: Option<i64>,
    pub per: Option<i64>,
    pub quota_max: Option<i64>,
    pub quota_renewal_rate: Option<i64>,
    pub throttle_interval: Option<i64>,
    pub throttle_retry_limit: Option<i64>,
    pub key_expires_in: Option<i64>,
}

/// A policy → API grant, seen from either side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Grant {
    /// The other side's kind, namespace and name.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    /// Whether the other side exists in the repo.
    pub exists: bool,
    pub versions: Vec<String>,
    /// `METHOD,METHOD url` entries.
    pub allowed_urls: Vec<String>,
    /// Per-API limits, when the access right sets them.
    pub limits: Option<Limits>,
}

/// `GET /api/v1/resources/{kind}/{namespace}/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceDetail {
    pub summary: ResourceSummary,
    /// The Tyk API id (APIs) or policy id (policies).
    pub tyk_id: Option<String>,
    /// The form-level fields, in display order.
    pub fields: Vec<Field>,
    /// Policies: limits.
    pub limits: Option<Limits>,
    /// APIs: the policies that grant them. Policies: the APIs they grant.
    pub grants: Vec<Grant>,
    /// JWT APIs: the default policies (`namespace/name`).
    pub default_policies: Vec<String>,
    /// The document as written in the repo.
    pub yaml: String,
    /// The whole document as data.
    pub document: serde_json::Value,
    pub commit: Option<String>,
}

/// A problem found in the config repo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Problem {
    pub path: String,
    pub line: Option<u32>,
    /// `syntax`, `schema`, `duplicate`, `too_large`, `not_utf8`, or `invalid` (a resource the
    /// rules of an edit refuse; the message names it, the field and the rule's code).
    pub kind: String,
    pub message: String,
    /// The resource the problem is about, when the index can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
}

/// A resource named by kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// `GET /api/v1/problems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProblemList {
    pub commit: Option<String>,
    pub items: Vec<Problem>,
}

/// `GET /api/v1/status/repo`: what is indexed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepoStatus {
    pub branch: String,
    pub commit: Option<String>,
    pub apis: usize,
    pub policies: usize,
    pub oas_apis: usize,
    pub files: usize,
    pub problems: usize,
    /// The Git host and Tollgate's mirror of it (absent with the built-in local host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostHealth>,
}

/// How Tollgate's mirror of the Git host is doing: what it last fetched and when, and the
/// error while the host cannot be reached (browsing keeps working from the mirror).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostHealth {
    /// `github`, `gitlab` or `gitea`.
    pub kind: String,
    /// `owner/name` on the host.
    pub repo: String,
    /// When the last fetch succeeded (RFC 3339), if one has.
    pub fetched_at: Option<String>,
    /// The branch's commit as of that fetch.
    pub fetched_commit: Option<String>,
    /// Why the last fetch or host call failed, while it keeps failing.
    pub error: Option<String>,
}

/// The change request on the Git host, as the host last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostRequest {
    /// `github`, `gitlab` or `gitea`.
    pub kind: String,
    /// The pull request number (GitLab: the merge request iid).
    pub number: u64,
    /// Its page on the host.
    pub url: String,
    /// `open`, `closed` or `merged`.
    pub state: String,
    pub head_sha: String,
    /// `None` while the host is still computing it.
    pub mergeable: Option<bool>,
    /// The host's own word on mergeability (`clean`, `blocked`, `conflict`, …).
    pub merge_status: Option<String>,
    /// Each reviewer's latest review.
    pub reviews: Vec<HostReview>,
    /// Logins whose latest review approves.
    pub approvals: Vec<String>,
    pub checks: Vec<HostCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostReview {
    pub login: String,
    /// `approved`, `changes_requested`, `commented` or `dismissed`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostCheck {
    pub name: String,
    /// `pending`, `success` or `failure`.
    pub state: String,
    pub url: Option<String>,
}

/// `GET /api/v1/session`: who is signed in and how one can sign in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub user: Option<String>,
    /// What the signed-in user (or an anonymous visitor) may do; `None`: nothing, sign in.
    #[serde(default)]
    pub role: Option<Role>,
    /// The signed-in user's groups (from the login provider, or the demo configuration).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Send it as `X-CSRF-Token` with every write made with the session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    pub demo_login: bool,
    pub demo_users: Vec<String>,
    /// The configured login providers, by name: each is a button on the sign-in page.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Which groups own which namespaces (`[[ownership]]`), so pages offer an edit only to
    /// those who may propose it. Empty for visitors who are not signed in.
    #[serde(default)]
    pub ownership: Vec<OwnershipRule>,
}

/// `POST /api/v1/tokens`: a token for scripts and CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    /// What it is for, e.g. `ci-deploy` (1 to 100 characters).
    pub name: String,
    /// At most your own role.
    pub role: Role,
    /// 1 to 365.
    pub expires_in_days: u32,
}

/// The new token: its secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub id: i64,
    /// `tg_…`: send it as `Authorization: Bearer tg_…`.
    pub token: String,
}

/// A token as listed (never its secret): `GET /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub role: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// One `[[ownership]]` rule: namespaces (globs, `*` any run of characters) owned by groups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnershipRule {
    pub namespaces: Vec<String>,
    pub groups: Vec<String>,
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

impl SessionInfo {
    /// Signed in with at least `role` (what the server checks for a write).
    pub fn at_least(&self, role: Role) -> bool {
        self.user.is_some() && self.role.is_some_and(|r| r >= role)
    }

    /// May propose changes to `namespace`: an editor who owns it (or it has no owners), or an
    /// admin. The server checks the same rules.
    pub fn may_propose_in(&self, namespace: &str) -> bool {
        if !self.at_least(Role::Editor) {
            return false;
        }
        let owners: Vec<&String> = self
            .ownership
            .iter()
            .filter(|o| o.namespaces.iter().any(|p| glob(p, namespace)))
            .flat_map(|o| o.groups.iter())
            .collect();
        self.role == Some(Role::Admin)
            || owners.is_empty()
            || owners.iter().any(|o| self.groups.contains(o))
    }
}

/// What someone may do, each role including the ones before it: `viewer` reads everything,
/// `editor` also proposes and comments, `approver` also approves and merges, `admin` also
/// adopts drift, reads the audit log and manages everyone's tokens.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Viewer,
    Editor,
    Approver,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One namespace a change touches that has owners: which groups own it and which of its
/// owners approved the change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnerApproval {
    pub namespace: String,
    pub groups: Vec<String>,
    pub approved_by: Vec<String>,
}

/// One edit of a change: a whole new document, an RFC 7386 merge patch against the resource at
/// the base, or a deletion. A `document` whose `metadata.name` or `namespace` differs from
/// `name`/`namespace` renames the resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EditRequest {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_patch: Option<serde_json::Value>,
    /// The full new resource as YAML text (what the advanced editor sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaml: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete: bool,
}

/// `POST /api/v1/changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateChangeRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub edits: Vec<EditRequest>,
}

/// The answer to a created (proposed) change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedChange {
    pub id: i64,
    pub branch: String,
    pub commit: String,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffLine {
    /// `context`, `added`, `removed` or `skip` (unchanged lines left out).
    pub kind: String,
    pub old_line: Option<u32>,
    pub new_line: Option<u32>,
    pub text: String,
}

/// The change to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileDiff {
    pub path: String,
    /// `added`, `modified` or `deleted`.
    pub status: String,
    pub lines: Vec<DiffLine>,
}

/// A comment or an approval on a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeEvent {
    /// `comment`, `approval`, `merge`, `close`, `conflict`, `rebase`.
    pub kind: String,
    pub author: String,
    pub body: String,
    /// A comment's body as sanitised HTML (CommonMark); empty for other events.
    #[serde(default)]
    pub body_html: String,
    pub at: String,
}

/// A resource a change touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangedResource {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `create`, `update`, `delete` or `rename`.
    pub action: String,
    pub path: String,
}

/// A change request: `GET /api/v1/changes/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeView {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// The description as sanitised HTML (CommonMark; no scripts, handlers or `javascript:`).
    #[serde(default)]
    pub description_html: String,
    pub author: String,
    /// `draft`, `open`, `merged` or `closed`.
    pub state: String,
    pub base_commit: String,
    pub branch: Option<String>,
    pub head_commit: Option<String>,
    pub merge_commit: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub resources: Vec<ChangedResource>,
    pub files: Vec<FileDiff>,
    pub issues: Vec<crate::validate::Issue>,
    pub approvals: Vec<String>,
    pub approvals_required: u32,
    pub events: Vec<ChangeEvent>,
    /// Why merging needs a regenerated change (a resource changed on the base branch).
    pub conflict: Option<String>,
    /// The last failure to propose, if the change is still a draft.
    pub error: Option<String>,
    /// A draft's edits, as saved: what *Resume* loads back into its form. Empty for changes
    /// that were proposed (their diff says what they do).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditRequest>,
    /// For a change that adopts drift: what it adopts, who receives it, and whether it is stale.
    #[serde(default)]
    pub adoption: Option<Adoption>,
    /// The pull or merge request on the Git host (absent with the built-in local host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostRequest>,
    /// The owned namespaces the change touches: an owner of each (not the author) must
    /// approve before it can be merged.
    #[serde(default)]
    pub owners: Vec<OwnerApproval>,
    /// When the merged change was first seen live in each cluster, in that order.
    #[serde(default)]
    pub live: Vec<insights::ClusterLive>,
}

/// The drift an adopt change takes into Git, as the cluster had it when the change was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Adoption {
    /// The cluster the drift was found in.
    pub cluster: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The live object's `metadata.resourceVersion` then.
    pub resource_version: Option<String>,
    pub fields: Vec<AdoptedField>,
    /// Every cluster that follows the environment: once merged, all of them run the change.
    #[serde(default)]
    pub receivers: Vec<String>,
    /// Why the change no longer matches the cluster (the drift is gone or changed): such a
    /// change cannot be merged until it is regenerated or closed.
    #[serde(default)]
    pub stale: Option<String>,
}

/// One adopted field and the value the cluster had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdoptedField {
    pub path: String,
    pub live: Option<serde_json::Value>,
    /// The field manager that set it, when known.
    pub manager: Option<String>,
}

/// A row of `GET /api/v1/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeSummary {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub state: String,
    pub approvals: u32,
    pub conflict: bool,
    pub created_at: String,
    pub resources: Vec<String>,
}

/// `POST /api/v1/changes/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentRequest {
    pub body: String,
}

/// Query of `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct StatusQuery {
    /// `ApiDefinition`, `SecurityPolicy`, `TykOasApiDefinition` or `ConfigMap`.
    pub kind: Option<String>,
    pub namespace: Option<String>,
    /// Exact resource name.
    pub name: Option<String>,
    /// `synced`, `pending`, `drifted`, `missing`, `orphaned`, `failed` or `unknown`; or
    /// `problems`: any state but `synced`.
    pub state: Option<String>,
    pub cluster: Option<String>,
    /// 1-based page of rows (default 1).
    pub page: Option<usize>,
    /// Rows per page (default 100, at most 1000).
    pub per_page: Option<usize>,
}

/// A watched cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterInfo {
    pub name: String,
    pub environment: String,
    pub reachable: bool,
    pub last_seen: Option<String>,
    pub error: Option<String>,
    /// `argocd`, `flux` or `none`.
    pub agent: String,
    /// The commit the agent reports as applied.
    pub applied_revision: Option<String>,
    /// The head of the environment's branch.
    pub head_revision: Option<String>,
    /// This cluster's cells per state (over every resource, whatever the filters).
    #[serde(default)]
    pub counts: Vec<StateCount>,
    /// Tyk kinds the cluster does not serve (their CRD is not installed there).
    #[serde(default)]
    pub missing_kinds: Vec<String>,
}

/// A drifted field and who changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftView {
    pub path: String,
    pub desired: Option<serde_json::Value>,
    pub live: Option<serde_json::Value>,
    pub manager: Option<String>,
    pub operation: Option<String>,
    pub time: Option<String>,
    /// `agent`, `operator` or `manual`.
    pub actor: Option<String>,
}

/// One resource in one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusCell {
    pub cluster: String,
    pub state: String,
    pub drift: Vec<DriftView>,
    /// The operator's error, for `failed`.
    pub error: Option<String>,
    /// For `unknown`: the state last observed, and when.
    pub last_known: Option<String>,
    pub last_seen: Option<String>,
    /// The commit the cluster's agent reports as applied.
    #[serde(default)]
    pub applied_revision: Option<String>,
    /// For `pending`: the merged change being rolled out, when Tollgate merged the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeRef>,
}

/// A change request named by id and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeRef {
    pub id: i64,
    pub title: String,
}

/// One resource across the clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusRow {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub cells: Vec<StatusCell>,
    /// ConfigMaps: the OAS API whose document this ConfigMap holds, when one references it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oas: Option<ResourceRef>,
}

/// How many cells are in a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateCount {
    pub state: String,
    pub count: usize,
}

/// `GET /api/v1/status`: every API and policy × every cluster.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusReport {
    pub clusters: Vec<ClusterInfo>,
    /// The rows of the requested page.
    pub rows: Vec<StatusRow>,
    /// Cells per state, over every row that matches (not only this page).
    pub counts: Vec<StateCount>,
    /// Rows that match, over all pages.
    pub total_rows: usize,
    pub page: usize,
    pub per_page: usize,
    /// Increases with every change; the event stream announces it.
    pub version: u64,
    pub generated_at: String,
}

/// `POST /api/v1/status/adopt`: turn a drifted resource's live values into a change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdoptRequest {
    pub cluster: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}
