//! How the server serves connections: the deadlines a slow client meets
//! (the head of a request, an idle keep-alive connection, a body that does
//! not arrive), the cap on open connections, and the graceful stop (of the
//! library, and of `latchkey serve` on SIGTERM), with the mail sender
//! finishing the mail it is sending. The slow clients are raw sockets that
//! send exactly what a test says and nothing more.
//!
//! No timing is asserted beyond "not sooner than the deadline" (a lower
//! bound no load can break); "it happens" is waited for generously.

use std::process::Stdio;
use std::time::{Duration, Instant};

use latchkey_server::metrics::SlowClient;
use reqwest::StatusCode;
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::cli::{latchkey, run_ok};
use crate::helpers::{
    fresh_database, mail_config, spawn_app_with, spawn_stoppable_app_with, Backend, TestApp, STRONG,
};

/// How long "eventually" may take on a loaded machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

const METRICS_TOKEN: &str = "a-long-enough-metrics-token";

/// A request's head cut before its end: what a slow client sends.
pub(crate) const HALF_A_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";

pub(crate) async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the server accepts connections")
}

/// Everything the server sends until it closes the connection (a reset
/// counts as closed: a socket closed with unread bytes is reset).
pub(crate) async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
                Err(e) => panic!("reading failed: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the server did not close the connection; it sent {:?}",
            String::from_utf8_lossy(&received)
        )
    });
    received
}

/// One whole answer (head and `Content-Length` body) on a connection that
/// stays open.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        loop {
            let text = String::from_utf8_lossy(&received).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if received.len() >= end + 4 + length {
                    return text;
                }
            }
            let n = stream.read(&mut buf).await.expect("the answer");
            assert!(n > 0, "closed before the answer was whole: {text:?}");
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("an answer in time")
}

