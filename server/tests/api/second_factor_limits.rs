//! The limits around the code step of Unlock Account and Forgot Password
//! (issue 17, findings 4, 9, 10 and 12): a total cap on wrong codes, an
//! authenticator the server can no longer read, how often a code is mailed
//! and what the identify step's answer tells, where the codes' key lives
//! and how long a code mail waits in the outbox.

use latchkey_server::password::secret_box::SecretBox;
use latchkey_shared::admin::{paths as admin_paths, AdminDomain};
use latchkey_shared::api::ErrorCode;
use latchkey_shared::factors::{MAIL_CODES_PER_HOUR, MAX_WRONG_CODES};
use latchkey_shared::self_service::{
    messages, paths, AnswersRequest, FlowKind, SecondFactor, SelfServiceSettings, DEFAULT_QUESTIONS,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, TestApp, STRONG};
use crate::second_factor::{
    answer_then_finish, codes_mailed, error_of, factor_app, mail_now, new_code, totp_code,
    with_address, with_authenticator, FactorApp,
};
use crate::self_service::{answer_for, enrolled_user, Flow};
use crate::staff::{action, administrator, lra};

both_backends!(
    ten_wrong_codes_stop_self_service_alike_for_known_and_unknown_names_until_the_owner_signs_in,
    the_help_desk_starts_a_stopped_self_service_again_by_unlocking_or_clearing_the_enrolment,
    parallel_wrong_codes_are_checked_no_more_than_the_cap_in_all,
    settings_that_would_turn_the_verification_limit_off_are_refused,
    an_authenticator_key_the_server_cannot_open_counts_as_none_for_the_verdict,
    without_a_secret_key_an_authenticator_on_record_counts_as_none_and_mailed_codes_still_work,
    a_second_request_while_a_code_is_valid_mails_nothing_new_and_that_code_works,
    no_more_than_three_codes_an_hour_are_mailed_to_an_account,
    code_hashes_are_keyed_with_the_server_key_not_the_database_secret,
    a_code_mail_not_sent_within_the_codes_life_is_never_sent,
);

