//! The OCI image that `./x image` builds (localhost/latchkey:VERSION, FROM
//! scratch), run with Debian's podman as an operator would: its own
//! entrypoint, user, environment and volume, the secret key as a podman
//! secret, the command line through `podman exec`. The container shares the
//! host's network (`--network host`) and listens on a loopback port the
//! test picks: nothing leaves the machine, and no bridge or firewall rules
//! are made.
//!
//! Two settings are this machine's, not the image's: the runtime is runc
//! (Debian's crun 1.8 refuses a host with hybrid cgroups, as this one has),
//! and the container's open-file and process limits are set below what
//! podman asks by default, which this machine does not let it raise to.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use latchkey_e2e::free_port;
use latchkey_shared::api::SessionInfo;
use serde_json::Value;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn image() -> String {
    format!("localhost/latchkey:{VERSION}")
}

/// `podman run` options for this machine (see the module's comment).
const RUNTIME: [&str; 6] = [
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=8192:8192",
    "--ulimit",
    "nproc=4096:4096",
];

/// Debian's podman and runc, installed once for this file's tests.
fn install_podman() -> Result<()> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| latchkey_testkit::apt_install(&["podman", "runc"]))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn podman(args: &[&str]) -> Result<Output> {
    let out = Command::new("podman")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("run podman")?;
    ensure!(
        out.status.success(),
        "podman {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

fn podman_text(args: &[&str]) -> Result<String> {
    Ok(String::from_utf8(podman(args)?.stdout)?.trim().to_owned())
}

/// What the test made in podman's storage, removed at the end, pass or fail.
struct Made {
    containers: Vec<String>,
    volume: String,
    secret: String,
}

impl Drop for Made {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = podman(&["rm", "--force", "--time", "0", c]);
        }
        let _ = podman(&["volume", "rm", "--force", &self.volume]);
        let _ = podman(&["secret", "rm", &self.secret]);
    }
}

/// Starts the image detached on `port`, with the volume and the secret.
fn run_container(made: &mut Made, port: u16) -> Result<String> {
    let name = format!("{}-{}", made.volume, made.containers.len());
    let listen = format!("SSPM_LISTEN=127.0.0.1:{port}");
    let volume = format!("{}:/var/lib/latchkey", made.volume);
    let secret = format!("{},target=latchkey_secret_key", made.secret);
    made.containers.push(name.clone());
    podman(
        &[
            &["run"],
            &RUNTIME[..],
            &[
                "--detach",
                "--name",
                &name,
                "--network",
                "host",
                "--env",
                &listen,
                "--env",
                "SSPM_SECRET_KEY_FILE=/run/secrets/latchkey_secret_key",
                "--env",
                "RUST_LOG=warn",
                "--volume",
                &volume,
                "--secret",
                &secret,
                &image(),
            ],
        ]
        .concat(),
    )?;
    Ok(name)
}

