use latchkey_shared::api::{messages, ErrorCode};
use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, Backend, STRONG};

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
    fail(&app, "jsmith", 5).await;

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
    fail(&app, "jsmith", 5).await;
    fail(&app, "ghost", 5).await;

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
    fail(&app, "jsmith", 5).await;

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
    fail(&app, "jsmith", 4).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    // Four more failures are again below the threshold...
    fail(&app, "jsmith", 4).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    // ...and it takes five consecutive ones to lock.
    fail(&app, "jsmith", 5).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

async fn a_lock_lifts_by_itself_after_lockout_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", 5).await;

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
    fail(&app, "jsmith", 5).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    app.clock.advance(30 * 60);
    fail(&app, "jsmith", 4).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
}

async fn with_lockout_minutes_zero_a_lock_never_lifts_by_itself(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.lockout_minutes = 0).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", 5).await;
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
    assert!(checks <= 5, "{checks} password checks ran");
    assert_eq!(unauthorized, 5);
    assert_eq!(locked, 45);
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}

async fn a_lock_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", 5).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    let events = app.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.0 == "account_locked" && e.2.as_deref() == Some("jsmith")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.0 == "sign_in" && e.1 == "locked"),
        "{events:?}"
    );
}

async fn a_domain_can_override_the_lockout_threshold(backend: Backend) {
    let app = spawn_app(backend).await;
    latchkey_server::admin::set_domain_lockout(&app.state, "partners", Some(3), None)
        .await
        .unwrap();
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    fail(&app, "jsmith", 3).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
}
