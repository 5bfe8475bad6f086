//! Tollgate's own mirror of a remote host's repository: a bare repository under `data_dir`,
//! fetched with gix over smart HTTP (no `git` binary at run time). Every branch of the remote
//! is mirrored as a branch of the same name, so reading the mirror is reading the host as of
//! the last fetch.

use super::git::{ConfigRepo, RepoError};
use gix::ObjectId;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// What one fetch brought.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Refs whose target changed.
    pub updated: usize,
}

/// Creates an empty bare repository at `path` unless one is there.
pub fn ensure_bare(path: &Path) -> Result<(), RepoError> {
    if path.join("HEAD").exists() || path.join(".git").exists() {
        return Ok(());
    }
    gix::init_bare(path).map_err(|e| RepoError::Open {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok(())
}

impl ConfigRepo {
    /// Fetches every branch of `url` into the branch of the same name, sending
    /// `authorization` as the `Authorization` header. Blocking: call on a blocking thread.
    /// The header is passed as configuration of this fetch only, never written to disk.
    pub fn fetch_from(&self, url: &str, authorization: &str) -> Result<Fetched, RepoError> {
        let mut options = gix::open::Options::isolated();
        if !authorization.is_empty() {
            options = options
                .config_overrides([format!("http.extraHeader=Authorization: {authorization}")]);
        }
        let repo = gix::open_opts(self.path(), options).map_err(|e| RepoError::Open {
            path: self.path().to_owned(),
            message: e.to_string(),
        })?;
        // Messages name the URL only: the header never reaches an error.
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            RepoError::Git(format!(
                "fetching {url}: {what}: {}",
                redact(&e.to_string())
            ))
        };
        let remote = repo
            .remote_at(url)
            .map_err(|e| fail("bad URL", &e))?
            .with_refspecs(
                Some("+refs/heads/*:refs/heads/*"),
                gix::remote::Direction::Fetch,
            )
            .map_err(|e| fail("refspec", &e))?;
        let connection = remote
            .connect(gix::remote::Direction::Fetch)
            .map_err(|e| fail("connect", &e))?;
        let outcome = connection
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| fail("negotiate", &e))?
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(|e| fail("receive", &e))?;
        let updated = match &outcome.status {
            gix::remote::fetch::Status::NoPackReceived { update_refs, .. }
            | gix::remote::fetch::Status::Change { update_refs, .. } => update_refs.edits.len(),
        };
        Ok(Fetched { updated })
    }

    /// Whether `head` is one commit on `parent` that writes exactly `files` (and nothing
    /// else): a branch left by an earlier attempt at the same publication.
    pub fn commit_writes(
        &self,
        head: ObjectId,
        parent: ObjectId,
        files: &[super::FileWrite],
    ) -> Result<bool, RepoError> {
        let repo = self.local();
        let Ok(commit) = repo.find_commit(head) else {
            return Ok(false);
        };
        let parents: Vec<ObjectId> = commit.parent_ids().map(|id| id.detach()).collect();
        if parents != [parent] {
            return Ok(false);
        }
        for f in files {
            let now = self.read_file(head, &f.path)?.map(|(_, bytes)| bytes);
            if now != f.content {
                return Ok(false);
            }
        }
        // Nothing else changed: the same number of differing paths as files written.
        let changed = self.changed_paths(parent, head)?;
        Ok(changed.len() == files.len())
    }

    /// Paths of blobs that differ between two commits.
    pub fn changed_paths(&self, from: ObjectId, to: ObjectId) -> Result<Vec<String>, RepoError> {
        let repo = self.local();
        let tree = |c: ObjectId| -> Result<gix::Tree<'_>, RepoError> {
            repo.find_commit(c)
                .map_err(RepoError::git)?
                .tree()
                .map_err(RepoError::git)
        };
        let (old, new) = (tree(from)?, tree(to)?);
        let changes = repo
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .map_err(RepoError::git)?;
        let mut paths: Vec<String> = changes
            .iter()
            .filter(|c| c.entry_mode().is_blob())
            .map(|c| c.location().to_string())
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }
}

/// Removes anything shaped like credentials from a transport error (`user:pass@` in URLs).
fn redact(message: &str) -> String {
    crate::config::redact_url(message)
}
