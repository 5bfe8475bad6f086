//! The demo's config repository: created on first start and seeded with an example set of APIs,
//! policies and an OAS API. Also the small commit writer the seed (and benchmarks) use.

use super::git::RepoError;
use gix::ObjectId;
use std::path::Path;

#[derive(rust_embed::RustEmbed)]
#[folder = "seed/"]
struct SeedFiles;

/// Who Tollgate commits as when no user is involved.
pub const TOLLGATE_NAME: &str = "Tollgate";
pub const TOLLGATE_EMAIL: &str = "tollgate@localhost";

/// Creates a bare repository at `path` with one commit of the example set on `branch`, unless a
/// repository is already there. Returns whether it created one.
pub fn seed_demo_repo(path: &Path, branch: &str) -> Result<bool, RepoError> {
    if path.join("HEAD").exists() || path.join(".git").exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(path).map_err(RepoError::git)?;
    let repo = gix::init_bare(path).map_err(RepoError::git)?;
    std::fs::write(path.join("HEAD"), format!("ref: refs/heads/{branch}\n"))
        .map_err(RepoError::git)?;
    let files: Vec<(String, Vec<u8>)> = SeedFiles::iter()
        .filter_map(|name| SeedFiles::get(&name).map(|f| (name.into_owned(), f.data.into_owned())))
        .collect();
    commit_files(
        &repo,
        branch,
        None,
        &files,
        "Seed the example config repo\n",
    )?;
    Ok(true)
}

/// Writes `files` (path, content) on top of `parent` (or an empty tree) as one commit on
/// `branch`, committed by Tollgate. The branch must still point at `parent`.
pub fn commit_files(
    repo: &gix::Repository,
    branch: &str,
    parent: Option<ObjectId>,
    files: &[(String, Vec<u8>)],
    message: &str,
) -> Result<ObjectId, RepoError> {
    let mut editor = match parent {
        Some(p) => {
            let tree = repo
                .find_commit(p)
                .map_err(RepoError::git)?
                .tree_id()
                .map_err(RepoError::git)?;
            repo.edit_tree(tree).map_err(RepoError::git)?
        }
        None => repo.empty_tree().edit().map_err(RepoError::git)?,
    };
    for (path, content) in files {
        let blob = repo.write_blob(content).map_err(RepoError::git)?.detach();
        editor
            .upsert(path.as_str(), gix::object::tree::EntryKind::Blob, blob)
            .map_err(RepoError::git)?;
    }
    let tree = editor.write().map_err(RepoError::git)?.detach();
    let now = gix::date::Time::now_local_or_utc();
    let signature = gix::actor::Signature {
        name: TOLLGATE_NAME.into(),
        email: TOLLGATE_EMAIL.into(),
        time: now,
    };
    let mut buf = gix::date::parse::TimeBuf::default();
    let sig = signature.to_ref(&mut buf);
    let id = repo
        .commit_as(
            sig,
            sig,
            format!("refs/heads/{branch}"),
            message,
            tree,
            parent,
        )
        .map_err(RepoError::git)?;
    Ok(id.detach())
}
