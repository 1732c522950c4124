//! Upgrades: a database made by an older Latchkey (after migration 3, with
//! rows in every table it had) migrated forward by this one with nothing
//! lost; `latchkey migrate --check` changing nothing; a binary older than
//! its database refusing, in words, to touch it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use latchkey_server::db::migrations::{NewerDatabase, OLDER_BINARY_DOC};
use latchkey_server::Application;
use latchkey_shared::api::{paths, SessionInfo, SignInRequest, SESSION_COOKIE};
use latchkey_shared::self_service::{EnrolmentStatus, DEFAULT_QUESTIONS};
use reqwest::StatusCode;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::helpers::{fresh_database, new_client, test_config, Backend, TestDatabase, STRONG};

both_backends!(
    a_database_from_migration_3_upgrades_with_every_row_sign_in_session_and_enrolment_kept,
    a_binary_older_than_its_database_refuses_to_start_and_says_what_to_do,
);

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// The migration an "older Latchkey" stopped at.
const OLD: usize = 3;

/// Every table the schema had after migration 3.
const TABLES_AT_3: [&str; 14] = [
    "domains",
    "users",
    "password_history",
    "sessions",
    "failure_counters",
    "audit_events",
    "notices",
    "settings",
    "self_service_settings",
    "security_answers",
    "self_service_flows",
    "self_service_failures",
    "staff_domains",
    "api_keys",
];

fn latchkey(db_url: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("SSPM_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("SSPM_DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

fn migrations_dir(backend: Backend) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
}

async fn pool(db: &TestDatabase) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("the database opens")
}

