//! The `latchkey` binary: `domain create`, `user create`, `demo`, `serve`.

use std::process::Stdio;
use std::time::Duration;

use latchkey_shared::api::SessionInfo;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{fresh_database, new_client, test_config, Backend};

both_backends!(
    the_cli_creates_a_domain_and_a_user_whose_temporary_password_signs_in,
    the_demo_command_seeds_only_an_empty_database,
    serve_with_demo_prints_the_demo_user_once_and_then_the_address,
    the_cli_sets_a_domains_second_factor_and_a_new_secret_key_is_one,
);

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

pub(crate) fn latchkey(db_url: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    // Only the settings of this test, whatever the environment holds.
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

pub(crate) async fn run_ok(cmd: &mut tokio::process::Command) -> String {
    let out = cmd.output().await.expect("latchkey runs");
    assert!(
        out.status.success(),
        "latchkey failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn the_cli_creates_a_domain_and_a_user_whose_temporary_password_signs_in(backend: Backend) {
    let db = fresh_database(backend).await;
    run_ok(latchkey(&db.url).args(["domain", "create", "--slug", "acme", "--name", "Acme"])).await;
    let out = run_ok(latchkey(&db.url).args([
        "user",
        "create",
        "--domain",
        "acme",
        "--username",
        "jdoe",
        "--display-name",
        "John Doe",
    ]))
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the temporary password: {out:?}");
    let temp = lines[0].to_owned();
    assert!(temp.chars().count() >= 16, "{temp}");

    // A second domain with the same slug is refused.
    let dup = latchkey(&db.url)
        .args(["domain", "create", "--slug", "acme", "--name", "Again"])
        .output()
        .await
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));

    let app = latchkey_server::Application::build(test_config(&db.url))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let response = new_client()
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({"domain": "acme", "username": "jdoe", "password": temp}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert!(info.must_change_password);
    assert_eq!(info.user.display_name, "John Doe");

    let kinds: Vec<String> = sqlx::query("SELECT kind FROM audit_events ORDER BY id")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::get(r, "kind"))
        .collect();
    assert!(kinds.contains(&"cli.domain_create".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"cli.user_create".to_owned()), "{kinds:?}");
}

async fn the_demo_command_seeds_only_an_empty_database(backend: Backend) {
    let db = fresh_database(backend).await;
    let out = run_ok(latchkey(&db.url).arg("demo")).await;
    assert!(
        out.starts_with("Demo user: domain=partners username=demo temporary password="),
        "{out}"
    );
    let again = run_ok(latchkey(&db.url).arg("demo")).await;
    assert_eq!(again, "", "nothing seeded the second time");
}

/// Starts `latchkey serve`; returns the child, the lines printed before the
/// listening line, and the address.
async fn start_serve(db_url: &str) -> (tokio::process::Child, Vec<String>, String) {
    let mut child = latchkey(db_url)
        .arg("serve")
        .env("SSPM_LISTEN", "127.0.0.1:0")
        .env("SSPM_DEMO", "true")
        .env("SSPM_STATIC_DIR", "/nonexistent-latchkey-static")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("latchkey serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut before = Vec::new();
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("serve exited early");
            if let Some(addr) = line.strip_prefix("Latchkey listening on ") {
                return addr.to_owned();
            }
            before.push(line);
        }
    })
    .await
    .expect("the listening line within 60 s");
    (child, before, address)
}

