//! API types of the staff console (Local Registration Authority and
//! administrator) and of the portal's verification API.
//!
//! Staff endpoints need a full session of a user whose role allows them; the
//! ones that change a credential also need a password entry within the last
//! [`REAUTH_WINDOW_SECS`] (see [`paths::STAFF_REAUTH`]), else 403
//! `reauth_required`.

use serde::{Deserialize, Serialize};

use crate::policy::PasswordPolicy;

mod directory;

pub use directory::{
    directory_store, directory_warnings, messages, DirectoryAccount, DirectoryComplexity,
    DirectoryInfo, DirectoryKind, DirectoryPolicy, DirectoryPolicyReport, DomainStore, LockHolder,
    StoreUpdate, DIRECTORY_STORE_PREFIX, LOCAL_STORE,
};

/// A staff action that changes a credential needs a password entry this recent.
pub const REAUTH_WINDOW_SECS: i64 = 5 * 60;
/// Longest reason accepted for a staff action.
pub const MAX_REASON_CHARS: usize = 500;
/// Title of the notice the one-step mandatory reset publishes by default.
pub const MANDATORY_RESET_NOTICE_TITLE: &str = "Mandatory Password Reset In Effect";

pub mod paths {
    /// `POST` [`super::ReauthRequest`] → [`super::ReauthResponse`]: proves the
    /// password again (counts toward the lockout like a sign-in).
    pub const STAFF_REAUTH: &str = "/api/staff/reauth";
    /// `GET ?q=` → [`super::UserSearchResponse`]: users of the caller's domains.
    pub const STAFF_USERS: &str = "/api/staff/users";
    /// `GET /api/staff/users/{id}` → [`super::UserState`].
    pub const STAFF_USER: &str = "/api/staff/users/{id}";
    /// `POST` [`super::StaffActionRequest`] → [`super::UserState`] (re-auth).
    pub const STAFF_UNLOCK: &str = "/api/staff/users/{id}/unlock";
    /// `POST` [`super::StaffActionRequest`] → [`super::TemporaryPasswordIssued`] (re-auth).
    pub const STAFF_TEMP_PASSWORD: &str = "/api/staff/users/{id}/temporary-password";
    /// `POST` [`super::StaffActionRequest`] → [`super::UserState`] (re-auth).
    pub const STAFF_CLEAR_ENROLMENT: &str = "/api/staff/users/{id}/clear-enrolment";
    /// `POST` [`super::StaffActionRequest`] → [`super::UserState`] (re-auth).
    pub const STAFF_DISABLE: &str = "/api/staff/users/{id}/disable";
    /// `POST` [`super::StaffActionRequest`] → [`super::UserState`] (re-auth).
    pub const STAFF_ENABLE: &str = "/api/staff/users/{id}/enable";

    /// Administrator only. `GET` → `Vec<`[`super::AdminDomain`]`>`; `POST`
    /// [`super::DomainCreate`] → [`super::AdminDomain`].
    pub const ADMIN_DOMAINS: &str = "/api/admin/domains";
    /// `PUT` [`super::DomainUpdate`] → [`super::AdminDomain`]; a change to
    /// anything but [`super::DOMAIN_FIELDS_WITHOUT_REAUTH`] needs re-auth.
    pub const ADMIN_DOMAIN: &str = "/api/admin/domains/{slug}";
    /// `GET` → [`super::DomainStore`]: where the domain's passwords live, the
    /// directories to choose from, the directory's policy and the warnings;
    /// `PUT` [`super::StoreUpdate`] → [`super::DomainStore`] (re-auth).
    pub const ADMIN_DOMAIN_STORE: &str = "/api/admin/domains/{slug}/store";
    /// `GET` → `Vec<`[`super::AdminNotice`]`>`; `POST` [`super::NoticeInput`] → [`super::AdminNotice`].
    pub const ADMIN_NOTICES: &str = "/api/admin/notices";
    /// `PUT` [`super::NoticeInput`] → [`super::AdminNotice`]; `DELETE` → 204.
    pub const ADMIN_NOTICE: &str = "/api/admin/notices/{id}";
    /// `POST` [`super::MandatoryResetRequest`] → [`super::MandatoryResetResponse`] (re-auth).
    pub const ADMIN_MANDATORY_RESET: &str = "/api/admin/mandatory-reset";
    /// `GET`/`PUT` [`crate::api::HelpDesk`].
    pub const ADMIN_HELP_DESK: &str = "/api/admin/help-desk";
    /// `GET` with [`super::AuditQuery`] parameters → [`super::AuditPage`].
    pub const ADMIN_AUDIT: &str = "/api/admin/audit";
    /// `GET` with [`super::AuditQuery`] parameters → `text/csv`.
    pub const ADMIN_AUDIT_CSV: &str = "/api/admin/audit.csv";
    /// `GET` → `Vec<`[`super::ApiKeyInfo`]`>`; `POST` [`super::ApiKeyCreate`] →
    /// [`super::ApiKeyCreated`] (re-auth).
    pub const ADMIN_API_KEYS: &str = "/api/admin/api-keys";
    /// `DELETE` → 204: revokes the key (re-auth).
    pub const ADMIN_API_KEY: &str = "/api/admin/api-keys/{id}";
    /// `PUT` [`super::RoleUpdate`] → [`super::UserState`] (re-auth).
    pub const ADMIN_USER_ROLE: &str = "/api/admin/users/{id}/role";
    /// `GET` → `Vec<`[`super::OutboxEntry`]`>`: the newest notification mails.
    pub const ADMIN_OUTBOX: &str = "/api/admin/outbox";
    /// `POST` [`super::TestMailRequest`] → 202 [`super::OutboxEntry`]: a test
    /// mail, sent like the notifications.
    pub const ADMIN_TEST_MAIL: &str = "/api/admin/outbox/test";

