//! The gix adapter: one opened repository, read on blocking threads.

use gix::ObjectId;
use std::path::{Path, PathBuf};

/// Errors reading the config repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot open the git repository at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("branch `{branch}` not found in the config repository")]
    NoBranch { branch: String },
    #[error("git object {id}: {message}")]
    Object { id: String, message: String },
    #[error("git: {0}")]
    Git(String),
    #[error(
        "branch `{branch}` is checked out in the work tree of {path}; Tollgate never moves a checked-out branch (as git's receive.denyCurrentBranch): point repo.path at a bare repository (git clone --bare)"
    )]
    CheckedOut { branch: String, path: PathBuf },
}

impl RepoError {
    pub(crate) fn git(e: impl std::fmt::Display) -> Self {
        Self::Git(e.to_string())
    }
}

/// A config repository on local disk (bare or with a work tree), opened in isolation from the
/// user's and system's git configuration.
#[derive(Clone)]
pub struct ConfigRepo {
    repo: gix::ThreadSafeRepository,
    path: PathBuf,
}

impl std::fmt::Debug for ConfigRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigRepo")
            .field("path", &self.path)
            .finish()
    }
}

impl ConfigRepo {
    pub fn open(path: &Path) -> Result<Self, RepoError> {
        // A mirror gains a pack with every fetch that brings something; this handle lives as
        // long as the server, so it must have room for the packs written after it opened
        // (gix's default is the packs on disk now, plus 10%, at least 32).
        let options = gix::open::Options::isolated().object_store_slots(
            gix::odb::store::init::Slots::AsNeededByDiskState {
                multiplier: 2.0,
                minimum: 4096,
            },
        );
        let repo =
            gix::ThreadSafeRepository::open_opts(path, options).map_err(|e| RepoError::Open {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            repo,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `branch` is checked out in the repository's work tree: moving it would leave the
    /// work tree and index behind, and the next commit there would undo the move.
    pub fn is_checked_out(&self, branch: &str) -> bool {
        let repo = self.local();
        let full = if branch.starts_with("refs/") {
            branch.to_owned()
        } else {
            format!("refs/heads/{branch}")
        };
        repo.workdir().is_some()
            && repo
                .head_name()
                .ok()
                .flatten()
                .is_some_and(|name| name.as_bstr() == full.as_bytes())
    }

    /// A handle for the current thread.
    pub fn local(&self) -> gix::Repository {
        let mut repo = self.repo.to_thread_local();
        repo.object_cache_size_if_unset(16 * 1024 * 1024);
        repo
    }

    /// Whether `commit` is `revision` or one of its ancestors (a revision "contains" it).
    pub fn contains(&self, revision: ObjectId, commit: ObjectId) -> Result<bool, RepoError> {
        if revision == commit {
            return Ok(true);
        }
        let repo = self.local();
        let base = repo.merge_base(revision, commit).map_err(RepoError::git)?;
        Ok(base.is_some_and(|b| b.detach() == commit))
    }

    /// The commit at the tip of `branch` (a short name like `main` or a full ref).
    pub fn head_of(&self, branch: &str) -> Result<ObjectId, RepoError> {
        let repo = self.local();
        let full = if branch.starts_with("refs/") {
            branch.to_owned()
        } else {
            format!("refs/heads/{branch}")
        };
        let mut reference =
            repo.find_reference(full.as_str())
                .map_err(|_| RepoError::NoBranch {
                    branch: branch.to_owned(),
                })?;
        let id = reference.peel_to_id().map_err(RepoError::git)?;
        Ok(id.detach())
    }
}
