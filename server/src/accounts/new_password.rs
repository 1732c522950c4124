//! A new password, accepted once for Change Password and Forgot Password:
//! the form (policy version, confirmation), the domain's policy re-checked
//! here (the client is not trusted), the server-only breached list, and no
//! reuse of the current or a recent password. Each refusal is audited with
//! the operation's event.

use latchkey_shared::normalize::normalize_password;
use latchkey_shared::{
    PasswordPolicy, PolicyContext, PolicyReport, RuleId, RuleResult, PRODUCT_NAME,
};

use super::store::{CredentialStore, NewCredential, Store};
use crate::audit::{self, AuditEvent, AuditResult};
use crate::db::domains::Domain;
use crate::db::users::{self, UserRecord};
use crate::error::{AppError, AppResult};
use crate::password::{Blocklist, HashTicket};
use crate::state::AppState;

/// The shared check plus the server-only breached-password list.
pub fn full_report(
    policy: &PasswordPolicy,
    password: &str,
    context: &PolicyContext,
    blocklist: &Blocklist,
) -> PolicyReport {
    let mut report = latchkey_shared::strength::check_password(policy, password, context);
    if !blocklist.is_empty() {
        let entry = RuleResult {
            rule: RuleId::NotBreached,
            passed: !blocklist.contains(password),
            message: latchkey_shared::strength::NOT_BREACHED_RULE.to_owned(),
        };
        let at = report
            .rules
            .iter()
            .position(|r| r.rule == RuleId::MinStrength)
            .unwrap_or(report.rules.len());
        report.rules.insert(at, entry);
    }
    report
}

/// What the person typed for a new password.
pub struct NewPasswordForm<'a> {
    pub new_password: &'a str,
    pub confirm_password: &'a str,
    /// The policy version the client checked against.
    pub policy_version: u32,
}

/// The checks that need no hashing, made before anything is counted: the
/// client checked against the domain's current policy, and typed the same
/// password twice.
pub fn check_form(domain: &Domain, form: &NewPasswordForm<'_>) -> AppResult<()> {
    if form.policy_version != domain.policy.version {
        return Err(AppError::PolicyChanged(Box::new(domain.policy.clone())));
    }
    if normalize_password(form.new_password) != normalize_password(form.confirm_password) {
        return Err(AppError::PasswordsDoNotMatch);
    }
    Ok(())
}

/// Accepts `form.new_password` for `account` and prepares it for the store:
/// the policy report, then reuse (`current`, when the person just typed it,
/// is compared without hashing; the stored current and previous passwords
/// with argon2 on `ticket`). `event` is the operation's audit event; a
/// refusal is recorded with it (`refused`, "policy" or "reused").
pub async fn accept(
    state: &AppState,
    ticket: &HashTicket,
    domain: &Domain,
    account: &UserRecord,
    form: &NewPasswordForm<'_>,
    current: Option<&str>,
    event: &AuditEvent<'_>,
) -> AppResult<NewCredential> {
    let refuse = |detail: &'static str| {
        let ev = event
            .clone()
            .with_result(AuditResult::Refused)
            .detail(detail);
        async move { audit::record(&state.db.pool, state.now(), &ev).await }
    };
    let context = PolicyContext {
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        domain_name: domain.name.clone(),
        product_name: PRODUCT_NAME.to_owned(),
    };
    let report = {
        let policy = domain.policy.clone();
        let password = form.new_password.to_owned();
        let blocklist = state.blocklist.clone();
        // zxcvbn can take a few milliseconds on long inputs: keep it off the
        // async workers.
        tokio::task::spawn_blocking(move || full_report(&policy, &password, &context, &blocklist))
            .await
            .map_err(AppError::internal)?
    };
    if !report.passed() {
        refuse("policy").await?;
        return Err(AppError::PasswordRejected(Box::new(report)));
    }
    let new = normalize_password(form.new_password);
    if current.is_some_and(|c| normalize_password(c) == new) {
        refuse("reused").await?;
        return Err(AppError::PasswordReused);
    }
    let store = Store::for_domain(state, domain)?;
    let depth = users::history_depth(&domain.policy);
    if store
        .was_used(&state.db, ticket, account, form.new_password, depth)
        .await?
    {
        refuse("reused").await?;
        return Err(AppError::PasswordReused);
    }
    store.prepare(ticket, form.new_password, current).await
}
