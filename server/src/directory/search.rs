//! Reading the directory for the staff console and for staff roles: users
//! by name or display name (the LRA's search), one user with when their
//! password was last set, and whether a user is a member of a group. Every
//! value typed by a person is escaped before it is put in a filter.

use ldap3::{ldap_escape, Scope, SearchEntry, SearchOptions};

use super::{first, rc, Directory, DirectoryError, DirectoryKind, DirectoryUser};

/// `sizeLimitExceeded`: more entries matched than were asked for.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// `LDAP_MATCHING_RULE_IN_CHAIN`: Active Directory's nested membership.
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

/// Seconds between 1601-01-01 (Active Directory's epoch) and 1970-01-01.
const AD_EPOCH_OFFSET_SECS: i64 = 11_644_473_600;

/// A user as the directory has it, with when the password was last set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub user: DirectoryUser,
    /// `pwdChangedTime` (ppolicy) / `pwdLastSet` (Active Directory), unix
    /// seconds; `None` where the directory does not say.
    pub password_changed_at: Option<i64>,
}

/// What a search found: at most the limit asked for, and whether there
/// were more.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub entries: Vec<DirectoryEntry>,
    pub truncated: bool,
}

impl Directory {
    fn entry_attributes(&self) -> Vec<String> {
        let mut attrs = self.attributes();
        if self.config.kind == DirectoryKind::Ldap {
            attrs.push("pwdChangedTime".to_owned());
        }
        attrs
    }

    fn entry_from(&self, entry: SearchEntry) -> DirectoryEntry {
        let password_changed_at = match self.config.kind {
            DirectoryKind::Ldap => {
                first(&entry, "pwdChangedTime").and_then(|t| generalized_time(&t))
            }
            DirectoryKind::ActiveDirectory => first(&entry, "pwdLastSet")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(filetime),
        };
        DirectoryEntry {
            user: self.user_from(entry),
            password_changed_at,
        }
    }

