//! The database: one `sqlx::AnyPool` for SQLite or PostgreSQL, the same SQL
//! for both (`$1` placeholders), and the migrations of each backend embedded.
//!
//! Only types the Any driver carries on both sides are used: `i64`, `String`,
//! `bool` (written as a bind; read back through [`RowExt::flag`] because SQLite
//! hands booleans back as integers) and `Vec<u8>`.

pub mod domains;
pub mod migrations;
pub mod purge;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations this binary carries for `backend`.
pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// A pooled PostgreSQL connection idle this long is pinged before use.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    /// Connections of their own, read-only on SQLite, for the one read an
    /// anonymous client can make the server repeat thousands of times a
    /// second: the sign-in's lookup (a locked account refused costs nothing
    /// else). Such a flood queues here, not in front of every other
    /// request's writes on `pool` (on SQLite its single connection). A
    /// serving process opens them at start ([`Db::open_lookups`]); the CLI
    /// never does.
    pub lookups: AnyPool,
    pub backend: Backend,
    /// The self-service secret once read (it never changes once made), so
    /// every step that needs it costs no query: see `self_service::secret`.
    pub(crate) self_service_secret: std::sync::Arc<tokio::sync::OnceCell<String>>,
}

/// Connections of [`Db::lookups`]. Few: each is a thread (SQLite) or a
/// server process (PostgreSQL) busy on the same cores as the hashing, and
/// more of them let a flood of lookups take more of those cores, not answer
/// a real sign-in sooner (measured on PostgreSQL: 2 beat 4).
const LOOKUP_CONNECTIONS: u32 = 2;

impl Db {
    /// Connects and runs the backend's migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let db = Self::open(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating: for `latchkey backup`, whose copy taken
    /// before an upgrade must be of the schema the old binary knows.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            anyhow::anyhow!("database_url must start with sqlite: or postgres://")
        })?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                ensure_sqlite_parent_dir(url)?;
                // One connection: SQLite serialises writers anyway, and a
                // single connection never meets SQLITE_BUSY on a lock upgrade.
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    // sqlx pings a connection before every acquire by
                    // default: one more round trip to the worker thread per
                    // query, for a file that cannot hang up.
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    // The file named (its path holds no secret, unlike a
                    // PostgreSQL URL): "unable to open database file" alone
                    // does not say which, e.g. a state directory the
                    // service's user cannot write.
                    .map_err(|e| match sqlite_file(url) {
                        Some(file) => anyhow::anyhow!(
                            "cannot open the SQLite database {}: {e}",
                            file.display()
                        ),
                        None => e.into(),
                    })?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(30))
                    // Instead of a ping before every acquire (a second round
                    // trip per query, i.e. per sign-in step), only a
                    // connection idle long enough to have been dropped by the
                    // server or a firewall is checked first.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_IF_IDLE_FOR {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        let lookups = if is_sqlite_in_memory(url) {
            // Another connection would open another, empty, database.
            pool.clone()
        } else {
            lookup_pool(backend, AnyConnectOptions::from_str(url)?)
        };
        Ok(Self {
            pool,
            lookups,
            self_service_secret: std::sync::Arc::default(),
            backend,
        })
    }

    /// Opens every connection of [`Db::lookups`] now, so the first burst of
    /// sign-ins a server meets does not also wait for connections to open.
    pub async fn open_lookups(&self) -> Result<(), sqlx::Error> {
        let n = self.lookups.options().get_max_connections();
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(self.lookups.acquire().await?);
        }
        Ok(())
    }

    /// Whether this database can serve now: its file (SQLite) is still
    /// where it was opened, a write can take the write lock, and every
    /// migration of this binary is applied. Changes nothing.
    pub async fn ready(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            let file: String = sqlx::query("PRAGMA database_list")
                .fetch_one(&self.pool)
                .await?
                .try_get("file")?;
            if !file.is_empty() && !Path::new(&file).exists() {
                return Err(sqlx::Error::Configuration(
                    format!("the database file {file} is gone").into(),
                ));
            }
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE settings SET value = value WHERE key = $1")
            .bind("#readiness")
            .execute(&mut *tx)
            .await?;
        tx.rollback().await?;
        let applied: Option<i64> =
            sqlx::query("SELECT MAX(version) AS version FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_one(&self.pool)
                .await?
                .try_get("version")?;
        let wanted = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
        .iter()
        .map(|m| m.version)
        .max();
        if applied < wanted {
            return Err(sqlx::Error::Configuration(
                format!("the database is at migration {applied:?}, this binary needs {wanted:?}")
                    .into(),
            ));
        }
        Ok(())
    }

    /// A consistent copy of a SQLite database in the new file `to`, taken
    /// while the server serves (`VACUUM INTO` reads one snapshot; the WAL's
    /// committed pages are in it, unlike a plain copy of the main file).
    /// PostgreSQL has its own tools (`pg_dump`).
    pub async fn backup_to(&self, to: &Path) -> anyhow::Result<()> {
        if self.backend != Backend::Sqlite {
            anyhow::bail!(
                "latchkey backup copies a SQLite database; back PostgreSQL up with pg_dump \
                 (docs/deployment.md)"
            );
        }
        if to.as_os_str().is_empty() {
            // SQLite reads `VACUUM INTO ''` as a temporary file: nothing kept.
            anyhow::bail!("give the backup's file: --to FILE");
        }
        if to.exists() {
            anyhow::bail!("{} exists already: give a new file", to.display());
        }
        let target = to
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("{} is not a UTF-8 path", to.display()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot write the backup to {}: {e}", to.display()))?;
        Ok(())
    }

    /// Applies the migrations the database lacks; refuses, in words, a
    /// database that a newer Latchkey upgraded ([`migrations::NewerDatabase`]).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        {
            let mut conn = self.pool.acquire().await?;
            migrations::refuse_newer(&mut conn, self.backend).await?;
        }
        migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }
}

