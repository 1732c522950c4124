//! The directory client (`latchkey_server::directory`) against a real
//! OpenLDAP with the ppolicy overlay (helpers/slapd.rs): every operation a
//! directory-backed domain will use, and the answers when the directory is
//! down or the service account is wrong.

use std::time::{Duration, Instant};

use latchkey_server::directory::{
    BindOutcome, ChangeOutcome, Directory, DirectoryConfig, DirectoryError, DirectoryKind,
    DirectoryLock, PERMANENT_LOCK,
};

use crate::helpers::slapd::{
    user_dn, Slapd, ALICE_PASSWORD, BOB_PASSWORD, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD,
};

fn config(slapd: &Slapd, service_password: &str) -> DirectoryConfig {
    let file = std::env::temp_dir().join(format!("latchkey-bind-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{service_password}\n")).unwrap();
    DirectoryConfig {
        kind: DirectoryKind::Ldap,
        url: slapd.url(),
        starttls: false,
        allow_plain: true,
        ca_file: None,
        base_dn: PEOPLE_DN.to_owned(),
        user_filter: None,
        username_attribute: None,
        display_name_attribute: "cn".to_owned(),
        mail_attribute: "mail".to_owned(),
        bind_dn: SERVICE_DN.to_owned(),
        bind_password_env: None,
        bind_password_file: Some(file),
        // Generous: the tests share two cores with many others; a stopped
        // server refuses at once anyway.
        timeout_secs: 10,
        pool_size: 2,
    }
}

fn directory(slapd: &Slapd) -> Directory {
    Directory::new("test", config(slapd, SERVICE_PASSWORD)).expect("a valid directory config")
}

#[tokio::test]
async fn a_user_is_found_by_name_with_the_directorys_stable_id_and_an_unknown_name_is_not() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let alice = dir.find_user("alice").await.unwrap().expect("alice");
    assert_eq!(alice.dn, user_dn("alice"));
    assert_eq!(alice.display_name, "Alice Example");
    assert_eq!(alice.mail.as_deref(), Some("alice@latchkey.test"));
    assert_eq!(alice.id, slapd.values(&user_dn("alice"), "entryUUID")[0]);
    assert_eq!(alice.lock, DirectoryLock::None);
    assert!(dir.find_user("nobody").await.unwrap().is_none());
    // A filter meta-character is a character of the name, not of the filter.
    assert!(dir.find_user("*").await.unwrap().is_none());
    assert!(dir.find_user("alice)(uid=*").await.unwrap().is_none());
}

#[tokio::test]
async fn a_bind_tells_a_right_password_from_a_wrong_one_and_an_impossible_dn_is_refused() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let dn = user_dn("alice");
    assert_eq!(
        dir.bind(&dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Accepted
    );
    assert_eq!(dir.bind(&dn, "wrong").await.unwrap(), BindOutcome::Refused);
    let nowhere = dir.impossible_dn();
    assert_eq!(
        dir.bind(&nowhere, "anything").await.unwrap(),
        BindOutcome::Refused
    );
    // The wrong bind was counted by the directory itself.
    assert_eq!(slapd.values(&dn, "pwdFailureTime").len(), 1);
}

#[tokio::test]
async fn a_lock_set_in_the_directory_is_read_and_lifted_but_an_administrators_is_not() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    slapd.lock("alice", "20260101000000Z");
    let alice = dir.find_user("alice").await.unwrap().unwrap();
    assert_eq!(alice.lock, DirectoryLock::Locked);
    assert_eq!(
        dir.bind(&alice.dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Locked
    );
    dir.unlock(&alice).await.unwrap();
    assert!(slapd.values(&alice.dn, "pwdAccountLockedTime").is_empty());
    assert!(slapd.bind(&alice.dn, ALICE_PASSWORD).is_ok());

    slapd.lock("bob", PERMANENT_LOCK);
    let bob = dir.find_user("bob").await.unwrap().unwrap();
    assert_eq!(bob.lock, DirectoryLock::Permanent);
    dir.unlock(&bob).await.unwrap();
    assert_eq!(
        slapd.values(&bob.dn, "pwdAccountLockedTime"),
        vec![PERMANENT_LOCK.to_owned()]
    );
    assert!(slapd.bind(&bob.dn, BOB_PASSWORD).is_err());
}

