//! Issue 3: enrolment with security questions, and the verification that
//! Unlock Account and Forgot Password share (CAPTCHA, timed questions,
//! second CAPTCHA), with the failure limit and no enumeration. The CAPTCHA
//! answers are read through the `test-hooks` feature, which these tests turn
//! on (dev-dependency of latchkey-server on itself).

use latchkey_shared::api::ErrorCode;
use latchkey_shared::self_service::{
    messages, paths, AnswersRequest, CaptchaChallenge, EnrolAnswer, EnrolRequest, EnrolmentStatus,
    FinishRequest, FinishResponse, FlowKind, FlowStarted, IdentifyRequest, NewPasswordRequest,
    QuestionsStep, SelfServiceSettings, StartFlowRequest, DEFAULT_QUESTIONS,
};
use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{
    assert_error, new_client, session_token, spawn_app, Backend, TestApp, TestUser, STRONG,
    STRONG_2,
};

both_backends!(
    a_new_user_is_not_enrolled_and_sees_the_catalogue,
    enrolment_stores_only_hashes_and_shows_the_questions_never_the_answers,
    enrolment_refuses_answers_that_break_the_rules,
    custom_questions_only_where_the_domain_allows_them,
    re_enrolment_needs_the_password_again,
    enrolment_needs_a_full_session,
    unlock_account_clears_the_lock_and_the_right_password_works_again,
    forgot_password_sets_a_new_password_ends_sessions_and_does_not_sign_in,
    forgot_password_checks_the_new_password_like_change_password,
    the_captcha_is_case_insensitive_single_use_and_renewable,
    a_wrong_captcha_is_refused,
    the_captcha_expires_after_two_minutes,
    a_late_answer_is_refused_and_the_flow_must_start_again,
    wrong_answers_fail_at_the_end_with_the_one_message,
    three_failed_verifications_block_self_service_for_thirty_minutes,
    parallel_submissions_get_no_more_than_three_checks,
    unknown_not_enrolled_and_not_locked_names_look_the_same,
    decoy_questions_are_stable_and_plausible,
    a_domain_without_self_service_refuses_the_flows,
    an_unknown_flow_id_is_expired,
    the_server_secret_is_created_once_and_kept,
);

const ANSWERS: [&str; 3] = ["Hamilton", "Alexander", "Biscuit"];

pub(crate) fn enrol_request(password: Option<&str>) -> EnrolRequest {
    EnrolRequest {
        current_password: password.map(str::to_owned),
        answers: DEFAULT_QUESTIONS
            .iter()
            .zip(ANSWERS)
            .map(|(q, a)| EnrolAnswer {
                question: (*q).to_owned(),
                answer: a.to_owned(),
            })
            .collect(),
    }
}

/// The answer to a question enrolled by [`enrol_request`] (any case/spacing).
pub(crate) fn answer_for(question: &str) -> String {
    let i = DEFAULT_QUESTIONS
        .iter()
        .position(|q| *q == question)
        .unwrap_or_else(|| panic!("not an enrolled question: {question}"));
    format!("  {}  ", ANSWERS[i].to_uppercase())
}

pub(crate) async fn put_enrolment(
    app: &TestApp,
    client: &reqwest::Client,
    req: &EnrolRequest,
) -> reqwest::Response {
    client
        .put(app.url(paths::ENROLMENT))
        .json(req)
        .send()
        .await
        .expect("request")
}

pub(crate) async fn get_enrolment(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .get(app.url(paths::ENROLMENT))
        .send()
        .await
        .expect("request")
}

/// `jsmith` in partners, enrolled with [`ANSWERS`]; signed out afterwards.
pub(crate) async fn enrolled_user(app: &TestApp) -> TestUser {
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = put_enrolment(app, &client, &enrol_request(None)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.sign_out_with(&client).await;
    user
}

/// One browser going through a flow.
pub(crate) struct Flow<'a> {
    app: &'a TestApp,
    pub(crate) client: reqwest::Client,
    pub(crate) id: String,
}

