//! The directory's own password policy, typed ([`DirectoryPolicy`]): for
//! kind `ldap` ppolicy's default policy entry (`pwdMinLength`,
//! `pwdInHistory`, `pwdMaxFailure`, `pwdLockoutDuration`,
//! `pwdCheckQuality`), for kind `active_directory` the domain object at the
//! `DC=` suffix of `base_dn` (`minPwdLength`, `pwdHistoryLength`,
//! `lockoutThreshold`, `lockoutDuration`, `pwdProperties`). The console shows
//! it beside the domain's policy; `latchkey directory test` prints it.

use latchkey_shared::admin::{DirectoryComplexity, DirectoryPolicy};
use ldap3::{Scope, SearchEntry};

use super::{first, rc, Directory, DirectoryError, DirectoryKind};

/// `noSuchObject`: the suffix (or policy entry) is not there.
const NO_SUCH_OBJECT: u32 = 32;

const LDAP_ATTRIBUTES: [&str; 6] = [
    "pwdMinLength",
    "pwdInHistory",
    "pwdMaxFailure",
    "pwdLockout",
    "pwdLockoutDuration",
    "pwdCheckQuality",
];

const AD_ATTRIBUTES: [&str; 5] = [
    "minPwdLength",
    "pwdHistoryLength",
    "lockoutThreshold",
    "lockoutDuration",
    "pwdProperties",
];

/// `DOMAIN_PASSWORD_COMPLEX` in `pwdProperties`.
const AD_PASSWORD_COMPLEX: u32 = 0x1;

/// 100-nanosecond intervals in a second (Active Directory's durations).
const AD_TICKS_PER_SEC: i64 = 10_000_000;

impl Directory {
    /// The directory's own password policy, read with the service account.
    /// `None` when it has none the service account may read (no ppolicy
    /// entry, no domain object); an error when the directory does not
    /// answer or refuses the service account.
    #[tracing::instrument(name = "directory.policy", skip_all, fields(directory = %self.name))]
    pub async fn policy(&self) -> Result<Option<DirectoryPolicy>, DirectoryError> {
        let suffix = dc_suffix(&self.config.base_dn);
        let (scope, filter, attrs): (_, _, &[&str]) = match self.config.kind {
            DirectoryKind::Ldap => (Scope::Subtree, "(objectClass=pwdPolicy)", &LDAP_ATTRIBUTES),
            DirectoryKind::ActiveDirectory => (Scope::Base, "(objectClass=*)", &AD_ATTRIBUTES),
        };
        let mut conn = self.service().await?;
        let found = self
            .run(conn.ldap().search(&suffix, scope, filter, attrs.to_vec()))
            .await;
        let (entries, result) = match found {
            Ok(r) => (r.0, r.1),
            Err(e) => {
                conn.discard();
                return Err(e);
            }
        };
        match result.rc {
            rc::SUCCESS => {}
            NO_SUCH_OBJECT | rc::INSUFFICIENT_ACCESS => return Ok(None),
            other => {
                conn.discard();
                return Err(DirectoryError::Unexpected(
                    self.name.clone(),
                    format!("policy search result {other}: {}", result.text),
                ));
            }
        }
        let entries: Vec<SearchEntry> = entries.into_iter().map(SearchEntry::construct).collect();
        Ok(match self.config.kind {
            DirectoryKind::Ldap => default_entry(&entries).map(ldap_policy),
            DirectoryKind::ActiveDirectory => entries.first().map(ad_policy),
        })
    }
}

/// The `dc=` components at the end of `dn` (the naming context), or `dn`
/// itself when it has none.
pub(crate) fn dc_suffix(dn: &str) -> String {
    let parts: Vec<&str> = dn.split(',').map(str::trim).collect();
    let start = parts
        .iter()
        .rposition(|p| !p.to_ascii_lowercase().starts_with("dc="))
        .map_or(0, |i| i + 1);
    if start >= parts.len() {
        return dn.trim().to_owned();
    }
    parts[start..].join(",")
}

/// ppolicy's default entry is configured in `cn=config`, which the service
/// account may not read: the entry named `cn=default` if there is one, else
/// the only (or first) one.
fn default_entry(entries: &[SearchEntry]) -> Option<&SearchEntry> {
    entries
        .iter()
        .find(|e| e.dn.to_ascii_lowercase().starts_with("cn=default,"))
        .or_else(|| entries.first())
}

fn number<T: std::str::FromStr>(entry: &SearchEntry, attr: &str) -> Option<T> {
    first(entry, attr).and_then(|v| v.trim().parse().ok())
}

pub(crate) fn ldap_policy(entry: &SearchEntry) -> DirectoryPolicy {
    // pwdLockout FALSE: failures are counted but never lock.
    let locks = first(entry, "pwdLockout").is_none_or(|v| v.eq_ignore_ascii_case("TRUE"));
    DirectoryPolicy {
        min_length: number(entry, "pwdMinLength"),
        history: number(entry, "pwdInHistory"),
        max_failures: if locks {
            number(entry, "pwdMaxFailure")
        } else {
            Some(0)
        },
        lockout_secs: number(entry, "pwdLockoutDuration"),
        complexity: number::<u8>(entry, "pwdCheckQuality").map(|q| match q {
            0 => DirectoryComplexity::Off,
            q => DirectoryComplexity::QualityCheck { enforced: q >= 2 },
        }),
    }
}