    /// `POST` [`super::PortalVerifyRequest`] with `Authorization: Bearer <API key>`
    /// → [`super::PortalVerifyResponse`], or the sign-in's error answers.
    pub const PORTAL_VERIFY: &str = "/api/portal/verify";
    /// `GET` → the OpenAPI 3.1 description of this API (JSON).
    pub const OPENAPI: &str = "/api/openapi.json";

    /// `STAFF_USER` etc. with the id filled in.
    pub fn with_id(path: &str, id: i64) -> String {
        path.replace("{id}", &id.to_string())
    }
}

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    User,
    /// Local Registration Authority: helps the users of their domains.
    Lra,
    /// Runs the system: every domain, configuration, audit log, API keys.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Lra => "lra",
            Role::Admin => "admin",
        }
    }

    /// Unknown stored values are plain users.
    pub fn parse(s: &str) -> Role {
        match s.trim() {
            "lra" => Role::Lra,
            "admin" => Role::Admin,
            _ => Role::User,
        }
    }

    pub fn is_staff(self) -> bool {
        self != Role::User
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::User => "User",
            Role::Lra => "Local Registration Authority",
            Role::Admin => "Administrator",
        }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReauthRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for ReauthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReauthRequest { .. }")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReauthResponse {
    /// Unix seconds until which credential-changing actions are allowed.
    pub valid_until: i64,
}

/// One user in a search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Domain slug.
    pub domain: String,
    pub domain_name: String,
    pub role: Role,
    /// Locked anywhere: by Latchkey's counter or (a directory-backed
    /// domain) by the directory; `lock` says by whom.
    pub locked: bool,
    pub disabled: bool,
    #[serde(default)]
    pub email: Option<String>,
    /// Who holds the account locked, when it is.
    #[serde(default)]
    pub lock: Option<LockHolder>,
    /// When the password was last set (a directory-backed domain: in the
    /// directory), unix seconds.
    #[serde(default)]
    pub password_changed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSearchResponse {
    pub users: Vec<UserSummary>,
    /// More users matched than were returned.
    pub truncated: bool,
    /// Domains whose directory could not be searched now, in plain words:
    /// for those only the users Latchkey has seen before are listed.
    #[serde(default)]
    pub unavailable: Vec<String>,
}

/// Everything staff may see about an account (never a hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserState {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub domain: String,
    pub domain_name: String,
    pub role: Role,
    /// Slugs of the domains an LRA looks after (empty otherwise).
    #[serde(default)]
    pub staff_domains: Vec<String>,
    /// Locked anywhere: by Latchkey's counter (`failed_attempts`,
    /// `locked_until`) or by the directory (`directory`).
    pub locked: bool,
    /// Unix seconds when Latchkey's lock lifts by itself; `None` = only an unlock lifts it.
    pub locked_until: Option<i64>,
    pub failed_attempts: i64,
    pub enrolled: bool,
    pub enrolled_at: Option<i64>,
    pub temporary_password: bool,
    pub temporary_password_expires_at: Option<i64>,
    /// Must choose a new password at next sign-in (mandatory reset).
    pub must_change: bool,
    pub password_changed_at: i64,
    pub disabled: bool,
    /// For a directory-backed domain: what the directory says now.
    #[serde(default)]
    pub directory: Option<DirectoryAccount>,
}