impl<'a> Flow<'a> {
    pub(crate) async fn start(app: &'a TestApp, kind: FlowKind, domain: &str) -> reqwest::Response {
        new_client()
            .post(app.url(paths::FLOWS))
            .json(&StartFlowRequest {
                kind,
                domain: domain.to_owned(),
            })
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn new(app: &'a TestApp, kind: FlowKind) -> Flow<'a> {
        let r = Self::start(app, kind, "partners").await;
        assert_eq!(r.status(), StatusCode::OK);
        let started: FlowStarted = r.json().await.unwrap();
        assert!(!started.captcha.image_png_base64.is_empty());
        assert_eq!(started.captcha.expires_in_secs, 120);
        assert!(started.captcha.alt_text.contains("Help Desk"));
        Flow {
            app,
            client: new_client(),
            id: started.flow_id,
        }
    }

    /// The current CAPTCHA's characters, through the test hook.
    pub(crate) async fn captcha(&self) -> String {
        let r = self
            .client
            .get(
                self.app
                    .url(&format!("/api/test-hooks/captcha/{}", self.id)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    }

    pub(crate) async fn post<B: serde::Serialize>(
        &self,
        template: &str,
        body: &B,
    ) -> reqwest::Response {
        self.client
            .post(self.app.url(&paths::flow(template, &self.id)))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn identify_raw(&self, username: &str, captcha: &str) -> reqwest::Response {
        self.post(
            paths::FLOW_IDENTIFY,
            &IdentifyRequest {
                username: username.to_owned(),
                captcha: captcha.to_owned(),
            },
        )
        .await
    }

    pub(crate) async fn identify(&self, username: &str) -> QuestionsStep {
        let c = self.captcha().await;
        let r = self.identify_raw(username, &c).await;
        assert_eq!(r.status(), StatusCode::OK, "identify");
        r.json().await.unwrap()
    }

    pub(crate) async fn answer_raw(&self, answers: Vec<String>) -> reqwest::Response {
        self.post(
            paths::FLOW_ANSWERS,
            &AnswersRequest {
                answers,
                code: None,
            },
        )
        .await
    }

    pub(crate) async fn answer(&self, answers: Vec<String>) -> CaptchaChallenge {
        let r = self.answer_raw(answers).await;
        assert_eq!(r.status(), StatusCode::OK, "answers");
        r.json().await.unwrap()
    }

    pub(crate) async fn finish_raw(&self, captcha: &str) -> reqwest::Response {
        self.post(
            paths::FLOW_FINISH,
            &FinishRequest {
                captcha: captcha.to_owned(),
            },
        )
        .await
    }

    pub(crate) async fn finish(&self) -> reqwest::Response {
        let c = self.captcha().await;
        self.finish_raw(&c).await
    }

    /// Identify, answer right (if `right`), second CAPTCHA; the final answer.
    pub(crate) async fn run(&self, username: &str, right: bool) -> reqwest::Response {
        let q = self.identify(username).await;
        let answers = q
            .questions
            .iter()
            .map(|q| {
                if right {
                    answer_for(q)
                } else {
                    "wrong answer".to_owned()
                }
            })
            .collect();
        self.answer(answers).await;
        self.finish().await
    }
}

async fn audit_has(app: &TestApp, kind: &str, res: &str, detail: Option<&str>) -> bool {
    app.audit_events()
        .await
        .iter()
        .any(|e| e.is(kind, res) && detail.is_none_or(|d| e.detail.as_deref() == Some(d)))
}

// ---------------------------------------------------------------- enrolment

async fn a_new_user_is_not_enrolled_and_sees_the_catalogue(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    let status: EnrolmentStatus = get_enrolment(&app, &app.client).await.json().await.unwrap();
    assert!(!status.enrolled);
    assert!(status.questions.is_empty());
    assert!(status.catalogue.len() >= 8);
    assert!(status
        .catalogue
        .iter()
        .any(|q| q == "What town was your mother born in?"));
    assert!(status
        .catalogue
        .iter()
        .any(|q| q == "What is your father's middle name?"));
    assert_eq!(status.enrol_count, 3);
    assert!(!status.allow_skip, "enrolment is required by default");
    assert!(!status.allow_custom_questions);
}

async fn enrolment_stores_only_hashes_and_shows_the_questions_never_the_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    let r = put_enrolment(&app, &app.client, &enrol_request(None)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    for a in ANSWERS {
        assert!(!body.to_lowercase().contains(&a.to_lowercase()), "{body}");
    }
    let status: EnrolmentStatus = get_enrolment(&app, &app.client).await.json().await.unwrap();
    assert!(status.enrolled);
    assert_eq!(status.questions, DEFAULT_QUESTIONS[..3].to_vec());
    assert_eq!(status.enrolled_at, Some(crate::helpers::T0));

    let rows = sqlx::query("SELECT answer_hash FROM security_answers WHERE user_id = $1")
        .bind(user.id)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let h: String = row.get("answer_hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        for a in ANSWERS {
            assert!(!h.to_lowercase().contains(&a.to_lowercase()));
        }
    }
    assert!(audit_has(&app, "self_service.enrolment", "success", Some("enrolled")).await);
}

async fn enrolment_refuses_answers_that_break_the_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    let cases: [(usize, &str, &str); 4] = [
        (0, "ab", "at least 3"),
        (1, "hamilton", "different"),
        (0, "Mother's town", "word of its question"),
        (2, "Rex jsmith", "user name"),
    ];
    for (i, answer, expected) in cases {
        let mut req = enrol_request(None);
        req.answers[i].answer = answer.to_owned();
        let err = assert_error(
            put_enrolment(&app, &app.client, &req).await,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
        )
        .await;
        assert!(err.message.contains(expected), "{answer}: {}", err.message);
    }
    // Too few questions, and a question not in the catalogue.
    let mut req = enrol_request(None);
    req.answers.pop();
    put_enrolment(&app, &app.client, &req)
        .await
        .error_for_status()
        .unwrap_err();
    let mut req = enrol_request(None);
    req.answers[0].question = "What is my favourite secret thing?".into();
    let err = assert_error(
        put_enrolment(&app, &app.client, &req).await,
        StatusCode::BAD_REQUEST,
        ErrorCode::BadRequest,
    )
    .await;
    assert!(err.message.contains("from the list"), "{}", err.message);
    let status: EnrolmentStatus = get_enrolment(&app, &app.client).await.json().await.unwrap();
    assert!(!status.enrolled);
}

async fn custom_questions_only_where_the_domain_allows_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    let mut req = enrol_request(None);
    req.answers[2].question = "What was my grandmother's maiden name?".into();
    req.answers[2].answer = "Beaulieu".into();
    assert_eq!(
        put_enrolment(&app, &app.client, &req).await.status(),
        StatusCode::BAD_REQUEST
    );
    let partners = latchkey_server::db::domains::by_slug(&app.state.db, "partners")
        .await
        .unwrap()
        .unwrap();
    let settings = SelfServiceSettings {
        allow_custom_questions: true,
        ..SelfServiceSettings::default()
    };
    latchkey_server::accounts::self_service::checks::set_settings(
        &app.state.db.pool,
        partners.id,
        &settings,
    )
    .await
    .unwrap();
    assert_eq!(
        put_enrolment(&app, &app.client, &req).await.status(),
        StatusCode::OK
    );
    let status: EnrolmentStatus = get_enrolment(&app, &app.client).await.json().await.unwrap();
    assert!(status.allow_custom_questions);
    assert_eq!(
        status.questions[2],
        "What was my grandmother's maiden name?"
    );
}

async fn re_enrolment_needs_the_password_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = enrolled_user(&app).await;
    app.sign_in_as(&user).await;
    let mut req = enrol_request(None);
    req.answers[0].question = DEFAULT_QUESTIONS[5].to_owned();
    req.answers[0].answer = "Toronto".to_owned();
    let err = assert_error(
        put_enrolment(&app, &app.client, &req).await,
        StatusCode::BAD_REQUEST,
        ErrorCode::BadRequest,
    )
    .await;
    assert!(err.message.contains("current password"), "{}", err.message);
    req.current_password = Some("not-my-password".into());
    assert_error(
        put_enrolment(&app, &app.client, &req).await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
    )
    .await;
    req.current_password = Some(STRONG.into());
    assert_eq!(
        put_enrolment(&app, &app.client, &req).await.status(),
        StatusCode::OK
    );
    let status: EnrolmentStatus = get_enrolment(&app, &app.client).await.json().await.unwrap();
    assert_eq!(status.questions[0], DEFAULT_QUESTIONS[5]);
    assert!(
        audit_has(
            &app,
            "self_service.enrolment",
            "success",
            Some("re-enrolled")
        )
        .await
    );
    assert!(audit_has(&app, "self_service.enrolment", "failure", None).await);
}

async fn enrolment_needs_a_full_session(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_error(
        get_enrolment(&app, &new_client()).await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    let temp = app
        .add_user_in("partners", "newbie", "New Bie", STRONG, true)
        .await;
    app.sign_in_as(&temp).await;
    assert_error(
        put_enrolment(&app, &app.client, &enrol_request(None)).await,
        StatusCode::FORBIDDEN,
        ErrorCode::PasswordChangeRequired,
    )
    .await;
}

// ---------------------------------------------------------------- the flows

async fn unlock_account_clears_the_lock_and_the_right_password_works_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = enrolled_user(&app).await;
    app.lock_out("partners", "jsmith").await;

    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let q = flow.identify("JSmith").await;
    assert_eq!(q.questions.len(), 2);
    assert_eq!(q.seconds_left, 300);
    for question in &q.questions {
        assert!(DEFAULT_QUESTIONS[..3].contains(&question.as_str()));
    }
    flow.answer(q.questions.iter().map(|q| answer_for(q)).collect())
        .await;
    let r = flow.finish().await;
    assert_eq!(r.status(), StatusCode::OK);
    match r.json::<FinishResponse>().await.unwrap() {
        FinishResponse::Unlocked { message } => assert_eq!(message, messages::UNLOCKED),
        other => panic!("{other:?}"),
    }
    assert!(
        audit_has(
            &app,
            "self_service.unlock",
            "success",
            Some("account unlocked")
        )
        .await
    );
    app.sign_in_as(&user).await;
    // The flow is used up.
    assert_error(
        flow.finish_raw("X").await,
        StatusCode::GONE,
        ErrorCode::FlowExpired,
    )
    .await;
}

async fn forgot_password_sets_a_new_password_ends_sessions_and_does_not_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = enrolled_user(&app).await;
    let elsewhere = new_client();
    app.sign_in_with(&elsewhere, "partners", "jsmith", STRONG)
        .await;
    app.lock_out("partners", "jsmith").await;