/// The database as the release with only the first `n` migrations left it:
/// sqlx's own migrator over a copy of those files (so their checksums are
/// the ones this binary's migrator expects), in WAL mode on SQLite as
/// Latchkey keeps it.
async fn database_at_migration(backend: Backend, db: &TestDatabase, n: usize) -> AnyPool {
    let old = tempdir("latchkey-old-migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrations_dir(backend))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    for file in &files[..n] {
        std::fs::copy(file, old.join(file.file_name().unwrap())).unwrap();
    }
    let pool = pool(db).await;
    if backend == Backend::Sqlite {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::migrate::Migrator::new(old.clone())
        .await
        .expect("the old migrations read")
        .run(&pool)
        .await
        .expect("the old migrations run");
    std::fs::remove_dir_all(old).unwrap();
    pool
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// What the old release had written: a known password, a session still
/// open, an enrolment, an LRA, a portal key and the rest.
struct OldData {
    session_token: String,
    portal_key: String,
}

/// Rows in every table of migration 3, written with that schema's columns
/// (not today's code), as the old release would have.
async fn fill_as_of_migration_3(pool: &AnyPool) -> OldData {
    let t = now();
    let policy = serde_json::to_string(&latchkey_shared::PasswordPolicy::default()).unwrap();
    let domain_id: i64 = sqlx::query(
        "INSERT INTO domains (slug, name, sspm_available, unavailable_text, policy, policy_version, \
         lockout_threshold, lockout_minutes, created_at) \
         VALUES ($1, $2, $3, NULL, $4, 1, NULL, NULL, $5) RETURNING id",
    )
    .bind("partners")
    .bind("Partners")
    .bind(true)
    .bind(&policy)
    .bind(t - 86_400)
    .fetch_one(pool)
    .await
    .unwrap()
    .get("id");
    let hash = latchkey_server::password::hash_blocking(STRONG).unwrap();
    let mut users = Vec::new();
    for (name, role) in [("olduser", "user"), ("oldlra", "lra")] {
        let id: i64 = sqlx::query(
            "INSERT INTO users (domain_id, username, username_key, display_name, email, \
             password_hash, password_changed_at, temp_password, temp_password_expires_at, \
             must_change, disabled, role, created_at) \
             VALUES ($1, $2, $2, $3, $4, $5, $6, $7, NULL, $7, $7, $8, $6) RETURNING id",
        )
        .bind(domain_id)
        .bind(name)
        .bind(format!("Old {name}"))
        .bind(format!("{name}@example.org"))
        .bind(&hash)
        .bind(t - 3_600)
        .bind(false)
        .bind(role)
        .fetch_one(pool)
        .await
        .unwrap()
        .get("id");
        users.push(id);
    }
    let (user, lra) = (users[0], users[1]);
    sqlx::query("INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)")
        .bind(user)
        .bind(&hash)
        .bind(t - 3_600)
        .execute(pool)
        .await
        .unwrap();
    let (session_token, session_id) = latchkey_server::accounts::session::new_token();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, must_change, reauth_at) \
         VALUES ($1, $2, $3, $3, $4, $3)",
    )
    .bind(&session_id)
    .bind(user)
    .bind(t)
    .bind(false)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO failure_counters (domain_id, username_key, failed_count, locked_at, updated_at) \
         VALUES ($1, $2, 2, NULL, $3)",
    )
    .bind(domain_id)
    .bind("someone")
    .bind(t)
    .execute(pool)
    .await
    .unwrap();
    for (i, kind) in ["sign_in", "password.change", "self_service.enrolment"]
        .iter()
        .enumerate()
    {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, subject, domain, source_ip, result, detail) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7)",
        )
        .bind(t - 100 + i64::try_from(i).unwrap())
        .bind(*kind)
        .bind("olduser")
        .bind("partners")
        .bind("192.0.2.7")
        .bind("success")
        .bind(format!("row {i} of the old release"))
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO notices (title, body, posted_on, published, sort_order, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind("Maintenance")
    .bind("Saturday night.")
    .bind("2025-01-31")
    .bind(true)
    .bind(t)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind("upgrade_test")
        .bind("written by the old release")
        .execute(pool)
        .await
        .unwrap();
    let settings =
        serde_json::to_string(&latchkey_shared::self_service::SelfServiceSettings::default())
            .unwrap();
    sqlx::query("INSERT INTO self_service_settings (domain_id, settings) VALUES ($1, $2)")
        .bind(domain_id)
        .bind(&settings)
        .execute(pool)
        .await
        .unwrap();
    for (position, question) in DEFAULT_QUESTIONS.iter().take(3).enumerate() {
        sqlx::query(
            "INSERT INTO security_answers (user_id, position, question, answer_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user)
        .bind(i64::try_from(position).unwrap())
        .bind(*question)
        // One hash for the three: what is kept is checked, not the answers.
        .bind(&hash)
        .bind(t - 1_800)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO self_service_flows (id, kind, domain_id, step, username_key, user_id, \
         questions, positions, verified, captcha_hash, captcha_expires_at, captcha_attempts, \
         created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, NULL, NULL, 0, $8, $9)",
    )
    .bind("0".repeat(64))
    .bind("unlock")
    .bind(domain_id)
    .bind("identify")
    .bind("olduser")
    .bind(user)
    .bind(false)
    .bind(t)
    .bind(t + 300)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO self_service_failures (domain_id, username_key, failed_count, window_start, \
         blocked_at, updated_at) VALUES ($1, $2, 1, $3, NULL, $3)",
    )
    .bind(domain_id)
    .bind("olduser")
    .bind(t)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO staff_domains (user_id, domain_id) VALUES ($1, $2)")
        .bind(lra)
        .bind(domain_id)
        .execute(pool)
        .await
        .unwrap();
    let portal_key = format!("lk_old_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind("portal")
    .bind(&portal_key[..8])
    .bind(latchkey_server::accounts::portal::api_key_hash(&portal_key))
    .bind(t)
    .bind("oldadmin")
    .execute(pool)
    .await
    .unwrap();
    OldData {
        session_token,
        portal_key,
    }
}

async fn row_counts(pool: &AnyPool) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES_AT_3 {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
            .get("n");
        counts.push((table, n));
    }
    counts
}

/// Every audit row, every column, as text.
async fn audit_rows(pool: &AnyPool) -> Vec<Vec<Option<String>>> {
    sqlx::query(
        "SELECT id, at, kind, actor, subject, domain, source_ip, result, detail \
         FROM audit_events ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        let mut row = vec![
            Some(r.get::<i64, _>("id").to_string()),
            Some(r.get::<i64, _>("at").to_string()),
        ];
        for column in [
            "kind",
            "actor",
            "subject",
            "domain",
            "source_ip",
            "result",
            "detail",
        ] {
            row.push(r.get::<Option<String>, _>(column));
        }
        row
    })
    .collect()
}

