//! Harness for Latchkey's end-to-end tests: real `latchkey` server
//! processes, the trunk-built PWA, and Debian's Chromium driven through
//! chromedriver (WebDriver).
//!
//! The harness never skips: a missing browser is installed, a missing build
//! is an error that says which command makes it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

// The real servers a test starts (PostgreSQL, slapd, ...) are the
// `latchkey-testkit` crate's, shared with the server's API tests.
pub use latchkey_testkit::free_port;

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// Where screenshots go: `target/e2e-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = workspace_root().join("target").join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

pub fn server_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("LATCHKEY_BIN") {
        return Ok(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    for profile in ["debug", "release"] {
        let p = target.join(profile).join("latchkey");
        if p.exists() {
            return Ok(p);
        }
    }
    bail!("the server binary is not built: run `./x test` (or `cargo build -p latchkey-server`) first")
}

/// The server built with the `test-hooks` feature (CAPTCHA answers readable
/// through `/api/test-hooks/…`): `target/debug/latchkey-test-hooks`, which
/// `./x test` builds, or `LATCHKEY_HOOKS_BIN`.
pub fn hooks_binary() -> Result<PathBuf> {
    let bin = match std::env::var("LATCHKEY_HOOKS_BIN") {
        Ok(p) => PathBuf::from(p),
        Err(_) => workspace_root()
            .join("target")
            .join("debug")
            .join("latchkey-test-hooks"),
    };
    if !bin.exists() {
        bail!(
            "{} is missing: run `./x test`, or `cargo build -p latchkey-server --bin latchkey \
             --features test-hooks && cp target/debug/latchkey target/debug/latchkey-test-hooks`",
            bin.display()
        );
    }
    Ok(bin)
}

/// The built PWA (`client/dist`), which the server serves.
pub fn dist_dir() -> Result<PathBuf> {
    let dist = workspace_root().join("client").join("dist");
    if !dist.join("index.html").exists() {
        bail!(
            "the PWA is not built: run `./x build-client` (trunk build --release in client/) first"
        );
    }
    Ok(dist)
}

/// A running `latchkey serve` process; killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Everything the server printed to stdout before it was ready.
    pub banner: Vec<String>,
    _dir: Option<TempDir>,
}

