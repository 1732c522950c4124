//! A domain as an administrator sees and changes it: its SSPM flag and
//! text, policy, lockout and self-service settings.

use serde::{Deserialize, Serialize};

use super::*;
use crate::policy::PasswordPolicy;

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
