//! The host-neutral operations every flavour's routes share: writing commits, moving branches,
//! opening, reviewing, merging and closing pulls, statuses and comments. Each state change
//! queues its webhook events, in order.

use super::git::{CommitInfo, Git, Ident, ZERO};
use super::hooks::{Event, PullAction};
use super::state::{
    CheckRun, Comment, CommitStatus, Pull, Repo, Review, ReviewState, State, StatusState, User,
};
use std::collections::BTreeMap;

/// Now, to the second, RFC 3339.
pub fn now() -> String {
    crate::store::now()
}

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A host error before it is put in a flavour's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    NotFound,
    /// The head moved: the caller's `sha` is stale.
    HeadMoved {
        current: String,
    },
    /// Closed or merged already.
    NotOpen,
    Conflict,
    /// Fewer approvals than the branch protection needs.
    NeedsApprovals {
        required: u32,
    },
    /// A pull for this head and base is open already.
    Exists {
        number: u64,
        id: u64,
    },
    NoCommits,
    BranchMissing(String),
    OwnPull,
    /// The base moved while merging.
    BaseMoved,
    Invalid(String),
}

/// What a merge should produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
    FastForward,
}

/// The tree changes of one commit: path → new content, or `None` to delete.
pub type Changes = Vec<(String, Option<Vec<u8>>)>;

/// Writes blobs and a tree on top of `base_commit` (or an empty tree), returning the tree.
pub fn tree_with(
    git: &Git,
    base_commit: Option<&str>,
    changes: &Changes,
) -> anyhow::Result<String> {
    let base_tree = match base_commit {
        Some(c) => Some(
            git.tree_of(c)
                .ok_or_else(|| anyhow::anyhow!("no tree for {c}"))?,
        ),
        None => None,
    };
    let mut entries = Vec::new();
    for (path, content) in changes {
        let entry = match content {
            Some(bytes) => Some(("100644".to_owned(), git.write_blob(bytes)?)),
            None => None,
        };
        entries.push((path.clone(), entry));
    }
    git.build_tree(base_tree.as_deref(), &entries)
}

/// Compares the branches with the ones last seen and sends push events for moves (and
/// `synchronize` for open pulls whose head moved). Called after every write, including a
/// `git push` over smart HTTP. A deleted branch closes the open pulls from or into it, as
/// GitHub and Gitea do (`CloseBranchPulls`); see [`sync_refs_keeping_pulls`] for GitLab.
pub fn sync_refs(st: &mut State, repo_name: &str, pusher: &str, events: &mut Vec<Event>) {
    sync(st, repo_name, pusher, true, events);
}

/// As [`sync_refs`], but a deleted branch leaves its merge requests open (GitLab).
pub fn sync_refs_keeping_pulls(
    st: &mut State,
    repo_name: &str,
    pusher: &str,
    events: &mut Vec<Event>,
) {
    sync(st, repo_name, pusher, false, events);
}

fn sync(
    st: &mut State,
    repo_name: &str,
    pusher: &str,
    close_on_delete: bool,
    events: &mut Vec<Event>,
) {
    let Some(repo) = st.repos.get_mut(repo_name) else {
        return;
    };
    let now_refs = repo.git.refs();
    let old = std::mem::replace(&mut repo.known_refs, now_refs.clone());
    let mut names: Vec<&String> = old.keys().chain(now_refs.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let before = old.get(name).cloned().unwrap_or_else(|| ZERO.to_owned());
        let after = now_refs
            .get(name)
            .cloned()
            .unwrap_or_else(|| ZERO.to_owned());
        if before == after {
            continue;
        }
        events.push(Event::Push {
            repo: repo_name.to_owned(),
            ref_name: name.clone(),
            before: before.clone(),
            after: after.clone(),
            pusher: pusher.to_owned(),
        });
        let branch = name.trim_start_matches("refs/heads/");
        let unknown = repo.mergeable_unknown_reads;
        for pull in repo.pulls.iter_mut().filter(|p| p.open) {
            if pull.head == branch && after != ZERO {
                pull.head_sha = after.clone();
                pull.updated_at = now();
                pull.unknown_reads = unknown;
                events.push(Event::Pull {
                    repo: repo_name.to_owned(),
                    number: pull.number,
                    action: PullAction::Synchronize {
                        before: before.clone(),
                    },
                    actor: pusher.to_owned(),
                });
            }
            if pull.base == branch && after != ZERO {
                pull.base_sha = after.clone();
                pull.unknown_reads = unknown;
            }
            if after == ZERO && close_on_delete && (pull.head == branch || pull.base == branch) {
                pull.open = false;
                pull.updated_at = now();
                pull.closed_at = Some(now());
                events.push(Event::Pull {
                    repo: repo_name.to_owned(),
                    number: pull.number,
                    action: PullAction::Closed,
                    actor: pusher.to_owned(),
                });
            }
        }
    }
}