    let flow = Flow::new(&app, FlowKind::Reset).await;
    let r = flow.run("jsmith", true).await;
    assert_eq!(r.status(), StatusCode::OK);
    let version = match r.json::<FinishResponse>().await.unwrap() {
        FinishResponse::ChoosePassword {
            username,
            display_name,
            policy,
            seconds_left,
            ..
        } => {
            assert_eq!(username, "jsmith");
            assert_eq!(display_name, "Jane Smith");
            assert!(seconds_left > 0);
            policy.version
        }
        other => panic!("{other:?}"),
    };
    let r = flow
        .post(
            paths::FLOW_PASSWORD,
            &NewPasswordRequest {
                new_password: STRONG_2.into(),
                confirm_password: STRONG_2.into(),
                policy_version: version,
            },
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(session_token(&r).is_none(), "a reset does not sign in");
    let done: latchkey_shared::self_service::Completed = r.json().await.unwrap();
    assert_eq!(done.message, messages::PASSWORD_RESET);

    assert_error(
        app.get_session_with(&elsewhere).await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
    )
    .await;
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut new_user = user.clone();
    new_user.password = STRONG_2.into();
    app.sign_in_as(&new_user).await;
    assert!(
        audit_has(
            &app,
            "self_service.reset",
            "success",
            Some("password reset")
        )
        .await
    );
    // Single use.
    let again = flow
        .post(
            paths::FLOW_PASSWORD,
            &NewPasswordRequest {
                new_password: STRONG.into(),
                confirm_password: STRONG.into(),
                policy_version: version,
            },
        )
        .await;
    assert_error(again, StatusCode::GONE, ErrorCode::FlowExpired).await;
}

async fn forgot_password_checks_the_new_password_like_change_password(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    let flow = Flow::new(&app, FlowKind::Reset).await;
    assert_eq!(flow.run("jsmith", true).await.status(), StatusCode::OK);
    let version = app.policy_version("partners").await;
    let try_pw = |new: &'static str, confirm: &'static str, v: u32| {
        let flow = &flow;
        async move {
            flow.post(
                paths::FLOW_PASSWORD,
                &NewPasswordRequest {
                    new_password: new.into(),
                    confirm_password: confirm.into(),
                    policy_version: v,
                },
            )
            .await
        }
    };
    assert_error(
        try_pw("short", "short", version).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordRejected,
    )
    .await;
    assert_error(
        try_pw(STRONG_2, STRONG, version).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordsDoNotMatch,
    )
    .await;
    assert_error(
        try_pw(STRONG, STRONG, version).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordReused,
    )
    .await;
    assert_error(
        try_pw(STRONG_2, STRONG_2, version + 7).await,
        StatusCode::CONFLICT,
        ErrorCode::PolicyChanged,
    )
    .await;
    assert_eq!(
        try_pw(STRONG_2, STRONG_2, version).await.status(),
        StatusCode::OK
    );
}

async fn the_captcha_is_case_insensitive_single_use_and_renewable(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let first = flow.captcha().await;
    // A new image replaces the old challenge.
    let r = flow.post(paths::FLOW_CAPTCHA, &serde_json::json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let _: CaptchaChallenge = r.json().await.unwrap();
    let second = flow.captcha().await;
    if first != second {
        assert_error(
            flow.identify_raw("jsmith", &first).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CaptchaIncorrect,
        )
        .await;
        flow.post(paths::FLOW_CAPTCHA, &serde_json::json!({})).await;
    }
    let current = flow.captcha().await;
    let typed = format!(" {} ", current.to_lowercase());
    assert_eq!(
        flow.identify_raw("jsmith", &typed).await.status(),
        StatusCode::OK
    );
}

async fn a_wrong_captcha_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let right = flow.captcha().await;
    let err = assert_error(
        flow.identify_raw("jsmith", "WRONG").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::CaptchaIncorrect,
    )
    .await;
    assert_eq!(err.message, messages::CAPTCHA_INCORRECT);
    // Used up: even the right characters no longer pass.
    assert_error(
        flow.identify_raw("jsmith", &right).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::CaptchaExpired,
    )
    .await;
    // The second CAPTCHA is checked too.
    flow.post(paths::FLOW_CAPTCHA, &serde_json::json!({})).await;
    let q = flow.identify("jsmith").await;
    flow.answer(q.questions.iter().map(|q| answer_for(q)).collect())
        .await;
    assert_error(
        flow.finish_raw("nope").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::CaptchaIncorrect,
    )
    .await;
}

async fn the_captcha_expires_after_two_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let c = flow.captcha().await;
    app.clock.advance(121);
    assert_error(
        flow.identify_raw("jsmith", &c).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::CaptchaExpired,
    )
    .await;
    // A new image within its two minutes works.
    flow.post(paths::FLOW_CAPTCHA, &serde_json::json!({})).await;
    app.clock.advance(119);
    flow.identify("jsmith").await;
}

