//! Several stateless `latchkey` processes on one PostgreSQL: everything that
//! matters (sessions, failure counts, locks) lives in the database, so it
//! does not matter which instance a request reaches.

use std::process::Command;

use anyhow::{ensure, Context, Result};
use latchkey_e2e::Server;
use latchkey_shared::api::{paths, ErrorCode, SignInRequest, CSRF_HEADER, SESSION_COOKIE};
use latchkey_testkit::postgres;
use reqwest::StatusCode;
use sqlx::{Connection, Row};

const INSTANCES: usize = 3;

struct Cluster {
    servers: Vec<Server>,
    db_url: String,
    http: reqwest::Client,
}

impl Cluster {
    async fn start() -> Result<Cluster> {
        let db_url = postgres::create_database().await;
        // The first instance migrates; the others find the schema in place.
        let mut servers = vec![Server::start(&db_url, &[])?];
        for _ in 1..INSTANCES {
            servers.push(Server::start(&db_url, &[])?);
        }
        Ok(Cluster {
            servers,
            db_url,
            http: reqwest::Client::new(),
        })
    }

    /// Instances of the `test-hooks` build (CAPTCHAs readable); the first
    /// one seeds the demo data, including the enrolled demo user.
    async fn start_with_hooks_and_demo() -> Result<Cluster> {
        let db_url = postgres::create_database().await;
        let bin = latchkey_e2e::hooks_binary()?;
        let mut servers = vec![Server::start_bin(
            bin.clone(),
            &db_url,
            &[("SSPM_DEMO", "true")],
        )?];
        for _ in 1..INSTANCES {
            servers.push(Server::start_bin(bin.clone(), &db_url, &[])?);
        }
        Ok(Cluster {
            servers,
            db_url,
            http: reqwest::Client::new(),
        })
    }

    /// The characters of the CAPTCHA `instance` issued for `flow`.
    async fn captcha(&self, instance: usize, flow: &str) -> Result<String> {
        let r = self
            .http
            .get(self.servers[instance].url(&format!("/api/test-hooks/captcha/{flow}")))
            .send()
            .await?;
        ensure!(
            r.status() == StatusCode::OK,
            "captcha hook on instance {instance}: {}",
            r.status()
        );
        Ok(r.text().await?)
    }

