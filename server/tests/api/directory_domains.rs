//! A domain backed by a directory, through the HTTP API, on both real
//! directories: OpenLDAP with ppolicy (a slapd of each test's own,
//! latchkey_testkit::slapd) and Active Directory (the process's Samba DC in its
//! network namespace, over LDAPS with the tests' CA, latchkey_testkit::samba).
//! Every scenario runs four times: each directory on SQLite and on
//! PostgreSQL. What each directory does its own way (how it locks, what a
//! bind says of a password that must be changed, where it counts failures)
//! sits behind [`TestDirectory`]; the scenarios ask only what a person or an
//! administrator outside Latchkey would see.

use latchkey_server::accounts::store::StoreKind;
use latchkey_server::directory::config::DirectoryGroups;
use latchkey_server::directory::{DirectoryConfig, DirectoryKind, PERMANENT_LOCK};
use latchkey_shared::api::{ApiError, ErrorCode};
use latchkey_testkit::samba::{self, AdUser, Samba};
use latchkey_testkit::slapd::{self, user_dn, Slapd, ALICE_PASSWORD};
use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app_with, Backend, TestApp, STRONG_2, STRONG_3};

/// A person in the directory, as a test knows them.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub dn: String,
    pub password: String,
    pub display_name: String,
    pub mail: String,
}

/// A real directory as the scenarios use it.
pub trait TestDirectory: Send + Sync {
    /// Latchkey's connection to it, as the service account.
    fn settings(&self) -> DirectoryConfig;
    /// The test's own user (enabled, not locked, a known password).
    fn alice(&self) -> &TestUser;
    /// A simple bind outside Latchkey: `Err` carries what the tool said.
    fn bind(&self, user: &TestUser, password: &str) -> Result<String, String>;
    /// Whether a bind's words say the password must be changed first.
    fn says_must_change(&self, said: &str) -> bool;
    /// Locks `user` in the directory, as failures elsewhere would.
    fn lock(&self, user: &TestUser);
    fn is_locked(&self, user: &TestUser) -> bool;
    /// An administrator's lock (ppolicy's permanent one, a disabled AD
    /// account).
    fn lock_permanently(&self, user: &TestUser);
    fn is_locked_permanently(&self, user: &TestUser) -> bool;
    /// Failed binds the directory itself counted for `user`.
    fn failed_binds(&self, user: &TestUser) -> usize;
    /// The directory's stable id of `user`, as Latchkey keys it.
    fn stable_id(&self, user: &TestUser) -> String;
    /// Makes the directory answer an unauthenticated bind (a DN with an
    /// empty password, RFC 4513 §5.1.2) with success where it can be made
    /// to: whether it now does.
    fn allow_unauthenticated_binds(&self) -> bool;
    /// A new entry for a person named `name` (never in the directory
    /// before, or deleted since).
    fn add_person(&self, name: &str, password: &str) -> TestUser;
    /// Deletes `user`'s entry.
    fn delete(&self, user: &TestUser);
    /// Gives `user`'s entry the user name `new_name`.
    fn rename(&self, user: &TestUser, new_name: &str) -> TestUser;
    /// A new group with `members`: its DN, for `[directory_groups]`.
    fn group_of(&self, members: &[&TestUser]) -> String;
}

fn password_file(password: &str) -> std::path::PathBuf {
    let file = std::env::temp_dir().join(format!("latchkey-bind-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{password}\n")).unwrap();
    file
}

/// OpenLDAP: a slapd of the test's own, with the fixtures' alice.
pub struct OpenLdap {
    slapd: Slapd,
    alice: TestUser,
}

impl OpenLdap {
    pub fn start() -> Self {
        Self {
            slapd: Slapd::start(),
            alice: TestUser {
                name: "alice".to_owned(),
                dn: user_dn("alice"),
                password: ALICE_PASSWORD.to_owned(),
                display_name: "Alice Example".to_owned(),
                mail: "alice@latchkey.test".to_owned(),
            },
        }
    }
}

impl OpenLdap {
    /// The server itself, to stop and restart it.
    pub fn slapd(&self) -> &Slapd {
        &self.slapd
    }
}

