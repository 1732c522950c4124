//! End-to-end on a directory-backed domain: the domain "Corp (OpenLDAP)"
//! keeps its passwords in a real OpenLDAP with the ppolicy overlay (a
//! throwaway `slapd` from the testkit's fixtures, `latchkey_testkit::slapd`),
//! configured as `scripts/demo/ldap.sh` does (`[directories.corp]`, then
//! `latchkey domain create --directory corp`). Every seed flow runs in the
//! PWA in headless Chromium: sign in and enrol, Change Password (checked in
//! the directory with `ldapwhoami`), a change the directory's history
//! refuses (its message shown), the lock after 5 wrong passwords, Unlock
//! Account through both CAPTCHAs and the questions, Forgot Password (the new
//! password binds in the directory). The server is the copy built with the
//! `test-hooks` feature (`target/debug/latchkey-test-hooks`, made by
//! `./x test`), whose `/api/test-hooks/captcha-latest` reveals the CAPTCHA.
//! Screenshots: `target/e2e-screenshots/dir-*`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use fantoccini::Locator;
use latchkey_e2e::{hooks_binary, Browser, Server, TempDir};
use latchkey_testkit::slapd::{user_dn, Slapd, ALICE_PASSWORD};

const DOMAIN: &str = "corp";
const DOMAIN_NAME: &str = "Corp (OpenLDAP)";
const FIRST: &str = "correct horse battery staple orbit";
const SECOND: &str = "lantern quiver marble tundra swift";
const RESET: &str = "velvet comet saddle harbour meadow";

/// The server (test-hooks build) with the demo data and `corp` backed by
/// `slapd`; the temporary directory holds its configuration and database.
struct Product {
    server: Server,
    db_url: String,
    _dir: TempDir,
}

fn latchkey(bin: &Path, config: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("run {}", bin.display()))?;
    ensure!(
        out.status.success(),
        "latchkey {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start_product(slapd: &Slapd) -> Result<Product> {
    let bin = hooks_binary()?;
    let dir = TempDir::new("lk-e2e-directory")?;
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("latchkey.db").display()
    );
    let config = dir.path().join("latchkey.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{db_url}\"\n\n{}",
            slapd.config_section(DOMAIN)
        ),
    )?;
    // The directory answers with the service account and finds alice.
    let said = latchkey(
        &bin,
        &config,
        &["directory", "test", "--name", DOMAIN, "--user", "alice"],
    )?;
    ensure!(said.contains("Alice Example"), "directory test: {said}");
    latchkey(&bin, &config, &["demo"])?;
    latchkey(
        &bin,
        &config,
        &[
            "domain",
            "create",
            "--slug",
            DOMAIN,
            "--name",
            DOMAIN_NAME,
            "--directory",
            DOMAIN,
        ],
    )?;
    let server = Server::start_bin_with_config(bin, Some(&config), &db_url, &[])?;
    Ok(Product {
        server,
        db_url,
        _dir: dir,
    })
}

async fn captcha_answer(server: &Server) -> Result<String> {
    let r = reqwest::get(server.url("/api/test-hooks/captcha-latest")).await?;
    ensure!(r.status().is_success(), "test hook answered {}", r.status());
    Ok(r.text().await?)
}

