//! Roles, the LRA console API and re-authentication: every action and every
//! refusal (role, domain scope, re-authentication, bad input).

use latchkey_server::cli::staff as staff_cli;
use latchkey_shared::admin::{
    paths, ReauthRequest, Role, StaffActionRequest, TemporaryPasswordIssued, UserSearchResponse,
    UserState,
};
use latchkey_shared::api::{ErrorCode, SessionInfo, CSRF_HEADER};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_error, new_client, spawn_app, Backend, TestApp, TestUser, STRONG, STRONG_2, STRONG_3,
    STRONG_4,
};

both_backends!(
    the_session_tells_the_role_and_plain_users_are_refused_everywhere,
    an_lra_finds_and_sees_only_users_of_their_domains,
    an_lra_of_one_domain_is_refused_every_action_on_a_user_of_another,
    an_lra_unlocks_an_account_with_a_reason,
    an_lra_issues_a_temporary_password_that_the_user_must_change,
    an_lra_disables_and_enables_an_account,
    an_lra_clears_an_enrolment,
    credential_changes_need_a_password_entry_within_five_minutes,
    bad_input_and_staff_targets_are_refused,
    an_administrator_acts_on_every_domain_and_sets_roles,
    the_cli_creates_an_administrator_imports_users_and_helps_them,
);

const ALL_ACTIONS: [&str; 5] = [
    paths::STAFF_UNLOCK,
    paths::STAFF_TEMP_PASSWORD,
    paths::STAFF_CLEAR_ENROLMENT,
    paths::STAFF_DISABLE,
    paths::STAFF_ENABLE,
];

