//! End-to-end: a user locks their account; the demo LRA of Partners signs in
//! (changing their own temporary password first), finds the user in the
//! console, unlocks the account and issues a temporary password, which the
//! user then changes. Screenshots (phone and desktop) in
//! `target/e2e-screenshots/lra-*.png`.

use std::time::Duration;

use anyhow::{anyhow, ensure, Result};
use latchkey_e2e::{Browser, Server};

const LRA_NEW_PASSWORD: &str = "maple rocket quiet harbor zebra";
const USER_NEW_PASSWORD: &str = "correct horse battery staple orbit";

/// Fills the Change Password form and waits for the success message.
async fn change_password(b: &Browser, current: &str, new: &str) -> Result<()> {
    b.find("#new-password").await?;
    b.type_into("#current-password", current).await?;
    b.type_into("#new-password", new).await?;
    b.type_into("#confirm-password", new).await?;
    let enabled = b
        .wait_until("the change button enabled", || async {
            // The form re-renders while the checklist updates: a stale element is "not yet".
            Ok(match b.find("#change-password").await {
                Ok(e) => e.is_enabled().await.unwrap_or(false),
                Err(_) => false,
            })
        })
        .await;
    if enabled.is_err() {
        b.screenshots("lra-debug-change-password").await?;
    }
    enabled?;
    b.click("#change-password").await?;
    let success = b.text("#success").await?;
    ensure!(
        success.contains("changed successfully"),
        "success message: {success}"
    );
    Ok(())
}

fn banner_password(server: &Server, prefix: &str) -> Result<String> {
    server
        .banner
        .iter()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.split("temporary password=").nth(1))
        .map(|s| s.trim().to_owned())
        .ok_or_else(|| anyhow!("no {prefix:?} line in {:?}", server.banner))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_lra_unlocks_a_user_and_issues_a_temporary_password_that_the_user_changes() -> Result<()>
{
    let server = Server::start_demo_sqlite()?;
    let lra_temporary = banner_password(&server, "Demo LRA")?;
    banner_password(&server, "Demo administrator")?;

    // The demo user locks their account with five wrong passwords.
    let http = reqwest::Client::new();
    for _ in 0..5 {
        http.post(server.url("/api/session"))
            .json(&serde_json::json!({"domain": "partners", "username": "demo", "password": "wrong guess"}))
            .send()
            .await?;
    }
    let b = Browser::start().await?;
    b.sign_in(&server, "demo", "wrong again").await?;
    let error = b.text("#form-error").await?;
    ensure!(error.contains("locked"), "locked message: {error}");
    b.screenshots("lra-01-user-locked").await?;

    // The LRA signs in, changes their temporary password, opens the console.
    b.sign_in(&server, "lra", &lra_temporary).await?;
    change_password(&b, &lra_temporary, LRA_NEW_PASSWORD).await?;
    b.click("#open-console").await?;
    b.find("#user-search").await?;
    b.screenshots("lra-02-console").await?;

    b.type_into("#user-search", "Demo").await?;
    b.click("#user-search-submit").await?;
    b.click(".user-result[data-username='demo']").await?;
    b.wait_until("the user's state", || async {
        Ok(b.attr("#state-locked", "data-value").await?.as_deref() == Some("true"))
    })
    .await?;
    b.screenshots("lra-03-user-locked-in-console").await?;

    // Unlock, with a reason.
    b.type_into("#action-reason", "Caller verified by employee number")
        .await?;
    b.click("#action-unlock").await?;
    b.wait_until("unlocked", || async {
        Ok(b.attr("#state-locked", "data-value").await?.as_deref() == Some("false"))
    })
    .await?;
    b.screenshots("lra-04-unlocked").await?;

    // Issue a temporary password: shown once.
    b.type_into("#action-reason", "Forgot the password; identity verified")
        .await?;
    b.click("#action-temp-password").await?;
    let temporary = b.text("#temp-password").await?;
    ensure!(
        temporary.chars().count() >= 12,
        "temporary password {temporary:?}"
    );
    ensure!(
        b.attr("#state-temporary", "data-value").await?.as_deref() == Some("true"),
        "temporary password pending"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.screenshots("lra-05-temporary-password").await?;

    // The LRA leaves (the session cookie is HttpOnly: forget it); the user
    // signs in with the temporary password and must change it.
    b.client.delete_all_cookies().await?;
    b.sign_in(&server, "demo", &temporary).await?;
    b.find("#must-change").await?;
    change_password(&b, &temporary, USER_NEW_PASSWORD).await?;
    b.screenshots("lra-06-user-changed-password").await?;

    // The new password works, the temporary one no longer does.
    let r = http
        .post(server.url("/api/session"))
        .json(&serde_json::json!({"domain": "partners", "username": "demo", "password": temporary}))
        .send()
        .await?;
    ensure!(r.status() == 401, "old temporary password: {}", r.status());
    let r = http
        .post(server.url("/api/session"))
        .json(&serde_json::json!({"domain": "partners", "username": "demo", "password": USER_NEW_PASSWORD}))
        .send()
        .await?;
    ensure!(r.status() == 200, "new password: {}", r.status());
    b.close().await
}

/// The administrator's console: every tab renders, the policy preview ticks
/// as one types, and the audit log shows the sign-ins. Screenshots only of
/// what a person would check by eye; the server tests cover the behaviour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sees_every_console_tab() -> Result<()> {
    let server = Server::start_demo_sqlite()?;
    let admin_temporary = banner_password(&server, "Demo administrator")?;
    let b = Browser::start().await?;
    b.sign_in(&server, "admin", &admin_temporary).await?;
    change_password(&b, &admin_temporary, LRA_NEW_PASSWORD).await?;
    b.click("#open-console").await?;
    b.click("#tab-domains").await?;
    b.find("#policy-preview-password").await?;
    b.type_into("#policy-preview-password", "short").await?;
    b.wait_until("the preview checklist", || async {
        Ok(
            b.attr("#requirements li[data-rule='min_length']", "data-passed")
                .await?
                .as_deref()
                == Some("false"),
        )
    })
    .await?;
    b.screenshots("admin-01-domains").await?;
    b.click("#tab-notices").await?;
    b.find("#mandatory-reset-form").await?;
    b.screenshots("admin-02-notices").await?;
    b.click("#tab-audit").await?;
    b.find("#audit-table .audit-row").await?;
    b.screenshots("admin-03-audit").await?;
    b.click("#tab-keys").await?;
    b.type_into("#api-key-name", "ClinicalConnect").await?;
    b.click("#api-key-create").await?;
    let key = b.text("#api-key-value").await?;
    ensure!(key.starts_with("lk_"), "api key {key}");
    b.screenshots("admin-04-api-keys").await?;
    // Loopback is exempt in these tests: nothing is throttled.
    b.click("#tab-throttles").await?;
    b.find("#throttles-none").await?;
    b.screenshots("admin-05-throttles").await?;
    b.close().await
}
