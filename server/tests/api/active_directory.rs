//! The directory client (`latchkey_server::directory`) against Active
//! Directory: the process's Samba DC (latchkey_testkit::samba), over LDAPS and
//! StartTLS with the tests' own CA. What AD does its own way: the
//! `objectGUID`, locks read from `msDS-User-Account-Control-Computed`, a
//! disabled account, the service account's rights.

use latchkey_server::directory::{
    BindOutcome, Directory, DirectoryConfig, DirectoryError, DirectoryKind, DirectoryLock,
};
use latchkey_testkit::samba::{self, AdUser, Samba};
use latchkey_testkit::slapd::ALICE_PASSWORD;

fn config(dc: &Samba, bind_dn: &str, password: &str) -> DirectoryConfig {
    let file = std::env::temp_dir().join(format!("latchkey-bind-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{password}\n")).unwrap();
    DirectoryConfig {
        kind: DirectoryKind::ActiveDirectory,
        url: dc.url(),
        starttls: false,
        allow_plain: false,
        ca_file: Some(dc.ca_file()),
        base_dn: samba::USERS_DN.to_owned(),
        user_filter: None,
        username_attribute: None,
        display_name_attribute: "displayName".to_owned(),
        mail_attribute: "mail".to_owned(),
        bind_dn: bind_dn.to_owned(),
        bind_password_env: None,
        bind_password_file: Some(file),
        timeout_secs: 10,
        pool_size: 2,
    }
}

fn service(dc: &Samba) -> DirectoryConfig {
    config(dc, samba::SERVICE_DN, samba::SERVICE_PASSWORD)
}

fn directory(settings: DirectoryConfig) -> Directory {
    Directory::new("ad", settings).expect("a valid directory config")
}