/// A user of `domain` made LRA of `lra_domains`, signed in on a client of its own.
pub async fn staff_client(
    app: &TestApp,
    domain: &str,
    username: &str,
    role: Role,
    lra_domains: &[&str],
    password: &str,
) -> (TestUser, reqwest::Client) {
    let user = app
        .add_user_in(domain, username, username, password, false)
        .await;
    let doms: Vec<String> = lra_domains.iter().map(|s| (*s).to_owned()).collect();
    staff_cli::set_user_role(&app.state, domain, username, role, &doms)
        .await
        .expect("role set");
    let client = new_client();
    let response = app.sign_in_with(&client, domain, username, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    (user, client)
}

pub async fn lra(app: &TestApp) -> (TestUser, reqwest::Client) {
    staff_client(app, "partners", "lra1", Role::Lra, &["partners"], STRONG_4).await
}

pub async fn administrator(app: &TestApp) -> (TestUser, reqwest::Client) {
    staff_client(app, "partners", "boss", Role::Admin, &[], STRONG_3).await
}

pub async fn action(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    id: i64,
    reason: &str,
) -> reqwest::Response {
    client
        .post(app.url(&paths::with_id(path, id)))
        .json(&StaffActionRequest {
            reason: reason.to_owned(),
        })
        .send()
        .await
        .unwrap()
}

/// One stored answer (not a real hash): enough for "enrolled".
pub async fn enrol_directly(app: &TestApp, user_id: i64) {
    sqlx::query(
        "INSERT INTO security_answers (user_id, position, question, answer_hash, created_at) \
         VALUES ($1, 0, 'q', 'h', $2)",
    )
    .bind(user_id)
    .bind(crate::helpers::T0)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

pub async fn user_state(app: &TestApp, client: &reqwest::Client, id: i64) -> reqwest::Response {
    client
        .get(app.url(&paths::with_id(paths::STAFF_USER, id)))
        .send()
        .await
        .unwrap()
}

async fn the_session_tells_the_role_and_plain_users_are_refused_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = app.add_user("alice", "Alice A", STRONG).await;
    let info = app.sign_in_as(&plain).await;
    assert_eq!(info.role, Role::User);
    let (_, lra_client) = lra(&app).await;
    let info: SessionInfo = app
        .get_session_with(&lra_client)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.role, Role::Lra);

    // A plain user: 403 on every staff and admin endpoint.
    let gets = [
        paths::STAFF_USERS.to_owned(),
        paths::with_id(paths::STAFF_USER, plain.id),
        paths::ADMIN_DOMAINS.to_owned(),
        paths::ADMIN_NOTICES.to_owned(),
        paths::ADMIN_AUDIT.to_owned(),
        paths::ADMIN_AUDIT_CSV.to_owned(),
        paths::ADMIN_API_KEYS.to_owned(),
        paths::ADMIN_HELP_DESK.to_owned(),
    ];
    for path in &gets {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    }
    for path in ALL_ACTIONS {
        let r = action(&app, &app.client, path, plain.id, "because").await;
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    }
    let r = app
        .client
        .post(app.url(paths::STAFF_REAUTH))
        .json(&ReauthRequest {
            password: STRONG.into(),
        })
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;

    // An LRA: 403 on every administrator endpoint.
    for path in &gets[2..] {
        let r = lra_client.get(app.url(path)).send().await.unwrap();
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    }
    for (path, body) in [
        (paths::ADMIN_DOMAINS, json!({"slug": "x", "name": "X"})),
        (
            paths::ADMIN_MANDATORY_RESET,
            json!({"domains": ["partners"], "reason": "r"}),
        ),
        (paths::ADMIN_API_KEYS, json!({"name": "portal"})),
    ] {
        let r = lra_client
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    }
    let r = lra_client
        .put(app.url(&paths::with_id(paths::ADMIN_USER_ROLE, plain.id)))
        .json(&json!({"role": "admin", "reason": "promote myself"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;

    // Nobody signed in: 401.
    let anon = new_client();
    let r = anon.get(app.url(paths::STAFF_USERS)).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::NotAuthenticated).await;

    // A staff member with a temporary password must change it first.
    let temp = app
        .add_user_in(
            "partners",
            "newlra",
            "New LRA",
            "Kq7mW-x3vTp-9wRn4-sHbEe",
            true,
        )
        .await;
    staff_cli::set_user_role(
        &app.state,
        "partners",
        "newlra",
        Role::Lra,
        &["partners".into()],
    )
    .await
    .unwrap();
    let c = new_client();
    app.sign_in_with(&c, "partners", "newlra", &temp.password)
        .await;
    let r = c.get(app.url(paths::STAFF_USERS)).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::PasswordChangeRequired).await;
}

async fn an_lra_finds_and_sees_only_users_of_their_domains(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let other = app
        .add_user_in("hrcc", "jsmythe", "Jane Smythe", STRONG, false)
        .await;
    let (_, c) = lra(&app).await;

    let found: UserSearchResponse = c
        .get(app.url(&format!("{}?q=JANE", paths::STAFF_USERS)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = found.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["jsmith"]);
    // By user name too; LIKE wildcards are literal.
    let found: UserSearchResponse = c
        .get(app.url(&format!("{}?q=jsm", paths::STAFF_USERS)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.users.len(), 1);
    let found: UserSearchResponse = c
        .get(app.url(&format!("{}?q=%25", paths::STAFF_USERS)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(found.users.is_empty());

    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert_eq!(state.username, "jsmith");
    assert!(!state.locked && !state.disabled && !state.enrolled && !state.temporary_password);
    assert_eq!(state.failed_attempts, 0);

    // The other domain's user does not exist for this LRA.
    let r = user_state(&app, &c, other.id).await;
    assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
}

async fn an_lra_of_one_domain_is_refused_every_action_on_a_user_of_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app
        .add_user_in("hrcc", "victim", "Victim", STRONG, false)
        .await;
    app.lock_out(&other.domain, &other.username).await;
    let hash_before = app.password_hash(other.id).await;
    let (_, c) = lra(&app).await;
    for path in ALL_ACTIONS {
        let r = action(&app, &c, path, other.id, "trying my luck").await;
        assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    }
    // Nothing changed: still locked, same password, not disabled.
    assert_eq!(app.password_hash(other.id).await, hash_before);
    let r = app
        .sign_in_with(&new_client(), "hrcc", "victim", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::LOCKED);
    let refused = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.is("staff.view", "refused") && e.about("victim"))
        .count();
    assert_eq!(refused, ALL_ACTIONS.len());
}

async fn an_lra_unlocks_an_account_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out(&jane.domain, &jane.username).await;
    let (_, c) = lra(&app).await;
    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert!(state.locked);
    assert_eq!(state.failed_attempts as usize, app.threshold());
    assert_eq!(state.locked_until, Some(crate::helpers::T0 + 30 * 60));

    let r = action(
        &app,
        &c,
        paths::STAFF_UNLOCK,
        jane.id,
        "called the desk, ID checked",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = r.json().await.unwrap();
    assert!(!state.locked);
    assert_eq!(state.failed_attempts, 0);
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.is("staff.unlock", "success")
            && e.about("jsmith")
            && e.detail.as_deref() == Some("called the desk, ID checked")));
}

async fn an_lra_issues_a_temporary_password_that_the_user_must_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.lock_out(&jane.domain, &jane.username).await;
    let jane_client = new_client();
    let (_, c) = lra(&app).await;
    let r = action(
        &app,
        &c,
        paths::STAFF_TEMP_PASSWORD,
        jane.id,
        "forgot her password",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let issued: TemporaryPasswordIssued = r.json().await.unwrap();
    assert!(issued.temporary_password.chars().count() >= 12);
    assert_eq!(issued.expires_at, crate::helpers::T0 + 72 * 3600);
    assert!(issued.user.temporary_password && !issued.user.locked);
    // Only its hash is kept.
    assert!(!app
        .password_hash(jane.id)
        .await
        .contains(&issued.temporary_password));

    // The old password no longer works; the temporary one only allows a change.
    let r = app
        .sign_in_with(&jane_client, "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .sign_in_with(
            &jane_client,
            "partners",
            "jsmith",
            &issued.temporary_password,
        )
        .await;
    let info: SessionInfo = r.json().await.unwrap();
    assert!(info.must_change_password);
    let version = app.policy_version("partners").await;
    let r = app
        .change_password_with(
            &jane_client,
            &issued.temporary_password,
            STRONG_2,
            STRONG_2,
            version,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert!(!state.temporary_password);
}

async fn an_lra_disables_and_enables_an_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.sign_in_as(&jane).await;
    let (_, c) = lra(&app).await;
    let r = action(
        &app,
        &c,
        paths::STAFF_DISABLE,
        jane.id,
        "left the organisation",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.json::<UserState>().await.unwrap().disabled);
    // Her session ended and she cannot sign in.
    let r = app.get_session().await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;

    let r = action(&app, &c, paths::STAFF_ENABLE, jane.id, "came back").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.json::<UserState>().await.unwrap().disabled);
    let r = app
        .sign_in_with(&new_client(), "partners", "jsmith", STRONG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let kinds: Vec<String> = app
        .audit_events()
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"staff.disable".to_owned()) && kinds.contains(&"staff.enable".to_owned())
    );
}

