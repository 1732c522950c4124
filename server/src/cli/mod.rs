//! The `latchkey` command line: `serve`, `domain create`, `user create`,
//! `demo`, `migrate`, `config check`, ….

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::settings::provisioning::{self, NewDomain};
use crate::state::clock::SystemClock;
use crate::state::AppState;
use crate::Application;

pub mod config_check;
pub mod demo;
pub mod directory;
pub mod migrate;
pub mod staff;

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
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Seed the demo data into an empty database.
    Demo,
    /// Check the directory connections of the configuration.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Print a new random key for `secret_key` / `secret_key_file` (it
    /// encrypts the authenticators' secrets; keep it like a password).
    SecretKey,
    /// Copy the SQLite database, consistent even while the server runs
    /// (PostgreSQL: use pg_dump; see docs/deployment.md).
    Backup {
        /// The new file (it must not exist yet).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Apply the migrations the database lacks (`serve` does it too); with
    /// --check, only say which would run.
    Migrate {
        /// Say which migrations would run (or that none would), changing
        /// nothing.
        #[arg(long)]
        check: bool,
    },
    /// The configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration (the file, then SSPM_* variables) as `serve`
    /// would, and print the effective settings with secrets redacted.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Connect as the service account, search, and look one user up; says in
    /// plain words what is wrong.
    Test(DirectoryTest),
}

#[derive(Debug, Args)]
pub struct DirectoryTest {
    /// The connection's name: `[directories.<name>]` in the configuration.
    #[arg(long)]
    pub name: String,
    /// A user name to look up.
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator with a temporary password, printed once on stdout.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserImport {
    /// CSV file: username,display_name,domain[,email] (a header line is allowed).
    #[arg(long, value_name = "CSV")]
    pub file: PathBuf,
    /// Where to write domain,username,temporary_password lines; created with
    /// mode 0600 and never overwritten.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct UserTarget {
    /// Domain slug, e.g. `partners`.
    #[arg(long)]
    pub domain: String,
    /// User name.
    #[arg(long)]
    pub username: String,
    /// Why (recorded in the audit log).
    #[arg(long, default_value = "command line")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct UserRole {
    /// Domain slug of the user.
    #[arg(long)]
    pub domain: String,
    #[arg(long)]
    pub username: String,
    /// user, lra or admin.
    #[arg(long)]
    pub role: String,
    /// For an LRA: the domains they look after, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub lra_domains: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Create a domain with the default password policy.
    Create(DomainCreate),
    /// Set where a domain's passwords live: local, or directory:NAME.
    Store(DomainStore),
    /// Set whether Unlock Account and Forgot Password ask for a code from an
    /// authenticator app or a mail: off, with-questions, only.
    SecondFactor(DomainSecondFactor),
}

#[derive(Debug, Args)]
pub struct DomainSecondFactor {
    #[arg(long)]
    pub slug: String,
    /// `off` (questions only), `with-questions`, or `only` (no questions).
    #[arg(long)]
    pub factor: String,
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
    /// Keep this domain's passwords in the directory `[directories.NAME]`.
    #[arg(long, value_name = "NAME")]
    pub directory: Option<String>,
}

#[derive(Debug, Args)]
pub struct DomainStore {
    #[arg(long)]
    pub slug: String,
    /// `local`, or `directory:NAME` for `[directories.NAME]`.
    #[arg(long)]
    pub store: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a temporary password, printed once on stdout.
    Create(UserCreate),
    /// Import users from CSV; their temporary passwords go to --output (0600).
    Import(UserImport),
    /// Unlock an account locked after failed sign-ins.
    Unlock(UserTarget),
    /// Issue a temporary password, printed once on stdout.
    TempPassword(UserTarget),
    /// Set a user's role: user, lra (with --lra-domains) or admin.
    Role(UserRole),
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
            eprintln!("latchkey: {}", cli_message(&e));
            ExitCode::FAILURE
        }
    }
}

/// What the command line says about a failure: an operation's refusal in
/// its own words (the message the API would answer), anything else with
/// its whole chain.
fn cli_message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        match cause.downcast_ref::<crate::error::AppError>() {
            Some(app) if !app.is_internal() => {
                parts.push(app.to_api_error(None).message);
                break;
            }
            _ => parts.push(cause.to_string()),
        }
    }
    parts.join(": ")
}

/// Logs go to stderr (stdout carries the lines other programs read);
/// `RUST_LOG` filters, default `info`.
fn init_tracing(format: crate::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        crate::config::LogFormat::Json => builder.json().try_init(),
    };
}

