//! Unlock Account and Forgot Password in domains that ask for a second
//! factor: a code from an authenticator app, or a one-time code mailed to
//! the address on file (a real SMTP server, latchkey_testkit::smtp). Each code
//! works once; the step looks the same for every name.

use latchkey_server::mail::sender::{send_due, Mailer};
use latchkey_server::password::secret_box::SecretBox;
use latchkey_shared::api::{ApiError, ErrorCode};
use latchkey_shared::factors::{paths as factor_paths, AuthenticatorSetup};
use latchkey_shared::self_service::{
    messages, paths, AnswersRequest, FinishResponse, FlowKind, NewPasswordRequest, QuestionsStep,
    SecondFactor,
};
use latchkey_testkit::smtp::SmtpServer;
use reqwest::StatusCode;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{spawn_app_with, Backend, TestApp, STRONG, STRONG_2};
use crate::self_service::{answer_for, enrolled_user, Flow};

both_backends!(
    unlock_with_questions_and_an_authenticator_code_accepts_each_code_once,
    forgot_password_with_questions_and_a_mailed_code_refuses_a_reused_or_expired_code,
    the_code_step_is_the_same_for_unknown_unenrolled_and_factorless_names,
    a_code_alone_unlocks_where_the_domain_asks_no_questions,
    wrong_codes_count_toward_the_self_service_block,
);

pub(crate) struct FactorApp {
    pub(crate) app: TestApp,
    pub(crate) smtp: SmtpServer,
    pub(crate) mailer: Mailer,
}

/// Sends the mail due once the work after the answers is done (a code is
/// mailed after the identify step has answered); how many were sent.
pub(crate) async fn mail_now(fa: &FactorApp) -> usize {
    fa.app.state.background.settled().await;
    send_due(&fa.app.state, &fa.mailer).await.unwrap()
}

pub(crate) async fn factor_app(backend: Backend, factor: SecondFactor) -> FactorApp {
    let smtp = SmtpServer::start();
    let mail = crate::helpers::mail_config(&smtp);
    let mailer = Mailer::new(&mail).unwrap();
    let key = SecretBox::generate_key();
    let app = spawn_app_with(backend, move |c| {
        c.mail = Some(mail);
        c.secret_key = Some(key.into());
    })
    .await;
    let domain_id: i64 = sqlx::query_scalar("SELECT id FROM domains WHERE slug = 'partners'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let mut settings =
        latchkey_server::accounts::self_service::checks::settings(&app.state.db, domain_id)
            .await
            .unwrap();
    settings.second_factor = factor;
    settings.verification_minutes = 15;
    latchkey_server::accounts::self_service::checks::set_settings(
        &app.state.db.pool,
        domain_id,
        &settings,
    )
    .await
    .unwrap();
    FactorApp { app, smtp, mailer }
}

pub(crate) fn totp_code(setup: &AuthenticatorSetup, at: i64) -> String {
    let secret = Secret::Encoded(setup.secret.replace(' ', ""))
        .to_bytes()
        .unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret, None, String::new())
        .generate(u64::try_from(at).unwrap())
}

