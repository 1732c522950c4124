//! The per-source throttle (issue 19): a password spray or a mass lockout
//! from one source is slowed, then refused before any password work; other
//! sources, exempt ones and the owners of locked accounts are not; an
//! administrator sees the throttled sources and lifts one.
//!
//! The test client's requests come from 127.0.0.1, trusted here as a
//! proxy, so `X-Forwarded-For` speaks for any other source.

use latchkey_server::http::client_addr::TrustedProxies;
use latchkey_server::Config;
use latchkey_shared::admin::{paths as admin_paths, LiftThrottle, ThrottledSource};
use latchkey_shared::api::{paths, ErrorCode};
use latchkey_shared::self_service::FlowKind;
use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{
    api_error, assert_error, in_parallel, spawn_app_with, Backend, TestApp, STRONG,
};
use crate::self_service::{answer_for, enrolled_user, Flow};
use crate::staff::{administrator, lra};

both_backends!(
    a_spray_from_one_source_is_slowed_then_refused_before_any_password_work,
    unknown_names_wrong_passwords_and_wrong_answers_count_the_same_and_successes_not_at_all,
    parallel_attempts_from_one_source_are_admitted_no_further_than_the_limit,
    a_source_that_locks_several_accounts_is_refused_while_the_owners_still_see_their_locks,
    the_addresses_of_one_ipv6_64_are_one_source,
    an_exempt_source_is_never_throttled_but_its_accounts_still_lock,
    an_administrator_sees_the_throttled_sources_and_lifts_one,
    a_zero_limit_turns_the_throttle_off,
);

const FREE: u32 = 3;
const MAX: u32 = 8;

/// Loopback trusted as a proxy and not exempt; small limits.
fn throttled(c: &mut Config) {
    c.trusted_proxies = TrustedProxies::parse(["127.0.0.1"]).unwrap();
    c.throttle_exempt = TrustedProxies::default();
    c.throttle_free_failures = FREE;
    c.throttle_max_failures = MAX;
    c.throttle_window_minutes = 60;
    c.throttle_max_delay_secs = 60;
}

async fn spawn(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(backend, |c| {
        throttled(c);
        adjust(c);
    })
    .await
}

async fn sign_in_from(
    app: &TestApp,
    source: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(paths::SESSION))
        .header("x-forwarded-for", source)
        .json(&serde_json::json!({
            "domain": "partners", "username": username, "password": password,
        }))
        .send()
        .await
        .expect("request sent")
}

