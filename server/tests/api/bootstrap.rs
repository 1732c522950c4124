use std::io::Read;

use latchkey_shared::api::{paths, Bootstrap, SignInRequest};
use latchkey_shared::PasswordPolicy;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use reqwest::StatusCode;

use crate::helpers::{fresh_database, spawn_app, test_config, Backend};

both_backends!(
    bootstrap_lists_domains_notices_and_the_help_desk,
    bootstrap_answers_304_to_a_matching_etag_and_changes_with_the_content,
    demo_data_is_seeded_once_into_an_empty_database,
    bootstrap_is_sent_compressed_to_a_client_that_accepts_gzip_or_brotli,
    a_compressed_bootstrap_still_answers_304_to_its_etag,
    answers_with_secrets_are_never_compressed,
);

async fn bootstrap_lists_domains_notices_and_the_help_desk(backend: Backend) {
    let db = fresh_database(backend).await;
    let app = latchkey_server::Application::build(test_config(&db.url))
        .await
        .unwrap();
    let state = app.state().clone();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    latchkey_server::cli::demo::seed_if_empty(&state)
        .await
        .unwrap()
        .expect("seeded");

    let response = reqwest::get(format!("{base}{}", paths::BOOTSTRAP))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-cache"
    );
    let boot: Bootstrap = response.json().await.unwrap();
    assert_eq!(boot.product_name, latchkey_shared::PRODUCT_NAME);
    let ids: Vec<_> = boot
        .domains
        .iter()
        .map(|d| (d.id.as_str(), d.name.as_str(), d.sspm_available))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("partners", "Partners", true),
            ("hrcc", "HRCC", true),
            ("hhsc", "HHSC", false)
        ]
    );
    assert_eq!(
        boot.domains[2].unavailable_text.as_deref(),
        Some(latchkey_server::cli::demo::HHSC_UNAVAILABLE_TEXT)
    );
    assert_eq!(boot.domains[0].policy, PasswordPolicy::default());
    let notices: Vec<_> = boot
        .notices
        .iter()
        .map(|n| (n.title.as_str(), n.posted_on.as_str()))
        .collect();
    assert_eq!(
        notices,
        vec![
            ("Mandatory Password Reset In Effect", "2019-12-13"),
            ("Privacy Notice", "2019-06-16"),
            ("System Notices", "2019-06-15"),
            ("Contact Information", "2019-06-14"),
        ]
    );
    assert!(boot.notices.iter().all(|n| !n.body.is_empty()));
    assert_eq!(boot.help_desk.phone, "905-521-2100 ext. 43000");
    assert_eq!(boot.help_desk.email, "helpd@hhsc.ca");
}

async fn bootstrap_answers_304_to_a_matching_etag_and_changes_with_the_content(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[reqwest::header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "{etag}"
    );
    let first_body = first.bytes().await.unwrap();

    // Time passes; nothing changed: same tag, 304 without a body.
    app.clock.advance(3600);
    let again = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(reqwest::header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[reqwest::header::ETAG], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    // Without the header: the very same bytes (a strong tag).
    let plain = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.bytes().await.unwrap(), first_body);

    app.set_policy(
        "partners",
        PasswordPolicy {
            min_length: 16,
            ..PasswordPolicy::default()
        },
    )
    .await;
    let changed = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(reqwest::header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[reqwest::header::ETAG], etag.as_str());
    let boot: Bootstrap = changed.json().await.unwrap();
    let partners = boot.domains.iter().find(|d| d.id == "partners").unwrap();
    assert_eq!(partners.policy.min_length, 16);
    assert_eq!(partners.policy.version, 2);
}

async fn demo_data_is_seeded_once_into_an_empty_database(backend: Backend) {
    let db = fresh_database(backend).await;
    let app = latchkey_server::Application::build(test_config(&db.url))
        .await
        .unwrap();
    let state = app.state().clone();
    let seeded = latchkey_server::cli::demo::seed_if_empty(&state)
        .await
        .unwrap()
        .expect("seeded");
    assert!(seeded.temporary_password.len() >= 16);
    assert!(seeded
        .console_line()
        .starts_with("Demo user: domain=partners username=demo temporary password="));
    assert!(latchkey_server::cli::demo::seed_if_empty(&state)
        .await
        .unwrap()
        .is_none());

    // A database with a domain of its own is not touched either.
    let other = fresh_database(backend).await;
    let app2 = latchkey_server::Application::build(test_config(&other.url))
        .await
        .unwrap();
    latchkey_server::settings::provisioning::create_domain(
        app2.state(),
        &latchkey_server::settings::provisioning::NewDomain::new("acme", "Acme"),
    )
    .await
    .unwrap();
    assert!(latchkey_server::cli::demo::seed_if_empty(app2.state())
        .await
        .unwrap()
        .is_none());
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

async fn bootstrap_is_sent_compressed_to_a_client_that_accepts_gzip_or_brotli(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let etag = plain.headers()[ETAG].clone();
    let plain_body = plain.bytes().await.unwrap();

    let gzipped = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(gzipped.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(gzipped.headers()[ETAG], etag);
    let vary = gzipped.headers()[VARY]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(vary.contains("accept-encoding"), "{vary}");
    let wire = gzipped.bytes().await.unwrap();
    let json = gunzip(&wire);
    assert_eq!(json, plain_body, "the same JSON, byte for byte");
    assert!(wire.len() < plain_body.len());
    let boot: Bootstrap = serde_json::from_slice(&json).unwrap();
    assert_eq!(boot.domains.len(), 3);

    let brotli = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(brotli.headers()[CONTENT_ENCODING], "br");
    assert!(brotli.bytes().await.unwrap().len() < plain_body.len());
}

async fn a_compressed_bootstrap_still_answers_304_to_its_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(first.headers()[CONTENT_ENCODING], "br");
    let etag = first.headers()[ETAG].clone();

    let again = app
        .client
        .get(app.url(paths::BOOTSTRAP))
        .header(ACCEPT_ENCODING, "gzip, br")
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag);
    assert!(again.headers().get(CONTENT_ENCODING).is_none());
    assert!(again.bytes().await.unwrap().is_empty());
}

async fn answers_with_secrets_are_never_compressed(backend: Backend) {
    // BREACH: an answer that holds a secret (here the session) next to
    // anything a requester chooses must keep its length to itself.
    let app = spawn_app(backend).await;
    let user = app
        .add_user("jsmith", "Jane Smith", "correct horse battery staple")
        .await;
    let signed_in = app
        .client
        .post(app.url(paths::SESSION))
        .header(ACCEPT_ENCODING, "gzip, deflate, br")
        .json(&SignInRequest {
            domain: user.domain.clone(),
            username: user.username.clone(),
            password: user.password.clone(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert!(signed_in.headers().get(CONTENT_ENCODING).is_none());
    let body = signed_in.bytes().await.unwrap();
    assert!(
        body.len() > 32,
        "long enough to be compressed if it could be"
    );
    serde_json::from_slice::<serde_json::Value>(&body).expect("plain JSON");

    let session = app
        .client
        .get(app.url(paths::SESSION))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    assert!(session.headers().get(CONTENT_ENCODING).is_none());

    let refused = app
        .client
        .post(app.url(paths::SESSION))
        .header(ACCEPT_ENCODING, "gzip, br")
        .json(&SignInRequest {
            domain: user.domain.clone(),
            username: user.username.clone(),
            password: "not the password".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get(CONTENT_ENCODING).is_none());
}
