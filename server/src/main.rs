//! The `tollgate` command.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tollgate::config::Config;

/// GitOps API management for the Tyk Operator: browse and edit the APIs and policies of a
/// config repo, reviewed as pull requests.
#[derive(Parser)]
#[command(name = "tollgate", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app on the configured repo and database.
    Serve {
        /// TOML config file (see tollgate.example.toml); environment variables
        /// TOLLGATE__SECTION__KEY override it.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Serve the demo: a data folder with a SQLite database and an example config repo
    /// (created on first start), and the demo sign-in.
    Demo {
        /// Where the demo keeps its data.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Optional TOML config file applied over the demo defaults.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Index a config repo once and print what it holds and every problem found; exits 1 if
    /// there are problems. Useful in the config repo's own CI.
    Check {
        /// Path to a local git repository.
        repo: PathBuf,
        /// Branch to read.
        #[arg(long, default_value = "main")]
        branch: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,tower_sessions=warn,sqlx=warn")
            }),
        )
        .init();
    let cli = Cli::parse();
    let result = match tokio::runtime::Builder::new_multi_thread()
        // Server-rendered pages nest deeply; debug builds need more than the 2 MiB default.
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(cli.command)),
        Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { config } => {
            let config = Config::load(Config::default(), config.as_deref())?;
            serve(config).await
        }
        Command::Demo { data_dir, config } => {
            let config = Config::load(Config::demo(data_dir), config.as_deref())?;
            let (path, branch) = (config.repo.path.clone(), config.repo.branch.clone());
            if tokio::task::spawn_blocking(move || tollgate::repo::seed_demo_repo(&path, &branch))
                .await??
            {
                println!(
                    "Created the example config repo at {}",
                    config.repo.path.display()
                );
            }
            serve(config).await
        }
        Command::Check { repo, branch } => check(&repo, &branch),
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    tracing::info!(?config, "starting");
    let running = tollgate::app::start(config).await?;
    let addr = running.addr;
    println!("Tollgate is running at http://{addr}/  (Ctrl-C to stop)");
    tokio::signal::ctrl_c().await?;
    println!("Stopping…");
    running.stop().await?;
    Ok(ExitCode::SUCCESS)
}

fn check(path: &std::path::Path, branch: &str) -> anyhow::Result<ExitCode> {
    use tollgate::repo::{ConfigRepo, IndexOptions, RepoIndex};
    use tollgate::resources::Kind;
    let repo = ConfigRepo::open(path)?;
    let head = repo.head_of(branch)?;
    let started = std::time::Instant::now();
    let index = RepoIndex::build(&repo, head, None, &IndexOptions::default())?;
    let elapsed = started.elapsed();
    println!(
        "{} at {head}: {} YAML files indexed in {:.1?}",
        path.display(),
        index.file_count(),
        elapsed
    );
    for kind in Kind::ALL {
        println!("  {kind}: {}", index.of_kind(kind).count());
    }
    // The rules edits get (without CRD schemas: none are configured here).
    let invalid = tollgate::rules::check_repo(&index, &Default::default());
    for p in index.problems().iter().chain(&invalid) {
        let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("{}{line}: {}: {}", p.path, p.kind.as_str(), p.message);
    }
    Ok(if index.problems().is_empty() && invalid.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