pub fn repo_mut<'a>(st: &'a mut State, name: &str) -> Result<&'a mut Repo, OpError> {
    st.repos.get_mut(name).ok_or(OpError::NotFound)
}

/// Writes one commit with `changes` on top of `parent` and moves `branch` to it from `old`
/// (`None`: the branch must not exist). Returns the commit.
#[expect(clippy::too_many_arguments)]
pub fn commit_to_branch(
    st: &mut State,
    repo_name: &str,
    branch: &str,
    parent: Option<&str>,
    old: Option<&str>,
    changes: &Changes,
    message: &str,
    author: &Ident,
    committer: &Ident,
    pusher: &str,
    events: &mut Vec<Event>,
) -> anyhow::Result<String> {
    let git = repo_mut(st, repo_name)
        .map_err(|_| anyhow::anyhow!("no repo"))?
        .git
        .clone();
    let tree = tree_with(&git, parent, changes)?;
    let parents: Vec<String> = parent.map(str::to_owned).into_iter().collect();
    let sha = git.commit_tree(&tree, &parents, message, author, committer)?;
    git.update_ref(
        &format!("refs/heads/{branch}"),
        &sha,
        Some(old.unwrap_or(ZERO)),
    )?;
    sync_refs(st, repo_name, pusher, events);
    Ok(sha)
}

/// Opens a pull from `head` into `base`.
#[expect(clippy::too_many_arguments)]
pub fn open_pull(
    st: &mut State,
    repo_name: &str,
    author: &User,
    head: &str,
    base: &str,
    title: &str,
    body: &str,
    allow_empty: bool,
    events: &mut Vec<Event>,
) -> Result<u64, OpError> {
    let id = st.id();
    let repo = repo_mut(st, repo_name)?;
    let head_sha = repo
        .git
        .branch(head)
        .ok_or_else(|| OpError::BranchMissing(head.to_owned()))?;
    let base_sha = repo
        .git
        .branch(base)
        .ok_or_else(|| OpError::BranchMissing(base.to_owned()))?;
    if let Some(p) = repo
        .pulls
        .iter()
        .find(|p| p.open && p.head == head && p.base == base)
    {
        return Err(OpError::Exists {
            number: p.number,
            id: p.id,
        });
    }
    if !allow_empty && repo.git.is_ancestor(&head_sha, &base_sha) {
        return Err(OpError::NoCommits);
    }
    repo.next_number += 1;
    let number = repo.next_number;
    let t = now();
    repo.pulls.push(Pull {
        id,
        number,
        title: title.to_owned(),
        body: body.to_owned(),
        head: head.to_owned(),
        base: base.to_owned(),
        open: true,
        merged: false,
        author: author.login.clone(),
        created_at: t.clone(),
        updated_at: t,
        closed_at: None,
        merged_at: None,
        merged_by: None,
        merge_commit_sha: None,
        head_sha,
        base_sha,
        reviews: Vec::new(),
        requested_teams: Vec::new(),
        unknown_reads: repo.mergeable_unknown_reads,
    });
    events.push(Event::Pull {
        repo: repo_name.to_owned(),
        number,
        action: PullAction::Opened,
        actor: author.login.clone(),
    });
    Ok(number)
}

/// The pull's live head and base (followed while open).
pub fn refresh(repo: &mut Repo, number: u64) {
    let git = repo.git.clone();
    if let Some(p) = repo.pull_mut(number)
        && p.open
    {
        if let Some(h) = git.branch(&p.head) {
            p.head_sha = h;
        }
        if let Some(b) = git.branch(&p.base) {
            p.base_sha = b;
        }
    }
}

