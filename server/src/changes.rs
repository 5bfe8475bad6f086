//! Change requests: drafts saved first, planned at the branch head, published as one commit on
//! a branch of the Git host, opened as a change request there, followed (webhooks and polling)
//! and merged or closed. The flow never names a provider: [`crate::hosts::Host`] does the
//! host's part. The only code that writes to the config repo or the host.

mod adopt;
mod diff;
mod follow;
mod plan;
mod rebase;
pub mod store;
mod touching;

pub use follow::HookOutcome;
pub use plan::PathTemplates;

use crate::catalog::Catalog;
use crate::db::{Db, DbError};
use crate::error::{Code, Error};
use crate::hosts::{
    FileChange, Host, HostError, HostErrorKind, Publication, Published, RequestState,
};
use crate::repo::{ConfigRepo, FileWrite, IndexOptions, Person, RepoError, RepoIndex};
use askama::Template;
use frontend::api::{
    ChangeEvent, ChangeSummary, ChangeView, ChangedResource, CreateChangeRequest, CreatedChange,
    EditRequest,
};
use frontend::validate::{Issue, Severity, has_errors};
use gix::ObjectId;
use std::sync::Arc;
use store::ChangeState;

fn person(login: &str) -> Person {
    Person {
        name: login.into(),
        email: format!("{login}@users.tollgate"),
    }
}

/// Settings of the change flow.
#[derive(Debug, Clone)]
pub struct ChangeSettings {
    pub approvals_required: u32,
    /// CRD schemas edits are checked against: the configured files and each cluster's own.
    pub schemas: Arc<crate::resources::SchemaSources>,
    pub templates: PathTemplates,
    /// Base URL for links back to Tollgate in commit messages.
    pub public_url: String,
    /// Who owns which namespaces: named in the description, asked to review on the host.
    pub ownership: Vec<crate::config::OwnershipConfig>,
}

/// One touched namespace and the groups that own it (any one of them approves for it).
pub struct OwnerLine {
    pub namespace: String,
    pub groups: String,
}

#[derive(Template)]
#[template(path = "commit_message.txt", escape = "none")]
struct CommitMessage<'a> {
    title: &'a str,
    description: &'a str,
    resources: &'a [ChangedResource],
    errors: usize,
    warnings: usize,
    link: String,
}

#[derive(Template)]
#[template(path = "change_description.md", escape = "none")]
struct ChangeDescription<'a> {
    description: &'a str,
    resources: &'a [ChangedResource],
    issues: &'a [Issue],
    owners: Vec<OwnerLine>,
    author: &'a str,
    link: String,
}

fn err(code: Code, message: impl Into<String>) -> Error {
    Error::new(code, message)
}

fn db_err(e: DbError) -> Error {
    err(
        Code::DatabaseUnavailable,
        "the database is unavailable; nothing was changed",
    )
    .detail(e)
}

fn repo_err(e: RepoError) -> Error {
    if let RepoError::CheckedOut { branch, .. } = &e {
        return err(
            Code::CheckedOut,
            format!(
                "branch `{branch}` is checked out in the config repo's work tree, and Tollgate never moves a checked-out branch; an administrator must point repo.path at a bare repository"
            ),
        );
    }
    err(
        Code::RepoUnavailable,
        "the config repository could not be read or written; nothing was changed",
    )
    .detail(e)
}

/// A host's failure as the API reports it: what went wrong, in the host's terms; the draft
/// and everything else is kept.
fn host_err(e: HostError) -> Error {
    let code = match e.kind {
        HostErrorKind::Unauthorized | HostErrorKind::Forbidden | HostErrorKind::NotFound => {
            Code::HostRefused
        }
        HostErrorKind::Unavailable => Code::HostUnavailable,
        HostErrorKind::HeadMoved | HostErrorKind::Conflict | HostErrorKind::BranchExists => {
            Code::Conflict
        }
        HostErrorKind::NotMergeable => Code::NotMergeable,
        HostErrorKind::Rejected => Code::HostRejected,
    };
    err(code, e.message)
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::internal(e)
}

/// Lower-case words joined by `-`, for branch names.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "change".into() } else { out }
}

/// Titles and descriptions become commit text: a title is one line of 1 to 200 characters
/// without control characters (a newline would forge trailers, a NUL makes a commit
/// `git fsck --strict` refuses); a description may hold lines but no NUL.
fn check_text(title: &str, description: &str) -> Result<(), Error> {
    if title.is_empty() || title.chars().count() > 200 {
        return Err(err(Code::InvalidTitle, "the title must be 1 to 200 characters").at("title"));
    }
    if title
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(err(
            Code::InvalidTitle,
            "the title must be one line without control characters",
        )
        .at("title"));
    }
    if description.contains('\0') {
        return Err(err(
            Code::InvalidDescription,
            "the description must not contain NUL characters",
        )
        .at("description"));
    }
    Ok(())
}

/// The change flow.
pub struct ChangeService {
    db: Db,
    git: Arc<GitSide>,
    /// Where change requests are published, reviewed and merged.
    host: Arc<dyn Host>,
    /// The mirror of a remote host: its last fetch, and one fetch at a time.
    mirror: follow::Mirror,
    /// Ids of changes whose state changed (a webhook, a poll, a merge), for live pages.
    updates: tokio::sync::broadcast::Sender<i64>,
    /// The status board: adopting drift reads it, and adopt changes are checked against it.
    status: Arc<crate::status::StatusService>,
    /// One writer per repository: branch, commit and merge never interleave.
    writer: tokio::sync::Mutex<()>,
    /// The users' own host tokens: their requests and approvals are made as them.
    tokens: Arc<crate::auth::host_tokens::HostTokens>,
}