/// The user name, the first CAPTCHA, the questions and the second CAPTCHA
/// of Unlock Account and Forgot Password.
async fn verify(
    b: &Browser,
    server: &Server,
    username: &str,
    answers: &[(String, String)],
    prefix: &str,
) -> Result<()> {
    b.find("#captcha-image").await?;
    let heading = b.text("#ss-heading").await?;
    b.type_into("#ss-username", username).await?;
    // "New image" gives another challenge; use the latest one.
    b.click("#captcha-new").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    b.type_into("#captcha-input", &captcha_answer(server).await?)
        .await?;
    b.screenshots(&format!("{prefix}-1-user-name-and-captcha"))
        .await?;
    b.click("#ss-continue").await?;

    b.find("#questions .question").await?;
    let labels = b
        .client
        .find_all(Locator::Css("#questions .question label"))
        .await?;
    ensure!(labels.len() == 2, "{} questions asked", labels.len());
    for (i, label) in labels.iter().enumerate() {
        let text = label.text().await?;
        let answer = answers
            .iter()
            .find(|(q, _)| text.contains(q.as_str()))
            .map(|(_, a)| a.clone())
            .ok_or_else(|| anyhow!("a question alice did not enrol: {text}"))?;
        b.type_into(&format!("#answer-{i}"), &answer).await?;
    }
    b.screenshots(&format!("{prefix}-2-questions")).await?;
    b.click("#answers-continue").await?;

    b.find("#ss-confirm").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.type_into("#captcha-input", &captcha_answer(server).await?)
        .await?;
    b.screenshots(&format!("{prefix}-3-second-captcha")).await?;
    ensure!(!heading.is_empty(), "the flow has a heading");
    Ok(())
}

async fn wait_for_path(b: &Browser, path: &str) -> Result<()> {
    b.wait_until(&format!("the page {path}"), || async {
        Ok(b.client.current_url().await?.path() == path)
    })
    .await
}

async fn sign_out(b: &Browser) -> Result<()> {
    b.click("#sign-out").await?;
    wait_for_path(b, "/").await
}

/// Types a change of password on the account page and submits it.
async fn change_password(b: &Browser, current: &str, new: &str) -> Result<()> {
    b.type_into("#current-password", current).await?;
    b.type_into("#new-password", new).await?;
    b.type_into("#confirm-password", new).await?;
    b.wait_until("Change Password enabled", || async {
        Ok(b.find("#change-password").await?.is_enabled().await?)
    })
    .await?;
    b.click("#change-password").await
}

