//! The bare repositories on disk, written and read with the `git` CLI (plumbing only), so every
//! object the emulator makes is a real Git object that `git` and gix clone unchanged.

use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// The all-zero object id git uses for "no such ref" in ref updates and push events.
pub const ZERO: &str = "0000000000000000000000000000000000000000";

/// A name, an e-mail and a time (unix seconds) for a commit's author or committer.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub email: String,
    pub time: i64,
}

/// One commit as read back from a repository.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_time: i64,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_time: i64,
    pub message: String,
}

/// A bare repository.
#[derive(Clone, Debug)]
pub struct Git {
    pub dir: PathBuf,
}

static TEMP: AtomicU64 = AtomicU64::new(0);

/// A `git` command isolated from the user's and the system's configuration.
pub fn command() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

impl Git {
    pub fn open(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    /// `git init --bare -b main`.
    pub fn init(dir: &Path, branch: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let out = command()
            .args(["init", "--bare", "--quiet", "-b", branch])
            .arg(dir)
            .output()?;
        if !out.status.success() {
            bail!("git init: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(Self::open(dir))
    }

    fn run(
        &self,
        args: &[&str],
        env: &[(&str, String)],
        input: Option<&[u8]>,
    ) -> anyhow::Result<Output> {
        let mut cmd = command();
        cmd.arg("--git-dir").arg(&self.dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("spawn git")?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(bytes)?;
        }
        Ok(child.wait_with_output()?)
    }

    /// Runs and returns stdout without the trailing newline; an error carries git's stderr.
    fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        self.ok_env(args, &[], None)
    }

    fn ok_env(
        &self,
        args: &[&str],
        env: &[(&str, String)],
        input: Option<&[u8]>,
    ) -> anyhow::Result<String> {
        let out = self.run(args, env, input)?;
        if !out.status.success() {
            bail!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// The commit a revision names, if it names one.
    pub fn commit_of(&self, rev: &str) -> Option<String> {
        let spec = format!("{rev}^{{commit}}");
        self.ok(&["rev-parse", "--verify", "--quiet", &spec])
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// The type of an object (`commit`, `tree`, `blob`), if it exists.
    pub fn object_type(&self, sha: &str) -> Option<String> {
        self.ok(&["cat-file", "-t", sha]).ok()
    }

    /// Every branch: `refs/heads/x` → commit.
    pub fn refs(&self) -> BTreeMap<String, String> {
        self.ok(&[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
        ])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(r, s)| (r.to_owned(), s.to_owned()))
        .collect()
    }

    pub fn branch(&self, name: &str) -> Option<String> {
        self.refs().remove(&format!("refs/heads/{name}"))
    }

    pub fn tree_of(&self, commit: &str) -> Option<String> {
        self.ok(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{commit}^{{tree}}"),
        ])
        .ok()
    }

    /// Writes a blob.
    pub fn write_blob(&self, content: &[u8]) -> anyhow::Result<String> {
        self.ok_env(&["hash-object", "-w", "--stdin"], &[], Some(content))
    }

    pub fn read_blob(&self, sha: &str) -> Option<Vec<u8>> {
        let out = self.run(&["cat-file", "blob", sha], &[], None).ok()?;
        out.status.success().then_some(out.stdout)
    }

    /// The blob id of `path` at a revision.
    pub fn blob_at(&self, rev: &str, path: &str) -> Option<String> {
        let spec = format!("{rev}:{path}");
        let sha = self.ok(&["rev-parse", "--verify", "--quiet", &spec]).ok()?;
        (self.object_type(&sha).as_deref() == Some("blob")).then_some(sha)
    }

    pub fn file_at(&self, rev: &str, path: &str) -> Option<Vec<u8>> {
        self.read_blob(&self.blob_at(rev, path)?)
    }

    /// `(mode, type, sha, path)` of every entry in a tree, recursively or not.
    pub fn ls_tree(&self, tree: &str, recursive: bool) -> Vec<(String, String, String, String)> {
        let mut args = vec!["ls-tree", "--full-tree"];
        if recursive {
            args.push("-r");
        }
        args.push(tree);
        self.ok(&args)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (meta, path) = l.split_once('\t')?;
                let mut it = meta.split(' ');
                Some((
                    it.next()?.to_owned(),
                    it.next()?.to_owned(),
                    it.next()?.to_owned(),
                    path.to_owned(),
                ))
            })
            .collect()
    }

    /// A new tree: `base` (or empty) with each path set to a blob (`Some((mode, sha))`) or removed.
    pub fn build_tree(
        &self,
        base: Option<&str>,
        changes: &[(String, Option<(String, String)>)],
    ) -> anyhow::Result<String> {
        let index = self.dir.join(format!(
            "emulator-index-{}-{}",
            std::process::id(),
            TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let env = [("GIT_INDEX_FILE", index.display().to_string())];
        let result = (|| {
            match base {
                Some(tree) => self.ok_env(&["read-tree", tree], &env, None)?,
                None => self.ok_env(&["read-tree", "--empty"], &env, None)?,
            };
            let mut input = String::new();
            for (path, entry) in changes {
                match entry {
                    Some((mode, sha)) => input.push_str(&format!("{mode} {sha}\t{path}\n")),
                    None => input.push_str(&format!("0 {ZERO}\t{path}\n")),
                }
            }
            self.ok_env(
                &["update-index", "--add", "--index-info"],
                &env,
                Some(input.as_bytes()),
            )?;
            self.ok_env(&["write-tree"], &env, None)
        })();
        let _ = std::fs::remove_file(&index);
        result
    }

    /// Writes a commit object (no ref moves).
    pub fn commit_tree(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: &Ident,
        committer: &Ident,
    ) -> anyhow::Result<String> {
        let mut args = vec!["commit-tree".to_owned(), tree.to_owned()];
        for p in parents {
            args.push("-p".into());
            args.push(p.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = [
            ("GIT_AUTHOR_NAME", author.name.clone()),
            ("GIT_AUTHOR_EMAIL", author.email.clone()),
            ("GIT_AUTHOR_DATE", format!("@{} +0000", author.time)),
            ("GIT_COMMITTER_NAME", committer.name.clone()),
            ("GIT_COMMITTER_EMAIL", committer.email.clone()),
            ("GIT_COMMITTER_DATE", format!("@{} +0000", committer.time)),
        ];
        self.ok_env(&args, &env, Some(message.as_bytes()))
    }

    /// Moves (or creates, with `old = Some(ZERO)`) a ref only if it still points at `old`.
    pub fn update_ref(&self, name: &str, new: &str, old: Option<&str>) -> anyhow::Result<()> {
        let mut args = vec!["update-ref", name, new];
        if let Some(old) = old {
            args.push(old);
        }
        self.ok(&args).map(|_| ())
    }

    pub fn delete_ref(&self, name: &str, old: &str) -> anyhow::Result<()> {
        self.ok(&["update-ref", "-d", name, old]).map(|_| ())
    }

    /// `git merge-tree --write-tree`: `Ok(Some(tree))` when `b` merges cleanly into `a`,
    /// `Ok(None)` on a conflict.
    pub fn merge_tree(
        &self,
        a: &str,
        b: &str,
        merge_base: Option<&str>,
    ) -> anyhow::Result<Option<String>> {
        let mut args = vec!["merge-tree", "--write-tree", "--no-messages"];
        let base_arg;
        if let Some(base) = merge_base {
            base_arg = format!("--merge-base={base}");
            args.push(&base_arg);
        }
        args.push(a);
        args.push(b);
        let out = self.run(&args, &[], None)?;
        match out.status.code() {
            Some(0) => Ok(Some(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )),
            Some(1) => Ok(None),
            _ => bail!("git merge-tree: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }

    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.ok(&["merge-base", a, b]).ok()
    }

    /// Whether `a` is an ancestor of (or equal to) `b`.
    pub fn is_ancestor(&self, a: &str, b: &str) -> bool {
        self.run(&["merge-base", "--is-ancestor", a, b], &[], None)
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Commits reachable from `tip` and not from `hidden`, oldest first.
    pub fn commits_between(&self, hidden: &str, tip: &str) -> Vec<String> {
        let range = format!("{hidden}..{tip}");
        self.ok(&["rev-list", "--reverse", "--topo-order", &range])
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// First-parent history of a revision, newest first.
    pub fn log(&self, rev: &str, limit: usize) -> Vec<CommitInfo> {
        let n = format!("-{limit}");
        self.ok(&["rev-list", "--first-parent", &n, rev])
            .unwrap_or_default()
            .lines()
            .filter_map(|sha| self.commit(sha))
            .collect()
    }

    /// Paths that differ between two commits, with git's status letter.
    pub fn changed_paths(&self, from: &str, to: &str) -> Vec<(char, String)> {
        self.ok(&[
            "diff-tree",
            "-r",
            "--no-commit-id",
            "--name-status",
            from,
            to,
        ])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (s, p) = l.split_once('\t')?;
            Some((s.chars().next()?, p.to_owned()))
        })
        .collect()
    }

    pub fn commit(&self, sha: &str) -> Option<CommitInfo> {
        let out = self.run(&["cat-file", "commit", sha], &[], None).ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (head, message) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut info = CommitInfo {
            sha: sha.to_owned(),
            tree: String::new(),
            parents: Vec::new(),
            author_name: String::new(),
            author_email: String::new(),
            author_time: 0,
            committer_name: String::new(),
            committer_email: String::new(),
            committer_time: 0,
            message: message.to_owned(),
        };
        for line in head.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "tree" => info.tree = value.to_owned(),
                "parent" => info.parents.push(value.to_owned()),
                "author" => {
                    (info.author_name, info.author_email, info.author_time) = parse_ident(value)
                }
                "committer" => {
                    (
                        info.committer_name,
                        info.committer_email,
                        info.committer_time,
                    ) = parse_ident(value)
                }
                _ => {}
            }
        }
        Some(info)
    }
}

/// `Name <email> 1700000000 +0000` → parts.
fn parse_ident(value: &str) -> (String, String, i64) {
    let (name, rest) = value.split_once(" <").unwrap_or((value, ""));
    let (email, rest) = rest.split_once("> ").unwrap_or((rest, ""));
    let time = rest
        .split(' ')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    (name.to_owned(), email.to_owned(), time)
}

impl Git {
    /// The last commit reachable from `rev` that changed `path`.
    pub fn last_commit_for(&self, rev: &str, path: &str) -> Option<String> {
        self.ok(&["rev-list", "-1", rev, "--", path])
            .ok()
            .filter(|s| !s.is_empty())
    }
}
