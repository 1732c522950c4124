//! `latchkey directory test --name X [--user NAME]`: what an administrator
//! runs after writing a `[directories.X]` section, before a domain uses it.
//! Each step prints one line; the first that fails says what to fix and the
//! command fails.

use std::io::Write;

use anyhow::{anyhow, bail};

use crate::config::Config;
use crate::directory::{Directory, DirectoryError, DirectoryLock};

pub async fn test(
    config: &Config,
    name: &str,
    user: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let Some(settings) = config.directories.get(name) else {
        let known: Vec<_> = config.directories.keys().cloned().collect();
        bail!(
            "there is no [directories.{name}] in the configuration{}",
            if known.is_empty() {
                String::new()
            } else {
                format!(" (there is: {})", known.join(", "))
            }
        );
    };
    let directory = Directory::new(name, settings.clone()).map_err(|e| anyhow!(e))?;
    writeln!(
        out,
        "ok: the settings of {name:?} are complete ({}{})",
        settings.url,
        if settings.uses_tls() {
            ", encrypted"
        } else {
            ", NOT encrypted: allowed by allow_plain, for a test directory only"
        }
    )?;

    // A name no user has: proves the service account can bind and search
    // under base_dn without touching anyone.
    let probe = format!("latchkey-probe-{}", uuid::Uuid::new_v4().simple());
    match directory.find_user(&probe).await {
        Ok(_) => writeln!(
            out,
            "ok: the service account {} binds and searches under {}",
            settings.bind_dn, settings.base_dn
        )?,
        Err(DirectoryError::Unavailable(_, why)) => bail!(
            "cannot reach {} within {} s: {why}. Check the URL, the port, the firewall and (for TLS) the certificate",
            settings.url,
            settings.timeout_secs
        ),
        Err(e) => bail!("{e}"),
    }

    if let Some(username) = user {
        match directory.find_user(username).await {
            Ok(Some(found)) => {
                writeln!(out, "ok: {username:?} is {}", found.dn)?;
                writeln!(
                    out,
                    "    id {}, display name {:?}, mail {}, {}{}",
                    if found.id.is_empty() {
                        "MISSING (the directory does not return it: Latchkey needs it)"
                    } else {
                        &found.id
                    },
                    found.display_name,
                    found.mail.as_deref().unwrap_or("none"),
                    match found.lock {
                        DirectoryLock::None => "not locked",
                        DirectoryLock::Locked => "locked by the directory",
                        DirectoryLock::Permanent => "locked or disabled by an administrator",
                    },
                    if found.must_change {
                        ", must change the password"
                    } else {
                        ""
                    }
                )?;
            }
            Ok(None) => bail!(
                "no user {username:?} under {} with the filter {}: check base_dn and user_filter",
                settings.base_dn,
                settings.user_filter()
            ),
            Err(e) => bail!("{e}"),
        }
    }

    match directory.policy().await {
        Ok(None) => writeln!(
            out,
            "note: no password policy entry could be read (the directory's own rules still apply)"
        )?,
        Ok(Some(policy)) => writeln!(
            out,
            "ok: the directory's password policy: {}",
            crate::directory::policy::describe(settings.kind, &policy)
        )?,
        Err(e) => writeln!(out, "note: the password policy could not be read: {e}")?,
    }
    writeln!(
        out,
        "note: write access (resets, unlocks) is not tried here, to change nothing; \
         the first reset says so clearly if it is missing"
    )?;
    Ok(())
}
