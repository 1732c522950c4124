//! `spawn_app(backend)`: the server on port 0 with a fresh database and a
//! mock clock, and typed request helpers: what needs the server's own
//! types. The real servers the tests start (PostgreSQL, slapd, Samba, SMTP,
//! certificates, proxies) are the `latchkey-testkit` crate's, shared with
//! the end-to-end tests.

pub mod statements;

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use latchkey_server::http::auth::SignedIn;
use latchkey_server::http::client_addr::TrustedProxies;
use latchkey_server::mail::config::{MailConfig, MailSecurity};
use latchkey_server::settings::provisioning::{self, NewDomain};
use latchkey_server::{AppError, AppState, Application, Config, MockClock};
use latchkey_shared::api::{
    paths, ApiError, ChangePasswordRequest, ErrorCode, SessionInfo, SignInRequest, CSRF_HEADER,
    SESSION_COOKIE,
};
use latchkey_shared::{PasswordPolicy, Username};
use latchkey_testkit::smtp::{self, SmtpServer};
use reqwest::StatusCode;
use sqlx::Row;

/// Passwords that satisfy the default policy (15+ characters, zxcvbn ≥ 3).
pub const STRONG: &str = "glacier-Tangent-orchid-5831";
pub const STRONG_2: &str = "copper-Meadow-quartz-2749";
pub const STRONG_3: &str = "velvet-Comet-saddle-6192";
pub const STRONG_4: &str = "amber-Falcon-thistle-8306";
pub const STRONG_5: &str = "harbor-Quince-lantern-4417";

/// The start of every test's mock clock.
pub const T0: i64 = 1_750_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh empty database; the guard removes a SQLite file when dropped.
pub struct TestDatabase {
    pub url: String,
    sqlite_file: Option<PathBuf>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

pub async fn fresh_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!(
                "latchkey-test-{}.db",
                uuid::Uuid::new_v4().simple()
            ));
            TestDatabase {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                sqlite_file: Some(path),
            }
        }
        Backend::Postgres => TestDatabase {
            url: latchkey_testkit::postgres::create_database().await,
            sqlite_file: None,
        },
    }
}

