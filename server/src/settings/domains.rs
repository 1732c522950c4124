//! Domains: the SSPM flag and text, the password policy, the lockout and
//! the self-service settings. Every setting but the name and the text is a
//! security setting: changing one needs a fresh re-authentication, as the
//! store and API keys do, and its audit row says what changed.

use latchkey_shared::admin::{
    AdminDomain, DomainCreate, DomainUpdate, DOMAIN_FIELDS_WITHOUT_REAUTH,
};
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use crate::accounts::staff::StaffScope;
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::domains::{self, Domain};
use crate::error::{AppError, AppResult};
use crate::settings::provisioning::{insert_domain, NewDomain};
use crate::state::AppState;

/// Every domain with its settings.
pub async fn list(state: &AppState) -> AppResult<Vec<AdminDomain>> {
    let mut out = Vec::new();
    for d in domains::all(&state.db).await? {
        out.push(admin_domain(state, &d).await?);
    }
    Ok(out)
}

/// A new domain with the default policy; 409 if the short name is taken.
pub async fn create(state: &AppState, actor: &Actor, req: &DomainCreate) -> AppResult<AdminDomain> {
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let slug = req.slug.trim().to_ascii_lowercase();
    if domains::by_slug(&state.db, &slug).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "A domain with the short name {slug:?} already exists."
        )));
    }
    let new = NewDomain {
        slug: slug.clone(),
        name: req.name.trim().to_owned(),
        sspm_available: req.sspm_available,
        unavailable_text: clean_text(req.unavailable_text.as_deref()),
    };
    let mut tx = state.db.pool.begin().await?;
    // Slug, name and uniqueness were checked above: what is left is the
    // database's failure, a 500.
    insert_domain(&mut tx, state.now(), &new)
        .await
        .map_err(AppError::internal)?;
    let ev = actor.did(AuditKind::AdminDomainCreate).domain(&slug);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let d = domains::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    admin_domain(state, &d).await
}

/// Edits the domain `slug`; its policy version goes up if the policy
/// changed. A change to a security setting needs `admin`'s fresh
/// re-authentication; the audit row lists each changed field, before and
/// after.
pub async fn update(
    state: &AppState,
    admin: &StaffScope,
    actor: &Actor,
    slug: &str,
    req: &DomainUpdate,
) -> AppResult<AdminDomain> {
    let d = domains::by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let mut policy = req.policy.clone();
    policy.version = d.policy.version;
    let policy_changed = policy != d.policy;
    let policy_json = serde_json::to_string(&policy).map_err(AppError::internal)?;
    let current_ss = crate::accounts::self_service::checks::settings(&state.db, d.id).await?;
    let before = DomainUpdate {
        name: d.name.clone(),
        sspm_available: d.sspm_available,
        unavailable_text: d.unavailable_text.clone(),
        policy: d.policy.clone(),
        lockout_threshold: d.lockout_threshold,
        lockout_minutes: d.lockout_minutes,
        self_service: Some(current_ss.clone()),
    };
    let after = DomainUpdate {
        name: req.name.trim().to_owned(),
        unavailable_text: clean_text(req.unavailable_text.as_deref()),
        policy,
        self_service: Some(req.self_service.clone().unwrap_or(current_ss)),
        ..req.clone()
    };
    let changes = changes(&before, &after)?;
    if changes
        .iter()
        .any(|c| !DOMAIN_FIELDS_WITHOUT_REAUTH.contains(&c.top_field()))
    {
        admin.require_fresh(state.now())?;
    }
    let detail = if changes.is_empty() {
        "nothing changed".to_owned()
    } else {
        describe(&changes)
    };
    let mut tx = state.db.pool.begin().await?;
    write_domain(&mut tx, d.id, req, &policy_json, policy_changed).await?;
    if let Some(ss) = &req.self_service {
        crate::accounts::self_service::checks::set_settings(&mut *tx, d.id, ss).await?;
    }
    let ev = actor
        .did(AuditKind::AdminDomainUpdate)
        .domain(&d.slug)
        .detail(&detail);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let d = domains::by_id(&state.db, d.id)
        .await?
        .ok_or(AppError::NotFound)?;
    admin_domain(state, &d).await
}

/// One changed field of a domain: its path (`policy.min_length`), and its
/// value before and after as JSON.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    path: String,
    before: Value,
    after: Value,
}

impl Change {
    fn top_field(&self) -> &str {
        self.path.split('.').next().unwrap_or_default()
    }
}

/// Every field that differs between `before` and `after`, nested objects
/// field by field (so a field added to the settings later is listed too).
/// The policy's version is the server's count, not a setting.
fn changes(before: &DomainUpdate, after: &DomainUpdate) -> AppResult<Vec<Change>> {
    let mut before = serde_json::to_value(before).map_err(AppError::internal)?;
    let mut after = serde_json::to_value(after).map_err(AppError::internal)?;
    for v in [&mut before, &mut after] {
        if let Some(policy) = v.get_mut("policy").and_then(Value::as_object_mut) {
            policy.remove("version");
        }
    }
    let mut out = Vec::new();
    diff("", &before, &after, &mut out);
    Ok(out)
}

fn diff(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff(
                    &sub,
                    b.get(k).unwrap_or(&Value::Null),
                    a.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if before != after => out.push(Change {
            path: path.to_owned(),
            before: before.clone(),
            after: after.clone(),
        }),
        _ => {}
    }
}