fn retry_after(r: &reqwest::Response) -> i64 {
    r.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn failures_of(app: &TestApp, source: &str) -> i64 {
    sqlx::query("SELECT failures FROM source_throttles WHERE source = $1")
        .bind(source)
        .fetch_optional(&app.state.db.pool)
        .await
        .unwrap()
        .map_or(0, |r| r.get("failures"))
}

async fn a_spray_from_one_source_is_slowed_then_refused_before_any_password_work(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    for name in ["ann", "bob", "cat"] {
        app.add_user(name, name, STRONG).await;
    }
    let spray = "203.0.113.7";
    let names = ["ann", "nobody1", "bob", "nobody2", "cat", "nobody3"];
    // The free failures: answered as usual.
    for name in names.iter().take(FREE as usize) {
        let r = sign_in_from(&app, spray, name, "Summer2026!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Each further failure makes the source wait, 1 s doubling; an
    // attempt before then is refused without a check.
    let mut waits = Vec::new();
    for i in FREE..MAX {
        let name = names[i as usize % names.len()];
        let r = sign_in_from(&app, spray, name, "Summer2026!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        if i + 1 == MAX {
            break;
        }
        let before = app.verifications();
        let r = sign_in_from(&app, spray, name, "Summer2026!").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&r);
        let err = api_error(r).await;
        assert_eq!(err.code, ErrorCode::TooManyRequests);
        assert!(err.message.contains("from your network"), "{}", err.message);
        assert_eq!(
            app.verifications(),
            before,
            "no argon2 for a refused attempt"
        );
        waits.push(wait);
        app.clock.advance(wait);
    }
    assert_eq!(waits, [1, 2, 4, 8]);
    // At the limit: refused until the window ends, whatever the name.
    let before = app.verifications();
    let r = sign_in_from(&app, spray, "ann", STRONG).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&r);
    assert!(wait > 30 * 60 && wait <= 60 * 60, "{wait}");
    assert_eq!(app.verifications(), before);
    let audit = app.audit_events().await;
    let refused: Vec<_> = audit
        .iter()
        .filter(|e| e.is("throttle.source_refused", "refused"))
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one row when the limit is reached: {audit:?}"
    );
    assert!(refused[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("8 failed attempts"));
    // No account was locked by the spray, and other sources are untouched.
    let r = sign_in_from(&app, "198.51.100.9", "ann", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
    // When the window has passed the source starts again from nothing.
    app.clock.advance(wait);
    let r = sign_in_from(&app, spray, "bob", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(failures_of(&app, spray).await, 0);
}

async fn unknown_names_wrong_passwords_and_wrong_answers_count_the_same_and_successes_not_at_all(
    backend: Backend,
) {
    let app = spawn(backend, |c| {
        c.throttle_free_failures = 20;
        c.throttle_max_failures = 40;
    })
    .await;
    enrolled_user(&app).await; // jsmith, STRONG
    let source = "192.0.2.10";
    assert_eq!(
        sign_in_from(&app, source, "jsmith", "wrong-password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(failures_of(&app, source).await, 1);
    assert_eq!(
        sign_in_from(&app, source, "nobody", "wrong-password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        failures_of(&app, source).await,
        2,
        "an unknown name counts the same"
    );
    assert_eq!(
        sign_in_from(&app, source, "jsmith", STRONG).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        failures_of(&app, source).await,
        2,
        "a success is taken back"
    );

    // The self-service's answers (from the proxy itself: no header) count
    // at every attempt, right or wrong, known name or not: the answer to
    // that step never says which.
    let proxy = "127.0.0.1";
    for (name, right) in [("jsmith", false), ("nobody", false), ("jsmith", true)] {
        let flow = Flow::new(&app, FlowKind::Reset).await;
        let q = flow.identify(name).await;
        let answers = q
            .questions
            .iter()
            .map(|q| {
                if right {
                    answer_for(q)
                } else {
                    "wrong answer".into()
                }
            })
            .collect();
        flow.answer(answers).await;
    }
    assert_eq!(failures_of(&app, proxy).await, 3);
}

async fn parallel_attempts_from_one_source_are_admitted_no_further_than_the_limit(
    backend: Backend,
) {
    let app = spawn(backend, |c| {
        c.throttle_max_locks = 0;
    })
    .await;
    for i in 0..10 {
        app.add_user(&format!("user{i}"), "User", STRONG).await;
    }
    let before = app.verifications();
    let requests = (0..30)
        .map(|i| {
            app.client
                .post(app.url(paths::SESSION))
                .header("x-forwarded-for", "203.0.113.99")
                .json(&serde_json::json!({
                    "domain": "partners", "username": format!("user{}", i % 10),
                    "password": "wrong-password",
                }))
        })
        .collect();
    let answers = in_parallel(requests).await;
    let checked = answers
        .iter()
        .filter(|r| r.status() != StatusCode::TOO_MANY_REQUESTS)
        .count();
    // The free ones, and the first after them, which starts the wait.
    assert_eq!(
        checked,
        FREE as usize + 1,
        "{checked} attempts were checked"
    );
    assert_eq!(app.verifications() - before, checked as u64);
    // At the end of the wait, a burst again gets one attempt through.
    app.clock.advance(1);
    let requests = (0..10)
        .map(|i| {
            app.client
                .post(app.url(paths::SESSION))
                .header("x-forwarded-for", "203.0.113.99")
                .json(&serde_json::json!({
                    "domain": "partners", "username": format!("user{i}"),
                    "password": "wrong-password",
                }))
        })
        .collect();
    let answers = in_parallel(requests).await;
    let checked = answers
        .iter()
        .filter(|r| r.status() != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked, 1);
    assert_eq!(failures_of(&app, "203.0.113.99").await, i64::from(FREE) + 2);
}

async fn a_source_that_locks_several_accounts_is_refused_while_the_owners_still_see_their_locks(
    backend: Backend,
) {
    let app = spawn(backend, |c| {
        c.throttle_free_failures = 100;
        c.throttle_max_failures = 200;
        c.throttle_max_locks = 2;
    })
    .await;
    for name in ["ann", "bob", "cat"] {
        app.add_user(name, name, STRONG).await;
    }
    let attacker = "203.0.113.66";
    let threshold = app.threshold();
    for name in ["ann", "bob"] {
        for _ in 0..threshold {
            let r = sign_in_from(&app, attacker, name, "wrong-password").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
    // Two accounts locked: the third is not reached at all.
    let before = app.verifications();
    let r = sign_in_from(&app, attacker, "cat", "wrong-password").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 30 * 60);
    assert_eq!(app.verifications(), before);
    let counters: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM failure_counters WHERE username_key = 'cat'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .get("n");
    assert_eq!(counters, 0, "cat's count was never touched");
    let audit = app.audit_events().await;
    let refused: Vec<_> = audit
        .iter()
        .filter(|e| e.is("throttle.source_refused", "refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{audit:?}");
    assert!(refused[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("2 accounts locked"));
    // The owners, from their own addresses, see their locks and can unlock.
    let r = sign_in_from(&app, "198.51.100.1", "ann", STRONG).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
    let r = sign_in_from(&app, "198.51.100.2", "cat", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn the_addresses_of_one_ipv6_64_are_one_source(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    for i in 0..MAX {
        // A new address of the same /64 each time, past every wait.
        let r = sign_in_from(
            &app,
            &format!("2001:db8:5:6::{:x}", i + 1),
            &format!("nobody{i}"),
            "x-wrong",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        app.clock.advance(61);
    }
    let r = sign_in_from(&app, "2001:db8:5:6:ffff::1", "nobody", "x-wrong").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = sign_in_from(&app, "2001:db8:5:7::1", "nobody", "x-wrong").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the next /64 is another source"
    );
    assert_eq!(failures_of(&app, "2001:db8:5:6::/64").await, i64::from(MAX));
}

async fn an_exempt_source_is_never_throttled_but_its_accounts_still_lock(backend: Backend) {
    let app = spawn(backend, |c| {
        c.throttle_exempt = TrustedProxies::parse(["10.20.0.0/16"]).unwrap();
    })
    .await;
    app.add_user("ann", "ann", STRONG).await;
    let nat = "10.20.30.40";
    for i in 0..(MAX + 5) {
        let r = sign_in_from(&app, nat, &format!("nobody{i}"), "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(failures_of(&app, nat).await, 0, "nothing is counted for it");
    for _ in 0..app.threshold() {
        sign_in_from(&app, nat, "ann", "wrong").await;
    }
    let r = sign_in_from(&app, nat, "ann", STRONG).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
}

async fn an_administrator_sees_the_throttled_sources_and_lifts_one(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    // Staff sign in from the proxy itself (no header): their successes
    // are taken back.
    let (_, admin) = administrator(&app).await;
    let (_, lra) = lra(&app).await;
    let spray = "203.0.113.7";
    for i in 0..MAX {
        sign_in_from(&app, spray, &format!("nobody{i}"), "wrong").await;
        app.clock.advance(61 + i64::from(i));
    }
    let r = sign_in_from(&app, spray, "nobody", "wrong").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    let r = admin
        .get(app.url(admin_paths::ADMIN_THROTTLES))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let listed: Vec<ThrottledSource> = r.json().await.unwrap();
    let row = listed
        .iter()
        .find(|s| s.source == spray)
        .unwrap_or_else(|| panic!("{listed:?}"));
    assert_eq!(row.failures, i64::from(MAX));
    assert!(row.refused_until.is_some_and(|t| t > app.state.now()));

    // Only administrators.
    let r = lra
        .get(app.url(admin_paths::ADMIN_THROTTLES))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let lift = |client: &reqwest::Client, source: &str| {
        client
            .post(app.url(admin_paths::ADMIN_THROTTLE_LIFT))
            .json(&LiftThrottle {
                source: source.to_owned(),
            })
            .send()
    };
    assert_eq!(
        lift(&lra, spray).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Nonsense and nothing are told apart from a real source.
    for bad in ["", "   ", "10.0.0.0/8", "not an address"] {
        let r = lift(&admin, bad).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let r = lift(&admin, "192.0.2.200").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = lift(&admin, &format!(" {spray} ")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = lift(&admin, spray).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "lifted once");
    let r = sign_in_from(&app, spray, "somebody", "wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "admitted again");
    let audit = app.audit_events().await;
    assert!(
        audit.iter().any(|e| e.is("admin.throttle_lift", "success")
            && e.detail.as_deref() == Some(spray)
            && e.actor.as_deref().is_some_and(|a| a.starts_with("boss"))),
        "{audit:?}"
    );
}

async fn a_zero_limit_turns_the_throttle_off(backend: Backend) {
    let app = spawn(backend, |c| {
        c.throttle_max_failures = 0;
    })
    .await;
    for i in 0..(MAX * 2) {
        let r = sign_in_from(&app, "203.0.113.5", &format!("nobody{i}"), "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM source_throttles")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(rows, 0);
}
