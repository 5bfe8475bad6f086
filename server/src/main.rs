//! The `tollgate` command.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tollgate::config::Config;
use tollgate::web::assets;

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
        #[command(flatten)]
        bundle: BundleArgs,
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
        #[command(flatten)]
        bundle: BundleArgs,
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
    /// Print the browser bundle this binary serves (its files and id); exits 1 if it is
    /// incomplete.
    CheckBundle,
}

#[derive(clap::Args)]
struct BundleArgs {
    /// Start even without the browser bundle (pages render but never hydrate); the same as
    /// server.allow_missing_bundle = true.
    #[arg(long)]
    allow_missing_bundle: bool,
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
        Command::Serve { config, bundle } => {
            let config = Config::load(Config::default(), config.as_deref())?;
            require_bundle(&config, &bundle)?;
            serve(config).await
        }
        Command::Demo {
            data_dir,
            config,
            bundle,
        } => {
            let config = Config::load(Config::demo(data_dir), config.as_deref())?;
            require_bundle(&config, &bundle)?;
            let (path, branch) = (config.repo.path.clone(), config.repo.branch.clone());
            // With a remote host, repo.path is its mirror: nothing to seed.
            let local = config.host.kind == tollgate::hosts::HostKind::Local;
            if local
                && tokio::task::spawn_blocking(move || {
                    tollgate::repo::seed_demo_repo(&path, &branch)
                })
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
        Command::CheckBundle => Ok(check_bundle()),
    }
}

/// Refuses to serve pages that could never hydrate, unless told to.
fn require_bundle(config: &Config, args: &BundleArgs) -> anyhow::Result<()> {
    let files = assets::bundle();
    match assets::check_bundle(&files) {
        Ok(()) => {
            tracing::info!(bundle = %assets::bundle_id(&files), "browser bundle");
            Ok(())
        }
        Err(missing) if args.allow_missing_bundle || config.server.allow_missing_bundle => {
            tracing::warn!("{missing}");
            Ok(())
        }
        Err(missing) => Err(missing.into()),
    }
}

fn check_bundle() -> ExitCode {
    let files = assets::bundle();
    for f in &files {
        let sha256: String = f.sha256.iter().map(|b| format!("{b:02x}")).collect();
        println!("{sha256}  {} ({} bytes)", f.name, f.bytes);
    }
    match assets::check_bundle(&files) {
        Ok(()) => {
            println!("browser bundle {}: complete", assets::bundle_id(&files));
            ExitCode::SUCCESS
        }
        Err(missing) => {
            eprintln!("error: {missing}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    tracing::info!(?config, "starting");
    let running = tollgate::serve::start(config).await?;
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
