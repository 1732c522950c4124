//! A domain's credential store as the administrator's console shows and
//! sets it (`local`, or a directory connection of the configuration), the
//! directory's own password policy beside the domain's, and the warnings
//! where Latchkey's rules are weaker than or conflict with the
//! directory's ([`directory_warnings`], run by the server for its answer and
//! by the console again while the policy is being edited).

use serde::{Deserialize, Serialize};

use crate::policy::PasswordPolicy;

/// The store of a domain whose passwords Latchkey keeps itself.
pub const LOCAL_STORE: &str = "local";
/// The prefix of a directory store: `directory:<name>`.
pub const DIRECTORY_STORE_PREFIX: &str = "directory:";

/// `directory:<name>`.
pub fn directory_store(name: &str) -> String {
    format!("{DIRECTORY_STORE_PREFIX}{name}")
}

/// Which dialect a directory speaks for passwords and locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// OpenLDAP with the ppolicy overlay (or any LDAPv3 with RFC 3062).
    Ldap,
    ActiveDirectory,
}

impl DirectoryKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ldap => "LDAP (OpenLDAP, ppolicy)",
            Self::ActiveDirectory => "Active Directory",
        }
    }
}

/// A directory connection of the configuration (`[directories.<name>]`):
/// what a domain may be assigned to. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryInfo {
    pub name: String,
    pub kind: DirectoryKind,
    /// Staff roles of its users come from its groups (`[directory_groups.<name>]`):
    /// they are not set in Latchkey.
    #[serde(default)]
    pub roles_from_groups: bool,
}

/// How a directory judges a password's make-up, beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum DirectoryComplexity {
    /// No check (`pwdCheckQuality: 0`; Active Directory's complexity off).
    Off,
    /// OpenLDAP's quality check (`pwdCheckQuality` 1: when it can, 2:
    /// always): the directory's `pwdCheckModule` decides, if it has one;
    /// without one only the length is checked.
    QualityCheck { enforced: bool },
    /// Active Directory's "Password must meet complexity requirements"
    /// (`pwdProperties` bit 1): three of upper-case, lower-case, digit and
    /// symbol, and no part of the account or display name.
    ThreeOfFourClasses,
}

/// A directory's own password policy, as it answers the service account:
/// ppolicy's default policy entry, or Active Directory's domain object.
/// `None` where it does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryPolicy {
    /// `pwdMinLength` / `minPwdLength`.
    pub min_length: Option<u32>,
    /// Previous passwords refused: `pwdInHistory` / `pwdHistoryLength`.
    pub history: Option<u32>,
    /// Failed binds that lock (0: it never locks): `pwdMaxFailure` /
    /// `lockoutThreshold`.
    pub max_failures: Option<u32>,
    /// Seconds until its lock lifts by itself; 0: only an unlock lifts it
    /// (`pwdLockoutDuration` / `lockoutDuration`).
    pub lockout_secs: Option<u64>,
    pub complexity: Option<DirectoryComplexity>,
}

/// The directory of a directory-backed domain, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryPolicyReport {
    pub directory: DirectoryInfo,
    /// What the directory said; `None` when it could not be read (then
    /// `unavailable` says why) or has no policy entry.
    pub policy: Option<DirectoryPolicy>,
    /// Why the policy could not be read now, in plain words (the directory
    /// is down, the service account is refused).
    pub unavailable: Option<String>,
    /// Where the domain's rules are weaker than or conflict with the
    /// directory's, in plain words ([`directory_warnings`]).
    pub warnings: Vec<String>,
}

/// `GET`/`PUT` [`super::paths::ADMIN_DOMAIN_STORE`]: where the domain's
/// passwords live, what it may be set to, and the directory's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainStore {
    /// `local`, or `directory:<name>`.
    pub store: String,
    /// The directory connections of the configuration, by name.
    pub directories: Vec<DirectoryInfo>,
    /// For a directory-backed domain: its directory and policy.
    pub directory: Option<DirectoryPolicyReport>,
}

/// Moves a domain's passwords to `store` (`local` or `directory:<name>`):
/// the same operation as `latchkey domain store`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreUpdate {
    /// `local`, or `directory:<name>`.
    pub store: String,
}

/// Who holds an account locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LockHolder {
    /// Latchkey's failure counter.
    Latchkey,
    /// The directory's own lock (failed binds anywhere): an unlock lifts it.
    Directory,
    /// An administrator's lock or a disabled account in the directory:
    /// self-service and the LRA never lift it.
    DirectoryAdministrator,
}