/// `Some(true)` clean, `Some(false)` conflicting, `None` not computed yet (this read).
pub fn mergeable(repo: &mut Repo, number: u64, consume_unknown: bool) -> Option<bool> {
    refresh(repo, number);
    let git = repo.git.clone();
    let p = repo.pull_mut(number)?;
    if !p.open {
        return None;
    }
    if p.unknown_reads > 0 {
        if consume_unknown {
            p.unknown_reads -= 1;
        }
        return None;
    }
    Some(matches!(
        git.merge_tree(&p.base_sha, &p.head_sha, None),
        Ok(Some(_))
    ))
}

/// Closes or reopens.
pub fn set_open(
    st: &mut State,
    repo_name: &str,
    number: u64,
    open: bool,
    actor: &str,
    events: &mut Vec<Event>,
) -> Result<(), OpError> {
    let repo = repo_mut(st, repo_name)?;
    let git = repo.git.clone();
    let p = repo.pull_mut(number).ok_or(OpError::NotFound)?;
    if p.merged {
        return Err(OpError::NotOpen);
    }
    if p.open == open {
        return Ok(());
    }
    if open && git.branch(&p.head).is_none() {
        return Err(OpError::BranchMissing(p.head.clone()));
    }
    p.open = open;
    p.updated_at = now();
    p.closed_at = (!open).then(now);
    events.push(Event::Pull {
        repo: repo_name.to_owned(),
        number,
        action: if open {
            PullAction::Reopened
        } else {
            PullAction::Closed
        },
        actor: actor.to_owned(),
    });
    Ok(())
}

/// Edits the title or body.
pub fn edit(
    st: &mut State,
    repo_name: &str,
    number: u64,
    title: Option<&str>,
    body: Option<&str>,
    actor: &str,
    events: &mut Vec<Event>,
) -> Result<(), OpError> {
    let repo = repo_mut(st, repo_name)?;
    let p = repo.pull_mut(number).ok_or(OpError::NotFound)?;
    let mut changed = false;
    if let Some(t) = title.filter(|t| *t != p.title) {
        p.title = t.to_owned();
        changed = true;
    }
    if let Some(b) = body.filter(|b| *b != p.body) {
        p.body = b.to_owned();
        changed = true;
    }
    if changed {
        p.updated_at = now();
        events.push(Event::Pull {
            repo: repo_name.to_owned(),
            number,
            action: PullAction::Edited,
            actor: actor.to_owned(),
        });
    }
    Ok(())
}

/// Adds a review; an author cannot approve or reject their own pull.
pub fn review(
    st: &mut State,
    repo_name: &str,
    number: u64,
    user: &str,
    state: ReviewState,
    body: &str,
    events: &mut Vec<Event>,
) -> Result<u64, OpError> {
    let id = st.id();
    let repo = repo_mut(st, repo_name)?;
    refresh(repo, number);
    let p = repo.pull_mut(number).ok_or(OpError::NotFound)?;
    if p.author == user && matches!(state, ReviewState::Approved | ReviewState::ChangesRequested) {
        return Err(OpError::OwnPull);
    }
    if !p.open && state != ReviewState::Commented {
        return Err(OpError::NotOpen);
    }
    p.reviews.push(Review {
        id,
        user: user.to_owned(),
        state,
        body: body.to_owned(),
        commit_id: p.head_sha.clone(),
        submitted_at: now(),
    });
    if state != ReviewState::Pending {
        events.push(Event::Review {
            repo: repo_name.to_owned(),
            number,
            review_id: id,
            actor: user.to_owned(),
        });
    }
    Ok(id)
}