async fn a_late_answer_is_refused_and_the_flow_must_start_again(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let q = flow.identify("jsmith").await;
    app.clock.advance(5 * 60);
    let err = assert_error(
        flow.answer_raw(q.questions.iter().map(|q| answer_for(q)).collect())
            .await,
        StatusCode::GONE,
        ErrorCode::FlowExpired,
    )
    .await;
    assert_eq!(err.message, messages::FLOW_EXPIRED);
    // The deadline covers the second CAPTCHA too.
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let q = flow.identify("jsmith").await;
    app.clock.advance(4 * 60);
    flow.answer(q.questions.iter().map(|q| answer_for(q)).collect())
        .await;
    let c = flow.captcha().await;
    app.clock.advance(61);
    assert_error(
        flow.finish_raw(&c).await,
        StatusCode::GONE,
        ErrorCode::FlowExpired,
    )
    .await;
    // Starting again works.
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    assert_eq!(flow.run("jsmith", true).await.status(), StatusCode::OK);
}

async fn wrong_answers_fail_at_the_end_with_the_one_message(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let r = flow.run("jsmith", false).await;
    let err = assert_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::VerificationFailed,
    )
    .await;
    assert_eq!(err.message, messages::VERIFICATION_FAILED);
    assert!(err.message.contains("Local Registration Authority"));
    // Still locked; one right answer of two is not enough either.
    assert_eq!(
        app.sign_in("partners", "jsmith", STRONG).await.status(),
        StatusCode::LOCKED
    );
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let q = flow.identify("jsmith").await;
    flow.answer(vec![answer_for(&q.questions[0]), "nope nope".into()])
        .await;
    assert_error(
        flow.finish().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::VerificationFailed,
    )
    .await;
    assert!(
        audit_has(
            &app,
            "self_service.unlock",
            "failure",
            Some("wrong answers")
        )
        .await
    );
}

