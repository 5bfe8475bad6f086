//! Resource history: every first-parent commit of the branch that changed a resource's
//! document, with who, when, through which change request, and which fields; the document as
//! it was at any commit; and restoring a version as a normal change request.
//!
//! The index is built once by walking the branch, then extended with only the new commits as the
//! branch moves (a background worker; pages only read the database). It lives in the database,
//! so a restart resumes it; a force-push cuts it back to the merge base and re-reads from there.

mod fields;
mod store;
mod walk;

pub use fields::{diff as field_diff, merge_patch, overlap};
pub use walk::{Action, CommitInfo, IndexedCommit, Walker, parse_message};

use crate::changes::ChangeService;
use crate::db::{Db, DbError};
use crate::error::{Code, Error};
use crate::hosts::HostKind;
use crate::repo::{ConfigRepo, IndexOptions, RepoError};
use crate::resources::{Kind, ResourceKey};
use frontend::api::history::{
    FieldChange, HistoryEntry, HistoryPage, HistoryStatus, PullRequestRef, ResourceAt,
    RestoreRequest, RestoreResult, RestoreWarning,
};
use frontend::api::{CreateChangeRequest, EditRequest};
use gix::ObjectId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Entries per page when none is asked.
pub const PER_PAGE: usize = 20;
/// Commits indexed per transaction while catching up.
const BATCH: usize = 500;

/// Where the host shows pull requests and commits.
#[derive(Debug, Clone)]
pub struct HostLinks {
    pub kind: HostKind,
    /// `https://github.com/acme/apis`; `None` for the local host.
    pub web: Option<String>,
    /// Tollgate's public URL, for its own change pages.
    pub public_url: String,
}

