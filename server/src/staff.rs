//! Staff roles, enforced on every request: the [`Staff`] extractor (an LRA or
//! an administrator with a full session) and [`AdminOnly`]; the scope of an
//! LRA (the domains in `staff_domains`); the re-authentication window for
//! credential-changing actions; what staff see of an account.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_shared::admin::{Role, UserState, MAX_REASON_CHARS, REAUTH_WINDOW_SECS};
use sqlx::Row;

use crate::db::RowExt;
use crate::error::AppError;
use crate::lockout::LockoutPolicy;
use crate::session::{SessionUser, SignedIn};
use crate::state::AppState;

/// Audit event kinds of staff and administrator actions.
pub mod kind {
    pub const REAUTH: &str = "staff.reauth";
    pub const UNLOCK: &str = "staff.unlock";
    pub const TEMPORARY_PASSWORD: &str = "staff.temporary_password";
    pub const CLEAR_ENROLMENT: &str = "staff.clear_enrolment";
    pub const DISABLE: &str = "staff.disable";
    pub const ENABLE: &str = "staff.enable";
    pub const ROLE_CHANGE: &str = "admin.role_change";
    pub const DOMAIN_CREATE: &str = "admin.domain_create";
    pub const DOMAIN_UPDATE: &str = "admin.domain_update";
    pub const NOTICE_CREATE: &str = "admin.notice_create";
    pub const NOTICE_UPDATE: &str = "admin.notice_update";
    pub const NOTICE_DELETE: &str = "admin.notice_delete";
    pub const MANDATORY_RESET: &str = "admin.mandatory_reset";
    pub const HELP_DESK_UPDATE: &str = "admin.help_desk_update";
    pub const API_KEY_CREATE: &str = "admin.api_key_create";
    pub const API_KEY_REVOKE: &str = "admin.api_key_revoke";
    pub const PORTAL_VERIFY: &str = "portal.verify";
    pub const CLI_UNLOCK: &str = "cli.unlock";
    pub const CLI_TEMPORARY_PASSWORD: &str = "cli.temporary_password";
    pub const CLI_ROLE_CHANGE: &str = "cli.role_change";
    pub const CLI_IMPORT: &str = "cli.user_import";
}

/// A signed-in LRA or administrator (full session, not a temporary password).
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: SessionUser,
    pub role: Role,
    /// The domains an LRA looks after (unused for an administrator).
    pub domain_ids: Vec<i64>,
    /// When the session last proved the password.
    pub reauth_at: Option<i64>,
}

impl Staff {
    /// `username@domain`, as the audit log's actor.
    pub fn actor(&self) -> String {
        format!("{}@{}", self.user.username_key, self.user.domain_slug)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this person may see and act on users of `domain_id`.
    pub fn covers(&self, domain_id: i64) -> bool {
        self.is_admin() || self.domain_ids.contains(&domain_id)
    }

    /// Refuses unless the password was entered within the last 5 minutes.
    pub fn require_fresh(&self, now: i64) -> Result<(), AppError> {
        match self.reauth_at {
            Some(t) if now - t < REAUTH_WINDOW_SECS && now >= t => Ok(()),
            _ => Err(AppError::ReauthRequired),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if !user.role.is_staff() {
            return Err(AppError::Forbidden(
                "This page is for Local Registration Authorities and administrators.".to_owned(),
            ));
        }
        let domain_ids = if user.role == Role::Lra {
            sqlx::query("SELECT domain_id FROM staff_domains WHERE user_id = $1")
                .bind(user.user_id)
                .fetch_all(&state.db.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("domain_id"))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let reauth_at: Option<i64> = sqlx::query("SELECT reauth_at FROM sessions WHERE id = $1")
            .bind(&user.session_id)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get("reauth_at"))
            .transpose()?
            .flatten();
        Ok(Staff {
            role: user.role,
            user,
            domain_ids,
            reauth_at,
        })
    }
}

/// An administrator; anyone else gets 403.
#[derive(Debug, Clone)]
pub struct AdminOnly(pub Staff);

impl FromRequestParts<AppState> for AdminOnly {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if !staff.is_admin() {
            return Err(AppError::Forbidden(
                "Only an administrator may do this.".to_owned(),
            ));
        }
        Ok(AdminOnly(staff))
    }
}

/// A reason: 1-500 characters once trimmed.
pub fn valid_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadRequest(
            "Give a reason for this action; it is recorded in the audit log.".to_owned(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::BadRequest(format!(
            "The reason is too long (at most {MAX_REASON_CHARS} characters)."
        )));
    }
    Ok(reason.to_owned())
}

