//! End-to-end (issue 13): a person adds an authenticator app on the account
//! page (the test computes codes from the key the page shows, as an app
//! would), the domain asks for a code, and Unlock Account takes the
//! questions and the app's code. Screenshots: `target/e2e-screenshots/tf-*`.

use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use fantoccini::Locator;
use latchkey_e2e::{hooks_binary, server_binary, Browser, Server, TempDir};
use totp_rs::{Algorithm, Secret, TOTP};

async fn captcha_answer(server: &Server) -> Result<String> {
    let r = reqwest::get(server.url("/api/test-hooks/captcha-latest")).await?;
    ensure!(r.status().is_success(), "test hook answered {}", r.status());
    Ok(r.text().await?)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn code(secret: &str, at: u64) -> Result<String> {
    let bytes = Secret::Encoded(secret.replace(' ', ""))
        .to_bytes()
        .map_err(|e| anyhow!("the page's key is not base32: {e:?}"))?;
    Ok(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).generate(at))
}

/// A code of a later 30-second step than `after`'s (each step is accepted
/// once): waits for the next step if need be.
async fn next_code(secret: &str, after: u64) -> Result<String> {
    while unix_now() / 30 <= after / 30 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    code(secret, unix_now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticator_added_on_the_account_page_unlocks_the_account_with_the_questions(
) -> Result<()> {
    let dir = TempDir::new("lk-e2e-totp")?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("latchkey.db").display()
    );
    let key = latchkey_server::password::secret_box::SecretBox::generate_key();
    let server = Server::start_bin(
        hooks_binary()?,
        &url,
        &[("SSPM_DEMO", "true"), ("SSPM_SECRET_KEY", &key)],
    )?;
    let (password, answers) = server.demo_enrolled()?;
    // The domain asks for a code as well, set as an administrator would.
    let out = std::process::Command::new(server_binary()?)
        .args([
            "domain",
            "second-factor",
            "--slug",
            "partners",
            "--factor",
            "with-questions",
        ])
        .env("SSPM_DATABASE_URL", &url)
        .output()
        .context("latchkey domain second-factor")?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An address on file, as the CSV import would give one.
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await?;
    sqlx::query("UPDATE users SET email = 'enrolled@example.test' WHERE username_key = 'enrolled'")
        .execute(&db)
        .await?;
    db.close().await;

    let b = Browser::start().await?;
    b.sign_in(&server, "enrolled", &password).await?;
    b.find("#whoami").await?;
    b.click("#tab-authenticator").await?;
    b.find("#authenticator-start").await?;
    b.screenshots("tf-01-authenticator-tab").await?;
    // Adding one needs the password again: a wrong one first.
    b.type_into("#authenticator-setup-password", "not-the-password-1")
        .await?;
    b.click("#authenticator-start").await?;
    b.wait_until("the wrong password refused", || async {
        Ok(!b
            .text("#authenticator #form-error")
            .await
            .unwrap_or_default()
            .is_empty())
    })
    .await?;
    b.type_into("#authenticator-setup-password", &password)
        .await?;
    b.click("#authenticator-start").await?;
    let secret = b.text("#authenticator-secret").await?;
    ensure!(
        secret.replace(' ', "").len() == 32,
        "a 160-bit key: {secret}"
    );
    let qr = b.find(".qr svg").await?;
    ensure!(qr.attr("viewBox").await?.is_some() || qr.attr("width").await?.is_some());
    b.type_into("#authenticator-code", "000000").await?;
    b.click("#authenticator-confirm-button").await?;
    b.wait_until("the wrong code refused", || async {
        Ok(b.text("#form-error")
            .await
            .unwrap_or_default()
            .contains("not right"))
    })
    .await?;
    let confirmed_at = unix_now();
    b.type_into("#authenticator-code", &code(&secret, confirmed_at)?)
        .await?;
    b.screenshots("tf-02-scan-and-confirm").await?;
    b.click("#authenticator-confirm-button").await?;
    b.find("#authenticator-active").await?;
    b.screenshots("tf-03-authenticator-set-up").await?;

    // The address is removed with the password again (a wrong one first).
    let current = b.text("#mail-address-current").await?;
    ensure!(current.contains("enrolled@example.test"), "{current}");
    b.type_into("#mail-address-password", "not-the-password-1")
        .await?;
    b.click("#mail-address-remove-button").await?;
    b.wait_until("the wrong password refused", || async {
        Ok(!b
            .text("#mail-address #form-error")
            .await
            .unwrap_or_default()
            .is_empty())
    })
    .await?;
    b.type_into("#mail-address-password", &password).await?;
    b.click("#mail-address-remove-button").await?;
    b.wait_until("the address removed", || async {
        Ok(b.text("#mail-address-current")
            .await
            .unwrap_or_default()
            .contains("no mail address on file"))
    })
    .await?;
    b.screenshots("tf-03b-address-removed").await?;
    b.click("#sign-out").await?;
    b.wait_until("signed out", || async {
        Ok(b.client.current_url().await?.path() == "/")
    })
    .await?;

    // Locked by five wrong passwords.
    for _ in 0..5 {
        b.sign_in(&server, "enrolled", "not-the-password-1").await?;
        b.wait_until("refused", || async {
            Ok(!b.text("#form-error").await.unwrap_or_default().is_empty())
        })
        .await?;
    }

    // Unlock Account: name and CAPTCHA, the questions and the app's code,
    // the second CAPTCHA.
    b.client.goto(&server.url("/manage/partners")).await?;
    b.click("#link-unlock a").await?;
    b.find("#captcha-image").await?;
    b.type_into("#ss-username", "enrolled").await?;
    b.click("#captcha-new").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    b.type_into("#captcha-input", &captcha_answer(&server).await?)
        .await?;
    b.click("#ss-continue").await?;
    b.find("#questions .question").await?;
    let hint = b.text("#ss-code-hint").await?;
    ensure!(hint.contains("authenticator app"), "{hint}");
    let labels = b
        .client
        .find_all(Locator::Css("#questions .question label"))
        .await?;
    for (i, label) in labels.iter().enumerate() {
        let text = label.text().await?;
        let answer = answers
            .iter()
            .find(|(q, _)| text.contains(q.as_str()))
            .map(|(_, a)| a.clone())
            .ok_or_else(|| anyhow!("question not enrolled: {text}"))?;
        b.type_into(&format!("#answer-{i}"), &answer).await?;
    }
    b.type_into("#ss-code", &next_code(&secret, confirmed_at).await?)
        .await?;
    b.screenshots("tf-04-questions-and-code").await?;
    b.click("#answers-continue").await?;
    b.find("#ss-confirm").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.type_into("#captcha-input", &captcha_answer(&server).await?)
        .await?;
    b.click("#unlock-account").await?;
    let ok = b.text("#ss-success").await?;
    ensure!(ok.contains("unlocked successfully"), "{ok}");
    b.screenshots("tf-05-unlocked").await?;
    b.sign_in(&server, "enrolled", &password).await?;
    b.find("#whoami").await?;
    let violations = b.csp_violations().await?;
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    b.close().await?;
    Ok(())
}
