//! The client's address behind a reverse proxy (`trusted_proxies`): what
//! the audit trail and the mails record; and the scheme, which makes the
//! session cookie `Secure` and sends HSTS. Forged forwarding headers from a
//! peer that is not a trusted proxy are ignored.

use reqwest::StatusCode;
use sqlx::Row;

use latchkey_server::mail::sender::{send_due, Mailer};
use latchkey_testkit::smtp::SmtpServer;

use crate::helpers::{mail_config, spawn_app, spawn_app_with, Backend, TestApp, STRONG, STRONG_2};

both_backends!(
    forged_forwarding_headers_from_an_untrusted_peer_are_ignored,
    behind_a_trusted_proxy_the_client_it_reports_is_recorded_and_mailed,
);

/// The test client's requests come from 127.0.0.1: a proxy when trusted.
const PROXY: &str = "127.0.0.1";

async fn sign_in_forwarded(
    app: &TestApp,
    header: (&str, &str),
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(latchkey_shared::api::paths::SESSION))
        .header(header.0, header.1)
        .json(&serde_json::json!({
            "domain": "partners", "username": "jsmith", "password": password,
        }))
        .send()
        .await
        .expect("request sent")
}

/// `source_ip` of every sign-in row, oldest first.
async fn sign_in_sources(app: &TestApp) -> Vec<Option<String>> {
    app.audit_events().await;
    sqlx::query("SELECT source_ip FROM audit_events WHERE kind = 'sign_in' ORDER BY id")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("source_ip"))
        .collect()
}

async fn forged_forwarding_headers_from_an_untrusted_peer_are_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    for header in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.8"),
        ("x-real-ip", "203.0.113.9"),
    ] {
        let r = sign_in_forwarded(&app, header, "wrong-password-1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in_sources(&app).await,
        vec![Some(PROXY.to_owned()); 3],
        "the socket's peer, whatever the headers say"
    );
}

async fn behind_a_trusted_proxy_the_client_it_reports_is_recorded_and_mailed(backend: Backend) {
    let smtp = SmtpServer::start();
    let mail = mail_config(&smtp);
    let mailer = Mailer::new(&mail).expect("a valid mail config");
    let app = spawn_app_with(backend, move |c| {
        c.mail = Some(mail);
        c.trusted_proxies =
            latchkey_server::http::client_addr::TrustedProxies::parse(["10.0.0.0/8", PROXY])
                .unwrap();
    })
    .await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    sqlx::query("UPDATE users SET email = 'jane@example.test' WHERE id = $1")
        .bind(user.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // The left-most entry is what the client wrote itself: never believed.
    let r = sign_in_forwarded(
        &app,
        ("x-forwarded-for", "192.0.2.66, 203.0.113.7, 10.0.0.2"),
        "wrong-password-1",
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = sign_in_forwarded(
        &app,
        ("forwarded", r#"for=192.0.2.66, for="[2001:db8::7]:4711""#),
        STRONG,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A proxy that could not tell: the proxy itself, not a made-up value.
    let r = sign_in_forwarded(&app, ("x-forwarded-for", "unknown"), "wrong-password-2").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_sources(&app).await,
        vec![
            Some("203.0.113.7".to_owned()),
            Some("2001:db8::7".to_owned()),
            Some(PROXY.to_owned()),
        ]
    );

    // The change's mail names the client too.
    let policy_version = app.policy_version("partners").await;
    let r = app
        .client
        .post(app.url(latchkey_shared::api::paths::CHANGE_PASSWORD))
        .header("x-forwarded-for", "198.51.100.23")
        .json(&latchkey_shared::api::ChangePasswordRequest {
            current_password: STRONG.to_owned(),
            new_password: STRONG_2.to_owned(),
            confirm_password: STRONG_2.to_owned(),
            policy_version,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(send_due(&app.state, &mailer).await.unwrap(), 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].text.contains("from the address 198.51.100.23"),
        "{}",
        mails[0].text
    );
}

/// Whether a sign-in with `header` got a `Secure` cookie and HSTS.
async fn secure_and_hsts(app: &TestApp, header: (&str, &str)) -> (bool, bool) {
    let r = sign_in_forwarded(app, header, STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    (
        cookie.contains("; Secure"),
        r.headers()
            .contains_key(reqwest::header::STRICT_TRANSPORT_SECURITY),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_word_that_the_client_came_over_https_counts_only_from_a_trusted_proxy() {
    let trusted = spawn_app_with(Backend::Sqlite, |c| {
        c.trusted_proxies =
            latchkey_server::http::client_addr::TrustedProxies::parse([PROXY]).unwrap();
    })
    .await;
    trusted.add_user("jsmith", "Jane Smith", STRONG).await;
    for (header, expected) in [
        (("x-forwarded-proto", "https"), (true, true)),
        (("x-forwarded-proto", "http"), (false, false)),
        (("x-forwarded-proto", ""), (false, false)),
        (("forwarded", "for=203.0.113.7;proto=https"), (true, true)),
        (("forwarded", "for=203.0.113.7;proto=http"), (false, false)),
        (("x-real-ip", "203.0.113.7"), (false, false)),
    ] {
        assert_eq!(
            secure_and_hsts(&trusted, header).await,
            expected,
            "{header:?}"
        );
    }

    // The same headers from a peer that is not a trusted proxy.
    let untrusted = spawn_app(Backend::Sqlite).await;
    untrusted.add_user("jsmith", "Jane Smith", STRONG).await;
    for header in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=203.0.113.7;proto=https"),
    ] {
        assert_eq!(
            secure_and_hsts(&untrusted, header).await,
            (false, false),
            "{header:?}"
        );
    }

    // An https public address is not undone by a proxy saying http.
    let public = spawn_app_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://pm.example.org".into());
        c.trusted_proxies =
            latchkey_server::http::client_addr::TrustedProxies::parse([PROXY]).unwrap();
    })
    .await;
    public.add_user("jsmith", "Jane Smith", STRONG).await;
    assert_eq!(
        secure_and_hsts(&public, ("x-forwarded-proto", "http")).await,
        (true, true)
    );
}
