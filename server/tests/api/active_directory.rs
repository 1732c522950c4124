//! The directory client (`latchkey_server::directory`) against Active
//! Directory: the process's Samba DC (helpers/samba.rs), over LDAPS and
//! StartTLS with the tests' own CA. What AD does its own way: the
//! `objectGUID`, locks read from `msDS-User-Account-Control-Computed`, a
//! disabled account, the service account's rights.

use latchkey_server::directory::{
    BindOutcome, Directory, DirectoryConfig, DirectoryError, DirectoryKind, DirectoryLock,
};

use crate::helpers::samba::{self, AdUser, Samba};
use crate::helpers::slapd::ALICE_PASSWORD;

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
