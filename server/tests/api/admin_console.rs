//! The administrator's console API and the portal's verification API (the
//! OpenAPI description: `openapi.rs`).

use latchkey_shared::admin::{
    paths, AdminDomain, AdminNotice, ApiKeyCreated, ApiKeyInfo, AuditPage, MandatoryResetResponse,
    PasswordStatus, PortalVerifyRequest, PortalVerifyResponse, MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::api::{Bootstrap, ErrorCode, SessionInfo, CSRF_HEADER};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, new_client, spawn_app, Backend, TestApp, STRONG, STRONG_2};
use crate::staff::administrator;

both_backends!(
    an_administrator_edits_domains_policies_and_lockout,
    domain_edits_refuse_bad_input,
    a_taken_domain_short_name_is_a_conflict,
    a_domain_update_is_audited_field_by_field_and_security_settings_need_a_fresh_password,
    notices_are_managed_and_the_mandatory_reset_is_one_step,
    the_help_desk_contact_is_edited,
    the_audit_log_filters_and_exports_csv,
    api_keys_are_created_shown_once_and_revoked,
    the_portal_verifies_passwords_and_counts_toward_the_lockout,
    a_right_password_at_the_portal_clears_the_failure_count,
    the_audit_log_shows_refusals_of_a_locked_account_at_once,
);

