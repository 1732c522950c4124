use latchkey_shared::api::{paths, ErrorCode, SESSION_COOKIE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::helpers::{assert_error, session_token, spawn_app, Backend, STRONG};

both_backends!(
    without_a_session_the_api_answers_not_authenticated,
    a_session_ends_after_the_idle_timeout,
    each_request_keeps_the_session_alive,
    signing_out_deletes_the_session_so_the_old_cookie_no_longer_works,
    the_database_stores_only_a_hash_of_the_session_token,
    signing_in_again_replaces_the_previous_session,
);

async fn without_a_session_the_api_answers_not_authenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get_session().await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    let response = app.change_password("a", "b").await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    let response = app
        .client
        .get(app.url(paths::SESSION))
        .header(
            reqwest::header::COOKIE,
            format!("{SESSION_COOKIE}=forged-token"),
        )
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
}

async fn a_session_ends_after_the_idle_timeout(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;

    app.clock.advance(15 * 60);
    let response = app.get_session().await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    // And it is gone for good, even if the clock went back.
    app.clock.advance(-15 * 60);
    assert_eq!(app.get_session().await.status(), StatusCode::UNAUTHORIZED);
}

async fn each_request_keeps_the_session_alive(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    for _ in 0..4 {
        app.clock.advance(14 * 60);
        assert_eq!(app.get_session().await.status(), StatusCode::OK);
    }
}

async fn signing_out_deletes_the_session_so_the_old_cookie_no_longer_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let response = app
        .sign_in(&user.domain, &user.username, &user.password)
        .await;
    let token = session_token(&response).expect("token");

    let out = app.sign_out().await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = out.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with(&format!("{SESSION_COOKIE}=;")),
        "{cleared}"
    );
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(count, 0);

    // Someone who kept the old cookie gets nothing.
    let replay = reqwest::Client::new()
        .get(app.url(paths::SESSION))
        .header(reqwest::header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .send()
        .await
        .unwrap();
    assert_error(
        replay,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    // Signing out twice is harmless.
    assert_eq!(app.sign_out().await.status(), StatusCode::NO_CONTENT);
    let events = app.audit_events().await;
    assert!(events.iter().any(|e| e.kind == "sign_out"), "{events:?}");
}

async fn the_database_stores_only_a_hash_of_the_session_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let response = app
        .sign_in(&user.domain, &user.username, &user.password)
        .await;
    let token = session_token(&response).expect("token");
    assert!(token.len() >= 43, "32 random bytes, base64url");

    let ids: Vec<String> = sqlx::query("SELECT id FROM sessions")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("id"))
        .collect();
    assert_eq!(ids, vec![hex::encode(Sha256::digest(token.as_bytes()))]);
}

async fn signing_in_again_replaces_the_previous_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    app.sign_in_as(&user).await;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(count, 1);
}