impl HostLinks {
    pub fn from_config(config: &crate::config::Config) -> Self {
        let host = &config.host;
        let api = host.api_url.trim_end_matches('/');
        let base = match host.kind {
            HostKind::Local => None,
            HostKind::Github if api == "https://api.github.com" => {
                Some("https://github.com".to_owned())
            }
            _ => Some(
                ["/api/v3", "/api/v4", "/api/v1"]
                    .iter()
                    .find_map(|s| api.strip_suffix(s))
                    .unwrap_or(api)
                    .to_owned(),
            ),
        };
        Self {
            kind: host.kind,
            web: base.map(|b| format!("{b}/{}", host.repo)),
            public_url: config.server.public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn pull_url(&self, number: &str) -> Option<String> {
        let web = self.web.as_deref()?;
        let n = number.trim_start_matches(['#', '!']);
        Some(match self.kind {
            HostKind::Gitlab => format!("{web}/-/merge_requests/{n}"),
            HostKind::Gitea => format!("{web}/pulls/{n}"),
            _ => format!("{web}/pull/{n}"),
        })
    }

    fn commit_url(&self, commit: &str) -> Option<String> {
        let web = self.web.as_deref()?;
        Some(match self.kind {
            HostKind::Gitlab => format!("{web}/-/commit/{commit}"),
            _ => format!("{web}/commit/{commit}"),
        })
    }
}

/// The history index of one branch and the reads and restores on it.
pub struct HistoryService {
    db: Db,
    repo: ConfigRepo,
    branch: String,
    options: IndexOptions,
    links: HostLinks,
    /// Held while the index is extended, so two updates never interleave.
    updating: tokio::sync::Mutex<()>,
    walked: AtomicU64,
}

fn db_err(e: DbError) -> Error {
    Error::new(Code::DatabaseUnavailable, "the database is unavailable").detail(e)
}

fn repo_err(e: RepoError) -> Error {
    Error::new(Code::RepoUnavailable, "the config repo cannot be read").detail(e)
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::internal(e)
}

/// A resource key from path parts, or `unknown_kind`.
fn key_of(kind: &str, namespace: &str, name: &str) -> Result<ResourceKey, Error> {
    let k = Kind::parse(kind).ok_or_else(|| {
        Error::new(
            Code::UnknownKind,
            format!(
                "unknown kind `{kind}`; expected ApiDefinition, SecurityPolicy, TykOasApiDefinition or ConfigMap"
            ),
        )
    })?;
    Ok(ResourceKey::new(k, namespace, name))
}

impl HistoryService {
    pub fn new(
        db: Db,
        repo: ConfigRepo,
        branch: String,
        options: IndexOptions,
        links: HostLinks,
    ) -> Self {
        Self {
            db,
            repo,
            branch,
            options,
            links,
            updating: tokio::sync::Mutex::new(()),
            walked: AtomicU64::new(0),
        }
    }

    /// Commits this process has read (diffed) since it started.
    pub fn walked(&self) -> u64 {
        self.walked.load(Ordering::Relaxed)
    }

    pub async fn status(&self) -> Result<HistoryStatus, Error> {
        let state = store::state(&self.db, &self.branch).await.map_err(db_err)?;
        Ok(HistoryStatus {
            branch: self.branch.clone(),
            head: state.as_ref().map(|s| s.head.clone()),
            commits: state.map_or(0, |s| s.commits.max(0) as u64),
            walked: self.walked(),
        })
    }

    /// Brings the index up to the branch head: only the commits since the indexed head, or,
    /// after a force-push, since the merge base. Returns the number of commits read.
    pub async fn update(&self) -> Result<u64, Error> {
        let _guard = self.updating.lock().await;
        let state = store::state(&self.db, &self.branch).await.map_err(db_err)?;
        let old_head = state
            .as_ref()
            .and_then(|s| ObjectId::from_hex(s.head.as_bytes()).ok());
        let repo = self.repo.clone();
        let branch = self.branch.clone();
        let options = self.options.clone();
        let (walker, head, mut new, found) = tokio::task::spawn_blocking(move || {
            let head = repo.head_of(&branch)?;
            let walker = Walker::new(&repo, options);
            let (new, found) = walker.chain(head, old_head)?;
            Ok::<_, RepoError>((walker, head, new, found))
        })
        .await
        .map_err(join_err)?
        .map_err(repo_err)?;
        if Some(head) == old_head {
            return Ok(0);
        }
        let mut base = state.as_ref().map_or(0, |s| s.commits);
        if old_head.is_some() && !found {
            // Rewritten: keep what is still on the new chain, re-read the rest.
            let chain: std::collections::HashMap<String, i64> =
                store::chain(&self.db, &self.branch)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|(seq, id)| (id, seq))
                    .collect();
            let position = new.iter().position(|c| chain.contains_key(&c.to_string()));
            let (keep, base_id) = match position {
                Some(p) => {
                    let id = new[p].to_string();
                    (chain.get(&id).copied().unwrap_or(0), id)
                }
                None => (0, String::new()),
            };
            if let Some(p) = position {
                new.truncate(p);
            }
            tracing::info!(branch = %self.branch, merge_base = %base_id, kept = keep, rewritten = base - keep,
                "the branch was rewritten; re-indexing its history from the merge base");
            store::truncate(&self.db, &self.branch, keep, &base_id)
                .await
                .map_err(db_err)?;
            base = keep;
        }
        new.reverse();
        let total = new.len() as u64;
        let started = std::time::Instant::now();
        let mut walker = walker;
        for batch in new.chunks(BATCH) {
            let batch = batch.to_vec();
            let (w, indexed) = tokio::task::spawn_blocking(move || {
                let mut out = Vec::with_capacity(batch.len());
                for id in batch {
                    match walker.index(id) {
                        Ok(c) => out.push(c),
                        Err(e) => return (walker, Err(e)),
                    }
                }
                (walker, Ok(out))
            })
            .await
            .map_err(join_err)?;
            walker = w;
            let indexed = indexed.map_err(repo_err)?;
            self.walked
                .fetch_add(indexed.len() as u64, Ordering::Relaxed);
            store::save(&self.db, &self.branch, base + 1, &indexed)
                .await
                .map_err(db_err)?;
            base += indexed.len() as i64;
        }
        tracing::info!(branch = %self.branch, commits = total, elapsed_ms = started.elapsed().as_millis() as u64,
            "history index updated");
        Ok(total)
    }

    /// `GET …/history?page=`: newest first.
    pub async fn page(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        page: Option<usize>,
        per_page: Option<usize>,
    ) -> Result<HistoryPage, Error> {
        let key = key_of(kind, namespace, name)?;
        let per_page = per_page.unwrap_or(PER_PAGE).clamp(1, 100);
        let page = page.unwrap_or(1).max(1);
        let kind = key.kind.as_str();
        let total = store::count(&self.db, &self.branch, kind, namespace, name)
            .await
            .map_err(db_err)?;
        let rows = store::page(
            &self.db,
            &self.branch,
            kind,
            namespace,
            name,
            ((page - 1) * per_page) as i64,
            per_page as i64,
        )
        .await
        .map_err(db_err)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let mut entry = self.entry(row).await?;
            entry.live = crate::timeline::went_live(
                &self.db,
                &self.branch,
                (kind, namespace, name),
                &entry.commit,
                entry.action == "deleted",
            )
            .await
            .map_err(db_err)?;
            items.push(entry);
        }
        let state = store::state(&self.db, &self.branch).await.map_err(db_err)?;
        // "Never changed" is an answer only once the index has reached the branch head: while it
        // is still catching up (at start, or after a push) the resource may just not be read yet.
        if total == 0 && state.is_some() && self.caught_up(state.as_ref()).await? {
            return Err(Error::new(
                Code::NotFound,
                format!(
                    "no history of {kind} {namespace}/{name} on branch {}",
                    self.branch
                ),
            ));
        }
        Ok(HistoryPage {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            page,
            per_page,
            total: total.max(0) as usize,
            items,
            indexed_commit: state.map(|s| s.head),
        })
    }

