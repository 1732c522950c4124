//! Latchkey's load harness: starts the release server on SQLite and on
//! PostgreSQL and prints one table of figures against the goals of
//! `docs/performance.md`. Run it with `./x load`; it is never part of the
//! test command. `load ldap` measures a directory-backed domain instead
//! (see `ldap.rs` beside this file).

mod ldap;
mod spray;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use latchkey_e2e::{Server, TempDir};
use latchkey_shared::api::{paths, SignInRequest, CSRF_HEADER};
use latchkey_testkit::postgres;
use reqwest::StatusCode;

const USERS: usize = 16;

struct Target {
    name: &'static str,
    server: Server,
    passwords: Vec<(String, String)>,
    /// The server's static directory: a page and, for measure 4, the copy of
    /// the bootstrap answer. The harness's own, so a load run never writes
    /// into `client/dist` (which a concurrent trunk build may be replacing).
    static_dir: TempDir,
    _dir: Option<TempDir>,
}

fn cli(db_url: &str, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(latchkey_e2e::server_binary()?)
        .args(args)
        .env("SSPM_DATABASE_URL", db_url)
        .env("RUST_LOG", "error")
        .output()?;
    ensure!(
        out.status.success(),
        "latchkey {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn start(name: &'static str, db_url: String, dir: Option<TempDir>) -> Result<Target> {
    cli(
        &db_url,
        &[
            "domain", "create", "--slug", "partners", "--name", "Partners",
        ],
    )?;
    let mut passwords = Vec::new();
    for i in 0..USERS {
        let user = format!("user{i}");
        let pw = cli(
            &db_url,
            &[
                "user",
                "create",
                "--domain",
                "partners",
                "--username",
                &user,
                "--display-name",
                &user,
            ],
        )?;
        passwords.push((user, pw));
    }
    let static_dir = TempDir::new("lk-load-static")?;
    std::fs::write(
        static_dir.path().join("index.html"),
        "<!doctype html><title>Latchkey</title>\n",
    )?;
    let static_env = static_dir.path().display().to_string();
    // The server's own defaults otherwise (hash permits = cores, queue 32 ×
    // permits). `LOAD_SERVER_LOG=info` measures with the default log level.
    let log = std::env::var("LOAD_SERVER_LOG").unwrap_or_else(|_| "error".into());
    let server = Server::start(
        &db_url,
        &[("RUST_LOG", &log), ("SSPM_STATIC_DIR", &static_env)],
    )?;
    Ok(Target {
        name,
        server,
        passwords,
        static_dir,
        _dir: dir,
    })
}

fn sign_in_body(user: &str, password: &str) -> SignInRequest {
    SignInRequest {
        domain: "partners".into(),
        username: user.into(),
        password: password.into(),
    }
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
    (
        ok.load(Ordering::Relaxed) as f64 / elapsed,
        all,
        bad.load(Ordering::Relaxed),
    )
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
                    let v =
                        latchkey_server::password::verify_blocking("load-test-password-123", &hash);
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

/// CPU time (user + system, in clock ticks of 10 ms) of one `stat` file.
fn stat_ticks(path: &std::path::Path) -> u64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0;
    };
    // The command name may contain spaces; the fields after it do not.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    utime + stime
}

/// CPU ticks spent so far by the server's argon2 threads, by its other
/// threads, and by this load generator.
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    argon2: u64,
    server_other: u64,
    client: u64,
}

fn cpu_ticks(server_pid: u32) -> CpuTicks {
    let mut t = CpuTicks {
        client: stat_ticks(std::path::Path::new("/proc/self/stat")),
        ..CpuTicks::default()
    };
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{server_pid}/task")) {
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            let ticks = stat_ticks(&task.path().join("stat"));
            if comm.starts_with("argon2-") {
                t.argon2 += ticks;
            } else {
                t.server_other += ticks;
            }
        }
    }
    t
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

