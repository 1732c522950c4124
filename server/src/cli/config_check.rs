//! `latchkey config check`: what `serve` would refuse in the configuration
//! (a key no setting reads, a bad value, a secret file that cannot be read,
//! a directory's password not set), found without opening the database or
//! binding a port; and, when all is well, the effective settings with every
//! secret redacted.

use crate::config::Config;

/// The effective settings as TOML, or what is wrong.
pub fn check(config: &Config) -> anyhow::Result<String> {
    // `Config::load` has validated the values; these read the files and
    // variables the values point to, as the start does.
    config.secret_box()?;
    config.effective_metrics_token()?;
    if let Some(path) = &config.blocklist_file {
        crate::password::Blocklist::load(path)
            .map_err(|e| anyhow::anyhow!("cannot read blocklist_file {}: {e}", path.display()))?;
    }
    for (name, settings) in &config.directories {
        crate::directory::Directory::new(name, settings.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(mail) = &config.mail {
        mail.password().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(config.to_redacted_toml()?)
}