impl LockHolder {
    pub fn label(self) -> &'static str {
        match self {
            Self::Latchkey => "Locked by Latchkey",
            Self::Directory => "Locked by the directory",
            Self::DirectoryAdministrator => "Locked by a directory administrator",
        }
    }
}

/// What the directory says about one account of a directory-backed domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum DirectoryAccount {
    Found {
        directory: String,
        /// The directory's own lock, if any (Latchkey's is the state's).
        lock: Option<LockHolder>,
        /// When the password was last set in the directory (`pwdChangedTime`
        /// / `pwdLastSet`), unix seconds.
        password_changed_at: Option<i64>,
        /// The directory says it must be changed (a reset, `pwdLastSet` 0).
        must_change: bool,
    },
    /// The directory has no such user (any more).
    NotFound { directory: String },
    /// The directory could not be asked now; the reason in plain words.
    Unavailable { directory: String, reason: String },
}

/// What the console and the command line say about stores and directories.
pub mod messages {
    /// A store that is neither `local` nor `directory:<name>`.
    pub const BAD_STORE: &str =
        "The credential store must be `local` or `directory:<name>`, the name of a [directories.<name>] section of the configuration.";

    /// A directory name the configuration does not have.
    pub fn unknown_directory(name: &str, known: &[String]) -> String {
        let there_is = if known.is_empty() {
            "it has none".to_owned()
        } else {
            format!("there is: {}", known.join(", "))
        };
        format!(
            "There is no directory {name:?} in the configuration ([directories.{name}]); {there_is}."
        )
    }

    /// The domain's directory is gone from the configuration.
    pub fn missing_directory(name: &str) -> String {
        format!(
            "The configuration has no [directories.{name}] any more: sign-ins to this domain fail \
             until it is added back or the domain is set to another store."
        )
    }

    /// The directory did not answer in time (or at all).
    pub fn directory_down(name: &str, why: &str) -> String {
        format!(
            "The directory {name} does not answer now ({why}), so its policy cannot be shown. \
             Until it is back, sign-ins to this domain are answered \"try again later\" and \
             nothing is counted."
        )
    }

    /// The directory could not be asked about an account now.
    pub fn directory_not_answering(name: &str, why: &str) -> String {
        format!("The directory {name} could not be asked now ({why}): what it says is not shown.")
    }

    /// The directory refused the service account.
    pub fn directory_refused(name: &str, why: &str) -> String {
        format!("The directory {name} refused Latchkey's service account: {why}")
    }

    /// Any other answer the directory gave.
    pub fn directory_unexpected(name: &str, why: &str) -> String {
        format!("The directory {name} gave an unexpected answer: {why}")
    }

    /// A directory whose policy entry the service account cannot find.
    pub const NO_POLICY_ENTRY: &str =
        "The directory shows no password policy to the service account: its own rules still apply when a password is set.";

    /// A role that comes from a directory's groups.
    pub fn role_from_groups(directory: &str) -> String {
        format!(
            "This user's role comes from the groups of the directory {directory} \
             ([directory_groups.{directory}]) at each sign-in: change their group membership there."
        )
    }

    /// Some domains could not be searched in their directory.
    pub fn search_unavailable(domain_name: &str) -> String {
        format!(
            "The directory of {domain_name} does not answer now: only its users who signed in \
             to Latchkey before are listed, with what Latchkey knew of them."
        )
    }
}