async fn bootstrap(app: &TestApp) -> Bootstrap {
    new_client()
        .get(app.url(latchkey_shared::api::paths::BOOTSTRAP))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn an_administrator_edits_domains_policies_and_lockout(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let domains: Vec<AdminDomain> = c
        .get(app.url(paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(domains.len(), 3);
    let mut hrcc = domains.into_iter().find(|d| d.slug == "hrcc").unwrap();
    let version = hrcc.policy.version;

    hrcc.policy.min_length = 20;
    hrcc.policy.require_digit = true;
    let body = json!({
        "name": "HRCC Health", "sspm_available": false,
        "unavailable_text": "Use the HRCC tool.", "policy": hrcc.policy,
        "lockout_threshold": 3, "lockout_minutes": 0
    });
    let url = app.url(&paths::ADMIN_DOMAIN.replace("{slug}", "hrcc"));
    let r = c.put(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let updated: AdminDomain = r.json().await.unwrap();
    assert_eq!(updated.policy.version, version + 1);
    assert_eq!(updated.lockout_threshold, Some(3));
    let b = bootstrap(&app).await;
    let d = b.domains.iter().find(|d| d.id == "hrcc").unwrap();
    assert_eq!(d.name, "HRCC Health");
    assert!(!d.sspm_available);
    assert_eq!(d.unavailable_text.as_deref(), Some("Use the HRCC tool."));
    assert_eq!(d.policy.min_length, 20);
    // The self-service settings (issue 3's) are edited with the domain.
    let mut ss = updated.self_service.clone();
    ss.enrol_count = 4;
    ss.verify_count = 3;
    ss.catalogue.truncate(6);
    let mut with_ss = body.clone();
    with_ss["self_service"] = serde_json::to_value(&ss).unwrap();
    let r = c.put(&url).json(&with_ss).send().await.unwrap();
    assert_eq!(r.json::<AdminDomain>().await.unwrap().self_service, ss);
    ss.verify_count = 9;
    with_ss["self_service"] = serde_json::to_value(&ss).unwrap();
    let r = c.put(&url).json(&with_ss).send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    // The same settings again: the policy version stays.
    let r = c.put(&url).json(&body).send().await.unwrap();
    assert_eq!(
        r.json::<AdminDomain>().await.unwrap().policy.version,
        version + 1
    );

    // The lockout threshold applies: 3 failures lock hrcc users.
    let r = c
        .put(&url)
        .json(
            &json!({"name": "HRCC", "sspm_available": true, "unavailable_text": null,
                      "policy": hrcc.policy, "lockout_threshold": 3, "lockout_minutes": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.add_user_in("hrcc", "hr1", "HR One", STRONG, false)
        .await;
    let anon = new_client();
    for _ in 0..app.threshold_of("hrcc").await {
        app.sign_in_with(&anon, "hrcc", "hr1", "wrong").await;
    }
    let r = app.sign_in_with(&anon, "hrcc", "hr1", STRONG).await;
    assert_eq!(r.status(), StatusCode::LOCKED);

    // Create a domain.
    let r = c
        .post(app.url(paths::ADMIN_DOMAINS))
        .json(&json!({"slug": "stjoes", "name": "St Joseph's"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(bootstrap(&app)
        .await
        .domains
        .iter()
        .any(|d| d.id == "stjoes"));
    let kinds: Vec<String> = app
        .audit_events()
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"admin.domain_update".into())
            && kinds.contains(&"admin.domain_create".into())
    );
}

async fn a_domain_update_is_audited_field_by_field_and_security_settings_need_a_fresh_password(
    backend: Backend,
) {
    use latchkey_shared::admin::REAUTH_WINDOW_SECS;
    use latchkey_shared::self_service::SecondFactor;
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let domains: Vec<AdminDomain> = c
        .get(app.url(paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let partners = domains.into_iter().find(|d| d.slug == "partners").unwrap();
    assert_eq!(partners.self_service.second_factor, SecondFactor::Off);
    let url = app.url(&paths::ADMIN_DOMAIN.replace("{slug}", "partners"));
    let body = |name: &str, text: Option<&str>, factor: SecondFactor| {
        let mut ss = partners.self_service.clone();
        ss.second_factor = factor;
        json!({"name": name, "sspm_available": true, "unavailable_text": text,
               "policy": partners.policy, "lockout_threshold": partners.lockout_threshold,
               "lockout_minutes": partners.lockout_minutes, "self_service": ss})
    };
    let put = |b: serde_json::Value| c.put(&url).json(&b).send();
    // Just signed in: fresh enough to turn the second factor on.
    let r = put(body("Partners", None, SecondFactor::WithQuestions))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    app.clock.advance(REAUTH_WINDOW_SECS + 1);
    // The name and the text are no security settings.
    let r = put(body(
        "Partners Health",
        Some("Call the desk."),
        SecondFactor::WithQuestions,
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Turning the second factor off, or the lockout, is: not without the
    // password again, and nothing changes.
    let off = body("Partners Health", Some("Call the desk."), SecondFactor::Off);
    let r = put(off.clone()).await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
    let mut lockout = body(
        "Partners Health",
        Some("Call the desk."),
        SecondFactor::WithQuestions,
    );
    lockout["lockout_threshold"] = json!(50);
    let r = put(lockout).await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
    let now: Vec<AdminDomain> = c
        .get(app.url(paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kept = now.iter().find(|d| d.slug == "partners").unwrap();
    assert_eq!(kept.self_service.second_factor, SecondFactor::WithQuestions);
    assert_eq!(kept.lockout_threshold, partners.lockout_threshold);

    let r = c
        .post(app.url(paths::STAFF_REAUTH))
        .json(&json!({"password": crate::helpers::STRONG_3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = put(off).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        r.json::<AdminDomain>()
            .await
            .unwrap()
            .self_service
            .second_factor,
        SecondFactor::Off
    );

    let details: Vec<String> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.is("admin.domain_update", "success"))
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert_eq!(
        details,
        [
            r#"self_service.second_factor: "off" -> "with_questions""#,
            r#"name: "Partners" -> "Partners Health"; unavailable_text: none -> "Call the desk.""#,
            r#"self_service.second_factor: "with_questions" -> "off""#,
        ]
    );
}

async fn domain_edits_refuse_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let policy = latchkey_shared::PasswordPolicy::default();
    let url = app.url(&paths::ADMIN_DOMAIN.replace("{slug}", "partners"));
    let base = json!({"name": "Partners", "sspm_available": true, "unavailable_text": null,
                      "policy": policy, "lockout_threshold": null, "lockout_minutes": null});
    let mut bad_policy = policy.clone();
    bad_policy.min_length = 500;
    bad_policy.max_length = 10;
    for patch in [
        json!({"name": "  "}),
        json!({"lockout_threshold": 0}),
        json!({"lockout_minutes": -1}),
        json!({"policy": bad_policy}),
    ] {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = c.put(&url).json(&body).send().await.unwrap();
        assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    }
    let r = c
        .put(app.url(&paths::ADMIN_DOMAIN.replace("{slug}", "nowhere")))
        .json(&base)
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    for body in [
        json!({"slug": "Bad Slug", "name": "X"}),
        json!({"slug": "ok", "name": ""}),
    ] {
        let r = c
            .post(app.url(paths::ADMIN_DOMAINS))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    }
}

async fn a_taken_domain_short_name_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let before = domain_count(&app).await;
    for slug in ["partners", "Partners"] {
        let r = c
            .post(app.url(paths::ADMIN_DOMAINS))
            .json(&json!({"slug": slug, "name": "Again"}))
            .send()
            .await
            .unwrap();
        let body = assert_error(r, StatusCode::CONFLICT, ErrorCode::Conflict).await;
        assert!(body.message.contains("\"partners\""), "{}", body.message);
    }
    assert_eq!(domain_count(&app).await, before, "nothing was created");
    let kinds: Vec<String> = app
        .audit_events()
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(!kinds.contains(&"admin.domain_create".into()));
}

async fn domain_count(app: &TestApp) -> usize {
    bootstrap(app).await.domains.len()
}

async fn notices_are_managed_and_the_mandatory_reset_is_one_step(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let other = app
        .add_user_in("hrcc", "hr1", "HR One", STRONG, false)
        .await;
    let (_, c) = administrator(&app).await;

    let r = c
        .post(app.url(paths::ADMIN_NOTICES))
        .json(
            &json!({"title": "Maintenance", "body": "Sunday.", "posted_on": "2025-06-01",
                      "published": false, "sort_order": 5}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let notice: AdminNotice = r.json().await.unwrap();
    assert!(
        bootstrap(&app).await.notices.is_empty(),
        "unpublished notices stay hidden"
    );
    let url = app.url(&paths::with_id(paths::ADMIN_NOTICE, notice.id));
    let r = c
        .put(&url)
        .json(
            &json!({"title": "Maintenance", "body": "Sunday 2-4.", "posted_on": "2025-06-02",
                      "published": true, "sort_order": 5}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b = bootstrap(&app).await;
    assert_eq!(b.notices.len(), 1);
    assert_eq!(b.notices[0].body, "Sunday 2-4.");
    let r = c
        .put(&url)
        .json(&json!({"title": "x", "body": "y", "posted_on": "June 2", "published": true, "sort_order": 1}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let r = c
        .delete(&url)
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(bootstrap(&app).await.notices.is_empty());

    // The mandatory reset: partners users must change; the notice is published.
    let r = c
        .post(app.url(paths::ADMIN_MANDATORY_RESET))
        .json(&json!({"domains": ["partners"], "reason": ""}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let r = c
        .post(app.url(paths::ADMIN_MANDATORY_RESET))
        .json(&json!({"domains": ["partners"], "reason": "breach at vendor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let done: MandatoryResetResponse = r.json().await.unwrap();
    assert_eq!(done.users_marked, 2, "jsmith and the administrator");
    assert!(done.notice.published);
    assert_eq!(done.notice.title, MANDATORY_RESET_NOTICE_TITLE);
    let b = bootstrap(&app).await;
    assert!(b
        .notices
        .iter()
        .any(|n| n.title == MANDATORY_RESET_NOTICE_TITLE));
    let info: SessionInfo = app.sign_in_as(&jane).await;
    assert!(info.must_change_password);
    let r = app.sign_in_with(&new_client(), "hrcc", "hr1", STRONG).await;
    assert!(!r.json::<SessionInfo>().await.unwrap().must_change_password);
    // After the change, the flag is gone.
    assert_eq!(
        app.change_password(STRONG, STRONG_2).await.status(),
        StatusCode::OK
    );
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG_2)
        .await;
    assert!(!r.json::<SessionInfo>().await.unwrap().must_change_password);

    // A list of user names; unknown ones are reported.
    let r = c
        .post(app.url(paths::ADMIN_MANDATORY_RESET))
        .json(&json!({"domains": ["hrcc"], "usernames": ["HR1", "ghost"], "reason": "r"}))
        .send()
        .await
        .unwrap();
    let done: MandatoryResetResponse = r.json().await.unwrap();
    assert_eq!(done.users_marked, 1);
    assert_eq!(done.unknown_usernames, ["ghost"]);
    let r = app
        .sign_in_with(&new_client(), "hrcc", "hr1", &other.password)
        .await;
    assert!(r.json::<SessionInfo>().await.unwrap().must_change_password);

    // It changes credentials: re-authentication needed after 5 minutes.
    app.clock.advance(301);
    let r = c
        .post(app.url(paths::ADMIN_MANDATORY_RESET))
        .json(&json!({"domains": ["hrcc"], "reason": "r"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
}

async fn the_help_desk_contact_is_edited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let r = c
        .put(app.url(paths::ADMIN_HELP_DESK))
        .json(&json!({"phone": "555-0100", "email": "help@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b = bootstrap(&app).await;
    assert_eq!(b.help_desk.phone, "555-0100");
    assert_eq!(b.help_desk.email, "help@example.org");
    let r = c
        .put(app.url(paths::ADMIN_HELP_DESK))
        .json(&json!({"phone": "1", "email": "not-an-address"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
}

async fn the_audit_log_filters_and_exports_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.add_user_in("hrcc", "hr1", "HR", STRONG, false).await;
    app.sign_in_with(&new_client(), "partners", "jsmith", "wrong")
        .await;
    app.clock.advance(100);
    app.sign_in_with(&new_client(), "hrcc", "hr1", "=cmd|' /C calc'!A0")
        .await;
    app.sign_in_as(&jane).await;
    let (_, c) = administrator(&app).await;

    let page = |q: &str| {
        let c = c.clone();
        let url = app.url(&format!("{}?{q}", paths::ADMIN_AUDIT));
        async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<AuditPage>()
                .await
                .unwrap()
        }
    };
    let all = page("").await;
    assert!(all.events.len() >= 4);
    assert!(
        all.events.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    let jane_events = page("user=JSMITH").await;
    assert!(!jane_events.events.is_empty());
    assert!(jane_events
        .events
        .iter()
        .all(|e| e.subject.as_deref() == Some("jsmith")));
    let hr = page("domain=hrcc&kind=sign_in").await;
    assert_eq!(hr.events.len(), 1);
    assert_eq!(hr.events[0].result, "failure");
    let early = page(&format!("to={}", crate::helpers::T0 + 50)).await;
    assert!(early.events.iter().all(|e| e.at < crate::helpers::T0 + 50));
    let late = page(&format!("from={}&kind=sign_in", crate::helpers::T0 + 50)).await;
    assert!(late.events.iter().all(|e| e.at >= crate::helpers::T0 + 50));
    let limited = page("limit=1").await;
    assert!(limited.truncated && limited.events.len() == 1);

    let r = c
        .get(app.url(&format!("{}?domain=partners", paths::ADMIN_AUDIT_CSV)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time,kind,result,actor,subject,domain,source_ip,detail")
    );
    assert!(csv.contains("2025-06-15T15:06:40Z,sign_in,failure"));
    assert!(!csv.contains("hr1"), "only partners: {csv}");
}

async fn api_keys_are_created_shown_once_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, c) = administrator(&app).await;
    let r = c
        .post(app.url(paths::ADMIN_API_KEYS))
        .json(&json!({"name": " "}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let r = c
        .post(app.url(paths::ADMIN_API_KEYS))
        .json(&json!({"name": "ClinicalConnect"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: ApiKeyCreated = r.json().await.unwrap();
    assert!(created.key.starts_with("lk_") && created.key.len() > 40);
    assert!(created.key.starts_with(&created.info.prefix));
    let stored: String = sqlx::Row::get(
        &sqlx::query("SELECT key_hash FROM api_keys")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap(),
        "key_hash",
    );
    assert!(
        !stored.contains(&created.key) && stored.len() == 64,
        "stored hashed"
    );
    let keys: Vec<ApiKeyInfo> = c
        .get(app.url(paths::ADMIN_API_KEYS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let url = app.url(&paths::with_id(paths::ADMIN_API_KEY, created.info.id));
    let r = c
        .delete(&url)
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .delete(&url)
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    let keys: Vec<ApiKeyInfo> = c
        .get(app.url(paths::ADMIN_API_KEYS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(keys[0].revoked_at.is_some());
    // Creating and revoking keys need a recent password entry.
    app.clock.advance(301);
    let r = c
        .post(app.url(paths::ADMIN_API_KEYS))
        .json(&json!({"name": "late"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
}

async fn verify(
    app: &TestApp,
    key: Option<&str>,
    domain: &str,
    user: &str,
    pw: &str,
) -> reqwest::Response {
    let mut req = new_client()
        .post(app.url(paths::PORTAL_VERIFY))
        .json(&PortalVerifyRequest {
            domain: domain.into(),
            username: user.into(),
            password: pw.into(),
        });
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn the_portal_verifies_passwords_and_counts_toward_the_lockout(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.add_user_in("partners", "newbie", "New", "Kq7mW-x3vTp-9wRn4-sHbEe", true)
        .await;
    let (_, c) = administrator(&app).await;
    let created: ApiKeyCreated = c
        .post(app.url(paths::ADMIN_API_KEYS))
        .json(&json!({"name": "ClinicalConnect"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created.key.as_str();

    // No key, a wrong key: refused before anything is checked.
    let before = app.verifications();
    let r = verify(&app, None, "partners", "jsmith", STRONG).await;
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let r = verify(&app, Some("lk_wrong"), "partners", "jsmith", STRONG).await;
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    assert_eq!(app.verifications(), before);

    let r = verify(&app, Some(key), "partners", "JSmith", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ok: PortalVerifyResponse = r.json().await.unwrap();
    assert_eq!(ok.status, PasswordStatus::Valid);
    assert_eq!(ok.username, "jsmith");

    let r = verify(
        &app,
        Some(key),
        "partners",
        "newbie",
        "Kq7mW-x3vTp-9wRn4-sHbEe",
    )
    .await;
    let temp: PortalVerifyResponse = r.json().await.unwrap();
    assert_eq!(temp.status, PasswordStatus::Temporary);
    assert!(temp.expires_at.is_some());

    // Uniform answers: unknown user, unknown domain, wrong password.
    for (d, u, p) in [
        ("partners", "ghost", STRONG),
        ("nowhere", "jsmith", STRONG),
        ("partners", "jsmith", "wrong"),
    ] {
        let r = verify(&app, Some(key), d, u, p).await;
        let e = assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;
        assert_eq!(
            e.message,
            latchkey_shared::api::messages::INVALID_CREDENTIALS
        );
    }
    // The rest of the threshold's failures at the portal lock the account
    // for sign-in too.
    for _ in 1..app.threshold() {
        verify(&app, Some(key), "partners", "jsmith", "wrong").await;
    }
    let r = verify(&app, Some(key), "partners", "jsmith", STRONG).await;
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::LOCKED);

    // An expired temporary password is told apart.
    app.clock.advance(72 * 3600);
    let r = verify(
        &app,
        Some(key),
        "partners",
        "newbie",
        "Kq7mW-x3vTp-9wRn4-sHbEe",
    )
    .await;
    assert_error(
        r,
        StatusCode::FORBIDDEN,
        ErrorCode::TemporaryPasswordExpired,
    )
    .await;
    // Domains without self-service answer as at sign-in.
    let r = verify(&app, Some(key), "hhsc", "x", "y").await;
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::SspmUnavailable).await;
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.kind == "portal.verify"));

    // A revoked key stops working (reauth first: the clock moved on).
    let admin_pw = crate::helpers::STRONG_3;
    let r = c
        .post(app.url(paths::STAFF_REAUTH))
        .json(&json!({"password": admin_pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the session idled out meanwhile"
    );
    let c = new_client();
    app.sign_in_with(&c, "partners", "boss", admin_pw).await;
    let r = c
        .delete(app.url(&paths::with_id(paths::ADMIN_API_KEY, created.info.id)))
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = verify(&app, Some(key), "partners", "newbie", "whatever").await;
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
}

async fn a_right_password_at_the_portal_clears_the_failure_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    let (_, c) = administrator(&app).await;
    let created: ApiKeyCreated = c
        .post(app.url(paths::ADMIN_API_KEYS))
        .json(&json!({"name": "portal"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = Some(created.key.as_str());
    for _ in 1..app.threshold() {
        let r = verify(&app, key, "partners", "jsmith", "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = verify(&app, key, "partners", "jsmith", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
    // As many failures again are again below the threshold.
    for _ in 1..app.threshold() {
        let r = verify(&app, key, "partners", "jsmith", "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = verify(&app, key, "partners", "jsmith", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn the_audit_log_shows_refusals_of_a_locked_account_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out("partners", "jsmith").await;
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::LOCKED);
    // Written in a batch, but the audit view writes this instance's pending
    // events before it reads.
    let (_, c) = administrator(&app).await;
    let page: AuditPage = c
        .get(app.url(&format!("{}?user=jsmith&kind=sign_in", paths::ADMIN_AUDIT)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        page.events.iter().any(|e| e.result == "locked"),
        "{:?}",
        page.events
    );
}
