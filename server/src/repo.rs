//! The config repository: reading it with gix, indexing the resources it holds at a commit,
//! and seeding the demo repository.

mod git;
mod index;
mod mirror;
mod seed;
mod write;

pub use git::{ConfigRepo, RepoError};
pub use index::{IndexOptions, IndexStats, IndexedResource, Problem, ProblemKind, RepoIndex};
pub use mirror::{Fetched, ensure_bare};
pub use seed::{TOLLGATE_EMAIL, TOLLGATE_NAME, commit_files, seed_demo_repo};
pub use write::{FileWrite, Person};
