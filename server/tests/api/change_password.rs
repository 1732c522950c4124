use latchkey_shared::api::{messages, ChangePasswordResponse, ErrorCode, ErrorDetails};
use latchkey_shared::{PasswordPolicy, RuleId};
use reqwest::StatusCode;

use crate::helpers::{
    assert_error, new_client, spawn_app, spawn_app_with, Backend, TestApp, STRONG, STRONG_2,
    STRONG_3, STRONG_4, STRONG_5,
};

both_backends!(
    the_portal_named_after_a_change_is_the_configured_one,
    a_confirmation_that_differs_is_refused,
    a_weak_password_is_refused_with_the_rule_report,
    the_current_password_cannot_be_reused,
    passwords_in_the_history_cannot_be_reused_up_to_its_depth,
    a_password_containing_the_user_name_is_refused,
    a_password_containing_the_display_name_or_product_name_is_refused,
    a_password_in_the_blocklist_file_is_refused_whatever_its_case,
    an_outdated_policy_version_gets_409_with_the_current_policy,
    a_wrong_current_password_is_refused_and_counts_toward_the_lockout,
    a_successful_change_ends_other_sessions_and_retires_the_old_password,
);

async fn signed_in(app: &TestApp) {
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
}

fn failed_rules(err: &latchkey_shared::api::ApiError) -> Vec<RuleId> {
    match &err.details {
        Some(ErrorDetails::PasswordReport { report }) => {
            assert!(!report.passed());
            report
                .rules
                .iter()
                .filter(|r| !r.passed)
                .map(|r| r.rule)
                .collect()
        }
        other => panic!("expected a password report, got {other:?}"),
    }
}

async fn a_confirmation_that_differs_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let version = app.policy_version("partners").await;
    let response = app
        .change_password_with(&app.client, STRONG, STRONG_2, STRONG_3, version)
        .await;
    let err = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordsDoNotMatch,
    )
    .await;
    assert_eq!(err.message, messages::PASSWORDS_DO_NOT_MATCH);
}

async fn a_weak_password_is_refused_with_the_rule_report(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let response = app.change_password(STRONG, "password1").await;
    let err = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordRejected,
    )
    .await;
    let failed = failed_rules(&err);
    assert!(failed.contains(&RuleId::MinLength), "{failed:?}");
    // The old password still works.
    let response = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn the_current_password_cannot_be_reused(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let response = app.change_password(STRONG, STRONG).await;
    let err = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordReused,
    )
    .await;
    assert_eq!(err.message, messages::PASSWORD_REUSED);
}

async fn passwords_in_the_history_cannot_be_reused_up_to_its_depth(backend: Backend) {
    let app = spawn_app(backend).await;
    app.set_policy(
        "partners",
        PasswordPolicy {
            history_depth: 2,
            ..PasswordPolicy::default()
        },
    )
    .await;
    signed_in(&app).await;

    assert_eq!(
        app.change_password(STRONG, STRONG_2).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.change_password(STRONG_2, STRONG_3).await.status(),
        StatusCode::OK
    );
    // History: STRONG_2, STRONG. Both refused.
    for old in [STRONG, STRONG_2] {
        let response = app.change_password(STRONG_3, old).await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PasswordReused,
        )
        .await;
    }
    assert_eq!(
        app.change_password(STRONG_3, STRONG_4).await.status(),
        StatusCode::OK
    );
    // History: STRONG_3, STRONG_2; STRONG has dropped out and may return.
    let response = app.change_password(STRONG_4, STRONG_2).await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordReused,
    )
    .await;
    assert_eq!(
        app.change_password(STRONG_4, STRONG).await.status(),
        StatusCode::OK
    );
    let _ = STRONG_5;
}

async fn a_password_containing_the_user_name_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let response = app
        .change_password(STRONG, "orchid-JSMITH-tangent-5831")
        .await;
    let err = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordRejected,
    )
    .await;
    assert!(failed_rules(&err).contains(&RuleId::NoContextWords));
}

async fn a_password_containing_the_display_name_or_product_name_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    for candidate in [
        "orchid-Smith-tangent-5831-quiver",
        "orchid-latchkey-tangent-5831",
        "orchid-Partners-tangent-5831",
    ] {
        let response = app.change_password(STRONG, candidate).await;
        let err = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PasswordRejected,
        )
        .await;
        assert!(
            failed_rules(&err).contains(&RuleId::NoContextWords),
            "{candidate}"
        );
    }
}