/// What runs on blocking threads: the repo and what reading it needs.
pub struct GitSide {
    repo: ConfigRepo,
    catalog: Arc<Catalog>,
    branch: String,
    options: IndexOptions,
    settings: ChangeSettings,
}

impl std::ops::Deref for ChangeService {
    type Target = GitSide;
    fn deref(&self) -> &GitSide {
        &self.git
    }
}

/// What the plan needs from the repo at a commit.
struct RepoFiles<'r> {
    repo: &'r ConfigRepo,
    commit: ObjectId,
}

impl plan::FileSource for RepoFiles<'_> {
    fn read(&self, path: &str) -> Result<Option<String>, plan::PlanError> {
        let file = self
            .repo
            .read_file(self.commit, path)
            .map_err(|e| plan::PlanError {
                code: Code::RepoUnavailable,
                field: path.into(),
                message: e.to_string(),
            })?;
        Ok(file.map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned()))
    }
}

impl ChangeService {
    #[expect(clippy::too_many_arguments, reason = "the parts it is built from")]
    pub fn new(
        db: Db,
        repo: ConfigRepo,
        catalog: Arc<Catalog>,
        branch: String,
        options: IndexOptions,
        settings: ChangeSettings,
        status: Arc<crate::status::StatusService>,
        host: Arc<dyn Host>,
        host_repo: String,
        tokens: Arc<crate::auth::host_tokens::HostTokens>,
    ) -> Self {
        let git = Arc::new(GitSide {
            repo,
            catalog,
            branch,
            options,
            settings,
        });
        Self {
            db,
            git,
            mirror: follow::Mirror::new(host.kind(), host_repo),
            host,
            updates: tokio::sync::broadcast::channel(64).0,
            status,
            writer: tokio::sync::Mutex::new(()),
            tokens,
        }
    }

