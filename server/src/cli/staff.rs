//! What the command line does before anyone can sign in: create the first
//! administrator, import users from CSV (temporary passwords written to a
//! file only its owner can read), unlock, issue a temporary password, and set
//! a role. Every step is an audit event with actor `cli`.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use latchkey_shared::admin::Role;
use latchkey_shared::Username;

use crate::accounts::staff::{self as ops, load_target, Target};
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::{domains, users};
use crate::settings::provisioning::{self, CreatedUser};
use crate::state::AppState;

async fn target(state: &AppState, domain: &str, username: &str) -> anyhow::Result<Target> {
    let d = domains::by_slug(&state.db, domain)
        .await?
        .ok_or_else(|| anyhow!("no domain with slug {domain:?}"))?;
    let key = Username::parse(username)
        .map_err(|e| anyhow!("invalid user name: {e}"))?
        .key();
    let id = users::by_key(&state.db, d.id, &key)
        .await?
        .ok_or_else(|| anyhow!("no user {username:?} in domain {domain:?}"))?
        .id;
    load_target(state, id)
        .await?
        .ok_or_else(|| anyhow!("no user {username:?} in domain {domain:?}"))
}

/// Sets `role` (and an LRA's domains) on an existing user.
pub async fn set_user_role(
    state: &AppState,
    domain: &str,
    username: &str,
    role: Role,
    lra_domains: &[String],
) -> anyhow::Result<()> {
    let t = target(state, domain, username).await?;
    if role == Role::Lra && lra_domains.is_empty() {
        bail!("an LRA needs at least one domain (--lra-domains partners,hrcc)");
    }
    ops::change_role(
        state,
        &t,
        &Actor::cli(),
        AuditKind::CliRoleChange,
        role,
        lra_domains,
        None,
    )
    .await?;
    Ok(())
}

/// `latchkey admin create`: a new administrator with a temporary password.
pub async fn create_administrator(
    state: &AppState,
    domain: &str,
    username: &str,
    display_name: &str,
    email: Option<&str>,
) -> anyhow::Result<CreatedUser> {
    let created = provisioning::create_user(state, domain, username, display_name, email).await?;
    set_user_role(state, domain, username, Role::Admin, &[]).await?;
    Ok(created)
}

/// `latchkey user unlock`.
pub async fn unlock(
    state: &AppState,
    domain: &str,
    username: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let t = target(state, domain, username).await?;
    let reason = ops::valid_reason(reason)?;
    ops::unlock(state, &t, &Actor::cli(), AuditKind::CliUnlock, &reason).await?;
    Ok(())
}

/// `latchkey user temp-password`: returns the new temporary password.
pub async fn temporary_password(
    state: &AppState,
    domain: &str,
    username: &str,
    reason: &str,
) -> anyhow::Result<String> {
    let t = target(state, domain, username).await?;
    let reason = ops::valid_reason(reason)?;
    let (password, _) = ops::issue_temporary_password(
        state,
        &t,
        &Actor::cli(),
        AuditKind::CliTemporaryPassword,
        &reason,
    )
    .await?;
    Ok(password)
}

/// One line of the import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub username: String,
    pub display_name: String,
    pub domain: String,
    pub email: Option<String>,
}

/// Splits CSV text into records (RFC 4180: quotes, doubled quotes, commas
/// and line breaks inside quotes).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut in_quotes = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".to_owned());
    }
    if any {
        record.push(field);
        records.push(record);
    }
    Ok(records
        .into_iter()
        .filter(|r| !(r.len() == 1 && r[0].trim().is_empty()))
        .collect())
}

