//! The index of a config repo at one commit: every managed resource, keyed by kind/namespace/name,
//! with its file and position, and every problem found on the way.
//!
//! Building from a previous index re-reads only the files whose blobs changed: subtrees whose id
//! did not change are taken over whole, so a one-file commit costs a few tree reads.

use super::git::{ConfigRepo, RepoError};
use crate::resources::{Kind, Resource, ResourceKey};
use crate::yaml::{self, YamlError};
use gix::ObjectId;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

/// What kind of problem a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Not YAML, or a YAML feature kubectl rejects (bad separator, duplicate key, budget).
    Syntax,
    /// A managed kind whose fields do not fit the schema, or without a name.
    Schema,
    /// The same kind/namespace/name defined a second time.
    Duplicate,
    TooLarge,
    NotUtf8,
    /// A resource the rules an edit is checked by refuse (schema, webhook, cross-resource):
    /// the operator or the API server would reject it too. Found by `rules::check_repo`.
    Invalid,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::Schema => "schema",
            Self::Duplicate => "duplicate",
            Self::TooLarge => "too_large",
            Self::NotUtf8 => "not_utf8",
            Self::Invalid => "invalid",
        }
    }
}

/// A problem in the config repo. Never fatal: the rest of the repo is still indexed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub line: Option<u32>,
    pub kind: ProblemKind,
    pub message: String,
}

/// What reading one file gave.
#[derive(Debug)]
struct FileEntry {
    blob: ObjectId,
    docs: Vec<Arc<IndexedResource>>,
    problems: Vec<Problem>,
}

/// A resource of the index: where it is and what it holds.
#[derive(Debug, Clone)]
pub struct IndexedResource {
    pub key: Arc<ResourceKey>,
    pub path: Arc<str>,
    pub line: u32,
    pub doc_index: usize,
    pub span: Range<usize>,
    pub blob: ObjectId,
    pub resource: Arc<Resource>,
    pub source: Arc<str>,
}

/// Limits and defaults for reading files.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub max_file_bytes: usize,
    /// Namespace for documents without `metadata.namespace`.
    pub default_namespace: String,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: yaml::DEFAULT_MAX_FILE_BYTES,
            default_namespace: "default".into(),
        }
    }
}

/// Counters from one build, for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub files_read: usize,
    pub files_reused: usize,
    pub trees_read: usize,
}

/// The resources of a config repo at one commit.
#[derive(Debug, Default)]
pub struct RepoIndex {
    commit: Option<ObjectId>,
    trees: HashMap<String, ObjectId>,
    files: BTreeMap<Arc<str>, Arc<FileEntry>>,
    resources: BTreeMap<Arc<ResourceKey>, Arc<IndexedResource>>,
    problems: Vec<Problem>,
    stats: IndexStats,
}

impl RepoIndex {
    /// Indexes `commit`, reusing what `previous` read for unchanged files.
    pub fn build(
        repo: &ConfigRepo,
        commit: ObjectId,
        previous: Option<&RepoIndex>,
        options: &IndexOptions,
    ) -> Result<Self, RepoError> {
        let local = repo.local();
        let root = local
            .find_commit(commit)
            .map_err(|e| RepoError::Object {
                id: commit.to_string(),
                message: e.to_string(),
            })?
            .tree_id()
            .map_err(RepoError::git)?
            .detach();
        let empty = RepoIndex::default();
        let previous = previous.unwrap_or(&empty);

        let mut walk = Walk {
            previous,
            trees: HashMap::new(),
            files: BTreeMap::new(),
            todo: Vec::new(),
            stats: IndexStats::default(),
        };
        walk.dir(&local, String::new(), root)?;
        let Walk {
            trees,
            mut files,
            todo,
            mut stats,
            ..
        } = walk;
        stats.files_read = todo.len();

        for (path, entry) in read_files(repo, todo, options) {
            files.insert(Arc::from(path.as_str()), Arc::new(entry));
        }
        let (resources, problems) = assemble(&files);
        Ok(Self {
            commit: Some(commit),
            trees,
            files,
            resources,
            problems,
            stats,
        })
    }

    pub fn commit(&self) -> Option<ObjectId> {
        self.commit
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&IndexedResource> {
        self.resources.get(key).map(AsRef::as_ref)
    }

    /// All resources in key order (kind, namespace, name).
    pub fn resources(&self) -> impl Iterator<Item = &IndexedResource> {
        self.resources.values().map(AsRef::as_ref)
    }

    /// Resources of one kind, in namespace/name order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &IndexedResource> {
        let start = ResourceKey::new(kind, "", "");
        self.resources
            .range::<ResourceKey, _>((std::ops::Bound::Included(start), std::ops::Bound::Unbounded))
            .map(|(_, r)| r.as_ref())
            .take_while(move |r| r.key.kind == kind)
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Number of YAML files seen.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

struct Walk<'p> {
    previous: &'p RepoIndex,
    trees: HashMap<String, ObjectId>,
    files: BTreeMap<Arc<str>, Arc<FileEntry>>,
    todo: Vec<(String, ObjectId)>,
    stats: IndexStats,
}

impl Walk<'_> {
    fn dir(&mut self, repo: &gix::Repository, path: String, id: ObjectId) -> Result<(), RepoError> {
        if self.previous.trees.get(&path) == Some(&id) {
            self.take_over(&path);
            return Ok(());
        }
        self.stats.trees_read += 1;
        let tree = repo.find_tree(id).map_err(|e| RepoError::Object {
            id: id.to_string(),
            message: e.to_string(),
        })?;
        let decoded = tree.decode().map_err(|e| RepoError::Object {
            id: id.to_string(),
            message: e.to_string(),
        })?;
        let mut subdirs = Vec::new();
        for entry in &decoded.entries {
            let name = String::from_utf8_lossy(entry.filename.as_ref());
            let child = if path.is_empty() {
                name.into_owned()
            } else {
                format!("{path}/{name}")
            };
            let oid = entry.oid.to_owned();
            if entry.mode.is_tree() {
                subdirs.push((child, oid));
            } else if entry.mode.is_blob() && is_yaml(&child) {
                match self.previous.files.get_key_value(child.as_str()) {
                    Some((path, old)) if old.blob == oid => {
                        self.stats.files_reused += 1;
                        self.files.insert(Arc::clone(path), Arc::clone(old));
                    }
                    _ => self.todo.push((child, oid)),
                }
            }
        }
        self.trees.insert(path, id);
        for (child, oid) in subdirs {
            self.dir(repo, child, oid)?;
        }
        Ok(())
    }

