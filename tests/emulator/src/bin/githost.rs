//! `githost-emulator`: serve the Git host emulator (GitHub `/api/v3`, GitLab `/api/v4`,
//! Gitea `/api/v1`, smart HTTP `/{owner}/{name}.git`) for the demo, browser tests and benches.
//!
//!     githost-emulator [--listen 127.0.0.1:0] [--data DIR] [--user LOGIN[:TOKEN]]...
//!                      [--repo OWNER/NAME]... [--fixture DIR]
//!
//! The first stdout line is `githost-emulator serving at http://HOST:PORT`. `--user` adds a
//! user with a read-write token (printed as `token LOGIN TOKEN`); `--repo` creates an empty
//! repository, or one seeded with the files under `--fixture` (given before it). Everything
//! else is reachable through the control routes under `/_emulator/`.

use std::path::{Path, PathBuf};
use tollgate_emulator::githost::GitHost;

fn files_under(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(root, &path, out)?;
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            let rel = path
                .strip_prefix(root)?
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, text));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:0".to_owned();
    let mut data: Option<PathBuf> = None;
    let mut users = Vec::new();
    let mut repos = Vec::new();
    let mut fixture: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--listen" => listen = value()?,
            "--data" => data = Some(value()?.into()),
            "--user" => users.push(value()?),
            "--fixture" => fixture = Some(value()?.into()),
            "--repo" => repos.push((value()?, fixture.clone())),
            "--help" | "-h" => {
                println!(
                    "githost-emulator [--listen ADDR] [--data DIR] [--user LOGIN[:TOKEN]]... [--fixture DIR] [--repo OWNER/NAME]..."
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let data = match data {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("githost-emulator-{}", std::process::id())),
    };
    let host = GitHost::serve(listen.parse()?, &data).await?;
    println!("githost-emulator serving at {}", host.url());
    for (name, fixture) in repos {
        let mut files = Vec::new();
        if let Some(dir) = fixture {
            files_under(&dir, &dir, &mut files)?;
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let sha = host.create_repo(&name, &refs)?;
        println!("repo {name} {sha}");
    }
    for user in users {
        let (login, token) = match user.split_once(':') {
            Some((l, t)) => (l.to_owned(), Some(t.to_owned())),
            None => (user.clone(), None),
        };
        let token = match token {
            Some(t) => host.add_user_token(&login, &t, false),
            None => host.add_user(&login),
        };
        println!("token {login} {token}");
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