impl TestDirectory for OpenLdap {
    fn settings(&self) -> DirectoryConfig {
        DirectoryConfig {
            kind: DirectoryKind::Ldap,
            url: self.slapd.url(),
            starttls: false,
            allow_plain: true,
            ca_file: None,
            base_dn: slapd::PEOPLE_DN.to_owned(),
            user_filter: None,
            username_attribute: None,
            display_name_attribute: "cn".to_owned(),
            mail_attribute: "mail".to_owned(),
            bind_dn: slapd::SERVICE_DN.to_owned(),
            bind_password_env: None,
            bind_password_file: Some(password_file(slapd::SERVICE_PASSWORD)),
            timeout_secs: 10,
            pool_size: 2,
        }
    }
    fn alice(&self) -> &TestUser {
        &self.alice
    }
    fn bind(&self, user: &TestUser, password: &str) -> Result<String, String> {
        self.slapd.bind(&user.dn, password)
    }
    fn says_must_change(&self, said: &str) -> bool {
        said.contains("Password must be changed")
    }
    fn lock(&self, user: &TestUser) {
        self.slapd.lock(&user.name, "20260101000000Z");
    }
    fn is_locked(&self, user: &TestUser) -> bool {
        !self
            .slapd
            .values(&user.dn, "pwdAccountLockedTime")
            .is_empty()
    }
    fn lock_permanently(&self, user: &TestUser) {
        self.slapd.lock(&user.name, PERMANENT_LOCK);
    }
    fn is_locked_permanently(&self, user: &TestUser) -> bool {
        self.slapd.values(&user.dn, "pwdAccountLockedTime") == [PERMANENT_LOCK]
    }
    fn failed_binds(&self, user: &TestUser) -> usize {
        self.slapd.values(&user.dn, "pwdFailureTime").len()
    }
    fn stable_id(&self, user: &TestUser) -> String {
        self.slapd.values(&user.dn, "entryUUID")[0].clone()
    }
    fn allow_unauthenticated_binds(&self) -> bool {
        self.slapd.change_config(
            "dn: cn=config\nchangetype: modify\nadd: olcAllows\nolcAllows: bind_anon_dn\n",
        );
        true
    }
    fn add_person(&self, name: &str, password: &str) -> TestUser {
        let user = TestUser {
            name: name.to_owned(),
            dn: user_dn(name),
            password: password.to_owned(),
            display_name: format!("{} Newcomer", capitalised(name)),
            mail: format!("{name}.newcomer@latchkey.test"),
        };
        self.slapd.modify(&format!(
            "dn: {}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {}\ncn: {}\nsn: Newcomer\n\
             mail: {}\nuserPassword: {}\n",
            user.dn, user.name, user.display_name, user.mail, user.password
        ));
        user
    }
    fn delete(&self, user: &TestUser) {
        self.slapd
            .modify(&format!("dn: {}\nchangetype: delete\n", user.dn));
    }
    fn rename(&self, user: &TestUser, new_name: &str) -> TestUser {
        self.slapd.modify(&format!(
            "dn: {}\nchangetype: modrdn\nnewrdn: uid={new_name}\ndeleteoldrdn: 1\n",
            user.dn
        ));
        TestUser {
            name: new_name.to_owned(),
            dn: user_dn(new_name),
            ..user.clone()
        }
    }
    fn group_of(&self, members: &[&TestUser]) -> String {
        let dn = format!(
            "cn=staff-{},dc=latchkey,dc=test",
            uuid::Uuid::new_v4().simple()
        );
        let mut ldif = format!(
            "dn: {dn}\nchangetype: add\nobjectClass: groupOfNames\ncn: {}\n",
            &dn[3..dn.find(',').unwrap()]
        );
        for m in members {
            ldif.push_str(&format!("member: {}\n", m.dn));
        }
        self.slapd.modify(&ldif);
        dn
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Active Directory: the process's Samba DC, with an alice of the test's
/// own (tests share the DC).
pub struct ActiveDirectory {
    dc: &'static Samba,
    alice: TestUser,
}

impl ActiveDirectory {
    pub fn start() -> Self {
        let dc = samba::dc();
        let AdUser {
            name,
            dn,
            password,
            display_name,
            mail,
        } = dc.new_user("alice", ALICE_PASSWORD);
        Self {
            dc,
            alice: TestUser {
                name,
                dn,
                password,
                display_name,
                mail,
            },
        }
    }

    fn ad_user(user: &TestUser) -> AdUser {
        AdUser {
            name: user.name.clone(),
            dn: user.dn.clone(),
            password: user.password.clone(),
            display_name: user.display_name.clone(),
            mail: user.mail.clone(),
        }
    }
}

impl TestDirectory for ActiveDirectory {
    fn settings(&self) -> DirectoryConfig {
        DirectoryConfig {
            kind: DirectoryKind::ActiveDirectory,
            url: self.dc.url(),
            starttls: false,
            allow_plain: false,
            ca_file: Some(self.dc.ca_file()),
            base_dn: samba::USERS_DN.to_owned(),
            user_filter: None,
            username_attribute: None,
            display_name_attribute: "displayName".to_owned(),
            mail_attribute: "mail".to_owned(),
            bind_dn: samba::SERVICE_DN.to_owned(),
            bind_password_env: None,
            bind_password_file: Some(password_file(samba::SERVICE_PASSWORD)),
            timeout_secs: 10,
            pool_size: 2,
        }
    }
    fn alice(&self) -> &TestUser {
        &self.alice
    }
    fn bind(&self, user: &TestUser, password: &str) -> Result<String, String> {
        self.dc.bind(&user.dn, password)
    }
    fn says_must_change(&self, said: &str) -> bool {
        said.contains("data 773")
    }
    fn lock(&self, user: &TestUser) {
        self.dc.lock(&Self::ad_user(user));
    }
    fn is_locked(&self, user: &TestUser) -> bool {
        self.dc.is_locked(&Self::ad_user(user))
    }
    fn lock_permanently(&self, user: &TestUser) {
        self.dc.disable(&Self::ad_user(user));
    }
    fn is_locked_permanently(&self, user: &TestUser) -> bool {
        self.dc.is_disabled(&Self::ad_user(user))
    }
    fn failed_binds(&self, user: &TestUser) -> usize {
        self.dc.bad_password_count(&Self::ad_user(user))
    }
    fn stable_id(&self, user: &TestUser) -> String {
        self.dc.object_guid(&user.dn)
    }
    fn allow_unauthenticated_binds(&self) -> bool {
        // Windows answers them with success by default; Samba 4.17 refuses
        // them (data 52e) and has no setting to allow them. On it the
        // scenario shows that Latchkey never sends one.
        false
    }
    fn add_person(&self, name: &str, password: &str) -> TestUser {
        let AdUser {
            name,
            dn,
            password,
            display_name,
            mail,
        } = self.dc.new_user_named(name, password);
        TestUser {
            name,
            dn,
            password,
            display_name,
            mail,
        }
    }
    fn delete(&self, user: &TestUser) {
        self.dc
            .modify(&format!("dn: {}\nchangetype: delete\n", user.dn));
    }
    fn rename(&self, user: &TestUser, new_name: &str) -> TestUser {
        self.dc.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: sAMAccountName\nsAMAccountName: {new_name}\n",
            user.dn
        ));
        TestUser {
            name: new_name.to_owned(),
            ..user.clone()
        }
    }
    fn group_of(&self, members: &[&TestUser]) -> String {
        let dns: Vec<&str> = members.iter().map(|m| m.dn.as_str()).collect();
        self.dc.new_group("lk-staff", &dns)
    }
}