/// Every LRA action asks for a reason, recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffActionRequest {
    pub reason: String,
}

/// Shown once to the LRA; only its hash is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemporaryPasswordIssued {
    pub temporary_password: String,
    pub expires_at: i64,
    pub user: UserState,
}

impl std::fmt::Debug for TemporaryPasswordIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryPasswordIssued")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleUpdate {
    pub role: Role,
    /// For an LRA: the slugs of the domains they look after (at least one).
    #[serde(default)]
    pub domains: Vec<String>,
    pub reason: String,
}

// ---------------------------------------------------------------- domains
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminDomain {
    pub slug: String,
    pub name: String,
    pub sspm_available: bool,
    /// Shown to the domain's users when self-service is not available.
    pub unavailable_text: Option<String>,
    pub policy: PasswordPolicy,
    /// `None` = the server-wide setting (given in `default_*`).
    pub lockout_threshold: Option<i64>,
    pub lockout_minutes: Option<i64>,
    pub default_lockout_threshold: i64,
    pub default_lockout_minutes: i64,
    pub user_count: i64,
    /// Where its passwords live: `local`, or `directory:<name>`
    /// ([`paths::ADMIN_DOMAIN_STORE`] sets it).
    #[serde(default = "local")]
    pub store: String,
    /// The question catalogue, how many to enrol and to ask, … (issue 3).
    #[serde(default)]
    pub self_service: crate::self_service::SelfServiceSettings,
    /// Authenticators of the domain's users whose key does not open with the
    /// server's `secret_key` (changed or removed): their codes are refused
    /// and the step treats them as people without one.
    #[serde(default)]
    pub unreadable_authenticators: i64,
}

/// What the console says of [`AdminDomain::unreadable_authenticators`].
pub fn unreadable_authenticators_warning(count: i64) -> String {
    let (noun, have) = if count == 1 {
        ("authenticator", "has")
    } else {
        ("authenticators", "have")
    };
    format!(
        "{count} {noun} of this domain's users {have} a key that does not open with the server's \
         secret_key (was it changed or removed?). Their codes are refused; they can recover with \
         a mailed code or the Help Desk, and add the authenticator again (docs/second-factor.md)."
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainCreate {
    pub slug: String,
    pub name: String,
    #[serde(default = "yes")]
    pub sspm_available: bool,
    #[serde(default)]
    pub unavailable_text: Option<String>,
}

fn yes() -> bool {
    true
}

fn local() -> String {
    LOCAL_STORE.to_owned()
}

/// Every field of a domain an administrator edits. The policy's `version` is
/// ignored: the server bumps it when the policy changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainUpdate {
    pub name: String,
    pub sspm_available: bool,
    pub unavailable_text: Option<String>,
    pub policy: PasswordPolicy,
    pub lockout_threshold: Option<i64>,
    pub lockout_minutes: Option<i64>,
    /// `None` leaves the self-service settings as they are.
    #[serde(default)]
    pub self_service: Option<crate::self_service::SelfServiceSettings>,
}

/// The fields of a [`DomainUpdate`] that change no security setting (what
/// the domain is called, what its users read when self-service is off):
/// a change to any other (the policy, the lockout, whether self-service is
/// offered and how it verifies) needs a fresh re-authentication.
pub const DOMAIN_FIELDS_WITHOUT_REAUTH: &[&str] = &["name", "unavailable_text"];

/// Failed attempts that lock, when a domain sets its own.
pub const LOCKOUT_THRESHOLD_RANGE: std::ops::RangeInclusive<i64> = 1..=100;
/// Minutes until a lock lifts by itself (0: never), when a domain sets its own.
pub const LOCKOUT_MINUTES_RANGE: std::ops::RangeInclusive<i64> = 0..=10_080;

/// The rule of a domain's short name, in the words every refusal uses.
pub const SLUG_RULE: &str =
    "The short name must be 1-32 characters of a-z, 0-9 and -, not starting with -.";

/// Whether `slug` is a domain's short name: 1-32 of `a-z`, `0-9` and `-`,
/// not starting with `-`.
pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= crate::bounds::MAX_SLUG_CHARS
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
}