    /// Whether the index holds every commit up to the branch head.
    async fn caught_up(&self, state: Option<&store::State>) -> Result<bool, Error> {
        let Some(state) = state else { return Ok(false) };
        let repo = self.repo.clone();
        let branch = self.branch.clone();
        let head = tokio::task::spawn_blocking(move || repo.head_of(&branch))
            .await
            .map_err(join_err)?
            .map_err(repo_err)?;
        Ok(ObjectId::from_hex(state.head.as_bytes()).ok() == Some(head))
    }

    /// A stored row as the wire shows it, with the change request it came from.
    async fn entry(&self, row: store::EntryRow) -> Result<HistoryEntry, Error> {
        let merged = crate::changes::store::merged_as(&self.db, &row.commit_id)
            .await
            .map_err(db_err)?;
        let mut pull = row.pull_request.as_deref().map(|n| PullRequestRef {
            number: n.to_owned(),
            url: self.links.pull_url(n),
            change_id: None,
            change_url: None,
        });
        let trailer_change = row.change_url.as_deref().map(|url| {
            let id = url.rsplit('/').next().and_then(|n| n.parse::<i64>().ok());
            (url.to_owned(), id)
        });
        let change = merged
            .map(|c| (c.id, c.host_number, c.host_state))
            .or(trailer_change
                .as_ref()
                .and_then(|(_, id)| id.map(|id| (id, None, None))));
        if let Some((id, number, host_state)) = change {
            let r = pull.get_or_insert_with(|| PullRequestRef {
                number: String::new(),
                url: None,
                change_id: None,
                change_url: None,
            });
            r.change_id = Some(id);
            r.change_url = Some(
                trailer_change
                    .as_ref()
                    .map(|(u, _)| u.clone())
                    .unwrap_or_else(|| format!("{}/changes/{id}", self.links.public_url)),
            );
            if self.links.kind != HostKind::Local {
                let state: Option<serde_json::Value> =
                    host_state.and_then(|s| serde_json::from_str(&s).ok());
                if let Some(url) = state.as_ref().and_then(|s| s["url"].as_str()) {
                    r.url = Some(url.to_owned());
                }
                if r.number.is_empty()
                    && let Some(n) = number
                {
                    let sigil = if self.links.kind == HostKind::Gitlab {
                        "!"
                    } else {
                        "#"
                    };
                    r.number = format!("{sigil}{n}");
                    if r.url.is_none() {
                        r.url = self.links.pull_url(&r.number);
                    }
                }
            }
        }
        Ok(HistoryEntry {
            commit_url: self.links.commit_url(&row.commit_id),
            fields: serde_json::from_str(&row.fields).unwrap_or_default(),
            commit: row.commit_id,
            date: row.committed_at,
            author: row.author,
            author_email: row.author_email,
            committer: row.committer,
            committer_email: row.committer_email,
            title: row.title,
            action: row.action,
            path: row.path,
            moved_from: row.moved_from,
            pull_request: pull,
            live: Vec::new(),
        })
    }