    /// A search with the service account under `base_dn`: at most `limit`
    /// entries (the directory enforces it), and whether there were more.
    async fn search_entries(&self, filter: &str, limit: usize) -> Result<Found, DirectoryError> {
        let attrs = self.entry_attributes();
        let size = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut conn = self.service().await?;
        let found = self
            .run(
                conn.ldap()
                    .with_search_options(SearchOptions::new().sizelimit(size))
                    .search(&self.config.base_dn, Scope::Subtree, filter, attrs),
            )
            .await;
        let (entries, result) = match found {
            Ok(r) => (r.0, r.1),
            Err(e) => {
                conn.discard();
                return Err(e);
            }
        };
        let truncated = match result.rc {
            rc::SUCCESS => false,
            SIZE_LIMIT_EXCEEDED => true,
            other => {
                conn.discard();
                return Err(DirectoryError::Unexpected(
                    self.name.clone(),
                    format!("search result {other}: {}", result.text),
                ));
            }
        };
        let mut entries: Vec<DirectoryEntry> = entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|e| self.entry_from(e))
            .filter(|e| !e.user.username.is_empty())
            .collect();
        let truncated = truncated || entries.len() > limit;
        entries.truncate(limit);
        Ok(Found { entries, truncated })
    }

    /// The users whose user name or display name contains `query` (any
    /// case; every user for an empty one), at most `limit`.
    #[tracing::instrument(name = "directory.search_users", skip_all, fields(directory = %self.name))]
    pub async fn search_users(&self, query: &str, limit: usize) -> Result<Found, DirectoryError> {
        let filter = search_filter(
            &self.config.user_filter(),
            &self.config.display_name_attribute,
            query,
        );
        self.search_entries(&filter, limit).await
    }

    /// The user called `username`, with when the password was last set.
    #[tracing::instrument(name = "directory.find_entry", skip_all, fields(directory = %self.name))]
    pub async fn find_entry(
        &self,
        username: &str,
    ) -> Result<Option<DirectoryEntry>, DirectoryError> {
        let filter = self
            .config
            .user_filter()
            .replace("{username}", &ldap_escape(username));
        let mut found = self.search_entries(&filter, 2).await?;
        match found.entries.len() {
            0 => Ok(None),
            1 if !found.truncated => Ok(found.entries.pop()),
            _ => Err(DirectoryError::Unexpected(
                self.name.clone(),
                "several entries for one user name: make user_filter match one user".to_owned(),
            )),
        }
    }

    /// Whether `user` is a member of the group `group_dn`, asked with the
    /// service account. Active Directory follows nested groups itself
    /// (`member` in chain). On OpenLDAP the groups holding the user (by
    /// `member` or `uniqueMember`) are looked up, then the groups holding
    /// those, up to [`MAX_NESTING`] levels, within the subtree of the
    /// group's parent (where an organisation keeps its groups). A group that
    /// does not exist has no members.
    #[tracing::instrument(name = "directory.is_member", skip_all, fields(directory = %self.name))]
    pub async fn is_member(
        &self,
        group_dn: &str,
        user: &DirectoryUser,
    ) -> Result<bool, DirectoryError> {
        if self.config.kind == DirectoryKind::ActiveDirectory {
            let filter = format!("(member:{IN_CHAIN}:={})", ldap_escape(user.dn.as_str()));
            return Ok(self
                .groups_matching(group_dn, Scope::Base, &filter)
                .await?
                .is_some_and(|found| !found.is_empty()));
        }
        let target = normalized_dn(group_dn);
        let within = parent_dn(group_dn).unwrap_or(group_dn);
        let mut seen = std::collections::HashSet::new();
        let mut holders = vec![user.dn.clone()];
        for _ in 0..MAX_NESTING {
            if holders.is_empty() {
                break;
            }
            let Some(groups) = self
                .groups_matching(within, Scope::Subtree, &nesting_filter(&holders))
                .await?
            else {
                return Ok(false);
            };
            if groups.iter().any(|dn| normalized_dn(dn) == target) {
                return Ok(true);
            }
            holders = groups
                .into_iter()
                .filter(|dn| seen.insert(normalized_dn(dn)))
                .take(MAX_GROUPS_PER_LEVEL)
                .collect();
        }
        Ok(false)
    }

    /// The DNs of the entries under `base` that match `filter`; `None`
    /// when `base` does not exist (a typo in a group's DN is logged, and
    /// nobody gets its role).
    async fn groups_matching(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
    ) -> Result<Option<Vec<String>>, DirectoryError> {
        let mut conn = self.service().await?;
        let found = self
            .run(conn.ldap().search(base, scope, filter, vec!["1.1"]))
            .await;
        let (entries, result) = match found {
            Ok(r) => (r.0, r.1),
            Err(e) => {
                conn.discard();
                return Err(e);
            }
        };
        match result.rc {
            rc::SUCCESS => Ok(Some(
                entries
                    .into_iter()
                    .map(|e| SearchEntry::construct(e).dn)
                    .collect(),
            )),
            32 => {
                tracing::warn!(directory = %self.name, group = base, "the group does not exist");
                Ok(None)
            }
            other => {
                conn.discard();
                Err(DirectoryError::Unexpected(
                    self.name.clone(),
                    format!("group search result {other}: {}", result.text),
                ))
            }
        }
    }
}

/// Levels of groups within groups followed on OpenLDAP.
const MAX_NESTING: usize = 8;
/// Groups carried to the next level: a bound on one search's filter.
const MAX_GROUPS_PER_LEVEL: usize = 200;

/// The entries that hold any of `members` directly: any entry with such a
/// `member` or `uniqueMember` is a group, whatever its object class
/// (`groupOfNames`, `groupOfUniqueNames`, `groupOfEntries`, a site's own).
fn nesting_filter(members: &[String]) -> String {
    let any: String = members
        .iter()
        .map(|dn| {
            let dn = ldap_escape(dn.as_str());
            format!("(member={dn})(uniqueMember={dn})")
        })
        .collect();
    format!("(|{any})")
}

/// A DN compared as a directory compares it for these purposes: case and
/// the spaces around `,` and `=` do not matter.
fn normalized_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(|part| part.trim().to_lowercase())
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `dn` without its first RDN (an escaped comma is not a separator).
fn parent_dn(dn: &str) -> Option<&str> {
    let bytes = dn.as_bytes();
    let mut escaped = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\\' if !escaped => escaped = true,
            b',' if !escaped => return Some(dn[i + 1..].trim_start()),
            _ => escaped = false,
        }
    }
    None
}

