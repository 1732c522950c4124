//! The audit trail: one row per security-relevant event, also emitted as a
//! tracing event (target `audit`). Never pass a password or token here.

use sqlx::{Any, Executor};

/// Kinds of audit events.
pub mod kind {
    pub const SIGN_IN: &str = "sign_in";
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    pub const SIGN_OUT: &str = "sign_out";
    pub const PASSWORD_CHANGE: &str = "password_change";
    pub const PASSWORD_REHASH: &str = "password_rehash";
    pub const DOMAIN_CREATE: &str = "cli.domain_create";
    pub const USER_CREATE: &str = "cli.user_create";
    pub const DEMO_SEED: &str = "cli.demo_seed";
}

/// Results of audit events.
pub mod result {
    pub const SUCCESS: &str = "success";
    pub const FAILURE: &str = "failure";
    pub const LOCKED: &str = "locked";
    pub const REFUSED: &str = "refused";
}

#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    pub kind: &'a str,
    /// Who acted (user name, or `cli`).
    pub actor: Option<&'a str>,
    /// Whom it concerned (user name as typed, lower-cased).
    pub subject: Option<&'a str>,
    /// Domain slug.
    pub domain: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub result: &'a str,
    /// A short reason, never a secret.
    pub detail: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(kind: &'a str, result: &'a str) -> Self {
        Self {
            kind,
            result,
            ..Self::default()
        }
    }
}

/// Writes the event (in the caller's transaction if given one) and logs it.
pub async fn record<'e, E>(executor: E, at: i64, event: &AuditEvent<'_>) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    tracing::info!(
        target: "audit",
        kind = event.kind,
        result = event.result,
        actor = event.actor,
        subject = event.subject,
        domain = event.domain,
        source_ip = event.source_ip,
        detail = event.detail,
        "audit event"
    );
    sqlx::query(
        "INSERT INTO audit_events (at, kind, actor, subject, domain, source_ip, result, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(at)
    .bind(event.kind)
    .bind(event.actor)
    .bind(event.subject)
    .bind(event.domain)
    .bind(event.source_ip)
    .bind(event.result)
    .bind(event.detail)
    .execute(executor)
    .await?;
    Ok(())
}
