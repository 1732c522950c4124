use latchkey_server::db::purge::{purge_once, Purged, STALE_COUNTER_SECS};
use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{spawn_app, Backend, STRONG};

both_backends!(
    the_purge_removes_idle_sessions_and_stale_counters_but_keeps_live_ones,
    the_purge_removes_verification_flows_past_their_deadline,
    running_the_purge_twice_at_once_is_harmless,
);

async fn count(app: &crate::helpers::TestApp, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

async fn the_purge_removes_idle_sessions_and_stale_counters_but_keeps_live_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("ada", "Ada Lovelace", STRONG).await;
    app.sign_in_as(&user).await;
    // One stale typo for another name, and a locked name.
    assert_eq!(
        app.sign_in("partners", "bob", "wrong-password-123")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.lock_out("partners", "carol").await;
    assert_eq!(count(&app, "sessions").await, 1);
    assert_eq!(count(&app, "failure_counters").await, 2);

    // Nothing has expired yet.
    assert_eq!(
        purge_once(&app.state).await.expect("purge"),
        Purged::default()
    );

    let idle = i64::from(app.state.config.session_idle_minutes) * 60;
    app.clock.advance(idle.max(STALE_COUNTER_SECS) + 1);
    let purged = purge_once(&app.state).await.expect("purge");
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            failure_counters: 1,
            ..Purged::default()
        }
    );
    assert_eq!(count(&app, "sessions").await, 0);
    // The locked counter stays; its lock lifts through the normal path.
    assert_eq!(count(&app, "failure_counters").await, 1);
}

async fn running_the_purge_twice_at_once_is_harmless(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("ada", "Ada Lovelace", STRONG).await;
    app.sign_in_as(&user).await;
    app.clock.advance(24 * 60 * 60 + 1);
    let (a, b) = tokio::join!(purge_once(&app.state), purge_once(&app.state));
    let (a, b) = (a.expect("first purge"), b.expect("second purge"));
    assert_eq!(
        a.sessions + b.sessions,
        1,
        "the session is deleted exactly once"
    );
    assert_eq!(count(&app, "sessions").await, 0);
}

async fn the_purge_removes_verification_flows_past_their_deadline(backend: Backend) {
    use latchkey_shared::self_service::{paths, FlowKind, StartFlowRequest};
    let app = spawn_app(backend).await;
    for _ in 0..2 {
        let r = app
            .client
            .post(app.url(paths::FLOWS))
            .json(&StartFlowRequest {
                kind: FlowKind::Unlock,
                domain: "partners".into(),
            })
            .send()
            .await
            .expect("start a flow");
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(count(&app, "self_service_flows").await, 2);
    assert_eq!(
        purge_once(&app.state).await.expect("purge").flows,
        0,
        "live flows stay"
    );
    app.clock.advance(60 * 60);
    assert_eq!(purge_once(&app.state).await.expect("purge").flows, 2);
    assert_eq!(count(&app, "self_service_flows").await, 0);
}