/// The filter of the LRA's search: `user_filter` with a substring of the
/// escaped query for the user name, or any user whose display name
/// contains it.
pub(crate) fn search_filter(
    user_filter: &str,
    display_name_attribute: &str,
    query: &str,
) -> String {
    let query = query.trim();
    if query.is_empty() {
        return user_filter.replace("{username}", "*");
    }
    let q = ldap_escape(query);
    let by_name = user_filter.replace("{username}", &format!("*{q}*"));
    let anyone = user_filter.replace("{username}", "*");
    format!("(|{by_name}(&{anyone}({display_name_attribute}=*{q}*)))")
}

/// A GeneralizedTime (`20260101120000Z`, with optional fraction) as unix
/// seconds; only UTC (`Z`) is read.
pub(crate) fn generalized_time(text: &str) -> Option<i64> {
    let text = text.trim().strip_suffix('Z')?;
    let whole = text.split(['.', ',']).next()?;
    if whole.len() < 10 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| whole.get(range).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day, hour) = (n(0..4)?, n(4..6)?, n(6..8)?, n(8..10)?);
    let minute = if whole.len() >= 12 { n(10..12)? } else { 0 };
    let second = if whole.len() >= 14 { n(12..14)? } else { 0 };
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    let days = latchkey_shared::dates::days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// An Active Directory FILETIME (100 ns since 1601) as unix seconds; 0 (must
/// change) and the "never" value are `None`.
pub(crate) fn filetime(ticks: i64) -> Option<i64> {
    (ticks > 0 && ticks != i64::MAX).then(|| ticks / 10_000_000 - AD_EPOCH_OFFSET_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILTER: &str = "(&(objectClass=inetOrgPerson)(uid={username}))";

    #[test]
    fn a_groups_parent_is_its_dn_without_the_first_rdn_even_with_an_escaped_comma() {
        assert_eq!(
            parent_dn("cn=lra,ou=groups,dc=example,dc=org"),
            Some("ou=groups,dc=example,dc=org")
        );
        assert_eq!(
            parent_dn(r"cn=Smith\, Jo,ou=groups, dc=org"),
            Some("ou=groups, dc=org")
        );
        assert_eq!(parent_dn("dc=org"), None);
    }

    #[test]
    fn dns_compare_without_case_or_spaces_around_separators() {
        assert_eq!(
            normalized_dn("CN=LRA , OU=Groups,dc=Example"),
            normalized_dn("cn=lra,ou=groups,dc=example")
        );
        assert_ne!(
            normalized_dn("cn=lra,ou=groups"),
            normalized_dn("cn=lra2,ou=groups")
        );
    }

    #[test]
    fn the_nesting_filter_asks_for_groups_holding_any_member_escaped() {
        let f = nesting_filter(&["uid=a,dc=x".to_owned(), "cn=g*,dc=x".to_owned()]);
        assert_eq!(
            f,
            r"(|(member=uid=a,dc=x)(uniqueMember=uid=a,dc=x)(member=cn=g\2a,dc=x)(uniqueMember=cn=g\2a,dc=x))"
        );
    }

    #[test]
    fn the_search_filter_escapes_what_a_person_typed() {
        assert_eq!(
            search_filter(FILTER, "cn", "ali"),
            "(|(&(objectClass=inetOrgPerson)(uid=*ali*))(&(&(objectClass=inetOrgPerson)(uid=*))(cn=*ali*)))"
        );
        assert_eq!(
            search_filter(FILTER, "cn", "  "),
            "(&(objectClass=inetOrgPerson)(uid=*))"
        );
        let hostile = search_filter(FILTER, "cn", "*)(uid=*");
        assert!(hostile.contains(r"uid=*\2a\29\28uid=\2a*"), "{hostile}");
        assert_eq!(hostile.matches('(').count(), hostile.matches(')').count());
    }

    #[test]
    fn directory_times_read_as_unix_seconds() {
        assert_eq!(generalized_time("19700101000000Z"), Some(0));
        assert_eq!(generalized_time("20250615143000Z"), Some(1_749_997_800));
        assert_eq!(
            generalized_time("20250615143000.123456Z"),
            Some(1_749_997_800)
        );
        assert_eq!(generalized_time("20250615143000+0200"), None);
        assert_eq!(generalized_time("garbage"), None);
        // 2025-06-15 14:30:00 UTC as a FILETIME.
        assert_eq!(filetime(133_944_714_000_000_000), Some(1_749_997_800));
        assert_eq!(filetime(0), None);
    }
}
