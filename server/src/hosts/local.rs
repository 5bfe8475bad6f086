//! The built-in host: a change request is a branch of the local config repo, reviewed and
//! merged in Tollgate. Merging fast-forwards the base branch when it has not moved, re-applies
//! the change's files when none of them changed meanwhile, and otherwise reports a conflict
//! without writing anything.

use super::{
    Delivery, HookError, Host, HostError, HostErrorKind, HostKind, Publication, Published,
    RequestState, RequestStatus,
};
use crate::repo::{ConfigRepo, FileWrite, Person, RepoError};
use gix::ObjectId;
use std::sync::Arc;

/// The local host over the config repo.
#[derive(Debug, Clone)]
pub struct LocalHost {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    repo: ConfigRepo,
    /// The base branch changes merge into.
    branch: String,
    /// Tollgate's public URL: a change request's page is its change page.
    public_url: String,
}

/// Tollgate commits as itself; the signed-in user is the author.
fn tollgate() -> Person {
    Person {
        name: crate::repo::TOLLGATE_NAME.into(),
        email: crate::repo::TOLLGATE_EMAIL.into(),
    }
}

fn repo_error(e: RepoError) -> HostError {
    let kind = match e {
        RepoError::CheckedOut { .. } => HostErrorKind::Rejected,
        _ => HostErrorKind::Unavailable,
    };
    HostError::new(kind, e.to_string())
}

fn parse(sha: &str) -> Result<ObjectId, HostError> {
    ObjectId::from_hex(sha.as_bytes()).map_err(|_| {
        HostError::new(
            HostErrorKind::Rejected,
            format!("`{sha}` is not a commit id"),
        )
    })
}

impl LocalHost {
    pub fn new(repo: ConfigRepo, branch: String, public_url: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                repo,
                branch,
                public_url,
            }),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, HostError> + Send + 'static,
    ) -> Result<T, HostError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| HostError::new(HostErrorKind::Unavailable, e.to_string()))?
    }
}

impl Inner {
    fn url(&self, number: u64) -> String {
        format!("{}/changes/{number}", self.public_url.trim_end_matches('/'))
    }

    fn head(&self, branch: &str) -> Result<Option<ObjectId>, HostError> {
        match self.repo.head_of(branch) {
            Ok(id) => Ok(Some(id)),
            Err(RepoError::NoBranch { .. }) => Ok(None),
            Err(e) => Err(repo_error(e)),
        }
    }

    /// The branch of change `number` (`tollgate/<number>-<slug>`).
    fn branch_of(&self, number: u64) -> Result<Option<(String, ObjectId)>, HostError> {
        let repo = self.repo.local();
        let prefix = format!("refs/heads/tollgate/{number}-");
        let refs = repo
            .references()
            .map_err(|e| repo_error(RepoError::git(e)))?;
        let all = refs.all().map_err(|e| repo_error(RepoError::git(e)))?;
        for r in all.flatten() {
            let name = r.name().as_bstr().to_string();
            if let (Some(branch), Some(id)) = (
                name.strip_prefix("refs/heads/")
                    .filter(|_| name.starts_with(&prefix)),
                r.target().try_id(),
            ) {
                return Ok(Some((branch.to_owned(), id.to_owned())));
            }
        }
        Ok(None)
    }