async fn an_lra_clears_an_enrolment(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    enrol_directly(&app, jane.id).await;
    let (_, c) = lra(&app).await;
    let state: UserState = user_state(&app, &c, jane.id).await.json().await.unwrap();
    assert!(state.enrolled);
    assert_eq!(state.enrolled_at, Some(crate::helpers::T0));
    let r = action(
        &app,
        &c,
        paths::STAFF_CLEAR_ENROLMENT,
        jane.id,
        "lost her answers",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = r.json().await.unwrap();
    assert!(!state.enrolled && state.enrolled_at.is_none());
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.kind == "staff.clear_enrolment"
            && e.detail.as_deref() == Some("lost her answers")));
}

async fn credential_changes_need_a_password_entry_within_five_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let (me, c) = lra(&app).await;
    // Signing in counts as entering the password; 5 minutes later it does not.
    app.clock.advance(5 * 60);
    // Keep the session alive (idle timeout is 15 minutes); reading is allowed.
    assert_eq!(user_state(&app, &c, jane.id).await.status(), StatusCode::OK);
    for path in ALL_ACTIONS {
        let r = action(&app, &c, path, jane.id, "reason").await;
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
    }
    let reauth = |password: &str| {
        c.post(app.url(paths::STAFF_REAUTH))
            .json(&ReauthRequest {
                password: password.to_owned(),
            })
            .send()
    };
    let r = reauth("not my password").await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;
    let r = reauth(&me.password).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = action(&app, &c, paths::STAFF_UNLOCK, jane.id, "reason").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Failed re-authentications count toward the lockout like sign-ins.
    for _ in 1..app.threshold() {
        reauth("wrong").await.unwrap();
    }
    let r = reauth("wrong").await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials).await;
    let r = reauth(&me.password).await.unwrap();
    assert_error(r, StatusCode::LOCKED, ErrorCode::AccountLocked).await;
}

