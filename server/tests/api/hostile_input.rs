//! What outside tools found (issue 10): text the database refuses, audit
//! amplification, staff changes without their audit row, static paths no
//! file can have, the security headers, JSON errors for bad parameters and
//! oversized bodies.

use latchkey_shared::admin::{paths, NoticeInput, UserState};
use latchkey_shared::api::{paths as api_paths, ApiError, ErrorCode, CSRF_HEADER};
use latchkey_shared::self_service::{paths as ss_paths, FlowKind, StartFlowRequest};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::helpers::{
    api_error, assert_error, new_client, spawn_app, spawn_app_with, Backend, TestApp, STRONG,
};
use crate::staff::{action, administrator, enrol_directly, lra, user_state};

both_backends!(
    an_impossible_name_or_domain_at_sign_in_is_answered_like_a_wrong_password,
    a_refused_name_is_kept_in_the_audit_cut_and_marked,
    text_with_control_characters_or_past_its_bound_is_refused_naming_the_field,
    bad_path_and_query_parameters_get_a_json_error,
    a_body_over_the_limit_is_413,
    an_unlock_whose_audit_row_fails_does_not_happen,
    a_cleared_enrolment_whose_audit_row_fails_does_not_happen,
    an_admin_change_whose_audit_row_fails_does_not_happen,
    every_response_carries_the_security_headers,
    the_csp_allows_the_served_pages_inline_script_by_its_hash,
    hsts_is_sent_only_when_the_public_address_is_https,
    static_paths_no_file_can_have_are_404_not_500,
);