    /// Resolves `commit` (full or abbreviated) to its position on the indexed branch.
    async fn locate(&self, commit: &str) -> Result<(String, i64), Error> {
        let repo = self.repo.clone();
        let spec = commit.to_owned();
        let not_found = || {
            Error::new(
                Code::NotFound,
                format!(
                    "{commit} is not a commit of branch {} (or is not indexed yet)",
                    self.branch
                ),
            )
        };
        if spec.is_empty() || spec.len() > 64 || !spec.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let id = tokio::task::spawn_blocking(move || {
            let local = repo.local();
            local
                .rev_parse_single(spec.as_str())
                .ok()
                .and_then(|id| id.object().ok())
                .and_then(|o| o.try_into_commit().ok())
                .map(|c| c.id.to_string())
        })
        .await
        .map_err(join_err)?
        .ok_or_else(not_found)?;
        let seq = store::seq_of(&self.db, &self.branch, &id)
            .await
            .map_err(db_err)?
            .ok_or_else(not_found)?;
        Ok((id, seq))
    }

    /// `GET …/at/{commit}`: the document as it was after `commit`.
    pub async fn at(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        commit: &str,
    ) -> Result<ResourceAt, Error> {
        let key = key_of(kind, namespace, name)?;
        let (id, seq) = self.locate(commit).await?;
        self.document(&key, &id, seq).await?.ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!(
                    "{} {namespace}/{name} did not exist at {}",
                    key.kind,
                    &id[..id.len().min(12)]
                ),
            )
        })
    }

    /// The document of `key` at commit `id` (at position `seq`), or `None` if it did not exist.
    async fn document(
        &self,
        key: &ResourceKey,
        id: &str,
        seq: i64,
    ) -> Result<Option<ResourceAt>, Error> {
        let Some(row) = store::entry_at(
            &self.db,
            &self.branch,
            key.kind.as_str(),
            &key.namespace,
            &key.name,
            seq,
        )
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        if row.action == Action::Deleted.as_str() {
            return Ok(None);
        }
        let repo = self.repo.clone();
        let options = self.options.clone();
        let (key, id, path) = (key.clone(), id.to_owned(), row.path);
        tokio::task::spawn_blocking(move || {
            let local = repo.local();
            let Ok(obj) = local.rev_parse_single(format!("{id}:{path}").as_str()) else {
                return Ok(None);
            };
            let data = obj.object().map_err(RepoError::git)?.detach().data;
            Ok(walk::parse_with_text(&data, &options)
                .into_iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, document, yaml)| ResourceAt {
                    commit: id.clone(),
                    path: path.clone(),
                    yaml,
                    document,
                }))
        })
        .await
        .map_err(join_err)?
        .map_err(repo_err)
    }

    /// `POST …/restore`: a change request setting the fields that differ from `commit`'s
    /// version back to it (or recreating the resource when it is gone). Fields a commit later
    /// than the one being undone also changed are left out, and listed as warnings, unless the
    /// request names them in `fields`; with such warnings and no `fields`, nothing is created
    /// and the answer is a preview.
    #[expect(
        clippy::too_many_arguments,
        reason = "the resource's three names, the request and its retry key"
    )]
    pub async fn restore(
        &self,
        changes: &ChangeService,
        author: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        req: RestoreRequest,
        idempotency_key: Option<&str>,
    ) -> Result<RestoreResult, Error> {
        let key = key_of(kind, namespace, name)?;
        self.update().await?;
        let (id, seq) = self.locate(&req.commit).await?;
        let short = &id[..id.len().min(12)];
        let version = self.document(&key, &id, seq).await?.ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!("{} {namespace}/{name} did not exist at {short}", key.kind),
            )
        })?;
        let state = store::state(&self.db, &self.branch)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(Code::NotReady, "the history is still being indexed"))?;
        let current = self.document(&key, &state.head, state.commits).await?;
        let title_of = |fields: &[FieldChange]| -> String {
            let what = match fields {
                [one] => format!("{} ", one.path),
                _ => String::new(),
            };
            format!("Restore {what}{name} to {short}")
        };
        let Some(current) = current else {
            // Gone at the head: recreate it as it was.
            let fields = field_diff(None, Some(&version.document));
            let edit = EditRequest {
                kind: key.kind.as_str().to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                document: Some(version.document.clone()),
                merge_patch: None,
                yaml: None,
                delete: false,
            };
            let request = CreateChangeRequest {
                title: format!("Recreate {name} as of {short}"),
                description: format!(
                    "Recreates {} {namespace}/{name} as it was at commit {id} (`{}`).",
                    key.kind, version.path
                ),
                edits: vec![edit],
            };
            let (_, created) = changes.create(author, request, idempotency_key).await?;
            crate::insights::store::mark_restore(&self.db, created.id)
                .await
                .map_err(db_err)?;
            return Ok(RestoreResult {
                created: Some(created),
                fields,
                warnings: Vec::new(),
                recreate: true,
            });
        };
        let identity = |p: &str| {
            overlap(p, "metadata.name")
                || overlap(p, "metadata.namespace")
                || overlap(p, "apiVersion")
                || overlap(p, "kind")
                || overlap(p, "status")
        };
        let differ: Vec<FieldChange> = field_diff(Some(&current.document), Some(&version.document))
            .into_iter()
            .filter(|f| !identity(&f.path))
            .collect();
        if differ.is_empty() {
            return Err(Error::new(
                Code::NoChange,
                format!("{name} is already as it was at {short}: nothing to restore"),
            ));
        }
        // The first later commit is the change being undone; any later one that touched the
        // same field is someone else's work that restoring would undo too.
        let later = store::after(
            &self.db,
            &self.branch,
            key.kind.as_str(),
            namespace,
            name,
            seq,
        )
        .await
        .map_err(db_err)?;
        let mut warnings = Vec::new();
        for field in &differ {
            let mut commits = Vec::new();
            for row in later.iter().skip(1).rev() {
                let touched: Vec<FieldChange> =
                    serde_json::from_str(&row.fields).unwrap_or_default();
                if touched.iter().any(|t| overlap(&t.path, &field.path)) {
                    commits.push(self.entry(row.clone()).await?);
                }
            }
            if !commits.is_empty() {
                warnings.push(RestoreWarning {
                    path: field.path.clone(),
                    commits,
                });
            }
        }
        let chosen: Vec<FieldChange> = match &req.fields {
            Some(list) => differ
                .iter()
                .filter(|f| list.iter().any(|p| p == &f.path))
                .cloned()
                .collect(),
            None if !warnings.is_empty() => {
                return Ok(RestoreResult {
                    created: None,
                    fields: differ,
                    warnings,
                    recreate: false,
                });
            }
            None => differ.clone(),
        };
        if chosen.is_empty() {
            return Err(Error::new(
                Code::NoChange,
                "none of the fields asked for differ from the current version",
            )
            .at("fields"));
        }
        let paths: Vec<_> = chosen
            .iter()
            .filter_map(|f| crate::sync::parse_path(&f.path))
            .collect();
        let patch = merge_patch(&version.document, &paths);
        let listed: String = chosen.iter().map(|f| format!("- `{}`\n", f.path)).collect();
        let request = CreateChangeRequest {
            title: title_of(&chosen),
            description: format!(
                "Restores these fields of {} {namespace}/{name} to their values at commit {id}:\n\n{listed}",
                key.kind
            ),
            edits: vec![EditRequest {
                kind: key.kind.as_str().to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                document: None,
                merge_patch: Some(patch),
                yaml: None,
                delete: false,
            }],
        };
        let (_, created) = changes.create(author, request, idempotency_key).await?;
        crate::insights::store::mark_restore(&self.db, created.id)
            .await
            .map_err(db_err)?;
        Ok(RestoreResult {
            created: Some(created),
            fields: chosen,
            warnings,
            recreate: false,
        })
    }
}

/// Keeps the history index up to date: now, then whenever the branch may have moved.
pub async fn run(history: Arc<HistoryService>, every: std::time::Duration) {
    let mut last_error: Option<String> = None;
    loop {
        match history.update().await {
            Ok(_) => last_error = None,
            Err(e) => {
                let message = format!("{e} ({})", e.detail.as_deref().unwrap_or(""));
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(error = %message, "cannot update the history index");
                }
                last_error = Some(message);
            }
        }
        tokio::time::sleep(every).await;
    }
}
