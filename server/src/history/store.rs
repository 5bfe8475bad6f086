//! The history index in the database. Every statement is written once for SQLite and
//! PostgreSQL; a batch of indexed commits is written in one transaction with the new head, so a
//! restart resumes exactly where the last batch ended.

use super::walk::IndexedCommit;
use crate::db::{Db, DbError};
use crate::{db_run, db_transaction, tx_run};

/// How far the index has read a branch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct State {
    pub head: String,
    pub commits: i64,
}

/// A `history_entries` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub commit_id: String,
    pub action: String,
    pub path: String,
    pub moved_from: Option<String>,
    pub committed_at: String,
    pub author: String,
    pub author_email: String,
    pub committer: String,
    pub committer_email: String,
    pub title: String,
    pub pull_request: Option<String>,
    pub change_url: Option<String>,
    pub fields: String,
}

const ENTRY_COLUMNS: &str = "commit_id, action, path, moved_from, committed_at, author, author_email, committer, committer_email, title, pull_request, change_url, fields";

#[derive(sqlx::FromRow)]
struct Seq {
    seq: i64,
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct ChainRow {
    seq: i64,
    commit_id: String,
}

pub async fn state(db: &Db, branch: &str) -> Result<Option<State>, DbError> {
    Ok(db_run!(
        db,
        fetch_optional,
        State,
        "SELECT head, commits FROM history_state WHERE branch = $1",
        branch
    )?)
}

/// The indexed first-parent chain: commit → seq.
pub async fn chain(db: &Db, branch: &str) -> Result<Vec<(i64, String)>, DbError> {
    let rows = db_run!(
        db,
        fetch_all,
        ChainRow,
        "SELECT seq, commit_id FROM history_commits WHERE branch = $1",
        branch
    )?;
    Ok(rows.into_iter().map(|r| (r.seq, r.commit_id)).collect())
}

/// The position of `commit` on the indexed chain.
pub async fn seq_of(db: &Db, branch: &str, commit: &str) -> Result<Option<i64>, DbError> {
    Ok(db_run!(
        db,
        fetch_optional,
        Seq,
        "SELECT seq FROM history_commits WHERE branch = $1 AND commit_id = $2",
        branch,
        commit
    )?
    .map(|r| r.seq))
}

/// Saves indexed commits (oldest first, numbered from `first_seq`) and moves the head to the
/// last of them, in one transaction.
pub async fn save(
    db: &Db,
    branch: &str,
    first_seq: i64,
    commits: &[IndexedCommit],
) -> Result<(), DbError> {
    let Some(last) = commits.last() else {
        return Ok(());
    };
    let head = last.info.id.clone();
    let count = first_seq + commits.len() as i64 - 1;
    db_transaction!(db, |tx, D| {
        for (i, commit) in commits.iter().enumerate() {
            let seq = first_seq + i as i64;
            let info = &commit.info;
            tx_run!(
                tx,
                D,
                "INSERT INTO history_commits (branch, seq, commit_id) VALUES ($1, $2, $3)",
                branch,
                seq,
                &info.id
            )?;
            for entry in &commit.entries {
                let fields = serde_json::to_string(&entry.fields).unwrap_or_else(|_| "[]".into());
                tx_run!(
                    tx,
                    D,
                    "INSERT INTO history_entries (branch, kind, namespace, name, seq, commit_id, action, path, moved_from, committed_at, author, author_email, committer, committer_email, title, pull_request, change_url, fields)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                    branch,
                    entry.key.kind.as_str(),
                    &entry.key.namespace,
                    &entry.key.name,
                    seq,
                    &info.id,
                    entry.action.as_str(),
                    &entry.path,
                    entry.moved_from.as_deref(),
                    &info.date,
                    &info.author,
                    &info.author_email,
                    &info.committer,
                    &info.committer_email,
                    &info.title,
                    info.pull_request.as_deref(),
                    info.change_url.as_deref(),
                    &fields
                )?;
            }
        }
        tx_run!(
            tx,
            D,
            "INSERT INTO history_state (branch, head, commits) VALUES ($1, $2, $3)
             ON CONFLICT (branch) DO UPDATE SET head = excluded.head, commits = excluded.commits",
            branch,
            &head,
            count
        )?;
        Ok::<(), DbError>(())
    })
}

/// Forgets everything after `seq` (a force-push rewrote the branch from there on).
pub async fn truncate(db: &Db, branch: &str, seq: i64, head: &str) -> Result<(), DbError> {
    db_transaction!(db, |tx, D| {
        tx_run!(
            tx,
            D,
            "DELETE FROM history_entries WHERE branch = $1 AND seq > $2",
            branch,
            seq
        )?;
        tx_run!(
            tx,
            D,
            "DELETE FROM history_commits WHERE branch = $1 AND seq > $2",
            branch,
            seq
        )?;
        if seq == 0 {
            tx_run!(tx, D, "DELETE FROM history_state WHERE branch = $1", branch)?;
        } else {
            tx_run!(
                tx,
                D,
                "UPDATE history_state SET head = $2, commits = $3 WHERE branch = $1",
                branch,
                head,
                seq
            )?;
        }
        Ok::<(), DbError>(())
    })
}

/// Listed entries of one resource (moves left out), newest first.
pub async fn page(
    db: &Db,
    branch: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM history_entries WHERE branch = $1 AND kind = $2 AND namespace = $3 AND name = $4 AND action <> 'moved'
         ORDER BY seq DESC LIMIT $5 OFFSET $6"
    );
    Ok(db_run!(
        db, fetch_all, EntryRow, &sql, branch, kind, namespace, name, limit, offset
    )?)
}

pub async fn count(
    db: &Db,
    branch: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<i64, DbError> {
    Ok(db_run!(
        db,
        fetch_one,
        Count,
        "SELECT COUNT(*) AS n FROM history_entries WHERE branch = $1 AND kind = $2 AND namespace = $3 AND name = $4 AND action <> 'moved'",
        branch,
        kind,
        namespace,
        name
    )?
    .n)
}

/// The newest entry of a resource at or before `seq` (moves included): where it was then.
pub async fn entry_at(
    db: &Db,
    branch: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    seq: i64,
) -> Result<Option<EntryRow>, DbError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM history_entries WHERE branch = $1 AND kind = $2 AND namespace = $3 AND name = $4 AND seq <= $5
         ORDER BY seq DESC LIMIT 1"
    );
    Ok(db_run!(
        db,
        fetch_optional,
        EntryRow,
        &sql,
        branch,
        kind,
        namespace,
        name,
        seq
    )?)
}

/// Listed entries of a resource after `seq`, oldest first.
pub async fn after(
    db: &Db,
    branch: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    seq: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM history_entries WHERE branch = $1 AND kind = $2 AND namespace = $3 AND name = $4 AND seq > $5 AND action <> 'moved'
         ORDER BY seq"
    );
    Ok(db_run!(
        db, fetch_all, EntryRow, &sql, branch, kind, namespace, name, seq
    )?)
}