#[tokio::test]
async fn a_change_as_the_user_is_held_to_the_directorys_history_with_a_clear_message() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let dn = user_dn("alice");
    let new = "alice-Quartz-2209";
    assert_eq!(
        dir.change_password(&dn, "not-current", new).await.unwrap(),
        ChangeOutcome::WrongPassword
    );
    assert_eq!(
        dir.change_password(&dn, ALICE_PASSWORD, new).await.unwrap(),
        ChangeOutcome::Changed
    );
    assert!(slapd.bind(&dn, new).is_ok());
    assert!(slapd.bind(&dn, ALICE_PASSWORD).is_err());
    // Back to the previous one: in the directory's history (pwdInHistory 3).
    match dir.change_password(&dn, new, ALICE_PASSWORD).await.unwrap() {
        ChangeOutcome::Refused(message) => {
            assert!(message.contains("used recently"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Too short for the directory's pwdMinLength.
    match dir.change_password(&dn, new, "short").await.unwrap() {
        ChangeOutcome::Refused(message) => assert!(message.contains("too short"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(slapd.bind(&dn, new).is_ok(), "refusals changed nothing");
}

#[tokio::test]
async fn a_reset_by_the_service_unlocks_and_a_temporary_one_must_be_changed_before_any_use() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    slapd.lock("alice", "20260101000000Z");
    let alice = dir.find_user("alice").await.unwrap().unwrap();
    dir.reset_password(&alice, "alice-Reset-8812", false)
        .await
        .unwrap();
    assert!(slapd.values(&alice.dn, "pwdAccountLockedTime").is_empty());
    assert!(slapd.bind(&alice.dn, "alice-Reset-8812").is_ok());

    let temporary = "alice-Temp-3371";
    let alice = dir.find_user("alice").await.unwrap().unwrap();
    dir.reset_password(&alice, temporary, true).await.unwrap();
    assert!(dir.find_user("alice").await.unwrap().unwrap().must_change);
    assert_eq!(
        dir.bind(&alice.dn, temporary).await.unwrap(),
        BindOutcome::MustChange
    );
    // Outside Latchkey, the directory itself says so.
    let said = slapd.bind(&alice.dn, temporary).unwrap_or_else(|e| e);
    assert!(said.contains("Password must be changed"), "{said}");
}

#[tokio::test]
async fn a_directory_that_is_down_is_unavailable_within_the_timeout_and_recovers_by_itself() {
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    assert!(
        dir.find_user("alice").await.unwrap().is_some(),
        "pool warmed"
    );
    slapd.stop();
    let started = Instant::now();
    let e = dir.find_user("alice").await.unwrap_err();
    assert!(matches!(e, DirectoryError::Unavailable(..)), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let e = dir
        .bind(&user_dn("alice"), ALICE_PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(e, DirectoryError::Unavailable(..)), "{e}");
    slapd.restart();
    assert!(dir.find_user("alice").await.unwrap().is_some());
    assert_eq!(
        dir.bind(&user_dn("alice"), ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Accepted
    );
}

#[tokio::test]
async fn a_wrong_service_password_is_named_as_such() {
    let slapd = Slapd::start();
    let dir = Directory::new("test", config(&slapd, "not-the-password")).unwrap();
    let e = dir.find_user("alice").await.unwrap_err();
    assert!(matches!(e, DirectoryError::NotAllowed(..)), "{e}");
    assert!(e.to_string().contains("cannot bind"), "{e}");
}

#[test]
fn plain_ldap_needs_an_explicit_allow_and_a_missing_password_source_is_named() {
    let slapd = Slapd::start();
    let plain = DirectoryConfig {
        allow_plain: false,
        ..config(&slapd, SERVICE_PASSWORD)
    };
    let e = Directory::new("corp", plain).unwrap_err();
    assert!(e.contains("not encrypted") && e.contains("corp"), "{e}");
    let unset = DirectoryConfig {
        bind_password_file: None,
        bind_password_env: Some("LATCHKEY_TEST_UNSET_VARIABLE".into()),
        ..config(&slapd, SERVICE_PASSWORD)
    };
    let e = Directory::new("corp", unset).unwrap_err();
    assert!(e.contains("LATCHKEY_TEST_UNSET_VARIABLE"), "{e}");
}

async fn directory_test(
    slapd: &Slapd,
    name: &str,
    user: Option<&str>,
) -> (anyhow::Result<()>, String) {
    let mut config = latchkey_server::config::Config::default();
    config
        .directories
        .insert("corp".to_owned(), self::config(slapd, SERVICE_PASSWORD));
    let mut out = Vec::new();
    let result = latchkey_server::cli::directory::test(&config, name, user, &mut out).await;
    (result, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn the_directory_test_command_checks_the_service_account_and_one_user_in_plain_words() {
    let slapd = Slapd::start();
    let (result, out) = directory_test(&slapd, "corp", Some("alice")).await;
    result.unwrap();
    assert!(out.contains("binds and searches"), "{out}");
    assert!(
        out.contains(&user_dn("alice")) && out.contains("Alice Example"),
        "{out}"
    );
    assert!(
        out.contains("pwdInHistory 3"),
        "the directory's policy is shown: {out}"
    );
    assert!(out.contains("NOT encrypted"), "{out}");

    let (result, _) = directory_test(&slapd, "corp", Some("nobody")).await;
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("no user \"nobody\"") && e.contains("user_filter"),
        "{e}"
    );

    let (result, _) = directory_test(&slapd, "elsewhere", None).await;
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("[directories.elsewhere]") && e.contains("corp"),
        "{e}"
    );

    slapd.stop();
    let (result, _) = directory_test(&slapd, "corp", None).await;
    let e = result.unwrap_err().to_string();
    assert!(e.contains("cannot reach"), "{e}");
}

// ---------------------------------------------------------------- a domain backed by the directory

use latchkey_server::accounts::store::StoreKind;
use latchkey_shared::api::{ApiError, ErrorCode};
use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app_with, Backend, TestApp, STRONG_2, STRONG_3};

both_backends!(
    a_directory_domain_signs_in_by_binding_as_the_user_and_keeps_no_password,
    an_unknown_name_and_a_wrong_password_are_answered_alike_on_a_directory_domain,
    fifty_parallel_wrong_attempts_cause_at_most_the_thresholds_binds_and_the_next_is_locked,
    a_lock_set_in_the_directory_is_answered_with_the_locked_message,
    change_password_on_a_directory_domain_is_made_as_the_user_and_held_to_its_history,
    a_directory_that_is_down_answers_503_and_counts_no_failure,
    an_lra_temporary_password_must_be_changed_before_it_binds_anywhere,
    an_lra_unlock_lifts_the_directorys_lock_but_never_an_administrators,
    unlock_account_through_the_whole_flow_clears_latchkeys_and_the_directorys_lock,
    forgot_password_resets_the_password_in_the_directory,
    the_portal_checks_directory_passwords_with_the_same_answers,
);

/// The app with `partners` backed by `slapd`.
async fn directory_app(backend: Backend, slapd: &Slapd) -> TestApp {
    let settings = config(slapd, SERVICE_PASSWORD);
    let app = spawn_app_with(backend, move |c| {
        c.directories.insert("corp".to_owned(), settings);
    })
    .await;
    latchkey_server::provisioning::set_domain_store(
        &app.state,
        "partners",
        &StoreKind::Directory("corp".to_owned()),
    )
    .await
    .unwrap();
    app
}

async fn error_of(r: reqwest::Response) -> (StatusCode, ApiError) {
    let status = r.status();
    (status, r.json().await.expect("an API error body"))
}

async fn a_directory_domain_signs_in_by_binding_as_the_user_and_keeps_no_password(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let r = app.sign_in("partners", "Alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let row = sqlx::query("SELECT username, display_name, email, password_hash, directory_id FROM users WHERE username_key = 'alice'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    use sqlx::Row;
    assert_eq!(row.get::<String, _>("display_name"), "Alice Example");
    assert_eq!(
        row.get::<Option<String>, _>("email").as_deref(),
        Some("alice@latchkey.test")
    );
    assert_eq!(
        row.get::<String, _>("password_hash"),
        "",
        "no password or hash is stored"
    );
    assert_eq!(
        row.get::<Option<String>, _>("directory_id"),
        Some(slapd.values(&user_dn("alice"), "entryUUID")[0].clone())
    );
    let r = app.sign_in("partners", "alice", "wrong-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A second sign-in reuses the row (keyed by the directory's id).
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE domain_id = (SELECT id FROM domains WHERE slug = 'partners')")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn an_unknown_name_and_a_wrong_password_are_answered_alike_on_a_directory_domain(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let (s1, e1) = error_of(app.sign_in("partners", "alice", "wrong-password").await).await;
    let (s2, e2) = error_of(app.sign_in("partners", "nobody", "wrong-password").await).await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!((s1, e1.code, e1.message), (s2, e2.code, e2.message));
    // The unknown name created nothing.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username_key = 'nobody'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn fifty_parallel_wrong_attempts_cause_at_most_the_thresholds_binds_and_the_next_is_locked(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let threshold = usize::try_from(app.state.config.lockout_threshold).unwrap();
    let attempts = (0..50).map(|_| {
        let client = new_client();
        let app = &app;
        async move {
            app.sign_in_with(&client, "partners", "alice", "wrong-password")
                .await
                .status()
        }
    });
    let statuses = futures_join_all(attempts).await;
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let locked = statuses
        .iter()
        .filter(|s| **s == StatusCode::LOCKED)
        .count();
    assert_eq!(refused + locked, 50, "{statuses:?}");
    assert!(
        refused <= threshold,
        "{refused} checks for a threshold of {threshold}"
    );
    // The directory's own count of failed binds (pwdFailureTime) says the same.
    let binds = slapd.values(&user_dn("alice"), "pwdFailureTime").len();
    assert!(
        binds <= threshold,
        "{binds} failed binds reached the directory"
    );
    assert!(binds >= 1);
    let (status, e) = error_of(app.sign_in("partners", "alice", ALICE_PASSWORD).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}

/// Every future polled together (all requests in flight at once), like
/// `futures::future::join_all`, without the crate.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = StatusCode>,
{
    join_pinned(futures.map(Box::pin).collect()).await
}

async fn join_pinned<F>(mut futures: Vec<std::pin::Pin<Box<F>>>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = StatusCode>,
{
    let mut results: Vec<Option<StatusCode>> = vec![None; futures.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

async fn a_lock_set_in_the_directory_is_answered_with_the_locked_message(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    slapd.lock("alice", "20260101000000Z");
    let (status, e) = error_of(app.sign_in("partners", "alice", ALICE_PASSWORD).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
    // Lifted in the directory, the right password works again.
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: pwdAccountLockedTime\n",
        user_dn("alice")
    ));
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn change_password_on_a_directory_domain_is_made_as_the_user_and_held_to_its_history(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.change_password(ALICE_PASSWORD, STRONG_2).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(
        slapd.bind(&user_dn("alice"), STRONG_2).is_ok(),
        "changed in the directory"
    );
    let r = app.change_password(STRONG_2, STRONG_3).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Back to the one before: Latchkey's policy passes it, the directory's
    // history refuses it, and the person is told why.
    let (status, e) = error_of(app.change_password(STRONG_3, STRONG_2).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("used recently"), "{}", e.message);
    assert!(slapd.bind(&user_dn("alice"), STRONG_3).is_ok(), "unchanged");
    let audit = app.audit_events().await;
    let changes = audit
        .iter()
        .filter(|row| row.kind == "password_change" && row.result == "success")
        .count();
    assert_eq!(changes, 2, "{audit:?}");
}

async fn a_directory_that_is_down_answers_503_and_counts_no_failure(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    slapd.stop();
    let (status, e) = error_of(app.sign_in("partners", "alice", ALICE_PASSWORD).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy)
    );
    assert!(e.message.contains("directory"), "{}", e.message);
    let counted: Option<i64> = sqlx::query_scalar(
        "SELECT failed_count FROM failure_counters WHERE username_key = 'alice'",
    )
    .fetch_optional(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(counted.unwrap_or(0), 0, "no failure counted");
    slapd.restart();
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "recovers by itself");
}

/// An LRA of `partners` (a local account of `hrcc`), re-authenticated, and
/// alice's id (she has signed in once, so Latchkey keeps her row).
async fn lra_and_alice(app: &TestApp) -> (reqwest::Client, i64) {
    use latchkey_shared::admin::Role;
    let r = app
        .sign_in_with(&new_client(), "partners", "alice", ALICE_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, lra) = crate::staff::staff_client(
        app,
        "hrcc",
        "lra1",
        Role::Lra,
        &["partners"],
        crate::helpers::STRONG_4,
    )
    .await;
    let r = lra
        .post(app.url(latchkey_shared::admin::paths::STAFF_REAUTH))
        .json(&serde_json::json!({"password": crate::helpers::STRONG_4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username_key = 'alice'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (lra, id)
}

async fn an_lra_temporary_password_must_be_changed_before_it_binds_anywhere(backend: Backend) {
    use latchkey_shared::admin::{paths, TemporaryPasswordIssued};
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let (lra, alice) = lra_and_alice(&app).await;
    let r = crate::staff::action(
        &app,
        &lra,
        paths::STAFF_TEMP_PASSWORD,
        alice,
        "called the desk",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let issued: TemporaryPasswordIssued = r.json().await.unwrap();
    // Outside Latchkey the directory itself says it must be changed first.
    let said = slapd
        .bind(&user_dn("alice"), &issued.temporary_password)
        .unwrap_or_else(|e| e);
    assert!(said.contains("Password must be changed"), "{said}");
    assert!(
        slapd.bind(&user_dn("alice"), ALICE_PASSWORD).is_err(),
        "the old one is gone"
    );
    // Through Latchkey: a session that must change it, then a change.
    let r = app
        .sign_in("partners", "alice", &issued.temporary_password)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: latchkey_shared::api::SessionInfo = r.json().await.unwrap();
    assert!(info.must_change_password, "{info:?}");
    let r = app
        .change_password(&issued.temporary_password, STRONG_2)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let said = slapd.bind(&user_dn("alice"), STRONG_2).unwrap();
    assert!(!said.contains("must be changed"), "{said}");
}

async fn an_lra_unlock_lifts_the_directorys_lock_but_never_an_administrators(backend: Backend) {
    use latchkey_shared::admin::paths;
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let (lra, alice) = lra_and_alice(&app).await;
    slapd.lock("alice", "20260101000000Z");
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, alice, "verified by phone").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(slapd
        .values(&user_dn("alice"), "pwdAccountLockedTime")
        .is_empty());
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);

    slapd.lock("alice", PERMANENT_LOCK);
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, alice, "asked again").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        slapd.values(&user_dn("alice"), "pwdAccountLockedTime"),
        vec![PERMANENT_LOCK.to_owned()],
        "an administrator's lock stays"
    );
    let (status, e) = error_of(app.sign_in("partners", "alice", ALICE_PASSWORD).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}

/// alice signs in once (Latchkey keeps her row) and enrols her answers.
async fn enrolled_alice(app: &TestApp) {
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", "alice", ALICE_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        crate::self_service::put_enrolment(app, &client, &crate::self_service::enrol_request(None))
            .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn unlock_account_through_the_whole_flow_clears_latchkeys_and_the_directorys_lock(
    backend: Backend,
) {
    use crate::self_service::Flow;
    use latchkey_shared::self_service::FlowKind;
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    enrolled_alice(&app).await;
    // Locked by failures elsewhere: the directory's own lock only.
    slapd.lock("alice", "20260101000000Z");
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let r = flow.run("alice", true).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(slapd
        .values(&user_dn("alice"), "pwdAccountLockedTime")
        .is_empty());
    assert_eq!(
        app.sign_in("partners", "alice", ALICE_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Locked by Latchkey (five failures through it) and by the directory.
    for _ in 0..5 {
        app.sign_in_with(&new_client(), "partners", "alice", "wrong-password")
            .await;
    }
    slapd.lock("alice", "20260101000000Z");
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let r = flow.run("alice", true).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(slapd
        .values(&user_dn("alice"), "pwdAccountLockedTime")
        .is_empty());
    assert_eq!(
        app.sign_in("partners", "alice", ALICE_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // An administrator's lock is not the person's to lift.
    slapd.lock("alice", PERMANENT_LOCK);
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let (status, e) = error_of(flow.run("alice", true).await).await;
    assert_eq!(
        (status, e.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::VerificationFailed
        ),
        "{}",
        e.message
    );
    assert_eq!(
        slapd.values(&user_dn("alice"), "pwdAccountLockedTime"),
        vec![PERMANENT_LOCK.to_owned()]
    );
}

async fn forgot_password_resets_the_password_in_the_directory(backend: Backend) {
    use crate::self_service::Flow;
    use latchkey_shared::self_service::{paths, FinishResponse, FlowKind, NewPasswordRequest};
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    enrolled_alice(&app).await;
    let flow = Flow::new(&app, FlowKind::Reset).await;
    let r = flow.run("alice", true).await;
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
    assert!(
        slapd.bind(&user_dn("alice"), STRONG_2).is_ok(),
        "reset in the directory"
    );
    assert!(slapd.bind(&user_dn("alice"), ALICE_PASSWORD).is_err());
    assert_eq!(
        app.sign_in("partners", "alice", STRONG_2).await.status(),
        StatusCode::OK
    );
}

async fn the_portal_checks_directory_passwords_with_the_same_answers(backend: Backend) {
    use latchkey_shared::admin::{
        paths, PasswordStatus, PortalVerifyRequest, PortalVerifyResponse,
    };
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let key = "lk_directory_portal_test_key_0123456789abcdef";
    sqlx::query(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by) VALUES ('portal', 'lk_direc', $1, 0, 'test')",
    )
    .bind(latchkey_server::accounts::portal::api_key_hash(key))
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let verify = |password: &'static str| {
        let url = app.url(paths::PORTAL_VERIFY);
        async move {
            new_client()
                .post(url)
                .bearer_auth(key)
                .json(&PortalVerifyRequest {
                    domain: "partners".into(),
                    username: "alice".into(),
                    password: password.into(),
                })
                .send()
                .await
                .unwrap()
        }
    };
    let r = verify(ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ok: PortalVerifyResponse = r.json().await.unwrap();
    assert_eq!(
        (ok.status, ok.display_name.as_str()),
        (PasswordStatus::Valid, "Alice Example")
    );
    let (status, e) = error_of(verify("wrong-password").await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    slapd.lock("alice", "20260101000000Z");
    let (status, e) = error_of(verify(ALICE_PASSWORD).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}
