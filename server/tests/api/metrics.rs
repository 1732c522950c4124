//! `GET /metrics`: off by default, guarded by its bearer token, and its
//! counters follow what the server did.

use latchkey_server::cli::staff as staff_cli;
use latchkey_server::metrics::PATH;
use latchkey_shared::api::ErrorCode;
use latchkey_shared::self_service::{paths, FinishResponse, FlowKind, NewPasswordRequest};
use reqwest::StatusCode;
use secrecy::SecretString;

use crate::helpers::{
    assert_error, new_client, spawn_app, spawn_app_with, Backend, TestApp, STRONG, STRONG_2,
};
use crate::self_service::{enrolled_user, Flow};
use crate::staff::{action, lra};

both_backends!(
    metrics_are_absent_unless_a_token_is_configured,
    metrics_refuse_a_request_without_the_token,
    sign_ins_and_locks_are_counted_by_outcome,
    unlocks_and_resets_are_counted_by_channel,
    answers_503_are_counted,
);

const TOKEN: &str = "metrics-token-for-the-tests-0123";

async fn with_metrics(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| {
        c.metrics_token = Some(SecretString::from(TOKEN));
    })
    .await
}

/// The metrics page, read with the token.
async fn scrape(app: &TestApp) -> String {
    let r = new_client()
        .get(app.url(PATH))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    r.text().await.unwrap()
}

/// The value of the sample `series` (name and labels as written).
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

fn sign_ins(text: &str, via: &str, outcome: &str) -> u64 {
    sample(
        text,
        &format!("latchkey_sign_ins_total{{via=\"{via}\",outcome=\"{outcome}\"}}"),
    )
}

async fn metrics_are_absent_unless_a_token_is_configured(backend: Backend) {
    let app = spawn_app(backend).await;
    for request in [
        new_client().get(app.url(PATH)),
        new_client().get(app.url(PATH)).bearer_auth(TOKEN),
    ] {
        let r = request.send().await.unwrap();
        let text = r.text().await.unwrap();
        assert!(!text.contains("latchkey_"), "{text}");
    }
    let r = new_client().get(app.url(PATH)).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
}

async fn metrics_refuse_a_request_without_the_token(backend: Backend) {
    let app = with_metrics(backend).await;
    for request in [
        new_client().get(app.url(PATH)),
        new_client().get(app.url(PATH)).bearer_auth("not-the-token"),
        new_client()
            .get(app.url(PATH))
            .bearer_auth(&TOKEN[..TOKEN.len() - 1]),
        new_client()
            .get(app.url(PATH))
            .basic_auth("metrics", Some(TOKEN)),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(
            r.headers()[reqwest::header::WWW_AUTHENTICATE],
            "Bearer realm=\"metrics\""
        );
        let text = r.text().await.unwrap();
        assert!(!text.contains("latchkey_"), "{text}");
        let err: latchkey_shared::api::ApiError = serde_json::from_str(&text).unwrap();
        assert_eq!(err.code, ErrorCode::NotAuthenticated);
    }
    assert!(scrape(&app).await.contains("latchkey_sign_ins_total"));
}