async fn sign_in_raw(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    new_client()
        .post(app.url(api_paths::SESSION))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn an_impossible_name_or_domain_at_sign_in_is_answered_like_a_wrong_password(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let wrong = sign_in_raw(
        &app,
        json!({"domain": "partners", "username": "jsmith", "password": "nope"}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();

    let long = "x".repeat(5_000);
    let hostile = [
        json!({"domain": "partners", "username": "a\u{0}b", "password": "x"}),
        json!({"domain": "partners", "username": long, "password": "x"}),
        json!({"domain": "partners", "username": "a\u{1b}[2J", "password": "x"}),
        json!({"domain": "part\u{0}ners", "username": "jsmith", "password": "x"}),
        json!({"domain": "p".repeat(5_000), "username": "jsmith", "password": "x"}),
        json!({"domain": "partners", "username": "jsmith", "password": "a\u{0}b"}),
    ];
    for body in hostile {
        let before = app.verifications();
        let r = sign_in_raw(&app, body.clone()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(r.text().await.unwrap(), wrong_body, "{body}");
        assert_eq!(
            app.verifications() - before,
            1,
            "one argon2 verification, like a wrong password: {body}"
        );
    }
    // The real user was never counted against.
    let r = app.sign_in("partners", "jsmith", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn a_refused_name_is_kept_in_the_audit_cut_and_marked(backend: Backend) {
    let app = spawn_app(backend).await;
    let name = "n".repeat(65_000);
    let r = sign_in_raw(
        &app,
        json!({"domain": "partners", "username": name, "password": "x"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let events = app.audit_events().await;
    let subject = events
        .iter()
        .find(|e| e.kind == "sign_in")
        .and_then(|e| e.subject.as_deref())
        .expect("a sign-in event with a subject");
    assert!(subject.chars().count() < 150, "{} chars", subject.len());
    assert!(subject.starts_with(&"n".repeat(100)));
    assert!(subject.contains("[cut: 65000 characters]"), "{subject}");

    let r = sign_in_raw(
        &app,
        json!({"domain": "partners", "username": "nul\u{0}name", "password": "x"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let events = app.audit_events().await;
    assert!(
        events.iter().any(|e| e.about("nul\\u{0}name")),
        "the NUL is kept as an escape: {events:?}"
    );
}

async fn expect_field_error(r: reqwest::Response, field: &str) {
    let e = assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    assert!(
        e.message.contains(&format!("`{field}`")),
        "the message names {field}: {}",
        e.message
    );
}

async fn text_with_control_characters_or_past_its_bound_is_refused_naming_the_field(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let (_, admin) = administrator(&app).await;
    let reauth = admin
        .post(app.url(paths::STAFF_REAUTH))
        .json(&json!({"password": crate::helpers::STRONG_3}))
        .send()
        .await
        .unwrap();
    assert_eq!(reauth.status(), StatusCode::OK);

    let r = action(&app, &admin, paths::STAFF_UNLOCK, jane.id, "a\u{0}b").await;
    expect_field_error(r, "reason").await;
    let r = action(&app, &admin, paths::STAFF_UNLOCK, jane.id, &"r".repeat(501)).await;
    expect_field_error(r, "reason").await;

    let notice = |title: String, body: String| NoticeInput {
        title,
        body,
        posted_on: "2026-12-02".into(),
        published: true,
        sort_order: 0,
    };
    for (n, field) in [
        (notice("t\u{0}".into(), "b".into()), "title"),
        (notice("t".repeat(10_000), "b".into()), "title"),
        (notice("t".into(), "b\u{7}".into()), "body"),
    ] {
        let r = admin
            .post(app.url(paths::ADMIN_NOTICES))
            .json(&n)
            .send()
            .await
            .unwrap();
        expect_field_error(r, field).await;
    }
    // A notice may have paragraphs.
    let r = admin
        .post(app.url(paths::ADMIN_NOTICES))
        .json(&notice("Title".into(), "One.\n\nTwo.".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = admin
        .get(app.url(paths::STAFF_USERS))
        .query(&[("q", "js\u{0}")])
        .send()
        .await
        .unwrap();
    expect_field_error(r, "q").await;
    let r = admin
        .get(app.url(paths::ADMIN_AUDIT))
        .query(&[("user", "x".repeat(5_000))])
        .send()
        .await
        .unwrap();
    expect_field_error(r, "user").await;

    let r = new_client()
        .post(app.url(ss_paths::FLOWS))
        .json(&StartFlowRequest {
            kind: FlowKind::Unlock,
            domain: "part\u{0}ners".into(),
        })
        .send()
        .await
        .unwrap();
    expect_field_error(r, "domain").await;

    // Nothing of it reached the database as a change.
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM notices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(count, 1);
}

async fn bad_path_and_query_parameters_get_a_json_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = administrator(&app).await;
    for path in [
        "/api/staff/users/not-a-number",
        "/api/staff/users/99999999999999999999999",
        "/api/admin/audit?limit=lots",
        "/api/admin/audit?from=-x",
    ] {
        let r = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let e: ApiError = r.json().await.expect("an ApiError body");
        assert_eq!(e.code, ErrorCode::BadRequest);
    }
    let r = new_client()
        .post(app.url(&ss_paths::flow(ss_paths::FLOW_CAPTCHA, &"f".repeat(500))))
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(api_error(r).await.message.contains("path parameter"));
}

async fn a_body_over_the_limit_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let big = json!({"domain": "partners", "username": "x".repeat(100_000), "password": "x"});
    let r = sign_in_raw(&app, big).await;
    let e = assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge).await;
    assert!(e.message.contains("KiB"), "{}", e.message);
}

/// Makes every insert of an audit row of `kind` fail, as a full disk or a
/// refused value would.
pub(crate) async fn fail_audit_rows_of(app: &TestApp, kind: &str) {
    let trigger = format!("refuse_{}", kind.replace('.', "_"));
    let statements: Vec<String> = match app.state.db.backend {
        latchkey_server::db::Backend::Sqlite => vec![format!(
            "CREATE TRIGGER {trigger} BEFORE INSERT ON audit_events \
             WHEN NEW.kind = '{kind}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )],
        latchkey_server::db::Backend::Postgres => vec![
            "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger AS $f$ \
             BEGIN RAISE EXCEPTION 'audit refused'; END $f$ LANGUAGE plpgsql"
                .to_owned(),
            format!(
                "CREATE TRIGGER {trigger} BEFORE INSERT ON audit_events FOR EACH ROW \
                 WHEN (NEW.kind = '{kind}') EXECUTE FUNCTION refuse_audit()"
            ),
        ],
    };
    for sql in statements {
        sqlx::raw_sql(&sql)
            .execute(&app.state.db.pool)
            .await
            .expect("trigger created");
    }
}

async fn reauthenticated_lra(app: &TestApp) -> reqwest::Client {
    let (_, c) = lra(app).await;
    let r = c
        .post(app.url(paths::STAFF_REAUTH))
        .json(&json!({"password": crate::helpers::STRONG_4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    c
}

async fn an_unlock_whose_audit_row_fails_does_not_happen(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    let c = reauthenticated_lra(&app).await;
    fail_audit_rows_of(&app, "staff.unlock").await;
    let r = action(&app, &c, paths::STAFF_UNLOCK, jane.id, "called").await;
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert!(
        state.locked,
        "the unlock was rolled back with its audit row"
    );
    assert_eq!(state.failed_attempts, 5);
}

async fn a_cleared_enrolment_whose_audit_row_fails_does_not_happen(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    enrol_directly(&app, jane.id).await;
    let c = reauthenticated_lra(&app).await;
    fail_audit_rows_of(&app, "staff.clear_enrolment").await;
    let r = action(&app, &c, paths::STAFF_CLEAR_ENROLMENT, jane.id, "lost").await;
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert!(state.enrolled, "the enrolment is still there");
}

async fn an_admin_change_whose_audit_row_fails_does_not_happen(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = administrator(&app).await;
    fail_audit_rows_of(&app, "admin.notice_create").await;
    let r = admin
        .post(app.url(paths::ADMIN_NOTICES))
        .json(&NoticeInput {
            title: "Maintenance".into(),
            body: "Tonight.".into(),
            posted_on: "2026-12-02".into(),
            published: true,
            sort_order: 0,
        })
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM notices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(count, 0, "no notice without its audit row");

    fail_audit_rows_of(&app, "admin.domain_create").await;
    let r = admin
        .post(app.url(paths::ADMIN_DOMAINS))
        .json(&json!({"slug": "newdom", "name": "New"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal).await;
    assert!(
        latchkey_server::db::domains::by_slug(&app.state.db, "newdom")
            .await
            .unwrap()
            .is_none()
    );
}

/// The guards every response has.
fn assert_common_headers(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
}

/// A page: the PWA's policy, the permissions it switches off, no framing.
fn assert_page_headers(r: &reqwest::Response, what: &str) {
    assert_common_headers(r, what);
    let h = r.headers();
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{what}: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("object-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("base-uri 'none'"), "{what}: {csp}");
    assert!(csp.contains("connect-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("worker-src 'self'"), "{what}: {csp}");
    let pp = h
        .get("permissions-policy")
        .unwrap_or_else(|| panic!("{what}: no Permissions-Policy"))
        .to_str()
        .unwrap();
    assert!(
        pp.contains("camera=()") && pp.contains("geolocation=()"),
        "{what}: {pp}"
    );
}

/// A script: the policy it runs under as a worker (its own origin, wasm).
fn assert_script_headers(r: &reqwest::Response, what: &str) {
    assert_common_headers(r, what);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(
        csp,
        latchkey_server::http::security_headers::WORKER_CSP,
        "{what}"
    );
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"));
}

/// Anything else (JSON, wasm, styles, images): a policy under which nothing
/// runs if it is opened as a page.
fn assert_resource_headers(r: &reqwest::Response, what: &str) {
    assert_common_headers(r, what);
    assert_eq!(
        r.headers()["content-security-policy"],
        latchkey_server::http::security_headers::RESOURCE_CSP,
        "{what}"
    );
    assert!(r.headers().get("permissions-policy").is_none(), "{what}");
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let dir = static_dir_with_index("<!doctype html><html><head></head><body></body></html>");
    std::fs::write(dir.join("app-0123456789abcdef.js"), "export {};").unwrap();
    std::fs::write(dir.join("app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("styles-0123456789abcdef.css"), "body{}").unwrap();
    let static_dir = dir.clone();
    let app = spawn_app_with(backend, move |c| c.static_dir = static_dir).await;
    let c = new_client();
    let r = c.get(app.url(api_paths::BOOTSTRAP)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_resource_headers(&r, "bootstrap");
    // A 304 replaces the cached answer's headers: it sends no policy, so
    // the cached one (a worker script's, say) stays.
    let etag = r.headers()["etag"].clone();
    let r = c
        .get(app.url(api_paths::BOOTSTRAP))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.headers().get("content-security-policy").is_none());
    assert_common_headers(&r, "a 304");
    let r = sign_in_raw(
        &app,
        json!({"domain": "partners", "username": "x", "password": "y"}),
    )
    .await;
    assert_resource_headers(&r, "a refused sign-in");
    let r = c.get(app.url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_resource_headers(&r, "an API 404");
    let r = c.get(app.url("/manage/partners")).send().await.unwrap();
    assert_page_headers(&r, "a page");
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_page_headers(&r, "the sign-in page");
    let r = c
        .get(app.url("/app-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_script_headers(&r, "a script (it may run as a worker)");
    let r = c
        .get(app.url("/app-0123456789abcdef_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_resource_headers(&r, "the wasm module");
    let r = c
        .get(app.url("/styles-0123456789abcdef.css"))
        .send()
        .await
        .unwrap();
    assert_resource_headers(&r, "the styles");
    let r = c
        .delete(app.url(api_paths::BOOTSTRAP))
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_resource_headers(&r, "a 405");
    assert!(r.headers().get("strict-transport-security").is_none());
    let _ = std::fs::remove_dir_all(dir);
}

fn static_dir_with_index(html: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("latchkey-static-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), html).unwrap();
    dir
}

async fn the_csp_allows_the_served_pages_inline_script_by_its_hash(backend: Backend) {
    use base64::Engine;
    use sha2::Digest;
    let script = "import init from '/app-0123456789abcdef.js'; init();";
    let dir = static_dir_with_index(&format!(
        "<!doctype html><html><head><script type=\"module\">{script}</script>\
         <script src=\"/other.js\"></script></head><body></body></html>"
    ));
    let static_dir = dir.clone();
    let app = spawn_app_with(backend, move |c| c.static_dir = static_dir).await;
    let r = new_client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert_eq!(
        csp.matches("'sha256-").count(),
        1,
        "only the inline script: {csp}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn hsts_is_sent_only_when_the_public_address_is_https(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.public_url = Some("https://sspm.example.org".into());
    })
    .await;
    let r = new_client()
        .get(app.url(api_paths::BOOTSTRAP))
        .send()
        .await
        .unwrap();
    let hsts = r.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=63072000"), "{hsts}");
}

async fn static_paths_no_file_can_have_are_404_not_500(backend: Backend) {
    let dir = static_dir_with_index("<!doctype html><title>x</title>");
    let static_dir = dir.clone();
    let app = spawn_app_with(backend, move |c| c.static_dir = static_dir).await;
    let c = new_client();
    let long = format!("/{}.js", "a".repeat(300));
    let r = c.get(app.url(&long)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "{long}");
    let long_page = format!("/{}", "a".repeat(300));
    let r = c.get(app.url(&long_page)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for path in ["/a%00b", "/sw%00.js", "/x/%0a.css"] {
        let r = c.head(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "HEAD {path}");
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the page itself still works");
    let _ = std::fs::remove_dir_all(dir);
}