pub(crate) fn ad_policy(entry: &SearchEntry) -> DirectoryPolicy {
    DirectoryPolicy {
        min_length: number(entry, "minPwdLength"),
        history: number(entry, "pwdHistoryLength"),
        max_failures: number(entry, "lockoutThreshold"),
        lockout_secs: number::<i64>(entry, "lockoutDuration").map(|ticks| {
            // Negative 100 ns intervals; the smallest i64 (and 0) mean
            // "until an administrator unlocks".
            if ticks == i64::MIN || ticks == 0 {
                0
            } else {
                (ticks.unsigned_abs()).div_ceil(AD_TICKS_PER_SEC.unsigned_abs())
            }
        }),
        complexity: number::<u32>(entry, "pwdProperties").map(|p| {
            if p & AD_PASSWORD_COMPLEX != 0 {
                DirectoryComplexity::ThreeOfFourClasses
            } else {
                DirectoryComplexity::Off
            }
        }),
    }
}

/// The policy as the directory's own attributes, for `directory test`:
/// `pwdMinLength 8, pwdInHistory 3, …`.
pub fn describe(kind: DirectoryKind, policy: &DirectoryPolicy) -> String {
    let names = match kind {
        DirectoryKind::Ldap => [
            "pwdMinLength",
            "pwdInHistory",
            "pwdMaxFailure",
            "pwdLockoutDuration",
            "pwdCheckQuality",
        ],
        DirectoryKind::ActiveDirectory => [
            "minPwdLength",
            "pwdHistoryLength",
            "lockoutThreshold",
            "lockoutDuration (s)",
            "complexity",
        ],
    };
    let complexity = policy.complexity.map(|c| match (kind, c) {
        (DirectoryKind::Ldap, DirectoryComplexity::Off) => "0".to_owned(),
        (_, DirectoryComplexity::QualityCheck { enforced: false }) => "1".to_owned(),
        (_, DirectoryComplexity::QualityCheck { enforced: true }) => "2".to_owned(),
        (_, DirectoryComplexity::ThreeOfFourClasses) => "required".to_owned(),
        (DirectoryKind::ActiveDirectory, DirectoryComplexity::Off) => "off".to_owned(),
    });
    let values = [
        policy.min_length.map(|v| v.to_string()),
        policy.history.map(|v| v.to_string()),
        policy.max_failures.map(|v| v.to_string()),
        policy.lockout_secs.map(|v| v.to_string()),
        complexity,
    ];
    names
        .iter()
        .zip(values)
        .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> SearchEntry {
        SearchEntry {
            dn: dn.to_owned(),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
                .collect::<HashMap<_, _>>(),
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn the_suffix_is_the_trailing_dc_components_in_any_case() {
        assert_eq!(
            dc_suffix("ou=people,dc=latchkey,dc=test"),
            "dc=latchkey,dc=test"
        );
        assert_eq!(
            dc_suffix("OU=Staff, DC=corp, DC=example, DC=org"),
            "DC=corp,DC=example,DC=org"
        );
        assert_eq!(dc_suffix("o=example"), "o=example");
    }

    #[test]
    fn a_ppolicy_entry_reads_as_the_typed_policy() {
        let e = entry(
            "cn=default,ou=policies,dc=x",
            &[
                ("pwdMinLength", "8"),
                ("pwdInHistory", "3"),
                ("pwdMaxFailure", "10"),
                ("pwdLockout", "TRUE"),
                ("pwdLockoutDuration", "0"),
                ("pwdCheckQuality", "2"),
            ],
        );
        let p = ldap_policy(&e);
        assert_eq!(
            p,
            DirectoryPolicy {
                min_length: Some(8),
                history: Some(3),
                max_failures: Some(10),
                lockout_secs: Some(0),
                complexity: Some(DirectoryComplexity::QualityCheck { enforced: true }),
            }
        );
        assert_eq!(
            describe(DirectoryKind::Ldap, &p),
            "pwdMinLength 8, pwdInHistory 3, pwdMaxFailure 10, pwdLockoutDuration 0, pwdCheckQuality 2"
        );
        let no_lock = entry("cn=x", &[("pwdMaxFailure", "3"), ("pwdLockout", "FALSE")]);
        assert_eq!(ldap_policy(&no_lock).max_failures, Some(0));
    }

    #[test]
    fn the_default_entry_is_preferred_among_several() {
        let entries = [
            entry("cn=service,ou=policies,dc=x", &[("pwdMinLength", "4")]),
            entry("cn=default,ou=policies,dc=x", &[("pwdMinLength", "12")]),
        ];
        assert_eq!(
            default_entry(&entries).map(ldap_policy).unwrap().min_length,
            Some(12)
        );
        assert!(default_entry(&[]).is_none());
    }

    #[test]
    fn an_active_directory_domain_object_reads_as_the_typed_policy() {
        let e = entry(
            "DC=corp,DC=example,DC=org",
            &[
                ("minPwdLength", "7"),
                ("pwdHistoryLength", "24"),
                ("lockoutThreshold", "3"),
                ("lockoutDuration", "-18000000000"),
                ("pwdProperties", "1"),
            ],
        );
        let p = ad_policy(&e);
        assert_eq!(
            p,
            DirectoryPolicy {
                min_length: Some(7),
                history: Some(24),
                max_failures: Some(3),
                lockout_secs: Some(1800),
                complexity: Some(DirectoryComplexity::ThreeOfFourClasses),
            }
        );
        let forever = entry(
            "DC=x",
            &[
                ("lockoutDuration", "-9223372036854775808"),
                ("pwdProperties", "0"),
            ],
        );
        let p = ad_policy(&forever);
        assert_eq!(p.lockout_secs, Some(0));
        assert_eq!(p.complexity, Some(DirectoryComplexity::Off));
    }
}
