//! Latchkey behind a real nginx from Debian, configured with the example
//! of `docs/deployment.md` (read from the file; only its ports and
//! certificate paths are changed), TLS with a certificate from a CA made
//! for the run. The test's client connects from 127.0.0.2 so that the
//! address nginx sees is not the proxy's own (127.0.0.1, the one trusted).

use std::net::IpAddr;
use std::path::PathBuf;

use latchkey_server::http::client_addr::TrustedProxies;
use latchkey_testkit::nginx::Nginx;
use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{spawn_app_with, Backend, STRONG};

/// The client's own address: not nginx's.
const CLIENT: &str = "127.0.0.2";

/// The ```nginx block of `docs/deployment.md`, made to listen on loopback
/// ports and serve the run's certificate; every replacement must apply, so
/// a change to the example that this test no longer covers fails here.
fn documented_nginx(app_port: u16, https: u16, http: u16, tls: &std::path::Path) -> String {
    let docs = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/deployment.md"),
    )
    .expect("docs/deployment.md");
    let start = docs.find("```nginx\n").expect("an nginx example") + "```nginx\n".len();
    let block = &docs[start..];
    let mut block = block[..block.find("```").expect("its end")].to_owned();
    for (from, to) in [
        ("listen 443 ssl;", format!("listen 127.0.0.1:{https} ssl;")),
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        (
            "/etc/ssl/latchkey/fullchain.pem",
            tls.join("cert.pem").display().to_string(),
        ),
        (
            "/etc/ssl/latchkey/privkey.pem",
            tls.join("key.pem").display().to_string(),
        ),
        (
            "http://127.0.0.1:8080",
            format!("http://127.0.0.1:{app_port}"),
        ),
        (
            "https://$host$request_uri",
            format!("https://$host:{https}$request_uri"),
        ),
    ] {
        assert_eq!(
            block.matches(from).count(),
            1,
            "docs/deployment.md's nginx example no longer has {from:?}: update this test"
        );
        block = block.replace(from, &to);
    }
    block
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_the_client_address_is_what_nginx_saw_the_cookie_is_secure_hsts_is_sent_and_port_80_redirects(
) {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.trusted_proxies = TrustedProxies::parse(["127.0.0.1"]).unwrap();
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let tls = std::env::temp_dir().join(format!(
        "latchkey-nginx-tls-{}",
        uuid::Uuid::new_v4().simple()
    ));
    latchkey_testkit::tls::make_certificates(&tls, &["127.0.0.1"], "localhost")
        .expect("certificates made");
    let (https, http) = (latchkey_testkit::free_port(), latchkey_testkit::free_port());
    let nginx = Nginx::start(
        &documented_nginx(app.port, https, http, &tls),
        &[https, http],
    );

    let ca = std::fs::read(tls.join("ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .local_address(CLIENT.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |password: &str, forged: &str| {
        client
            .post(format!(
                "https://127.0.0.1:{https}{}",
                latchkey_shared::api::paths::SESSION
            ))
            // What the client says of itself: never believed.
            .header("x-forwarded-for", forged)
            .header("x-forwarded-proto", "http")
            .json(&serde_json::json!({
                "domain": "partners", "username": "jsmith", "password": password,
            }))
            .send()
    };

    let r = sign_in("wrong-password-1", "203.0.113.7").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "{}",
        nginx.error_log()
    );
    let r = sign_in(STRONG, "203.0.113.8, 198.51.100.9").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "nginx said https: {cookie}");
    assert_eq!(
        r.headers()
            .get(reqwest::header::STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap()),
        Some(latchkey_server::http::security_headers::HSTS)
    );

    app.audit_events().await;
    let sources: Vec<Option<String>> =
        sqlx::query("SELECT source_ip FROM audit_events WHERE kind = 'sign_in' ORDER BY id")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("source_ip"))
            .collect();
    assert_eq!(
        sources,
        vec![Some(CLIENT.to_owned()); 2],
        "the address nginx saw, not nginx's and not the forged ones"
    );

    // nginx's plain port sends people to https, path and query kept.
    let r = client
        .get(format!("http://127.0.0.1:{http}/api/health/live?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.headers()
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap()),
        Some(format!("https://127.0.0.1:{https}/api/health/live?x=1").as_str())
    );
    drop(nginx);
    let _ = std::fs::remove_dir_all(&tls);
}
