//! The account page's authenticator app (TOTP): added with a code from its
//! key, kept encrypted, each code accepted once, removed after the password.

use latchkey_server::accounts::factors::authenticator::accept_code;
use latchkey_server::password::secret_box::SecretBox;
use latchkey_shared::factors::{paths, AuthenticatorSetup, AuthenticatorStatus};
use reqwest::StatusCode;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{
    api_error, in_parallel, spawn_app_with, Backend, TestApp, STRONG_4, STRONG_5,
};

both_backends!(
    an_authenticator_is_added_with_a_code_from_its_key_and_removed_after_the_password,
    each_code_is_accepted_once_and_a_wrong_or_stale_one_never,
    the_key_is_kept_only_encrypted,
    adding_an_authenticator_needs_the_password_again_and_every_step_is_audited,
    thirty_parallel_setups_all_answer_and_leave_one_key_to_confirm,
);

async fn app_with_key(backend: Backend) -> TestApp {
    let key = SecretBox::generate_key();
    spawn_app_with(backend, move |c| c.secret_key = Some(key.into())).await
}

/// A code as an authenticator app computes it from the key shown.
fn code(setup: &AuthenticatorSetup, at: i64) -> String {
    let secret = Secret::Encoded(setup.secret.replace(' ', ""))
        .to_bytes()
        .expect("base32");
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret, None, String::new())
        .generate(u64::try_from(at).unwrap())
}