async fn three_failed_verifications_block_self_service_for_thirty_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = enrolled_user(&app).await;
    app.lock_out("partners", "jsmith").await;
    for _ in 0..3 {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        assert_eq!(
            flow.run("jsmith", false).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert!(audit_has(&app, "self_service.blocked", "locked", None).await);
    // Blocked now, even with the right answers, for Unlock and Reset alike.
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let c = flow.captcha().await;
    let err = assert_error(
        flow.identify_raw("jsmith", &c).await,
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::SelfServiceBlocked,
    )
    .await;
    assert_eq!(err.message, messages::SELF_SERVICE_BLOCKED);
    app.clock.advance(29 * 60);
    let flow = Flow::new(&app, FlowKind::Reset).await;
    let c = flow.captcha().await;
    assert_eq!(
        flow.identify_raw("jsmith", &c).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // After 30 minutes the block lifts (and the sign-in lock lifted by itself
    // too, so unlock it again first).
    app.clock.advance(61);
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    assert_eq!(flow.run("jsmith", true).await.status(), StatusCode::OK);
    app.sign_in_as(&user).await;

    // Failures further apart than the 30-minute window do not add up.
    for _ in 0..2 {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        flow.run("jsmith", false).await;
    }
    app.clock.advance(31 * 60);
    let flow = Flow::new(&app, FlowKind::Reset).await;
    flow.run("jsmith", false).await;
    let flow = Flow::new(&app, FlowKind::Reset).await;
    assert_eq!(flow.run("jsmith", true).await.status(), StatusCode::OK);
}

async fn parallel_submissions_get_no_more_than_three_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await;
    // Ten flows ready to submit their answers at once.
    let mut flows = Vec::new();
    for _ in 0..10 {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        flow.identify("jsmith").await;
        flows.push(flow);
    }
    let before = app.verifications();
    let mut tasks = tokio::task::JoinSet::new();
    for flow in &flows {
        let url = app.url(&paths::flow(paths::FLOW_ANSWERS, &flow.id));
        tasks.spawn(async move {
            new_client()
                .post(url)
                .json(&AnswersRequest {
                    answers: vec!["guess one".into(), "guess two".into()],
                    code: None,
                })
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let (mut ok, mut blocked) = (0, 0);
    while let Some(s) = tasks.join_next().await {
        match s.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => blocked += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, blocked), (3, 7));
    let checks = app.verifications() - before;
    assert!(
        checks <= 6,
        "{checks} answer checks ran (2 per allowed submission)"
    );
}

/// The fields a client sees at each step for a name.
async fn observe(app: &TestApp, kind: FlowKind, name: &str, right: bool) -> Vec<String> {
    let flow = Flow::new(app, kind).await;
    let c = flow.captcha().await;
    let r = flow.identify_raw(name, &c).await;
    let mut seen = vec![r.status().to_string()];
    let v: serde_json::Value = r.json().await.unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    seen.push(format!("{keys:?}"));
    let questions = v["questions"].as_array().unwrap().clone();
    seen.push(format!("{} questions", questions.len()));
    let all_from_catalogue = questions
        .iter()
        .all(|q| DEFAULT_QUESTIONS.contains(&q.as_str().unwrap()));
    seen.push(format!("catalogue: {all_from_catalogue}"));
    seen.push(format!("seconds_left: {}", v["seconds_left"]));
    let answers = questions
        .iter()
        .map(|q| {
            if right {
                answer_for(q.as_str().unwrap())
            } else {
                "Hamilton Ontario".to_owned()
            }
        })
        .collect();
    let r = flow.answer_raw(answers).await;
    seen.push(r.status().to_string());
    let v: serde_json::Value = r.json().await.unwrap();
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    seen.push(format!("{keys:?} alt={}", v["alt_text"]));
    let r = flow.finish().await;
    seen.push(r.status().to_string());
    seen.push(r.text().await.unwrap());
    seen
}

async fn unknown_not_enrolled_and_not_locked_names_look_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled_user(&app).await; // jsmith: enrolled, not locked
    app.add_user("noenrol", "Not Enrolled", STRONG).await;
    app.lock_out("partners", "noenrol").await;

    let before = app.verifications();
    let not_locked = observe(&app, FlowKind::Unlock, "jsmith", true).await;
    let cost_real = app.verifications() - before;
    let before = app.verifications();
    let unknown = observe(&app, FlowKind::Unlock, "nobody-here", false).await;
    let cost_unknown = app.verifications() - before;
    let not_enrolled = observe(&app, FlowKind::Unlock, "noenrol", false).await;

    for (i, (a, b)) in not_locked.iter().zip(&unknown).enumerate() {
        assert_eq!(a, b, "field {i}: not locked vs unknown");
    }
    for (i, (a, b)) in not_locked.iter().zip(&not_enrolled).enumerate() {
        assert_eq!(a, b, "field {i}: not locked vs not enrolled");
    }
    assert_eq!(not_locked.len(), unknown.len());
    assert_eq!(not_locked[7], "422 Unprocessable Entity");
    assert!(not_locked[8].contains("verification_failed"));
    assert_eq!(cost_real, cost_unknown, "same argon2 work");
    assert_eq!(cost_real, 2);

    // Forgot Password: unknown and not enrolled look the same too.
    let unknown = observe(&app, FlowKind::Reset, "ghost", false).await;
    let not_enrolled = observe(&app, FlowKind::Reset, "noenrol", false).await;
    assert_eq!(unknown, not_enrolled);
}

async fn decoy_questions_are_stable_and_plausible(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        let q = flow.identify("ghost").await;
        assert_eq!(q.questions.len(), 2);
        assert_ne!(q.questions[0], q.questions[1]);
        seen.extend(q.questions);
    }
    // Like an enrolled user: two of the same three, from the catalogue.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|q| DEFAULT_QUESTIONS.contains(&q.as_str())));
}

async fn a_domain_without_self_service_refuses_the_flows(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_error(
        Flow::start(&app, FlowKind::Unlock, "hhsc").await,
        StatusCode::FORBIDDEN,
        ErrorCode::SspmUnavailable,
    )
    .await;
    assert_error(
        Flow::start(&app, FlowKind::Reset, "hhsc").await,
        StatusCode::FORBIDDEN,
        ErrorCode::SspmUnavailable,
    )
    .await;
    assert_eq!(
        Flow::start(&app, FlowKind::Reset, "nowhere").await.status(),
        StatusCode::BAD_REQUEST
    );
}

async fn an_unknown_flow_id_is_expired(backend: Backend) {
    let app = spawn_app(backend).await;
    let flow = Flow {
        app: &app,
        client: new_client(),
        id: "not-a-flow".into(),
    };
    assert_error(
        flow.identify_raw("jsmith", "ABCDE").await,
        StatusCode::GONE,
        ErrorCode::FlowExpired,
    )
    .await;
    // A flow left alone for 15 minutes before the user name is gone too.
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    app.clock.advance(15 * 60);
    assert_error(
        flow.post(paths::FLOW_CAPTCHA, &serde_json::json!({})).await,
        StatusCode::GONE,
        ErrorCode::FlowExpired,
    )
    .await;
}

async fn the_server_secret_is_created_once_and_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = latchkey_server::accounts::self_service::checks::secret(&app.state.db)
        .await
        .unwrap();
    let b = latchkey_server::accounts::self_service::checks::secret(&app.state.db)
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 64);
    let rows = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(latchkey_server::accounts::self_service::checks::SECRET_KEY)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