async fn a_password_in_the_blocklist_file_is_refused_whatever_its_case(backend: Backend) {
    let list = std::env::temp_dir().join(format!(
        "latchkey-blocklist-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&list, "123456\nCOPPER-meadow-QUARTZ-2749\n\n").unwrap();
    let app = spawn_app_with(backend, |c| c.blocklist_file = Some(list.clone())).await;
    signed_in(&app).await;

    let response = app.change_password(STRONG, STRONG_2).await;
    let err = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordRejected,
    )
    .await;
    assert_eq!(failed_rules(&err), vec![RuleId::NotBreached]);
    assert_eq!(
        app.change_password(STRONG, STRONG_3).await.status(),
        StatusCode::OK
    );
    let _ = std::fs::remove_file(list);
}

async fn an_outdated_policy_version_gets_409_with_the_current_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let old_version = app.policy_version("partners").await;
    let policy = PasswordPolicy {
        min_length: 20,
        ..PasswordPolicy::default()
    };
    let new_version = app.set_policy("partners", policy.clone()).await;
    assert!(new_version > old_version);

    let response = app
        .change_password_with(&app.client, STRONG, STRONG_2, STRONG_2, old_version)
        .await;
    let err = assert_error(response, StatusCode::CONFLICT, ErrorCode::PolicyChanged).await;
    match err.details {
        Some(ErrorDetails::Policy { policy: current }) => {
            assert_eq!(current.version, new_version);
            assert_eq!(current.min_length, 20);
        }
        other => panic!("expected the policy, got {other:?}"),
    }
    // With the current version, the new rule applies (STRONG_2 is 25 long).
    let response = app
        .change_password_with(&app.client, STRONG, STRONG_2, STRONG_2, new_version)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_wrong_current_password_is_refused_and_counts_toward_the_lockout(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    for _ in 0..app.threshold() {
        let response = app.change_password("not-my-password", STRONG_2).await;
        assert_error(
            response,
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
        )
        .await;
    }
    let before = app.verifications();
    let response = app.change_password(STRONG, STRONG_2).await;
    assert_error(response, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
    assert_eq!(app.verifications(), before);
    let response = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(response.status(), StatusCode::LOCKED);
}

async fn a_successful_change_ends_other_sessions_and_retires_the_old_password(backend: Backend) {
    let app = spawn_app(backend).await;
    signed_in(&app).await;
    let other = new_client();
    assert_eq!(
        app.sign_in_with(&other, "partners", "jsmith", STRONG)
            .await
            .status(),
        StatusCode::OK
    );

    let response = app.change_password(STRONG, STRONG_2).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: ChangePasswordResponse = response.json().await.unwrap();
    assert_eq!(
        body.message,
        messages::password_changed(latchkey_server::config::DEFAULT_PORTAL_NAME)
    );

    // This session goes on; the other one has ended.
    assert_eq!(app.get_session().await.status(), StatusCode::OK);
    let response = app.get_session_with(&other).await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;

    let fresh = new_client();
    let response = app.sign_in_with(&fresh, "partners", "jsmith", STRONG).await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
    )
    .await;
    assert_eq!(
        app.sign_in_with(&fresh, "partners", "jsmith", STRONG_2)
            .await
            .status(),
        StatusCode::OK
    );

    let events = app.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.is("password_change", "success") && e.about("jsmith")),
        "{events:?}"
    );
}

async fn the_portal_named_after_a_change_is_the_configured_one(backend: Backend) {
    // By default no product is named.
    let app = spawn_app(backend).await;
    let boot: latchkey_shared::api::Bootstrap = app
        .client
        .get(app.url(latchkey_shared::api::paths::BOOTSTRAP))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        boot.portal_name,
        latchkey_server::config::DEFAULT_PORTAL_NAME
    );
    signed_in(&app).await;
    let body: ChangePasswordResponse = app
        .change_password(STRONG, STRONG_2)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !body.message.contains("ClinicalConnect"),
        "{}",
        body.message
    );

    let app = spawn_app_with(backend, |c| c.portal_name = "ClinicalConnect".into()).await;
    let boot: latchkey_shared::api::Bootstrap = app
        .client
        .get(app.url(latchkey_shared::api::paths::BOOTSTRAP))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(boot.portal_name, "ClinicalConnect");
    signed_in(&app).await;
    let body: ChangePasswordResponse = app
        .change_password(STRONG, STRONG_2)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body.message
            .contains("sign in to ClinicalConnect with your new password"),
        "{}",
        body.message
    );
}