async fn signed_in_setup(app: &TestApp) -> AuthenticatorSetup {
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    let r = app.sign_in("partners", "jsmith", STRONG_4).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .post(app.url(paths::AUTHENTICATOR_SETUP))
        .json(&serde_json::json!({ "password": STRONG_4 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn confirm(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url(paths::AUTHENTICATOR_CONFIRM))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn status(app: &TestApp) -> AuthenticatorStatus {
    app.client
        .get(app.url(paths::AUTHENTICATOR))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn an_authenticator_is_added_with_a_code_from_its_key_and_removed_after_the_password(
    backend: Backend,
) {
    let app = app_with_key(backend).await;
    let setup = signed_in_setup(&app).await;
    assert!(
        setup.otpauth_uri.starts_with("otpauth://totp/"),
        "{}",
        setup.otpauth_uri
    );
    assert!(
        setup.otpauth_uri.contains("jsmith"),
        "{}",
        setup.otpauth_uri
    );
    assert!(!status(&app).await.active, "not until confirmed");
    // Not a code, then a wrong one: refused with words to act on.
    let e = api_error(confirm(&app, "12345").await).await;
    assert!(e.message.contains("6 digits"), "{}", e.message);
    let now = app.state.now();
    let wrong = if code(&setup, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = confirm(&app, wrong).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(api_error(r).await.message.contains("not right"));
    let r = confirm(&app, &code(&setup, now)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let s = status(&app).await;
    assert!(s.active && s.available && s.since == Some(now), "{s:?}");
    // A second one only after removing the first.
    let r = app
        .client
        .post(app.url(paths::AUTHENTICATOR_SETUP))
        .json(&serde_json::json!({ "password": STRONG_4 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let remove = |password: &'static str| {
        app.client
            .delete(app.url(paths::AUTHENTICATOR))
            .json(&serde_json::json!({ "password": password }))
            .send()
    };
    let r = remove("not-the-password").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(status(&app).await.active, "kept");
    let r = remove(STRONG_4).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!status(&app).await.active);
    let audit = app.audit_events().await;
    assert!(audit.iter().any(|e| e.is("authenticator.added", "success")));
    assert!(audit
        .iter()
        .any(|e| e.is("authenticator.removed", "success")));
    assert!(audit
        .iter()
        .any(|e| e.is("authenticator.removed", "failure")));
}

async fn each_code_is_accepted_once_and_a_wrong_or_stale_one_never(backend: Backend) {
    let app = app_with_key(backend).await;
    let setup = signed_in_setup(&app).await;
    let t0 = app.state.now();
    assert_eq!(
        confirm(&app, &code(&setup, t0)).await.status(),
        StatusCode::OK
    );
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username_key = 'jsmith'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let accept = |c: String| {
        let state = app.state.clone();
        async move {
            let mut tx = state.db.pool.begin().await.unwrap();
            let ok = accept_code(&state, &mut tx, user_id, &c, true)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            ok
        }
    };
    // The confirming code is used up: the same step again is a replay.
    assert!(!accept(code(&setup, t0)).await, "replayed");
    app.clock.advance(30);
    let next = code(&setup, app.state.now());
    assert!(accept(next.clone()).await);
    assert!(!accept(next).await, "replayed");
    // The previous step's code is within the skew but older than the last
    // one used: refused.
    assert!(!accept(code(&setup, app.state.now() - 30)).await);
    // Far from now: refused.
    app.clock.advance(30);
    assert!(!accept(code(&setup, app.state.now() + 300)).await);
    assert!(!accept("abcdef".into()).await);
    assert!(accept(code(&setup, app.state.now())).await);
}

async fn the_key_is_kept_only_encrypted(backend: Backend) {
    let app = app_with_key(backend).await;
    let setup = signed_in_setup(&app).await;
    let stored: String = sqlx::query_scalar("SELECT secret FROM authenticators")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let base32 = setup.secret.replace(' ', "");
    assert!(!stored.contains(&base32) && !stored.contains(&base32[..8]));
    let raw = Secret::Encoded(base32).to_bytes().unwrap();
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &stored).unwrap();
    assert!(
        !decoded.windows(raw.len()).any(|w| w == raw.as_slice()),
        "not the raw key either"
    );
}

#[tokio::test]
async fn without_a_server_key_no_authenticator_can_be_added_and_the_reason_is_given() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    app.sign_in("partners", "jsmith", STRONG_4).await;
    let s = status(&app).await;
    assert!(!s.available && !s.active);
    let r = app
        .client
        .post(app.url(paths::AUTHENTICATOR_SETUP))
        .json(&serde_json::json!({ "password": STRONG_4 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(api_error(r).await.message.contains("secret_key"));
}

async fn setup_with(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url(paths::AUTHENTICATOR_SETUP))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn authenticator_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM authenticators")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn adding_an_authenticator_needs_the_password_again_and_every_step_is_audited(
    backend: Backend,
) {
    let app = app_with_key(backend).await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG_4).await.status(),
        StatusCode::OK
    );
    // A session alone is not enough: no password, a wrong one, an empty one.
    let r = setup_with(&app, serde_json::json!({})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = setup_with(&app, serde_json::json!({ "password": STRONG_5 })).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The wrong password counts toward the lockout like a sign-in's.
    let failures: i64 = sqlx::query_scalar(
        "SELECT failed_count FROM failure_counters WHERE username_key = 'jsmith'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(failures, 1);
    let r = setup_with(&app, serde_json::json!({ "password": "" })).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(authenticator_rows(&app).await, 0, "no key was issued");

    let r = setup_with(&app, serde_json::json!({ "password": STRONG_4 })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let setup: AuthenticatorSetup = r.json().await.unwrap();
    let now = app.state.now();
    let wrong = if code(&setup, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(confirm(&app, wrong).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        confirm(&app, &code(&setup, now)).await.status(),
        StatusCode::OK
    );

    let audit = app.audit_events().await;
    let of = |kind: &str, result: &str| {
        audit
            .iter()
            .filter(|e| e.is(kind, result) && e.about("jsmith"))
            .count()
    };
    assert!(of("authenticator.setup", "failure") >= 1, "{audit:#?}");
    assert_eq!(of("authenticator.setup", "success"), 1);
    assert_eq!(of("authenticator.added", "failure"), 1, "the wrong code");
    assert_eq!(of("authenticator.added", "success"), 1);
    assert!(audit
        .iter()
        .filter(|e| e.kind.starts_with("authenticator."))
        .all(|e| e.detail.as_deref().is_none_or(|d| !d.contains(wrong))));
}

async fn thirty_parallel_setups_all_answer_and_leave_one_key_to_confirm(backend: Backend) {
    let key = SecretBox::generate_key();
    let app = spawn_app_with(backend, move |c| {
        c.secret_key = Some(key.into());
        // Each setup reserves a failure before its password is checked: room
        // for thirty at once.
        c.lockout_threshold = 100;
    })
    .await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG_4).await.status(),
        StatusCode::OK
    );
    let answers = in_parallel(
        (0..30)
            .map(|_| {
                app.client
                    .post(app.url(paths::AUTHENTICATOR_SETUP))
                    .json(&serde_json::json!({ "password": STRONG_4 }))
            })
            .collect(),
    )
    .await;
    let mut setups = Vec::new();
    for r in answers {
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        setups.push(r.json::<AuthenticatorSetup>().await.unwrap());
    }
    assert_eq!(authenticator_rows(&app).await, 1);
    // The key kept is one of those shown, and it confirms.
    let now = app.state.now();
    let mut confirmed = 0;
    for setup in &setups {
        if confirm(&app, &code(setup, now)).await.status() == StatusCode::OK {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 1);
    assert!(status(&app).await.active);
    let setup_rows = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.is("authenticator.setup", "success"))
        .count();
    assert_eq!(setup_rows, 30);
}
