//! End-to-end: the installable, offline-capable PWA (issue 4), in headless
//! Chromium with DevTools network emulation (through chromedriver's CDP
//! passthrough). Serves a copy of `client/dist` so a "new build" can be made
//! mid-test. Screenshots in `target/e2e-screenshots/offline-*`.

use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use latchkey_e2e::{copy_dir, dist_dir, workspace_root, Browser, Server, TempDir};

const STRONG: &str = "correct horse battery staple orbit";

async fn synced_at(b: &Browser) -> Result<f64> {
    let v = b
        .js("const c = localStorage.getItem('latchkey.bootstrap.v1'); return c ? JSON.parse(c).synced_at_ms : 0;")
        .await?;
    Ok(v.as_f64().unwrap_or(0.0))
}

async fn rule_passed(b: &Browser, rule: &str) -> Result<Option<String>> {
    b.attr(
        &format!("#requirements li[data-rule='{rule}']"),
        "data-passed",
    )
    .await
}

async fn score(b: &Browser) -> Result<Option<u8>> {
    let pending = b.attr("#strength", "data-pending").await?;
    let score = b.attr("#strength", "data-score").await?;
    Ok(match (pending, score) {
        (None, Some(s)) => s.parse().ok(),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_installs_works_offline_syncs_back_and_updates_to_a_new_build() -> Result<()> {
    // A copy of the build, so the test can release a "new version" of it.
    let site = TempDir::new("lk-offline-dist")?;
    copy_dir(&dist_dir()?, site.path())?;
    let db = TempDir::new("lk-offline-db")?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        db.path().join("latchkey.db").display()
    );
    let static_dir = site.path().display().to_string();
    let server = Server::start(
        &url,
        &[("SSPM_DEMO", "true"), ("SSPM_STATIC_DIR", &static_dir)],
    )?;
    let b = Browser::start().await?;

    // First visit: the app, its notices, and a service worker in control.
    b.client.goto(&server.url("/")).await?;
    b.find("#notices .notice").await?;
    b.wait_until("the service worker controls the page", || async {
        Ok(b.js("return !!navigator.serviceWorker.controller").await? == true)
    })
    .await?;
    // The precache is complete once the worker is active; give the strength
    // worker its first answer too.
    b.type_into("#try-password", "warm up").await?;
    b.wait_until("a strength estimate online", || async {
        Ok(score(&b).await?.is_some())
    })
    .await?;
    // The sign-in page ran on the first-load module alone: the page itself
    // never fetched the full one (the service worker precached it).
    let fetched = b
        .js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('latchkey-app')).length")
        .await?;
    ensure!(
        fetched == 0,
        "the sign-in page fetched the full module: {fetched}"
    );

    // Installable: Chromium reports no installability errors.
    let installability = b
        .cdp("Page.getInstallabilityErrors", serde_json::json!({}))
        .await?;
    let errors = installability["installabilityErrors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(errors.is_empty(), "installability errors: {installability}");
    // `/m` (the seeds' mobile link) is the same app.
    b.client.goto(&server.url("/m")).await?;
    b.find("#login").await?;
    b.find("#notices .notice").await?;

    // Offline, then reload: the app opens from the service worker's cache.
    let before = synced_at(&b).await?;
    ensure!(before > 0.0, "nothing synced on the first visit");
    b.set_offline(true).await?;
    b.client.refresh().await?;
    let banner = b.text("#offline-banner").await?;
    ensure!(banner.contains("offline"), "offline banner: {banner}");
    b.find("#last-synced").await?;
    b.find("#notices .notice").await?;
    let titles = b.text("#notices").await?;
    ensure!(
        titles.contains("Mandatory Password Reset In Effect"),
        "notices offline: {titles}"
    );

    // The requirements and the meter work offline, for every domain.
    b.find("#preview-domain")
        .await?
        .select_by_value("hrcc")
        .await?;
    b.type_into("#try-password", "short").await?;
    b.wait_until("min_length unticked offline", || async {
        Ok(rule_passed(&b, "min_length").await?.as_deref() == Some("false"))
    })
    .await?;
    b.wait_until("a weak score offline", || async {
        Ok(score(&b).await?.is_some_and(|s| s <= 1))
    })
    .await?;
    b.type_into("#try-password", STRONG).await?;
    b.wait_until("a strong score offline", || async {
        Ok(score(&b).await?.is_some_and(|s| s >= 3))
    })
    .await?;
    b.wait_until("every rule ticked offline", || async {
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

    // Signing in says it needs a connection, and keeps what was typed.
    b.find("#needs-connection").await?;
    b.find("#domain").await?.select_by_value("partners").await?;
    b.type_into("#username", "demo").await?;
    b.type_into("#password", "not-sent-anywhere").await?;
    b.click("#login").await?;
    let error = b.text("#form-error").await?;
    ensure!(
        error.contains("connection"),
        "sign-in offline said: {error}"
    );
    ensure!(
        b.find("#username").await?.prop("value").await?.as_deref() == Some("demo"),
        "the user name was lost"
    );
    b.screenshots("offline-01-sign-in").await?;
    // The user name survives a reload; the password is never stored.
    b.client.refresh().await?;
    b.find("#offline-banner").await?;
    ensure!(b.find("#username").await?.prop("value").await?.as_deref() == Some("demo"));
    ensure!(b.find("#password").await?.prop("value").await?.as_deref() == Some(""));
    let stored = b
        .js("return JSON.stringify(localStorage)")
        .await?
        .to_string();
    ensure!(
        !stored.contains("not-sent-anywhere"),
        "a password was stored"
    );
    // Another page needs the full module: offline it comes from the cache,
    // and the first module hands the page over to it.
    b.click(".manage-links a").await?;
    b.find("#manage-heading")
        .await
        .context("the landing page did not open offline")?;
    b.find("#offline-banner").await?;
    b.client.back().await?;
    b.find("#login").await?;
    ensure!(b.find("#username").await?.prop("value").await?.as_deref() == Some("demo"));

    // Back online: the app syncs by itself and the banner goes.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    b.set_offline(false).await?;
    b.wait_until("synced after reconnecting", || async {
        Ok(synced_at(&b).await? > before)
    })
    .await?;
    b.wait_until("the offline banner gone", || async {
        Ok(b.client
            .find(fantoccini::Locator::Css("#offline-banner"))
            .await
            .is_err())
    })
    .await?;
    b.screenshots("offline-02-back-online").await?;

    // A new build replaces the cached one: change the site, regenerate its
    // service worker and precompressed files, and visit again.
    let index = site.path().join("index.html");
    let html = std::fs::read_to_string(&index)?;
    std::fs::write(
        &index,
        html.replace(
            "</head>",
            "<meta name=\"latchkey-e2e-build\" content=\"2\" /></head>",
        ),
    )?;
    let status = Command::new("node")
        .arg(workspace_root().join("scripts/build/postbuild.mjs"))
        .arg(site.path())
        .status()
        .context("run scripts/build/postbuild.mjs")?;
    ensure!(status.success(), "postbuild.mjs failed");
    b.client.refresh().await?;
    b.find("#update-banner")
        .await
        .context("no 'new version' banner")?;
    let text = b.text("#update-banner").await?;
    ensure!(text.contains("new version"), "update banner: {text}");
    ensure!(
        b.js("return !!document.querySelector('meta[name=latchkey-e2e-build]')")
            .await?
            == false,
        "the new build was used before the person asked for it"
    );
    b.screenshots("offline-03-update-available").await?;
    b.click("#update-reload").await?;
    b.wait_until("the new build in use", || async {
        Ok(
            b.js("return !!document.querySelector('meta[name=latchkey-e2e-build]')")
                .await?
                == true,
        )
    })
    .await?;
    b.find("#login").await?;
    // ...and it is the one cached for offline use.
    b.set_offline(true).await?;
    b.client.refresh().await?;
    b.find("#offline-banner").await?;
    ensure!(
        b.js("return !!document.querySelector('meta[name=latchkey-e2e-build]')")
            .await?
            == true,
        "offline, the old build came back"
    );
    b.set_offline(false).await?;
    drop(server);
    b.close().await
}