/// An account as staff see it, with what is needed to act on it.
#[derive(Debug, Clone)]
pub struct Target {
    pub state: UserState,
    pub domain_id: i64,
    pub username_key: String,
    pub password_hash: String,
}

/// The account `user_id` with its lock, enrolment and staff domains.
pub async fn load_target(state: &AppState, user_id: i64) -> Result<Option<Target>, AppError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.username_key, u.display_name, u.email, u.password_hash, \
                u.password_changed_at, u.temp_password, u.temp_password_expires_at, u.must_change, \
                u.disabled, u.role, u.domain_id, \
                (SELECT MAX(a.created_at) FROM security_answers a WHERE a.user_id = u.id) AS enrolled_at, d.slug, d.name AS domain_name, \
                d.lockout_threshold, d.lockout_minutes, f.failed_count, f.locked_at \
         FROM users u JOIN domains d ON d.id = u.domain_id \
         LEFT JOIN failure_counters f ON f.domain_id = u.domain_id AND f.username_key = u.username_key \
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let role = Role::parse(&row.try_get::<String, _>("role")?);
    let staff_domains = if role == Role::Lra {
        sqlx::query(
            "SELECT d.slug FROM staff_domains s JOIN domains d ON d.id = s.domain_id \
             WHERE s.user_id = $1 ORDER BY d.slug",
        )
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("slug"))
        .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let policy = LockoutPolicy::resolve(
        row.try_get("lockout_threshold")?,
        row.try_get("lockout_minutes")?,
        &state.config,
    );
    let failed: Option<i64> = row.try_get("failed_count")?;
    let locked_at: Option<i64> = row.try_get("locked_at")?;
    let (locked, locked_until, failed_attempts) =
        lock_state(policy, failed, locked_at, state.now());
    let enrolled_at: Option<i64> = row.try_get("enrolled_at")?;
    let temporary_password = row.flag("temp_password")?;
    let user = UserState {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        domain: row.try_get("slug")?,
        domain_name: row.try_get("domain_name")?,
        role,
        staff_domains,
        locked,
        locked_until,
        failed_attempts,
        enrolled: enrolled_at.is_some(),
        enrolled_at,
        temporary_password,
        temporary_password_expires_at: if temporary_password {
            row.try_get("temp_password_expires_at")?
        } else {
            None
        },
        must_change: row.flag("must_change")?,
        password_changed_at: row.try_get("password_changed_at")?,
        disabled: row.flag("disabled")?,
    };
    Ok(Some(Target {
        state: user,
        domain_id: row.try_get("domain_id")?,
        username_key: row.try_get("username_key")?,
        password_hash: row.try_get("password_hash")?,
    }))
}

/// `(locked, locked_until, failed_attempts)` from a failure counter row.
pub fn lock_state(
    policy: LockoutPolicy,
    failed: Option<i64>,
    locked_at: Option<i64>,
    now: i64,
) -> (bool, Option<i64>, i64) {
    match locked_at {
        Some(_) if policy.lock_secs == 0 => (true, None, failed.unwrap_or(0)),
        Some(at) if at + policy.lock_secs > now => {
            (true, Some(at + policy.lock_secs), failed.unwrap_or(0))
        }
        // The lock has lifted by itself: the next attempt starts afresh.
        Some(_) => (false, None, 0),
        None => (false, None, failed.unwrap_or(0)),
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` (UTC) of unix seconds.
pub fn iso_date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of unix seconds.
pub fn iso_datetime(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(unix),
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// A plausible `YYYY-MM-DD`.
pub fn valid_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let m: u32 = s[5..7].parse().unwrap_or(0);
    let d: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&m) && (1..=31).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_750_000_000), "2025-06-15");
        assert_eq!(iso_datetime(1_750_000_000), "2025-06-15T15:06:40Z");
        assert_eq!(iso_date(951_782_400), "2000-02-29");
        assert!(valid_iso_date("2019-12-13"));
        assert!(!valid_iso_date("2019-13-13") && !valid_iso_date("13-12-2019"));
    }

    #[test]
    fn locks_lift_after_their_time() {
        let p = LockoutPolicy {
            threshold: 5,
            lock_secs: 60,
        };
        assert_eq!(lock_state(p, Some(5), Some(100), 120), (true, Some(160), 5));
        assert_eq!(lock_state(p, Some(5), Some(100), 160), (false, None, 0));
        assert_eq!(lock_state(p, Some(2), None, 160), (false, None, 2));
        let forever = LockoutPolicy {
            threshold: 5,
            lock_secs: 0,
        };
        assert_eq!(
            lock_state(forever, Some(5), Some(1), 1_000_000),
            (true, None, 5)
        );
    }
}
