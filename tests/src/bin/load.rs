//! Latchkey's load harness: starts the release server on SQLite and on
//! PostgreSQL and prints one table of figures against the goals of
//! `docs/performance.md`. Run it with `./x load`; it is never part of the
//! test command.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use latchkey_e2e::{pg, Server, TempDir};
use latchkey_shared::api::{paths, SignInRequest, CSRF_HEADER};
use reqwest::StatusCode;

const USERS: usize = 16;

struct Target {
    name: &'static str,
    server: Server,
    passwords: Vec<(String, String)>,
    _dir: Option<TempDir>,
}

fn cli(db_url: &str, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(latchkey_e2e::server_binary()?)
        .args(args)
        .env("SSPM_DATABASE_URL", db_url)
        .env("RUST_LOG", "error")
        .output()?;
    ensure!(out.status.success(), "latchkey {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn start(name: &'static str, db_url: String, dir: Option<TempDir>) -> Result<Target> {
    cli(&db_url, &["domain", "create", "--slug", "partners", "--name", "Partners"])?;
    let mut passwords = Vec::new();
    for i in 0..USERS {
        let user = format!("user{i}");
        let pw = cli(&db_url, &["user", "create", "--domain", "partners", "--username", &user, "--display-name", &user])?;
        passwords.push((user, pw));
    }
    // Flood test: a generous queue so the figure shows memory, not refusals.
    let server = Server::start(&db_url, &[("RUST_LOG", "error")])?;
    Ok(Target { name, server, passwords, _dir: dir })
}

fn sign_in_body(user: &str, password: &str) -> SignInRequest {
    SignInRequest { domain: "partners".into(), username: user.into(), password: password.into() }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client")
}

/// Runs `concurrency` loops of `request` for `secs`; returns (ok per second, statuses).
async fn saturate<F, Fut>(concurrency: usize, secs: u64, request: F) -> (f64, Vec<Duration>, u64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (request, stop, ok, bad) = (request.clone(), stop.clone(), ok.clone(), bad.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if request(worker, n).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                    lat.push(t.elapsed());
                } else {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    (ok.load(Ordering::Relaxed) as f64 / elapsed, all, bad.load(Ordering::Relaxed))
}

/// Raw argon2 verifications per second on `threads` threads, same parameters.
fn raw_argon2_per_sec(threads: usize, secs: u64) -> Result<f64> {
    let hash = latchkey_server::password::hash_blocking("load-test-password-123")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, hash) = (stop.clone(), count.clone(), hash.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let v = latchkey_server::password::verify_blocking("load-test-password-123", &hash);
                    assert!(v.matched);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

fn proc_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} of {pid}"))
}

fn p99(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

struct Row {
    backend: &'static str,
    signin_per_sec: f64,
    raw_per_sec: f64,
    base_mib: f64,
    peak_mib: f64,
    budget_mib: f64,
    flood_503: u64,
    slowest_503_ms: f64,
    locked_per_sec: f64,
    sync_304: f64,
    sync_200: f64,
    static_file: f64,
    idle_p99_ms: f64,
    attack_p99_ms: f64,
}

async fn measure(t: &Target, secs: u64) -> Result<Row> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let http = client();
    let url = t.server.url(paths::SESSION);

    // 1. Sign-in throughput at saturation vs raw argon2 on the same cores.
    let users = Arc::new(t.passwords.clone());
    let (signin_per_sec, _, _) = {
        let (http, url, users) = (http.clone(), url.clone(), users.clone());
        saturate(cores * 4, secs, move |w, n| {
            let (http, url, users) = (http.clone(), url.clone(), users.clone());
            async move {
                let (u, p) = &users[(w + n as usize) % users.len()];
                matches!(http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body(u, p)).send().await,
                         Ok(r) if r.status() == StatusCode::OK)
            }
        })
        .await
    };
    let raw_per_sec = tokio::task::spawn_blocking(move || raw_argon2_per_sec(cores, secs)).await??;

    // 2. Memory under a flood of 1000 concurrent sign-ins.
    let pid = t.server.pid();
    let base_kib = proc_kib(pid, "VmRSS:")?;
    let flood: Vec<_> = (0..1000)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let t0 = Instant::now();
                let body = sign_in_body(&format!("flood{i}"), "wrong-password-wrong");
                let r = http.post(&url).header(CSRF_HEADER, "1").json(&body).send().await;
                (r.map(|r| r.status()).ok(), t0.elapsed())
            })
        })
        .collect();
    let mut peak_kib = base_kib;
    let mut flood_503 = 0;
    let mut slowest_503 = Duration::ZERO;
    let sampler = {
        let done = Arc::new(AtomicBool::new(false));
        let d2 = done.clone();
        let h = std::thread::spawn(move || {
            let mut peak = 0;
            while !d2.load(Ordering::Relaxed) {
                peak = peak.max(proc_kib(pid, "VmRSS:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        (done, h)
    };
    for f in flood {
        let (status, took) = f.await?;
        if status == Some(StatusCode::SERVICE_UNAVAILABLE) {
            flood_503 += 1;
            slowest_503 = slowest_503.max(took);
        }
    }
    sampler.0.store(true, Ordering::Relaxed);
    peak_kib = peak_kib.max(sampler.1.join().unwrap_or(0));
    let budget_kib = base_kib + cores as u64 * 19_456 + 64 * 1024;

    // 3. Requests per second against an already-locked account.
    for _ in 0..6 {
        http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body("user0", "wrong-wrong-wrong")).send().await?;
    }
    let (locked_per_sec, _, _) = {
        let (http, url) = (http.clone(), url.clone());
        saturate(cores * 8, secs, move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                matches!(http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body("user0", "wrong-wrong-wrong")).send().await,
                         Ok(r) if r.status() == StatusCode::LOCKED)
            }
        })
        .await
    };

    // 4. The sync endpoint, with and without If-None-Match, against a static
    //    file of the same bytes served by the same server.
    let first = http.get(t.server.url(paths::BOOTSTRAP)).send().await?;
    let etag = first.headers().get(reqwest::header::ETAG).context("bootstrap ETag")?.to_str()?.to_string();
    let bytes = first.bytes().await?;
    let static_path = latchkey_e2e::dist_dir()?.join("load-bootstrap-copy.json");
    std::fs::write(&static_path, &bytes)?;
    let get_rate = |path: String, etag: Option<String>, want: StatusCode| {
        let http = http.clone();
        let url = t.server.url(&path);
        async move {
            saturate(cores * 8, secs, move |_, _| {
                let (http, url, etag) = (http.clone(), url.clone(), etag.clone());
                async move {
                    let mut rq = http.get(&url);
                    if let Some(e) = etag {
                        rq = rq.header(reqwest::header::IF_NONE_MATCH, e);
                    }
                    match rq.send().await {
                        Ok(r) if r.status() == want => r.bytes().await.is_ok(),
                        _ => false,
                    }
                }
            })
            .await
            .0
        }
    };
    let sync_304 = get_rate(paths::BOOTSTRAP.into(), Some(etag), StatusCode::NOT_MODIFIED).await;
    let sync_200 = get_rate(paths::BOOTSTRAP.into(), None, StatusCode::OK).await;
    let static_file = get_rate("/load-bootstrap-copy.json".into(), None, StatusCode::OK).await;
    let _ = std::fs::remove_file(&static_path);

    // 5. One user's sign-in p99, idle and while 200 clients hammer other
    //    accounts with wrong passwords.
    let (legit_user, legit_pw) = t.passwords[1].clone();
    let legit = |http: reqwest::Client, url: String, rounds: usize| {
        let (u, p) = (legit_user.clone(), legit_pw.clone());
        async move {
            let mut lat = Vec::new();
            for _ in 0..rounds {
                let t0 = Instant::now();
                let r = http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body(&u, &p)).send().await;
                if matches!(r, Ok(ref r) if r.status() == StatusCode::OK) {
                    lat.push(t0.elapsed());
                }
            }
            lat
        }
    };
    let idle_p99 = p99(legit(http.clone(), url.clone(), 100).await);
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = (0..200)
        .map(|i| {
            let (http, url, stop, users) = (client(), url.clone(), stop.clone(), users.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    // Every account but the legitimate user's (index 1).
                    let victim = &users[2 + i % (users.len() - 2)].0;
                    let _ = http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body(victim, "attack-attack-attack")).send().await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let attack_p99 = p99(legit(http.clone(), url.clone(), 100).await);
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }

    let mib = |k: u64| k as f64 / 1024.0;
    Ok(Row {
        backend: t.name,
        signin_per_sec,
        raw_per_sec,
        base_mib: mib(base_kib),
        peak_mib: mib(peak_kib),
        budget_mib: mib(budget_kib),
        flood_503,
        slowest_503_ms: slowest_503.as_secs_f64() * 1000.0,
        locked_per_sec,
        sync_304,
        sync_200,
        static_file,
        idle_p99_ms: idle_p99.as_secs_f64() * 1000.0,
        attack_p99_ms: attack_p99.as_secs_f64() * 1000.0,
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn print(rows: &[Row]) {
    println!("| measure | goal | {} |", rows.iter().map(|r| r.backend).collect::<Vec<_>>().join(" | "));
    println!("|---|---|{}", "---|".repeat(rows.len()));
    let line = |name: &str, goal: &str, f: &dyn Fn(&Row) -> String| {
        println!("| {name} | {goal} | {} |", rows.iter().map(f).collect::<Vec<_>>().join(" | "));
    };
    line("1. sign-ins/s at saturation", "", &|r| format!("{:.1}", r.signin_per_sec));
    line("   raw argon2 verifications/s, same cores", "", &|r| format!("{:.1}", r.raw_per_sec));
    line("   ratio", ">= 0.9", &|r| { let x = r.signin_per_sec / r.raw_per_sec; format!("{x:.2} ({})", verdict(x >= 0.9)) });
    line("2. RSS base → peak under 1000 concurrent sign-ins (MiB)", "<= base + permits×19 MiB + 64", &|r| format!("{:.0} → {:.0} (budget {:.0}, {})", r.base_mib, r.peak_mib, r.budget_mib, verdict(r.peak_mib <= r.budget_mib)));
    line("   503 answers, slowest 503 (ms)", "<= 50 ms", &|r| format!("{}, {:.1} ({})", r.flood_503, r.slowest_503_ms, verdict(r.slowest_503_ms <= 50.0)));
    line("3. requests/s on a locked account", ">= 50 × sign-ins/s", &|r| { let x = r.locked_per_sec / r.signin_per_sec; format!("{:.0} ({x:.0}×, {})", r.locked_per_sec, verdict(x >= 50.0)) });
    line("4. sync 304 / 200 / static same bytes (req/s)", "each >= 0.5 × static", &|r| format!("{:.0} / {:.0} / {:.0} ({})", r.sync_304, r.sync_200, r.static_file, verdict(r.sync_304.min(r.sync_200) >= 0.5 * r.static_file)));
    line("5. legit p99 idle → under attack (ms)", "ratio <= 3", &|r| { let x = r.attack_p99_ms / r.idle_p99_ms.max(0.001); format!("{:.0} → {:.0} ({x:.1}×, {})", r.idle_p99_ms, r.attack_p99_ms, verdict(x <= 3.0)) });
}

#[tokio::main]
async fn main() -> Result<()> {
    let secs: u64 = std::env::var("LOAD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let which = std::env::args().nth(1).unwrap_or_else(|| "both".into());
    if !matches!(which.as_str(), "sqlite" | "postgres" | "both") {
        bail!("usage: load [sqlite|postgres|both]");
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!("load: {cores} cores, {secs} s per measure, binary {}", latchkey_e2e::server_binary()?.display());
    let mut rows = Vec::new();
    if which != "postgres" {
        let dir = TempDir::new("lk-load")?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
        let t = start("SQLite", url, Some(dir))?;
        eprintln!("load: measuring SQLite");
        rows.push(measure(&t, secs).await?);
    }
    if which != "sqlite" {
        let url = pg::create_database().await;
        let t = start("PostgreSQL", url, None)?;
        eprintln!("load: measuring PostgreSQL");
        rows.push(measure(&t, secs).await?);
    }
    print(&rows);
    Ok(())
}
