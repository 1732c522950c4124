//! The `latchkey` command line: `serve`, `domain create`, `user create`, `demo`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::admin::{self, NewDomain};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::AppState;
use crate::{demo, Application};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: a self-service password manager",
    long_about = "Latchkey: a self-service password manager.\n\n\
        Settings come from defaults, then the --config TOML file, then SSPM_<KEY> environment \
        variables (e.g. SSPM_DATABASE_URL, SSPM_LISTEN, SSPM_DEMO)."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage authentication domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Seed the demo data into an empty database.
    Demo,
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Create a domain with the default password policy.
    Create(DomainCreate),
}

#[derive(Debug, Args)]
pub struct DomainCreate {
    /// Short id used in requests and URLs, e.g. `partners`.
    #[arg(long)]
    pub slug: String,
    /// Name shown to people, e.g. `Partners`.
    #[arg(long)]
    pub name: String,
    /// Self-service is not offered to this domain's users.
    #[arg(long)]
    pub no_sspm: bool,
    /// What this domain's users are told instead (with --no-sspm).
    #[arg(long, value_name = "TEXT")]
    pub unavailable_text: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a temporary password, printed once on stdout.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    /// Domain slug, e.g. `partners`.
    #[arg(long)]
    pub domain: String,
    /// User name, e.g. `jsmith` (matched case-insensitively).
    #[arg(long)]
    pub username: String,
    /// Full name, e.g. "Jane Smith".
    #[arg(long)]
    pub display_name: String,
    /// E-mail address (optional).
    #[arg(long)]
    pub email: Option<String>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout carries the lines other programs read);
/// `RUST_LOG` filters, default `info`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn print_line(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Domain(DomainCommand::Create(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let domain = NewDomain {
                slug: args.slug.trim().to_ascii_lowercase(),
                name: args.name,
                sspm_available: !args.no_sspm,
                unavailable_text: args.unavailable_text,
            };
            admin::create_domain(&state, &domain).await?;
            eprintln!("Created domain {}", domain.slug);
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let created = admin::create_user(
                &state,
                &args.domain,
                &args.username,
                &args.display_name,
                args.email.as_deref(),
            )
            .await?;
            print_line(&created.temporary_password)
        }
        Command::Demo => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            match demo::seed_if_empty(&state).await? {
                Some(seeded) => print_line(&seeded.console_line()),
                None => {
                    eprintln!("The database is not empty: demo data not seeded.");
                    Ok(())
                }
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let demo_enabled = config.demo;
    let app = Application::build(config).await?;
    if demo_enabled {
        if let Some(seeded) = demo::seed_if_empty(app.state()).await? {
            print_line(&seeded.console_line())?;
        }
    }
    print_line(&format!(
        "Latchkey listening on http://{}",
        app.local_addr()
    ))?;
    app.run_with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
