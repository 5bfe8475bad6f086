//! The read model of the config repo: the latest index plus the views pages and the API need
//! (summaries, search text, who grants what). Rebuilt when the branch moves; readers only ever
//! see a complete snapshot.

mod views;

use crate::error::{Code, Error};
use crate::repo::{ConfigRepo, IndexOptions, RepoError, RepoIndex};
use crate::resources::{Kind, ResourceKey, SchemaSources};
use frontend::api::{
    Problem, ProblemList, RepoStatus, ResourceDetail, ResourceList, ResourceQuery, ResourceRef,
    ResourceSummary,
};
use frontend::validate::Environment;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// Largest page a list request may ask for.
pub const MAX_PAGE: usize = 500;
/// Page size when none is given.
pub const DEFAULT_PAGE: usize = 50;

/// A list row: the summary, its kind, and its lower-cased search text.
type Row = (ResourceSummary, Kind, String);

/// Everything derived from one index.
pub struct Snapshot {
    pub index: Arc<RepoIndex>,
    /// Rows in kind/namespace/name order.
    rows: Vec<Arc<Row>>,
    /// Rows by the address of the resource they were made from, to reuse unchanged ones.
    by_resource: HashMap<usize, Arc<Row>>,
    /// API key → the policies that grant it.
    granted_by: HashMap<ResourceKey, Vec<ResourceKey>>,
    /// What the rules an edit is checked by refuse in the repo as it is.
    check: crate::rules::RepoCheck,
}

impl Snapshot {
    /// Builds the views; rows of resources unchanged since `previous` are shared, not rebuilt
    /// (OAS APIs are always rebuilt: their row reads their ConfigMap). Every resource is
    /// checked with the rules of an edit, once per index, reusing the previous check of the
    /// resources that did not change.
    pub fn new(
        index: Arc<RepoIndex>,
        previous: Option<&Snapshot>,
        schemas: &SchemaSources,
    ) -> Self {
        let granted_by = views::granted_by(&index);
        let check = crate::rules::RepoCheck::new(&index, schemas, previous.map(|p| &p.check));
        let mut rows = Vec::new();
        let mut by_resource = HashMap::new();
        for r in index.resources() {
            let address = Arc::as_ptr(&r.resource) as usize;
            let reused = previous
                .filter(|_| r.key.kind != Kind::TykOasApiDefinition)
                .and_then(|p| p.by_resource.get(&address))
                .filter(|row| row.0.path == *r.path && row.0.line == r.line);
            let row = match reused {
                Some(row) => Arc::clone(row),
                None => {
                    let summary = views::summary(&index, r);
                    let search = views::search_text(&summary);
                    Arc::new((summary, r.key.kind, search))
                }
            };
            by_resource.insert(address, Arc::clone(&row));
            rows.push(row);
        }
        Self {
            index,
            rows,
            by_resource,
            granted_by,
            check,
        }
    }

    /// Every problem: what reading the repo found, then what the rules refuse.
    pub fn problems(&self) -> impl Iterator<Item = &crate::repo::Problem> {
        self.index.problems().iter().chain(self.check.problems())
    }
}

/// Reads and refreshes the index of one branch of the config repo.
pub struct Catalog {
    repo: ConfigRepo,
    branch: String,
    options: IndexOptions,
    /// The CRD schemas resources are checked against (none until [`Catalog::with_schemas`]).
    schemas: Arc<SchemaSources>,
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Held while re-indexing, so two refreshes never race.
    refreshing: Mutex<()>,
}

impl Catalog {
    pub fn new(repo: ConfigRepo, branch: String, options: IndexOptions) -> Self {
        Self {
            repo,
            branch,
            options,
            schemas: Arc::default(),
            current: RwLock::new(None),
            refreshing: Mutex::new(()),
        }
    }