/// Merges: `expected_head` is the compare-and-swap on the head; conflicts and missing approvals
/// refuse; the base moves with `update-ref <new> <old>`. Returns the new base commit.
#[expect(clippy::too_many_arguments)]
pub fn merge(
    st: &mut State,
    repo_name: &str,
    number: u64,
    merger: &User,
    method: MergeMethod,
    expected_head: Option<&str>,
    message: &str,
    events: &mut Vec<Event>,
) -> Result<String, OpError> {
    let repo = repo_mut(st, repo_name)?;
    refresh(repo, number);
    let git = repo.git.clone();
    let required = repo.required_approvals;
    let default_branch = repo.default_branch.clone();
    let p = repo.pull(number).ok_or(OpError::NotFound)?.clone();
    if !p.open {
        return Err(OpError::NotOpen);
    }
    if let Some(sha) = expected_head.filter(|s| !s.is_empty())
        && sha != p.head_sha
    {
        return Err(OpError::HeadMoved {
            current: p.head_sha.clone(),
        });
    }
    let Ok(Some(merged_tree)) = git.merge_tree(&p.base_sha, &p.head_sha, None) else {
        return Err(OpError::Conflict);
    };
    if p.base == default_branch && (p.approvers().len() as u32) < required {
        return Err(OpError::NeedsApprovals { required });
    }
    let t = unix_now();
    let who = merger.ident(t);
    let new_base = match method {
        MergeMethod::Merge => git
            .commit_tree(
                &merged_tree,
                &[p.base_sha.clone(), p.head_sha.clone()],
                message,
                &who,
                &who,
            )
            .map_err(|e| OpError::Invalid(e.to_string()))?,
        MergeMethod::Squash => git
            .commit_tree(
                &merged_tree,
                std::slice::from_ref(&p.base_sha),
                message,
                &who,
                &who,
            )
            .map_err(|e| OpError::Invalid(e.to_string()))?,
        MergeMethod::FastForward => {
            if !git.is_ancestor(&p.base_sha, &p.head_sha) {
                return Err(OpError::Conflict);
            }
            p.head_sha.clone()
        }
        MergeMethod::Rebase => rebase(&git, &p.base_sha, &p.head_sha, &who)?,
    };
    git.update_ref(
        &format!("refs/heads/{}", p.base),
        &new_base,
        Some(&p.base_sha),
    )
    .map_err(|_| OpError::BaseMoved)?;
    let repo = repo_mut(st, repo_name)?;
    if let Some(pull) = repo.pull_mut(number) {
        let t = now();
        pull.open = false;
        pull.merged = true;
        pull.merged_at = Some(t.clone());
        pull.closed_at = Some(t.clone());
        pull.updated_at = t;
        pull.merged_by = Some(merger.login.clone());
        pull.merge_commit_sha = Some(new_base.clone());
    }
    sync_refs(st, repo_name, &merger.login, events);
    events.push(Event::Pull {
        repo: repo_name.to_owned(),
        number,
        action: PullAction::Merged,
        actor: merger.login.clone(),
    });
    Ok(new_base)
}

/// Replays `base..head` onto `base`, one commit each, keeping authors.
fn rebase(git: &Git, base: &str, head: &str, committer: &Ident) -> Result<String, OpError> {
    let Some(fork) = git.merge_base(base, head) else {
        return Err(OpError::Conflict);
    };
    let mut onto = base.to_owned();
    for c in git.commits_between(&fork, head) {
        let info: CommitInfo = git.commit(&c).ok_or(OpError::Conflict)?;
        let parent = info.parents.first().cloned().unwrap_or_default();
        let Ok(Some(tree)) = git.merge_tree(&onto, &c, Some(&parent)) else {
            return Err(OpError::Conflict);
        };
        let author = Ident {
            name: info.author_name.clone(),
            email: info.author_email.clone(),
            time: info.author_time,
        };
        onto = git
            .commit_tree(
                &tree,
                std::slice::from_ref(&onto),
                &info.message,
                &author,
                committer,
            )
            .map_err(|e| OpError::Invalid(e.to_string()))?;
    }
    Ok(onto)
}

pub fn comment(
    st: &mut State,
    repo_name: &str,
    number: u64,
    user: &str,
    body: &str,
    events: &mut Vec<Event>,
) -> Result<u64, OpError> {
    let id = st.id();
    let repo = repo_mut(st, repo_name)?;
    if repo.pull(number).is_none() {
        return Err(OpError::NotFound);
    }
    repo.comments.push(Comment {
        id,
        number,
        user: user.to_owned(),
        body: body.to_owned(),
        created_at: now(),
    });
    events.push(Event::Comment {
        repo: repo_name.to_owned(),
        comment_id: id,
        actor: user.to_owned(),
    });
    Ok(id)
}

