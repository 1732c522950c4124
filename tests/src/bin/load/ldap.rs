//! `load ldap` (`./x load ldap`): sign-ins per second through Latchkey on a
//! domain backed by OpenLDAP, against raw simple binds per second to the
//! same `slapd` from this same machine with the same concurrency.
//!
//! A throwaway `slapd` with the ppolicy overlay ([`latchkey_testkit::slapd`],
//! the testkit's fixtures) gets 16 people (or a multiple of the clients);
//! the release server runs on SQLite
//! with `[directories.corp]` as `scripts/demo/ldap.sh` writes it (the
//! connection's defaults: pool of 4 service connections) and a domain
//! `corp` stored there (`LOAD_POOL_SIZE` sets another pool size). Every
//! figure is measured for `LOAD_SECS` (default 20) with `LOAD_CLIENTS`
//! (default 4 × cores) parallel clients on the same cores as the server and
//! `slapd`:
//!
//! 1. successful sign-ins/s: `POST /api/session` over real HTTP, each client
//!    its own people in turn (each has signed in once before, so Latchkey
//!    has its row), the answers other than 200 counted by status;
//! 2. raw simple binds/s with ldap3, one persistent connection per client
//!    (the baseline of the goal);
//! 3. raw connect + bind + unbind per operation (what Latchkey's bind as the
//!    user does, on a connection of its own);
//! 4. raw search with the service account (one persistent connection per
//!    client) + connect + bind + unbind: the directory's whole share of one
//!    Latchkey sign-in, without Latchkey;
//! 5. the HTTP floor: `GET` of an address the server answers 404 with no
//!    work, same clients, same server.
//!
//! Next to each: the CPU milliseconds per operation of the server, of
//! `slapd` and of this load generator (from `/proc`), so the gap can be
//! told apart into the directory's work and Latchkey's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use latchkey_e2e::{Server, TempDir};
use latchkey_shared::api::{paths, SignInRequest, CSRF_HEADER};
use latchkey_testkit::slapd::{user_dn, Slapd, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD};
use ldap3::{Ldap, LdapConnAsync, Scope};
use reqwest::StatusCode;
use tokio::sync::Mutex;

use super::{client, saturate, stat_ticks};

/// At least this many people in the directory (more with more clients).
const USERS: usize = 16;
const DOMAIN: &str = "corp";

/// One measure: successful operations per second, latencies, CPU.
struct Figure {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: u64,
    /// CPU milliseconds per successful operation: server, slapd, generator.
    cpu_ms: (f64, f64, f64),
}

#[derive(Clone, Copy)]
struct Pids {
    server: Option<u32>,
    slapd: u32,
}

/// CPU ticks (10 ms) so far of the server, slapd and this process.
fn ticks(pids: Pids) -> (u64, u64, u64) {
    let of = |pid: u32| stat_ticks(std::path::Path::new(&format!("/proc/{pid}/stat")));
    (
        pids.server.map_or(0, of),
        of(pids.slapd),
        stat_ticks(std::path::Path::new("/proc/self/stat")),
    )
}

/// Runs `saturate` and reads the CPU each process spent meanwhile.
async fn measured<F, Fut>(pids: Pids, clients: usize, secs: u64, request: F) -> Figure
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let before = ticks(pids);
    let (per_sec, mut lat, failed) = saturate(clients, secs, request).await;
    let after = ticks(pids);
    let ok = lat.len().max(1) as f64;
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 * 10.0 / ok;
    lat.sort();
    let at = |q: usize| {
        lat.get((lat.len() * q / 100).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Figure {
        per_sec,
        p50_ms: at(50),
        p99_ms: at(99),
        failed,
        cpu_ms: (
            per(after.0, before.0),
            per(after.1, before.1),
            per(after.2, before.2),
        ),
    }
}

async fn connect(url: &str) -> ldap3::result::Result<Ldap> {
    let (conn, ldap) = LdapConnAsync::new(url).await?;
    ldap3::drive!(conn);
    Ok(ldap)
}

/// One persistent connection per client, bound as the service account when
/// `service` (else not bound).
async fn connections(url: &str, n: usize, service: bool) -> Result<Arc<Vec<Mutex<Ldap>>>> {
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        let mut ldap = connect(url).await?;
        if service {
            ldap.simple_bind(SERVICE_DN, SERVICE_PASSWORD)
                .await?
                .success()?;
        }
        all.push(Mutex::new(ldap));
    }
    Ok(Arc::new(all))
}