async fn sign_ins_and_locks_are_counted_by_outcome(backend: Backend) {
    let app = with_metrics(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let before = scrape(&app).await;
    assert_eq!(sign_ins(&before, "pwa", "success"), 0);
    assert_eq!(sample(&before, "latchkey_locks_total"), 0);

    app.sign_in_as(&jane).await;
    app.sign_in("nowhere", "jsmith", STRONG).await;
    app.add_user("bob", "Bob", STRONG).await;
    app.lock_out("partners", "bob").await;
    app.sign_in("partners", "bob", STRONG).await;
    app.sign_in("hhsc", "someone", STRONG).await;

    let text = scrape(&app).await;
    assert_eq!(sign_ins(&text, "pwa", "success"), 1);
    assert_eq!(sign_ins(&text, "pwa", "failure"), app.threshold() as u64);
    assert_eq!(sign_ins(&text, "pwa", "locked"), 1);
    assert_eq!(sign_ins(&text, "pwa", "unknown"), 1);
    assert_eq!(sign_ins(&text, "pwa", "not_offered"), 1);
    assert_eq!(sign_ins(&text, "portal", "success"), 0);
    assert_eq!(sample(&text, "latchkey_locks_total"), 1);
    // Every check that hashed is seen, and nothing waits now.
    assert!(sample(&text, "latchkey_password_verifications_total") >= 3);
    assert_eq!(sample(&text, "latchkey_hashing_queue_depth"), 0);
    assert_eq!(
        sample(&text, "latchkey_hashing_queue_capacity"),
        app.state.hasher.queue_capacity() as u64
    );
}

async fn unlocks_and_resets_are_counted_by_channel(backend: Backend) {
    let app = with_metrics(backend).await;
    let jane = enrolled_user(&app).await;
    let ann = app.add_user("ann", "Ann", STRONG).await;
    let unlocks = |text: &str, channel: &str| {
        sample(
            text,
            &format!("latchkey_unlocks_total{{channel=\"{channel}\"}}"),
        )
    };
    let resets = |text: &str, channel: &str| {
        sample(
            text,
            &format!("latchkey_resets_total{{channel=\"{channel}\"}}"),
        )
    };

    // Self-service: an unlock, then a reset.
    app.lock_out("partners", "jsmith").await;
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    assert_eq!(flow.run("jsmith", true).await.status(), StatusCode::OK);
    let flow = Flow::new(&app, FlowKind::Reset).await;
    let r = flow.run("jsmith", true).await;
    let version = match r.json::<FinishResponse>().await.unwrap() {
        FinishResponse::ChoosePassword { policy, .. } => policy.version,
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

    // The console: an unlock and a temporary password.
    app.lock_out(&ann.domain, &ann.username).await;
    let (_, c) = lra(&app).await;
    let r = action(
        &app,
        &c,
        latchkey_shared::admin::paths::STAFF_UNLOCK,
        ann.id,
        "phoned",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = action(
        &app,
        &c,
        latchkey_shared::admin::paths::STAFF_TEMP_PASSWORD,
        jane.id,
        "forgot it",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The command line, twice each, on the server's state.
    for _ in 0..2 {
        app.lock_out(&ann.domain, &ann.username).await;
        staff_cli::unlock(&app.state, "partners", "ann", "phoned in")
            .await
            .unwrap();
        staff_cli::temporary_password(&app.state, "partners", "ann", "forgot")
            .await
            .unwrap();
    }
    // A refused unlock counts nothing.
    assert!(staff_cli::unlock(&app.state, "partners", "nobody", "x")
        .await
        .is_err());

    let text = scrape(&app).await;
    assert_eq!(unlocks(&text, "self_service"), 1);
    assert_eq!(resets(&text, "self_service"), 1);
    assert_eq!(unlocks(&text, "lra"), 1);
    assert_eq!(resets(&text, "lra"), 1);
    assert_eq!(unlocks(&text, "cli"), 2);
    assert_eq!(resets(&text, "cli"), 2);
    // jsmith once, ann three times.
    assert_eq!(sample(&text, "latchkey_locks_total"), 4);
}

async fn answers_503_are_counted(backend: Backend) {
    // One permit, no queue: a verification held by hand makes the next
    // sign-in a 503.
    let app = spawn_app_with(backend, |c| {
        c.metrics_token = Some(SecretString::from(TOKEN));
        c.hash_permits = Some(1);
        c.hash_queue = Some(0);
    })
    .await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let held = app.state.hasher.ticket().expect("the only place");
    for _ in 0..3 {
        let r = app.sign_in("partners", "jsmith", STRONG).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "latchkey_busy_answers_total"), 3);
    assert_eq!(sample(&text, "latchkey_hashing_queue_depth"), 1);
    drop(held);
    assert_eq!(
        sample(&scrape(&app).await, "latchkey_hashing_queue_depth"),
        0
    );
}
