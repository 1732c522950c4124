//! An internal error is logged once, with its whole chain and the request
//! id, and answered with a generic body that carries only that id.

use latchkey_shared::api::{messages, paths, ErrorCode};
use reqwest::StatusCode;

use crate::helpers::{
    assert_error, spawn_app, statements, Backend, INTERNAL_ERROR_PROBE, PROBE_FAILURE, PROBE_TABLE,
};

both_backends!(
    an_internal_error_is_logged_once_with_its_chain_and_the_request_id,
    every_answer_carries_a_request_id_and_a_plain_one_from_a_proxy_is_kept,
    a_refusal_is_not_logged_as_an_error,
);

const REQUEST_ID: &str = "x-request-id";

async fn an_internal_error_is_logged_once_with_its_chain_and_the_request_id(backend: Backend) {
    statements::record();
    let app = spawn_app(backend).await;

    let response = app
        .client
        .get(app.url(INTERNAL_ERROR_PROBE))
        .send()
        .await
        .unwrap();
    let id = response.headers()[REQUEST_ID].to_str().unwrap().to_owned();
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-store"
    );
    let text = response.text().await.unwrap();
    // The details stay in the log.
    for secret in [PROBE_FAILURE, PROBE_TABLE, "database"] {
        assert!(!text.contains(secret), "{secret:?} in the body: {text}");
    }
    let body: latchkey_shared::api::ApiError = serde_json::from_str(&text).unwrap();
    assert_eq!(body.code, ErrorCode::Internal);
    assert_eq!(body.message, messages::INTERNAL);
    assert_eq!(
        body.request_id.as_deref(),
        Some(id.as_str()),
        "the body quotes the id"
    );

    let lines = statements::errors_with("request_id", &id);
    assert_eq!(lines.len(), 1, "logged exactly once: {lines:?}");
    let chain = lines[0].field("error").expect("the error field");
    // Ours first, then sqlx's, then the database's own words.
    assert!(chain.starts_with(&format!("{PROBE_FAILURE}: ")), "{chain}");
    assert!(chain.contains(PROBE_TABLE), "the database's cause: {chain}");
    assert_eq!(lines[0].field("method"), Some("GET"));
}

async fn every_answer_carries_a_request_id_and_a_plain_one_from_a_proxy_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let get = |id: Option<&str>| {
        let mut request = app.client.get(app.url(paths::HEALTH));
        if let Some(id) = id {
            request = request.header(REQUEST_ID, id);
        }
        async move { request.send().await.unwrap() }
    };
    let ours = |r: &reqwest::Response| r.headers()[REQUEST_ID].to_str().unwrap().to_owned();

    let a = ours(&get(None).await);
    let b = ours(&get(None).await);
    assert_ne!(a, b, "a fresh id for each request");
    assert_eq!(a.len(), 36, "a UUID: {a}");

    assert_eq!(ours(&get(Some("proxy-7f3a.12_b")).await), "proxy-7f3a.12_b");
    // Too long, or not a plain token: replaced, since it goes into logs.
    for foreign in ["x".repeat(65), "a b".to_owned(), "id\"quoted".to_owned()] {
        let id = ours(&get(Some(&foreign)).await);
        assert_ne!(id, foreign);
        assert_eq!(id.len(), 36, "{id}");
    }
}

async fn a_refusal_is_not_logged_as_an_error(backend: Backend) {
    statements::record();
    let app = spawn_app(backend).await;
    let response = app.sign_in("partners", "nobody", "whatever-it-is").await;
    let id = response.headers()[REQUEST_ID].to_str().unwrap().to_owned();
    let err = assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
    )
    .await;
    assert_eq!(err.request_id, None, "only a 500 quotes its id");
    assert!(statements::errors_with("request_id", &id).is_empty());
}

/// Another process holds SQLite's one write lock (an operator's `sqlite3`
/// shell, a backup tool): a request that must write waits `busy_timeout`,
/// then answers 503 `busy` with `Retry-After`, not 500, and nothing is
/// half-written; once the lock is gone the same request is answered.
#[tokio::test]
async fn a_write_locked_sqlite_database_answers_503_with_retry_after_not_500() {
    use secrecy::ExposeSecret;
    use sqlx::{Connection, Executor};

    let app = spawn_app(Backend::Sqlite).await;
    app.add_user("jsmith", "Jane Smith", crate::helpers::STRONG)
        .await;
    let url = app.state.config.database_url.expose_secret().to_owned();
    let mut other = sqlx::AnyConnection::connect(&url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    other
        .execute("UPDATE settings SET value = value WHERE key = 'nothing'")
        .await
        .unwrap();

    let r = app.sign_in("partners", "jsmith", "wrong-password-1").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let err = assert_error(r, StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy).await;
    assert_eq!(err.message, messages::BUSY);
    // A load balancer hears it too, without waiting SQLite's busy time;
    // the process itself is alive.
    let asked = std::time::Instant::now();
    let ready = health(&app, paths::HEALTH_READY).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().contains_key("retry-after"));
    assert!(asked.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(
        health(&app, paths::HEALTH).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        health(&app, paths::HEALTH_LIVE).await.status(),
        StatusCode::OK
    );

    other.execute("ROLLBACK").await.unwrap();
    assert_eq!(
        health(&app, paths::HEALTH_READY).await.status(),
        StatusCode::OK
    );
    let r = app.sign_in("partners", "jsmith", "wrong-password-1").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let counted: i64 = sqlx::query_scalar(
        "SELECT failed_count FROM failure_counters WHERE username_key = 'jsmith'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(counted, 1, "the refused attempt left nothing behind");
}

async fn health(app: &crate::helpers::TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

/// The database file deleted under a running server (an operator's
/// mistake, a cleaner): SQLite would go on writing to the vanished file,
/// and everything written would be lost at the next start. Readiness says
/// so; liveness does not (a restart would not bring the file back).
#[tokio::test]
async fn a_vanished_sqlite_file_is_not_ready() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(
        health(&app, paths::HEALTH_READY).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        health(&app, paths::HEALTH_LIVE).await.status(),
        StatusCode::OK
    );
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    std::fs::remove_file(&file).unwrap();
    let r = health(&app, paths::HEALTH_READY).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_error(r, StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy).await;
    assert_eq!(
        health(&app, paths::HEALTH_LIVE).await.status(),
        StatusCode::OK
    );
}