    /// Checks the repo's resources against these CRD schemas too (the ones edits get).
    pub fn with_schemas(mut self, schemas: Arc<SchemaSources>) -> Self {
        self.schemas = schemas;
        self
    }

    /// The latest snapshot, once the first index is built.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn is_ready(&self) -> bool {
        self.snapshot().is_some()
    }

    /// Whether the branch can be read now (the repo is still there). Blocking.
    pub fn repo_readable(&self) -> bool {
        self.repo.head_of(&self.branch).is_ok()
    }

    /// Re-indexes if the branch moved. Blocking: call from `spawn_blocking`. Returns whether the
    /// snapshot changed.
    pub fn refresh(&self) -> Result<bool, RepoError> {
        let _guard = self
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let head = self.repo.head_of(&self.branch)?;
        let previous = self.snapshot();
        if previous.as_ref().and_then(|s| s.index.commit()) == Some(head) {
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let index = RepoIndex::build(
            &self.repo,
            head,
            previous.as_ref().map(|s| s.index.as_ref()),
            &self.options,
        )?;
        let stats = index.stats();
        let snapshot = Arc::new(Snapshot::new(
            Arc::new(index),
            previous.as_deref(),
            &self.schemas,
        ));
        tracing::info!(
            commit = %head, files_read = stats.files_read, files_reused = stats.files_reused,
            resources = snapshot.rows.len(), problems = snapshot.problems().count(),
            elapsed_ms = started.elapsed().as_millis() as u64, "indexed config repo"
        );
        match self.current.write() {
            Ok(mut current) => *current = Some(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Some(snapshot),
        }
        Ok(true)
    }

    fn ready(&self) -> Result<Arc<Snapshot>, Error> {
        self.snapshot()
            .ok_or_else(|| Error::new(Code::NotReady, "the config repo is still being indexed"))
    }

    /// A filtered, paged list. A page or offset past the end serves the last page.
    pub fn list(&self, query: &ResourceQuery) -> Result<ResourceList, Error> {
        let snap = self.ready()?;
        let kinds = parse_kinds(query.kind.as_deref())?;
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let needle = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        let namespace = query.namespace.as_deref().filter(|n| !n.is_empty());

        let mut namespaces = BTreeSet::new();
        let mut matching = Vec::new();
        for row in &snap.rows {
            let (summary, kind, search) = row.as_ref();
            if !kinds.contains(kind) {
                continue;
            }
            namespaces.insert(summary.namespace.as_str());
            if namespace.is_some_and(|n| n != summary.namespace)
                || needle.as_deref().is_some_and(|n| !search.contains(n))
            {
                continue;
            }
            matching.push(summary);
        }
        let total = matching.len();
        let asked = match query.page {
            Some(page) => page.max(1).saturating_sub(1).saturating_mul(limit),
            None => query.offset.unwrap_or(0),
        };
        let offset = if asked >= total {
            total.saturating_sub(1) / limit * limit
        } else {
            asked
        };
        Ok(ResourceList {
            total,
            offset,
            limit,
            page: offset / limit + 1,
            items: matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
            namespaces: namespaces.into_iter().map(str::to_owned).collect(),
            commit: snap.index.commit().map(|c| c.to_string()),
        })
    }

    /// One resource with its views.
    pub fn detail(&self, kind: &str, namespace: &str, name: &str) -> Result<ResourceDetail, Error> {
        let snap = self.ready()?;
        let kind = Kind::parse(kind).ok_or_else(|| unknown_kind(kind))?;
        let key = ResourceKey::new(kind, namespace, name);
        let indexed = snap.index.get(&key).ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!("no {kind} {namespace}/{name} on branch {}", self.branch),
            )
        })?;
        views::detail(
            &snap.index,
            indexed,
            snap.granted_by.get(&key).map_or(&[][..], Vec::as_slice),
        )
        .map_err(|e| Error::new(Code::InvalidResource, e.message))
    }

    /// What the cross-resource rules need of every API and policy, for forms to check edits
    /// as they are typed.
    pub fn validation_context(&self) -> Result<frontend::validate::Environment, Error> {
        Ok(Environment::clone(self.ready()?.check.environment()))
    }

    /// The OAS API whose document the ConfigMap `namespace/name` holds, if one references it.
    pub fn oas_of_configmap(&self, namespace: &str, name: &str) -> Option<ResourceRef> {
        oas_referencing(&self.snapshot()?.index, namespace, name)
    }

    /// `GET /api/v1/problems`, each problem with the resource it is about when one starts at its
    /// file and line.
    pub fn problems(&self) -> Result<ProblemList, Error> {
        let snap = self.ready()?;
        Ok(ProblemList {
            commit: snap.index.commit().map(|c| c.to_string()),
            items: snap
                .problems()
                .map(|p| Problem {
                    path: p.path.clone(),
                    line: p.line,
                    kind: p.kind.as_str().into(),
                    message: p.message.clone(),
                    resource: resource_at(&snap.index, &p.path, p.line),
                })
                .collect(),
        })
    }

    pub fn status(&self) -> RepoStatus {
        let Some(snap) = self.snapshot() else {
            return RepoStatus {
                branch: self.branch.clone(),
                ..RepoStatus::default()
            };
        };
        let count = |kind| snap.index.of_kind(kind).count();
        RepoStatus {
            branch: self.branch.clone(),
            commit: snap.index.commit().map(|c| c.to_string()),
            apis: count(Kind::ApiDefinition),
            policies: count(Kind::SecurityPolicy),
            oas_apis: count(Kind::TykOasApiDefinition),
            files: snap.index.file_count(),
            problems: snap.problems().count(),
            host: None,
        }
    }
}