/// Turns `async fn name(backend: Backend, dir: &dyn TestDirectory)` into
/// `openldap::{sqlite,postgres}::name` and
/// `active_directory::{sqlite,postgres}::name` tests.
macro_rules! every_directory {
    ($($name:ident),+ $(,)?) => {
        every_directory!(@dir openldap, OpenLdap, $($name),+);
        every_directory!(@dir active_directory, ActiveDirectory, $($name),+);
    };
    (@dir $module:ident, $directory:ident, $($name:ident),+) => {
        mod $module {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let dir = super::super::$directory::start();
                        super::super::$name(crate::helpers::Backend::Sqlite, &dir).await
                    }
                )+
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let dir = super::super::$directory::start();
                        super::super::$name(crate::helpers::Backend::Postgres, &dir).await
                    }
                )+
            }
        }
    };
}

every_directory!(
    a_directory_domain_signs_in_by_binding_as_the_user_and_keeps_no_password,
    an_unknown_name_and_a_wrong_password_are_answered_alike_on_a_directory_domain,
    fifty_parallel_wrong_attempts_cause_at_most_the_thresholds_binds_and_the_next_is_locked,
    a_lock_set_in_the_directory_is_answered_with_the_locked_message,
    change_password_on_a_directory_domain_is_made_as_the_user_and_held_to_its_history,
    an_lra_temporary_password_must_be_changed_before_it_binds_anywhere,
    an_lra_unlock_lifts_the_directorys_lock_but_never_an_administrators,
    unlock_account_through_the_whole_flow_clears_latchkeys_and_the_directorys_lock,
    forgot_password_resets_the_password_in_the_directory,
    the_portal_checks_directory_passwords_with_the_same_answers,
    an_administrators_mandatory_reset_holds_on_a_directory_domain_until_the_password_is_changed,
    an_empty_or_blank_password_is_refused_where_the_directory_accepts_unauthenticated_binds,
    an_lra_cannot_act_on_a_directory_administrator_who_never_signed_in,
    an_lra_cannot_reset_someone_who_is_staff_in_another_domain_on_the_same_directory,
    an_lra_cannot_act_on_an_administrator_whose_row_predates_the_directory,
    a_person_given_a_deleted_persons_name_gets_a_fresh_row_and_none_of_theirs,
    a_person_renamed_onto_a_name_another_row_holds_is_found_and_signs_in,
);

/// The app with `partners` backed by `dir`.
pub async fn directory_app(backend: Backend, dir: &dyn TestDirectory) -> TestApp {
    directory_app_with_groups(backend, dir, None).await
}