/// Waits (a bounded number of tries) until the server answers
/// `/api/health/live`; the container's log if it never does.
async fn wait_live(http: &reqwest::Client, base: &str, container: &str) -> Result<()> {
    for _ in 0..120 {
        if let Ok(r) = http.get(format!("{base}/api/health/live")).send().await {
            if r.status() == 200 {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = Command::new("podman").args(["logs", container]).output()?;
    bail!(
        "the container never answered; its log: {}{}",
        String::from_utf8_lossy(&log.stdout),
        String::from_utf8_lossy(&log.stderr)
    )
}

async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> Result<reqwest::Response> {
    Ok(http
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({"domain": "acme", "username": "jdoe", "password": password}))
        .send()
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_runs_as_its_own_user_keeps_its_data_in_the_volume_and_signs_in_through_podman(
) -> Result<()> {
    install_podman()?;
    if !Command::new("podman")
        .args(["image", "exists", &image()])
        .status()?
        .success()
    {
        bail!(
            "{} is missing: run `./x image` (or `./x test`, which builds it)",
            image()
        );
    }

    // What the image says about itself.
    let inspect: Value = serde_json::from_str(&podman_text(&["image", "inspect", &image()])?)?;
    let config = &inspect[0]["Config"];
    assert_eq!(config["User"], "10001:10001", "{config}");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/bin/latchkey"])
    );
    assert!(
        config["Volumes"]["/var/lib/latchkey"].is_object(),
        "{config}"
    );
    assert!(config["ExposedPorts"]["8080/tcp"].is_object(), "{config}");
    let env: Vec<&str> = config["Env"]
        .as_array()
        .ok_or_else(|| anyhow!("no Env"))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(env.contains(&"SSPM_LISTEN=0.0.0.0:8080"), "{env:?}");
    // One layer: the image is its own files and nothing else.
    assert_eq!(
        inspect[0]["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1)
    );

    let tag = format!("latchkey-test-{}-{}", std::process::id(), free_port());
    let mut made = Made {
        containers: Vec::new(),
        volume: tag.clone(),
        secret: tag.clone(),
    };
    podman(&["volume", "create", &made.volume])?;
    // The key as podman keeps secrets: from a file, never on a command line.
    let key_dir = latchkey_e2e::TempDir::new("lk-image-key")?;
    let key_file = key_dir.path().join("key");
    let key = podman(
        &[
            &["run", "--rm"],
            &RUNTIME[..],
            &["--network", "none", &image(), "secret-key"],
        ]
        .concat(),
    )?;
    std::fs::write(&key_file, &key.stdout)?;
    podman(&[
        "secret",
        "create",
        &made.secret,
        key_file.to_str().expect("UTF-8"),
    ])?;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let first = run_container(&mut made, port)?;
    wait_live(&http, &base, &first).await?;

    // The server is the container's first process, as the image's user.
    let pid = podman_text(&["inspect", "--format", "{{.State.Pid}}", &first])?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .ok_or_else(|| anyhow!("no Uid line"))?;
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == "10001"),
        "{uid_line}"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe"))?
            .file_name()
            .and_then(|n| n.to_str()),
        Some("latchkey")
    );

    // An administrator's first steps through the image's own command line.
    let cli = |args: &[&str]| -> Result<String> {
        podman_text(&[&["exec", first.as_str(), "latchkey"], args].concat())
    };
    cli(&["domain", "create", "--slug", "acme", "--name", "Acme"])?;
    let temporary = cli(&[
        "user",
        "create",
        "--domain",
        "acme",
        "--username",
        "jdoe",
        "--display-name",
        "Jane Doe",
    ])?;
    assert!(temporary.chars().count() >= 16, "{temporary:?}");

    let page = http.get(format!("{base}/")).send().await?;
    assert_eq!(page.status(), 200);
    assert!(page.text().await?.contains("<html"), "the PWA is served");
    let response = sign_in(&http, &base, &temporary).await?;
    assert_eq!(response.status(), 200);
    let info: SessionInfo = response.json().await?;
    assert!(info.must_change_password);
    assert_eq!(info.user.display_name, "Jane Doe");

    // SIGTERM (podman stop) ends it cleanly.
    podman(&["stop", "--time", "30", &first])?;
    assert_eq!(
        podman_text(&["inspect", "--format", "{{.State.ExitCode}}", &first])?,
        "0"
    );

    // A new container on the same volume finds the same data.
    let second = run_container(&mut made, port)?;
    wait_live(&http, &base, &second).await?;
    let again = sign_in(&http, &base, &temporary).await?;
    assert_eq!(again.status(), 200, "the user survived in the volume");
    let wrong = sign_in(&http, &base, "not-the-password-at-all").await?;
    assert_eq!(wrong.status(), 401);
    Ok(())
}

/// The static binary looks host names up with glibc's built-in `files` and
/// `dns` (no NSS modules can be loaded in a `FROM scratch` image): a
/// directory named through the container's /etc/hosts (`--add-host`) is
/// found, so connecting to it is refused by its closed port, not by the
/// name; without the entry the name is unknown, in words.
#[test]
fn the_images_static_binary_resolves_a_directory_host_from_etc_hosts() -> Result<()> {
    install_podman()?;
    let dir = latchkey_e2e::TempDir::new("lk-image-hosts")?;
    let config = dir.path().join("latchkey.toml");
    // A loopback port nothing listens on once free_port has let it go.
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "[directories.corp]\nkind = \"ldap\"\nurl = \"ldap://ldap.latchkey.test:{port}\"\n\
             allow_plain = true\nbase_dn = \"dc=example,dc=org\"\n\
             bind_dn = \"cn=latchkey,dc=example,dc=org\"\nbind_password_env = \"CORP_PW\"\n"
        ),
    )?;
    let mount = format!("{}:/etc/latchkey/latchkey.toml:ro", config.display());
    let directory_test = |extra: &[&str]| -> Result<String> {
        let out = Command::new("podman")
            .args(["run", "--rm"])
            .args(RUNTIME)
            .args([
                "--network",
                "host",
                "--volume",
                &mount,
                "--env",
                "CORP_PW=unused",
            ])
            .args(extra)
            .arg(image())
            .args(["--config", "/etc/latchkey/latchkey.toml"])
            .args(["directory", "test", "--name", "corp"])
            .stdin(Stdio::null())
            .output()?;
        ensure!(!out.status.success(), "nothing listens there");
        Ok(String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let found = directory_test(&["--add-host", "ldap.latchkey.test:127.0.0.1"])?;
    assert!(found.contains("Connection refused"), "{found}");
    let unknown = directory_test(&[])?;
    assert!(
        unknown.contains("failed to lookup address information"),
        "{unknown}"
    );
    Ok(())
}