/// The rules of `policy` (a domain's, with the lockout in force:
/// `lockout_threshold` failures, locks lifting after `lockout_minutes`, 0 =
/// never) that are weaker than or conflict with the directory's, in plain
/// words for the administrator. Empty when they agree.
pub fn directory_warnings(
    policy: &PasswordPolicy,
    lockout_threshold: i64,
    lockout_minutes: i64,
    directory: &DirectoryPolicy,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(min) = directory.min_length {
        if min > policy.min_length {
            out.push(format!(
                "The directory requires at least {min} characters and this domain's policy {}: \
                 passwords of {} to {} characters pass the checklist and are then refused by the \
                 directory. Raise the minimum length to {min} or more.",
                policy.min_length,
                policy.min_length,
                min - 1
            ));
        }
    }
    if let Some(max) = directory.max_failures.filter(|m| *m > 0) {
        if i64::from(max) < lockout_threshold {
            let lifts = match directory.lockout_secs {
                Some(0) => " Its lock lifts only when someone unlocks the account.".to_owned(),
                Some(secs)
                    if lockout_minutes == 0 || secs < 60 * lockout_minutes.unsigned_abs() =>
                {
                    format!(
                        " Its lock lifts by itself after {} minutes.",
                        secs.div_ceil(60)
                    )
                }
                _ => String::new(),
            };
            out.push(format!(
                "The directory locks an account after {max} failed sign-ins and Latchkey after \
                 {lockout_threshold}: the directory locks first, and self-service sees the \
                 directory's lock (Unlock Account and the LRA lift it, unless a directory \
                 administrator set it).{lifts} Set the domain's lockout threshold to {max} or \
                 fewer."
            ));
        }
    }
    if let Some(kept) = directory.history {
        if u32::from(policy.history_depth) > kept {
            out.push(format!(
                "This domain's policy refuses the last {} passwords, but Latchkey keeps no \
                 directory passwords: only the directory's own history applies, and it refuses \
                 only the last {kept}.",
                policy.history_depth
            ));
        }
    }
    if directory.complexity == Some(DirectoryComplexity::ThreeOfFourClasses) {
        let classes = [
            policy.require_lowercase,
            policy.require_uppercase,
            policy.require_digit,
            policy.require_symbol,
        ]
        .into_iter()
        .filter(|on| *on)
        .count();
        if classes < 3 {
            out.push(
                "The directory requires complex passwords (three of: upper-case, lower-case, \
                 digit, symbol): passwords the checklist accepts without them are refused by the \
                 directory. Require at least three of those character kinds."
                    .to_owned(),
            );
        }
        if !policy.forbid_context_words {
            out.push(
                "The directory refuses passwords that contain the account or display name; this \
                 domain's policy does not: such passwords pass the checklist and are then refused. \
                 Turn on \"Refuse the user's names\"."
                    .to_owned(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> DirectoryPolicy {
        DirectoryPolicy {
            min_length: Some(8),
            history: Some(3),
            max_failures: Some(10),
            lockout_secs: Some(0),
            complexity: Some(DirectoryComplexity::QualityCheck { enforced: true }),
        }
    }

    #[test]
    fn a_policy_stricter_than_the_directorys_has_no_warning() {
        assert!(directory_warnings(&PasswordPolicy::default(), 5, 30, &directory()).is_empty());
        assert!(directory_warnings(
            &PasswordPolicy::default(),
            5,
            30,
            &DirectoryPolicy::default()
        )
        .is_empty());
    }

    #[test]
    fn a_lower_directory_threshold_says_the_directory_locks_first() {
        let d = DirectoryPolicy {
            max_failures: Some(3),
            ..directory()
        };
        let w = directory_warnings(&PasswordPolicy::default(), 5, 30, &d);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("the directory locks first"), "{}", w[0]);
        assert!(w[0].contains("lifts only when someone unlocks"), "{}", w[0]);
        // A directory that never locks, or locks at the same count, is fine.
        for max in [0, 5] {
            let d = DirectoryPolicy {
                max_failures: Some(max),
                ..directory()
            };
            assert!(directory_warnings(&PasswordPolicy::default(), 5, 30, &d).is_empty());
        }
    }

    #[test]
    fn a_longer_directory_minimum_names_the_passwords_it_refuses() {
        let d = DirectoryPolicy {
            min_length: Some(20),
            ..directory()
        };
        let w = directory_warnings(&PasswordPolicy::default(), 5, 30, &d);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("15 to 19 characters"), "{}", w[0]);
    }

    #[test]
    fn active_directory_complexity_wants_three_character_kinds_and_no_names() {
        let d = DirectoryPolicy {
            complexity: Some(DirectoryComplexity::ThreeOfFourClasses),
            ..directory()
        };
        let mut p = PasswordPolicy::default();
        assert_eq!(directory_warnings(&p, 5, 30, &d).len(), 1);
        p.require_lowercase = true;
        p.require_uppercase = true;
        p.require_digit = true;
        assert!(directory_warnings(&p, 5, 30, &d).is_empty());
        p.forbid_context_words = false;
        let w = directory_warnings(&p, 5, 30, &d);
        assert!(w[0].contains("account or display name"), "{w:?}");
    }

    #[test]
    fn a_latchkey_history_is_not_applied_to_directory_passwords() {
        let p = PasswordPolicy {
            history_depth: 5,
            ..PasswordPolicy::default()
        };
        let w = directory_warnings(&p, 5, 30, &directory());
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("only the last 3"), "{}", w[0]);
    }
}