/// [`directory_app`], with staff roles from `groups` when given.
async fn directory_app_with_groups(
    backend: Backend,
    dir: &dyn TestDirectory,
    groups: Option<DirectoryGroups>,
) -> TestApp {
    let settings = dir.settings();
    let app = spawn_app_with(backend, move |c| {
        c.directories.insert("corp".to_owned(), settings);
        if let Some(groups) = groups {
            c.directory_groups.insert("corp".to_owned(), groups);
        }
    })
    .await;
    latchkey_server::settings::provisioning::set_domain_store(
        &app.state,
        "partners",
        &StoreKind::Directory("corp".to_owned()),
    )
    .await
    .unwrap();
    app
}

pub async fn error_of(r: reqwest::Response) -> (StatusCode, ApiError) {
    let status = r.status();
    (status, r.json().await.expect("an API error body"))
}

async fn a_directory_domain_signs_in_by_binding_as_the_user_and_keeps_no_password(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let r = app
        .sign_in("partners", &alice.name.to_uppercase(), &alice.password)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let row = sqlx::query(
        "SELECT display_name, email, password_hash, directory_id FROM users WHERE username_key = $1",
    )
    .bind(&alice.name)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    use sqlx::Row;
    assert_eq!(row.get::<String, _>("display_name"), alice.display_name);
    assert_eq!(
        row.get::<Option<String>, _>("email").as_deref(),
        Some(alice.mail.as_str())
    );
    assert_eq!(
        row.get::<String, _>("password_hash"),
        "",
        "no password or hash is stored"
    );
    assert_eq!(
        row.get::<Option<String>, _>("directory_id"),
        Some(dir.stable_id(alice))
    );
    let r = app.sign_in("partners", &alice.name, "wrong-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A second sign-in reuses the row (keyed by the directory's id).
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE domain_id = (SELECT id FROM domains WHERE slug = 'partners')")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn an_unknown_name_and_a_wrong_password_are_answered_alike_on_a_directory_domain(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let (s1, e1) = error_of(app.sign_in("partners", &alice.name, "wrong-password").await).await;
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
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let threshold = usize::try_from(app.state.config.lockout_threshold).unwrap();
    let attempts = (0..50).map(|_| {
        let client = new_client();
        let app = &app;
        async move {
            app.sign_in_with(&client, "partners", &alice.name, "wrong-password")
                .await
                .status()
        }
    });
    let statuses = join_all(attempts.map(Box::pin).collect()).await;
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
    // The directory's own count of failed binds says the same.
    let binds = dir.failed_binds(alice);
    assert!(
        (1..=threshold).contains(&binds),
        "{binds} failed binds reached the directory"
    );
    let (status, e) = error_of(app.sign_in("partners", &alice.name, &alice.password).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}

/// Every future polled together (all requests in flight at once), like
/// `futures::future::join_all`, without the crate.
async fn join_all<F>(mut futures: Vec<std::pin::Pin<Box<F>>>) -> Vec<StatusCode>
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

async fn a_lock_set_in_the_directory_is_answered_with_the_locked_message(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    dir.lock(alice);
    let (status, e) = error_of(app.sign_in("partners", &alice.name, &alice.password).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
    // A wrong password gets the same answer while the directory holds the
    // lock (nothing tells which one was right).
    let (status, _) = error_of(app.sign_in("partners", &alice.name, "wrong-password").await).await;
    assert_eq!(status, StatusCode::LOCKED);
}

async fn change_password_on_a_directory_domain_is_made_as_the_user_and_held_to_its_history(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.change_password(&alice.password, STRONG_2).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(
        dir.bind(alice, STRONG_2).is_ok(),
        "changed in the directory"
    );
    assert!(
        dir.bind(alice, &alice.password).is_err(),
        "the old one is gone"
    );
    let r = app.change_password(STRONG_2, STRONG_3).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Back to the one before: Latchkey's policy passes it, the directory's
    // history refuses it, and the person is told why.
    let (status, e) = error_of(app.change_password(STRONG_3, STRONG_2).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("used recently"), "{}", e.message);
    assert!(dir.bind(alice, STRONG_3).is_ok(), "unchanged");
    let audit = app.audit_events().await;
    let changes = audit
        .iter()
        .filter(|row| row.kind == "password_change" && row.result == "success")
        .count();
    assert_eq!(changes, 2, "{audit:?}");
}

/// An LRA of `partners` (a local account of `hrcc`), re-authenticated, and
/// alice's id (she has signed in once, so Latchkey keeps her row).
async fn lra_and_alice(app: &TestApp, alice: &TestUser) -> (reqwest::Client, i64) {
    use latchkey_shared::admin::Role;
    let r = app
        .sign_in_with(&new_client(), "partners", &alice.name, &alice.password)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
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
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
        .bind(&alice.name)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (lra, id)
}

async fn an_lra_temporary_password_must_be_changed_before_it_binds_anywhere(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::{paths, TemporaryPasswordIssued};
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let (lra, id) = lra_and_alice(&app, alice).await;
    let r = crate::staff::action(
        &app,
        &lra,
        paths::STAFF_TEMP_PASSWORD,
        id,
        "called the desk",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let issued: TemporaryPasswordIssued = r.json().await.unwrap();
    // Outside Latchkey the directory itself says it must be changed first.
    let said = dir
        .bind(alice, &issued.temporary_password)
        .unwrap_or_else(|e| e);
    assert!(dir.says_must_change(&said), "{said}");
    assert!(
        dir.bind(alice, &alice.password).is_err(),
        "the old one is gone"
    );
    // Through Latchkey: a session that must change it, then a change.
    let r = app
        .sign_in("partners", &alice.name, &issued.temporary_password)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let info: latchkey_shared::api::SessionInfo = r.json().await.unwrap();
    assert!(info.must_change_password, "{info:?}");
    let r = app
        .change_password(&issued.temporary_password, STRONG_2)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let said = dir
        .bind(alice, STRONG_2)
        .expect("the new one binds anywhere");
    assert!(!dir.says_must_change(&said), "{said}");
}

async fn an_lra_unlock_lifts_the_directorys_lock_but_never_an_administrators(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::paths;
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let (lra, id) = lra_and_alice(&app, alice).await;
    dir.lock(alice);
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, id, "verified by phone").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!dir.is_locked(alice), "the directory's lock is lifted");
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK);

    dir.lock_permanently(alice);
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, id, "asked again").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        dir.is_locked_permanently(alice),
        "an administrator's lock stays"
    );
    let (status, e) = error_of(app.sign_in("partners", &alice.name, &alice.password).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}

