//! Reading the first-parent chain of the branch and, for each commit, the resources whose
//! documents it changed. Blocking (gix): run on `spawn_blocking`.
//!
//! A commit is diffed against its first parent tree by tree (unchanged subtrees are skipped);
//! only the YAML files it touched are parsed, before and after, and their documents are matched
//! by kind/namespace/name. So a document that moved to another file, or shares a file with a
//! document that changed, is compared as a document, not as a file.

use super::fields;
use crate::repo::{ConfigRepo, IndexOptions, RepoError};
use crate::resources::{Resource, ResourceKey};
use frontend::api::history::FieldChange;
use gix::ObjectId;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a commit did to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Modified,
    Deleted,
    /// Same document, another file: not a change of the resource, kept to find its file.
    Moved,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Moved => "moved",
        }
    }
}

/// Who made a commit, when, and where it came from.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    pub id: String,
    pub date: String,
    pub author: String,
    pub author_email: String,
    pub committer: String,
    pub committer_email: String,
    pub title: String,
    /// `#12` or `!12`, read from the merge commit message.
    pub pull_request: Option<String>,
    /// The `Tollgate-Change:` trailer.
    pub change_url: Option<String>,
}

/// One resource a commit changed.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: ResourceKey,
    pub action: Action,
    pub path: String,
    pub moved_from: Option<String>,
    pub fields: Vec<FieldChange>,
}

/// A commit and the resources it changed.
#[derive(Debug, Clone)]
pub struct IndexedCommit {
    pub info: CommitInfo,
    pub entries: Vec<Entry>,
}

/// The documents of one blob: key → value.
type Docs = Arc<Vec<(ResourceKey, Value)>>;

/// Reads commits of one repository, keeping the parsed blobs of the last commit (the next
/// commit's "before" is this one's "after").
pub struct Walker {
    repo: gix::Repository,
    options: IndexOptions,
    state: gix::diff::tree::State,
    recent: HashMap<ObjectId, Docs>,
    /// Commits diffed by this walker.
    pub walked: u64,
}

fn object_err(id: ObjectId, e: impl std::fmt::Display) -> RepoError {
    RepoError::Object {
        id: id.to_string(),
        message: e.to_string(),
    }
}

impl Walker {
    pub fn new(repo: &ConfigRepo, options: IndexOptions) -> Self {
        Self {
            repo: repo.local(),
            options,
            state: Default::default(),
            recent: HashMap::new(),
            walked: 0,
        }
    }

    /// The first-parent chain from `head` back, newest first, up to and excluding `stop`.
    /// Returns whether `stop` was met (false: the chain reached the root without it).
    pub fn chain(
        &self,
        head: ObjectId,
        stop: Option<ObjectId>,
    ) -> Result<(Vec<ObjectId>, bool), RepoError> {
        let mut out = Vec::new();
        let mut id = head;
        loop {
            if Some(id) == stop {
                return Ok((out, true));
            }
            out.push(id);
            let commit = self.repo.find_commit(id).map_err(|e| object_err(id, e))?;
            match commit.parent_ids().next() {
                Some(parent) => id = parent.detach(),
                None => return Ok((out, false)),
            }
        }
    }

