use latchkey_shared::api::{ErrorCode, SessionInfo};
use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, Backend, STRONG, STRONG_2};

both_backends!(
    a_temporary_password_session_may_only_change_the_password,
    an_expired_temporary_password_is_refused,
    a_temporary_password_is_accepted_until_it_expires,
    changing_the_temporary_password_clears_the_flag,
    an_expired_temporary_password_does_not_count_towards_a_lock,
);

const TEMP: &str = "Kq7mW-x3vTp-9wRn4-sHbEe";

async fn a_temporary_password_session_may_only_change_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user_in("partners", "newbie", "New Person", TEMP, true)
        .await;

    let response = app.sign_in("partners", "newbie", TEMP).await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert!(info.must_change_password);
    // The session itself can be read...
    let info: SessionInfo = app.get_session().await.json().await.unwrap();
    assert!(info.must_change_password);
    // ...but every other endpoint refuses.
    let probe = app.probe_signed_in(&app.client).await;
    assert_error(
        probe,
        StatusCode::FORBIDDEN,
        ErrorCode::PasswordChangeRequired,
    )
    .await;

    let changed = app.change_password(TEMP, STRONG).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let probe = app.probe_signed_in(&app.client).await;
    assert_eq!(probe.status(), StatusCode::OK);
    assert_eq!(probe.text().await.unwrap(), "newbie");
    let info: SessionInfo = app.get_session().await.json().await.unwrap();
    assert!(!info.must_change_password);
}

async fn an_expired_temporary_password_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user_in("partners", "newbie", "New Person", TEMP, true)
        .await;
    app.clock.advance(72 * 3600);

    let response = app.sign_in("partners", "newbie", TEMP).await;
    assert_error(
        response,
        StatusCode::FORBIDDEN,
        ErrorCode::TemporaryPasswordExpired,
    )
    .await;
    // A wrong password still gets the ordinary answer: nothing is revealed.
    let response = app.sign_in("partners", "newbie", "not-it").await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
    )
    .await;
}

async fn a_temporary_password_is_accepted_until_it_expires(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user_in("partners", "newbie", "New Person", TEMP, true)
        .await;
    app.clock.advance(72 * 3600 - 60);
    let response = app.sign_in("partners", "newbie", TEMP).await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn changing_the_temporary_password_clears_the_flag(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app
        .add_user_in("partners", "newbie", "New Person", TEMP, true)
        .await;
    assert_eq!(
        app.sign_in("partners", "newbie", TEMP).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.change_password(TEMP, STRONG_2).await.status(),
        StatusCode::OK
    );

    // Long after the temporary password would have expired, the new one works
    // and gives a full session.
    app.clock.advance(100 * 3600);
    let fresh = crate::helpers::new_client();
    let response = app
        .sign_in_with(&fresh, "partners", "newbie", STRONG_2)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert!(!info.must_change_password);
    assert_eq!(app.probe_signed_in(&fresh).await.status(), StatusCode::OK);
    let temp_flag = sqlx::query("SELECT temp_password_expires_at FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let expires: Option<i64> = sqlx::Row::get(&temp_flag, "temp_password_expires_at");
    assert_eq!(expires, None);
}

async fn an_expired_temporary_password_does_not_count_towards_a_lock(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user_in("partners", "newbie", "New Person", TEMP, true)
        .await;
    app.clock.advance(72 * 3600);
    // The password is right each time: more tries than the threshold are
    // all told it expired, none that the account is locked.
    for _ in 0..app.threshold() + 2 {
        let response = app.sign_in("partners", "newbie", TEMP).await;
        assert_error(
            response,
            StatusCode::FORBIDDEN,
            ErrorCode::TemporaryPasswordExpired,
        )
        .await;
    }
}