/// alice signs in once (Latchkey keeps her row) and enrols her answers.
async fn enrolled(app: &TestApp, alice: &TestUser) {
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", &alice.name, &alice.password)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        crate::self_service::put_enrolment(app, &client, &crate::self_service::enrol_request(None))
            .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn unlock_account_through_the_whole_flow_clears_latchkeys_and_the_directorys_lock(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use crate::self_service::Flow;
    use latchkey_shared::self_service::FlowKind;
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    enrolled(&app, alice).await;
    // Locked by failures elsewhere: the directory's own lock only.
    dir.lock(alice);
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let r = flow.run(&alice.name, true).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!dir.is_locked(alice));
    assert_eq!(
        app.sign_in("partners", &alice.name, &alice.password)
            .await
            .status(),
        StatusCode::OK
    );

    // Locked by Latchkey (five failures through it) and by the directory.
    for _ in 0..5 {
        app.sign_in_with(&new_client(), "partners", &alice.name, "wrong-password")
            .await;
    }
    dir.lock(alice);
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let r = flow.run(&alice.name, true).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!dir.is_locked(alice));
    assert_eq!(
        app.sign_in("partners", &alice.name, &alice.password)
            .await
            .status(),
        StatusCode::OK
    );
    let audit = app.audit_events().await;
    assert!(
        audit
            .iter()
            .any(|row| row.kind == "self_service.unlock" && row.result == "success"),
        "{audit:?}"
    );

    // An administrator's lock is not the person's to lift.
    dir.lock_permanently(alice);
    let flow = Flow::new(&app, FlowKind::Unlock).await;
    let (status, e) = error_of(flow.run(&alice.name, true).await).await;
    assert_eq!(
        (status, e.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::VerificationFailed
        ),
        "{}",
        e.message
    );
    assert!(dir.is_locked_permanently(alice));
}