    fn request(&self, number: u64, head: ObjectId) -> RequestState {
        RequestState {
            number,
            url: self.url(number),
            status: RequestStatus::Open,
            head_sha: head.to_string(),
            merge_commit: None,
            mergeable: Some(true),
            merge_status: None,
            reviews: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Merges `change` (one commit on its base) onto the base branch.
    fn merge(&self, change: ObjectId, message: &str) -> Result<ObjectId, HostError> {
        let repo = self.repo.local();
        let commit = repo
            .find_commit(change)
            .map_err(|e| repo_error(RepoError::git(e)))?;
        let base = commit
            .parent_ids()
            .next()
            .map(|id| id.detach())
            .ok_or_else(|| {
                HostError::new(HostErrorKind::Rejected, "the change's commit has no parent")
            })?;
        let author = commit
            .author()
            .map_err(|e| repo_error(RepoError::git(e)))?
            .to_owned()
            .map_err(|e| repo_error(RepoError::git(e)))?;
        let author = Person {
            name: author.name.to_string(),
            email: author.email.to_string(),
        };
        let paths = self.repo.changed_paths(base, change).map_err(repo_error)?;
        for _attempt in 0..3 {
            let head = self.repo.head_of(&self.branch).map_err(repo_error)?;
            let new = if head == base {
                change
            } else {
                let mut moved = Vec::new();
                for path in &paths {
                    if self.repo.blob_id(base, path).map_err(repo_error)?
                        != self.repo.blob_id(head, path).map_err(repo_error)?
                    {
                        moved.push(path.clone());
                    }
                }
                if !moved.is_empty() {
                    return Err(HostError::new(
                        HostErrorKind::Conflict,
                        format!(
                            "{} changed on {} since this change was proposed; regenerate it from the new base",
                            moved.join(", "),
                            self.branch
                        ),
                    ));
                }
                // Same files as at the base: the change's file contents apply as they are.
                let mut files = Vec::new();
                for path in &paths {
                    let content = self
                        .repo
                        .read_file(change, path)
                        .map_err(repo_error)?
                        .map(|(_, b)| b);
                    files.push(FileWrite {
                        path: path.clone(),
                        content,
                    });
                }
                self.repo
                    .write_commit(head, &files, &author, &tollgate(), message)
                    .map_err(repo_error)?
            };
            if self
                .repo
                .set_branch(
                    &self.branch,
                    new,
                    Some(head),
                    &tollgate(),
                    "tollgate: merge",
                )
                .map_err(repo_error)?
            {
                return Ok(new);
            }
        }
        Err(HostError::new(
            HostErrorKind::Unavailable,
            "the base branch kept moving; try again",
        ))
    }
}

#[async_trait::async_trait]
impl Host for LocalHost {
    fn kind(&self) -> HostKind {
        HostKind::Local
    }

    fn follows(&self) -> bool {
        false
    }

    async fn check(&self) -> Result<(), HostError> {
        self.blocking(|s| {
            s.repo.head_of(&s.branch).map_err(repo_error)?;
            Ok(())
        })
        .await
    }

    async fn branch_head(&self, branch: &str) -> Result<Option<String>, HostError> {
        let branch = branch.to_owned();
        self.blocking(move |s| Ok(s.head(&branch)?.map(|id| id.to_string())))
            .await
    }

    async fn publish(
        &self,
        p: &Publication,
        replace: Option<&str>,
    ) -> Result<Published, HostError> {
        let p = p.clone();
        let replace = replace.map(parse).transpose()?;
        self.blocking(move |s| {
            let files: Vec<FileWrite> = p
                .files
                .iter()
                .map(|f| FileWrite {
                    path: f.path.clone(),
                    content: f.content.clone(),
                })
                .collect();
            let commit = s
                .repo
                .write_commit(p.base, &files, &p.author, &tollgate(), &p.message)
                .map_err(repo_error)?;
            if s.repo
                .set_branch(&p.branch, commit, replace, &tollgate(), "tollgate: propose")
                .map_err(repo_error)?
            {
                return Ok(Published {
                    head: commit.to_string(),
                    parent: p.base.to_string(),
                });
            }
            Err(match replace {
                None => HostError::new(
                    HostErrorKind::BranchExists,
                    format!("branch {} already exists", p.branch),
                ),
                Some(_) => HostError::new(
                    HostErrorKind::HeadMoved,
                    format!("branch {} moved meanwhile", p.branch),
                ),
            })
        })
        .await
    }

    async fn open(&self, p: &Publication) -> Result<RequestState, HostError> {
        let (number, branch) = (
            u64::try_from(p.change).unwrap_or_default(),
            p.branch.clone(),
        );
        self.blocking(move |s| {
            let head = s.head(&branch)?.ok_or_else(|| {
                HostError::new(HostErrorKind::NotFound, format!("no branch {branch}"))
            })?;
            Ok(s.request(number, head))
        })
        .await
    }

    async fn read(&self, number: u64) -> Result<RequestState, HostError> {
        self.blocking(move |s| {
            let (_, head) = s.branch_of(number)?.ok_or_else(|| {
                HostError::new(HostErrorKind::NotFound, format!("no change {number}"))
            })?;
            Ok(s.request(number, head))
        })
        .await
    }

    async fn merge(
        &self,
        _number: u64,
        head: &str,
        title: &str,
        message: &str,
    ) -> Result<String, HostError> {
        let head = parse(head)?;
        let message = if message.is_empty() {
            title.to_owned()
        } else {
            format!("{title}\n\n{message}")
        };
        self.blocking(move |s| s.merge(head, &message).map(|id| id.to_string()))
            .await
    }

    async fn close(&self, _number: u64) -> Result<(), HostError> {
        // The branch stays, as on the remote hosts: the change's page still shows its diff.
        Ok(())
    }

    async fn comment(&self, _number: u64, _body: &str) -> Result<(), HostError> {
        // Comments live in Tollgate's own database.
        Ok(())
    }

    fn webhook(&self, _headers: &::http::HeaderMap, _body: &[u8]) -> Result<Delivery, HookError> {
        Err(HookError::Signature)
    }

    async fn fetch_auth(&self) -> Result<Option<(String, String)>, HostError> {
        Ok(None)
    }
}