/// Reads `username,display_name,domain[,email]` lines; a first line whose
/// first field is `username` (or `user name`) is a header.
pub fn parse_import(text: &str) -> anyhow::Result<Vec<ImportRow>> {
    let records = parse_csv(text).map_err(|e| anyhow!("the CSV file is not valid: {e}"))?;
    let mut rows = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let line = i + 1;
        if i == 0 {
            let first = r
                .first()
                .map(|f| f.trim().to_lowercase())
                .unwrap_or_default();
            if first == "username" || first == "user name" || first == "user_name" {
                continue;
            }
        }
        if r.len() < 3 || r.len() > 4 {
            bail!(
                "line {line}: expected username,display_name,domain[,email], found {} fields",
                r.len()
            );
        }
        let username = r[0].trim().to_owned();
        Username::parse(&username).map_err(|e| anyhow!("line {line}: invalid user name: {e}"))?;
        let display_name = r[1].trim().to_owned();
        if display_name.is_empty() {
            bail!("line {line}: the display name is empty");
        }
        let domain = r[2].trim().to_ascii_lowercase();
        let email = r
            .get(3)
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        if email.as_ref().is_some_and(|e| !e.contains('@')) {
            bail!("line {line}: the e-mail address must contain an @");
        }
        rows.push(ImportRow {
            username,
            display_name,
            domain,
            email,
        });
    }
    Ok(rows)
}

/// Creates a file only its owner may read and write; refuses to overwrite.
fn create_private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))
}

/// `latchkey user import`: validates every line first (nothing is created if
/// one is wrong or a user already exists), then creates the users and writes
/// `domain,username,temporary_password` lines to `output` (mode 0600).
/// Returns the number of users created.
pub async fn import_users(state: &AppState, csv: &str, output: &Path) -> anyhow::Result<usize> {
    let rows = parse_import(csv)?;
    if rows.is_empty() {
        bail!("the CSV file has no users");
    }
    let mut seen = std::collections::HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let d = domains::by_slug(&state.db, &row.domain)
            .await?
            .ok_or_else(|| anyhow!("user {}: no domain with slug {:?}", i + 1, row.domain))?;
        let key = Username::parse(&row.username)
            .map_err(|e| anyhow!("{e}"))?
            .key();
        if !seen.insert((d.id, key.clone())) {
            bail!(
                "user {:?} appears twice for domain {}",
                row.username,
                row.domain
            );
        }
        let exists = sqlx::query("SELECT id FROM users WHERE domain_id = $1 AND username_key = $2")
            .bind(d.id)
            .bind(&key)
            .fetch_optional(&state.db.pool)
            .await?;
        if exists.is_some() {
            bail!(
                "user {:?} already exists in domain {}",
                row.username,
                row.domain
            );
        }
    }
    let mut file = create_private_file(output)?;
    writeln!(file, "domain,username,temporary_password")?;
    let mut created = 0;
    for row in &rows {
        let user = provisioning::create_user(
            state,
            &row.domain,
            &row.username,
            &row.display_name,
            row.email.as_deref(),
        )
        .await
        .with_context(|| format!("creating {:?} in {}", row.username, row.domain))?;
        writeln!(
            file,
            "{},{},{}",
            row.domain, row.username, user.temporary_password
        )?;
        file.flush()?;
        created += 1;
    }
    file.sync_all()?;
    let detail = format!("{created} users imported");
    let actor = Actor::cli();
    let ev = actor.did(AuditKind::CliUserImport).detail(&detail);
    audit::record(&state.db.pool, state.now(), &ev).await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_and_headers() {
        let text = "username,display_name,domain,email\r\njsmith,\"Smith, Jane\",partners,j@x.org\nbob,\"Bob \"\"B\"\" Brown\",hrcc\n\n";
        let rows = parse_import(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].display_name, "Smith, Jane");
        assert_eq!(rows[0].email.as_deref(), Some("j@x.org"));
        assert_eq!(rows[1].display_name, "Bob \"B\" Brown");
        assert_eq!(rows[1].email, None);
        assert!(parse_import("a,b\n").is_err());
        assert!(parse_import("\"open,b,c\n").is_err());
    }
}