    /// The configured Git host.
    pub fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    /// Change ids as their state changes, for live pages.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.updates.subscribe()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&GitSide) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let git = Arc::clone(&self.git);
        tokio::task::spawn_blocking(move || f(&git))
            .await
            .map_err(join_err)
    }

    /// `POST /api/v1/changes`: saves a draft, then proposes it. With an idempotency key, a
    /// repeated request returns the first result (or retries its failed proposal).
    pub async fn create(
        &self,
        author: &str,
        req: CreateChangeRequest,
        key: Option<&str>,
    ) -> Result<(bool, CreatedChange), Error> {
        self.create_with(author, req, key, None).await
    }

    /// [`ChangeService::create`], recording what an adopt change adopts.
    async fn create_with(
        &self,
        author: &str,
        req: CreateChangeRequest,
        key: Option<&str>,
        adoption: Option<frontend::api::Adoption>,
    ) -> Result<(bool, CreatedChange), Error> {
        let title = req.title.trim();
        check_text(title, &req.description)?;
        if req.edits.is_empty() || req.edits.len() > 100 {
            return Err(err(Code::NoEdits, "a change holds 1 to 100 edits").at("edits"));
        }
        let edits = serde_json::to_string(&req.edits)
            .map_err(|e| err(Code::InvalidEdits, e.to_string()))?;
        if let Some(key) = key {
            if key.is_empty() || key.len() > 200 {
                return Err(err(
                    Code::InvalidIdempotencyKey,
                    "Idempotency-Key must be 1 to 200 characters",
                ));
            }
            if let Some(row) = store::by_idempotency_key(&self.db, author, key)
                .await
                .map_err(db_err)?
            {
                return self
                    .replay(row, title, &req.description, &edits)
                    .await
                    .map(|c| (false, c));
            }
        }
        let base = self.head().await?;
        let adoption = adoption
            .map(|a| serde_json::to_string(&a))
            .transpose()
            .map_err(Error::internal)?;
        let id = match store::insert_draft(
            &self.db,
            title,
            &req.description,
            author,
            &edits,
            &base.to_string(),
            key,
            adoption.as_deref(),
        )
        .await
        {
            Ok(id) => id,
            Err(e) => {
                // A concurrent retry with the same key won the insert.
                if let Some(row) = match key {
                    Some(k) => store::by_idempotency_key(&self.db, author, k)
                        .await
                        .map_err(db_err)?,
                    None => None,
                } {
                    return self
                        .replay(row, title, &req.description, &edits)
                        .await
                        .map(|c| (false, c));
                }
                return Err(db_err(e));
            }
        };
        self.propose(id).await.map(|c| (true, c))
    }

    /// A request with a key already used: the same body gets the first answer (its proposal
    /// retried if it failed); a corrected body replaces a draft that was refused; any other
    /// body is refused, as the key already names another change.
    async fn replay(
        &self,
        row: store::ChangeRow,
        title: &str,
        description: &str,
        edits: &str,
    ) -> Result<CreatedChange, Error> {
        let same = row.title == title && row.description == description && row.edits == edits;
        if same {
            return self.resume(row).await;
        }
        if row.state != ChangeState::Draft {
            return Err(err(
                Code::IdempotencyKeyReused,
                format!(
                    "this Idempotency-Key was used for change {} with a different body; use a new key for a new change",
                    row.id
                ),
            ));
        }
        store::set_draft(&self.db, row.id, title, description, edits)
            .await
            .map_err(db_err)?;
        self.propose(row.id).await
    }

    async fn resume(&self, row: store::ChangeRow) -> Result<CreatedChange, Error> {
        match (row.state, row.branch, row.head_commit) {
            (ChangeState::Draft, _, _) => self.propose(row.id).await,
            (_, Some(branch), Some(commit)) => Ok(CreatedChange {
                id: row.id,
                branch,
                commit,
            }),
            _ => Err(err(
                Code::Conflict,
                format!("change {} is {}", row.id, row.state),
            )),
        }
    }

    /// Plans `edits` against the repo at `base`, on a blocking thread.
    async fn plan_at(
        &self,
        base: ObjectId,
        edits: Vec<EditRequest>,
    ) -> Result<Result<plan::Plan, plan::PlanError>, Error> {
        self.blocking(move |s| {
            let index = s.index_at(base).map_err(|e| plan::PlanError {
                code: Code::RepoUnavailable,
                field: String::new(),
                message: e.to_string(),
            })?;
            plan::plan(
                &index,
                &RepoFiles {
                    repo: &s.repo,
                    commit: base,
                },
                &edits,
                &s.settings,
                &s.options.default_namespace,
            )
        })
        .await
    }

    async fn head(&self) -> Result<ObjectId, Error> {
        self.blocking(|s| s.repo.head_of(&s.branch))
            .await?
            .map_err(repo_err)
    }

    async fn row(&self, id: i64) -> Result<store::ChangeRow, Error> {
        store::get(&self.db, id)
            .await
            .map_err(db_err)?
            .ok_or_else(|| err(Code::NotFound, format!("no change {id}")))
    }

    /// Plans the draft's edits at the branch head and writes its commit and branch.
    async fn propose(&self, id: i64) -> Result<CreatedChange, Error> {
        let _writer = self.writer.lock().await;
        // Read under the lock: a concurrent retry may have proposed it meanwhile.
        let row = self.row(id).await?;
        if row.state != ChangeState::Draft {
            return match (row.branch, row.head_commit) {
                (Some(branch), Some(commit)) => Ok(CreatedChange { id, branch, commit }),
                _ => Err(err(Code::Conflict, format!("change {id} is {}", row.state))),
            };
        }
        // Also on regenerate and resume: drafts saved before these checks existed.
        check_text(&row.title, &row.description)?;
        let edits: Vec<EditRequest> =
            serde_json::from_str(&row.edits).map_err(|e| err(Code::InvalidEdits, e.to_string()))?;
        let base = self.head().await?;
        let planned = self.plan_at(base, edits).await?;
        let planned = match planned {
            Ok(p) => p,
            Err(e) => {
                store::set_error(&self.db, id, Some(&e.to_string()), "[]")
                    .await
                    .map_err(db_err)?;
                return Err(err(e.code, e.message.clone()).at(e.field));
            }
        };
        let issues_json = serde_json::to_string(&planned.issues).unwrap_or_else(|_| "[]".into());
        if has_errors(&planned.issues) {
            let count = planned
                .issues
                .iter()
                .filter(|i| i.severity == Severity::Error)
                .count();
            let message = format!("validation failed with {count} error(s); the draft is kept");
            store::set_error(&self.db, id, Some(&message), &issues_json)
                .await
                .map_err(db_err)?;
            let mut e = err(Code::ValidationFailed, message);
            e.issues = planned.issues;
            return Err(e);
        }
        if planned.files.is_empty() {
            store::set_error(&self.db, id, Some("the edits change nothing"), &issues_json)
                .await
                .map_err(db_err)?;
            return Err(err(Code::NoChange, "the edits change nothing in the repo"));
        }
        let message = self.commit_message(&row, &planned);
        let branch = format!("tollgate/{id}-{}", slug(&row.title));
        let publication = self
            .publication(&row, base, branch.clone(), message, &planned)
            .await?;
        // The draft keeps a host's failure as its error: the retry completes the proposal.
        let published = match self.publish(&publication).await {
            Ok(p) => p,
            Err(e) => {
                store::set_error(&self.db, id, Some(&e.message), &issues_json)
                    .await
                    .map_err(db_err)?;
                return Err(e);
            }
        };
        let request = match self.open_request(&publication, &row.author).await {
            Ok(r) => r,
            Err(e) => {
                store::set_error(&self.db, id, Some(&e.message), &issues_json)
                    .await
                    .map_err(db_err)?;
                return Err(e);
            }
        };
        self.request_owner_reviews(id, request.number, &planned.resources)
            .await;
        // The diff is read from the mirror: bring the new branch in.
        if let Err(e) = self.sync_mirror().await {
            tracing::warn!(change = id, error = %e, "cannot fetch the proposed branch");
        }
        let state = serde_json::to_string(&request).map_err(Error::internal)?;
        store::set_proposed(
            &self.db,
            id,
            &published.parent,
            &branch,
            &published.head,
            &planned.resources,
            &issues_json,
            &row.author,
            i64::try_from(request.number).unwrap_or(i64::MAX),
            &state,
        )
        .await
        .map_err(db_err)?;
        tracing::info!(change = id, %branch, commit = %published.head, number = request.number, "proposed change");
        let _ = self.updates.send(id);
        Ok(CreatedChange {
            id,
            branch,
            commit: published.head,
        })
    }

    /// The user's own host token, when they signed in through the host's login and it still
    /// works. A token the host refused is forgotten; any failure means "act as Tollgate".
    async fn user_token(&self, login: &str) -> Option<crate::hosts::AsUser> {
        if !self.host.follows() {
            return None;
        }
        match self.tokens.for_user(login).await {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(user = login, error = %e, "cannot use the user's host token");
                None
            }
        }
    }

    /// After the host refused a user's token: forget it when it is no longer valid.
    async fn refused_token(&self, login: &str, e: &HostError) {
        tracing::warn!(user = login, error = %e, "the host refused the user's token; acting with Tollgate's own");
        if e.kind == HostErrorKind::Unauthorized
            && let Err(e) = self.tokens.forget(login).await
        {
            tracing::warn!(user = login, error = %e, "cannot forget the user's host token");
        }
    }

    /// Opens the change request as its author, with their own token when they have one (the
    /// host shows them as the author), else with Tollgate's token (the description names them).
    async fn open_request(&self, p: &Publication, author: &str) -> Result<RequestState, Error> {
        if let Some(user) = self.user_token(author).await {
            match self.host.open_as(p, &user).await {
                Ok(r) => {
                    tracing::info!(
                        change = p.change,
                        user = author,
                        number = r.number,
                        "opened the request as its author"
                    );
                    return Ok(r);
                }
                Err(e)
                    if matches!(
                        e.kind,
                        HostErrorKind::Unauthorized | HostErrorKind::Forbidden
                    ) =>
                {
                    self.refused_token(author, &e).await;
                }
                Err(e) => return Err(host_err(e)),
            }
        }
        self.host.open(p).await.map_err(host_err)
    }

    /// The owners of the namespaces `resources` touch, one line per owned namespace.
    fn owner_lines(&self, resources: &[ChangedResource]) -> Vec<OwnerLine> {
        let ownership = crate::auth::ownership::Ownership(&self.settings.ownership);
        let namespaces: std::collections::BTreeSet<&str> =
            resources.iter().map(|r| r.namespace.as_str()).collect();
        namespaces
            .into_iter()
            .filter_map(|ns| {
                let groups = ownership.owners(ns);
                (!groups.is_empty()).then(|| OwnerLine {
                    namespace: ns.to_owned(),
                    groups: groups.join(", "),
                })
            })
            .collect()
    }

    /// Asks the owners of the touched namespaces to review, where the host can. Their review
    /// is already named in the description, so a host that refuses is only logged.
    async fn request_owner_reviews(&self, id: i64, number: u64, resources: &[ChangedResource]) {
        if !self.host.follows() {
            return;
        }
        let ownership = crate::auth::ownership::Ownership(&self.settings.ownership);
        let mut groups: Vec<String> = resources
            .iter()
            .flat_map(|r| ownership.owners(&r.namespace))
            .collect();
        groups.sort();
        groups.dedup();
        if groups.is_empty() {
            return;
        }
        match self.host.request_reviews(number, &groups).await {
            Ok(asked) => tracing::info!(change = id, number, ?asked, "asked the owners to review"),
            Err(e) => {
                tracing::warn!(change = id, number, error = %e, "cannot ask the owners to review")
            }
        }
    }

    /// What the host publishes for a planned draft.
    async fn publication(
        &self,
        row: &store::ChangeRow,
        base: ObjectId,
        branch: String,
        message: String,
        planned: &plan::Plan,
    ) -> Result<Publication, Error> {
        let body = ChangeDescription {
            description: &row.description,
            resources: &planned.resources,
            issues: &planned.issues,
            owners: self.owner_lines(&planned.resources),
            author: &row.author,
            link: self.link(row.id),
        }
        .render()
        .map_err(Error::internal)?;
        let writes: Vec<(String, Option<Vec<u8>>)> = planned
            .files
            .iter()
            .map(|(path, (_, new))| (path.clone(), new.as_ref().map(|t| t.clone().into_bytes())))
            .collect();
        let (base_tree, files) = self
            .blocking(move |s| -> Result<_, RepoError> {
                let base_tree = s.repo.tree_id(base)?;
                let mut files = Vec::new();
                for (path, content) in writes {
                    files.push(FileChange {
                        old_blob: s.repo.blob_id(base, &path)?,
                        path,
                        content,
                    });
                }
                Ok((base_tree, files))
            })
            .await?
            .map_err(repo_err)?;
        Ok(Publication {
            change: row.id,
            branch,
            base_branch: self.branch.clone(),
            base,
            base_tree,
            files,
            message,
            author: person(&row.author),
            title: row.title.clone(),
            body,
        })
    }

    /// Publishes on the host. A branch already there is compared with what would be written:
    /// a retry after a lost answer finds its own commit and keeps it; anything else (an older
    /// version of a regenerated change) is replaced.
    async fn publish(&self, p: &Publication) -> Result<Published, Error> {
        match self.host.publish(p, None).await {
            Ok(published) => return Ok(published),
            Err(e) if e.kind == HostErrorKind::BranchExists => {}
            Err(e) => return Err(host_err(e)),
        }
        let Some(head) = self.host.branch_head(&p.branch).await.map_err(host_err)? else {
            // Deleted in between: publish anew.
            return self.host.publish(p, None).await.map_err(host_err);
        };
        self.sync_mirror().await?;
        let files: Vec<FileWrite> = p
            .files
            .iter()
            .map(|f| FileWrite {
                path: f.path.clone(),
                content: f.content.clone(),
            })
            .collect();
        let (head_id, base) = (
            ObjectId::from_hex(head.as_bytes()).map_err(Error::internal)?,
            p.base,
        );
        let same = self
            .blocking(move |s| s.repo.commit_writes(head_id, base, &files))
            .await?
            .map_err(repo_err)?;
        if same {
            tracing::info!(branch = %p.branch, %head, "found the branch of an earlier attempt");
            return Ok(Published {
                head,
                parent: base.to_string(),
            });
        }
        self.host.publish(p, Some(&head)).await.map_err(host_err)
    }

    fn commit_message(&self, row: &store::ChangeRow, planned: &plan::Plan) -> String {
        let errors = planned
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count();
        CommitMessage {
            title: &row.title,
            description: &row.description,
            resources: &planned.resources,
            errors,
            warnings: planned.issues.len() - errors,
            link: self.link(row.id),
        }
        .render()
        .unwrap_or_else(|_| row.title.clone())
    }

    /// Plans edits at the branch head without writing: the diff and validation a form shows.
    pub async fn preview(
        &self,
        author: &str,
        req: CreateChangeRequest,
    ) -> Result<ChangeView, Error> {
        let base = self.head().await?;
        let edits = req.edits;
        let planned = self
            .plan_at(base, edits)
            .await?
            .map_err(|e| err(e.code, e.message.clone()).at(e.field))?;
        let now = store::now();
        Ok(ChangeView {
            id: 0,
            title: req.title,
            description_html: crate::markdown::to_safe_html(&req.description),
            description: req.description,
            author: author.to_owned(),
            state: "preview".into(),
            base_commit: base.to_string(),
            branch: None,
            head_commit: None,
            merge_commit: None,
            created_at: now.clone(),
            updated_at: now,
            files: planned
                .files
                .iter()
                .map(|(path, (old, new))| diff::file_diff(path, old.as_deref(), new.as_deref()))
                .collect(),
            resources: planned.resources,
            issues: planned.issues,
            approvals: Vec::new(),
            approvals_required: self.settings.approvals_required,
            events: Vec::new(),
            conflict: None,
            error: None,
            adoption: None,
            edits: Vec::new(),
            host: None,
            owners: Vec::new(),
            live: Vec::new(),
        })
    }

    /// `GET /api/v1/changes`: in `state` when given; with `reviewer`, only the open changes
    /// waiting for their review (not theirs, not approved by them), whatever `state` says.
    pub async fn list(
        &self,
        state: Option<&str>,
        reviewer: Option<&str>,
    ) -> Result<Vec<ChangeSummary>, Error> {
        // A state that is none of ours matches no change.
        let state = match state.map(ChangeState::parse) {
            Some(None) if reviewer.is_none() => return Ok(Vec::new()),
            state => state.flatten(),
        };
        let listed = match reviewer {
            Some(login) => store::awaiting_review(&self.db, login).await,
            None => store::list(&self.db, state).await,
        }
        .map_err(db_err)?;
        Ok(listed
            .into_iter()
            .map(|c| ChangeSummary {
                id: c.row.id,
                title: c.row.title,
                author: c.row.author,
                state: c.row.state.to_string(),
                approvals: u32::try_from(c.approvals).unwrap_or(u32::MAX),
                conflict: c.row.conflict.is_some(),
                created_at: c.row.created_at,
                resources: c
                    .resources
                    .iter()
                    .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
                    .collect(),
            })
            .collect())
    }

    /// Open changes touching one resource.
    pub async fn open_for(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<ChangeSummary>, Error> {
        let rows = store::open_touching(&self.db, kind, namespace, name)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(touching::summary).collect())
    }

    /// `GET /api/v1/changes/{id}`: with the diff, validation, approvals and events.
    pub async fn view(&self, id: i64) -> Result<ChangeView, Error> {
        let row = self.row(id).await?;
        let resources: Vec<ChangedResource> = store::resources(&self.db, id)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|r| ChangedResource {
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
                action: r.action,
                path: r.path,
            })
            .collect();
        let events = store::events(&self.db, id).await.map_err(db_err)?;
        let issues: Vec<Issue> = serde_json::from_str(&row.issues).unwrap_or_default();
        let edits: Vec<EditRequest> = if row.state == ChangeState::Draft {
            serde_json::from_str(&row.edits).map_err(|e| err(Code::InvalidEdits, e.to_string()))?
        } else {
            Vec::new()
        };
        let files = match (&row.head_commit, row.merge_commit.as_ref()) {
            (Some(head), _) => {
                let (base, head) = (row.base_commit.clone(), head.clone());
                let paths: Vec<String> = resources.iter().map(|r| r.path.clone()).collect();
                self.blocking(move |s| s.file_diffs(&base, &head, &paths))
                    .await??
            }
            _ => Vec::new(),
        };
        let conflict = match (row.state, &row.conflict) {
            (ChangeState::Open, None) => {
                let (base, paths) = (
                    row.base_commit.clone(),
                    resources.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
                );
                self.blocking(move |s| s.moved_files(&base, &paths))
                    .await??
                    .map(|moved| {
                        format!(
                            "{} changed on {} since this change was proposed",
                            moved.join(", "),
                            self.branch
                        )
                    })
            }
            _ => row.conflict.clone(),
        };
        let adoption = self.adoption_of(&row.adoption, row.state, &paths_of(&resources));
        let request = self.request_of(&row);
        let approvals = approvers(&events, request.as_ref(), &row.author);
        let live = if row.state == ChangeState::Merged {
            crate::insights::store::live_of(&self.db, id)
                .await
                .map_err(db_err)?
        } else {
            Vec::new()
        };
        let host = request
            .filter(|_| self.host.follows())
            .map(|r| follow::host_view(self.host.kind(), r));
        Ok(ChangeView {
            id: row.id,
            description_html: crate::markdown::to_safe_html(&row.description),
            description: row.description.clone(),
            title: row.title,
            author: row.author,
            state: row.state.to_string(),
            base_commit: row.base_commit,
            branch: row.branch,
            head_commit: row.head_commit,
            merge_commit: row.merge_commit,
            created_at: row.created_at,
            updated_at: row.updated_at,
            resources,
            files,
            issues,
            approvals,
            approvals_required: self.settings.approvals_required,
            events: events
                .into_iter()
                .map(|e| ChangeEvent {
                    body_html: if e.kind == "comment" {
                        crate::markdown::to_safe_html(&e.body)
                    } else {
                        String::new()
                    },
                    kind: e.kind,
                    author: e.author,
                    body: e.body,
                    at: e.created_at,
                })
                .collect(),
            conflict,
            error: row.error,
            adoption,
            edits,
            host,
            owners: Vec::new(),
            live,
        })
    }

    /// The host's last answer about a change's request, as stored.
    fn request_of(&self, row: &store::ChangeRow) -> Option<RequestState> {
        serde_json::from_str(row.host_state.as_deref()?).ok()
    }

    /// An adopt change's record, with who receives it and, while it is open, whether it is
    /// stale.
    fn adoption_of(
        &self,
        record: &Option<String>,
        state: ChangeState,
        paths: &[String],
    ) -> Option<frontend::api::Adoption> {
        let mut adoption: frontend::api::Adoption =
            serde_json::from_str(record.as_deref()?).ok()?;
        if state.is_active() {
            self.judge(&mut adoption, paths);
        }
        Some(adoption)
    }

    /// The markdown description a remote host would get as the pull request body.
    pub async fn description(&self, id: i64) -> Result<String, Error> {
        let view = self.view(id).await?;
        ChangeDescription {
            description: &view.description,
            resources: &view.resources,
            issues: &view.issues,
            owners: self.owner_lines(&view.resources),
            author: &view.author,
            link: self.link(id),
        }
        .render()
        .map_err(Error::internal)
    }

    async fn open_row(&self, id: i64) -> Result<store::ChangeRow, Error> {
        let row = self.row(id).await?;
        if row.state != ChangeState::Open {
            return Err(err(Code::NotOpen, format!("change {id} is {}", row.state)));
        }
        Ok(row)
    }

    /// Approves, as someone other than the author.
    pub async fn approve(&self, id: i64, user: &str) -> Result<ChangeView, Error> {
        let row = self.open_row(id).await?;
        // Logins are compared without case: `ALICE` is alice.
        if row.author.eq_ignore_ascii_case(user) {
            return Err(err(
                Code::SelfApproval,
                "you cannot approve your own change",
            ));
        }
        if store::add_event(&self.db, id, "approval", user, "")
            .await
            .map_err(db_err)?
            && !self.approve_on_host(&row, user).await
        {
            // Reviewers on the host see who approved in Tollgate.
            self.tell_host(&row, &format!("Approved in Tollgate by **{user}**."))
                .await;
        }
        self.view(id).await
    }

    pub async fn comment(&self, id: i64, user: &str, body: &str) -> Result<ChangeView, Error> {
        let row = self.row(id).await?;
        let body = body.trim();
        if body.is_empty() || body.len() > 10_000 {
            return Err(
                err(Code::InvalidComment, "a comment is 1 to 10,000 characters").at("body"),
            );
        }
        store::add_event(&self.db, id, "comment", user, body)
            .await
            .map_err(db_err)?;
        self.tell_host(
            &row,
            &format!("**{user}** commented in Tollgate:\n\n{body}"),
        )
        .await;
        self.view(id).await
    }

    /// Approves the change's request on the host as `user`, with their own token: true when
    /// the host took it (it shows them as the reviewer).
    async fn approve_on_host(&self, row: &store::ChangeRow, user: &str) -> bool {
        let Some(number) = row.host_number.and_then(|n| u64::try_from(n).ok()) else {
            return false;
        };
        let Some(token) = self.user_token(user).await else {
            return false;
        };
        match self
            .host
            .approve_as(number, "Approved in Tollgate.", &token)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    change = row.id,
                    user,
                    number,
                    "approved on the host as the user"
                );
                true
            }
            Err(e)
                if matches!(
                    e.kind,
                    HostErrorKind::Unauthorized | HostErrorKind::Forbidden
                ) =>
            {
                self.refused_token(user, &e).await;
                false
            }
            Err(e) => {
                tracing::warn!(change = row.id, user, error = %e, "the host did not take the approval; naming the user in a comment instead");
                false
            }
        }
    }

    /// Posts a comment on the change's request on a remote host. The comment is Tollgate's
    /// already: a host that cannot take it now is logged, not an error.
    async fn tell_host(&self, row: &store::ChangeRow, body: &str) {
        let (true, Some(number)) = (self.host.follows(), row.host_number) else {
            return;
        };
        let number = u64::try_from(number).unwrap_or_default();
        if let Err(e) = self.host.comment(number, body).await {
            tracing::warn!(change = row.id, error = %e, "cannot post the comment on the host");
        }
    }

    /// Closes without merging, as the author or someone who approved it.
    pub async fn close(&self, id: i64, user: &str) -> Result<ChangeView, Error> {
        let row = self.row(id).await?;
        if !row.state.is_active() {
            return Err(err(Code::NotOpen, format!("change {id} is {}", row.state)));
        }
        let approved = store::events(&self.db, id)
            .await
            .map_err(db_err)?
            .iter()
            .any(|e| e.kind == "approval" && e.author.eq_ignore_ascii_case(user));
        if !(row.author.eq_ignore_ascii_case(user) || approved) {
            return Err(err(
                Code::Forbidden,
                "only the author and those who approved a change may close it",
            ));
        }
        // Closed on the host first: a host that refuses leaves the change open in both.
        if let (true, Some(number)) = (self.host.follows(), row.host_number) {
            self.host
                .close(u64::try_from(number).unwrap_or_default())
                .await
                .map_err(host_err)?;
        }
        store::set_closed(&self.db, id, user)
            .await
            .map_err(db_err)?;
        let _ = self.updates.send(id);
        self.view(id).await
    }

    /// Discards a draft, as its author: the draft, its events and resources are deleted. A
    /// proposed change is closed instead, so its review history stays.
    pub async fn discard(&self, id: i64, user: &str) -> Result<(), Error> {
        let row = self.row(id).await?;
        if row.state != ChangeState::Draft {
            return Err(err(
                Code::NotDraft,
                format!("change {id} is {}; close it instead", row.state),
            ));
        }
        if row.author != user {
            return Err(err(Code::Forbidden, "only the author can discard a draft"));
        }
        // The writer lock: a draft being proposed right now is not deleted under it.
        let _writer = self.writer.lock().await;
        if !store::delete_draft(&self.db, id).await.map_err(db_err)? {
            return Err(err(
                Code::NotDraft,
                format!("change {id} is no longer a draft"),
            ));
        }
        tracing::info!(change = id, user, "discarded draft");
        Ok(())
    }

    /// Merges through the host, with the change's head as compare-and-swap, once the change
    /// has its approvals (in Tollgate or on the host, by people other than the author) and the
    /// host reports it mergeable. A conflict is recorded (nothing written) for regeneration.
    pub async fn merge(&self, id: i64, user: &str) -> Result<ChangeView, Error> {
        let mut row = self.open_row(id).await?;
        let paths: Vec<String> = store::resources(&self.db, id)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|r| r.path)
            .collect();
        // A stale adoption is refused first: approvals of it approved what no longer runs.
        if let Some(stale) = self
            .adoption_of(&row.adoption, row.state, &paths)
            .and_then(|a| a.stale)
        {
            return Err(err(Code::Stale, stale));
        }
        // The host's answer now, not the last stored one: it may have merged or moved.
        if self.host.follows() {
            self.refresh(&row).await?;
            row = self.row(id).await?;
            match row.state {
                ChangeState::Merged => return self.view(id).await,
                ChangeState::Open => {}
                state => return Err(err(Code::NotOpen, format!("change {id} is {state}"))),
            }
        }
        let request = self.request_of(&row);
        let events = store::events(&self.db, id).await.map_err(db_err)?;
        let approvals = approvers(&events, request.as_ref(), &row.author).len();
        if u32::try_from(approvals).unwrap_or(u32::MAX) < self.settings.approvals_required {
            return Err(err(
                Code::ApprovalRequired,
                format!(
                    "{approvals} of {} required approval(s)",
                    self.settings.approvals_required
                ),
            ));
        }
        if let Some(r) = request
            .as_ref()
            .filter(|r| self.host.follows() && r.mergeable == Some(false))
        {
            return Err(err(
                Code::NotMergeable,
                format!(
                    "{} says {} #{} cannot be merged{}",
                    self.host.kind().as_str(),
                    self.host.kind().request_noun(),
                    r.number,
                    r.merge_status
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
            ));
        }
        let head = row
            .head_commit
            .clone()
            .ok_or_else(|| err(Code::NotOpen, "the change has no commit"))?;
        let number = row
            .host_number
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or_else(|| u64::try_from(id).unwrap_or_default());
        if self.repo.is_checked_out(&self.branch) {
            return Err(repo_err(RepoError::CheckedOut {
                branch: self.branch.clone(),
                path: self.repo.path().to_owned(),
            }));
        }
        let _writer = self.writer.lock().await;
        let title = format!("Merge change {id}: {}", row.title);
        let message = format!("Tollgate-Change: {}\n", self.link(id));
        match self.host.merge(number, &head, &title, &message).await {
            Ok(commit) => {
                store::set_merged(&self.db, id, &commit, user)
                    .await
                    .map_err(db_err)?;
                tracing::info!(change = id, %commit, "merged change");
                let _ = self.updates.send(id);
                // The board and the pages move to the merged commit now, not at the next poll.
                if let Err(e) = self.sync_mirror().await {
                    tracing::warn!(change = id, error = %e, "cannot fetch after the merge");
                }
                self.reindex().await;
                self.view(id).await
            }
            Err(e) if e.kind == HostErrorKind::Conflict => {
                store::set_conflict(&self.db, id, &e.message, user)
                    .await
                    .map_err(db_err)?;
                let _ = self.updates.send(id);
                Err(err(Code::Conflict, e.message))
            }
            Err(e) => {
                // The host may have merged and lost its answer: the next read tells.
                if self.host.follows()
                    && let Err(e) = self.refresh(&row).await
                {
                    tracing::debug!(change = id, error = %e, "re-read after a failed merge");
                }
                Err(host_err(e))
            }
        }
    }

    /// Re-indexes the branch head (after a merge).
    async fn reindex(&self) {
        let catalog = Arc::clone(&self.catalog);
        match tokio::task::spawn_blocking(move || catalog.refresh()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "re-index after merge failed"),
            Err(e) => tracing::warn!(error = %e, "re-index task failed"),
        }
    }

    /// Regenerates a conflicting change from the new base, as its author. Fields someone else
    /// changed meanwhile are never overwritten: such a change is refused with the fields named.
    pub async fn rebase(&self, id: i64, user: &str) -> Result<ChangeView, Error> {
        let row = self.open_row(id).await?;
        if !row.author.eq_ignore_ascii_case(user) {
            return Err(err(
                Code::Forbidden,
                "only the author can regenerate a change",
            ));
        }
        if let Some(adoption) = row
            .adoption
            .as_deref()
            .and_then(|a| serde_json::from_str::<frontend::api::Adoption>(a).ok())
        {
            // An adopt change is regenerated from what the cluster runs now.
            let (edits, record) = self.readopt(id, &adoption).await?;
            store::set_edits(&self.db, id, &edits, Some(&record), user)
                .await
                .map_err(db_err)?;
            return self.reproposed(id, user).await;
        }
        let edits: Vec<EditRequest> =
            serde_json::from_str(&row.edits).map_err(|e| err(Code::InvalidEdits, e.to_string()))?;
        let base = ObjectId::from_hex(row.base_commit.as_bytes()).map_err(Error::internal)?;
        let head = self.head().await?;
        let rebased = self
            .blocking(move |s| -> Result<Vec<EditRequest>, Error> {
                let old = s.index_at(base).map_err(repo_err)?;
                let new = s.index_at(head).map_err(repo_err)?;
                rebase::rebase_edits(&old, &new, &edits).map_err(|fields| {
                    err(
                        Code::Conflict,
                        format!(
                            "changed by someone else meanwhile: {}; edit the resource again",
                            fields.join(", ")
                        ),
                    )
                })
            })
            .await??;
        let json = serde_json::to_string(&rebased).map_err(Error::internal)?;
        store::set_edits(&self.db, id, &json, None, user)
            .await
            .map_err(db_err)?;
        self.reproposed(id, user).await
    }

    /// Proposes regenerated edits (their approvals were dismissed as they were regenerated).
    async fn reproposed(&self, id: i64, _user: &str) -> Result<ChangeView, Error> {
        self.propose(id).await?;
        self.view(id).await
    }
}