    /// Copies everything the previous index had under an unchanged directory.
    fn take_over(&mut self, dir: &str) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let from = std::ops::Bound::Included(prefix.as_str());
        for (path, entry) in self
            .previous
            .files
            .range::<str, _>((from, std::ops::Bound::Unbounded))
        {
            if !path.starts_with(&prefix) {
                break;
            }
            self.stats.files_reused += 1;
            self.files.insert(Arc::clone(path), Arc::clone(entry));
        }
        for (path, id) in &self.previous.trees {
            if path == dir || path.starts_with(&prefix) {
                self.trees.insert(path.clone(), *id);
            }
        }
    }
}

fn is_yaml(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Reads and parses blobs, on as many threads as there are cores.
fn read_files(
    repo: &ConfigRepo,
    todo: Vec<(String, ObjectId)>,
    options: &IndexOptions,
) -> Vec<(String, FileEntry)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if todo.len() < 64 || threads == 1 {
        let local = repo.local();
        return todo
            .into_iter()
            .map(|(path, id)| read_file(&local, path, id, options))
            .collect();
    }
    let chunk = todo.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let local = repo.local();
                    part.iter()
                        .map(|(path, id)| read_file(&local, path.clone(), *id, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn read_file(
    repo: &gix::Repository,
    path: String,
    blob: ObjectId,
    options: &IndexOptions,
) -> (String, FileEntry) {
    let shared_path: Arc<str> = Arc::from(path.as_str());
    let mut entry = FileEntry {
        blob,
        docs: Vec::new(),
        problems: Vec::new(),
    };
    let problem = |line: Option<u32>, kind: ProblemKind, message: String| Problem {
        path: path.clone(),
        line,
        kind,
        message,
    };
    let data = match repo.find_blob(blob) {
        Ok(mut b) => b.take_data(),
        Err(e) => {
            entry.problems.push(problem(
                None,
                ProblemKind::Syntax,
                format!("cannot read blob {blob}: {e}"),
            ));
            return (path, entry);
        }
    };
    let docs = match yaml::read_stream(&data, options.max_file_bytes) {
        Ok(docs) => docs,
        Err(e) => {
            let kind = match e {
                YamlError::TooLarge { .. } => ProblemKind::TooLarge,
                YamlError::NotUtf8 { .. } => ProblemKind::NotUtf8,
                YamlError::BadSeparator { .. } | YamlError::Syntax { .. } => ProblemKind::Syntax,
            };
            entry.problems.push(problem(e.line(), kind, e.to_string()));
            return (path, entry);
        }
    };
    for doc in docs {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) => {
                entry
                    .problems
                    .push(problem(e.line(), ProblemKind::Syntax, e.to_string()));
                continue;
            }
        };
        match Resource::from_value(&doc.value) {
            Ok(None) => {}
            Ok(Some(resource)) => {
                if resource.meta().name.as_deref().is_none_or(str::is_empty) {
                    let message = format!("{} without metadata.name", resource.kind());
                    entry
                        .problems
                        .push(problem(Some(doc.line), ProblemKind::Schema, message));
                    continue;
                }
                let source: Arc<str> = String::from_utf8_lossy(&data[doc.span.clone()]).into();
                entry.docs.push(Arc::new(IndexedResource {
                    key: Arc::new(resource.key(&options.default_namespace)),
                    path: Arc::clone(&shared_path),
                    line: doc.line,
                    doc_index: doc.index,
                    span: doc.span,
                    blob,
                    resource: Arc::new(resource),
                    source,
                }));
            }
            Err(e) => {
                let kind = Kind::of_document(&doc.value).map_or("document", Kind::as_str);
                let message = format!("{kind}: {e}");
                entry
                    .problems
                    .push(problem(Some(doc.line), ProblemKind::Schema, message));
            }
        }
    }
    (path, entry)
}

/// Keys every document, reporting duplicates (the first definition in path order wins). Only
/// shared pointers are copied, so this stays cheap on large repos.
fn assemble(
    files: &BTreeMap<Arc<str>, Arc<FileEntry>>,
) -> (
    BTreeMap<Arc<ResourceKey>, Arc<IndexedResource>>,
    Vec<Problem>,
) {
    let mut resources: BTreeMap<Arc<ResourceKey>, Arc<IndexedResource>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, entry) in files {
        problems.extend(entry.problems.iter().cloned());
        for doc in &entry.docs {
            match resources.entry(Arc::clone(&doc.key)) {
                std::collections::btree_map::Entry::Occupied(first) => {
                    let (key, first) = (&doc.key, first.get());
                    problems.push(Problem {
                        path: path.to_string(),
                        line: Some(doc.line),
                        kind: ProblemKind::Duplicate,
                        message: format!(
                            "{} {}/{} is already defined at {}:{}",
                            key.kind, key.namespace, key.name, first.path, first.line
                        ),
                    });
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(Arc::clone(doc));
                }
            }
        }
    }
    problems.sort();
    (resources, problems)
}