fn print_line(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::SecretKey => print_line(&crate::password::secret_box::SecretBox::generate_key()),
        Command::Domain(DomainCommand::Store(args)) => {
            let store =
                crate::accounts::store::StoreKind::parse(args.store.trim()).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--store must be `local` or `directory:NAME` (got {:?})",
                        args.store
                    )
                })?;
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            provisioning::set_domain_store(&state, args.slug.trim(), &store).await?;
            print_line(&format!(
                "domain {} now uses {}",
                args.slug.trim(),
                store.to_column()
            ))
        }
        Command::Domain(DomainCommand::SecondFactor(args)) => {
            use latchkey_shared::self_service::SecondFactor;
            let factor = match args.factor.trim() {
                "off" => SecondFactor::Off,
                "with-questions" => SecondFactor::WithQuestions,
                "only" => SecondFactor::Only,
                other => {
                    anyhow::bail!("--factor must be off, with-questions or only (got {other:?})")
                }
            };
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            provisioning::set_second_factor(&state, args.slug.trim(), factor).await?;
            print_line(&format!(
                "domain {}: second factor {}",
                args.slug.trim(),
                args.factor.trim()
            ))
        }
        Command::Directory(DirectoryCommand::Test(args)) => {
            directory::test(
                &config,
                &args.name,
                args.user.as_deref(),
                &mut std::io::stdout(),
            )
            .await
        }
        Command::Domain(DomainCommand::Create(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let domain = NewDomain {
                slug: args.slug.trim().to_ascii_lowercase(),
                name: args.name,
                sspm_available: !args.no_sspm,
                unavailable_text: args.unavailable_text,
            };
            provisioning::create_domain(&state, &domain).await?;
            if let Some(name) = args.directory {
                let store = crate::accounts::store::StoreKind::Directory(name);
                provisioning::set_domain_store(&state, &domain.slug, &store).await?;
            }
            eprintln!("Created domain {}", domain.slug);
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let created = provisioning::create_user(
                &state,
                &args.domain,
                &args.username,
                &args.display_name,
                args.email.as_deref(),
            )
            .await?;
            print_line(&created.temporary_password)
        }
        Command::Admin(AdminCommand::Create(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let created = staff::create_administrator(
                &state,
                &args.domain,
                &args.username,
                &args.display_name,
                args.email.as_deref(),
            )
            .await?;
            print_line(&created.temporary_password)
        }
        Command::User(UserCommand::Import(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let text = std::fs::read_to_string(&args.file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
            let n = staff::import_users(&state, &text, &args.output).await?;
            eprintln!(
                "Imported {n} users; temporary passwords in {}",
                args.output.display()
            );
            Ok(())
        }
        Command::User(UserCommand::Unlock(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            staff::unlock(&state, &args.domain, &args.username, &args.reason).await?;
            eprintln!("Unlocked {} in {}", args.username, args.domain);
            Ok(())
        }
        Command::User(UserCommand::TempPassword(args)) => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            let password =
                staff::temporary_password(&state, &args.domain, &args.username, &args.reason)
                    .await?;
            print_line(&password)
        }
        Command::User(UserCommand::Role(args)) => {
            let role = match args.role.trim() {
                "user" => latchkey_shared::admin::Role::User,
                "lra" => latchkey_shared::admin::Role::Lra,
                "admin" => latchkey_shared::admin::Role::Admin,
                other => anyhow::bail!("unknown role {other:?}: use user, lra or admin"),
            };
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            staff::set_user_role(
                &state,
                &args.domain,
                &args.username,
                role,
                &args.lra_domains,
            )
            .await?;
            eprintln!(
                "{} in {} is now {}",
                args.username,
                args.domain,
                role.as_str()
            );
            Ok(())
        }
        Command::Backup { to } => {
            // Not migrated: a backup taken before an upgrade (with the new
            // binary already installed) is of the old schema, to roll back to.
            let db = crate::db::Db::open(config.database_url.expose_secret()).await?;
            db.backup_to(&to).await?;
            print_line(&format!("Backed up to {}", to.display()))
        }
        Command::Config(ConfigCommand::Check) => {
            print_line(config_check::check(&config)?.trim_end())
        }
        Command::Migrate { check } => {
            for line in migrate::run(config.database_url.expose_secret(), check).await? {
                print_line(&line)?;
            }
            Ok(())
        }
        Command::Demo => {
            let state = AppState::new(config, Arc::new(SystemClock)).await?;
            match demo::seed_if_empty(&state).await? {
                Some(seeded) => {
                    print_line(&seeded.console_line())?;
                    for line in seeded.staff_lines() {
                        print_line(&line)?;
                    }
                    Ok(())
                }
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
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
    let app = Application::build(config).await?;
    if demo_enabled {
        if let Some(seeded) = demo::seed_if_empty(app.state()).await? {
            print_line(&seeded.console_line())?;
            for line in seeded.staff_lines() {
                print_line(&line)?;
            }
        }
    }
    let schedules =
        crate::state::background::Schedules::start(app.state()).map_err(|e| anyhow::anyhow!(e))?;
    let _reloading = reload_on_sighup(app.certificates());
    if let Some(redirect) = app.redirect_addr() {
        print_line(&format!("Latchkey redirecting http://{redirect} to https"))?;
    }
    print_line(&format!(
        "Latchkey listening on {}://{}",
        app.scheme(),
        app.local_addr()
    ))?;
    app.run_with_graceful_shutdown(shutdown_signal()).await?;
    schedules.stop(grace).await;
    Ok(())
}

/// SIGHUP reads the TLS certificate again (without TLS it only says so:
/// a reload signal must not end the process, which SIGHUP would by
/// default). The task stops when dropped.
fn reload_on_sighup(
    certificates: Option<Arc<crate::http::serve::tls::Certificates>>,
) -> Option<AbortOnDrop> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: the certificate is reloaded when its files change");
                return None;
            }
        };
        Some(AbortOnDrop(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match &certificates {
                    // A failure is logged by the reload itself.
                    Some(certificates) => {
                        let _ = certificates.reload("SIGHUP");
                    }
                    None => tracing::info!("SIGHUP: no TLS certificate to reload"),
                }
            }
        })))
    }
    #[cfg(not(unix))]
    {
        let _ = certificates;
        None
    }
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