/// jsmith (enrolled) adds an authenticator; the clock moves past the
/// confirming code's step.
pub(crate) async fn with_authenticator(app: &TestApp) -> AuthenticatorSetup {
    let client = crate::helpers::new_client();
    app.sign_in_with(&client, "partners", "jsmith", STRONG)
        .await;
    let setup: AuthenticatorSetup = client
        .post(app.url(factor_paths::AUTHENTICATOR_SETUP))
        .json(&serde_json::json!({"password": STRONG}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = client
        .post(app.url(factor_paths::AUTHENTICATOR_CONFIRM))
        .json(&serde_json::json!({"code": totp_code(&setup, app.state.now())}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.clock.advance(30);
    setup
}

pub(crate) async fn with_address(app: &TestApp, username: &str, email: &str) {
    sqlx::query("UPDATE users SET email = $1 WHERE username_key = $2")
        .bind(email)
        .bind(username)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

/// Identify, the answers (right) and `code`, the second CAPTCHA.
pub(crate) async fn run_with_code(
    flow: &Flow<'_>,
    username: &str,
    code: &str,
) -> reqwest::Response {
    let q = flow.identify(username).await;
    assert!(q.code_requested);
    answer_then_finish(flow, &q, code).await
}

pub(crate) async fn answer_then_finish(
    flow: &Flow<'_>,
    q: &QuestionsStep,
    code: &str,
) -> reqwest::Response {
    let answers = q.questions.iter().map(|q| answer_for(q)).collect();
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

pub(crate) async fn error_of(r: reqwest::Response) -> (StatusCode, ApiError) {
    (r.status(), r.json().await.unwrap())
}

/// Every code mailed to `to` so far.
pub(crate) fn codes_mailed(fa: &FactorApp, to: &str) -> Vec<String> {
    fa.smtp
        .received()
        .iter()
        .filter(|m| m.to == to && m.subject.starts_with("Your code for"))
        .map(|m| {
            m.text
                .split_whitespace()
                .map(|w| w.trim_end_matches('.'))
                .find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()))
                .expect("an 8-digit code")
                .to_owned()
        })
        .collect()
}

/// The one code mailed to `to` that is not among `known`.
pub(crate) fn new_code(fa: &FactorApp, to: &str, known: &[String]) -> String {
    let fresh: Vec<_> = codes_mailed(fa, to)
        .into_iter()
        .filter(|c| !known.contains(c))
        .collect();
    assert_eq!(fresh.len(), 1, "one new code: {fresh:?}");
    fresh[0].clone()
}

async fn unlock_with_questions_and_an_authenticator_code_accepts_each_code_once(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    let setup = with_authenticator(app).await;
    app.lock_out("partners", "jsmith").await;
    let code = totp_code(&setup, app.state.now());
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let r = run_with_code(&flow, "jsmith", &code).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );

    // The same code again (same 30 s): a replay, refused.
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let (status, e) = error_of(run_with_code(&flow, "jsmith", &code).await).await;
    assert_eq!(
        (status, e.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::VerificationFailed
        )
    );
    // Right answers and a wrong code fail too.
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let (status, _) = error_of(run_with_code(&flow, "jsmith", "000000").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The next code works.
    app.clock.advance(30);
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let r = run_with_code(&flow, "jsmith", &totp_code(&setup, app.state.now())).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Someone with an authenticator is mailed no code.
    with_address(app, "jsmith", "jsmith@example.test").await;
    mail_now(&fa).await;
    assert!(fa
        .smtp
        .received()
        .iter()
        .all(|m| !m.subject.starts_with("Your code")));
}

async fn forgot_password_with_questions_and_a_mailed_code_refuses_a_reused_or_expired_code(
    backend: Backend,
) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    with_address(app, "jsmith", "jsmith@example.test").await;

    let flow = Flow::new(app, FlowKind::Reset).await;
    let q = flow.identify("jsmith").await;
    assert_eq!(mail_now(&fa).await, 1);
    let code = new_code(&fa, "jsmith@example.test", &[]);
    let r = answer_then_finish(&flow, &q, &code).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let FinishResponse::ChoosePassword { policy, .. } = r.json().await.unwrap() else {
        panic!("expected the password step");
    };
    let r = flow
        .post(
            paths::FLOW_PASSWORD,
            &NewPasswordRequest {
                new_password: STRONG_2.into(),
                confirm_password: STRONG_2.into(),
                policy_version: policy.version,
            },
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG_2).await.status(),
        StatusCode::OK
    );
    // The code is not kept once sent.
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body_text FROM outbox WHERE kind = 'code'")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    assert!(bodies.iter().all(|b| !b.contains(&code)), "{bodies:?}");

    // An old code in a new flow (which mailed a new one): refused.
    let flow = Flow::new(app, FlowKind::Reset).await;
    let (status, _) = error_of(run_with_code(&flow, "jsmith", &code).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    mail_now(&fa).await;
    let fresh = new_code(&fa, "jsmith@example.test", std::slice::from_ref(&code));
    assert_ne!(fresh, code);
    // The right code, but eleven minutes late: refused. (The flow mails
    // nothing new: the code just mailed is still valid.)
    let flow = Flow::new(app, FlowKind::Reset).await;
    let q = flow.identify("jsmith").await;
    assert_eq!(mail_now(&fa).await, 0);
    app.clock.advance(11 * 60);
    let (status, e) = error_of(answer_then_finish(&flow, &q, &fresh).await).await;
    assert_eq!(
        (status, e.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::VerificationFailed
        )
    );
}

async fn the_code_step_is_the_same_for_unknown_unenrolled_and_factorless_names(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await; // jsmith: enrolled, no authenticator, no address
    app.add_user("newbie", "New Bie", STRONG).await; // not enrolled
    let mut steps = Vec::new();
    let mut verdicts = Vec::new();
    for name in ["jsmith", "newbie", "nobody"] {
        let flow = Flow::new(app, FlowKind::Reset).await;
        let q = flow.identify(name).await;
        steps.push((q.questions.len(), q.seconds_left, q.code_requested));
        let answers = q
            .questions
            .iter()
            .map(|_| "some answer".to_owned())
            .collect();
        let r = flow
            .post(
                paths::FLOW_ANSWERS,
                &AnswersRequest {
                    answers,
                    code: Some("12345678".into()),
                },
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        let (status, e) = error_of(flow.finish().await).await;
        verdicts.push((status, e.code, e.message));
    }
    assert!(steps.iter().all(|s| *s == steps[0]), "{steps:?}");
    assert!(steps[0].2, "the code is asked of everyone");
    assert!(verdicts.iter().all(|v| *v == verdicts[0]), "{verdicts:?}");
    assert_eq!(verdicts[0].1, ErrorCode::VerificationFailed);
    // Nobody had an address: no mail at all.
    assert_eq!(mail_now(&fa).await, 0);
    // A missing code is asked for, for anyone.
    let flow = Flow::new(app, FlowKind::Reset).await;
    let q = flow.identify("nobody").await;
    let r = flow
        .post(
            paths::FLOW_ANSWERS,
            &AnswersRequest {
                answers: q.questions.iter().map(|_| "x y z".to_owned()).collect(),
                code: None,
            },
        )
        .await;
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e.message, messages::CODE_MISSING);
}

async fn a_code_alone_unlocks_where_the_domain_asks_no_questions(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::Only).await;
    let app = &fa.app;
    app.add_user("jsmith", "Jane Smith", STRONG).await; // never enrolled
    with_address(app, "jsmith", "jsmith@example.test").await;
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let q = flow.identify("jsmith").await;
    assert!(q.questions.is_empty() && q.code_requested, "{q:?}");
    mail_now(&fa).await;
    let code = new_code(&fa, "jsmith@example.test", &[]);
    let r = answer_then_finish(&flow, &q, &code).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    // An unknown name with any code: the one failure.
    let flow = Flow::new(app, FlowKind::Unlock).await;
    let q = flow.identify("nobody").await;
    assert!(q.questions.is_empty());
    let (status, _) = error_of(answer_then_finish(&flow, &q, &code).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn wrong_codes_count_toward_the_self_service_block(backend: Backend) {
    let fa = factor_app(backend, SecondFactor::WithQuestions).await;
    let app = &fa.app;
    enrolled_user(app).await;
    let max = 3; // the default max_failures
    for _ in 0..max {
        let flow = Flow::new(app, FlowKind::Reset).await;
        let (status, _) = error_of(run_with_code(&flow, "jsmith", "00000000").await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let flow = Flow::new(app, FlowKind::Reset).await;
    let c = flow.captcha().await;
    let r = flow.identify_raw("jsmith", &c).await;
    let (status, e) = error_of(r).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SelfServiceBlocked)
    );
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.detail.as_deref() == Some("wrong code")));
}