/// Waits until `check` holds.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < PATIENCE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the sample `name` (with its labels) in a metrics text.
fn sample(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

fn sign_in_body(username: &str, password: &str) -> String {
    serde_json::json!({"domain": "partners", "username": username, "password": password})
        .to_string()
}

fn post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_silent_connections_are_closed_after_the_header_read_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 3600;
    })
    .await;
    let started = Instant::now();
    let mut held = Vec::new();
    for i in 0..6 {
        let mut stream = connect(app.port).await;
        // One of them never says anything at all.
        if i > 0 {
            stream.write_all(HALF_A_HEAD).await.unwrap();
        }
        held.push(stream);
    }
    for stream in &mut held {
        let said = read_until_closed(stream).await;
        assert!(
            said.is_empty(),
            "closed without an answer: {:?}",
            String::from_utf8_lossy(&said)
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "not before the timeout"
    );
    let metrics = &app.state.metrics;
    assert_eq!(metrics.slow_clients_closed(SlowClient::Head), 6);
    assert_eq!(metrics.slow_clients_closed(SlowClient::Idle), 0);
    // The server serves on.
    let r = app.client.get(app.url("/api/health/live")).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widest_limits_serve_as_usual() {
    use latchkey_server::config::{MAX_CONNECTIONS, MAX_SERVING_SECS};
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.header_read_timeout_secs = MAX_SERVING_SECS;
        c.idle_timeout_secs = MAX_SERVING_SECS;
        c.body_timeout_secs = MAX_SERVING_SECS;
        c.shutdown_grace_secs = MAX_SERVING_SECS;
        c.max_connections = MAX_CONNECTIONS;
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let r = app.sign_in("partners", "jsmith", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_trickled_a_byte_at_a_time_is_closed_at_the_same_deadline() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.header_read_timeout_secs = 1).await;
    // About 25 seconds at the pace below: the deadline is long past first.
    let head = format!(
        "GET /api/health/live HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(200)
    );
    let mut stream = connect(app.port).await;
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    for byte in head.bytes() {
        if stream.write_all(&[byte]).await.is_err() {
            break;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => panic!("an answer: {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(_) => {} // still open
        }
    }
    assert!(
        sent < head.len(),
        "closed before the head was whole ({sent} of {} bytes)",
        head.len()
    );
    assert_eq!(app.state.metrics.slow_clients_closed(SlowClient::Head), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_one() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 2;
    })
    .await;
    let mut stream = connect(app.port).await;
    let asked = Instant::now();
    stream
        .write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let said = String::from_utf8(read_until_closed(&mut stream).await).unwrap();
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(
        asked.elapsed() >= Duration::from_secs(2),
        "kept open for idle_timeout_secs, not header_read_timeout_secs"
    );
    let metrics = &app.state.metrics;
    assert_eq!(metrics.slow_clients_closed(SlowClient::Idle), 1);
    assert_eq!(metrics.slow_clients_closed(SlowClient::Head), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_answer_is_closed_after_the_idle_timeout() {
    // More than the socket buffers of both ends hold.
    const SIZE: usize = 48 << 20;
    let dir =
        std::env::temp_dir().join(format!("latchkey-static-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big.bin"), vec![b'x'; SIZE]).unwrap();
    let static_dir = dir.clone();
    let app = spawn_app_with(Backend::Sqlite, move |c| {
        c.static_dir = static_dir;
        c.idle_timeout_secs = 1;
        c.header_read_timeout_secs = 600;
    })
    .await;
    let mut stream = connect(app.port).await;
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Not a byte read until the server gives up on this reader.
    let metrics = app.state.metrics.clone();
    eventually("the stalled answer is given up", || {
        metrics.slow_clients_closed(SlowClient::Reader) == 1
    })
    .await;
    let said = read_until_closed(&mut stream).await;
    assert!(said.starts_with(b"HTTP/1.1 200"));
    assert!(
        said.len() < SIZE,
        "cut before its end ({} bytes)",
        said.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_connections_a_new_connection_waits_until_one_closes() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.max_connections = 2;
        c.header_read_timeout_secs = 2;
        c.metrics_token = Some(METRICS_TOKEN.to_owned().into());
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(app.port).await;
        stream.write_all(HALF_A_HEAD).await.unwrap();
        held.push(stream);
    }
    let metrics = app.state.metrics.clone();
    eventually("both held connections are open", || {
        metrics.connections_open() == 2
    })
    .await;
    // The kernel takes this connection; the server only once a slot is
    // free, which only the header deadline of the two held ones frees.
    let text = app
        .client
        .get(app.url(latchkey_server::metrics::PATH))
        .bearer_auth(METRICS_TOKEN)
        .timeout(PATIENCE)
        .send()
        .await
        .expect("answered once a slot was free")
        .text()
        .await
        .unwrap();
    assert!(
        sample(&text, "latchkey_http_connections_open") <= 2,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "latchkey_http_slow_clients_closed_total{waiting_for=\"head\"}"
        ) >= 1,
        "served only after a held connection was closed: {text}"
    );
    assert!(sample(&text, "latchkey_http_connection_cap_waits_total") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_trickled_past_its_deadline_is_answered_408_and_its_connection_closed() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.body_timeout_secs = 1).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let body = sign_in_body("jsmith", STRONG);
    let mut stream = connect(app.port).await;
    stream
        .write_all(post_head(latchkey_shared::api::paths::SESSION, body.len()).as_bytes())
        .await
        .unwrap();
    // A byte every 100 ms: the body arrives, but too slowly in all.
    let mut sent = 0;
    let mut buf = [0u8; 4096];
    let mut said = Vec::new();
    for byte in body.bytes() {
        if stream.write_all(&[byte]).await.is_err() {
            break;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                said.extend_from_slice(&buf[..n]);
                break;
            }
            Ok(_) => break,
            Err(_) => {}
        }
    }
    assert!(sent < body.len(), "answered before the body was whole");
    said.extend(read_until_closed(&mut stream).await);
    let said = String::from_utf8(said).unwrap();
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("\"code\":\"request_timeout\""), "{said}");
    // Nothing was checked: no sign-in was recorded.
    assert!(!app
        .audit_events()
        .await
        .iter()
        .any(|e| e.is("sign_in", "success") || e.is("sign_in", "failure")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_sign_in_finishes_after_the_shutdown_signal_and_idle_or_half_sent_connections_do_not_wait(
) {
    let (app, mut stopper) = spawn_stoppable_app_with(Backend::Sqlite, |c| {
        c.shutdown_grace_secs = 600;
        c.header_read_timeout_secs = 600;
        c.idle_timeout_secs = 600;
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let body = sign_in_body("jsmith", STRONG);
    let (first, rest) = body.split_at(10);
    let mut sign_in = connect(app.port).await;
    sign_in
        .write_all(
            format!(
                "{}{first}",
                post_head(latchkey_shared::api::paths::SESSION, body.len())
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut half = connect(app.port).await;
    half.write_all(HALF_A_HEAD).await.unwrap();
    let mut idle = connect(app.port).await;
    idle.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_answer(&mut idle).await.starts_with("HTTP/1.1 200"));
    let metrics = app.state.metrics.clone();
    eventually("the sign-in is in flight", || {
        metrics.requests_in_flight() == 1 && metrics.connections_open() == 3
    })
    .await;

    stopper.signal();
    for stream in [&mut half, &mut idle] {
        assert!(read_until_closed(stream).await.is_empty());
    }
    let mut refused = false;
    while !refused {
        refused = TcpStream::connect(("127.0.0.1", app.port)).await.is_err();
        if !refused {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(
        !stopper.server().is_finished(),
        "the server waits for the sign-in"
    );

    sign_in.write_all(rest.as_bytes()).await.unwrap();
    let said = String::from_utf8(read_until_closed(&mut sign_in).await).unwrap();
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    let lower = said.to_ascii_lowercase();
    assert!(lower.contains("set-cookie: latchkey_session="), "{said}");
    assert!(lower.contains("connection: close"), "{said}");
    tokio::time::timeout(PATIENCE, stopper.server())
        .await
        .expect("the server stops once the sign-in is answered")
        .expect("the server's task")
        .expect("served without an error");
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.is("sign_in", "success")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_still_in_flight_at_the_end_of_the_grace_period_are_cut_and_the_server_stops() {
    let (app, mut stopper) = spawn_stoppable_app_with(Backend::Sqlite, |c| {
        c.shutdown_grace_secs = 1;
        c.body_timeout_secs = 600;
    })
    .await;
    let body = sign_in_body("jsmith", STRONG);
    let mut stalled = connect(app.port).await;
    stalled
        .write_all(post_head(latchkey_shared::api::paths::SESSION, body.len()).as_bytes())
        .await
        .unwrap();
    let metrics = app.state.metrics.clone();
    eventually("the request is in flight", || {
        metrics.requests_in_flight() == 1
    })
    .await;
    let signalled = Instant::now();
    stopper.signal();
    tokio::time::timeout(PATIENCE, stopper.server())
        .await
        .expect("the grace period bounds the stop")
        .unwrap()
        .unwrap();
    assert!(
        signalled.elapsed() >= Duration::from_secs(1),
        "waited the grace period"
    );
    assert!(read_until_closed(&mut stalled).await.is_empty());
}

/// Starts `latchkey serve` on `db_url` with `settings`; returns it and its
/// address (`http://…` or `https://…`) and its standard error's lines.
pub(crate) async fn start_serve(
    db_url: &str,
    settings: &[(&str, &str)],
) -> (
    tokio::process::Child,
    String,
    tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
) {
    let mut cmd = latchkey(db_url);
    cmd.arg("serve")
        .env("SSPM_LISTEN", "127.0.0.1:0")
        .env("SSPM_STATIC_DIR", "/nonexistent-latchkey-static")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in settings {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("latchkey serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(PATIENCE, async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("serve exited early");
            if let Some(addr) = line.strip_prefix("Latchkey listening on ") {
                return addr.to_owned();
            }
        }
    })
    .await
    .expect("serve printed its address");
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, address, stderr)
}

pub(crate) fn send_signal(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latchkey_serve_exits_0_on_sigterm_after_answering_the_sign_in_in_flight_without_waiting_for_a_half_sent_request(
) {
    let db = fresh_database(Backend::Sqlite).await;
    run_ok(latchkey(&db.url).args([
        "domain", "create", "--slug", "partners", "--name", "Partners",
    ]))
    .await;
    let temporary = run_ok(latchkey(&db.url).args([
        "user",
        "create",
        "--domain",
        "partners",
        "--username",
        "jdoe",
        "--display-name",
        "John Doe",
    ]))
    .await;
    let (mut child, address, _stderr) = start_serve(
        &db.url,
        &[
            ("SSPM_SHUTDOWN_GRACE_SECS", "600"),
            ("SSPM_HEADER_READ_TIMEOUT_SECS", "600"),
            ("SSPM_METRICS_TOKEN", METRICS_TOKEN),
        ],
    )
    .await;
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();

    let body = sign_in_body("jdoe", temporary.trim());
    let (first, rest) = body.split_at(10);
    let mut sign_in = connect(port).await;
    sign_in
        .write_all(
            format!(
                "{}{first}",
                post_head(latchkey_shared::api::paths::SESSION, body.len())
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut half = connect(port).await;
    half.write_all(HALF_A_HEAD).await.unwrap();
    // In flight: the sign-in, and the scrape itself.
    let scraper = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let text = scraper
            .get(format!("{address}{}", latchkey_server::metrics::PATH))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sample(&text, "latchkey_http_requests_in_flight") == 2 {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the sign-in never arrived: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(scraper);

    send_signal(&child, "-TERM");
    let signalled = Instant::now();
    assert!(
        read_until_closed(&mut half).await.is_empty(),
        "the half-sent request is closed at once"
    );
    sign_in.write_all(rest.as_bytes()).await.unwrap();
    let said = String::from_utf8(read_until_closed(&mut sign_in).await).unwrap();
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("exits long before its 600 s of grace")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < PATIENCE);
    // The stopped server's database, as the next start would find it.
    let pool = latchkey_server::db::Db::connect(&db.url)
        .await
        .unwrap()
        .pool;
    let signed_in: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'sign_in' AND result = 'success'",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(signed_in, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_shutdown_the_mail_sender_finishes_the_mail_it_is_sending_and_puts_the_others_back() {
    use latchkey_server::mail::{notices::Rendered, outbox};
    use latchkey_testkit::smtp::SmtpServer;
    use tokio::net::TcpListener;

    let smtp = SmtpServer::start();
    // Between Latchkey and the SMTP server: holds the first connection
    // until the test opens the gate, so the sender is mid-mail when told
    // to stop.
    let gate = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gate_port = gate.local_addr().unwrap().port();
    let (arrived, mut arrival) = tokio::sync::mpsc::channel::<()>(4);
    let open = std::sync::Arc::new(tokio::sync::Notify::new());
    let smtp_addr = (smtp.host().to_owned(), smtp.port());
    let opened = open.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = gate.accept().await {
            let _ = arrived.send(()).await;
            opened.notified().await;
            let mut outbound = TcpStream::connect(smtp_addr.clone()).await.unwrap();
            tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    let mut mail = mail_config(&smtp);
    mail.port = Some(gate_port);
    mail.timeout_secs = 60;
    let app: TestApp = spawn_app_with(Backend::Sqlite, move |c| c.mail = Some(mail)).await;
    let mut tx = app.state.db.pool.begin().await.unwrap();
    for i in 0..3 {
        let rendered = Rendered {
            subject: format!("Mail {i}"),
            text: "text".into(),
            html: "<p>html</p>".into(),
        };
        outbox::enqueue(
            &mut tx,
            "notice",
            &format!("user{i}@example.test"),
            &rendered,
            app.state.now(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let schedules = latchkey_server::state::background::Schedules::start(&app.state).unwrap();
    tokio::time::timeout(PATIENCE, arrival.recv())
        .await
        .expect("the sender connects to send the first mail");
    let stopped = tokio::spawn(schedules.stop(PATIENCE));
    open.notify_one();
    tokio::time::timeout(PATIENCE, stopped)
        .await
        .expect("the sender stops after its mail")
        .unwrap();

    let received = smtp.received();
    assert_eq!(received.len(), 1, "the mail being sent was finished");
    assert_eq!(received[0].subject, "Mail 0");
    let rows = sqlx::query("SELECT status, attempts, claimed_until FROM outbox ORDER BY id")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let rows: Vec<(String, i64, Option<i64>)> = rows
        .iter()
        .map(|r| (r.get("status"), r.get("attempts"), r.get("claimed_until")))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("sent".to_owned(), 1, None),
            ("waiting".to_owned(), 0, None),
            ("waiting".to_owned(), 0, None),
        ],
        "the others are due again, their attempt not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_of_zero_stops_latchkey_serve_naming_the_key() {
    let db = fresh_database(Backend::Sqlite).await;
    for key in [
        "header_read_timeout_secs",
        "idle_timeout_secs",
        "body_timeout_secs",
        "max_connections",
        "shutdown_grace_secs",
    ] {
        let out = latchkey(&db.url)
            .arg("serve")
            .env("SSPM_LISTEN", "127.0.0.1:0")
            .env(format!("SSPM_{}", key.to_ascii_uppercase()), "0")
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{key} = 0 started");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(&format!("{key} must be 1 to")), "{said}");
        assert!(out.stdout.is_empty(), "never listened");
    }
}
