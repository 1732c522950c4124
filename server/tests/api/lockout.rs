use std::sync::Arc;
use std::time::Duration;

use latchkey_server::settings::provisioning::{self, NewDomain};
use latchkey_server::{Application, MockClock};
use latchkey_shared::api::{messages, ErrorCode};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, Row};

use crate::helpers::{
    assert_error, fresh_database, new_client, spawn_app, spawn_app_with, test_config, Backend,
    TestApp, STRONG, T0,
};

both_backends!(
    five_wrong_passwords_lock_the_account_and_the_sixth_attempt_is_told_so,
    unknown_user_names_are_locked_out_the_same_way,
    a_locked_account_is_refused_without_checking_the_password,
    a_successful_sign_in_resets_the_failure_count,
    a_lock_lifts_by_itself_after_lockout_minutes,
    with_lockout_minutes_zero_a_lock_never_lifts_by_itself,
    fifty_parallel_wrong_sign_ins_run_at_most_five_password_checks,
    a_lock_is_audited,
    a_domain_can_override_the_lockout_threshold,
    a_locked_account_is_refused_without_writing_to_the_database,
    refusals_of_a_locked_account_are_audited_with_their_count,
    fifty_parallel_wrong_sign_ins_one_failure_from_the_lock_run_one_password_check,
    refusals_of_a_locked_account_are_written_at_a_graceful_shutdown,
);

async fn fail(app: &crate::helpers::TestApp, username: &str, times: usize) {
    for i in 1..=times {
        let r = app
            .sign_in("partners", username, "wrong-password-guess")
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {i} of {username}"
        );
    }
}

async fn five_wrong_passwords_lock_the_account_and_the_sixth_attempt_is_told_so(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;

    let sixth = app
        .sign_in("partners", "jsmith", "wrong-password-guess")
        .await;
    let err = assert_error(sixth, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
    assert_eq!(err.message, messages::ACCOUNT_LOCKED);
    // Even the right password is refused now.
    let right = app.sign_in("partners", "jsmith", STRONG).await;
    assert_error(right, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
}

async fn unknown_user_names_are_locked_out_the_same_way(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    app.lock_out("partners", "ghost").await;

    let real = app
        .sign_in("partners", "jsmith", "wrong-password-guess")
        .await;
    let ghost = app
        .sign_in("partners", "ghost", "wrong-password-guess")
        .await;
    assert_eq!(real.status(), StatusCode::LOCKED);
    assert_eq!(ghost.status(), StatusCode::LOCKED);
    assert_eq!(real.text().await.unwrap(), ghost.text().await.unwrap());
}

async fn a_locked_account_is_refused_without_checking_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;

    let before = app.verifications();
    for _ in 0..3 {
        let r = app.sign_in("partners", "jsmith", STRONG).await;
        assert_eq!(r.status(), StatusCode::LOCKED);
    }
    assert_eq!(
        app.verifications(),
        before,
        "no argon2 for a locked account"
    );
}

async fn a_successful_sign_in_resets_the_failure_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", app.threshold() - 1).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    // Four more failures are again below the threshold...
    fail(&app, "jsmith", app.threshold() - 1).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    // ...and it takes five consecutive ones to lock.
    app.lock_out("partners", "jsmith").await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

async fn a_lock_lifts_by_itself_after_lockout_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;

    app.clock.advance(29 * 60);
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    app.clock.advance(60);
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );

    // After a lock lifts, counting starts again from zero.
    app.lock_out("partners", "jsmith").await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    app.clock.advance(30 * 60);
    fail(&app, "jsmith", app.threshold() - 1).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
}

async fn with_lockout_minutes_zero_a_lock_never_lifts_by_itself(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.lockout_minutes = 0).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    app.clock.advance(10 * 365 * 24 * 3600);
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

async fn fifty_parallel_wrong_sign_ins_run_at_most_five_password_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;

    let before = app.verifications();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = crate::helpers::new_client();
        let url = app.url(latchkey_shared::api::paths::SESSION);
        tasks.spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({
                    "domain": "partners",
                    "username": "jsmith",
                    "password": format!("wrong-guess-{i}"),
                }))
                .send()
                .await
                .expect("request")
                .status()
        });
    }
    let mut unauthorized = 0;
    let mut locked = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::LOCKED => locked += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    let checks = app.verifications() - before;
    let threshold = app.threshold();
    assert!(checks <= threshold as u64, "{checks} password checks ran");
    assert_eq!(unauthorized, threshold);
    assert_eq!(locked, 50 - threshold);
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

async fn a_lock_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    let events = app.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "account_locked" && e.about("jsmith")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.is("sign_in", "locked")),
        "{events:?}"
    );
}

