//! CSRF protection, malformed requests and the API's error answers.

use latchkey_shared::api::{paths, ErrorCode, CSRF_HEADER};
use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, Backend, STRONG};

both_backends!(
    a_state_changing_request_without_json_or_the_custom_header_is_refused,
    a_non_json_body_with_the_custom_header_gets_415,
    malformed_json_gets_400_with_a_clear_message,
    a_missing_field_gets_400_naming_it,
    unknown_api_paths_get_a_json_404,
    a_wrong_method_gets_a_json_405,
    health_answers_ok,
    api_answers_are_not_cached,
);

async fn a_state_changing_request_without_json_or_the_custom_header_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    // What a cross-site HTML form would send.
    let form = app
        .client
        .post(app.url(paths::SESSION))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("domain=partners&username=jsmith&password=x")
        .send()
        .await
        .unwrap();
    let err = assert_error(form, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    assert!(err.message.contains(CSRF_HEADER), "{}", err.message);

    app.sign_in_as(&user).await;
    let bare_delete = app
        .client
        .delete(app.url(paths::SESSION))
        .send()
        .await
        .unwrap();
    assert_error(bare_delete, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    assert_eq!(
        app.get_session().await.status(),
        StatusCode::OK,
        "still signed in"
    );
    assert_eq!(app.sign_out().await.status(), StatusCode::NO_CONTENT);
}

async fn a_non_json_body_with_the_custom_header_gets_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url(paths::SESSION))
        .header(CSRF_HEADER, "1")
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
    )
    .await;
}

async fn malformed_json_gets_400_with_a_clear_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url(paths::SESSION))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{\"domain\": \"partners\", ")
        .send()
        .await
        .unwrap();
    let err = assert_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    assert!(err.message.contains("not valid JSON"), "{}", err.message);
}

async fn a_missing_field_gets_400_naming_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url(paths::SESSION))
        .json(&serde_json::json!({"domain": "partners", "username": "jsmith"}))
        .send()
        .await
        .unwrap();
    let err = assert_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    assert!(err.message.contains("password"), "{}", err.message);
}

async fn unknown_api_paths_get_a_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api", "/api/", "/api/nothing/here"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    }
}

async fn a_wrong_method_gets_a_json_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .put(app.url(paths::SESSION))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadRequest,
    )
    .await;
}

async fn health_answers_ok(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [paths::HEALTH, paths::HEALTH_LIVE, paths::HEALTH_READY] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.unwrap(), "ok", "{path}");
    }
    // Readiness wrote nothing: an unchanged settings table.
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE key = '#readiness'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

async fn api_answers_are_not_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get_session().await;
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-store"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}