async fn partners_id(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM domains WHERE slug = 'partners'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn adjust_settings(app: &TestApp, change: impl FnOnce(&mut SelfServiceSettings)) {
    let id = partners_id(app).await;
    let mut settings = latchkey_server::accounts::self_service::checks::settings(&app.state.db, id)
        .await
        .unwrap();
    change(&mut settings);
    latchkey_server::accounts::self_service::checks::set_settings(
        &app.state.db.pool,
        id,
        &settings,
    )
    .await
    .unwrap();
}

/// Identify, the answers (right for jsmith, made up for the decoys of
/// others) and `code`, the second CAPTCHA: the final answer.
async fn run_with_code(flow: &Flow<'_>, username: &str, code: &str) -> reqwest::Response {
    let q = flow.identify(username).await;
    assert!(q.code_requested);
    let answers = q
        .questions
        .iter()
        .map(|q| {
            if DEFAULT_QUESTIONS[..3].contains(&q.as_str()) {
                answer_for(q)
            } else {
                "some answer".to_owned()
            }
        })
        .collect();
    let r = flow
        .post(
            paths::FLOW_ANSWERS,
            &AnswersRequest {
                answers,
                code: Some(code.to_owned()),
            },
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    flow.finish().await
}

/// A 6-digit code the authenticator does not show around now.
fn wrong_app_code(setup: &latchkey_shared::factors::AuthenticatorSetup, now: i64) -> String {
    let near: Vec<String> = (-2..=2).map(|i| totp_code(setup, now + i * 30)).collect();
    ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap()
        .to_owned()
}

/// The identify step's refusal (status, code, message), if it refuses.
async fn identify_refusal(app: &TestApp, name: &str) -> Option<(StatusCode, ErrorCode, String)> {
    let flow = Flow::new(app, FlowKind::Reset).await;
    let c = flow.captcha().await;
    let r = flow.identify_raw(name, &c).await;
    if r.status() == StatusCode::OK {
        return None;
    }
    let (status, e) = error_of(r).await;
    Some((status, e.code, e.message))
}

/// Wrong codes for `name` until the cap: each checked and refused.
async fn wrong_codes_up_to_the_cap(app: &TestApp, name: &str, wrong: &str) {
    for attempt in 1..=MAX_WRONG_CODES {
        let flow = Flow::new(app, FlowKind::Reset).await;
        let (status, e) = error_of(run_with_code(&flow, name, wrong).await).await;
        assert_eq!(
            (status, e.code),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::VerificationFailed
            ),
            "wrong code {attempt} for {name}"
        );
    }
}

async fn ten_wrong_codes_stop_self_service_alike_for_known_and_unknown_names_until_the_owner_signs_in(
    backend: Backend,
) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    let setup = with_authenticator(app).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    // The per-window block out of the way: only the total cap is left.
    adjust_settings(app, |s| s.max_failures = 1000).await;
    let wrong = wrong_app_code(&setup, app.state.now());
    for name in ["jsmith", "nobody"] {
        wrong_codes_up_to_the_cap(app, name, &wrong).await;
    }
    // Stopped, and the same answer for both names.
    let jsmith = identify_refusal(app, "jsmith").await.expect("stopped");
    let nobody = identify_refusal(app, "nobody").await.expect("stopped");
    assert_eq!(jsmith, nobody);
    assert_eq!(
        (jsmith.0, jsmith.1),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SelfServiceBlocked)
    );
    // Time does not lift it.
    app.clock.advance(2 * 24 * 3600);
    assert!(identify_refusal(app, "jsmith").await.is_some());
    let halted: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.is("self_service.halted", "locked"))
        .map(|e| e.subject)
        .collect();
    assert_eq!(
        halted,
        vec![Some("jsmith".to_owned()), Some("nobody".to_owned())]
    );
    // The owner is told, once.
    mail_now(&fa).await;
    let told = fa
        .smtp
        .received()
        .into_iter()
        .filter(|m| m.to == "jsmith@example.test" && m.subject.contains("self-service was stopped"))
        .count();
    assert_eq!(told, 1);

    // The owner signs in: their self-service starts again, and a right
    // code works (the unknown name stays stopped).
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    assert!(identify_refusal(app, "nobody").await.is_some());
    let flow = Flow::new(app, FlowKind::Reset).await;
    let r = run_with_code(&flow, "jsmith", &totp_code(&setup, app.state.now())).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn halt(app: &TestApp, name: &str) {
    sqlx::query(
        "INSERT INTO code_failures (domain_id, username_key, wrong_codes, halted_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(partners_id(app).await)
    .bind(name)
    .bind(i64::from(MAX_WRONG_CODES))
    .bind(app.state.now())
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    assert!(
        identify_refusal(app, name).await.is_some(),
        "{name} stopped"
    );
}

async fn the_help_desk_starts_a_stopped_self_service_again_by_unlocking_or_clearing_the_enrolment(
    backend: Backend,
) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    let jane = enrolled_user(app).await;
    let (_, desk) = lra(app).await;
    for (path, why) in [
        (admin_paths::STAFF_UNLOCK, "called, ID checked"),
        (
            admin_paths::STAFF_CLEAR_ENROLMENT,
            "called, ID checked again",
        ),
        (admin_paths::STAFF_TEMP_PASSWORD, "called a third time"),
    ] {
        halt(app, "jsmith").await;
        let r = action(app, &desk, path, jane.id, why).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{path}: {}",
            r.text().await.unwrap()
        );
        assert_eq!(identify_refusal(app, "jsmith").await, None, "after {path}");
    }
}

