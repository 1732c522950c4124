//! A throwaway PostgreSQL cluster, started once per test process: `initdb` in
//! a temporary directory, listening only on a unix socket in that directory,
//! trust authentication. A detached watchdog stops it and removes the
//! directory when the test process ends. Each test gets its own database.
//!
//! When running as root (CI, containers) the server runs as the `postgres`
//! user through `runuser`. If the PostgreSQL binaries are missing, the Debian
//! package is installed with apt-get.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sqlx::{Connection, Executor};

pub struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// URL of database `name` in this cluster.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/{}?host={}",
            self.port,
            name,
            self.dir.display()
        )
    }
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The process-wide cluster (started on first use).
pub fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(start) {
        Ok(c) => c,
        Err(e) => panic!("cannot start the test PostgreSQL cluster: {e}"),
    }
}

/// A fresh, empty database; returns its URL.
pub async fn create_database() -> String {
    let cluster = cluster();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut last_error = String::new();
    for _ in 0..5 {
        match sqlx::postgres::PgConnection::connect(&cluster.url("postgres")).await {
            Ok(mut conn) => {
                match conn
                    .execute(format!("CREATE DATABASE \"{name}\"").as_str())
                    .await
                {
                    Ok(_) => {
                        let _ = conn.close().await;
                        return cluster.url(&name);
                    }
                    Err(e) => last_error = e.to_string(),
                }
            }
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("cannot create test database {name}: {last_error}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    // Elsewhere on PATH (e.g. a non-Debian install).
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    })
}

fn install_postgresql() -> Result<(), String> {
    eprintln!("PostgreSQL binaries not found: installing the Debian package");
    crate::apt_install(&["postgresql"])
}

/// Runs `program args` as the postgres user when we are root.
fn run_as_postgres(root: bool, program: &Path, args: &[&str], log: &Path) -> Result<(), String> {
    let log_out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("log file: {e}"))?;
    let log_err = log_out.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let status = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_out)
        .stderr(log_err)
        .status()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if status.success() {
        Ok(())
    } else {
        let log_text = std::fs::read_to_string(log).unwrap_or_default();
        Err(format!(
            "{} failed ({status}); log:\n{log_text}",
            program.display()
        ))
    }
}

fn start() -> Result<Cluster, String> {
    let bin = match find_bin_dir() {
        Some(b) => b,
        None => {
            install_postgresql()?;
            find_bin_dir().ok_or("PostgreSQL binaries still missing after install")?
        }
    };
    let root = is_root();
    let dir = std::env::temp_dir().join(format!(
        "latchkey-pg-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir: {e}"))?;
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err("cannot chown the cluster directory to postgres".into());
        }
    }
    let data = dir.join("data");
    let log = dir.join("setup.log");
    let data_s = data.to_string_lossy().into_owned();
    let dir_s = dir.to_string_lossy().into_owned();
    run_as_postgres(
        root,
        &bin.join("initdb"),
        &[
            "-D",
            &data_s,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        &log,
    )?;
    let port = crate::free_port();
    let options = format!(
        "-k {dir_s} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300"
    );
    let server_log = dir.join("server.log");
    let server_log_s = server_log.to_string_lossy().into_owned();
    run_as_postgres(
        root,
        &bin.join("pg_ctl"),
        &[
            "-D",
            &data_s,
            "-l",
            &server_log_s,
            "-o",
            &options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        &log,
    )?;

    // Stop the cluster and remove it when this test process is gone.
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- {} -D {data_s} stop -m immediate",
            pg_ctl.display()
        )
    } else {
        format!("{} -D {data_s} stop -m immediate", pg_ctl.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir_s}",
        pid = std::process::id()
    );
    let spawned = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .or_else(|_| {
            Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        });
    if let Err(e) = spawned {
        eprintln!("warning: no watchdog for the test cluster in {dir_s}: {e}");
    }
    Ok(Cluster { dir, port })
}