fn unknown_kind(kind: &str) -> Error {
    Error::new(
        Code::UnknownKind,
        format!(
            "unknown kind `{kind}`; expected ApiDefinition, SecurityPolicy, TykOasApiDefinition or ConfigMap"
        ),
    )
}

fn parse_kinds(kinds: Option<&str>) -> Result<Vec<Kind>, Error> {
    match kinds.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(vec![
            Kind::ApiDefinition,
            Kind::SecurityPolicy,
            Kind::TykOasApiDefinition,
        ]),
        Some(list) => list
            .split(',')
            .map(|k| Kind::parse(k.trim()).ok_or_else(|| unknown_kind(k.trim())))
            .collect(),
    }
}

/// The indexed resource that starts at `path:line`, if any.
fn resource_at(index: &RepoIndex, path: &str, line: Option<u32>) -> Option<ResourceRef> {
    let line = line?;
    index
        .resources()
        .find(|r| &*r.path == path && r.line == line)
        .and_then(|r| match r.key.kind {
            // A ConfigMap's page is the OAS API that reads it.
            Kind::ConfigMap => oas_referencing(index, &r.key.namespace, &r.key.name),
            _ => Some(reference(r)),
        })
}

fn reference(r: &crate::repo::IndexedResource) -> ResourceRef {
    ResourceRef {
        kind: r.key.kind.as_str().into(),
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
    }
}

/// The OAS API whose `spec.tykOAS.configmapRef` names the ConfigMap `namespace/name`.
fn oas_referencing(index: &RepoIndex, namespace: &str, name: &str) -> Option<ResourceRef> {
    index
        .of_kind(Kind::TykOasApiDefinition)
        .find(|r| {
            let crate::resources::Resource::Oas(oas) = r.resource.as_ref() else {
                return false;
            };
            oas.spec
                .as_ref()
                .and_then(|s| s.tyk_oas.as_ref())
                .and_then(|t| t.configmap_ref.as_ref())
                .is_some_and(|c| {
                    c.name.as_deref() == Some(name)
                        && c.namespace.as_deref().unwrap_or(&r.key.namespace) == namespace
                })
        })
        .map(reference)
}
