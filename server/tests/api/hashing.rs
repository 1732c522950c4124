use argon2::Params;
use latchkey_shared::api::{messages, paths, ErrorCode, ErrorDetails};
use reqwest::StatusCode;

use crate::helpers::{api_error, new_client, spawn_app, spawn_app_with, Backend, STRONG};

both_backends!(
    stored_hashes_are_argon2id_with_owasp_parameters,
    a_hash_with_older_parameters_is_upgraded_at_the_next_sign_in,
    too_many_concurrent_password_checks_get_503_with_retry_after,
);

async fn stored_hashes_are_argon2id_with_owasp_parameters(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&user).await;
    let version = app.policy_version("partners").await;
    let new = "marble-Osprey-juniper-3390";
    let r = app
        .change_password_with(&app.client, STRONG, new, new, version)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let hash = app.password_hash(user.id).await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

async fn a_hash_with_older_parameters_is_upgraded_at_the_next_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let old =
        latchkey_server::password::hash_with_params(STRONG, Params::new(4096, 1, 1, None).unwrap())
            .unwrap();
    latchkey_server::settings::provisioning::set_password_hash(&app.state, user.id, &old, false)
        .await
        .unwrap();
    assert!(app.password_hash(user.id).await.contains("m=4096,t=1,p=1"));

    app.sign_in_as(&user).await;
    let upgraded = app.password_hash(user.id).await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    // The upgraded hash still holds the same password.
    let response = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = app.audit_events().await;
    assert!(
        events.iter().any(|e| e.kind == "password_rehash"),
        "{events:?}"
    );
}

async fn too_many_concurrent_password_checks_get_503_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.hash_permits = Some(1);
        c.hash_queue = Some(1);
    })
    .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let client = new_client();
        let url = app.url(paths::SESSION);
        tasks.spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({
                    "domain": "partners",
                    "username": format!("user{i}"),
                    "password": "some-wrong-password",
                }))
                .send()
                .await
                .expect("request")
        });
    }
    let mut busy = 0;
    let mut refused = 0;
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        match response.status() {
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(response.headers()[reqwest::header::RETRY_AFTER], "1");
                let err = api_error(response).await;
                assert_eq!(err.code, ErrorCode::Busy);
                assert_eq!(err.message, messages::BUSY);
                assert_eq!(err.details, Some(ErrorDetails::RetryAfter { seconds: 1 }));
            }
            StatusCode::UNAUTHORIZED => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(busy > 0, "some requests must be turned away at once");
    assert!(refused >= 1, "the admitted ones are answered normally");
    assert_eq!(busy + refused, 24);
    // A busy answer is not a failed attempt: only the admitted ones counted.
    let counted: i64 = sqlx::query("SELECT COUNT(*) AS n FROM failure_counters")
        .fetch_one(&app.state.db.pool)
        .await
        .map(|r| sqlx::Row::get(&r, "n"))
        .unwrap();
    assert_eq!(counted, refused);
    // And the queue is free again.
    let response = app.sign_in("partners", "user0", "x").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