async fn applied_migrations(pool: &AnyPool) -> Vec<(i64, String, Vec<u8>)> {
    sqlx::query("SELECT version, description, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("version"), r.get("description"), r.get("checksum")))
        .collect()
}

fn sqlite_file(backend: Backend, db: &TestDatabase) -> Option<PathBuf> {
    (backend == Backend::Sqlite).then(|| {
        PathBuf::from(
            db.url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap(),
        )
    })
}

async fn output(cmd: &mut tokio::process::Command) -> (bool, String, String) {
    let out = cmd.output().await.expect("latchkey runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn a_database_from_migration_3_upgrades_with_every_row_sign_in_session_and_enrolment_kept(
    backend: Backend,
) {
    let db = fresh_database(backend).await;
    let old_pool = database_at_migration(backend, &db, OLD).await;
    let old = fill_as_of_migration_3(&old_pool).await;
    let counts = row_counts(&old_pool).await;
    assert!(counts.iter().all(|(_, n)| *n > 0), "{counts:?}");
    let audit = audit_rows(&old_pool).await;
    let migrations_before = applied_migrations(&old_pool).await;
    assert_eq!(migrations_before.len(), OLD);
    old_pool.close().await;

    // `migrate --check` lists what would run and changes nothing: not the
    // file, not the table of migrations.
    let file = sqlite_file(backend, &db);
    let bytes_before = file.as_ref().map(|f| std::fs::read(f).unwrap());
    let (ok, said, err) = output(latchkey(&db.url).args(["migrate", "--check"])).await;
    assert!(ok, "{err}");
    let ours: Vec<_> = latchkey_server::db::migrator(match backend {
        Backend::Sqlite => latchkey_server::db::Backend::Sqlite,
        Backend::Postgres => latchkey_server::db::Backend::Postgres,
    })
    .iter()
    .collect();
    let would_run = ours.len() - OLD;
    assert!(
        said.starts_with(&format!(
            "{would_run} migrations would run (the database is at migration 3 (admin)):"
        )),
        "{said}"
    );
    for m in &ours[OLD..] {
        assert!(
            said.contains(&format!("{:>4}  {}", m.version, m.description)),
            "{said}"
        );
    }
    assert!(
        !said.contains("   3  admin"),
        "applied ones are not listed: {said}"
    );
    if let (Some(file), Some(before)) = (&file, &bytes_before) {
        assert_eq!(
            &std::fs::read(file).unwrap(),
            before,
            "the file is unchanged"
        );
        // A backup taken now, with this newer binary installed, is of the
        // old schema: it is what a rollback restores.
        let backup = std::env::temp_dir().join(format!(
            "latchkey-before-upgrade-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let (ok, _, err) = output(latchkey(&db.url).args(["backup", "--to"]).arg(&backup)).await;
        assert!(ok, "{err}");
        let copy = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", backup.display()))
            .await
            .unwrap();
        assert_eq!(applied_migrations(&copy).await, migrations_before);
        copy.close().await;
        let _ = std::fs::remove_file(&backup);
    }
    let check_pool = pool(&db).await;
    assert_eq!(applied_migrations(&check_pool).await, migrations_before);
    check_pool.close().await;

    // The current binary migrates it forward as it starts.
    let app = Application::build(test_config(&db.url))
        .await
        .expect("the old database upgrades");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let pool = &state.db.pool;
    assert_eq!(applied_migrations(pool).await.len(), ours.len());
    assert_eq!(
        applied_migrations(pool).await[..OLD],
        migrations_before[..],
        "the old rows of _sqlx_migrations are untouched"
    );
    assert_eq!(row_counts(pool).await, counts, "no row lost");
    assert_eq!(audit_rows(pool).await, audit, "every audit row as it was");

    // The session opened before the upgrade is still open, and the
    // enrolment is there.
    let client = new_client();
    let cookie = format!("{SESSION_COOKIE}={}", old.session_token);
    let r = client
        .get(format!("{base}{}", paths::SESSION))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let info: SessionInfo = r.json().await.unwrap();
    assert_eq!(info.user.username, "olduser");
    let r = client
        .get(format!(
            "{base}{}",
            latchkey_shared::self_service::paths::ENROLMENT
        ))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let enrolment: EnrolmentStatus = r.json().await.unwrap();
    assert!(enrolment.enrolled);
    assert_eq!(enrolment.questions, DEFAULT_QUESTIONS[..3]);

    // The password set before the upgrade signs in, and the portal's key
    // still opens the verification API.
    let r = new_client()
        .post(format!("{base}{}", paths::SESSION))
        .json(&SignInRequest {
            domain: "partners".into(),
            username: "olduser".into(),
            password: STRONG.into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = new_client()
        .post(format!(
            "{base}{}",
            latchkey_shared::admin::paths::PORTAL_VERIFY
        ))
        .bearer_auth(&old.portal_key)
        .json(&latchkey_shared::admin::PortalVerifyRequest {
            domain: "partners".into(),
            username: "oldlra".into(),
            password: STRONG.into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    let (ok, said, err) = output(latchkey(&db.url).args(["migrate", "--check"])).await;
    assert!(ok, "{err}");
    assert!(
        said.starts_with("The database is up to date: migration"),
        "{said}"
    );
}

async fn a_binary_older_than_its_database_refuses_to_start_and_says_what_to_do(backend: Backend) {
    let db = fresh_database(backend).await;
    let (ok, said, err) = output(latchkey(&db.url).arg("migrate")).await;
    assert!(ok, "{err}");
    assert!(said.contains("Applied migration 1 (initial)"), "{said}");
    let (ok, said, err) = output(latchkey(&db.url).arg("migrate")).await;
    assert!(ok, "{err}");
    assert!(
        !said.contains("Applied"),
        "the same command twice applies nothing: {said}"
    );

    // A newer Latchkey's migration, as it would have recorded it.
    let pool = pool(&db).await;
    let future = applied_migrations(&pool).await.last().unwrap().0 + 1;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, $3, $4, 1)",
    )
    .bind(future)
    .bind("from the future")
    .bind(true)
    .bind(vec![0u8; 48])
    .execute(&pool)
    .await
    .unwrap();
    let before = applied_migrations(&pool).await;
    pool.close().await;

    for args in [&["serve"][..], &["migrate"], &["migrate", "--check"]] {
        let (ok, said, err) = output(
            latchkey(&db.url)
                .args(args)
                .env("SSPM_LISTEN", "127.0.0.1:0")
                .env("SSPM_STATIC_DIR", "/nonexistent-latchkey-static"),
        )
        .await;
        assert!(!ok, "{args:?} must not run: {said}");
        assert!(
            err.contains(&format!(
                "this database was upgraded by a newer Latchkey: it has migration {future} \
                 (from the future)"
            )),
            "{args:?}: {err}"
        );
        assert!(err.contains(OLDER_BINARY_DOC), "{args:?}: {err}");
        assert!(!err.contains("previously applied"), "{args:?}: {err}");
    }

    // The library says the same, as a type.
    let e = latchkey_server::db::Db::connect(&db.url).await.unwrap_err();
    let newer = e.downcast_ref::<NewerDatabase>().expect("a NewerDatabase");
    assert_eq!(newer.unknown.version, future);

    let pool = self::pool(&db).await;
    assert_eq!(
        applied_migrations(&pool).await,
        before,
        "nothing was changed"
    );
    pool.close().await;
}

/// `migrate --check` on a SQLite file that is not there says every
/// migration would run, and does not create it (nor its directory).
#[tokio::test]
async fn migrate_check_on_a_missing_sqlite_file_creates_nothing() {
    let dir = std::env::temp_dir().join(format!(
        "latchkey-missing-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}/latchkey.db?mode=rwc", dir.display());
    let (ok, said, err) = output(latchkey(&url).args(["migrate", "--check"])).await;
    assert!(ok, "{err}");
    assert!(said.starts_with("The database is new:"), "{said}");
    assert!(said.contains("   1  initial"), "{said}");
    assert!(!dir.exists(), "nothing created");
}