type Answer = (Option<u16>, bool, Duration);
type Burst = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Answer>>>>>;

/// Opens one connection per request, then returns a function that fires
/// every request at once (each already-prepared bytes on its own socket) and
/// collects, per request, the status, whether a Retry-After header came with
/// it, and the time from the release of the burst to the end of the answer's
/// headers. The sockets are opened first so the burst does not include 1000
/// TCP handshakes on the same saturated cores.
async fn burst(
    addr: std::net::SocketAddr,
    requests: Vec<String>,
) -> Result<impl FnOnce() -> Burst> {
    let mut sockets = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(100) {
        let opening: Vec<_> = chunk
            .iter()
            .map(|_| tokio::spawn(tokio::net::TcpStream::connect(addr)))
            .collect();
        for o in opening {
            let socket = o.await?.context("opening the burst's connections")?;
            socket.set_nodelay(true)?;
            sockets.push(socket);
        }
    }
    let (go_tx, go_rx) = tokio::sync::watch::channel(None::<Instant>);
    let tasks: Vec<_> = sockets
        .into_iter()
        .zip(requests)
        .map(|(mut socket, request)| {
            let mut go = go_rx.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let released = match go.wait_for(Option::is_some).await {
                    Ok(at) => at.unwrap_or_else(Instant::now),
                    Err(_) => Instant::now(),
                };
                if socket.write_all(request.as_bytes()).await.is_err() {
                    return (None, false, released.elapsed());
                }
                let mut head = Vec::with_capacity(512);
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return (None, false, released.elapsed()),
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let took = released.elapsed();
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok());
                (status, head.contains("\r\nretry-after:"), took)
            })
        })
        .collect();
    let go = move || -> Burst {
        Box::pin(async move {
            // Let every task reach its wait before the burst.
            tokio::time::sleep(Duration::from_millis(200)).await;
            go_tx.send_replace(Some(Instant::now()));
            let mut answers = Vec::with_capacity(tasks.len());
            for t in tasks {
                answers.push(t.await?);
            }
            Ok(answers)
        })
    };
    Ok(go)
}

/// Which measures to run: `LOAD_ONLY=1,5` runs measures 1 and 5 (all by
/// default); the others print as "skipped".
#[derive(Clone)]
struct Only(Option<Vec<u32>>);

impl Only {
    fn from_env() -> Self {
        Only(
            std::env::var("LOAD_ONLY")
                .ok()
                .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect()),
        )
    }
    fn wants(&self, measure: u32) -> bool {
        self.0.as_ref().is_none_or(|v| v.contains(&measure))
    }
}

struct Throughput {
    signin_per_sec: f64,
    raw_per_sec: f64,
    /// CPU milliseconds per successful sign-in: server argon2 threads,
    /// server other threads, this load generator.
    cpu_ms: (f64, f64, f64),
}

struct Flood {
    base_mib: f64,
    peak_mib: f64,
    budget_mib: f64,
    n_503: u64,
    median_503_ms: f64,
    slowest_503_ms: f64,
    /// The same burst answered with a 404 and no work.
    floor_median_ms: f64,
    floor_slowest_ms: f64,
}

struct SyncRates {
    r304: f64,
    r200: f64,
    static_file: f64,
}

struct Attack {
    idle_p99_ms: f64,
    attack_p99_ms: f64,
    /// Legitimate sign-ins under attack that did not succeed (e.g. 503).
    legit_refused: u64,
    /// Attack requests per second while the legitimate user signed in, and
    /// how many of them were answered with something else than 423.
    attack_per_sec: f64,
    attack_not_423: u64,
}

#[derive(Default)]
struct Row {
    backend: &'static str,
    throughput: Option<Throughput>,
    flood: Option<Flood>,
    locked_per_sec: Option<f64>,
    sync: Option<SyncRates>,
    attack: Option<Attack>,
}