async fn bad_input_and_staff_targets_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.add_user("jsmith", "Jane Smith", STRONG).await;
    let (_, c) = lra(&app).await;
    let (boss, _) = administrator(&app).await;
    for reason in ["", "   ", &"x".repeat(501)] {
        let r = action(&app, &c, paths::STAFF_UNLOCK, jane.id, reason).await;
        assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    }
    let r = c
        .post(app.url(&paths::with_id(paths::STAFF_UNLOCK, jane.id)))
        .json(&json!({ "why": "no reason field" }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let r = c
        .post(app.url(&paths::with_id(paths::STAFF_UNLOCK, jane.id)))
        .header(CSRF_HEADER, "1")
        .body("reason=x")
        .send()
        .await
        .unwrap();
    assert_error(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
    )
    .await;
    let r = action(&app, &c, paths::STAFF_UNLOCK, 999_999, "reason").await;
    assert_error(r, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    let r = c
        .get(app.url(&format!("{}?q={}", paths::STAFF_USERS, "x".repeat(101))))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    // An LRA cannot touch an administrator (or another LRA) of their domain.
    for path in ALL_ACTIONS {
        let r = action(&app, &c, path, boss.id, "reason").await;
        assert_error(r, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    }
}

async fn an_administrator_acts_on_every_domain_and_sets_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app
        .add_user_in("hrcc", "hruser", "HR User", STRONG, false)
        .await;
    let (_, admin) = administrator(&app).await;
    let found: UserSearchResponse = admin
        .get(app.url(paths::STAFF_USERS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(found.users.iter().any(|u| u.domain == "hrcc"));
    let r = action(&app, &admin, paths::STAFF_UNLOCK, other.id, "admin unlock").await;
    assert_eq!(r.status(), StatusCode::OK);

    // Make the HRCC user an LRA of hrcc; they then see hrcc users only.
    let r = admin
        .put(app.url(&paths::with_id(paths::ADMIN_USER_ROLE, other.id)))
        .json(&json!({"role": "lra", "domains": [], "reason": "new LRA"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let r = admin
        .put(app.url(&paths::with_id(paths::ADMIN_USER_ROLE, other.id)))
        .json(&json!({"role": "lra", "domains": ["hrcc"], "reason": "new LRA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = r.json().await.unwrap();
    assert_eq!(state.role, Role::Lra);
    assert_eq!(state.staff_domains, ["hrcc"]);
    app.clock.advance(301);
    let r = admin
        .put(app.url(&paths::with_id(paths::ADMIN_USER_ROLE, other.id)))
        .json(&json!({"role": "user", "reason": "demote"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, ErrorCode::ReauthRequired).await;
}

async fn the_cli_creates_an_administrator_imports_users_and_helps_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let created =
        staff_cli::create_administrator(&app.state, "partners", "root", "Root Admin", None)
            .await
            .unwrap();
    let c = new_client();
    let r = app
        .sign_in_with(&c, "partners", "root", &created.temporary_password)
        .await;
    let info: SessionInfo = r.json().await.unwrap();
    assert_eq!(info.role, Role::Admin);
    assert!(info.must_change_password);

    let dir = std::env::temp_dir().join(format!("lk-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("passwords.csv");
    let csv =
        "username,display_name,domain,email\nann,\"Lee, Ann\",partners,ann@x.org\nbob,Bob B,hrcc\n";
    // A wrong line creates nobody.
    assert!(
        staff_cli::import_users(&app.state, "ann,Ann,nowhere\n", &out)
            .await
            .is_err()
    );
    assert!(!out.exists());
    let n = staff_cli::import_users(&app.state, csv, &out)
        .await
        .unwrap();
    assert_eq!(n, 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("partners,ann,"))
        .unwrap();
    let ann_temp = line.rsplit(',').next().unwrap().to_owned();
    let r = app
        .sign_in_with(&new_client(), "partners", "ann", &ann_temp)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Importing again refuses (users exist; the file is never overwritten).
    assert!(
        staff_cli::import_users(&app.state, csv, &dir.join("again.csv"))
            .await
            .is_err()
    );

    // Lock ann, unlock and re-issue from the command line.
    let ann = TestUser {
        id: 0,
        domain: "partners".into(),
        username: "ann".into(),
        password: ann_temp.clone(),
    };
    app.lock_out(&ann.domain, &ann.username).await;
    staff_cli::unlock(&app.state, "partners", "ann", "phoned in")
        .await
        .unwrap();
    let r = app
        .sign_in_with(&new_client(), "partners", "ann", &ann_temp)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let fresh = staff_cli::temporary_password(&app.state, "partners", "ann", "forgot")
        .await
        .unwrap();
    assert_ne!(fresh, ann_temp);
    let r = app
        .sign_in_with(&new_client(), "partners", "ann", &fresh)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(staff_cli::unlock(&app.state, "partners", "nobody", "x")
        .await
        .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