/// The configuration tests start from: everything default but the database,
/// port 0, a static directory of its own, and loopback exempt from the
/// per-source throttle. Every test's requests come from 127.0.0.1, and most
/// are about one account's rules (locks, blocks, codes), not about a
/// source's; the throttle's own tests (`throttle.rs`) clear the exemption
/// and speak for other sources through a trusted proxy.
pub fn test_config(db_url: &str) -> Config {
    Config {
        database_url: db_url.to_owned().into(),
        listen: "127.0.0.1:0".to_owned(),
        static_dir: std::env::temp_dir().join("latchkey-test-no-static"),
        throttle_exempt: TrustedProxies::parse(["127.0.0.1", "::1"]).expect("loopback"),
        ..Config::default()
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The plain-HTTP port that redirects (`http_redirect_listen`).
    pub redirect_port: Option<u16>,
    pub state: AppState,
    pub clock: Arc<MockClock>,
    /// Keeps cookies, like a browser.
    pub client: reqwest::Client,
    _db: TestDatabase,
}

/// Path of a probe endpoint that needs a full (non-temporary) session, as
/// every endpoint other than session and change-password does.
pub const SIGNED_IN_PROBE: &str = "/api/test/signed-in";

/// Path of a probe endpoint that fails with an internal error: a real
/// database error (a missing table) inside an error of ours.
pub const INTERNAL_ERROR_PROBE: &str = "/api/test/internal-error";

/// What [`INTERNAL_ERROR_PROBE`]'s error says, and the table it reads.
pub const PROBE_FAILURE: &str = "the probe could not read its table";
pub const PROBE_TABLE: &str = "no_such_probe_table";

#[derive(Debug, thiserror::Error)]
#[error("{PROBE_FAILURE}")]
struct ProbeFailure(#[source] sqlx::Error);

async fn failing_probe(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<String, AppError> {
    sqlx::query(&format!("SELECT x FROM {PROBE_TABLE}"))
        .fetch_one(&state.db.pool)
        .await
        .map(|_| "unexpectedly read".to_owned())
        .map_err(|e| AppError::internal(ProbeFailure(e)))
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with the configuration adjusted first. The app has
/// domains `partners` (Partners) and `hrcc` (HRCC) with self-service, and
/// `hhsc` (HHSC) without.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    start_app(backend, adjust, None).await
}

/// The server of a [`spawn_stoppable_app_with`]: stopped as `latchkey
/// serve` is on SIGTERM.
pub struct Stopper {
    signal: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Stopper {
    /// Gives the shutdown signal (once).
    pub fn signal(&mut self) {
        if let Some(signal) = self.signal.take() {
            let _ = signal.send(());
        }
    }

    /// The server's task, which ends once it has stopped.
    pub fn server(&mut self) -> &mut tokio::task::JoinHandle<std::io::Result<()>> {
        self.server.as_mut().expect("the server's task")
    }
}

/// [`spawn_app_with`], served by `run_with_graceful_shutdown` with a signal
/// the test gives ([`Stopper::signal`]).
pub async fn spawn_stoppable_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> (TestApp, Stopper) {
    let (signal, signalled) = tokio::sync::oneshot::channel();
    let mut stopper = Stopper {
        signal: Some(signal),
        server: None,
    };
    let app = start_app(backend, adjust, Some((signalled, &mut stopper))).await;
    (app, stopper)
}

async fn start_app(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
    stoppable: Option<(tokio::sync::oneshot::Receiver<()>, &mut Stopper)>,
) -> TestApp {
    let db = fresh_database(backend).await;
    let mut config = test_config(&db.url);
    adjust(&mut config);
    let clock = Arc::new(MockClock::new(T0));
    let probe = Router::new()
        .route(
            SIGNED_IN_PROBE,
            get(|SignedIn(user): SignedIn| async move { user.username }),
        )
        .route(INTERNAL_ERROR_PROBE, get(failing_probe));
    let app = Application::build_with_routes(config, clock.clone(), probe)
        .await
        .expect("the application builds");
    let port = app.port();
    let redirect_port = app.redirect_addr().map(|a| a.port());
    let state = app.state().clone();
    match stoppable {
        None => {
            tokio::spawn(app.run_until_stopped());
        }
        Some((signalled, stopper)) => {
            stopper.server = Some(tokio::spawn(app.run_with_graceful_shutdown(async {
                let _ = signalled.await;
            })));
        }
    }

    for d in [
        NewDomain::new("partners", "Partners"),
        NewDomain::new("hrcc", "HRCC"),
        NewDomain {
            slug: "hhsc".into(),
            name: "HHSC".into(),
            sspm_available: false,
            unavailable_text: Some("SSPM is not available for HHSC Domain Users.".into()),
        },
    ] {
        provisioning::create_domain(&state, &d)
            .await
            .expect("domain created");
    }

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        redirect_port,
        state,
        clock,
        client: new_client(),
        _db: db,
    }
}

/// Latchkey's `[mail]` for a test SMTP server: plain SMTP on loopback
/// (allowed explicitly), or its TLS mode trusting its CA.
pub fn mail_config(smtp: &SmtpServer) -> MailConfig {
    let security = match smtp.security() {
        None => MailSecurity::Plain,
        Some(smtp::Security::Starttls) => MailSecurity::Starttls,
        Some(smtp::Security::Tls) => MailSecurity::Tls,
    };
    MailConfig {
        host: smtp.host().into(),
        port: Some(smtp.port()),
        security,
        allow_plain: smtp.security().is_none(),
        ca_file: smtp.security().map(|_| smtp.ca_file()),
        username: None,
        password_env: None,
        password_file: None,
        from: "Latchkey <no-reply@latchkey.test>".into(),
        timeout_secs: 5,
        poll_secs: 1,
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
}

/// The body of an error answer.
pub async fn api_error(response: reqwest::Response) -> ApiError {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an ApiError ({e}): {text}"))
}

/// Sends every request at once (each on its own task), and returns the
/// answers in the order of the requests.
pub async fn in_parallel(requests: Vec<reqwest::RequestBuilder>) -> Vec<reqwest::Response> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| tokio::spawn(r.send()))
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("the task ran").expect("an answer"));
    }
    answers
}

