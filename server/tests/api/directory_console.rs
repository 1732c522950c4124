//! The console on directory-backed domains, against a real OpenLDAP with
//! ppolicy (latchkey_testkit::slapd): the directory's own policy beside the
//! domain's with warnings, the store setting, the LRA's search reading the
//! directory, and staff roles from directory groups.

use latchkey_server::accounts::store::StoreKind;
use latchkey_server::directory::config::DirectoryGroups;
use latchkey_server::directory::DirectoryConfig;
use latchkey_shared::admin::{
    paths, DirectoryAccount, DirectoryComplexity, DirectoryKind, DirectoryPolicy, DomainStore,
    LockHolder, Role, UserSearchResponse, UserState,
};
use latchkey_shared::api::{ApiError, ErrorCode, SessionInfo};
use latchkey_testkit::slapd::{
    user_dn, Slapd, ALICE_PASSWORD, BOB_PASSWORD, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{new_client, spawn_app_with, Backend, TestApp, STRONG, STRONG_4};

both_backends!(
    the_console_shows_the_directorys_policy_beside_the_domains_and_no_warning_when_latchkey_is_stricter,
    a_directory_that_locks_first_or_wants_longer_passwords_is_warned_about_in_plain_words,
    a_directory_that_is_down_is_said_so_in_the_console_and_is_no_error,
    an_administrator_moves_a_domain_to_a_directory_and_back_with_an_audit_row_each,
    an_unknown_directory_or_store_is_refused_with_the_names_there_are_and_changes_nothing,
    an_lra_finds_directory_users_who_never_signed_in_with_their_mail_lock_and_password_age,
    an_lra_acts_on_a_directory_user_found_by_the_search,
    the_directory_search_escapes_what_is_typed_is_limited_and_stays_in_the_lras_domains,
    a_directory_that_is_down_lists_the_users_latchkey_has_seen_and_says_so,
    staff_roles_come_from_directory_groups_at_each_sign_in_when_configured,
    without_groups_a_directory_users_role_is_set_in_latchkey_and_stays,
    nested_groups_on_openldap_give_the_role_of_the_group_they_sit_in,
    a_directory_that_hangs_during_an_unlock_holds_up_no_one_else,
);

/// The connection to `slapd`, read as the configuration file would be.
fn connection(slapd: &Slapd) -> DirectoryConfig {
    let file = std::env::temp_dir().join(format!("latchkey-bind-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{SERVICE_PASSWORD}\n")).unwrap();
    serde_json::from_value(json!({
        "kind": "ldap",
        "url": slapd.url(),
        "allow_plain": true,
        "base_dn": PEOPLE_DN,
        "bind_dn": SERVICE_DN,
        "bind_password_file": file,
        // Generous: the tests share two cores; a stopped server refuses at once.
        "timeout_secs": 10,
        "pool_size": 2,
    }))
    .expect("a directory section")
}

const GROUPS_DN: &str = "ou=groups,dc=latchkey,dc=test";

fn group_dn(cn: &str) -> String {
    format!("cn={cn},{GROUPS_DN}")
}

/// The app with the directory `corp` configured (and `groups`, if any);
/// `partners` backed by it when `backed`.
async fn app_with(
    backend: Backend,
    slapd: &Slapd,
    backed: bool,
    groups: Option<DirectoryGroups>,
) -> TestApp {
    let settings = connection(slapd);
    let app = spawn_app_with(backend, move |c| {
        c.directories.insert("corp".to_owned(), settings);
        if let Some(groups) = groups {
            c.directory_groups.insert("corp".to_owned(), groups);
        }
    })
    .await;
    if backed {
        latchkey_server::settings::provisioning::set_domain_store(
            &app.state,
            "partners",
            &StoreKind::Directory("corp".to_owned()),
        )
        .await
        .unwrap();
    }
    app
}

async fn directory_app(backend: Backend, slapd: &Slapd) -> TestApp {
    app_with(backend, slapd, true, None).await
}

/// A staff member with a local account in `hrcc`, signed in and with the
/// password entered again.
async fn staff(app: &TestApp, username: &str, role: Role, domains: &[&str]) -> reqwest::Client {
    let (_, client) =
        crate::staff::staff_client(app, "hrcc", username, role, domains, STRONG_4).await;
    reauth(app, &client, STRONG_4).await;
    client
}

async fn reauth(app: &TestApp, client: &reqwest::Client, password: &str) {
    let r = client
        .post(app.url(paths::STAFF_REAUTH))
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

fn store_url(app: &TestApp, slug: &str) -> String {
    app.url(&paths::ADMIN_DOMAIN_STORE.replace("{slug}", slug))
}

async fn store_of(app: &TestApp, admin: &reqwest::Client, slug: &str) -> DomainStore {
    let r = admin.get(store_url(app, slug)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn set_store(
    app: &TestApp,
    admin: &reqwest::Client,
    slug: &str,
    store: &str,
) -> reqwest::Response {
    admin
        .put(store_url(app, slug))
        .json(&json!({ "store": store }))
        .send()
        .await
        .unwrap()
}

async fn error_of(r: reqwest::Response) -> (StatusCode, ApiError) {
    let status = r.status();
    (status, r.json().await.expect("an API error body"))
}

async fn search(app: &TestApp, client: &reqwest::Client, q: &str) -> UserSearchResponse {
    let url = format!(
        "{}?q={}",
        app.url(paths::STAFF_USERS),
        latchkey_shared::admin::encode(q)
    );
    let r = client.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

fn names(found: &UserSearchResponse) -> Vec<String> {
    found
        .users
        .iter()
        .map(|u| format!("{}@{}", u.username, u.domain))
        .collect()
}

/// Changes the ppolicy default entry, as the directory's administrator would.
fn set_directory_policy(slapd: &Slapd, changes: &[(&str, &str)]) {
    let mut ldif =
        "dn: cn=default,ou=policies,dc=latchkey,dc=test\nchangetype: modify\n".to_owned();
    for (attr, value) in changes {
        ldif.push_str(&format!("replace: {attr}\n{attr}: {value}\n-\n"));
    }
    slapd.modify(&ldif);
}

// ---------------------------------------------------------------- the directory's policy

async fn the_console_shows_the_directorys_policy_beside_the_domains_and_no_warning_when_latchkey_is_stricter(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let admin = staff(&app, "boss", Role::Admin, &[]).await;
    let view = store_of(&app, &admin, "partners").await;
    assert_eq!(view.store, "directory:corp");
    assert_eq!(view.directories.len(), 1);
    assert_eq!(
        (view.directories[0].name.as_str(), view.directories[0].kind),
        ("corp", DirectoryKind::Ldap)
    );
    let report = view.directory.expect("the directory's report");
    assert_eq!(report.unavailable, None);
    // The fixture's policy entry, typed.
    assert_eq!(
        report.policy,
        Some(DirectoryPolicy {
            min_length: Some(8),
            history: Some(3),
            max_failures: Some(10),
            lockout_secs: Some(0),
            complexity: Some(DirectoryComplexity::QualityCheck { enforced: true }),
        })
    );
    // Latchkey's default (15 characters, 5 failures) is the stricter.
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // The domain list says where each domain's passwords live.
    let domains: Vec<latchkey_shared::admin::AdminDomain> = admin
        .get(app.url(paths::ADMIN_DOMAINS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stores: Vec<(&str, &str)> = domains
        .iter()
        .map(|d| (d.slug.as_str(), d.store.as_str()))
        .collect();
    assert!(
        stores.contains(&("partners", "directory:corp")),
        "{stores:?}"
    );
    assert!(stores.contains(&("hrcc", "local")), "{stores:?}");
    // A local domain has no directory to report.
    let local = store_of(&app, &admin, "hrcc").await;
    assert_eq!((local.store.as_str(), local.directory), ("local", None));
}

async fn a_directory_that_locks_first_or_wants_longer_passwords_is_warned_about_in_plain_words(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let admin = staff(&app, "boss", Role::Admin, &[]).await;
    set_directory_policy(&slapd, &[("pwdMaxFailure", "3"), ("pwdMinLength", "20")]);
    let policy = latchkey_shared::PasswordPolicy {
        history_depth: 5,
        ..Default::default()
    };
    app.set_policy("partners", policy).await;
    let report = store_of(&app, &admin, "partners").await.directory.unwrap();
    let policy = report.policy.expect("read");
    assert_eq!(
        (policy.max_failures, policy.min_length),
        (Some(3), Some(20))
    );
    let warnings = report.warnings.join("\n");
    assert_eq!(report.warnings.len(), 3, "{warnings}");
    assert!(
        warnings.contains("after 3 failed sign-ins and Latchkey after 5")
            && warnings.contains("the directory locks first"),
        "{warnings}"
    );
    assert!(
        warnings.contains("passwords of 15 to 19 characters pass the checklist"),
        "{warnings}"
    );
    assert!(warnings.contains("refuses only the last 3"), "{warnings}");
    // Following the advice clears them.
    let url = app.url(&paths::ADMIN_DOMAIN.replace("{slug}", "partners"));
    let fixed = latchkey_shared::PasswordPolicy {
        min_length: 20,
        ..Default::default()
    };
    let r = admin
        .put(url)
        .json(&json!({
            "name": "Partners", "sspm_available": true, "unavailable_text": null,
            "policy": fixed, "lockout_threshold": 3, "lockout_minutes": 30
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let report = store_of(&app, &admin, "partners").await.directory.unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

async fn a_directory_that_is_down_is_said_so_in_the_console_and_is_no_error(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let admin = staff(&app, "boss", Role::Admin, &[]).await;
    slapd.stop();
    let view = store_of(&app, &admin, "partners").await;
    let report = view.directory.unwrap();
    assert_eq!(report.policy, None);
    let said = report.unavailable.expect("said why");
    assert!(
        said.contains("The directory corp does not answer now"),
        "{said}"
    );
    assert!(report.warnings.is_empty());
    slapd.restart();
    let report = store_of(&app, &admin, "partners").await.directory.unwrap();
    assert!(report.policy.is_some() && report.unavailable.is_none());
}

// ---------------------------------------------------------------- the store setting

async fn an_administrator_moves_a_domain_to_a_directory_and_back_with_an_audit_row_each(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = app_with(backend, &slapd, false, None).await;
    let (_, admin) =
        crate::staff::staff_client(&app, "hrcc", "boss", Role::Admin, &[], STRONG_4).await;
    // Where passwords are checked is a credential change: a recent password
    // entry first (signing in counts as one, for five minutes).
    app.clock.advance(301);
    let (status, e) = error_of(set_store(&app, &admin, "partners", "directory:corp").await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::FORBIDDEN, ErrorCode::ReauthRequired)
    );
    reauth(&app, &admin, STRONG_4).await;
    let r = set_store(&app, &admin, "partners", "directory:corp").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let view: DomainStore = r.json().await.unwrap();
    assert_eq!(view.store, "directory:corp");
    assert!(view.directory.and_then(|d| d.policy).is_some());
    // The directory's users sign in now.
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);

    let r = set_store(&app, &admin, "partners", "local").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let view: DomainStore = r.json().await.unwrap();
    assert_eq!((view.store.as_str(), view.directory), ("local", None));
    // Setting the store it has changes nothing and records nothing.
    let r = set_store(&app, &admin, "partners", "local").await;
    assert_eq!(r.status(), StatusCode::OK);
    let rows: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|r| r.kind == "admin.domain_store")
        .collect();
    let details: Vec<_> = rows.iter().map(|r| r.detail.clone().unwrap()).collect();
    assert_eq!(
        details,
        ["local -> directory:corp", "directory:corp -> local"],
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.actor.as_deref() == Some("boss@hrcc")
        && r.domain.as_deref() == Some("partners")
        && r.result == "success"));
}

async fn an_unknown_directory_or_store_is_refused_with_the_names_there_are_and_changes_nothing(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = app_with(backend, &slapd, false, None).await;
    let admin = staff(&app, "boss", Role::Admin, &[]).await;
    let (status, e) =
        error_of(set_store(&app, &admin, "partners", "directory:nowhere").await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    assert!(
        e.message.contains("no directory \"nowhere\"") && e.message.contains("there is: corp"),
        "{}",
        e.message
    );
    for bad in ["carrier_pigeon", "directory:", ""] {
        let (status, e) = error_of(set_store(&app, &admin, "partners", bad).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(
            e.message.contains("`local` or `directory:<name>`"),
            "{}",
            e.message
        );
    }
    let r = set_store(&app, &admin, "no-such-domain", "local").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(store_of(&app, &admin, "partners").await.store, "local");
    assert!(!app
        .audit_events()
        .await
        .iter()
        .any(|r| r.kind.ends_with("domain_store")));
    // The command line refuses it with the same words.
    let e = latchkey_server::settings::provisioning::set_domain_store(
        &app.state,
        "partners",
        &StoreKind::Directory("nowhere".to_owned()),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("[directories.nowhere]") && e.contains("corp"),
        "{e}"
    );
}

// ---------------------------------------------------------------- the LRA's search

async fn an_lra_finds_directory_users_who_never_signed_in_with_their_mail_lock_and_password_age(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    // A password set in the directory: ppolicy stamps pwdChangedTime.
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: userPassword\nuserPassword: {ALICE_PASSWORD}\n",
        user_dn("alice")
    ));
    let stamped = slapd.values(&user_dn("alice"), "pwdChangedTime");
    let lra = staff(&app, "lra1", Role::Lra, &["partners", "hrcc"]).await;
    app.add_user_in("hrcc", "alina", "Alina Local", STRONG, false)
        .await;

    let found = search(&app, &lra, "ALI").await;
    assert_eq!(names(&found), ["alice@partners", "alina@hrcc"]);
    assert!(!found.truncated && found.unavailable.is_empty());
    let alice = &found.users[0];
    assert_eq!(alice.display_name, "Alice Example");
    assert_eq!(alice.email.as_deref(), Some("alice@latchkey.test"));
    assert_eq!((alice.locked, alice.lock), (false, None));
    assert_eq!(stamped.len(), 1, "ppolicy stamps the change");
    let at = alice.password_changed_at.expect("the directory's time");
    assert!(at > 1_700_000_000, "{at}");
    // By display name, both people of the directory.
    let found = search(&app, &lra, "example").await;
    assert_eq!(names(&found), ["alice@partners", "bob@partners"]);
    // Latchkey keeps a row for each, with no password.
    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE directory_id IS NOT NULL ORDER BY username_key",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(hashes, ["", ""]);

    // The directory's lock, and an administrator's, each by name.
    slapd.lock("alice", "20260101000000Z");
    slapd.lock("bob", latchkey_server::directory::PERMANENT_LOCK);
    let found = search(&app, &lra, "example").await;
    let locks: Vec<_> = found.users.iter().map(|u| (u.locked, u.lock)).collect();
    assert_eq!(
        locks,
        [
            (true, Some(LockHolder::Directory)),
            (true, Some(LockHolder::DirectoryAdministrator))
        ]
    );
    // The same searched again keeps the same rows (the directory's id).
    let again = search(&app, &lra, "example").await;
    assert_eq!(
        again.users.iter().map(|u| u.id).collect::<Vec<_>>(),
        found.users.iter().map(|u| u.id).collect::<Vec<_>>()
    );
    // Latchkey's own lock is named too.
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: pwdAccountLockedTime\n",
        user_dn("alice")
    ));
    for _ in 0..5 {
        app.sign_in_with(&new_client(), "partners", "alice", "wrong-password")
            .await;
    }
    let found = search(&app, &lra, "alice").await;
    assert_eq!(
        (found.users[0].locked, found.users[0].lock),
        (true, Some(LockHolder::Latchkey))
    );
}

async fn an_lra_acts_on_a_directory_user_found_by_the_search(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let lra = staff(&app, "lra1", Role::Lra, &["partners"]).await;
    slapd.lock("alice", "20260101000000Z");
    let found = search(&app, &lra, "alice").await;
    let id = found.users[0].id;
    // Her state, with what the directory says.
    let r = crate::staff::user_state(&app, &lra, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = r.json().await.unwrap();
    assert!(state.locked, "the directory's lock makes her locked");
    assert_eq!(state.email.as_deref(), Some("alice@latchkey.test"));
    match &state.directory {
        Some(DirectoryAccount::Found {
            directory, lock, ..
        }) => assert_eq!(
            (directory.as_str(), *lock),
            ("corp", Some(LockHolder::Directory))
        ),
        other => panic!("expected the directory's answer, got {other:?}"),
    }
    // She never signed in, and the LRA unlocks her.
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, id, "called the desk").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let state: UserState = r.json().await.unwrap();
    assert!(!state.locked, "{state:?}");
    assert!(slapd
        .values(&user_dn("alice"), "pwdAccountLockedTime")
        .is_empty());
    assert_eq!(
        app.sign_in("partners", "alice", ALICE_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    // When the directory does not answer, the state says so and is no error.
    slapd.stop();
    let r = crate::staff::user_state(&app, &lra, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let state: UserState = r.json().await.unwrap();
    match &state.directory {
        Some(DirectoryAccount::Unavailable { reason, .. }) => assert!(
            reason.starts_with("The directory corp could not be asked now ("),
            "{reason}"
        ),
        other => panic!("expected the directory to be unavailable, got {other:?}"),
    }
}

async fn the_directory_search_escapes_what_is_typed_is_limited_and_stays_in_the_lras_domains(
    backend: Backend,
) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let lra = staff(&app, "lra1", Role::Lra, &["partners"]).await;
    for q in ["*", "alice)(uid=*", "*)(|(objectClass=*", "\\", "("] {
        let found = search(&app, &lra, q).await;
        assert!(found.users.is_empty(), "{q:?}: {:?}", names(&found));
    }
    // Many people: the directory sends at most one more than is shown.
    let mut ldif = String::new();
    for i in 0..55 {
        ldif.push_str(&format!(
            "dn: uid=many{i:02},{PEOPLE_DN}\nchangetype: add\nobjectClass: inetOrgPerson\n\
             uid: many{i:02}\ncn: Many Person {i}\nsn: Person\n\n"
        ));
    }
    slapd.modify(&ldif);
    let found = search(&app, &lra, "many").await;
    assert_eq!(found.users.len(), 50);
    assert!(found.truncated);
    let found = search(&app, &lra, "").await;
    assert_eq!(found.users.len(), 50);
    assert!(found.truncated);

    // An LRA of another (local) domain never sees the directory's users,
    // nor is the directory asked for them.
    let other = staff(&app, "lra2", Role::Lra, &["hrcc"]).await;
    let found = search(&app, &other, "alice").await;
    assert!(found.users.is_empty(), "{:?}", names(&found));
    // The LRA of partners sees none of hrcc's local users.
    app.add_user_in("hrcc", "alina", "Alina Local", STRONG, false)
        .await;
    let found = search(&app, &lra, "ali").await;
    assert_eq!(names(&found), ["alice@partners"]);
}

async fn a_directory_that_is_down_lists_the_users_latchkey_has_seen_and_says_so(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let lra = staff(&app, "lra1", Role::Lra, &["partners", "hrcc"]).await;
    let r = app.sign_in("partners", "alice", ALICE_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    slapd.stop();
    let found = search(&app, &lra, "").await;
    // alice (seen before) and the LRA's own local account in hrcc.
    assert_eq!(names(&found), ["alice@partners", "lra1@hrcc"]);
    assert_eq!(found.unavailable.len(), 1, "{:?}", found.unavailable);
    assert!(
        found.unavailable[0].contains("The directory of Partners does not answer now"),
        "{}",
        found.unavailable[0]
    );
    // Latchkey does not know when a directory password was last set.
    assert_eq!(found.users[0].password_changed_at, None);
}

// ---------------------------------------------------------------- roles from groups

/// The groups `cn=latchkey-lra` (alice) and `cn=latchkey-admins` (bob),
/// added to the running directory as its administrator would.
fn add_groups(slapd: &Slapd) {
    slapd.modify(&format!(
        "dn: {GROUPS_DN}\nchangetype: add\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: latchkey-lra\nmember: {}\n\n\
         dn: {}\nchangetype: add\nobjectClass: groupOfUniqueNames\ncn: latchkey-admins\nuniqueMember: {}\n",
        group_dn("latchkey-lra"),
        user_dn("alice"),
        group_dn("latchkey-admins"),
        user_dn("bob"),
    ));
}

async fn role_at_sign_in(app: &TestApp, username: &str, password: &str) -> (Role, reqwest::Client) {
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", username, password)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let info: SessionInfo = r.json().await.unwrap();
    (info.role, client)
}

async fn staff_roles_come_from_directory_groups_at_each_sign_in_when_configured(backend: Backend) {
    let slapd = Slapd::start();
    add_groups(&slapd);
    let groups = DirectoryGroups {
        lra_group_dn: Some(group_dn("latchkey-lra")),
        admin_group_dn: Some(group_dn("latchkey-admins")),
    };
    let app = app_with(backend, &slapd, true, Some(groups)).await;
    let (role, alice) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(role, Role::Lra);
    // An LRA of the domain she signed in to: she finds bob there.
    let found = search(&app, &alice, "bob").await;
    assert_eq!(names(&found), ["bob@partners"]);
    let (role, bob) = role_at_sign_in(&app, "bob", BOB_PASSWORD).await;
    assert_eq!(role, Role::Admin);
    let r = bob.get(app.url(paths::ADMIN_DOMAINS)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The console lists the directory as deciding roles.
    let view = store_of(&app, &bob, "partners").await;
    assert!(view.directories[0].roles_from_groups);

    // A role set in Latchkey would be undone at the next sign-in: refused.
    reauth(&app, &bob, BOB_PASSWORD).await;
    let alice_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username_key = 'alice'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let r = bob
        .put(app.url(&paths::with_id(paths::ADMIN_USER_ROLE, alice_id)))
        .json(&json!({ "role": "admin", "reason": "promotion" }))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
    assert!(
        e.message.contains("groups of the directory corp"),
        "{}",
        e.message
    );

    // Out of the group: a plain user at her next sign-in, and her old
    // session is a plain user's at once (the role is read per request).
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: member\nmember: {}\n",
        group_dn("latchkey-lra"),
        user_dn("bob")
    ));
    let (role, _) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(role, Role::User);
    let r = alice.get(app.url(paths::STAFF_USERS)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Each change is in the audit log, by the directory; a sign-in that
    // changes nothing writes no row.
    let (role, _) = role_at_sign_in(&app, "bob", BOB_PASSWORD).await;
    assert_eq!(role, Role::Admin, "the admin group comes first");
    let rows: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|r| r.kind == "directory.role_sync")
        .map(|r| (r.subject.unwrap(), r.detail.unwrap(), r.actor.unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "alice".to_owned(),
                "user -> lra (partners) (directory groups)".to_owned(),
                "directory:corp".to_owned()
            ),
            (
                "bob".to_owned(),
                "user -> admin (directory groups)".to_owned(),
                "directory:corp".to_owned()
            ),
            (
                "alice".to_owned(),
                "lra -> user (directory groups)".to_owned(),
                "directory:corp".to_owned()
            ),
        ]
    );
}

async fn without_groups_a_directory_users_role_is_set_in_latchkey_and_stays(backend: Backend) {
    let slapd = Slapd::start();
    add_groups(&slapd);
    let app = directory_app(backend, &slapd).await;
    let (role, _) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(
        role,
        Role::User,
        "membership means nothing without the section"
    );
    latchkey_server::cli::staff::set_user_role(
        &app.state,
        "partners",
        "alice",
        Role::Lra,
        &["partners".to_owned()],
    )
    .await
    .unwrap();
    let (role, _) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(role, Role::Lra);
    let (role, _) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(role, Role::Lra, "kept at every sign-in");
}

async fn nested_groups_on_openldap_give_the_role_of_the_group_they_sit_in(backend: Backend) {
    let slapd = Slapd::start();
    add_groups(&slapd);
    // alice is in latchkey-lra, which sits in helpdesk, which sits in
    // all-staff (a groupOfUniqueNames); the LRA role is given to all-staff.
    // A loop back to latchkey-lra must not hang the lookup.
    slapd.modify(&format!(
        "dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: helpdesk\nmember: {}\n\n\
         dn: {}\nchangetype: add\nobjectClass: groupOfUniqueNames\ncn: all-staff\nuniqueMember: {}\n\n\
         dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        group_dn("helpdesk"),
        group_dn("latchkey-lra"),
        group_dn("all-staff"),
        group_dn("helpdesk"),
        group_dn("latchkey-lra"),
        group_dn("all-staff"),
    ));
    let groups = DirectoryGroups {
        lra_group_dn: Some(group_dn("all-staff").to_uppercase()),
        admin_group_dn: Some(group_dn("nobody-here")),
    };
    let app = app_with(backend, &slapd, true, Some(groups)).await;
    let (role, _) = role_at_sign_in(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(role, Role::Lra, "two levels down, the DN typed in capitals");
    let (role, _) = role_at_sign_in(&app, "bob", BOB_PASSWORD).await;
    assert_eq!(role, Role::User, "bob's only group holds no role");
}

// ---------------------------------------------------------------- a hanging directory

/// The security review's finding 13: on SQLite (one writer connection) an
/// operation that kept its transaction open while the directory was asked
/// stalled every other request until the directory answered or timed out.
/// Not a timing test: the directory is frozen until another domain's
/// sign-in has been answered, and the unlock must still be waiting then.
async fn a_directory_that_hangs_during_an_unlock_holds_up_no_one_else(backend: Backend) {
    let slapd = Slapd::start();
    let app = directory_app(backend, &slapd).await;
    let lra = staff(&app, "lra1", Role::Lra, &["partners"]).await;
    let id = search(&app, &lra, "alice").await.users[0].id;
    app.add_user_in("hrcc", "carol", "Carol C", STRONG, false)
        .await;

    slapd.pause();
    let unlock = {
        let (app_url, lra) = (
            app.url(&paths::with_id(paths::STAFF_UNLOCK, id)),
            lra.clone(),
        );
        tokio::spawn(async move {
            lra.post(app_url)
                .json(&json!({ "reason": "called the desk" }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // Until the unlock's request reaches the frozen directory.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !slapd.has_unread_request() {
        if unlock.is_finished() {
            slapd.resume();
            panic!(
                "the unlock was answered without waiting for the frozen directory: {:?}",
                unlock.await
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the unlock never asked the directory"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = app.sign_in("hrcc", "carol", STRONG).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(
        !unlock.is_finished(),
        "the sign-in waited for the directory: a transaction was held open across it"
    );
    slapd.resume();
    assert_eq!(unlock.await.unwrap(), StatusCode::OK);
}
