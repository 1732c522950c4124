//! The migrations of this binary against a database's `_sqlx_migrations`:
//! which would run ([`check`], read without changing anything: no file is
//! created, nothing is locked or checkpointed), and the refusal, in words,
//! of a database that a newer Latchkey has already upgraded
//! ([`NewerDatabase`]), where sqlx would only say that a migration "was
//! previously applied but is missing".

use std::fmt;

use sqlx::AnyConnection;
use sqlx::{Connection, Row};

use super::{migrator, sqlite_file, Backend};

/// Where docs/deployment.md says what to do with a database newer than the
/// binary (a test checks the heading is there).
pub const OLDER_BINARY_DOC: &str = "docs/deployment.md#a-binary-older-than-its-database";

/// One migration: its number and what it is called (from its file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: String,
}

impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.version, self.description)
    }
}

/// What this binary's migrations would do to a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The last migration applied; `None`: a new or empty database.
    pub current: Option<Migration>,
    /// The migrations that would run, in order.
    pub pending: Vec<Migration>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.current, self.pending.len()) {
            (Some(current), 0) => write!(f, "The database is up to date: migration {current}."),
            (None, 0) => write!(f, "This Latchkey has no migrations."),
            (current, n) => {
                let plural = if n == 1 { "" } else { "s" };
                match current {
                    Some(current) => write!(
                        f,
                        "{n} migration{plural} would run (the database is at migration {current}):"
                    )?,
                    None => write!(f, "The database is new: {n} migration{plural} would run:")?,
                }
                for m in &self.pending {
                    write!(f, "\n  {:>4}  {}", m.version, m.description)?;
                }
                Ok(())
            }
        }
    }
}

/// A database holding a migration this binary does not have: a newer
/// Latchkey upgraded it (or another build did). Serving it could write
/// what the newer schema no longer means, so nothing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewerDatabase {
    /// The first migration applied that this binary does not know.
    pub unknown: Migration,
    /// This binary's last migration.
    pub latest_known: Option<i64>,
}

impl fmt::Display for NewerDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let latest = self
            .latest_known
            .map_or_else(|| "none".to_owned(), |v| v.to_string());
        if self
            .latest_known
            .is_none_or(|known| self.unknown.version > known)
        {
            write!(
                f,
                "this database was upgraded by a newer Latchkey: it has migration {}, and \
                 this Latchkey knows migrations up to {latest}. Run that version, or restore \
                 the backup taken before the upgrade: see {OLDER_BINARY_DOC}",
                self.unknown
            )
        } else {
            write!(
                f,
                "this database has migration {}, which this Latchkey does not have (it \
                 knows up to {latest}; another build applied it). Run the Latchkey that \
                 applied it, or restore the backup taken before: see {OLDER_BINARY_DOC}",
                self.unknown
            )
        }
    }
}

impl std::error::Error for NewerDatabase {}

/// One row of `_sqlx_migrations`.
struct Applied {
    migration: Migration,
    success: bool,
}

/// What the migrations of this binary would do to the database at `url`,
/// without changing it: a SQLite file that does not exist is not created
/// (every migration would run), one that does is opened read-only.
/// Errs with [`NewerDatabase`] when the database is newer than the binary.
pub async fn check(url: &str) -> anyhow::Result<Plan> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)
        .ok_or_else(|| anyhow::anyhow!("database_url must start with sqlite: or postgres://"))?;
    let applied = match read_only_url(url, backend) {
        None => Vec::new(),
        Some(read_only) => {
            let mut conn = AnyConnection::connect(&read_only)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open the database to read it: {e}"))?;
            let applied = applied(&mut conn, backend).await;
            let _ = conn.close().await;
            applied?
        }
    };
    Ok(plan(backend, &applied)?)
}

/// Refuses, before sqlx's migrator runs, a database newer than this
/// binary.
pub(super) async fn refuse_newer(conn: &mut AnyConnection, backend: Backend) -> anyhow::Result<()> {
    let applied = applied(conn, backend).await?;
    plan(backend, &applied)?;
    Ok(())
}