    /// The resources `id` changed against its first parent.
    pub fn index(&mut self, id: ObjectId) -> Result<IndexedCommit, RepoError> {
        self.walked += 1;
        let (info, records) = {
            let repo = &self.repo;
            let commit = repo.find_commit(id).map_err(|e| object_err(id, e))?;
            let info = commit_info(&commit, id);
            let tree_id = commit.tree_id().map_err(RepoError::git)?.detach();
            let parent_tree = match commit.parent_ids().next() {
                Some(p) => Some(
                    repo.find_commit(p.detach())
                        .map_err(|e| object_err(p.detach(), e))?
                        .tree_id()
                        .map_err(RepoError::git)?
                        .detach(),
                ),
                None => None,
            };
            let new_tree = repo
                .find_tree(tree_id)
                .map_err(|e| object_err(tree_id, e))?;
            let old_data = match parent_tree {
                Some(t) => repo
                    .find_tree(t)
                    .map_err(|e| object_err(t, e))?
                    .data
                    .clone(),
                None => Vec::new(),
            };
            let mut recorder = gix::diff::tree::Recorder::default();
            gix::diff::tree(
                gix::objs::TreeRefIter::from_bytes(&old_data, id.kind()),
                gix::objs::TreeRefIter::from_bytes(&new_tree.data, id.kind()),
                &mut self.state,
                &repo.objects,
                &mut recorder,
            )
            .map_err(RepoError::git)?;
            (info, recorder.records)
        };

        let mut before: BTreeMap<ResourceKey, (String, Value)> = BTreeMap::new();
        let mut after: BTreeMap<ResourceKey, (String, Value)> = BTreeMap::new();
        let mut recent = HashMap::new();
        use gix::diff::tree::recorder::Change;
        for change in records {
            let (old, new, path) = match change {
                Change::Addition {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (None, entry_mode.is_blob().then_some(oid), path),
                Change::Deletion {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (entry_mode.is_blob().then_some(oid), None, path),
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    path,
                } => (
                    previous_entry_mode.is_blob().then_some(previous_oid),
                    entry_mode.is_blob().then_some(oid),
                    path,
                ),
            };
            let path = path.to_string();
            if !is_yaml(&path) {
                continue;
            }
            if let Some(blob) = old {
                for (key, value) in self.docs(blob).iter() {
                    before
                        .entry(key.clone())
                        .or_insert_with(|| (path.clone(), value.clone()));
                }
            }
            if let Some(blob) = new {
                let docs = self.docs(blob);
                for (key, value) in docs.iter() {
                    after
                        .entry(key.clone())
                        .or_insert_with(|| (path.clone(), value.clone()));
                }
                recent.insert(blob, docs);
            }
        }
        self.recent = recent;

        let mut entries = Vec::new();
        for (key, (old_path, old)) in &before {
            match after.remove(key) {
                Some((path, new)) => {
                    let changed = fields::diff(Some(old), Some(&new));
                    let moved_from = (path != *old_path).then(|| old_path.clone());
                    let action = match (changed.is_empty(), moved_from.is_some()) {
                        (true, false) => continue,
                        (true, true) => Action::Moved,
                        (false, _) => Action::Modified,
                    };
                    entries.push(Entry {
                        key: key.clone(),
                        action,
                        path,
                        moved_from,
                        fields: changed,
                    });
                }
                None => entries.push(Entry {
                    key: key.clone(),
                    action: Action::Deleted,
                    path: old_path.clone(),
                    moved_from: None,
                    fields: fields::diff(Some(old), None),
                }),
            }
        }
        for (key, (path, new)) in after {
            entries.push(Entry {
                key,
                action: Action::Created,
                path,
                moved_from: None,
                fields: fields::diff(None, Some(&new)),
            });
        }
        Ok(IndexedCommit { info, entries })
    }

    /// The managed documents of a blob, parsed once per pair of neighbouring commits.
    fn docs(&mut self, blob: ObjectId) -> Docs {
        if let Some(docs) = self.recent.get(&blob) {
            return Arc::clone(docs);
        }
        let docs = Arc::new(match self.repo.find_blob(blob) {
            Ok(mut b) => parse_docs(&b.take_data(), &self.options),
            Err(_) => Vec::new(),
        });
        self.recent.insert(blob, Arc::clone(&docs));
        docs
    }
}

/// The managed resources of a file's text, keyed; unreadable documents are left out (the repo
/// index reports them as problems).
pub fn parse_docs(data: &[u8], options: &IndexOptions) -> Vec<(ResourceKey, Value)> {
    parse_with_text(data, options)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect()
}

/// [`parse_docs`] with each document's text.
pub fn parse_with_text(data: &[u8], options: &IndexOptions) -> Vec<(ResourceKey, Value, String)> {
    let Ok(docs) = crate::yaml::read_stream(data, options.max_file_bytes) else {
        return Vec::new();
    };
    docs.into_iter()
        .flatten()
        .filter_map(|doc| {
            let resource = Resource::from_value(&doc.value).ok().flatten()?;
            if resource.meta().name.as_deref().is_none_or(str::is_empty) {
                return None;
            }
            let key = resource.key(&options.default_namespace);
            let text = String::from_utf8_lossy(data.get(doc.span.clone())?).into_owned();
            Some((key, doc.value, text))
        })
        .collect()
}

fn is_yaml(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

fn commit_info(commit: &gix::Commit<'_>, id: ObjectId) -> CommitInfo {
    let mut info = CommitInfo {
        id: id.to_string(),
        ..CommitInfo::default()
    };
    if let Ok(author) = commit.author() {
        info.author = author.name.to_string();
        info.author_email = author.email.to_string();
    }
    if let Ok(committer) = commit.committer() {
        info.committer = committer.name.to_string();
        info.committer_email = committer.email.to_string();
        if let Ok(t) = committer.time() {
            info.date = rfc3339(t.seconds, t.offset);
        }
    }
    let message = commit.message_raw_sloppy().to_string();
    info.title = message.lines().next().unwrap_or_default().trim().to_owned();
    let (pull_request, change_url) = parse_message(&message);
    info.pull_request = pull_request;
    info.change_url = change_url;
    info
}

fn rfc3339(seconds: i64, offset: i32) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(seconds) else {
        return String::new();
    };
    let t = match time::UtcOffset::from_whole_seconds(offset) {
        Ok(o) => t.to_offset(o),
        Err(_) => t,
    };
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The pull request (`#N`: GitHub's and Gitea's merge and squash messages) or merge request
/// (`!N`: GitLab's `See merge request group/project!N`) a commit message names, and the
/// `Tollgate-Change:` trailer.
pub fn parse_message(message: &str) -> (Option<String>, Option<String>) {
    let digits = |s: &str| -> Option<String> {
        let n: String = s.chars().take_while(char::is_ascii_digit).collect();
        (!n.is_empty()).then_some(n)
    };
    let mut pull = None;
    let mut change = None;
    let title = message.lines().next().unwrap_or_default();
    if let Some(rest) = title.strip_prefix("Merge pull request #") {
        pull = digits(rest).map(|n| format!("#{n}"));
    } else if title.starts_with("Merge pull request '")
        && let Some(at) = title.rfind("(#")
    {
        pull = digits(&title[at + 2..]).map(|n| format!("#{n}"));
    } else if let Some(at) = title.rfind("(#")
        && title.trim_end().ends_with(')')
    {
        pull = digits(&title[at + 2..]).map(|n| format!("#{n}"));
    }
    for line in message.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("See merge request ")
            && let Some(at) = rest.rfind('!')
        {
            pull = digits(&rest[at + 1..]).map(|n| format!("!{n}"));
        }
        if let Some(rest) = line.strip_prefix("Tollgate-Change:") {
            let url = rest.trim();
            if !url.is_empty() {
                change = Some(url.to_owned());
            }
        }
    }
    (pull, change)
}

#[cfg(test)]
mod tests {
    use super::parse_message;

    #[test]
    fn pull_requests_from_messages() {
        let p = |m: &str| parse_message(m).0;
        assert_eq!(
            p("Merge pull request #42 from acme/fix\n\nFix"),
            Some("#42".into())
        );
        assert_eq!(
            p("Merge pull request 'Fix it' (#7) from fix into main"),
            Some("#7".into())
        );
        assert_eq!(p("Fix the target (#9)"), Some("#9".into()));
        assert_eq!(
            p("Merge branch 'fix' into 'main'\n\nFix\n\nSee merge request acme/apis!3"),
            Some("!3".into())
        );
        assert_eq!(p("Plain commit"), None);
        assert_eq!(
            parse_message("Edit\n\nTollgate-Change: http://t/changes/5\n").1,
            Some("http://t/changes/5".into())
        );
    }
}