/// Who approved a change, in Tollgate or on the host, without its author (compared without
/// case: `ALICE` is alice), each once.
fn approvers(
    events: &[store::EventRow],
    request: Option<&RequestState>,
    author: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let tollgate = events
        .iter()
        .filter(|e| e.kind == "approval")
        .map(|e| e.author.as_str());
    let host = request.into_iter().flat_map(RequestState::approvers);
    for login in tollgate.chain(host) {
        if !login.eq_ignore_ascii_case(author) && !out.iter().any(|o| o.eq_ignore_ascii_case(login))
        {
            out.push(login.to_owned());
        }
    }
    out
}

fn paths_of(resources: &[ChangedResource]) -> Vec<String> {
    resources.iter().map(|r| r.path.clone()).collect()
}

impl GitSide {
    fn link(&self, id: i64) -> String {
        format!(
            "{}/changes/{id}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The index at `commit`, reusing the catalog's snapshot.
    fn index_at(&self, commit: ObjectId) -> Result<Arc<RepoIndex>, RepoError> {
        let snapshot = self.catalog.snapshot();
        if let Some(s) = snapshot
            .as_ref()
            .filter(|s| s.index.commit() == Some(commit))
        {
            return Ok(Arc::clone(&s.index));
        }
        let previous = snapshot.as_ref().map(|s| s.index.as_ref());
        Ok(Arc::new(RepoIndex::build(
            &self.repo,
            commit,
            previous,
            &self.options,
        )?))
    }

    fn file_diffs(
        &self,
        base: &str,
        head: &str,
        paths: &[String],
    ) -> Result<Vec<frontend::api::FileDiff>, Error> {
        let base = ObjectId::from_hex(base.as_bytes()).map_err(Error::internal)?;
        let head = ObjectId::from_hex(head.as_bytes()).map_err(Error::internal)?;
        let mut unique: Vec<&String> = paths.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = Vec::new();
        for path in unique {
            let read = |c| -> Result<Option<String>, Error> {
                Ok(self
                    .repo
                    .read_file(c, path)
                    .map_err(repo_err)?
                    .map(|(_, b)| String::from_utf8_lossy(&b).into_owned()))
            };
            let (old, new) = (read(base)?, read(head)?);
            if old != new {
                out.push(diff::file_diff(path, old.as_deref(), new.as_deref()));
            }
        }
        Ok(out)
    }

    /// Files among `paths` whose content on the branch head differs from `base`.
    fn moved_files(&self, base: &str, paths: &[String]) -> Result<Option<Vec<String>>, Error> {
        let base = ObjectId::from_hex(base.as_bytes()).map_err(Error::internal)?;
        let head = self.repo.head_of(&self.branch).map_err(repo_err)?;
        if head == base {
            return Ok(None);
        }
        let mut moved = Vec::new();
        for path in paths {
            if self.repo.blob_id(base, path).map_err(repo_err)?
                != self.repo.blob_id(head, path).map_err(repo_err)?
                && !moved.contains(path)
            {
                moved.push(path.clone());
            }
        }
        Ok((!moved.is_empty()).then_some(moved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_line_and_descriptions_have_no_nul() {
        assert!(check_text("Point payments at v2", "Why:\n\nbecause.\nTrailer: ok").is_ok());
        for title in [
            "",
            "a\0b",
            "a\nSigned-off-by: mallory",
            "tab\there",
            "a\u{2028}b",
        ] {
            let e = check_text(title, "").err();
            assert_eq!(
                e.as_ref().map(|e| (e.code.as_str(), e.field.as_deref())),
                Some(("invalid_title", Some("title"))),
                "{title:?}"
            );
        }
        let e = check_text("ok", "a\0b").err();
        assert_eq!(
            e.map(|e| (e.code, e.field)),
            Some((Code::InvalidDescription, Some("description".into())))
        );
    }
}
