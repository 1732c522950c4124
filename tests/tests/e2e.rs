//! End-to-end: the built PWA served by a real `latchkey` process, driven in
//! headless Chromium. Screenshots of every step land in
//! `target/e2e-screenshots/`.

use std::time::Duration;

use anyhow::{ensure, Result};
use latchkey_e2e::{Browser, Server};

const NEW_PASSWORD: &str = "correct horse battery staple orbit";

async fn checklist_state(b: &Browser, rule: &str) -> Result<Option<String>> {
    b.attr(
        &format!("#requirements li[data-rule='{rule}']"),
        "data-passed",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_password_holder_changes_it_in_the_browser_and_then_only_the_new_one_works(
) -> Result<()> {
    let server = Server::start_demo_sqlite()?;
    let temporary = server.demo_temporary_password()?;
    let b = Browser::start().await?;

    // The sign-in page shows the seeds' notices.
    b.client.goto(&server.url("/")).await?;
    b.find("#notices .notice").await?;
    let notices = b
        .client
        .find_all(fantoccini::Locator::Css("#notices .notice-title"))
        .await?;
    let mut titles = Vec::new();
    for n in notices {
        titles.push(n.text().await?);
    }
    ensure!(
        titles
            .iter()
            .any(|t| t.contains("Mandatory Password Reset In Effect")),
        "notices shown: {titles:?}"
    );
    b.screenshots("01-sign-in").await?;

    // A temporary password holder lands on Change Password.
    b.sign_in(&server, "demo", &temporary).await?;
    b.find("#new-password").await?;
    b.wait_until("the account page", || async {
        Ok(b.client.current_url().await?.path() == "/account")
    })
    .await?;
    b.screenshots("02-change-password-empty").await?;

    // The checklist and the meter react to every keystroke.
    b.type_into("#current-password", &temporary).await?;
    b.type_into("#new-password", "short").await?;
    b.wait_until("min_length unticked", || async {
        Ok(checklist_state(&b, "min_length").await?.as_deref() == Some("false"))
    })
    .await?;
    // The estimate arrives from the strength worker, after the checklist.
    b.wait_until("a strength score", || async {
        Ok(b.attr("#strength", "data-score")
            .await?
            .is_some_and(|s| !s.is_empty())
            && b.attr("#strength", "data-pending").await?.is_none())
    })
    .await?;
    let weak_score: u8 = b
        .attr("#strength", "data-score")
        .await?
        .unwrap_or_default()
        .parse()?;
    ensure!(weak_score <= 1, "'short' scored {weak_score}");
    ensure!(
        !b.find("#change-password").await?.is_enabled().await?,
        "button enabled for a weak password"
    );
    b.screenshots("03-weak-password").await?;

    b.type_into("#new-password", NEW_PASSWORD).await?;
    b.type_into("#confirm-password", NEW_PASSWORD).await?;
    b.wait_until("every rule ticked", || async {
        let items = b
            .client
            .find_all(fantoccini::Locator::Css("#requirements li"))
            .await?;
        let mut all = !items.is_empty();
        for i in items {
            all &= i.attr("data-passed").await?.as_deref() == Some("true");
        }
        Ok(all)
    })
    .await?;
    let strong: u8 = b
        .attr("#strength", "data-score")
        .await?
        .unwrap_or_default()
        .parse()?;
    ensure!(strong >= 3, "passphrase scored {strong}");
    b.screenshots("04-strong-password").await?;

    b.click("#change-password").await?;
    let success = b.text("#success").await?;
    ensure!(
        success.contains("changed successfully"),
        "success message: {success}"
    );
    b.screenshots("05-changed").await?;

    b.click("#sign-out").await?;
    b.wait_until("back at sign-in", || async {
        Ok(b.client.current_url().await?.path() == "/")
    })
    .await?;

    // The old (temporary) password now fails...
    b.sign_in(&server, "demo", &temporary).await?;
    let error = b.text("#form-error").await?;
    ensure!(error.contains("not correct"), "old password error: {error}");
    b.screenshots("06-old-password-refused").await?;

    // ...and the new one signs in, to a normal session: one that has not
    // enrolled yet is asked to enrol first (issue 3).
    b.sign_in(&server, "demo", NEW_PASSWORD).await?;
    b.find("#enrol-form").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.screenshots("07-signed-in-with-new-password").await?;
    b.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pwa_runs_under_the_strict_csp_and_a_refused_script_is_reported() -> Result<()> {
    let server = Server::start_demo_sqlite()?;
    let b = Browser::start().await?;
    b.client.goto(&server.url("/")).await?;
    // The app rendered (so its loader and wasm ran under the policy), the
    // notices came from the API, and the strength worker answers.
    b.find("#notices .notice").await?;
    let violations = b.csp_violations().await?;
    ensure!(violations.is_empty(), "violations on load: {violations:?}");

    // The check itself can fail: an injected inline script is refused and
    // reported.
    b.js("const s = document.createElement('script'); \
         s.textContent = 'window.injected = 1;'; document.head.appendChild(s); return true;")
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let injected = b.js("return window.injected === 1;").await?;
    ensure!(
        injected == serde_json::json!(false),
        "the inline script ran"
    );
    let violations = b.csp_violations().await?;
    ensure!(
        violations.iter().any(|v| v.contains("script-src")),
        "the refusal was reported: {violations:?}"
    );
    b.close().await
}