fn lookup_pool(backend: Backend, options: AnyConnectOptions) -> AnyPool {
    let pool = AnyPoolOptions::new()
        .max_connections(LOOKUP_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false);
    match backend {
        // WAL lets readers run beside the writer; `query_only` makes sure
        // nothing ever writes through these.
        Backend::Sqlite => pool.after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA query_only = ON").await?;
                Ok(())
            })
        }),
        Backend::Postgres => pool.before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        }),
    }
    .connect_lazy_with(options)
}

fn is_sqlite_in_memory(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("sqlite") && (lower.contains(":memory:") || lower.contains("mode=memory"))
}

/// The file a SQLite URL names, as sqlx reads it (percent-decoded); `None`
/// in memory or without a path.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let url = url.trim_start();
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" || is_sqlite_in_memory(url) {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    Some(PathBuf::from(decoded.as_ref()))
}

/// `path` as it goes in a SQLite URL: what sqlx would read as the end of
/// the path or as an escape is percent-encoded.
fn encode_sqlite_path(path: &Path) -> String {
    const IN_PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    percent_encoding::percent_encode(path.as_os_str().as_encoded_bytes(), IN_PATH).to_string()
}

/// `sqlite://data/latchkey.db?mode=rwc` fails if `data/` is missing: it is
/// created, readable by this user only (the database holds password
/// hashes; the state directory is made this way too).
fn ensure_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() && !parent.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(parent).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the database's directory {}: {e}",
                    parent.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Reading columns the same way from both backends.
pub trait RowExt {
    /// A boolean column: `BOOLEAN` in PostgreSQL, `INTEGER` 0/1 in SQLite.
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
}

impl RowExt for AnyRow {
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
        match self.try_get::<bool, _>(column) {
            Ok(b) => Ok(b),
            Err(_) => Ok(self.try_get::<i64, _>(column)? != 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/x.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(Backend::from_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://u@h/db"), None);
    }
}
