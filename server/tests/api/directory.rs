//! The directory client (`latchkey_server::directory`) against a real
//! OpenLDAP with the ppolicy overlay (latchkey_testkit::slapd): every operation a
//! directory-backed domain will use, and the answers when the directory is
//! down or the service account is wrong.

use std::time::{Duration, Instant};

use latchkey_server::directory::{
    BindOutcome, ChangeOutcome, Directory, DirectoryConfig, DirectoryError, DirectoryKind,
    DirectoryLock, PERMANENT_LOCK,
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

use latchkey_shared::api::ErrorCode;
use latchkey_testkit::slapd::{
    user_dn, Slapd, ALICE_PASSWORD, BOB_PASSWORD, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD,
};
use reqwest::StatusCode;

use crate::directory_domains::{directory_app, error_of, OpenLdap};
use crate::helpers::Backend;

both_backends!(
    a_directory_that_is_down_answers_503_and_counts_no_failure,
    an_active_directory_that_goes_away_answers_503_counts_nothing_and_recovers,
);

async fn a_directory_that_is_down_answers_503_and_counts_no_failure(backend: Backend) {
    let dir = OpenLdap::start();
    let app = directory_app(backend, &dir).await;
    let slapd = dir.slapd();
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

/// The shared DC stays up for the other tests: this one reaches it through
/// a proxy on the host's end of the veth pair, and cuts the proxy.
async fn an_active_directory_that_goes_away_answers_503_counts_nothing_and_recovers(
    backend: Backend,
) {
    use crate::directory_domains::{ActiveDirectory, TestDirectory};
    use latchkey_testkit::proxy::TcpProxy;
    let ad = ActiveDirectory::start();
    let dc = latchkey_testkit::samba::dc();
    let proxy = TcpProxy::start(dc.host_ip(), dc.ldaps_addr()).await;
    let mut settings = ad.settings();
    settings.url = format!("ldaps://{}/", proxy.addr());
    settings.timeout_secs = 3;
    let app = crate::helpers::spawn_app_with(backend, move |c| {
        c.directories.insert("corp".to_owned(), settings);
    })
    .await;
    latchkey_server::settings::provisioning::set_domain_store(
        &app.state,
        "partners",
        &latchkey_server::accounts::store::StoreKind::Directory("corp".to_owned()),
    )
    .await
    .unwrap();
    let alice = ad.alice();
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    proxy.stop();
    let started = std::time::Instant::now();
    for password in [alice.password.as_str(), "not-the-password-1"] {
        let (status, e) = error_of(app.sign_in("partners", &alice.name, password).await).await;
        assert_eq!(
            (status, e.code),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy)
        );
        assert!(e.message.contains("directory"), "{}", e.message);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2 * 3 + 2),
        "within the timeout: {:?}",
        started.elapsed()
    );
    let counted: Option<i64> =
        sqlx::query_scalar("SELECT failed_count FROM failure_counters WHERE username_key = $1")
            .bind(alice.name.to_lowercase())
            .fetch_optional(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(counted.unwrap_or(0), 0, "no failure counted");
    assert_eq!(ad.failed_binds(alice), 0, "nor by the directory");

    proxy.restart().await;
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK, "recovers by itself");
}