async fn forgot_password_resets_the_password_in_the_directory(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use crate::self_service::Flow;
    use latchkey_shared::self_service::{paths, FinishResponse, FlowKind, NewPasswordRequest};
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    enrolled(&app, alice).await;
    // Locked elsewhere as well: a reset on AD does not unlock by itself.
    dir.lock(alice);
    let flow = Flow::new(&app, FlowKind::Reset).await;
    let r = flow.run(&alice.name, true).await;
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
    let said = dir.bind(alice, STRONG_2).expect("reset in the directory");
    assert!(!dir.says_must_change(&said), "{said}");
    assert!(
        !dir.is_locked(alice),
        "the reset lifted the directory's lock"
    );
    assert!(dir.bind(alice, &alice.password).is_err());
    assert_eq!(
        app.sign_in("partners", &alice.name, STRONG_2)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn the_portal_checks_directory_passwords_with_the_same_answers(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::{
        paths, PasswordStatus, PortalVerifyRequest, PortalVerifyResponse,
    };
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let key = app.add_portal_key().await;
    let verify = |password: String| {
        let url = app.url(paths::PORTAL_VERIFY);
        let (username, key) = (alice.name.clone(), key.clone());
        async move {
            new_client()
                .post(url)
                .bearer_auth(key)
                .json(&PortalVerifyRequest {
                    domain: "partners".into(),
                    username,
                    password,
                })
                .send()
                .await
                .unwrap()
        }
    };
    let r = verify(alice.password.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ok: PortalVerifyResponse = r.json().await.unwrap();
    assert_eq!(
        (ok.status, ok.display_name.as_str()),
        (PasswordStatus::Valid, alice.display_name.as_str())
    );
    let (status, e) = error_of(verify("wrong-password".to_owned()).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    dir.lock(alice);
    let (status, e) = error_of(verify(alice.password.clone()).await).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
}

async fn an_administrators_mandatory_reset_holds_on_a_directory_domain_until_the_password_is_changed(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::{paths, MandatoryResetResponse, Role};
    use latchkey_shared::api::SessionInfo;
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    // Seen once, so Latchkey keeps a row for her.
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!r.json::<SessionInfo>().await.unwrap().must_change_password);
    let (_, admin) =
        crate::staff::staff_client(&app, "hrcc", "boss", Role::Admin, &[], STRONG_3).await;
    let r = admin
        .post(app.url(paths::ADMIN_MANDATORY_RESET))
        .json(&serde_json::json!({"domains": ["partners"], "reason": "breach at vendor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        r.json::<MandatoryResetResponse>()
            .await
            .unwrap()
            .users_marked,
        1
    );
    // The directory still takes the password; Latchkey asks for a change at
    // every sign-in until one is made (the directory's own flag, read at
    // each bind, must not wipe Latchkey's demand).
    for _ in 0..2 {
        let r = app.sign_in("partners", &alice.name, &alice.password).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        assert!(r.json::<SessionInfo>().await.unwrap().must_change_password);
    }
    let r = app.change_password(&alice.password, STRONG_2).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(
        dir.bind(alice, STRONG_2).is_ok(),
        "changed in the directory"
    );
    let r = app.sign_in("partners", &alice.name, STRONG_2).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(!r.json::<SessionInfo>().await.unwrap().must_change_password);
}

// ------------------------------------------------ the security review (issue 17)

/// The rows of `name` in `domain`, by the name key (a retired row has
/// another).
async fn row_id(app: &TestApp, domain: &str, name: &str) -> Option<i64> {
    sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN domains d ON d.id = u.domain_id \
         WHERE d.slug = $1 AND u.username_key = $2",
    )
    .bind(domain)
    .bind(name.to_lowercase())
    .fetch_optional(&app.state.db.pool)
    .await
    .unwrap()
}

/// An LRA of `domains`, with a local account in `hrcc`, who has entered
/// the password again.
async fn lra_of(app: &TestApp, domains: &[&str]) -> reqwest::Client {
    use latchkey_shared::admin::{paths, Role};
    let (_, lra) = crate::staff::staff_client(
        app,
        "hrcc",
        "lra1",
        Role::Lra,
        domains,
        crate::helpers::STRONG_4,
    )
    .await;
    let r = lra
        .post(app.url(paths::STAFF_REAUTH))
        .json(&serde_json::json!({"password": crate::helpers::STRONG_4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    lra
}

/// The LRA's search for `q`: the ids and names it lists.
async fn lra_search(app: &TestApp, lra: &reqwest::Client, q: &str) -> Vec<(i64, String)> {
    use latchkey_shared::admin::{paths, UserSearchResponse};
    let r = lra
        .get(app.url(paths::STAFF_USERS))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let found: UserSearchResponse = r.json().await.unwrap();
    found
        .users
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect()
}

/// Finding 1: an empty password is an LDAP unauthenticated bind, which a
/// permissive directory answers with success for any DN.
async fn an_empty_or_blank_password_is_refused_where_the_directory_accepts_unauthenticated_binds(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::{paths, PortalVerifyRequest};
    let permissive = dir.allow_unauthenticated_binds();
    let alice = dir.alice();
    assert_eq!(
        dir.bind(alice, "").is_ok(),
        permissive,
        "what the directory itself answers a DN with no password"
    );
    let binds_before = dir.failed_binds(alice);
    let app = directory_app(backend, dir).await;
    for blank in ["", "   ", "\t"] {
        let (status, e) = error_of(app.sign_in("partners", &alice.name, blank).await).await;
        assert_eq!(
            (status, e.code),
            (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            "{blank:?}"
        );
    }
    assert_eq!(
        row_id(&app, "partners", &alice.name).await,
        None,
        "no row for a refusal"
    );
    let empty: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|r| r.is("sign_in", "failure") && r.detail.as_deref() == Some("empty password"))
        .collect();
    assert_eq!(
        empty.len(),
        3,
        "each counted and audited like a wrong password"
    );
    assert_eq!(
        dir.failed_binds(alice),
        binds_before,
        "the directory was never asked"
    );

    // The portal's check is the same check.
    let key = app.add_portal_key().await;
    let r = new_client()
        .post(app.url(paths::PORTAL_VERIFY))
        .bearer_auth(key)
        .json(&PortalVerifyRequest {
            domain: "partners".into(),
            username: alice.name.clone(),
            password: String::new(),
        })
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );

    // Signed in for real, an empty current password changes nothing.
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app.change_password("", STRONG_2).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "{}",
        r.text().await.unwrap()
    );
    dir.bind(alice, &alice.password)
        .expect("her directory password is unchanged");
    assert!(dir.bind(alice, STRONG_2).is_err());
}

/// Finding 2: the role her directory groups give counts before she ever
/// signs in, so an LRA cannot issue her a password and become her.
async fn an_lra_cannot_act_on_a_directory_administrator_who_never_signed_in(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::{paths, Role};
    let alice = dir.alice();
    let admins = dir.group_of(&[alice]);
    let app = directory_app_with_groups(
        backend,
        dir,
        Some(DirectoryGroups {
            lra_group_dn: None,
            admin_group_dn: Some(admins),
        }),
    )
    .await;
    let lra = lra_of(&app, &["partners"]).await;
    let found = lra_search(&app, &lra, &alice.name).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let id = found[0].0;
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(role, "user", "her row says user: she never signed in");
    for action in [
        paths::STAFF_TEMP_PASSWORD,
        paths::STAFF_UNLOCK,
        paths::STAFF_CLEAR_ENROLMENT,
    ] {
        let r = crate::staff::action(&app, &lra, action, id, "called the desk").await;
        let (status, e) = error_of(r).await;
        assert_eq!(
            (status, e.code),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            "{action}: {}",
            e.message
        );
    }
    dir.bind(alice, &alice.password)
        .expect("her directory password is unchanged");
    // What the check foresaw: her groups make her an administrator.
    let r = app.sign_in("partners", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: latchkey_shared::api::SessionInfo = r.json().await.unwrap();
    assert_eq!(info.role, Role::Admin);
}

/// Finding 2, across domains: two domains on one directory are one person.
async fn an_lra_cannot_reset_someone_who_is_staff_in_another_domain_on_the_same_directory(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_server::settings::provisioning::{self, NewDomain};
    use latchkey_shared::admin::{paths, Role};
    let app = directory_app(backend, dir).await;
    provisioning::create_domain(&app.state, &NewDomain::new("north", "North"))
        .await
        .unwrap();
    provisioning::set_domain_store(
        &app.state,
        "north",
        &StoreKind::Directory("corp".to_owned()),
    )
    .await
    .unwrap();
    let alice = dir.alice();
    let r = app.sign_in("north", &alice.name, &alice.password).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    latchkey_server::cli::staff::set_user_role(&app.state, "north", &alice.name, Role::Admin, &[])
        .await
        .unwrap();
    let lra = lra_of(&app, &["partners"]).await;
    let found = lra_search(&app, &lra, &alice.name).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let r =
        crate::staff::action(&app, &lra, paths::STAFF_TEMP_PASSWORD, found[0].0, "called").await;
    let (status, e) = error_of(r).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );
    dir.bind(alice, &alice.password)
        .expect("her directory password is unchanged");
}

/// Finding 3: a new entry with a deleted person's name is a new person.
async fn a_person_given_a_deleted_persons_name_gets_a_fresh_row_and_none_of_theirs(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use crate::self_service::Flow;
    use latchkey_shared::admin::{paths, Role};
    use latchkey_shared::self_service::FlowKind;
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    enrolled(&app, alice).await;
    let old_id = row_id(&app, "partners", &alice.name)
        .await
        .expect("her row");
    let old_session = new_client();
    let r = app
        .sign_in_with(&old_session, "partners", &alice.name, &alice.password)
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    dir.delete(alice);
    let newcomer = dir.add_person(&alice.name, STRONG_3);
    assert_ne!(dir.stable_id(&newcomer), "");

    // Before the newcomer ever signs in, nothing of the old person's
    // reaches them: not her answers in Forgot Password, not an LRA.
    let flow = Flow::new(&app, FlowKind::Reset).await;
    let r = flow.run(&alice.name, true).await;
    if r.status() == StatusCode::OK {
        let body: latchkey_shared::self_service::FinishResponse = r.json().await.unwrap();
        if let latchkey_shared::self_service::FinishResponse::ChoosePassword { policy, .. } = body {
            let r = flow
                .post(
                    latchkey_shared::self_service::paths::FLOW_PASSWORD,
                    &latchkey_shared::self_service::NewPasswordRequest {
                        new_password: STRONG_2.into(),
                        confirm_password: STRONG_2.into(),
                        policy_version: policy.version,
                    },
                )
                .await;
            assert_ne!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        }
    }
    let lra = lra_of(&app, &["partners"]).await;
    let r = crate::staff::action(&app, &lra, paths::STAFF_TEMP_PASSWORD, old_id, "called").await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "{}",
        r.text().await.unwrap()
    );
    dir.bind(&newcomer, STRONG_3)
        .expect("the newcomer's password is untouched");
    assert!(dir.bind(&newcomer, STRONG_2).is_err());

    // The newcomer signs in to a row of their own, a plain user's.
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
        .bind(old_id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let client = new_client();
    let r = app
        .sign_in_with(&client, "partners", &newcomer.name, STRONG_3)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let info: latchkey_shared::api::SessionInfo = r.json().await.unwrap();
    assert_eq!(info.role, Role::User);
    assert_eq!(info.user.display_name, newcomer.display_name);
    let new_id = row_id(&app, "partners", &newcomer.name)
        .await
        .expect("a row");
    assert_ne!(new_id, old_id);
    let r = crate::self_service::get_enrolment(&app, &client).await;
    let status: latchkey_shared::self_service::EnrolmentStatus = r.json().await.unwrap();
    assert!(!status.enrolled, "the old person's answers are not theirs");

    // The old row is kept apart, with what was hers, and said so.
    let (key, retired_at, role): (String, Option<i64>, String) = {
        use sqlx::Row;
        let row = sqlx::query("SELECT username_key, retired_at, role FROM users WHERE id = $1")
            .bind(old_id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(key, format!("#retired:{old_id}"));
    assert!(retired_at.is_some());
    assert_eq!(role, "admin");
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|r| r.is("directory.identity_retired", "success") && r.about(&alice.name)));
    // Staff can still see it by its id, and act on it no more.
    let r = crate::staff::action(&app, &lra, paths::STAFF_UNLOCK, old_id, "called").await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(
        app.get_session_with(&old_session).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old person's session ended"
    );
}

/// Finding 3: a rename onto a name an old row holds is no server error.
async fn a_person_renamed_onto_a_name_another_row_holds_is_found_and_signs_in(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    let app = directory_app(backend, dir).await;
    let alice = dir.alice();
    let other = dir.add_person(&format!("{}b", alice.name), STRONG_3);
    for (name, password) in [
        (&alice.name, &alice.password),
        (&other.name, &other.password),
    ] {
        let r = app.sign_in("partners", name, password).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let alice_id = row_id(&app, "partners", &alice.name).await.unwrap();
    let other_id = row_id(&app, "partners", &other.name).await.unwrap();
    dir.delete(&other);
    let renamed = dir.rename(alice, &other.name);

    let lra = lra_of(&app, &["partners"]).await;
    let found = lra_search(&app, &lra, &other.name).await;
    assert_eq!(found, [(alice_id, other.name.clone())]);
    let r = app
        .sign_in("partners", &renamed.name, &renamed.password)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(row_id(&app, "partners", &other.name).await, Some(alice_id));
    assert_eq!(row_id(&app, "partners", &alice.name).await, None);
    let key: String = sqlx::query_scalar("SELECT username_key FROM users WHERE id = $1")
        .bind(other_id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(key, format!("#retired:{other_id}"));
}

/// Finding 2, as the review of its fix found it: a row kept from before
/// the domain moved to the directory has no stable id yet. The LRA reaches
/// it by its id alone (no search, which would adopt it); the person the
/// action would write to is the entry with its name, an administrator by
/// the directory's groups.
async fn an_lra_cannot_act_on_an_administrator_whose_row_predates_the_directory(
    backend: Backend,
    dir: &dyn TestDirectory,
) {
    use latchkey_shared::admin::paths;
    let alice = dir.alice();
    let admins = dir.group_of(&[alice]);
    let settings = dir.settings();
    let app = spawn_app_with(backend, move |c| {
        c.directories.insert("corp".to_owned(), settings);
        c.directory_groups.insert(
            "corp".to_owned(),
            DirectoryGroups {
                lra_group_dn: None,
                admin_group_dn: Some(admins),
            },
        );
    })
    .await;
    let local = app
        .add_user_in("partners", &alice.name, "Alice Local", STRONG_3, false)
        .await;
    latchkey_server::settings::provisioning::set_domain_store(
        &app.state,
        "partners",
        &StoreKind::Directory("corp".to_owned()),
    )
    .await
    .unwrap();
    let lra = lra_of(&app, &["partners"]).await;
    let r = crate::staff::action(&app, &lra, paths::STAFF_TEMP_PASSWORD, local.id, "called").await;
    let (status, e) = error_of(r).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
        "{}",
        e.message
    );
    dir.bind(alice, &alice.password)
        .expect("her directory password is unchanged");
}
