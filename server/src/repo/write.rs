//! Writing to the config repo with gix: commits made of whole-file changes, branch updates with
//! compare-and-swap, and reading files at a commit. Callers serialise writes per repository.

use super::git::{ConfigRepo, RepoError};
use gix::ObjectId;
use gix::refs::transaction::{PreviousValue, RefEdit};

/// Someone who authors or commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// A whole-file change; `content: None` deletes the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub path: String,
    pub content: Option<Vec<u8>>,
}

fn signature(p: &Person) -> gix::actor::Signature {
    gix::actor::Signature {
        name: p.name.as_str().into(),
        email: p.email.as_str().into(),
        time: gix::date::Time::now_utc(),
    }
}

fn full_name(branch: &str) -> String {
    if branch.starts_with("refs/") {
        branch.to_owned()
    } else {
        format!("refs/heads/{branch}")
    }
}

impl ConfigRepo {
    /// The tree of `commit`.
    fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId, RepoError> {
        Ok(repo
            .find_commit(commit)
            .map_err(RepoError::git)?
            .tree_id()
            .map_err(RepoError::git)?
            .detach())
    }

    /// The tree of `commit`.
    pub fn tree_id(&self, commit: ObjectId) -> Result<ObjectId, RepoError> {
        Self::tree_of(&self.local(), commit)
    }

    /// A file's bytes at `commit`, if it exists there.
    pub fn read_file(
        &self,
        commit: ObjectId,
        path: &str,
    ) -> Result<Option<(ObjectId, Vec<u8>)>, RepoError> {
        let repo = self.local();
        let tree = repo
            .find_tree(Self::tree_of(&repo, commit)?)
            .map_err(RepoError::git)?;
        let Some(entry) = tree.lookup_entry_by_path(path).map_err(RepoError::git)? else {
            return Ok(None);
        };
        if !entry.mode().is_blob() {
            return Ok(None);
        }
        let id = entry.object_id();
        let mut blob = repo.find_blob(id).map_err(RepoError::git)?;
        Ok(Some((id, blob.take_data())))
    }

    /// The blob id of a file at `commit`, if any.
    pub fn blob_id(&self, commit: ObjectId, path: &str) -> Result<Option<ObjectId>, RepoError> {
        let repo = self.local();
        let tree = repo
            .find_tree(Self::tree_of(&repo, commit)?)
            .map_err(RepoError::git)?;
        Ok(tree
            .lookup_entry_by_path(path)
            .map_err(RepoError::git)?
            .map(|e| e.object_id()))
    }

    /// Writes one commit on top of `parent` with `files` changed. No ref moves.
    pub fn write_commit(
        &self,
        parent: ObjectId,
        files: &[FileWrite],
        author: &Person,
        committer: &Person,
        message: &str,
    ) -> Result<ObjectId, RepoError> {
        let repo = self.local();
        let mut editor = repo
            .edit_tree(Self::tree_of(&repo, parent)?)
            .map_err(RepoError::git)?;
        for f in files {
            match &f.content {
                Some(bytes) => {
                    let blob = repo.write_blob(bytes).map_err(RepoError::git)?.detach();
                    editor
                        .upsert(f.path.as_str(), gix::object::tree::EntryKind::Blob, blob)
                        .map_err(RepoError::git)?;
                }
                None => {
                    editor.remove(f.path.as_str()).map_err(RepoError::git)?;
                }
            }
        }
        let tree = editor.write().map_err(RepoError::git)?.detach();
        let commit = gix::objs::Commit {
            tree,
            parents: std::iter::once(parent).collect(),
            author: signature(author),
            committer: signature(committer),
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        };
        Ok(repo.write_object(&commit).map_err(RepoError::git)?.detach())
    }

    /// Points `branch` at `new`, only if it currently points at `expected` (`None`: only if the
    /// branch does not exist). Returns `Ok(false)` when the branch moved meanwhile.
    pub fn set_branch(
        &self,
        branch: &str,
        new: ObjectId,
        expected: Option<ObjectId>,
        committer: &Person,
        reason: &str,
    ) -> Result<bool, RepoError> {
        if self.is_checked_out(branch) {
            return Err(RepoError::CheckedOut {
                branch: branch.to_owned(),
                path: self.path().to_owned(),
            });
        }
        let repo = self.local();
        let name = full_name(branch);
        let current = repo
            .try_find_reference(name.as_str())
            .map_err(RepoError::git)?
            .and_then(|r| r.target().try_id().map(ToOwned::to_owned));
        if current != expected {
            return Ok(current == Some(new));
        }
        let constraint = match expected {
            Some(old) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
            None => PreviousValue::MustNotExist,
        };
        let full: gix::refs::FullName = name.as_str().try_into().map_err(RepoError::git)?;
        let sig = signature(committer);
        let mut buf = gix::date::parse::TimeBuf::default();
        let edit = RefEdit::update(full, new, constraint, reason);
        match repo.edit_references_as(Some(edit), Some(sig.to_ref(&mut buf))) {
            Ok(_) => Ok(true),
            Err(e) => {
                // Lost a race: report a moved branch rather than an error.
                let now = repo
                    .try_find_reference(name.as_str())
                    .ok()
                    .flatten()
                    .and_then(|r| r.target().try_id().map(ToOwned::to_owned));
                if now != expected {
                    Ok(false)
                } else {
                    Err(RepoError::git(e))
                }
            }
        }
    }
}