async fn parallel_wrong_codes_are_checked_no_more_than_the_cap_in_all(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    adjust_settings(app, |s| s.max_failures = 1000).await;
    let mut flows = Vec::new();
    for _ in 0..24 {
        let flow = Flow::new(app, FlowKind::Reset).await;
        let q = flow.identify("jsmith").await;
        let answers: Vec<String> = q.questions.iter().map(|q| answer_for(q)).collect();
        flows.push((flow, answers));
    }
    let tasks: Vec<_> = flows
        .iter()
        .map(|(flow, answers)| {
            let client = flow.client.clone();
            let url = app.url(&paths::flow(paths::FLOW_ANSWERS, &flow.id));
            let body = AnswersRequest {
                answers: answers.clone(),
                code: Some("00000000".into()),
            };
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    let mut checked = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => checked += 1,
            // Stopped, or the hashing queue was full (nothing counted).
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= MAX_WRONG_CODES, "{checked} codes checked");
    // Whatever the queue refused, one at a time until stopped: the cap in all.
    while identify_refusal(app, "jsmith").await.is_none() {
        let flow = Flow::new(app, FlowKind::Reset).await;
        let r = run_with_code(&flow, "jsmith", "00000000").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        checked += 1;
        assert!(checked <= MAX_WRONG_CODES, "{checked} codes checked");
    }
    assert_eq!(checked, MAX_WRONG_CODES);
}

async fn settings_that_would_turn_the_verification_limit_off_are_refused(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let (_, admin) = administrator(&app).await;
    let url = app.url(&admin_paths::ADMIN_DOMAIN.replace("{slug}", "partners"));
    let domains: Vec<AdminDomain> = admin
        .get(app.url(admin_paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let partners = domains.into_iter().find(|d| d.slug == "partners").unwrap();
    for zero in ["block_minutes", "failure_window_minutes"] {
        let mut ss = serde_json::to_value(&partners.self_service).unwrap();
        ss[zero] = json!(0);
        let body = json!({
            "name": partners.name, "sspm_available": true, "unavailable_text": null,
            "policy": partners.policy, "lockout_threshold": null, "lockout_minutes": null,
            "self_service": ss,
        });
        let r = admin.put(&url).json(&body).send().await.unwrap();
        let (status, e) = error_of(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{zero}");
        assert!(
            e.message.contains(messages::LIMIT_DISABLED),
            "{zero}: {}",
            e.message
        );
    }
    assert_eq!(
        latchkey_server::accounts::self_service::checks::settings(
            &app.state.db,
            partners_id(&app).await
        )
        .await
        .unwrap(),
        partners.self_service,
        "nothing was stored"
    );

    // Settings stored before 0 was refused still limit, and the command
    // line refuses to store them again.
    enrolled_user(&app).await;
    let legacy = SelfServiceSettings {
        block_minutes: 0,
        failure_window_minutes: 0,
        ..SelfServiceSettings::default()
    };
    sqlx::query(
        "INSERT INTO self_service_settings (domain_id, settings) VALUES ($1, $2) \
         ON CONFLICT (domain_id) DO UPDATE SET settings = $2",
    )
    .bind(partners_id(&app).await)
    .bind(serde_json::to_string(&legacy).unwrap())
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let e = latchkey_server::settings::provisioning::set_second_factor(
        &app.state,
        "partners",
        SecondFactor::WithQuestions,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains(messages::LIMIT_DISABLED), "{e}");
    for _ in 0..legacy.max_failures {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        let r = flow.run("jsmith", false).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let refused = identify_refusal(&app, "jsmith").await.expect("blocked");
    assert_eq!(refused.1, ErrorCode::SelfServiceBlocked);
}

/// The verdict of a flow for `name` with `code`: (status, code, message).
async fn verdict(app: &TestApp, name: &str, code: &str) -> (StatusCode, ErrorCode, String) {
    let flow = Flow::new(app, FlowKind::Reset).await;
    let (status, e) = error_of(run_with_code(&flow, name, code).await).await;
    (status, e.code, e.message)
}

async fn an_authenticator_key_the_server_cannot_open_counts_as_none_for_the_verdict(
    backend: Backend,
) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    let jane = enrolled_user(app).await;
    let setup = with_authenticator(app).await;
    // The secret_key changed: the stored key was sealed with another one.
    let other = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
    sqlx::query("UPDATE authenticators SET secret = $1 WHERE user_id = $2")
        .bind(other.seal(jane.id, b"12345678901234567890").unwrap())
        .bind(jane.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let code = totp_code(&setup, app.state.now());
    let theirs = verdict(app, "jsmith", &code).await;
    let nobodys = verdict(app, "nobody", &code).await;
    assert_eq!(theirs, nobodys);
    assert_eq!(
        (theirs.0, theirs.1),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::VerificationFailed
        )
    );
    assert!(app.audit_events().await.iter().any(|e| {
        e.is("self_service.reset", "failure")
            && e.about("jsmith")
            && e.detail.as_deref() == Some("wrong code")
    }));
    // The console counts it.
    let (_, admin) = administrator(app).await;
    let domains: Vec<AdminDomain> = admin
        .get(app.url(admin_paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let count = |slug: &str| {
        domains
            .iter()
            .find(|d| d.slug == slug)
            .unwrap()
            .unreadable_authenticators
    };
    assert_eq!((count("partners"), count("hrcc")), (1, 0));
    // Like someone without one, they can use a mailed code.
    with_address(app, "jsmith", "jsmith@example.test").await;
    let flow = Flow::new(app, FlowKind::Reset).await;
    let q = flow.identify("jsmith").await;
    assert_eq!(mail_now(&fa).await, 1);
    let mailed = new_code(&fa, "jsmith@example.test", &[]);
    let r = answer_then_finish(&flow, &q, &mailed).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn without_a_secret_key_an_authenticator_on_record_counts_as_none_and_mailed_codes_still_work(
    backend: Backend,
) {
    let smtp = latchkey_testkit::smtp::SmtpServer::start();
    let mail = crate::helpers::mail_config(&smtp);
    let mailer = latchkey_server::mail::sender::Mailer::new(&mail).unwrap();
    let app = spawn_app_with(backend, move |c| c.mail = Some(mail)).await;
    adjust_settings(&app, |s| s.second_factor = SecondFactor::WithQuestions).await;
    let jane = enrolled_user(&app).await;
    // An authenticator added while the server had a key, since removed.
    let old = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
    sqlx::query(
        "INSERT INTO authenticators (user_id, secret, confirmed_at, last_step, created_at) \
         VALUES ($1, $2, $3, 0, $3)",
    )
    .bind(jane.id)
    .bind(old.seal(jane.id, b"12345678901234567890").unwrap())
    .bind(app.state.now())
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let fa = FactorApp { app, smtp, mailer };
    let app = &fa.app;
    let theirs = verdict(app, "jsmith", "123456").await;
    assert_eq!(theirs, verdict(app, "nobody", "123456").await);
    assert_eq!(theirs.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Codes are keyed with the database's secret then: they still work.
    with_address(app, "jsmith", "jsmith@example.test").await;
    let flow = Flow::new(app, FlowKind::Reset).await;
    let q = flow.identify("jsmith").await;
    mail_now(&fa).await;
    let mailed = new_code(&fa, "jsmith@example.test", &[]);
    let r = answer_then_finish(&flow, &q, &mailed).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn a_second_request_while_a_code_is_valid_mails_nothing_new_and_that_code_works(
    backend: Backend,
) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    // Three at once: one mail.
    let (a, b, c) = (
        Flow::new(app, FlowKind::Reset).await,
        Flow::new(app, FlowKind::Reset).await,
        Flow::new(app, FlowKind::Reset).await,
    );
    tokio::join!(
        a.identify("jsmith"),
        b.identify("jsmith"),
        c.identify("jsmith")
    );
    assert_eq!(mail_now(&fa).await, 1);
    let code = new_code(&fa, "jsmith@example.test", &[]);
    app.clock.advance(5 * 60);
    let second = Flow::new(app, FlowKind::Reset).await;
    let q = second.identify("jsmith").await;
    assert!(q.code_requested);
    assert_eq!(mail_now(&fa).await, 0, "no second mail");
    let r = answer_then_finish(&second, &q, &code).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Used: it does not work a second time, and the next request mails anew.
    let third = Flow::new(app, FlowKind::Reset).await;
    let q = third.identify("jsmith").await;
    assert_eq!(mail_now(&fa).await, 1);
    let (status, _) = error_of(answer_then_finish(&third, &q, &code).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn no_more_than_three_codes_an_hour_are_mailed_to_an_account(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::Only).await;
    let app = &fa.app;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    // A request every 11 minutes: each after the last code expired.
    for _ in 0..=MAIL_CODES_PER_HOUR {
        let flow = Flow::new(app, FlowKind::Unlock).await;
        assert!(flow.identify("jsmith").await.code_requested);
        mail_now(&fa).await;
        app.clock.advance(11 * 60);
    }
    let mailed = codes_mailed(&fa, "jsmith@example.test");
    assert_eq!(mailed.len(), MAIL_CODES_PER_HOUR as usize);
    // An hour after the first, another.
    app.clock.advance(30 * 60);
    let flow = Flow::new(app, FlowKind::Unlock).await;
    flow.identify("jsmith").await;
    assert_eq!(mail_now(&fa).await, 1);
}

async fn code_hashes_are_keyed_with_the_server_key_not_the_database_secret(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::Only).await;
    let app = &fa.app;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    let flow = Flow::new(app, FlowKind::Unlock).await;
    flow.identify("jsmith").await;
    mail_now(&fa).await;
    let code = new_code(&fa, "jsmith@example.test", &[]);
    let stored: String = sqlx::query_scalar("SELECT code_hash FROM mail_codes WHERE user_id = $1")
        .bind(jane.id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let db_secret = latchkey_server::accounts::self_service::checks::secret(&app.state.db)
        .await
        .unwrap();
    let with = |secret: &str| {
        hex_of(
            &latchkey_server::accounts::self_service::checks::keyed_hash(
                secret,
                "mail-code",
                &[&jane.id.to_string(), &code],
            ),
        )
    };
    assert_ne!(stored, with(&db_secret), "the database's secret finds it");
    let key = app.state.secret_box.as_ref().expect("a secret_key");
    assert_eq!(stored, with(key.code_key()));
    // Nothing in the database is the key.
    let texts: Vec<String> = sqlx::query_scalar("SELECT value FROM settings")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert!(texts.iter().all(|t| t != key.code_key()));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_code_mail_not_sent_within_the_codes_life_is_never_sent(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::Only).await;
    let app = &fa.app;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    let flow = Flow::new(app, FlowKind::Unlock).await;
    flow.identify("jsmith").await;
    app.state.background.settled().await;
    // The mail server was down for the code's ten minutes.
    app.clock.advance(10 * 60);
    assert_eq!(mail_now(&fa).await, 0);
    assert!(codes_mailed(&fa, "jsmith@example.test").is_empty());
    let (status, text, error): (String, String, Option<String>) = {
        let r = sqlx::query("SELECT status, body_text, last_error FROM outbox WHERE kind = 'code'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        use sqlx::Row;
        (r.get("status"), r.get("body_text"), r.get("last_error"))
    };
    assert_eq!(status, "failed");
    assert_eq!(text, "", "the code is not kept");
    assert_eq!(
        error.as_deref(),
        Some(latchkey_server::mail::outbox::EXPIRED)
    );
}

/// The identify step's statements, read from the request's own span; on
/// PostgreSQL only, where statements run in the request's task (see
/// `helpers::statements`). The code path is the same on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identify_step_runs_the_same_statements_whether_a_code_is_mailed_or_not_on_postgres() {
    crate::helpers::statements::record();
    let fa = factor_app(Backend::Postgres, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    with_address(app, "jsmith", "jsmith@example.test").await;
    app.add_user("noaddress", "No Address", STRONG).await;
    let mut runs = Vec::new();
    for name in ["jsmith", "noaddress", "nobody"] {
        let flow = Flow::new(app, FlowKind::Reset).await;
        flow.identify(name).await;
        let statements =
            crate::helpers::statements::of_requests_to(&format!("{}/identify", flow.id));
        assert!(
            statements.len() >= 4,
            "the statements were seen for {name:?}: {statements:?}"
        );
        runs.push((name, statements));
    }
    assert_eq!(mail_now(&fa).await, 1, "jsmith was mailed a code");
    let (first, expected) = &runs[0];
    for (name, statements) in &runs[1..] {
        assert_eq!(
            statements, expected,
            "{name:?} ran other statements than {first:?}"
        );
    }
}