/// A sign-in that must fail with `expected` in its message.
async fn refused_sign_in(
    b: &Browser,
    server: &Server,
    password: &str,
    expected: &str,
    what: &str,
) -> Result<()> {
    b.sign_in_to(server, DOMAIN, "alice", password).await?;
    let seen = b
        .wait_until(expected, || async {
            Ok(b.text("#form-error").await?.contains(expected))
        })
        .await;
    if seen.is_err() {
        let shown = b.text("#form-error").await.unwrap_or_default();
        b.screenshots(&format!("dir-failed-{what}")).await?;
        return Err(anyhow!(
            "{what}: expected {expected:?}, page says {shown:?}"
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_self_service_flow_works_on_a_domain_backed_by_openldap() -> Result<()> {
    let slapd = Slapd::start();
    let product = start_product(&slapd)?;
    let server = &product.server;
    let alice = user_dn("alice");
    let b = Browser::start().await?;

    // --- The sign-in page lists the directory domain like any other.
    b.client.goto(&server.url("/")).await?;
    b.find(&format!("#domain option[value='{DOMAIN}']")).await?;
    let listed = b.text(".manage-links").await?;
    ensure!(
        listed.contains(&format!("For {DOMAIN_NAME} Domain Users")),
        "manage links: {listed}"
    );
    b.find("#domain").await?.select_by_value(DOMAIN).await?;
    b.screenshots("dir-01-sign-in").await?;
    b.client
        .goto(&server.url(&format!("/manage/{DOMAIN}")))
        .await?;
    // (Shown in capitals by the style sheet.)
    let eyebrow = b.text(".page-manage .eyebrow").await?;
    ensure!(
        eyebrow.to_lowercase() == format!("{DOMAIN_NAME} Domain Users").to_lowercase(),
        "manage page: {eyebrow}"
    );
    b.find("#link-unlock a").await?;
    b.find("#link-forgot a").await?;
    b.screenshots("dir-02-manage-page").await?;

    // --- A wrong password is refused like on a local domain; the right one
    // (the directory's, never stored by Latchkey) signs in, and a person
    // who has not enrolled enrols first.
    refused_sign_in(&b, server, "not-alices-password", "not correct", "wrong").await?;
    b.sign_in_to(server, DOMAIN, "alice", ALICE_PASSWORD)
        .await?;
    b.find("#enrol-form").await?;
    wait_for_path(&b, "/enrol").await?;
    b.screenshots("dir-03-enrol").await?;
    let chosen = ["Hamilton", "Alexander", "Biscuit"];
    let mut answers = Vec::new();
    for (i, answer) in chosen.iter().enumerate() {
        let select = b.find(&format!("#enrol-question-{i}")).await?;
        let options = select.find_all(Locator::Css("option")).await?;
        options[i + 1].click().await?;
        let question = options[i + 1].text().await?;
        b.type_into(&format!("#enrol-answer-{i}"), answer).await?;
        answers.push((question, answer.to_string()));
    }
    b.wait_until("enrol enabled", || async {
        Ok(b.find("#enrol-submit").await?.is_enabled().await?)
    })
    .await?;
    b.click("#enrol-submit").await?;
    wait_for_path(&b, "/account").await?;
    // The enrolment's button is at the bottom of a long page: the account
    // page opens at its top (who is signed in, the tabs), not scrolled down
    // by as much as the enrolment was.
    b.find("#whoami").await?;
    let scrolled = b.js("return window.scrollY;").await?;
    ensure!(
        scrolled.as_f64() == Some(0.0),
        "the account page opened scrolled down by {scrolled} px"
    );
    let whoami = b.text("#whoami").await?;
    ensure!(
        whoami.contains("Alice Example") && whoami.contains(&format!("{DOMAIN_NAME} domain")),
        "signed in as: {whoami}"
    );
    b.find("#new-password").await?;
    b.screenshots("dir-04-account-change-password").await?;

    // --- Change Password: made as alice in the directory.
    change_password(&b, ALICE_PASSWORD, FIRST).await?;
    let ok = b.text("#success").await?;
    ensure!(
        ok.contains("changed successfully"),
        "after the change: {ok}"
    );
    b.screenshots("dir-05-changed").await?;
    ensure!(
        slapd.bind(&alice, FIRST).is_ok(),
        "the new password does not bind in the directory"
    );
    let old = slapd.bind(&alice, ALICE_PASSWORD);
    ensure!(
        old.as_ref()
            .is_err_and(|e| e.contains("Invalid credentials")),
        "the old password still binds: {old:?}"
    );

    // --- A change the directory's history refuses (pwdInHistory 3):
    // Latchkey's own policy passes it, the directory's message is shown.
    change_password(&b, FIRST, SECOND).await?;
    let ok = b.text("#success").await?;
    ensure!(ok.contains("changed successfully"), "second change: {ok}");
    change_password(&b, SECOND, FIRST).await?;
    let refused = b.text("#form-error").await?;
    ensure!(
        refused.contains("directory refused this password") && refused.contains("used recently"),
        "the history refusal says: {refused}"
    );
    ensure!(
        b.client.find(Locator::Css("#success")).await.is_err(),
        "a refused change shows no success"
    );
    b.screenshots("dir-06-refused-by-the-directorys-history")
        .await?;
    ensure!(
        slapd.bind(&alice, SECOND).is_ok(),
        "the refusal changed the password"
    );
    sign_out(&b).await?;

    // --- Five wrong passwords lock alice in Latchkey before the directory
    // locks her (its pwdMaxFailure is 10); the 6th, and then even the right
    // password, get the locked message without reaching the directory.
    for i in 1..=5 {
        refused_sign_in(
            &b,
            server,
            "not-alices-password",
            "not correct",
            &format!("attempt-{i}"),
        )
        .await?;
    }
    refused_sign_in(&b, server, "not-alices-password", "locked", "attempt-6").await?;
    b.screenshots("dir-07-locked-on-the-sixth").await?;
    refused_sign_in(&b, server, SECOND, "locked", "right-password-while-locked").await?;
    let failures = slapd.values(&alice, "pwdFailureTime");
    ensure!(
        failures.len() == 5,
        "the directory saw {} failed binds, not 5: {failures:?}",
        failures.len()
    );
    ensure!(
        slapd.values(&alice, "pwdAccountLockedTime").is_empty(),
        "the directory locked alice itself"
    );

    // --- Unlock Account from the domain page.
    b.client
        .goto(&server.url(&format!("/manage/{DOMAIN}")))
        .await?;
    b.click("#link-unlock a").await?;
    wait_for_path(&b, &format!("/manage/{DOMAIN}/unlock")).await?;
    verify(&b, server, "alice", &answers, "dir-08-unlock").await?;
    b.click("#unlock-account").await?;
    let ok = b.text("#ss-success").await?;
    ensure!(ok.contains("unlocked successfully"), "unlock: {ok}");
    b.screenshots("dir-09-unlocked").await?;
    b.sign_in_to(server, DOMAIN, "alice", SECOND).await?;
    b.find("#whoami").await?;
    wait_for_path(&b, "/account").await?;
    ensure!(
        slapd.values(&alice, "pwdFailureTime").is_empty(),
        "the directory still counts failures after a right bind"
    );
    sign_out(&b).await?;

    // --- Forgot Password to a new password, set in the directory.
    b.client
        .goto(&server.url(&format!("/manage/{DOMAIN}")))
        .await?;
    b.click("#link-forgot a").await?;
    wait_for_path(&b, &format!("/manage/{DOMAIN}/forgot")).await?;
    verify(&b, server, "alice", &answers, "dir-10-forgot").await?;
    b.click("#reset-password").await?;
    b.find("#ss-new-password").await?;
    b.type_into("#new-password", RESET).await?;
    b.type_into("#confirm-password", RESET).await?;
    b.wait_until("Set password enabled", || async {
        Ok(b.find("#set-password").await?.is_enabled().await?)
    })
    .await?;
    b.screenshots("dir-11-forgot-new-password").await?;
    b.click("#set-password").await?;
    let done = b.text("#ss-success").await?;
    ensure!(done.contains("reset successfully"), "reset: {done}");
    b.screenshots("dir-12-password-reset").await?;
    ensure!(
        slapd.bind(&alice, RESET).is_ok(),
        "the reset password does not bind in the directory"
    );
    ensure!(
        slapd.bind(&alice, SECOND).is_err(),
        "the password before the reset still binds"
    );
    refused_sign_in(&b, server, SECOND, "not correct", "old-after-reset").await?;
    b.sign_in_to(server, DOMAIN, "alice", RESET).await?;
    b.find("#whoami").await?;
    wait_for_path(&b, "/account").await?;
    b.screenshots("dir-13-signed-in-after-reset").await?;

    // --- Through all of it Latchkey kept no password of alice's: her row is
    // keyed by the directory's entryUUID and its hash is empty.
    use sqlx::Connection;
    let mut db = sqlx::sqlite::SqliteConnection::connect(&product.db_url).await?;
    let (hash, directory_id): (String, Option<String>) = sqlx::query_as(
        "SELECT password_hash, directory_id FROM users u JOIN domains d ON d.id = u.domain_id \
         WHERE d.slug = ?1 AND u.username_key = 'alice'",
    )
    .bind(DOMAIN)
    .fetch_one(&mut db)
    .await?;
    ensure!(hash.is_empty(), "a password hash was stored: {hash:?}");
    let uuid = slapd.values(&alice, "entryUUID");
    ensure!(
        directory_id.as_deref() == uuid.first().map(String::as_str),
        "directory id {directory_id:?}, entryUUID {uuid:?}"
    );
    b.close().await
}