/// `clients` × k people (at least [`USERS`]); client `w` signs in only the
/// people `w`, `w + clients`, …: no two clients ever sign in the same
/// person at once. (Latchkey reserves a failure before it checks a password,
/// so five parallel sign-ins of one name, right passwords or not, lock it
/// for a moment: with people shared among 8 clients a few right passwords
/// were answered 423.)
fn users(clients: usize) -> Arc<Vec<(String, String)>> {
    let n = clients * USERS.div_ceil(clients).max(1);
    Arc::new(
        (0..n)
            .map(|i| (format!("load{i}"), format!("load-Bind-{i:02}-secret-7731")))
            .collect(),
    )
}

/// The person client `w` signs in at its `n`-th operation.
fn person(users: &[(String, String)], clients: usize, w: usize, n: u64) -> &(String, String) {
    let own = users.len() / clients;
    &users[w + clients * (n as usize % own)]
}

fn cli(config: &std::path::Path, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new(latchkey_e2e::server_binary()?)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "error")
        .output()?;
    ensure!(
        out.status.success(),
        "latchkey {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

pub async fn run(secs: u64) -> Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let clients: usize = std::env::var("LOAD_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cores * 4);
    let slapd = Slapd::start();
    let users = users(clients);
    slapd.add_users(&users);
    let url = slapd.url();
    let slapd_pid = slapd.pid().context("slapd's pid")?;

    let dir = TempDir::new("lk-load-ldap")?;
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
    let config = dir.path().join("latchkey.toml");
    // `LOAD_POOL_SIZE` overrides the connection's pool of service-account
    // connections (default 4), to see whether the searches wait for it.
    let pool = std::env::var("LOAD_POOL_SIZE")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map(|n| format!("pool_size = {n}\n"))
        .unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "database_url = \"{db_url}\"\n\n{}{pool}",
            slapd.config_section(DOMAIN)
        ),
    )?;
    cli(
        &config,
        &[
            "domain",
            "create",
            "--slug",
            DOMAIN,
            "--name",
            "Corp",
            "--directory",
            DOMAIN,
        ],
    )?;
    let static_dir = TempDir::new("lk-load-ldap-static")?;
    std::fs::write(
        static_dir.path().join("index.html"),
        "<!doctype html><title>Latchkey</title>\n",
    )?;
    let log = std::env::var("LOAD_SERVER_LOG").unwrap_or_else(|_| "error".into());
    let server = Server::start_bin_with_config(
        latchkey_e2e::server_binary()?,
        Some(&config),
        &db_url,
        &[
            ("RUST_LOG", &log),
            ("SSPM_STATIC_DIR", &static_dir.path().display().to_string()),
        ],
    )?;
    let pids = Pids {
        server: Some(server.pid()),
        slapd: slapd_pid,
    };
    eprintln!(
        "load ldap: {cores} cores, {clients} clients, {secs} s per measure, slapd pid {slapd_pid} on {url}"
    );

    // Each user signs in once: Latchkey creates its row for them.
    let http = client();
    let session_url = server.url(paths::SESSION);
    let body = |u: &str, p: &str| SignInRequest {
        domain: DOMAIN.into(),
        username: u.into(),
        password: p.into(),
    };
    for (u, p) in users.iter() {
        let r = http
            .post(&session_url)
            .header(CSRF_HEADER, "1")
            .json(&body(u, p))
            .send()
            .await?;
        ensure!(
            r.status() == StatusCode::OK,
            "first sign-in of {u}: {}",
            r.status()
        );
    }

    // 1. Sign-ins through Latchkey; the answers that were not 200, by status.
    eprintln!(
        "load ldap: 1. sign-ins through Latchkey (server pid {})",
        server.pid()
    );
    let refusals = Arc::new(std::sync::Mutex::new(BTreeMap::<String, u64>::new()));
    let signins = {
        let (http, session_url, users) = (http.clone(), session_url.clone(), users.clone());
        let refusals = refusals.clone();
        measured(pids, clients, secs, move |w, n| {
            let (http, url, users) = (http.clone(), session_url.clone(), users.clone());
            let refusals = refusals.clone();
            async move {
                let (u, p) = person(&users, clients, w, n);
                let request = SignInRequest {
                    domain: DOMAIN.into(),
                    username: u.clone(),
                    password: p.clone(),
                };
                let answer = http
                    .post(&url)
                    .header(CSRF_HEADER, "1")
                    .json(&request)
                    .send()
                    .await;
                let refused = match answer {
                    Ok(r) if r.status() == StatusCode::OK => return true,
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(e) => format!("error ({e})"),
                };
                if let Ok(mut counts) = refusals.lock() {
                    *counts.entry(refused).or_default() += 1;
                }
                false
            }
        })
        .await
    };
    let refusals = refusals.lock().map(|r| r.clone()).unwrap_or_default();

    // 5. The floor of the HTTP exchange alone: the same clients, the same
    //    server, an address answered 404 with no work.
    eprintln!("load ldap: 5. HTTP floor (404, no work)");
    let http_floor = {
        let (http, url) = (http.clone(), server.url("/api/nothing-here"));
        measured(pids, clients, secs, move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                match http.get(&url).send().await {
                    Ok(r) if r.status() == StatusCode::NOT_FOUND => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
    };
    drop(server);
    let pids = Pids {
        server: None,
        ..pids
    };

    // 2. Raw simple binds, one persistent connection per client.
    eprintln!("load ldap: 2. raw simple binds, persistent connections");
    let raw = {
        let (conns, users) = (connections(&url, clients, false).await?, users.clone());
        measured(pids, clients, secs, move |w, n| {
            let (conns, users) = (conns.clone(), users.clone());
            async move {
                let (u, p) = person(&users, clients, w, n);
                let mut ldap = conns[w].lock().await;
                matches!(ldap.simple_bind(&user_dn(u), p).await, Ok(r) if r.rc == 0)
            }
        })
        .await
    };

    // 3. Raw connect + bind + unbind per operation.
    eprintln!("load ldap: 3. raw connect + bind + unbind");
    let connect_bind = {
        let (url, users) = (url.clone(), users.clone());
        measured(pids, clients, secs, move |w, n| {
            let (url, users) = (url.clone(), users.clone());
            async move {
                let (u, p) = person(&users, clients, w, n);
                let Ok(mut ldap) = connect(&url).await else {
                    return false;
                };
                let ok = matches!(ldap.simple_bind(&user_dn(u), p).await, Ok(r) if r.rc == 0);
                let _ = ldap.unbind().await;
                ok
            }
        })
        .await
    };

    // 4. The directory's share of one sign-in: search as the service, then
    //    connect + bind + unbind as the user.
    eprintln!("load ldap: 4. raw search + connect + bind + unbind");
    let directory_work = {
        let (conns, url, users) = (
            connections(&url, clients, true).await?,
            url.clone(),
            users.clone(),
        );
        measured(pids, clients, secs, move |w, n| {
            let (conns, url, users) = (conns.clone(), url.clone(), users.clone());
            async move {
                let (u, p) = person(&users, clients, w, n);
                let found = {
                    let mut service = conns[w].lock().await;
                    service
                        .search(
                            PEOPLE_DN,
                            Scope::Subtree,
                            &format!("(&(objectClass=inetOrgPerson)(uid={u}))"),
                            vec![
                                "uid",
                                "cn",
                                "mail",
                                "entryUUID",
                                "pwdAccountLockedTime",
                                "pwdReset",
                            ],
                        )
                        .await
                };
                if !matches!(found, Ok(ref r) if r.1.rc == 0 && r.0.len() == 1) {
                    return false;
                }
                let Ok(mut ldap) = connect(&url).await else {
                    return false;
                };
                let ok = matches!(ldap.simple_bind(&user_dn(u), p).await, Ok(r) if r.rc == 0);
                let _ = ldap.unbind().await;
                ok
            }
        })
        .await
    };

    print(
        clients,
        secs,
        &[
            ("1. sign-ins through Latchkey (HTTP)", &signins, true),
            ("2. raw simple binds, persistent connections", &raw, false),
            ("3. raw connect + bind + unbind", &connect_bind, false),
            (
                "4. raw search + connect + bind + unbind (the directory's share of a sign-in)",
                &directory_work,
                false,
            ),
            (
                "5. HTTP floor: GET answered 404 with no work, same server",
                &http_floor,
                true,
            ),
        ],
    );
    if !refusals.is_empty() {
        println!("sign-ins not answered 200, by status: {refusals:?}");
    }
    Ok(())
}

fn print(clients: usize, secs: u64, rows: &[(&str, &Figure, bool)]) {
    println!("| measure ({clients} clients, {secs} s each) | per second | p50 / p99 ms | failed | CPU ms per op: server / slapd / load client |");
    println!("|---|---|---|---|---|");
    for (name, f, server) in rows {
        let server_cpu = if *server {
            format!("{:.2}", f.cpu_ms.0)
        } else {
            "–".to_owned()
        };
        println!(
            "| {name} | {:.0} | {:.1} / {:.1} | {} | {server_cpu} / {:.2} / {:.2} |",
            f.per_sec, f.p50_ms, f.p99_ms, f.failed, f.cpu_ms.1, f.cpu_ms.2
        );
    }
    let rate = |i: usize| {
        rows.get(i)
            .map_or(0.0, |r| r.1.per_sec)
            .max(f64::MIN_POSITIVE)
    };
    let ratio = rate(0) / rate(1);
    println!();
    println!(
        "ratio sign-ins / raw binds: {ratio:.2} (goal >= 0.8: {}); sign-ins / (4.): {:.2}; \
         sign-ins / (5.): {:.2}",
        super::verdict(ratio >= 0.8),
        rate(0) / rate(3),
        rate(0) / rate(4)
    );
}
