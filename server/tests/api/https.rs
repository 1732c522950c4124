//! HTTPS served by Latchkey itself (`tls_cert_file`, `tls_key_file`), with
//! certificates from CAs made for the run and a real TLS client (reqwest
//! with rustls, trusting only those CAs): the API over https with a
//! `Secure` cookie and HSTS, the plain-HTTP port that only redirects, a
//! certificate replaced without a restart (on disk, and on SIGHUP through
//! the binary), and pairs that cannot be used.

use std::path::{Path, PathBuf};
use std::time::Instant;

use latchkey_server::Application;
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::io::AsyncWriteExt;

use crate::helpers::{fresh_database, spawn_app_with, test_config, Backend, STRONG};
use crate::serving::{read_until_closed, send_signal, start_serve, PATIENCE};

/// A directory of its own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("latchkey-https-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// A CA and a leaf for 127.0.0.1 / localhost in `name/`.
    fn certificates(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        latchkey_testkit::tls::make_certificates(&dir, &["127.0.0.1"], "localhost")
            .expect("certificates made");
        dir
    }

    /// The pair the server is configured with: `served/cert.pem` and
    /// `served/key.pem`, copied from `from`.
    fn serve_from(&self, from: &Path) -> (PathBuf, PathBuf) {
        let served = self.0.join("served");
        std::fs::create_dir_all(&served).unwrap();
        let (cert, key) = (served.join("cert.pem"), served.join("key.pem"));
        std::fs::copy(from.join("cert.pem"), &cert).unwrap();
        std::fs::copy(from.join("key.pem"), &key).unwrap();
        (cert, key)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A client that trusts only the CAs in `dirs` (their `ca.pem`), keeps
/// cookies, follows no redirect and reports the server's certificate.
fn https_client(dirs: &[&Path]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .tls_info(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    for dir in dirs {
        let pem = std::fs::read(dir.join("ca.pem")).unwrap();
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    builder.build().expect("an https client")
}

/// The leaf certificate of `dir` (DER).
fn leaf(dir: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(dir.join("cert.pem"))
        .unwrap()
        .to_vec()
}

/// The certificate a new connection to `base` is served.
async fn served_certificate(base: &str, trusted: &[&Path]) -> Vec<u8> {
    // A new client: a new connection, a new handshake.
    let r = https_client(trusted)
        .get(format!("{base}/api/health/live"))
        .send()
        .await
        .expect("an https answer");
    assert_eq!(r.status(), StatusCode::OK);
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("the peer's certificate")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_a_sign_in_gets_a_secure_cookie_and_hsts_and_the_redirect_port_only_redirects() {
    let scratch = Scratch::new();
    let a = scratch.certificates("a");
    let (cert, key) = scratch.serve_from(&a);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.tls_cert_file = Some(cert);
        c.tls_key_file = Some(key);
        c.http_redirect_listen = Some("127.0.0.1:0".into());
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let base = format!("https://127.0.0.1:{}", app.port);
    let client = https_client(&[&a]);

    let r = client
        .post(format!("{base}{}", latchkey_shared::api::paths::SESSION))
        .json(&serde_json::json!({"domain": "partners", "username": "jsmith", "password": STRONG}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert_eq!(
        r.headers()
            .get(reqwest::header::STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap()),
        Some(latchkey_server::http::security_headers::HSTS)
    );
    assert_eq!(
        r.extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate()),
        Some(leaf(&a).as_slice())
    );
    // The session works over the same https origin.
    let r = client
        .get(format!("{base}{}", crate::helpers::SIGNED_IN_PROBE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // No API over plain HTTP on the TLS port: a plain request gets no
    // HTTP answer at all.
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    plain
        .write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let said = read_until_closed(&mut plain).await;
    assert!(!said.starts_with(b"HTTP/1.1 200"), "{said:?}");

    // The redirect port: a 308 to the same path and query on https, for
    // every method and path, and nothing else.
    let redirect_port = app.redirect_port.expect("a redirect port");
    let plain_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path) in [
        (reqwest::Method::GET, "/api/health/live?x=1&y=%20"),
        (reqwest::Method::POST, latchkey_shared::api::paths::SESSION),
        (reqwest::Method::GET, "/"),
    ] {
        let r = plain_client
            .request(method.clone(), format!("http://127.0.0.1:{redirect_port}{path}"))
            .header("host", format!("127.0.0.1:{redirect_port}"))
            .json(&serde_json::json!({"domain": "partners", "username": "jsmith", "password": STRONG}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::PERMANENT_REDIRECT,
            "{method} {path}"
        );
        assert_eq!(
            r.headers()
                .get(reqwest::header::LOCATION)
                .map(|v| v.to_str().unwrap()),
            Some(format!("https://127.0.0.1:{}{path}", app.port).as_str())
        );
        assert!(r.headers().get(reqwest::header::SET_COOKIE).is_none());
    }
    // A Host that is not a host name gets no Location made of it.
    let r = plain_client
        .get(format!("http://127.0.0.1:{redirect_port}/"))
        .header("host", "evil.example/path")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The redirect's sign-in attempt above never reached the API.
    let sign_ins = app
        .audit_events()
        .await
        .iter()
        .filter(|e| e.is("sign_in", "success"))
        .count();
    assert_eq!(sign_ins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_replaced_on_disk_is_served_from_the_next_connection_without_a_restart() {
    let scratch = Scratch::new();
    let (a, b) = (scratch.certificates("a"), scratch.certificates("b"));
    let (cert, key) = scratch.serve_from(&a);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.tls_cert_file = Some(cert);
        c.tls_key_file = Some(key);
    })
    .await;
    let base = format!("https://127.0.0.1:{}", app.port);
    assert_eq!(served_certificate(&base, &[&a, &b]).await, leaf(&a));
    // A connection made before the change keeps working after it.
    let kept = https_client(&[&a, &b]);
    assert_eq!(
        kept.get(format!("{base}/api/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    scratch.serve_from(&b);
    let started = Instant::now();
    loop {
        if served_certificate(&base, &[&a, &b]).await == leaf(&b) {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the new certificate is never served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        kept.get(format!("{base}/api/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// Waits for the log line of a reload SIGHUP asked for that says `wanted`.
async fn reloaded(
    stderr: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
    wanted: &str,
) -> String {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let line = stderr.next_line().await.unwrap().expect("still running");
            if line.contains("SIGHUP") && line.contains(wanted) {
                return line;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no SIGHUP line with {wanted:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_serves_a_renewed_certificate_and_a_broken_one_keeps_the_previous() {
    let scratch = Scratch::new();
    let (a, b) = (scratch.certificates("a"), scratch.certificates("b"));
    let (cert, key) = scratch.serve_from(&a);
    let db = fresh_database(Backend::Sqlite).await;
    let (mut child, base, mut stderr) = start_serve(
        &db.url,
        &[
            ("SSPM_TLS_CERT_FILE", cert.to_str().unwrap()),
            ("SSPM_TLS_KEY_FILE", key.to_str().unwrap()),
        ],
    )
    .await;
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    assert_eq!(served_certificate(&base, &[&a, &b]).await, leaf(&a));

    // A broken pair: B's certificate with A's key.
    std::fs::copy(b.join("cert.pem"), &cert).unwrap();
    send_signal(&child, "-HUP");
    let line = reloaded(&mut stderr, "cannot be used").await;
    assert!(line.contains("does not go with"), "{line}");
    assert_eq!(
        served_certificate(&base, &[&a, &b]).await,
        leaf(&a),
        "the previous certificate is served on"
    );

    std::fs::copy(b.join("key.pem"), &key).unwrap();
    send_signal(&child, "-HUP");
    reloaded(&mut stderr, "reloaded the TLS certificate").await;
    assert_eq!(served_certificate(&base, &[&a, &b]).await, leaf(&b));
    assert!(child.try_wait().unwrap().is_none(), "no restart");

    // Twice in a row is harmless.
    send_signal(&child, "-HUP");
    reloaded(&mut stderr, "reloaded the TLS certificate").await;
    assert_eq!(served_certificate(&base, &[&a, &b]).await, leaf(&b));

    send_signal(&child, "-TERM");
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_cannot_be_used_stops_the_start_naming_the_file() {
    let scratch = Scratch::new();
    let (a, b) = (scratch.certificates("a"), scratch.certificates("b"));
    let not_pem = scratch.0.join("not.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let missing = scratch.0.join("missing.pem");
    let db = fresh_database(Backend::Sqlite).await;
    for (cert, key, says) in [
        (
            missing.clone(),
            a.join("key.pem"),
            "cannot read tls_cert_file",
        ),
        (not_pem.clone(), a.join("key.pem"), "holds no certificate"),
        (
            a.join("cert.pem"),
            not_pem.clone(),
            "holds no usable private key",
        ),
        (a.join("cert.pem"), b.join("key.pem"), "does not go with"),
    ] {
        let mut config = test_config(&db.url);
        config.tls_cert_file = Some(cert.clone());
        config.tls_key_file = Some(key.clone());
        let e = Application::build(config)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains(says), "{e}");
        let named = if says.contains("tls_cert_file") || says.contains("certificate") {
            &cert
        } else {
            &key
        };
        assert!(e.contains(named.to_str().unwrap()), "{e}");
        assert!(!e.contains("PRIVATE KEY"), "no key material: {e}");
    }
    // A key file alone, or a certificate alone, is refused before anything.
    let mut config = test_config(&db.url);
    config.tls_cert_file = Some(a.join("cert.pem"));
    let e = Application::build(config).await.err().unwrap().to_string();
    assert!(e.contains("tls_cert_file needs tls_key_file"), "{e}");
}