/// Asserts the status and error code; returns the error body.
pub async fn assert_error(
    response: reqwest::Response,
    status: StatusCode,
    code: ErrorCode,
) -> ApiError {
    assert_eq!(response.status(), status, "unexpected status");
    let err = api_error(response).await;
    assert_eq!(err.code, code, "unexpected error code: {err:?}");
    err
}

/// The session token a response set, if any.
pub fn session_token(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (name, value) = first.split_once('=')?;
            (name.trim() == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

/// One row of the audit log, as the tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub kind: String,
    pub result: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub domain: Option<String>,
    pub detail: Option<String>,
}

impl AuditRow {
    pub fn is(&self, kind: &str, result: &str) -> bool {
        self.kind == kind && self.result == result
    }

    pub fn about(&self, subject: &str) -> bool {
        self.subject.as_deref() == Some(subject)
    }
}

/// A user created by [`TestApp::add_user`].
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub domain: String,
    pub username: String,
    pub password: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn verifications(&self) -> u64 {
        self.state.hasher.verifications()
    }

    /// A user with a permanent password in `partners`.
    pub async fn add_user(&self, username: &str, display_name: &str, password: &str) -> TestUser {
        self.add_user_in("partners", username, display_name, password, false)
            .await
    }

    /// A user in `domain`; `temporary` makes the password a temporary one
    /// (expiring after `temp_password_hours`).
    pub async fn add_user_in(
        &self,
        domain: &str,
        username: &str,
        display_name: &str,
        password: &str,
        temporary: bool,
    ) -> TestUser {
        let hash = latchkey_server::password::hash_blocking(password).expect("hash");
        let domain_id: i64 = sqlx::query("SELECT id FROM domains WHERE slug = $1")
            .bind(domain)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("domain exists")
            .get("id");
        let now = self.state.now();
        let expires = temporary.then(|| now + self.state.config.temp_password_secs());
        let mut conn = self.state.db.pool.acquire().await.expect("connection");
        let id = provisioning::insert_user(
            &mut conn,
            now,
            domain_id,
            &Username::parse(username).expect("valid user name"),
            display_name,
            None,
            &hash,
            expires,
        )
        .await
        .expect("user inserted");
        TestUser {
            id,
            domain: domain.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        domain: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url(paths::SESSION))
            .json(&SignInRequest {
                domain: domain.to_owned(),
                username: username.to_owned(),
                password: password.to_owned(),
            })
            .send()
            .await
            .expect("request sent")
    }

    pub async fn sign_in(&self, domain: &str, username: &str, password: &str) -> reqwest::Response {
        self.sign_in_with(&self.client, domain, username, password)
            .await
    }

    /// Signs `user` in on the app's client and asserts it worked.
    pub async fn sign_in_as(&self, user: &TestUser) -> SessionInfo {
        let response = self
            .sign_in(&user.domain, &user.username, &user.password)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "sign-in of {} failed",
            user.username
        );
        response.json().await.expect("SessionInfo")
    }

    pub async fn get_session_with(&self, client: &reqwest::Client) -> reqwest::Response {
        client
            .get(self.url(paths::SESSION))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_session(&self) -> reqwest::Response {
        self.get_session_with(&self.client).await
    }

    pub async fn sign_out_with(&self, client: &reqwest::Client) -> reqwest::Response {
        client
            .delete(self.url(paths::SESSION))
            .header(CSRF_HEADER, "1")
            .send()
            .await
            .expect("request sent")
    }

    pub async fn sign_out(&self) -> reqwest::Response {
        self.sign_out_with(&self.client).await
    }

    /// The current policy version of `domain`.
    pub async fn policy_version(&self, domain: &str) -> u32 {
        latchkey_server::db::domains::by_slug(&self.state.db, domain)
            .await
            .expect("query")
            .expect("domain exists")
            .policy
            .version
    }

    pub async fn change_password_with(
        &self,
        client: &reqwest::Client,
        current: &str,
        new: &str,
        confirm: &str,
        policy_version: u32,
    ) -> reqwest::Response {
        client
            .post(self.url(paths::CHANGE_PASSWORD))
            .json(&ChangePasswordRequest {
                current_password: current.to_owned(),
                new_password: new.to_owned(),
                confirm_password: confirm.to_owned(),
                policy_version,
            })
            .send()
            .await
            .expect("request sent")
    }

    /// Changes the password on the app's client with the domain's current
    /// policy version.
    pub async fn change_password(&self, current: &str, new: &str) -> reqwest::Response {
        let version = self.policy_version("partners").await;
        self.change_password_with(&self.client, current, new, new, version)
            .await
    }

    pub async fn probe_signed_in(&self, client: &reqwest::Client) -> reqwest::Response {
        client
            .get(self.url(SIGNED_IN_PROBE))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn set_policy(&self, domain: &str, policy: PasswordPolicy) -> u32 {
        provisioning::set_domain_policy(&self.state, domain, &policy)
            .await
            .expect("policy set")
    }

    /// Every audit event, oldest first, after writing the deferred ones (as
    /// the audit view does).
    pub async fn audit_events(&self) -> Vec<AuditRow> {
        self.state
            .flush_audit()
            .await
            .expect("deferred audit events written");
        sqlx::query(
            "SELECT kind, result, actor, subject, domain, detail FROM audit_events ORDER BY id",
        )
        .fetch_all(&self.state.db.pool)
        .await
        .expect("audit query")
        .into_iter()
        .map(|r| AuditRow {
            kind: r.get("kind"),
            result: r.get("result"),
            actor: r.get("actor"),
            subject: r.get("subject"),
            domain: r.get("domain"),
            detail: r.get("detail"),
        })
        .collect()
    }

    /// Failed sign-ins that lock an account of `domain`: its own threshold,
    /// else the server's (`lockout_threshold`).
    pub async fn threshold_of(&self, domain: &str) -> usize {
        let d = latchkey_server::db::domains::by_slug(&self.state.db, domain)
            .await
            .expect("query")
            .expect("domain exists");
        let policy = latchkey_server::accounts::lockout::LockoutPolicy::of(&d, &self.state.config);
        usize::try_from(policy.threshold).expect("a small threshold")
    }

    /// The server's threshold, which `partners` uses.
    pub fn threshold(&self) -> usize {
        usize::try_from(self.state.config.lockout_threshold).expect("a small threshold")
    }

    /// Locks `username` in `domain` the way an attacker would: wrong
    /// passwords until the threshold, each from a fresh client and each told
    /// "invalid credentials". Asserts the name is locked, reading the
    /// counter, so the check adds no attempt or audit row of its own.
    pub async fn lock_out(&self, domain: &str, username: &str) {
        for attempt in 1..=self.threshold_of(domain).await {
            let r = self
                .sign_in_with(&new_client(), domain, username, "wrong-password-guess")
                .await;
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "attempt {attempt} to lock {username} in {domain}"
            );
        }
        let locked: Option<i64> = sqlx::query(
            "SELECT fc.locked_at FROM failure_counters fc JOIN domains d ON d.id = fc.domain_id \
             WHERE d.slug = $1 AND fc.username_key = $2",
        )
        .bind(domain)
        .bind(latchkey_server::db::users::lookup_key(username))
        .fetch_optional(&self.state.db.pool)
        .await
        .expect("counter query")
        .and_then(|r| r.get("locked_at"));
        assert!(locked.is_some(), "{username} in {domain} is locked");
    }

    /// A new API key of the portal, stored as `POST /api/admin/api-keys`
    /// stores one (its hash and prefix) but without that request's audit
    /// row, so a test counting rows sees only its own. Returns the key, for
    /// `bearer_auth`.
    pub async fn add_portal_key(&self) -> String {
        let key = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind("portal")
        .bind(&key[..8])
        .bind(latchkey_server::accounts::portal::api_key_hash(&key))
        .bind(self.state.now())
        .bind("test")
        .execute(&self.state.db.pool)
        .await
        .expect("portal API key inserted");
        key
    }

    pub async fn password_hash(&self, user_id: i64) -> String {
        sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("user row")
            .get("password_hash")
    }
}
