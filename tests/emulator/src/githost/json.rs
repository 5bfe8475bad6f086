//! How each flavour writes the host's objects, in REST answers and webhook payloads alike.

pub mod gitea;
pub mod github;
pub mod gitlab;

use super::git::CommitInfo;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A unix time as RFC 3339 (UTC).
pub fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A commit as the push payloads of GitHub and Gitea list it.
pub fn push_commit(
    web: &str,
    info: &CommitInfo,
    added: &[String],
    removed: &[String],
    modified: &[String],
) -> serde_json::Value {
    serde_json::json!({
        "id": info.sha,
        "tree_id": info.tree,
        "distinct": true,
        "message": info.message,
        "timestamp": rfc3339(info.committer_time),
        "url": format!("{web}/commit/{}", info.sha),
        "author": {"name": info.author_name, "email": info.author_email, "username": info.author_name},
        "committer": {"name": info.committer_name, "email": info.committer_email, "username": info.committer_name},
        "added": added,
        "removed": removed,
        "modified": modified,
    })
}

/// The commits a push brought (oldest first, at most 20), each with its changed paths.
pub fn pushed_commits(
    git: &super::git::Git,
    web: &str,
    before: &str,
    after: &str,
) -> Vec<serde_json::Value> {
    if after == super::git::ZERO {
        return Vec::new();
    }
    let list = if before == super::git::ZERO {
        vec![after.to_owned()]
    } else {
        git.commits_between(before, after)
    };
    list.iter()
        .rev()
        .take(20)
        .rev()
        .filter_map(|sha| git.commit(sha))
        .map(|info| {
            let parent = info.parents.first().cloned();
            let (mut a, mut r, mut m) = (Vec::new(), Vec::new(), Vec::new());
            if let Some(parent) = parent {
                for (s, p) in git.changed_paths(&parent, &info.sha) {
                    match s {
                        'A' => a.push(p),
                        'D' => r.push(p),
                        _ => m.push(p),
                    }
                }
            }
            push_commit(web, &info, &a, &r, &m)
        })
        .collect()
}
