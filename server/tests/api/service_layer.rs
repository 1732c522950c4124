//! What the service layer made the same everywhere: every proof of the
//! current password is counted and audited like a sign-in (the enrolment's
//! copy used to skip the locked refusal and the lock), and a failure that
//! locks is written with its lock row in one transaction (the portal's used
//! to write them apart).

use latchkey_shared::admin::{paths, PortalVerifyRequest};
use latchkey_shared::api::ErrorCode;
use latchkey_shared::self_service::{
    paths as ss_paths, EnrolAnswer, EnrolRequest, DEFAULT_QUESTIONS,
};
use reqwest::StatusCode;

use crate::helpers::{assert_error, new_client, spawn_app, Backend, TestApp, STRONG};
use crate::hostile_input::fail_audit_rows_of;

both_backends!(
    changing_the_enrolment_with_wrong_passwords_is_counted_audited_and_locks_like_a_sign_in,
    a_portal_failure_that_locks_is_written_with_its_lock_row_or_not_at_all,
    every_domain_uses_the_local_credential_store_unless_told_otherwise,
);

fn enrolment(current_password: Option<&str>) -> EnrolRequest {
    EnrolRequest {
        current_password: current_password.map(str::to_owned),
        answers: DEFAULT_QUESTIONS
            .iter()
            .zip(["Hamilton", "Alexander", "Biscuit"])
            .map(|(q, a)| EnrolAnswer {
                question: (*q).to_owned(),
                answer: a.to_owned(),
            })
            .collect(),
    }
}

fn threshold(app: &TestApp) -> usize {
    usize::try_from(app.state.config.lockout_threshold).unwrap()
}

/// `(kind, result)` of every audit row, oldest first.
async fn kinds(app: &TestApp) -> Vec<(String, String)> {
    app.audit_events()
        .await
        .into_iter()
        .map(|row| (row.kind, row.result))
        .collect()
}

fn count(rows: &[(String, String)], kind: &str, result: &str) -> usize {
    rows.iter()
        .filter(|(k, r)| k == kind && r == result)
        .count()
}

async fn changing_the_enrolment_with_wrong_passwords_is_counted_audited_and_locks_like_a_sign_in(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let put = |req: EnrolRequest| {
        let (client, url) = (client.clone(), app.url(ss_paths::ENROLMENT));
        async move { client.put(url).json(&req).send().await.unwrap() }
    };
    assert_eq!(put(enrolment(None)).await.status(), StatusCode::OK);

    let n = threshold(&app);
    for _ in 0..n {
        let r = put(enrolment(Some("not the password"))).await;
        assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;
    }
    let r = put(enrolment(Some(STRONG))).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;

    let rows = kinds(&app).await;
    assert_eq!(
        count(&rows, "self_service.enrolment", "failure"),
        n,
        "{rows:?}"
    );
    assert_eq!(count(&rows, "account_locked", "locked"), 1, "{rows:?}");
    assert_eq!(
        count(&rows, "self_service.enrolment", "locked"),
        1,
        "{rows:?}"
    );
    // The lock is the sign-in's: the right password is refused there too.
    let r = app.sign_in("partners", "jsmith", STRONG).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
}

async fn portal_verify(app: &TestApp, key: &str, password: &str) -> reqwest::Response {
    new_client()
        .post(app.url(paths::PORTAL_VERIFY))
        .bearer_auth(key)
        .json(&PortalVerifyRequest {
            domain: "partners".into(),
            username: "jsmith".into(),
            password: password.into(),
        })
        .send()
        .await
        .unwrap()
}

async fn a_portal_failure_that_locks_is_written_with_its_lock_row_or_not_at_all(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let key = app.add_portal_key().await;
    let n = threshold(&app);
    for _ in 1..n {
        let r = portal_verify(&app, &key, "wrong").await;
        assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;
    }
    // The lock row cannot be written: the failure that causes it is not
    // written either (one transaction), and the request says it failed.
    fail_audit_rows_of(&app, "account_locked").await;
    let r = portal_verify(&app, &key, "wrong").await;
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
    let rows = kinds(&app).await;
    assert_eq!(count(&rows, "portal.verify", "failure"), n - 1, "{rows:?}");
    assert_eq!(count(&rows, "account_locked", "locked"), 0, "{rows:?}");
    // The failure itself was counted before the check (the lockout does not
    // depend on the audit trail): the account is locked.
    let r = portal_verify(&app, &key, STRONG).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
}

async fn every_domain_uses_the_local_credential_store_unless_told_otherwise(backend: Backend) {
    let app = spawn_app(backend).await;
    let stores: Vec<String> =
        sqlx::query_scalar("SELECT credential_store FROM domains ORDER BY id")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    assert!(!stores.is_empty());
    assert!(stores.iter().all(|s| s == "local"), "{stores:?}");
    // A store the server does not know is an error, never a silent fallback.
    sqlx::query("UPDATE domains SET credential_store = 'carrier_pigeon' WHERE slug = 'partners'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let r = app.sign_in("partners", "jsmith", STRONG).await;
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
}