fn plan(backend: Backend, applied: &[Applied]) -> Result<Plan, NewerDatabase> {
    let ours = migrator(backend);
    let latest_known = ours.iter().map(|m| m.version).max();
    if let Some(unknown) = applied
        .iter()
        .find(|a| !ours.version_exists(a.migration.version))
    {
        return Err(NewerDatabase {
            unknown: unknown.migration.clone(),
            latest_known,
        });
    }
    let done = |version: i64| {
        applied
            .iter()
            .any(|a| a.success && a.migration.version == version)
    };
    let pending = ours
        .iter()
        .filter(|m| !done(m.version))
        .map(|m| Migration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect();
    let current = applied
        .iter()
        .filter(|a| a.success)
        .max_by_key(|a| a.migration.version)
        .map(|a| a.migration.clone());
    Ok(Plan { current, pending })
}

/// The rows of `_sqlx_migrations`; none when the table is not there yet
/// (a new database), which is not created here.
async fn applied(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<Applied>, sqlx::Error> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        // The schema sqlx itself creates it in: the first of the search path.
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        }
    };
    let n: i64 = sqlx::query(exists)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if n == 0 {
        return Ok(Vec::new());
    }
    // The Any driver cannot read SQLite's BOOLEAN column: it is compared
    // with a bound `true` (as `Db::ready` does) instead of read.
    let succeeded: Vec<i64> =
        sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get("version"))
            .collect::<Result<_, _>>()?;
    sqlx::query("SELECT version, description FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let version: i64 = row.try_get("version")?;
            Ok(Applied {
                migration: Migration {
                    version,
                    description: row.try_get("description")?,
                },
                success: succeeded.contains(&version),
            })
        })
        .collect()
}

/// The URL to read `url`'s database without changing it; `None` when there
/// is nothing to read (a SQLite file not created yet, or in memory).
fn read_only_url(url: &str, backend: Backend) -> Option<String> {
    match backend {
        Backend::Postgres => Some(url.to_owned()),
        Backend::Sqlite => {
            let file = sqlite_file(url)?;
            if !file.exists() {
                return None;
            }
            // Read-only: never creates the file, never checkpoints the
            // write-ahead log into it.
            Some(format!(
                "sqlite://{}?mode=ro",
                super::encode_sqlite_path(&file)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(versions: &[i64]) -> Vec<Applied> {
        versions
            .iter()
            .map(|&version| Applied {
                migration: Migration {
                    version,
                    description: format!("m{version}"),
                },
                success: true,
            })
            .collect()
    }

    #[test]
    fn a_new_database_would_run_every_migration_and_a_current_one_none() {
        let all: Vec<i64> = migrator(Backend::Sqlite)
            .iter()
            .map(|m| m.version)
            .collect();
        let new = plan(Backend::Sqlite, &[]).unwrap();
        assert_eq!(new.current, None);
        assert_eq!(new.pending.len(), all.len());
        assert!(new.to_string().starts_with("The database is new"), "{new}");
        let current = plan(Backend::Sqlite, &applied(&all)).unwrap();
        assert!(current.pending.is_empty());
        assert!(current.to_string().contains("up to date"), "{current}");
        let behind = plan(Backend::Postgres, &applied(&all[..3])).unwrap();
        assert_eq!(behind.current.as_ref().map(|m| m.version), Some(all[2]));
        assert_eq!(behind.pending.len(), all.len() - 3);
        assert!(behind
            .to_string()
            .contains(&format!("at migration {}", all[2])));
    }

    #[test]
    fn a_migration_this_binary_lacks_is_refused_in_words() {
        let mut versions: Vec<i64> = migrator(Backend::Sqlite)
            .iter()
            .map(|m| m.version)
            .collect();
        let latest = *versions.last().unwrap();
        versions.push(latest + 1);
        let e = plan(Backend::Sqlite, &applied(&versions)).unwrap_err();
        assert_eq!(e.unknown.version, latest + 1);
        let said = e.to_string();
        assert!(said.contains("upgraded by a newer Latchkey"), "{said}");
        assert!(
            said.contains(&format!("migration {} (m{})", latest + 1, latest + 1)),
            "{said}"
        );
        assert!(said.contains(OLDER_BINARY_DOC), "{said}");
    }

    #[test]
    fn the_documentation_has_the_section_the_refusal_points_to() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deployment.md"),
        )
        .expect("docs/deployment.md");
        let anchor = OLDER_BINARY_DOC.split_once('#').unwrap().1;
        let headings: Vec<String> = doc
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                    .collect::<String>()
                    .replace(' ', "-")
            })
            .collect();
        assert!(
            headings.iter().any(|h| h == anchor),
            "{anchor} not in {headings:?}"
        );
    }
}
