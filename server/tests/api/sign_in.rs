use latchkey_shared::api::{messages, ErrorCode, SessionInfo};
use reqwest::StatusCode;

use crate::helpers::{api_error, assert_error, spawn_app, spawn_app_with, Backend, STRONG};

both_backends!(
    the_right_password_starts_a_session,
    a_wrong_user_name_and_a_wrong_password_get_identical_answers,
    an_unknown_domain_gets_the_same_answer_at_the_same_cost,
    a_domain_without_self_service_is_refused_with_its_own_text,
    a_disabled_user_gets_the_same_answer_as_a_wrong_password,
    user_names_are_matched_case_insensitively,
    sign_ins_are_audited_without_secrets,
    the_session_cookie_is_secure_when_the_public_url_is_https,
);

async fn the_right_password_starts_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;

    let response = app.sign_in("partners", "jsmith", STRONG).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("a cookie is set")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("latchkey_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let info: SessionInfo = response.json().await.unwrap();
    assert_eq!(info.user.username, "jsmith");
    assert_eq!(info.user.display_name, "Jane Smith");
    assert_eq!(info.user.domain, "partners");
    assert_eq!(info.user.domain_name, "Partners");
    assert!(!info.must_change_password);
    assert_eq!(info.idle_timeout_secs, 15 * 60);

    let again = app.get_session().await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: SessionInfo = again.json().await.unwrap();
    assert_eq!(again, info);
}

async fn a_wrong_user_name_and_a_wrong_password_get_identical_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;

    let before = app.verifications();
    let wrong_password = app.sign_in("partners", "jsmith", "not-the-password").await;
    assert_eq!(app.verifications(), before + 1);
    let wrong_user = app.sign_in("partners", "nobody", STRONG).await;
    assert_eq!(
        app.verifications(),
        before + 2,
        "unknown users cost a verification too"
    );

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_user.status(), StatusCode::UNAUTHORIZED);
    let a = wrong_password.text().await.unwrap();
    let b = wrong_user.text().await.unwrap();
    assert_eq!(a, b, "the bodies must not tell which was wrong");
    let err: latchkey_shared::api::ApiError = serde_json::from_str(&a).unwrap();
    assert_eq!(err.code, ErrorCode::InvalidCredentials);
    assert_eq!(err.message, messages::INVALID_CREDENTIALS);
}

async fn an_unknown_domain_gets_the_same_answer_at_the_same_cost(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let reference = app
        .sign_in("partners", "jsmith", "wrong-password")
        .await
        .text()
        .await
        .unwrap();

    let before = app.verifications();
    let response = app.sign_in("nowhere", "jsmith", STRONG).await;
    assert_eq!(app.verifications(), before + 1);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.text().await.unwrap(), reference);
}

async fn a_domain_without_self_service_is_refused_with_its_own_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.sign_in("hhsc", "someone", STRONG).await;
    let err = assert_error(response, StatusCode::FORBIDDEN, ErrorCode::SspmUnavailable).await;
    assert_eq!(err.message, "SSPM is not available for HHSC Domain Users.");
}

async fn a_disabled_user_gets_the_same_answer_as_a_wrong_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    latchkey_server::settings::provisioning::set_user_disabled(&app.state, user.id, true)
        .await
        .unwrap();
    let reference = app
        .sign_in("partners", "nobody", STRONG)
        .await
        .text()
        .await
        .unwrap();

    let before = app.verifications();
    let response = app.sign_in("partners", "jsmith", STRONG).await;
    assert_eq!(
        app.verifications(),
        before + 1,
        "the password is still checked"
    );
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.text().await.unwrap(), reference);
}

async fn user_names_are_matched_case_insensitively(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("JSmith", "Jane Smith", STRONG).await;
    let response = app.sign_in("Partners", "  jsmith ", STRONG).await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert_eq!(info.user.username, "JSmith", "shown as first entered");
}

async fn sign_ins_are_audited_without_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", "Wrong-Guess-123")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );

    let events = app.audit_events().await;
    let sign_ins: Vec<_> = events.iter().filter(|e| e.kind == "sign_in").collect();
    assert_eq!(sign_ins.len(), 2, "{events:?}");
    assert_eq!(sign_ins[0].result, "failure");
    assert!(sign_ins[0].about("jsmith"));
    assert_eq!(sign_ins[1].result, "success");
    let everything = format!("{events:?}");
    assert!(!everything.contains("Wrong-Guess-123") && !everything.contains(STRONG));
}

async fn the_session_cookie_is_secure_when_the_public_url_is_https(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.public_url = Some("https://pm.example.org".into());
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let response = app.sign_in("partners", "jsmith", STRONG).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let err = api_error(app.sign_in("partners", "jsmith", "x").await).await;
    assert_eq!(err.code, ErrorCode::InvalidCredentials);
}