#[expect(clippy::too_many_arguments)]
pub fn add_status(
    st: &mut State,
    repo_name: &str,
    sha: &str,
    context: &str,
    state: StatusState,
    target_url: Option<String>,
    description: Option<String>,
    creator: &str,
    events: &mut Vec<Event>,
) -> Result<u64, OpError> {
    let id = st.id();
    let repo = repo_mut(st, repo_name)?;
    let Some(full) = repo.git.commit_of(sha) else {
        return Err(OpError::Invalid(format!("No commit found for SHA: {sha}")));
    };
    repo.statuses.push(CommitStatus {
        id,
        sha: full,
        context: context.to_owned(),
        state,
        target_url,
        description,
        creator: creator.to_owned(),
        created_at: now(),
    });
    events.push(Event::Status {
        repo: repo_name.to_owned(),
        status_id: id,
        actor: creator.to_owned(),
    });
    Ok(id)
}

#[expect(clippy::too_many_arguments)]
pub fn add_check_run(
    st: &mut State,
    repo_name: &str,
    head_sha: &str,
    name: &str,
    status: &str,
    conclusion: Option<String>,
    actor: &str,
    events: &mut Vec<Event>,
) -> Result<u64, OpError> {
    let id = st.id();
    let repo = repo_mut(st, repo_name)?;
    let Some(full) = repo.git.commit_of(head_sha) else {
        return Err(OpError::Invalid(format!(
            "No commit found for SHA: {head_sha}"
        )));
    };
    repo.check_runs.push(CheckRun {
        id,
        head_sha: full,
        name: name.to_owned(),
        status: status.to_owned(),
        conclusion,
        html_url: None,
    });
    events.push(Event::CheckRun {
        repo: repo_name.to_owned(),
        check_run_id: id,
        actor: actor.to_owned(),
    });
    Ok(id)
}

/// Combined state: any failure/error → failure, any pending/running (or none) → pending.
pub fn combined(statuses: &[&CommitStatus]) -> StatusState {
    if statuses.is_empty() {
        return StatusState::Pending;
    }
    if statuses
        .iter()
        .any(|s| matches!(s.state, StatusState::Failure | StatusState::Error))
    {
        StatusState::Failure
    } else if statuses
        .iter()
        .any(|s| matches!(s.state, StatusState::Pending | StatusState::Running))
    {
        StatusState::Pending
    } else {
        StatusState::Success
    }
}

/// Creates a repository with one commit of `files` on `main`, by a fixed author and date so the
/// commit id is the same every run.
pub fn create_repo(
    st: &mut State,
    full_name: &str,
    files: &[(String, Vec<u8>)],
) -> anyhow::Result<String> {
    if st.repos.contains_key(full_name) {
        anyhow::bail!("repository {full_name} exists");
    }
    if full_name
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
        || !full_name.contains('/')
    {
        anyhow::bail!("repository name must be owner/name: {full_name}");
    }
    let dir = st.root.join(format!("{full_name}.git"));
    let git = Git::init(&dir, "main")?;
    let changes: Changes = files
        .iter()
        .map(|(p, c)| (p.clone(), Some(c.clone())))
        .collect();
    let tree = tree_with(&git, None, &changes)?;
    let seed = Ident {
        name: "Emulator".into(),
        email: "emulator@users.noreply.emulator".into(),
        time: 1_704_067_200,
    };
    let sha = git.commit_tree(&tree, &[], "Initial commit\n", &seed, &seed)?;
    git.update_ref("refs/heads/main", &sha, Some(ZERO))?;
    let id = st.id();
    let known_refs: BTreeMap<String, String> = git.refs();
    st.repos.insert(
        full_name.to_owned(),
        Repo {
            id,
            full_name: full_name.to_owned(),
            git,
            default_branch: "main".into(),
            required_approvals: 0,
            mergeable_unknown_reads: 0,
            next_number: 0,
            pulls: Vec::new(),
            comments: Vec::new(),
            statuses: Vec::new(),
            check_runs: Vec::new(),
            known_refs,
        },
    );
    Ok(sha)
}