#[tokio::test]
async fn an_ad_user_is_found_with_its_object_guid_and_its_lock_and_disabled_states_are_read() {
    let dc = samba::dc();
    let alice = dc.new_user("alice", ALICE_PASSWORD);
    let dir = directory(service(dc));
    let found = dir.find_user(&alice.name).await.unwrap().expect("alice");
    assert_eq!(found.dn, alice.dn);
    assert_eq!(found.id, dc.object_guid(&alice.dn), "objectGUID as a UUID");
    assert_eq!(found.display_name, alice.display_name);
    assert_eq!(found.mail.as_deref(), Some(alice.mail.as_str()));
    assert_eq!(found.lock, DirectoryLock::None);
    assert!(!found.must_change);
    assert_eq!(
        dir.bind(&alice.dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Accepted
    );
    assert_eq!(
        dir.bind(&dir.impossible_dn(), ALICE_PASSWORD)
            .await
            .unwrap(),
        BindOutcome::Refused
    );
    assert!(dir.find_user("nobody-here").await.unwrap().is_none());
    assert!(dir.find_user("*").await.unwrap().is_none());

    dc.lock(&alice);
    let found = dir.find_user(&alice.name).await.unwrap().unwrap();
    assert_eq!(found.lock, DirectoryLock::Locked);
    // AD refuses even the right password while locked (data 775).
    assert_eq!(
        dir.bind(&alice.dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Locked
    );
    dir.unlock(&found).await.unwrap();
    assert!(!dc.is_locked(&alice));
    assert_eq!(
        dir.bind(&alice.dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Accepted
    );

    dc.disable(&alice);
    let found = dir.find_user(&alice.name).await.unwrap().unwrap();
    assert_eq!(found.lock, DirectoryLock::Permanent);
    // An unlock leaves a disabled account disabled.
    dir.unlock(&found).await.unwrap();
    assert!(dc.is_disabled(&alice));
}

#[tokio::test]
async fn starttls_reaches_the_dc_and_a_certificate_of_another_ca_is_refused() {
    let dc = samba::dc();
    let alice = dc.new_user("alice", ALICE_PASSWORD);
    let starttls = directory(DirectoryConfig {
        url: dc.plain_url(),
        starttls: true,
        ..service(dc)
    });
    assert!(starttls.find_user(&alice.name).await.unwrap().is_some());
    assert_eq!(
        starttls.bind(&alice.dn, ALICE_PASSWORD).await.unwrap(),
        BindOutcome::Accepted
    );
    // The system's roots do not include the tests' CA: no connection, and
    // the error says it is the certificate.
    let elsewhere = directory(DirectoryConfig {
        ca_file: Some("/etc/ssl/certs/ca-certificates.crt".into()),
        ..service(dc)
    });
    match elsewhere.find_user(&alice.name).await {
        Err(DirectoryError::Unavailable(_, why)) => {
            assert!(
                why.to_lowercase().contains("certificate") || why.contains("UnknownIssuer"),
                "{why}"
            );
        }
        other => panic!("expected a refused certificate, got {other:?}"),
    }
}

#[tokio::test]
async fn a_service_account_without_the_reset_right_is_named_as_such() {
    let dc = samba::dc();
    let alice = dc.new_user("alice", ALICE_PASSWORD);
    let plain: AdUser = dc.new_user("nobody", "Plain-User-4410");
    let dir = directory(config(dc, &plain.dn, &plain.password));
    let found = dir.find_user(&alice.name).await.unwrap().unwrap();
    let e = dir
        .reset_password(&found, "Another-Pass-9981", true)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, DirectoryError::NotAllowed(_, why) if why.contains("Reset Password")),
        "{e}"
    );
    assert!(
        dc.bind(&alice.dn, ALICE_PASSWORD).is_ok(),
        "nothing changed"
    );
}

#[tokio::test]
async fn the_directory_test_command_reads_an_ad_user_in_plain_words() {
    let dc = samba::dc();
    let alice = dc.new_user("alice", ALICE_PASSWORD);
    let mut config = latchkey_server::config::Config::default();
    config.directories.insert("ad".to_owned(), service(dc));
    let mut out = Vec::new();
    latchkey_server::cli::directory::test(&config, "ad", Some(&alice.name), &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("encrypted") && !out.contains("NOT encrypted"),
        "{out}"
    );
    assert!(out.contains(&alice.dn), "{out}");
    assert!(out.contains(&dc.object_guid(&alice.dn)), "{out}");
    assert!(out.contains("not locked"), "{out}");
}

#[tokio::test]
async fn the_domains_policy_is_read_from_the_domain_object() {
    use latchkey_shared::admin::DirectoryComplexity;
    let dc = samba::dc();
    let policy = directory(service(dc))
        .policy()
        .await
        .unwrap()
        .expect("the domain object's policy");
    assert_eq!(policy.min_length, Some(8));
    assert_eq!(policy.history, Some(3));
    assert_eq!(
        policy.max_failures,
        Some(u32::try_from(samba::LOCKOUT_THRESHOLD).unwrap())
    );
    assert_eq!(policy.lockout_secs, Some(0), "only an unlock lifts it");
    assert_eq!(policy.complexity, Some(DirectoryComplexity::Off));
}

#[tokio::test]
async fn the_lras_search_reads_ad_with_the_password_last_set() {
    let dc = samba::dc();
    let a = dc.new_user("searchme", ALICE_PASSWORD);
    let b = dc.new_user("searchme", ALICE_PASSWORD);
    let dir = directory(service(dc));
    let found = dir.search_users(&a.name, 10).await.unwrap();
    assert_eq!(found.entries.len(), 1, "{:?}", found.entries);
    let entry = &found.entries[0];
    assert_eq!(entry.user.dn, a.dn);
    assert_eq!(entry.user.id, dc.object_guid(&a.dn));
    let set = entry.password_changed_at.expect("pwdLastSet");
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    assert!((now - 600..=now + 60).contains(&set), "{set} vs {now}");
    // By display name, both; a filter character is only a character.
    let both = dir.search_users("Searchme Example", 10).await.unwrap();
    let dns: Vec<_> = both.entries.iter().map(|e| e.user.dn.clone()).collect();
    assert!(dns.contains(&a.dn) && dns.contains(&b.dn), "{dns:?}");
    assert!(dir
        .search_users("*)(cn=*", 10)
        .await
        .unwrap()
        .entries
        .is_empty());
    let limited = dir.search_users("Searchme", 1).await.unwrap();
    assert!(limited.truncated && limited.entries.len() == 1);
}

#[tokio::test]
async fn group_membership_is_read_through_nested_groups_on_ad() {
    let dc = samba::dc();
    let lra = dc.new_user("lra", ALICE_PASSWORD);
    let other = dc.new_user("other", ALICE_PASSWORD);
    let inner = dc.new_group("lk-inner", &[&lra.dn]);
    let outer = dc.new_group("lk-lras", &[&inner]);
    let dir = directory(service(dc));
    let lra_user = dir.find_user(&lra.name).await.unwrap().unwrap();
    let other_user = dir.find_user(&other.name).await.unwrap().unwrap();
    assert!(dir.is_member(&outer, &lra_user).await.unwrap(), "nested");
    assert!(dir.is_member(&inner, &lra_user).await.unwrap());
    assert!(!dir.is_member(&outer, &other_user).await.unwrap());
    let missing = format!("CN=no-such-group,{}", samba::USERS_DN);
    assert!(!dir.is_member(&missing, &lra_user).await.unwrap());
}