/// `path: before -> after` for each change, short values first (a list such
/// as the question catalogue is summed up by its length), so that the
/// audit row's bound cuts the long ones, not the switches.
fn describe(changes: &[Change]) -> String {
    fn show(v: &Value) -> String {
        match v {
            Value::Array(items) => format!("[{} items]", items.len()),
            Value::Null => "none".to_owned(),
            other => other.to_string(),
        }
    }
    let mut parts: Vec<(bool, String)> = changes
        .iter()
        .map(|c| {
            let long = [&c.before, &c.after].iter().any(|v| match v {
                Value::Array(_) => true,
                Value::String(s) => s.chars().count() > 40,
                _ => false,
            });
            let text = match (&c.before, &c.after) {
                (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
                    format!("{}: changed ({} items)", c.path, a.len())
                }
                _ => format!("{}: {} -> {}", c.path, show(&c.before), show(&c.after)),
            };
            (long, text)
        })
        .collect();
    parts.sort_by_key(|(long, _)| *long);
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The domain as the console shows it: with the defaults it falls back on
/// and its number of users.
async fn admin_domain(state: &AppState, d: &Domain) -> AppResult<AdminDomain> {
    Ok(AdminDomain {
        slug: d.slug.clone(),
        name: d.name.clone(),
        sspm_available: d.sspm_available,
        unavailable_text: d.unavailable_text.clone(),
        policy: d.policy.clone(),
        lockout_threshold: d.lockout_threshold,
        lockout_minutes: d.lockout_minutes,
        default_lockout_threshold: i64::from(state.config.lockout_threshold),
        default_lockout_minutes: i64::from(state.config.lockout_minutes),
        user_count: user_count(state, d.id).await?,
        store: d.store.to_column(),
        self_service: crate::accounts::self_service::checks::settings(&state.db, d.id).await?,
        unreadable_authenticators: unreadable_authenticators(state, d.id).await?,
    })
}

/// Authenticators in use in the domain whose key does not open with the
/// server's key (all of them without one): after `secret_key` changed.
async fn unreadable_authenticators(state: &AppState, domain_id: i64) -> AppResult<i64> {
    let rows = sqlx::query(
        "SELECT a.user_id, a.secret FROM authenticators a JOIN users u ON u.id = a.user_id \
         WHERE u.domain_id = $1 AND a.confirmed_at IS NOT NULL",
    )
    .bind(domain_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut count = 0;
    for r in &rows {
        let (user_id, sealed): (i64, String) = (r.try_get("user_id")?, r.try_get("secret")?);
        let opens = state
            .secret_box
            .as_deref()
            .is_some_and(|key| key.open(user_id, &sealed).is_ok());
        count += i64::from(!opens);
    }
    Ok(count)
}

async fn user_count(state: &AppState, domain_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM users WHERE domain_id = $1")
        .bind(domain_id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")
}

/// The text trimmed; none if that leaves nothing.
fn clean_text(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The domain's own columns from `req` (the policy as JSON).
async fn write_domain(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    req: &DomainUpdate,
    policy_json: &str,
    policy_changed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE domains SET name = $1, sspm_available = $2, unavailable_text = $3, policy = $4, \
         policy_version = policy_version + $5, lockout_threshold = $6, lockout_minutes = $7 \
         WHERE id = $8",
    )
    .bind(req.name.trim())
    .bind(req.sspm_available)
    .bind(clean_text(req.unavailable_text.as_deref()))
    .bind(policy_json)
    .bind(i64::from(policy_changed))
    .bind(req.lockout_threshold)
    .bind(req.lockout_minutes)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_shared::self_service::{SecondFactor, SelfServiceSettings};

    fn domain() -> DomainUpdate {
        DomainUpdate {
            name: "Partners".into(),
            sspm_available: true,
            unavailable_text: None,
            policy: latchkey_shared::PasswordPolicy::default(),
            lockout_threshold: None,
            lockout_minutes: Some(30),
            self_service: Some(SelfServiceSettings {
                second_factor: SecondFactor::WithQuestions,
                ..SelfServiceSettings::default()
            }),
        }
    }

    #[test]
    fn each_changed_field_is_described_before_and_after_switches_first() {
        let before = domain();
        let mut after = domain();
        after.self_service.as_mut().unwrap().second_factor = SecondFactor::Off;
        after.self_service.as_mut().unwrap().catalogue.pop();
        after.lockout_threshold = Some(5);
        after.policy.min_length = 20;
        after.policy.version = 9;
        after.name = "Partners Health".into();
        let changes = changes(&before, &after).unwrap();
        assert_eq!(
            describe(&changes),
            "lockout_threshold: none -> 5; name: \"Partners\" -> \"Partners Health\"; \
             policy.min_length: 15 -> 20; \
             self_service.second_factor: \"with_questions\" -> \"off\"; \
             self_service.catalogue: [10 items] -> [9 items]"
        );
        assert!(changes.iter().all(|c| c.path != "policy.version"));
    }

    #[test]
    fn only_the_name_and_the_text_change_without_re_authentication() {
        let before = domain();
        let mut after = domain();
        after.name = "Other".into();
        after.unavailable_text = Some("Call us.".into());
        let changes = changes(&before, &after).unwrap();
        assert_eq!(changes.len(), 2);
        assert!(changes
            .iter()
            .all(|c| DOMAIN_FIELDS_WITHOUT_REAUTH.contains(&c.top_field())));
        assert!(super::changes(&before, &before).unwrap().is_empty());
    }
}