fn domain_name_rule() -> String {
    format!(
        "The domain name must be 1-{} characters.",
        crate::bounds::MAX_DOMAIN_NAME_CHARS
    )
}

impl DomainCreate {
    /// The rules beyond the input bounds; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if !valid_slug(&self.slug.trim().to_ascii_lowercase()) {
            return Err(SLUG_RULE.to_owned());
        }
        if self.name.trim().is_empty() {
            return Err(domain_name_rule());
        }
        Ok(())
    }
}

impl DomainUpdate {
    /// The rules beyond the input bounds; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err(domain_name_rule());
        }
        if let Some(t) = self.lockout_threshold {
            if !LOCKOUT_THRESHOLD_RANGE.contains(&t) {
                return Err(format!(
                    "The lockout threshold must be between {} and {} failed attempts.",
                    LOCKOUT_THRESHOLD_RANGE.start(),
                    LOCKOUT_THRESHOLD_RANGE.end()
                ));
            }
        }
        if let Some(m) = self.lockout_minutes {
            if !LOCKOUT_MINUTES_RANGE.contains(&m) {
                return Err(format!(
                    "The auto-unlock time must be between {} (never) and {} minutes.",
                    LOCKOUT_MINUTES_RANGE.start(),
                    LOCKOUT_MINUTES_RANGE.end()
                ));
            }
        }
        if let Some(ss) = &self.self_service {
            ss.validate()
                .map_err(|e| format!("The self-service settings are not valid: {e}"))?;
        }
        self.policy
            .validate()
            .map_err(|e| format!("The password policy is not valid: {e}"))
    }
}

// ---------------------------------------------------------------- notices
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminNotice {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// ISO `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub posted_on: String,
    pub published: bool,
    pub sort_order: i64,
}

impl NoticeInput {
    /// The rules beyond the input bounds; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.title.trim().is_empty() {
            return Err(format!(
                "The notice title must be 1-{} characters.",
                crate::bounds::MAX_NOTICE_TITLE_CHARS
            ));
        }
        if self.body.trim().is_empty() {
            return Err(format!(
                "The notice text must be 1-{} characters.",
                crate::bounds::MAX_NOTICE_BODY_CHARS
            ));
        }
        if !crate::dates::valid_iso_date(self.posted_on.trim()) {
            return Err("The posted date must be a date like 2019-12-13.".to_owned());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeInput {
    pub title: String,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub posted_on: String,
    pub published: bool,
    pub sort_order: i64,
}

/// Mark every user of `domains`, or only `usernames` of them, as having to
/// change their password at next sign-in, and publish the notice, in one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MandatoryResetRequest {
    /// Domain slugs (at least one).
    pub domains: Vec<String>,
    /// Limit to these user names; empty = every user of the domains.
    #[serde(default)]
    pub usernames: Vec<String>,
    /// Notice to publish (dated today); `None` = the one titled
    /// [`MANDATORY_RESET_NOTICE_TITLE`], created if missing.
    #[serde(default)]
    pub notice_id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MandatoryResetResponse {
    pub users_marked: i64,
    pub notice: AdminNotice,
    /// Requested user names that matched no user.
    pub unknown_usernames: Vec<String>,
}

// ---------------------------------------------------------------- audit
/// Filters of the audit log; all optional. `from`/`to` are unix seconds
/// (inclusive / exclusive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// At most 1000; default 200. Newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// The query string (without `?`), URL-encoded.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: String| {
            if !v.is_empty() {
                parts.push(format!("{k}={}", encode(&v)));
            }
        };
        if let Some(v) = &self.user {
            push("user", v.clone());
        }
        if let Some(v) = &self.domain {
            push("domain", v.clone());
        }
        if let Some(v) = &self.kind {
            push("kind", v.clone());
        }
        if let Some(v) = self.from {
            push("from", v.to_string());
        }
        if let Some(v) = self.to {
            push("to", v.to_string());
        }
        if let Some(v) = self.limit {
            push("limit", v.to_string());
        }
        parts.join("&")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub domain: Option<String>,
    pub source_ip: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    pub truncated: bool,
}

// ---------------------------------------------------------------- API keys
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyCreate {
    pub name: String,
}

