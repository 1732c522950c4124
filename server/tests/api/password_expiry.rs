//! Password expiry, per domain and off by default: an old password signs in
//! only to be changed, the account page learns when it expires, and one
//! reminder is mailed before (a real SMTP server, latchkey_testkit::smtp).

use latchkey_server::accounts::expiry::remind_due;
use latchkey_server::mail::sender::{send_due, Mailer};
use latchkey_shared::api::SessionInfo;
use latchkey_shared::factors::{paths, PasswordExpiry};
use latchkey_testkit::smtp::SmtpServer;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, STRONG_2, STRONG_4};

both_backends!(
    a_password_older_than_the_domains_maximum_age_signs_in_only_to_be_changed,
    passwords_never_expire_unless_the_domain_says_so,
    one_reminder_is_mailed_some_days_before_the_password_expires,
    the_portal_answers_an_expired_password_as_expired,
);

const DAY: i64 = 86_400;

async fn set_max_age(app: &TestApp, days: u32, reminder_days: u32) {
    let domain_id: i64 = sqlx::query_scalar("SELECT id FROM domains WHERE slug = 'partners'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let mut settings =
        latchkey_server::accounts::self_service::checks::settings(&app.state.db, domain_id)
            .await
            .unwrap();
    settings.password_max_age_days = days;
    settings.expiry_reminder_days = reminder_days;
    latchkey_server::accounts::self_service::checks::set_settings(
        &app.state.db.pool,
        domain_id,
        &settings,
    )
    .await
    .unwrap();
}

async fn expiry(app: &TestApp) -> PasswordExpiry {
    app.client
        .get(app.url(paths::PASSWORD_EXPIRY))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn a_password_older_than_the_domains_maximum_age_signs_in_only_to_be_changed(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    set_max_age(&app, 90, 14).await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    let t0 = app.state.now();
    let r = app.sign_in("partners", "jsmith", STRONG_4).await;
    let info: SessionInfo = r.json().await.unwrap();
    assert!(!info.must_change_password);
    let e = expiry(&app).await;
    assert_eq!((e.expires_at, e.expired), (Some(t0 + 90 * DAY), false));

    app.clock.advance(91 * DAY);
    let r = app.sign_in("partners", "jsmith", STRONG_4).await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: SessionInfo = r.json().await.unwrap();
    assert!(
        info.must_change_password,
        "an expired password must be changed"
    );
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.detail.as_deref() == Some("password expired: must change it")));
    // The page may still ask why (its banner says "expired", not
    // "temporary"); every other account page refuses.
    let e = expiry(&app).await;
    assert_eq!((e.expires_at, e.expired), (Some(t0 + 90 * DAY), true));
    let r = app
        .client
        .get(app.url(paths::AUTHENTICATOR))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.change_password(STRONG_4, STRONG_2).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app.sign_in("partners", "jsmith", STRONG_2).await;
    let info: SessionInfo = r.json().await.unwrap();
    assert!(!info.must_change_password);
    assert_eq!(
        expiry(&app).await.expires_at,
        Some(app.state.now() + 90 * DAY)
    );
}

async fn passwords_never_expire_unless_the_domain_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    app.clock.advance(3000 * DAY);
    let r = app.sign_in("partners", "jsmith", STRONG_4).await;
    let info: SessionInfo = r.json().await.unwrap();
    assert!(!info.must_change_password);
    assert_eq!(
        expiry(&app).await,
        PasswordExpiry {
            expires_at: None,
            expired: false
        }
    );
}

async fn one_reminder_is_mailed_some_days_before_the_password_expires(backend: Backend) {
    let smtp = SmtpServer::start();
    let mail = crate::helpers::mail_config(&smtp);
    let mailer = Mailer::new(&mail).unwrap();
    let app = spawn_app_with(backend, move |c| c.mail = Some(mail)).await;
    set_max_age(&app, 30, 7).await;
    let jo = app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    sqlx::query("UPDATE users SET email = 'jo@example.test' WHERE id = $1")
        .bind(jo.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let t0 = app.state.now();
    app.clock.advance(22 * DAY);
    assert_eq!(remind_due(&app.state).await.unwrap(), 0, "not yet");
    app.clock.advance(DAY + 60);
    assert_eq!(remind_due(&app.state).await.unwrap(), 1);
    assert_eq!(
        remind_due(&app.state).await.unwrap(),
        0,
        "once per password"
    );
    send_due(&app.state, &mailer).await.unwrap();
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Your password expires soon");
    assert!(
        mails[0]
            .text
            .contains(&latchkey_server::mail::notices::when(t0 + 30 * DAY)),
        "{}",
        mails[0].text
    );
    // A new password: a reminder is due again near its own expiry only.
    app.sign_in("partners", "jsmith", STRONG_4).await;
    assert_eq!(
        app.change_password(STRONG_4, STRONG_2).await.status(),
        StatusCode::OK
    );
    assert_eq!(remind_due(&app.state).await.unwrap(), 0);
    app.clock.advance(24 * DAY);
    assert_eq!(remind_due(&app.state).await.unwrap(), 1);
}

/// The security review's finding 6: the portal's check ignored the
/// maximum age, so a password the PWA makes you change was `valid` there.
async fn the_portal_answers_an_expired_password_as_expired(backend: Backend) {
    use latchkey_shared::admin::{paths as admin_paths, PasswordStatus, PortalVerifyRequest};
    let app = spawn_app(backend).await;
    set_max_age(&app, 90, 14).await;
    app.add_user("jsmith", "Jo Smith", STRONG_4).await;
    let key = app.add_portal_key().await;
    let verify = || async {
        let r = crate::helpers::new_client()
            .post(app.url(admin_paths::PORTAL_VERIFY))
            .bearer_auth(&key)
            .json(&PortalVerifyRequest {
                domain: "partners".into(),
                username: "jsmith".into(),
                password: STRONG_4.into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<latchkey_shared::admin::PortalVerifyResponse>()
            .await
            .unwrap()
            .status
    };
    assert_eq!(verify().await, PasswordStatus::Valid);
    app.clock.advance(91 * DAY);
    assert_eq!(verify().await, PasswordStatus::Expired);
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.is("portal.verify", "success")
            && e.detail.as_deref() == Some("verified: password expired")));
}