async fn measure(t: &Target, secs: u64, only: &Only) -> Result<Row> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let http = client();
    let url = t.server.url(paths::SESSION);
    let pid = t.server.pid();
    let users = Arc::new(t.passwords.clone());
    let mut row = Row {
        backend: t.name,
        ..Row::default()
    };

    // 1. Sign-in throughput at saturation vs raw argon2 on the same cores.
    if only.wants(1) {
        let before = cpu_ticks(pid);
        let (signin_per_sec, ok) = {
            let (http, url, users) = (http.clone(), url.clone(), users.clone());
            let (rate, lat, _) = saturate(cores * 4, secs, move |w, n| {
                let (http, url, users) = (http.clone(), url.clone(), users.clone());
                async move {
                    let (u, p) = &users[(w + n as usize) % users.len()];
                    matches!(http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body(u, p)).send().await,
                             Ok(r) if r.status() == StatusCode::OK)
                }
            })
            .await;
            (rate, lat.len() as f64)
        };
        let after = cpu_ticks(pid);
        let per = |a: u64, b: u64| (a.saturating_sub(b)) as f64 * 10.0 / ok.max(1.0);
        let cpu_ms = (
            per(after.argon2, before.argon2),
            per(after.server_other, before.server_other),
            per(after.client, before.client),
        );
        let raw_per_sec =
            tokio::task::spawn_blocking(move || raw_argon2_per_sec(cores, secs)).await??;
        row.throughput = Some(Throughput {
            signin_per_sec,
            raw_per_sec,
            cpu_ms,
        });
    }

    // 2. Memory under a flood of 1000 concurrent sign-ins, and how fast the
    //    excess is refused. The 1000 connections are opened before the
    //    burst, and each request is written as prepared bytes on a plain
    //    socket, the answer read up to the end of its headers: the client's
    //    share of these same two cores is a write and a read per request, not
    //    a TCP handshake and an HTTP client's work. Timed from the release of
    //    the burst; a 503 counts only with its Retry-After header.
    if only.wants(2) {
        let base_kib = proc_kib(pid, "VmRSS:")?;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], t.server.port));
        let requests = (0..1000)
            .map(|i| {
                let body = serde_json::to_string(&sign_in_body(&format!("flood{i}"), "wrong-password-wrong")).unwrap_or_default();
                format!(
                    "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{CSRF_HEADER}: 1\r\nContent-Length: {}\r\n\r\n{body}",
                    paths::SESSION,
                    body.len()
                )
            })
            .collect();
        let go = burst(addr, requests).await?;
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
        let mut lat_503 = Vec::new();
        for (status, retry_after, took) in go().await? {
            if status == Some(503) && retry_after {
                lat_503.push(took);
            }
        }
        sampler.0.store(true, Ordering::Relaxed);
        let peak_kib = base_kib.max(sampler.1.join().unwrap_or(0));
        let budget_kib = base_kib + cores as u64 * 19_456 + 64 * 1024;

        // The floor: the same burst to an address that answers 404 with no
        // work at all, i.e. what 1000 requests and answers cost on these
        // cores by themselves.
        let requests = (0..1000)
            .map(|_| format!("GET /api/nothing-here HTTP/1.1\r\nHost: {addr}\r\n\r\n"))
            .collect();
        let go = burst(addr, requests).await?;
        let mut lat_404: Vec<Duration> = go()
            .await?
            .into_iter()
            .filter(|(s, _, _)| *s == Some(404))
            .map(|(_, _, took)| took)
            .collect();

        lat_503.sort();
        lat_404.sort();
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let mib = |k: u64| k as f64 / 1024.0;
        row.flood = Some(Flood {
            base_mib: mib(base_kib),
            peak_mib: mib(peak_kib),
            budget_mib: mib(budget_kib),
            n_503: lat_503.len() as u64,
            median_503_ms: ms(lat_503.get(lat_503.len() / 2)),
            slowest_503_ms: ms(lat_503.last()),
            floor_median_ms: ms(lat_404.get(lat_404.len() / 2)),
            floor_slowest_ms: ms(lat_404.last()),
        });
    }

    // 3. Requests per second against an already-locked account.
    if only.wants(3) {
        for _ in 0..6 {
            http.post(&url)
                .header(CSRF_HEADER, "1")
                .json(&sign_in_body("user0", "wrong-wrong-wrong"))
                .send()
                .await?;
        }
        let (http, url) = (http.clone(), url.clone());
        let (locked_per_sec, _, _) = saturate(cores * 8, secs, move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                matches!(http.post(&url).header(CSRF_HEADER, "1").json(&sign_in_body("user0", "wrong-wrong-wrong")).send().await,
                         Ok(r) if r.status() == StatusCode::LOCKED)
            }
        })
        .await;
        row.locked_per_sec = Some(locked_per_sec);
    }

    // 4. The sync endpoint, with and without If-None-Match, against a static
    //    file of the same bytes served by the same server.
    if only.wants(4) {
        let first = http.get(t.server.url(paths::BOOTSTRAP)).send().await?;
        let etag = first
            .headers()
            .get(reqwest::header::ETAG)
            .context("bootstrap ETag")?
            .to_str()?
            .to_string();
        let bytes = first.bytes().await?;
        let static_path = t.static_dir.path().join("load-bootstrap-copy.json");
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
        let r304 = get_rate(
            paths::BOOTSTRAP.into(),
            Some(etag),
            StatusCode::NOT_MODIFIED,
        )
        .await;
        let r200 = get_rate(paths::BOOTSTRAP.into(), None, StatusCode::OK).await;
        let static_file = get_rate("/load-bootstrap-copy.json".into(), None, StatusCode::OK).await;
        let _ = std::fs::remove_file(&static_path);
        row.sync = Some(SyncRates {
            r304,
            r200,
            static_file,
        });
    }

    // 5. One user's sign-in p99, idle and while 200 clients hammer other
    //    accounts with wrong passwords.
    if only.wants(5) {
        let (legit_user, legit_pw) = t.passwords[1].clone();
        // The legitimate user runs on a thread and event loop of their own:
        // a real user does not share the attackers' client, so their
        // requests must not wait behind 200 attacker tasks in this
        // generator's runtime. They still share the two cores.
        let legit = |url: String, rounds: usize| {
            let (u, p) = (legit_user.clone(), legit_pw.clone());
            let (done, result) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("legit runtime");
                let http = client();
                let out = rt.block_on(async move {
                    // A refused sign-in (e.g. a 503) is no sample, but counted.
                    let mut lat = Vec::new();
                    let mut refused = 0u64;
                    for _ in 0..rounds {
                        let t0 = Instant::now();
                        let r = http
                            .post(&url)
                            .header(CSRF_HEADER, "1")
                            .json(&sign_in_body(&u, &p))
                            .send()
                            .await;
                        if matches!(r, Ok(ref r) if r.status() == StatusCode::OK) {
                            lat.push(t0.elapsed());
                        } else {
                            refused += 1;
                        }
                    }
                    (lat, refused)
                });
                let _ = done.send(out);
            });
            async move { result.await.unwrap_or_default() }
        };
        let (idle, _) = legit(url.clone(), 100).await;
        let idle_p99 = p99(idle);
        let stop = Arc::new(AtomicBool::new(false));
        let attack_locked = Arc::new(AtomicU64::new(0));
        let attack_other = Arc::new(AtomicU64::new(0));
        // One bit per victim account, set once it answers 423.
        let victims_locked = Arc::new(AtomicU64::new(0));
        let victims = users.len() - 2;
        let attackers: Vec<_> = (0..200)
            .map(|i| {
                let (http, url, stop, users) = (client(), url.clone(), stop.clone(), users.clone());
                let (locked, other) = (attack_locked.clone(), attack_other.clone());
                let victims_locked = victims_locked.clone();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        // Every account but the legitimate user's (index 1).
                        let victim = &users[2 + i % victims].0;
                        let r = http
                            .post(&url)
                            .header(CSRF_HEADER, "1")
                            .json(&sign_in_body(victim, "attack-attack-attack"))
                            .send()
                            .await;
                        if matches!(r, Ok(ref r) if r.status() == StatusCode::LOCKED) {
                            locked.fetch_add(1, Ordering::Relaxed);
                            victims_locked.fetch_or(1 << (i % victims), Ordering::Relaxed);
                        } else {
                            other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        // The goal is about accounts that are already locked: wait until every
        // victim answers 423 and the attempts that locked them (five each,
        // each an argon2 verification still queued when the lock was set)
        // have been answered, i.e. no answer but 423 for a while.
        let all_locked = (1u64 << victims) - 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        while victims_locked.load(Ordering::Relaxed) != all_locked && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        loop {
            let before = attack_other.load(Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(300)).await;
            if attack_other.load(Ordering::Relaxed) == before || Instant::now() >= deadline {
                break;
            }
        }
        let (locked0, other0) = (
            attack_locked.load(Ordering::Relaxed),
            attack_other.load(Ordering::Relaxed),
        );
        let t_attack = Instant::now();
        let (under_attack, refused) = legit(url.clone(), 100).await;
        let attack_secs = t_attack.elapsed().as_secs_f64();
        let attack_p99 = p99(under_attack);
        let locked_n = attack_locked.load(Ordering::Relaxed) - locked0;
        let other_n = attack_other.load(Ordering::Relaxed) - other0;
        stop.store(true, Ordering::Relaxed);
        for a in attackers {
            let _ = a.await;
        }
        row.attack = Some(Attack {
            idle_p99_ms: idle_p99.as_secs_f64() * 1000.0,
            attack_p99_ms: attack_p99.as_secs_f64() * 1000.0,
            legit_refused: refused,
            attack_per_sec: (locked_n + other_n) as f64 / attack_secs,
            attack_not_423: other_n,
        });
    }
    Ok(row)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn print(rows: &[Row]) {
    println!(
        "| measure | goal | {} |",
        rows.iter()
            .map(|r| r.backend)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|{}", "---|".repeat(rows.len()));
    let line = |name: &str, goal: &str, f: &dyn Fn(&Row) -> Option<String>| {
        let cells: Vec<String> = rows
            .iter()
            .map(|r| f(r).unwrap_or_else(|| "skipped".into()))
            .collect();
        println!("| {name} | {goal} | {} |", cells.join(" | "));
    };
    line("1. sign-ins/s at saturation", "", &|r| {
        r.throughput
            .as_ref()
            .map(|t| format!("{:.1}", t.signin_per_sec))
    });
    line("   raw argon2 verifications/s, same cores", "", &|r| {
        r.throughput
            .as_ref()
            .map(|t| format!("{:.1}", t.raw_per_sec))
    });
    line("   ratio", ">= 0.9", &|r| {
        r.throughput.as_ref().map(|t| {
            let x = t.signin_per_sec / t.raw_per_sec;
            format!("{x:.2} ({})", verdict(x >= 0.9))
        })
    });
    line(
        "   CPU ms per sign-in: argon2 / rest of server / load client",
        "",
        &|r| {
            r.throughput
                .as_ref()
                .map(|t| format!("{:.1} / {:.1} / {:.1}", t.cpu_ms.0, t.cpu_ms.1, t.cpu_ms.2))
        },
    );
    line(
        "2. RSS base → peak under 1000 concurrent sign-ins (MiB)",
        "<= base + permits×19 MiB + 64",
        &|r| {
            r.flood.as_ref().map(|f| {
                format!(
                    "{:.0} → {:.0} (budget {:.0}, {})",
                    f.base_mib,
                    f.peak_mib,
                    f.budget_mib,
                    verdict(f.peak_mib <= f.budget_mib)
                )
            })
        },
    );
    line(
        "   503 answers; median, slowest 503 after the burst (ms)",
        "<= 50 ms",
        &|r| {
            r.flood.as_ref().map(|f| {
                format!(
                    "{}; {:.1}, {:.1} ({})",
                    f.n_503,
                    f.median_503_ms,
                    f.slowest_503_ms,
                    verdict(f.slowest_503_ms <= 50.0)
                )
            })
        },
    );
    line(
        "   floor: same burst answered 404 with no work; median, slowest (ms)",
        "",
        &|r| {
            r.flood
                .as_ref()
                .map(|f| format!("{:.1}, {:.1}", f.floor_median_ms, f.floor_slowest_ms))
        },
    );
    line(
        "3. requests/s on a locked account",
        ">= 50 × sign-ins/s",
        &|r| {
            r.locked_per_sec.map(|l| match &r.throughput {
                Some(t) => {
                    let x = l / t.signin_per_sec;
                    format!("{l:.0} ({x:.0}×, {})", verdict(x >= 50.0))
                }
                None => format!("{l:.0}"),
            })
        },
    );
    line(
        "4. sync 304 / 200 / static same bytes (req/s)",
        "each >= 0.5 × static",
        &|r| {
            r.sync.as_ref().map(|s| {
                format!(
                    "{:.0} / {:.0} / {:.0} ({})",
                    s.r304,
                    s.r200,
                    s.static_file,
                    verdict(s.r304.min(s.r200) >= 0.5 * s.static_file)
                )
            })
        },
    );
    line(
        "5. legit p99 idle → under attack (ms)",
        "ratio <= 3",
        &|r| {
            r.attack.as_ref().map(|a| {
                let x = a.attack_p99_ms / a.idle_p99_ms.max(0.001);
                let ok = x <= 3.0 && a.legit_refused == 0;
                format!(
                    "{:.0} → {:.0} ({x:.1}×, {})",
                    a.idle_p99_ms,
                    a.attack_p99_ms,
                    verdict(ok)
                )
            })
        },
    );
    line(
        "   legit sign-ins refused under attack; attack req/s (not 423)",
        "0 refused",
        &|r| {
            r.attack.as_ref().map(|a| {
                format!(
                    "{} of 100; {:.0} ({})",
                    a.legit_refused, a.attack_per_sec, a.attack_not_423
                )
            })
        },
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let secs: Option<u64> = std::env::var("LOAD_SECS").ok().and_then(|s| s.parse().ok());
    let which = std::env::args().nth(1).unwrap_or_else(|| "both".into());
    if which == "ldap" {
        return ldap::run(secs.unwrap_or(20)).await;
    }
    if which == "spray" {
        return spray::measure(secs.unwrap_or(120)).await;
    }
    let secs = secs.unwrap_or(5);
    let only = Only::from_env();
    if !matches!(which.as_str(), "sqlite" | "postgres" | "both") {
        bail!("usage: load [sqlite|postgres|both|ldap|spray]");
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    eprintln!(
        "load: {cores} cores, {secs} s per measure, binary {}",
        latchkey_e2e::server_binary()?.display()
    );
    let mut rows = Vec::new();
    if which != "postgres" {
        let dir = TempDir::new("lk-load")?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
        let t = start("SQLite", url, Some(dir))?;
        eprintln!("load: measuring SQLite");
        rows.push(measure(&t, secs, &only).await?);
    }
    if which != "sqlite" {
        let url = postgres::create_database().await;
        let t = start("PostgreSQL", url, None)?;
        eprintln!("load: measuring PostgreSQL");
        rows.push(measure(&t, secs, &only).await?);
    }
    print(&rows);
    Ok(())
}