    async fn post<B: serde::Serialize>(
        &self,
        instance: usize,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response> {
        Ok(self
            .http
            .post(self.servers[instance].url(path))
            .header(CSRF_HEADER, "1")
            .json(body)
            .send()
            .await?)
    }

    /// Runs the `latchkey` CLI against the shared database; returns stdout.
    fn cli(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(latchkey_e2e::server_binary()?)
            .args(args)
            .env("SSPM_DATABASE_URL", &self.db_url)
            .output()
            .context("run latchkey")?;
        ensure!(
            out.status.success(),
            "latchkey {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }

    async fn sign_in(
        &self,
        instance: usize,
        username: &str,
        password: &str,
    ) -> Result<reqwest::Response> {
        let body = SignInRequest {
            domain: "partners".into(),
            username: username.into(),
            password: password.into(),
        };
        Ok(self
            .http
            .post(self.servers[instance % INSTANCES].url(paths::SESSION))
            .header(CSRF_HEADER, "1")
            .json(&body)
            .send()
            .await?)
    }

    async fn session_status(&self, instance: usize, cookie: &str) -> Result<StatusCode> {
        Ok(self
            .http
            .get(self.servers[instance % INSTANCES].url(paths::SESSION))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await?
            .status())
    }

    /// Failed password checks recorded for `username`: every check that ran
    /// argon2 and failed writes one `failure` audit event.
    async fn failed_checks(&self, username: &str) -> Result<i64> {
        let mut conn = sqlx::postgres::PgConnection::connect(&self.db_url).await?;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_events WHERE subject = $1 AND result = 'failure'",
        )
        .bind(username)
        .fetch_one(&mut conn)
        .await?
        .try_get("n")?;
        Ok(n)
    }
}

async fn code(response: reqwest::Response) -> Result<(StatusCode, ErrorCode)> {
    let status = response.status();
    let error: latchkey_shared::api::ApiError = response.json().await?;
    Ok((status, error.code))
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION_COOKIE))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_on_one_postgresql_share_locks_sessions_and_sign_out() -> Result<()> {
    let cluster = Cluster::start().await?;
    cluster.cli(&[
        "domain", "create", "--slug", "partners", "--name", "Partners",
    ])?;
    let ada = cluster.cli(&[
        "user",
        "create",
        "--domain",
        "partners",
        "--username",
        "ada",
        "--display-name",
        "Ada",
    ])?;
    cluster.cli(&[
        "user",
        "create",
        "--domain",
        "partners",
        "--username",
        "bob",
        "--display-name",
        "Bob",
    ])?;

    // Failures spread over the instances lock at exactly five.
    for attempt in 0..5 {
        let r = cluster
            .sign_in(attempt, "bob", "not-the-password-at-all")
            .await?;
        ensure!(
            code(r).await? == (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            "attempt {}",
            attempt + 1
        );
    }
    let sixth = cluster.sign_in(5, "bob", "not-the-password-at-all").await?;
    ensure!(
        code(sixth).await? == (StatusCode::LOCKED, ErrorCode::AccountLocked),
        "the 6th attempt is locked out"
    );
    ensure!(cluster.failed_checks("bob").await? == 5);

    // A session made on one instance works on the others; sign-out on one
    // ends it everywhere.
    let r = cluster.sign_in(0, "ada", &ada).await?;
    ensure!(r.status() == StatusCode::OK, "ada signs in: {}", r.status());
    let cookie = session_cookie(&r).context("a session cookie")?;
    for i in 0..INSTANCES {
        ensure!(
            cluster.session_status(i, &cookie).await? == StatusCode::OK,
            "session on instance {i}"
        );
    }
    let out = cluster
        .http
        .delete(cluster.servers[1].url(paths::SESSION))
        .header(CSRF_HEADER, "1")
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?;
    ensure!(out.status().is_success(), "sign-out: {}", out.status());
    for i in 0..INSTANCES {
        ensure!(
            cluster.session_status(i, &cookie).await? == StatusCode::UNAUTHORIZED,
            "ended on instance {i}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_wrong_sign_ins_over_the_instances_get_at_most_five_password_checks(
) -> Result<()> {
    let cluster = Cluster::start().await?;
    cluster.cli(&[
        "domain", "create", "--slug", "partners", "--name", "Partners",
    ])?;
    cluster.cli(&[
        "user",
        "create",
        "--domain",
        "partners",
        "--username",
        "eve",
        "--display-name",
        "Eve",
    ])?;

    let attempts = (0..50).map(|i| cluster.sign_in(i, "eve", "guess-guess-guess-guess"));
    let responses = futures::future::join_all(attempts).await;
    let mut unauthorized = 0;
    let mut locked = 0;
    for r in responses {
        match code(r?).await? {
            (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials) => unauthorized += 1,
            (StatusCode::LOCKED, ErrorCode::AccountLocked) => locked += 1,
            other => anyhow::bail!("unexpected answer {other:?}"),
        }
    }
    let checks = cluster.failed_checks("eve").await?;
    ensure!(checks <= 5, "{checks} password checks ran");
    ensure!(
        unauthorized <= 5 && unauthorized + locked == 50,
        "{unauthorized} refused, {locked} locked"
    );
    let after = cluster.sign_in(0, "eve", "guess-guess-guess-guess").await?;
    ensure!(code(after).await?.1 == ErrorCode::AccountLocked);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unlock_flow_started_on_one_instance_finishes_on_the_others() -> Result<()> {
    use latchkey_shared::self_service::{
        paths as ss, AnswersRequest, CaptchaChallenge, FinishRequest, FinishResponse, FlowKind,
        FlowStarted, IdentifyRequest, QuestionsStep, StartFlowRequest,
    };
    let cluster = Cluster::start_with_hooks_and_demo().await?;
    let (password, answers) = cluster.servers[0].demo_enrolled()?;
    for attempt in 0..6 {
        cluster
            .sign_in(attempt, "enrolled", "wrong-wrong-wrong-wrong")
            .await?;
    }
    let r = cluster.sign_in(1, "enrolled", &password).await?;
    ensure!(
        code(r).await?.1 == ErrorCode::AccountLocked,
        "locked before the flow"
    );

    // Start on instance 0...
    let started: FlowStarted = cluster
        .post(
            0,
            ss::FLOWS,
            &StartFlowRequest {
                kind: FlowKind::Unlock,
                domain: "partners".into(),
            },
        )
        .await?
        .json()
        .await?;
    let id = started.flow_id;
    let first = cluster.captcha(0, &id).await?;
    // ...identify on 1...
    let r = cluster
        .post(
            1,
            &ss::flow(ss::FLOW_IDENTIFY, &id),
            &IdentifyRequest {
                username: "enrolled".into(),
                captcha: first,
            },
        )
        .await?;
    ensure!(
        r.status() == StatusCode::OK,
        "identify on instance 1: {}",
        r.status()
    );
    let questions: QuestionsStep = r.json().await?;
    let mine: Vec<String> = questions
        .questions
        .iter()
        .map(|q| {
            answers
                .iter()
                .find(|(question, _)| question == q)
                .map(|(_, a)| a.clone())
                .context("an enrolled question")
        })
        .collect::<Result<_>>()?;
    // ...answer on 2 (which issues the second CAPTCHA)...
    let r = cluster
        .post(
            2,
            &ss::flow(ss::FLOW_ANSWERS, &id),
            &AnswersRequest {
                answers: mine,
                code: None,
            },
        )
        .await?;
    ensure!(
        r.status() == StatusCode::OK,
        "answers on instance 2: {}",
        r.status()
    );
    let _second: CaptchaChallenge = r.json().await?;
    let second = cluster.captcha(2, &id).await?;
    // ...and finish on 0.
    let r = cluster
        .post(
            0,
            &ss::flow(ss::FLOW_FINISH, &id),
            &FinishRequest { captcha: second },
        )
        .await?;
    ensure!(
        r.status() == StatusCode::OK,
        "finish on instance 0: {}",
        r.status()
    );
    ensure!(matches!(
        r.json::<FinishResponse>().await?,
        FinishResponse::Unlocked { .. }
    ));

    let r = cluster.sign_in(1, "enrolled", &password).await?;
    ensure!(
        r.status() == StatusCode::OK,
        "signs in after the unlock: {}",
        r.status()
    );
    Ok(())
}