/// The key itself is shown once; only its hash is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyCreated {
    pub key: String,
    pub info: ApiKeyInfo,
}

impl std::fmt::Debug for ApiKeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCreated")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------- portal
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalVerifyRequest {
    /// Domain slug.
    pub domain: String,
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for PortalVerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalVerifyRequest")
            .field("domain", &self.domain)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What the portal may do with a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasswordStatus {
    /// Sign the user in.
    Valid,
    /// A temporary password: send the user to change it first.
    Temporary,
    /// A mandatory reset is in effect: send the user to change it first.
    ChangeRequired,
    /// Older than the domain's maximum password age: send the user to
    /// change it first.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalVerifyResponse {
    pub status: PasswordStatus,
    pub username: String,
    pub display_name: String,
    pub domain: String,
    /// For [`PasswordStatus::Temporary`]: when it expires (unix seconds).
    pub expires_at: Option<i64>,
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    fn update() -> DomainUpdate {
        DomainUpdate {
            name: "Partners".into(),
            sspm_available: true,
            unavailable_text: None,
            policy: PasswordPolicy::default(),
            lockout_threshold: Some(5),
            lockout_minutes: Some(30),
            self_service: None,
        }
    }

    #[test]
    fn a_domain_update_outside_the_lockout_ranges_is_refused_with_the_range() {
        assert_eq!(update().validate(), Ok(()));
        let e = DomainUpdate {
            lockout_threshold: Some(0),
            ..update()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("between 1 and 100"), "{e}");
        let e = DomainUpdate {
            lockout_minutes: Some(10_081),
            ..update()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("10080"), "{e}");
        let e = DomainUpdate {
            name: "  ".into(),
            ..update()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("domain name"), "{e}");
    }

    #[test]
    fn slugs_follow_one_rule() {
        assert!(valid_slug("partners") && valid_slug("hr-cc") && valid_slug("a1"));
        assert!(
            !valid_slug("-x")
                && !valid_slug("")
                && !valid_slug("Caps")
                && !valid_slug(&"a".repeat(33))
        );
        let create = DomainCreate {
            slug: "no spaces".into(),
            name: "X".into(),
            sspm_available: true,
            unavailable_text: None,
        };
        assert_eq!(create.validate(), Err(SLUG_RULE.to_owned()));
    }

    #[test]
    fn a_notice_needs_a_title_a_text_and_a_real_date() {
        let n = NoticeInput {
            title: "T".into(),
            body: "B".into(),
            posted_on: "2019-12-13".into(),
            published: true,
            sort_order: 0,
        };
        assert_eq!(n.validate(), Ok(()));
        assert!(NoticeInput {
            posted_on: "2019-02-30".into(),
            ..n.clone()
        }
        .validate()
        .is_err());
        assert!(NoticeInput {
            title: " ".into(),
            ..n
        }
        .validate()
        .is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in [Role::User, Role::Lra, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("root"), Role::User);
        assert!(!Role::User.is_staff() && Role::Lra.is_staff());
    }

    #[test]
    fn audit_query_strings_are_encoded() {
        let q = AuditQuery {
            user: Some("j smith&x".into()),
            kind: Some("sign_in".into()),
            from: Some(5),
            ..Default::default()
        };
        assert_eq!(
            q.to_query_string(),
            "user=j%20smith%26x&kind=sign_in&from=5"
        );
        assert_eq!(
            paths::with_id(paths::STAFF_UNLOCK, 7),
            "/api/staff/users/7/unlock"
        );
    }

    #[test]
    fn secrets_never_debug_print() {
        let r = ReauthRequest {
            password: "hunter2-secret".into(),
        };
        assert!(!format!("{r:?}").contains("secret"));
        let p = PortalVerifyRequest {
            domain: "d".into(),
            username: "u".into(),
            password: "hunter2-secret".into(),
        };
        assert!(!format!("{p:?}").contains("secret"));
    }
}

// ---------------------------------------------------------------- outbox
/// Where a notification mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not sent yet (first attempt due, or a later one after a failure).
    Waiting,
    Sent,
    /// Given up: refused for good, or too many attempts.
    Failed,
}

/// A notification mail as the console lists it (never its body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// Where the console sends a test mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestMailRequest {
    pub to: String,
}

/// Mails the console lists at most.
pub const OUTBOX_LIST_LIMIT: i64 = 200;