async fn a_domain_can_override_the_lockout_threshold(backend: Backend) {
    let app = spawn_app(backend).await;
    latchkey_server::settings::provisioning::set_domain_lockout(
        &app.state,
        "partners",
        Some(3),
        None,
    )
    .await
    .unwrap();
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", 3).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

/// `(failed_count, locked_at, updated_at)` of a name's failure counter.
async fn counter(app: &TestApp, username_key: &str) -> Option<(i64, Option<i64>, i64)> {
    sqlx::query(
        "SELECT failed_count, locked_at, updated_at FROM failure_counters WHERE username_key = $1",
    )
    .bind(username_key)
    .fetch_optional(&app.state.db.pool)
    .await
    .unwrap()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// The attempts one `sign_in`/`locked` audit row stands for: "account locked"
/// is one, "account locked (×N within S s)" is N.
fn attempts(detail: Option<&str>) -> u64 {
    match detail.and_then(|d| d.split_once("(×")) {
        Some((_, rest)) => rest
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {detail:?}")),
        None => 1,
    }
}

async fn a_locked_account_is_refused_without_writing_to_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    let before = counter(&app, "jsmith").await;
    app.clock.advance(60);

    // Another connection holds the database's (SQLite) or the tables'
    // (PostgreSQL) write lock: anything that writes would wait for it.
    let url = app.state.config.database_url.expose_secret().to_owned();
    let mut writer = sqlx::AnyConnection::connect(&url).await.unwrap();
    match backend {
        Backend::Sqlite => {
            writer.execute("BEGIN IMMEDIATE").await.unwrap();
        }
        Backend::Postgres => {
            writer.execute("BEGIN").await.unwrap();
            writer
                .execute(
                    "LOCK TABLE failure_counters, audit_events, sessions, users IN EXCLUSIVE MODE",
                )
                .await
                .unwrap();
        }
    }
    // The timeout only keeps a regression from hanging the test.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = app
            .sign_in_with(&client, "partners", "jsmith", STRONG)
            .await;
        assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
    }
    writer.execute("ROLLBACK").await.unwrap();
    assert_eq!(
        counter(&app, "jsmith").await,
        before,
        "the counter is untouched"
    );
}

async fn refusals_of_a_locked_account_are_audited_with_their_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    for _ in 0..3 {
        let r = app.sign_in("partners", "jsmith", STRONG).await;
        assert_eq!(r.status(), StatusCode::LOCKED);
    }
    let events = app.audit_events().await;
    let refused: u64 = events
        .iter()
        .filter(|e| e.is("sign_in", "locked") && e.about("jsmith"))
        .map(|e| attempts(e.detail.as_deref()))
        .sum();
    assert_eq!(refused, 3, "{events:?}");
}

async fn fifty_parallel_wrong_sign_ins_one_failure_from_the_lock_run_one_password_check(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", app.threshold() - 1).await;

    // All fifty may find the name unlocked when they look; the reservation
    // still lets only one of them check a password.
    let before = app.verifications();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = new_client();
        let url = app.url(latchkey_shared::api::paths::SESSION);
        tasks.spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({
                    "domain": "partners",
                    "username": "jsmith",
                    "password": format!("wrong-guess-{i}"),
                }))
                .send()
                .await
                .expect("request")
                .status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(app.verifications() - before, 1, "password checks");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        1
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::LOCKED)
            .count(),
        49
    );
}

async fn refusals_of_a_locked_account_are_written_at_a_graceful_shutdown(backend: Backend) {
    let db = fresh_database(backend).await;
    let app = Application::build_with_clock(test_config(&db.url), Arc::new(MockClock::new(T0)))
        .await
        .unwrap();
    let state = app.state().clone();
    provisioning::create_domain(&state, &NewDomain::new("partners", "Partners"))
        .await
        .unwrap();
    let url = format!(
        "http://127.0.0.1:{}{}",
        app.port(),
        latchkey_shared::api::paths::SESSION
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_with_graceful_shutdown(async {
        let _ = stopped.await;
    }));

    let client = new_client();
    let mut statuses = Vec::new();
    let threshold = usize::try_from(state.config.lockout_threshold).unwrap();
    for _ in 0..threshold + 2 {
        let r = client
            .post(&url)
            .json(&serde_json::json!({
                "domain": "partners",
                "username": "ghost",
                "password": "wrong-password-guess",
            }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(
        statuses[threshold..],
        [StatusCode::LOCKED, StatusCode::LOCKED]
    );
    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let rows = sqlx::query(
        "SELECT detail FROM audit_events WHERE kind = 'sign_in' AND result = 'locked' \
         AND subject = 'ghost'",
    )
    .fetch_all(&state.db.pool)
    .await
    .unwrap();
    let refused: u64 = rows
        .iter()
        .map(|r| attempts(r.get::<Option<String>, _>("detail").as_deref()))
        .sum();
    assert_eq!(refused, 2);
}