async fn serve_with_demo_prints_the_demo_user_once_and_then_the_address(backend: Backend) {
    let db = fresh_database(backend).await;
    let (mut child, before, address) = start_serve(&db.url).await;
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    // The demo user first; then (issue 3) the enrolled user; then (issue 5)
    // the LRA of Partners and the administrator, each once.
    assert!(before.len() >= 3, "{before:?}");
    for (prefix, role) in [
        (
            "Demo LRA (Partners): domain=partners username=lra temporary password=",
            "lra",
        ),
        (
            "Demo administrator: domain=partners username=admin temporary password=",
            "admin",
        ),
    ] {
        let line = before.iter().find(|l| l.starts_with(prefix)).expect(prefix);
        let password = line.strip_prefix(prefix).unwrap();
        let username = if role == "lra" { "lra" } else { "admin" };
        let response = new_client()
            .post(format!("{address}/api/session"))
            .json(&serde_json::json!({"domain": "partners", "username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let info: serde_json::Value = response.json().await.unwrap();
        assert_eq!(info["role"], role, "{info}");
    }
    let temp = before[0]
        .strip_prefix("Demo user: domain=partners username=demo temporary password=")
        .expect("the demo user line")
        .to_owned();

    let response = new_client()
        .post(format!("{address}/api/session"))
        .json(&serde_json::json!({"domain": "partners", "username": "demo", "password": temp}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert!(info.must_change_password);
    assert_eq!(info.user.display_name, "Demo User");
    child.kill().await.unwrap();

    // The next start finds data and seeds nothing.
    let (mut child, before, _) = start_serve(&db.url).await;
    assert!(before.is_empty(), "{before:?}");
    child.kill().await.unwrap();
}

async fn the_cli_sets_a_domains_second_factor_and_a_new_secret_key_is_one(backend: Backend) {
    use latchkey_shared::self_service::SecondFactor;
    let db = fresh_database(backend).await;
    run_ok(latchkey(&db.url).args(["domain", "create", "--slug", "acme", "--name", "Acme"])).await;
    let out = run_ok(latchkey(&db.url).args([
        "domain",
        "second-factor",
        "--slug",
        "acme",
        "--factor",
        "with-questions",
    ]))
    .await;
    assert!(out.contains("with-questions"), "{out}");
    let bad = latchkey(&db.url)
        .args([
            "domain",
            "second-factor",
            "--slug",
            "acme",
            "--factor",
            "sometimes",
        ])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("off, with-questions or only"));
    let state = latchkey_server::AppState::new(
        test_config(&db.url),
        std::sync::Arc::new(latchkey_server::SystemClock),
    )
    .await
    .unwrap();
    let domain = latchkey_server::db::domains::by_slug(&state.db, "acme")
        .await
        .unwrap()
        .unwrap();
    let settings = latchkey_server::accounts::self_service::checks::settings(&state.db, domain.id)
        .await
        .unwrap();
    assert_eq!(settings.second_factor, SecondFactor::WithQuestions);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE kind = 'cli.domain_second_factor' AND detail = 'with_questions'",
    )
    .fetch_one(&state.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let key = run_ok(latchkey(&db.url).arg("secret-key")).await;
    assert!(latchkey_server::password::secret_box::SecretBox::from_base64(key.trim()).is_ok());
    assert_ne!(key, run_ok(latchkey(&db.url).arg("secret-key")).await);
}

/// `latchkey backup` beside a running server: the copy opens as a
/// database of its own, where the person still signs in with their
/// password, is still enrolled, and every audit row written before the
/// backup is there (a plain `cp` of a WAL database loses the last ones).
#[tokio::test]
async fn a_backup_taken_while_the_server_serves_restores_sign_ins_enrolments_and_audit() {
    use latchkey_server::{Application, MockClock};
    use secrecy::ExposeSecret;

    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let user = crate::self_service::enrolled_user(&app).await;
    for _ in 0..3 {
        app.sign_in("partners", &user.username, "wrong-password-1")
            .await;
    }
    let audited = app.audit_events().await.len();
    let url = app.state.config.database_url.expose_secret().to_owned();
    let backup = std::env::temp_dir().join(format!(
        "latchkey-backup-{}.db",
        uuid::Uuid::new_v4().simple()
    ));

    let said = run_ok(latchkey(&url).args(["backup", "--to"]).arg(&backup)).await;
    assert!(said.contains("Backed up to"), "{said}");
    // Never over a file that exists: a second backup to it is refused.
    let again = latchkey(&url)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let empty = latchkey(&url)
        .args(["backup", "--to", ""])
        .output()
        .await
        .unwrap();
    assert!(!empty.status.success(), "an empty path keeps nothing");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("--to"));

    let restored_url = format!("sqlite://{}", backup.display());
    let restored = Application::build_with_clock(
        test_config(&restored_url),
        std::sync::Arc::new(MockClock::new(crate::helpers::T0)),
    )
    .await
    .expect("the backup opens as a database");
    let base = format!("http://{}", restored.local_addr());
    let state = restored.state().clone();
    tokio::spawn(restored.run_until_stopped());
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, i64::try_from(audited).unwrap(), "every audit row");
    let enrolled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM security_answers WHERE user_id = $1")
            .bind(user.id)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    assert!(enrolled > 0, "the enrolment is in the copy");
    let r = new_client()
        .post(format!("{base}{}", latchkey_shared::api::paths::SESSION))
        .json(&latchkey_shared::api::SignInRequest {
            domain: "partners".into(),
            username: user.username.clone(),
            password: user.password.clone(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let _ = std::fs::remove_file(&backup);
}

/// PostgreSQL is backed up with its own tool: the command says so.
#[tokio::test]
async fn a_backup_of_postgresql_points_to_pg_dump() {
    let db = fresh_database(Backend::Postgres).await;
    let to = std::env::temp_dir().join(format!("latchkey-pg-{}.db", uuid::Uuid::new_v4()));
    let out = latchkey(&db.url)
        .args(["backup", "--to"])
        .arg(&to)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!to.exists());
}

/// `log_format = "json"`: every log line is one JSON object a log shipper
/// reads, with its level and fields; the default stays text, and an
/// unknown format stops the start with the key named.
#[tokio::test]
async fn log_format_json_writes_one_json_object_a_line() {
    let db = fresh_database(Backend::Sqlite).await;
    let run = |format: &'static str| {
        let url = db.url.clone();
        async move {
            let out = latchkey(&url)
                .env("SSPM_LOG_FORMAT", format)
                .env("RUST_LOG", "debug")
                .args(["domain", "create", "--slug"])
                .arg(format!("logs{format}"))
                .args(["--name", "Logs"])
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stderr).into_owned()
        }
    };
    // The command's own words ("Created domain ...") are not log lines.
    let is_text_log = |l: &str| {
        [" DEBUG ", " INFO ", " WARN "]
            .iter()
            .any(|level| l.contains(level))
    };
    let json = run("json").await;
    let lines: Vec<&str> = json.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!lines.is_empty(), "debug logging writes something: {json}");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(!json.lines().any(is_text_log), "{json}");
    let text = run("text").await;
    assert!(text.lines().any(is_text_log), "the default is text: {text}");
    assert!(!text.lines().any(|l| l.starts_with('{')), "{text}");

    let bad = latchkey(&db.url)
        .env("SSPM_LOG_FORMAT", "xml")
        .args(["domain", "create", "--slug", "nope", "--name", "Nope"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .to_lowercase()
            .contains("log_format"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// `latchkey --version` prints the version the changelog and the package
/// carry.
#[tokio::test]
async fn the_binary_says_its_version() {
    let out = latchkey("sqlite::memory:")
        .arg("--version")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("latchkey {}", env!("CARGO_PKG_VERSION"))
    );
    let changelog = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../CHANGELOG.md"),
    )
    .unwrap();
    assert!(
        changelog.contains(env!("CARGO_PKG_VERSION")),
        "CHANGELOG.md names the version"
    );
}