impl Server {
    /// Starts a server on a fresh SQLite database with the demo data.
    pub fn start_demo_sqlite() -> Result<Server> {
        let dir = TempDir::new("lk-e2e")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("latchkey.db").display()
        );
        let mut s = Server::start(&url, &[("SSPM_DEMO", "true")])?;
        s._dir = Some(dir);
        Ok(s)
    }

    /// Starts `latchkey serve` on `database_url` with extra `SSPM_*` settings
    /// and waits until it prints its address.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Result<Server> {
        Server::start_bin(server_binary()?, database_url, env)
    }

    /// Like [`Server::start_demo_sqlite`], with the binary built with the
    /// `test-hooks` feature (CAPTCHA answers readable at
    /// `/api/test-hooks/captcha-latest`): `target/debug/latchkey-test-hooks`,
    /// which `./x test` builds, or `LATCHKEY_HOOKS_BIN`.
    pub fn start_demo_sqlite_with_hooks() -> Result<Server> {
        let bin = hooks_binary()?;
        let dir = TempDir::new("lk-e2e-hooks")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("latchkey.db").display()
        );
        let mut s = Server::start_bin(bin, &url, &[("SSPM_DEMO", "true")])?;
        s._dir = Some(dir);
        Ok(s)
    }

    /// The line the server prints for the enrolled demo user, split into the
    /// password and the (question, answer) pairs.
    pub fn demo_enrolled(&self) -> Result<(String, Vec<(String, String)>)> {
        let line = self
            .banner
            .iter()
            .find(|l| l.starts_with("Demo enrolled user:"))
            .ok_or_else(|| anyhow!("no enrolled demo user line in {:?}", self.banner))?;
        let (head, answers) = line
            .split_once(" answers: ")
            .ok_or_else(|| anyhow!("unparsable line {line:?}"))?;
        let password = head
            .split("password=")
            .nth(1)
            .ok_or_else(|| anyhow!("no password in {line:?}"))?
            .trim()
            .to_string();
        let mut pairs = Vec::new();
        for part in answers.split("; ") {
            // Qn=answer (question)
            let (_, rest) = part
                .split_once('=')
                .ok_or_else(|| anyhow!("bad {part:?}"))?;
            let (answer, question) = rest
                .split_once(" (")
                .ok_or_else(|| anyhow!("bad {part:?}"))?;
            pairs.push((
                question.trim_end_matches(')').to_string(),
                answer.to_string(),
            ));
        }
        Ok((password, pairs))
    }

    /// Starts `bin serve` on `database_url` with extra `SSPM_*` settings.
    pub fn start_bin(bin: PathBuf, database_url: &str, env: &[(&str, &str)]) -> Result<Server> {
        Server::start_bin_with_config(bin, None, database_url, env)
    }

    /// Like [`Server::start_bin`], with `--config config` (e.g. for
    /// `[directories.NAME]`, which has no `SSPM_*` form); the `SSPM_*`
    /// settings still win over the file.
    pub fn start_bin_with_config(
        bin: PathBuf,
        config: Option<&Path>,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> Result<Server> {
        let mut cmd = Command::new(&bin);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        // A caller that brings its own static directory (the load harness)
        // does not need the PWA to be built.
        let static_dir = match env.iter().find(|(k, _)| *k == "SSPM_STATIC_DIR") {
            Some((_, dir)) => PathBuf::from(dir),
            None => dist_dir()?,
        };
        cmd.arg("serve")
            .env("SSPM_DATABASE_URL", database_url)
            .env("SSPM_LISTEN", "127.0.0.1:0")
            .env("SSPM_STATIC_DIR", static_dir)
            .env("RUST_LOG", "warn")
            // Every browser of these tests is 127.0.0.1: the per-source
            // throttle (tested in the API tests) would count them all as one.
            // A caller that wants it sets this to "".
            .env("SSPM_THROTTLE_EXEMPT", "127.0.0.1, ::1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    // Keep draining so the server never blocks on a full pipe.
                    continue;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut banner = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .map_err(|_| anyhow!("server did not announce its address; printed: {banner:?}"))?;
            if let Some(addr) = line.strip_prefix("Latchkey listening on http://") {
                let port = addr
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse().ok())
                    .ok_or_else(|| anyhow!("unparsable address line {line:?}"))?;
                banner.push(line);
                return Ok(Server {
                    child,
                    port,
                    banner,
                    _dir: None,
                });
            }
            banner.push(line);
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// The server's process id (for memory readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The demo user's temporary password, from the line the server prints
    /// on the start that seeded the demo data.
    pub fn demo_temporary_password(&self) -> Result<String> {
        self.banner
            .iter()
            .find_map(|l| l.split("temporary password=").nth(1))
            .map(|s| s.trim().to_string())
            .ok_or_else(|| anyhow!("no demo user line in {:?}", self.banner))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed on drop (no extra crate needed).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<TempDir> {
        let p =
            std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a directory tree (e.g. the built PWA, to serve a modified build).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Installs Debian's chromium and chromium-driver if they are missing.
pub fn ensure_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    let status = Command::new(workspace_root().join("scripts").join("setup.sh"))
        .arg("chromium")
        .status()
        .context("run scripts/setup.sh chromium")?;
    if !status.success() {
        bail!("installing chromium failed");
    }
    Ok(())
}

/// A chromedriver process plus a WebDriver session in headless Chromium.
pub struct Browser {
    pub client: Client,
    /// chromedriver's address, for its DevTools passthrough ([`Browser::cdp`]).
    pub driver_url: String,
    driver: Child,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Kills chromedriver (and with it Chromium) even when a test fails midway.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub const PHONE: (u32, u32) = (360, 740);
pub const DESKTOP: (u32, u32) = (1280, 800);

impl Browser {
    pub async fn start() -> Result<Browser> {
        ensure_chromium()?;
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start chromedriver")?;
        let profile = TempDir::new("lk-chrome")?;
        let caps = serde_json::json!({
            "browserName": "chrome",
            // The console, read by `csp_violations`.
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,800",
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("a json! object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        // The server's directory client brings rustls with ring, fantoccini
        // brings it with aws-lc-rs: with both in one build rustls cannot pick
        // a default, so this process names one (again is a no-op).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(anyhow!("could not start a WebDriver session: {e}")),
            }
        };
        Ok(Browser {
            client,
            driver_url: url,
            driver,
            _profile: profile,
        })
    }

    /// `POST /session/{id}/<command>` to chromedriver, for what WebDriver
    /// itself does not offer.
    async fn driver_command(
        &self,
        command: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let id = self
            .client
            .session_id()
            .await?
            .ok_or_else(|| anyhow!("no WebDriver session"))?;
        Ok(reqwest::Client::new()
            .post(format!("{}/session/{id}/{command}", self.driver_url))
            .json(&body)
            .send()
            .await?
            .json()
            .await?)
    }

    /// A DevTools protocol command on the page, through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`), e.g. network emulation or
    /// `Page.getInstallabilityErrors`. Returns the command's result.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        let response = self
            .driver_command(
                "goog/cdp/execute",
                serde_json::json!({ "cmd": cmd, "params": params }),
            )
            .await?;
        match response.get("value") {
            Some(v) if v.get("error").is_none() => Ok(v.clone()),
            _ => bail!("{cmd} failed: {response}"),
        }
    }

    /// DevTools network emulation: offline, or back to normal.
    pub async fn set_offline(&self, offline: bool) -> Result<()> {
        self.cdp("Network.enable", serde_json::json!({})).await?;
        self.cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": offline, "latency": 0,
                "downloadThroughput": -1, "uploadThroughput": -1
            }),
        )
        .await?;
        Ok(())
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn js(&self, script: &str) -> Result<serde_json::Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("element {css} did not appear"))
    }

    /// Waits until `check` returns true or 15 s pass.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for: {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.find(css).await?.attr(name).await?)
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// Empties the field the way a person does (an `input` event the app
    /// sees; WebDriver's own clear fires none, so a re-render of a
    /// controlled input would put the old text back), then types `text`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let e = self.find(css).await?;
        self.client
            .execute(
                "const el = arguments[0]; el.value = ''; \
                 el.dispatchEvent(new Event('input', { bubbles: true }));",
                vec![serde_json::to_value(&e)?],
            )
            .await?;
        e.send_keys(text).await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css).await?.click().await?;
        Ok(())
    }

    /// Signs in from the sign-in page, in the demo's Partners domain. The
    /// form re-renders once the bootstrap data arrives, so a step that met an
    /// element just replaced is tried again (typing replaces what is there).
    pub async fn sign_in(&self, server: &Server, username: &str, password: &str) -> Result<()> {
        self.sign_in_to(server, "partners", username, password)
            .await
    }

    /// [`Browser::sign_in`] in the domain `domain` (its slug).
    pub async fn sign_in_to(
        &self,
        server: &Server,
        domain: &str,
        username: &str,
        password: &str,
    ) -> Result<()> {
        self.client.goto(&server.url("/")).await?;
        let mut attempt = 0;
        loop {
            let tried: Result<()> = async {
                self.find(&format!("#domain option[value='{domain}']"))
                    .await?;
                self.find("#domain").await?.select_by_value(domain).await?;
                self.type_into("#username", username).await?;
                self.type_into("#password", password).await?;
                self.click("#login").await
            }
            .await;
            match tried {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= 20 => return Err(e.context("cannot sign in")),
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
            }
        }
    }

    /// Saves `<name>-phone.png` and `<name>-desktop.png`, then restores the
    /// desktop size.
    pub async fn screenshots(&self, name: &str) -> Result<()> {
        for (label, (w, h)) in [("phone", PHONE), ("desktop", DESKTOP)] {
            self.client.set_window_size(w, h).await?;
            tokio::time::sleep(Duration::from_millis(150)).await;
            let png = self.client.screenshot().await?;
            std::fs::write(screenshot_dir().join(format!("{name}-{label}.png")), png)?;
        }
        Ok(())
    }

    /// The console messages since the last call (chromedriver's log).
    pub async fn console(&self) -> Result<Vec<String>> {
        let response = self
            .driver_command("se/log", serde_json::json!({ "type": "browser" }))
            .await?;
        let entries = response
            .get("value")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| anyhow!("no browser log: {response}"))?;
        Ok(entries
            .iter()
            .filter_map(|e| e.get("message")?.as_str().map(str::to_owned))
            .collect())
    }

    /// The Content-Security-Policy violations Chromium reported on the
    /// console since the last call.
    pub async fn csp_violations(&self) -> Result<Vec<String>> {
        Ok(self
            .console()
            .await?
            .into_iter()
            .filter(|m| m.contains("Content Security Policy"))
            .collect())
    }

    /// Ends the session; fails if the page broke the server's CSP anywhere
    /// since the last [`Browser::csp_violations`], so every end-to-end test
    /// checks that the strict policy and the PWA agree.
    pub async fn close(self) -> Result<()> {
        let violations = self.csp_violations().await?;
        self.client
            .clone()
            .close()
            .await
            .map_err(|e| anyhow!("closing the browser: {e}"))?;
        if !violations.is_empty() {
            bail!(
                "the page broke the Content-Security-Policy:\n{}",
                violations.join("\n")
            );
        }
        Ok(())
    }
}