/// The identify step's statements, read from the request's own span; on
/// PostgreSQL only, where statements run in the request's task (see
/// `helpers::statements`). The code path is the same on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identify_step_runs_the_same_statements_for_every_name_on_postgres() {
    crate::helpers::statements::record();
    let app = spawn_app(Backend::Postgres).await;
    enrolled_user(&app).await; // jsmith
    app.add_user("noenrol", "Not Enrolled", STRONG).await;
    let disabled = app.add_user("gone", "Disabled User", STRONG).await;
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(true)
        .bind(disabled.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();

    let mut runs = Vec::new();
    for name in ["jsmith", "noenrol", "gone", "nobody-here", "not\u{0}a name"] {
        let flow = Flow::new(&app, FlowKind::Unlock).await;
        let step = flow.identify(name).await;
        assert_eq!(step.questions.len(), 2, "{name:?} is asked two questions");
        let statements =
            crate::helpers::statements::of_requests_to(&format!("{}/identify", flow.id));
        assert!(
            statements.len() >= 4,
            "the statements were seen for {name:?}: {statements:?}"
        );
        runs.push((name, statements));
    }
    let (first, expected) = &runs[0];
    for (name, statements) in &runs[1..] {
        assert_eq!(
            statements, expected,
            "{name:?} ran other statements than {first:?}"
        );
    }
}
