//! API types of the staff console (Local Registration Authority and
//! administrator) and of the portal's verification API: here the paths,
//! roles and the staff's own requests; a file per administrator's resource
//! (domains, notices, audit, API keys, outbox), the portal and the
//! directory store.
//!
//! Staff endpoints need a full session of a user whose role allows them; the
//! ones that change a credential also need a password entry within the last
//! [`REAUTH_WINDOW_SECS`] (see [`paths::STAFF_REAUTH`]), else 403
//! `reauth_required`.

use serde::{Deserialize, Serialize};

mod api_keys;
mod audit;
mod directory;
mod domains;
mod notices;
mod outbox;
mod portal;
mod throttles;

pub use api_keys::*;
pub use audit::*;
pub use domains::*;
pub use notices::*;
pub use outbox::*;
pub use portal::*;
pub use throttles::*;

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
    /// `GET` → `Vec<`[`super::ThrottledSource`]`>`: the sources throttled now.
    pub const ADMIN_THROTTLES: &str = "/api/admin/throttles";
    /// `POST` [`super::LiftThrottle`] → 204: lifts one (re-auth).
    pub const ADMIN_THROTTLE_LIFT: &str = "/api/admin/throttles/lift";

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
