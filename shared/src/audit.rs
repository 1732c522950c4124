//! Every kind and result of an audit event, in one place: the server writes
//! them, the console filters by them (its kind filter is a select over
//! [`AuditKind::ALL`]).

use serde::{Deserialize, Serialize};

macro_rules! audit_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, $label:literal; )+) => {
        /// What an audit event records. Stored as [`AuditKind::as_str`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum AuditKind {
            $( $(#[$doc])* #[serde(rename = $text)] $variant, )+
        }

        impl AuditKind {
            /// Every kind, in the order the console lists them.
            pub const ALL: &'static [AuditKind] = &[$(AuditKind::$variant),+];

            /// The stored text (stable: it is in existing audit rows).
            pub const fn as_str(self) -> &'static str {
                match self { $(AuditKind::$variant => $text,)+ }
            }

            /// A label for the console.
            pub const fn label(self) -> &'static str {
                match self { $(AuditKind::$variant => $label,)+ }
            }

            /// The kind stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(AuditKind::$variant),)+ _ => None }
            }
        }
    };
}

audit_kinds! {
    SignIn => "sign_in", "Sign-in";
    SignOut => "sign_out", "Sign-out";
    /// The failure that reached the lockout threshold.
    AccountLocked => "account_locked", "Account locked";
    PasswordChange => "password_change", "Password change";
    /// A hash upgraded to the current argon2 parameters at sign-in.
    PasswordRehash => "password_rehash", "Password hash upgraded";
    SelfServiceEnrolment => "self_service.enrolment", "Security questions enrolment";
    SelfServiceUnlock => "self_service.unlock", "Self-service unlock";
    SelfServiceReset => "self_service.reset", "Self-service password reset";
    /// The failed verification that reached the self-service threshold.
    SelfServiceBlocked => "self_service.blocked", "Self-service blocked";
    /// The wrong code that reached the total cap: the name's self-service
    /// stops until the owner signs in or the Help Desk clears it.
    SelfServiceHalted => "self_service.halted", "Self-service stopped (too many wrong codes)";
    PortalVerify => "portal.verify", "Portal password check";
    StaffReauth => "staff.reauth", "Staff password re-entry";
    /// A staff member asked for an account outside their domains.
    StaffView => "staff.view", "Staff view refused";
    StaffUnlock => "staff.unlock", "LRA unlock";
    StaffTemporaryPassword => "staff.temporary_password", "LRA temporary password";
    StaffClearEnrolment => "staff.clear_enrolment", "LRA cleared enrolment";
    StaffDisable => "staff.disable", "Account disabled";
    StaffEnable => "staff.enable", "Account enabled";
    AdminRoleChange => "admin.role_change", "Role change";
    AdminDomainCreate => "admin.domain_create", "Domain created";
    AdminDomainUpdate => "admin.domain_update", "Domain settings changed";
    /// A domain's credential store set from the console (local, or a directory).
    AdminDomainStore => "admin.domain_store", "Domain credential store set";
    AdminNoticeCreate => "admin.notice_create", "Notice created";
    AdminNoticeUpdate => "admin.notice_update", "Notice changed";
    AdminNoticeDelete => "admin.notice_delete", "Notice deleted";
    AdminMandatoryReset => "admin.mandatory_reset", "Mandatory password reset";
    AdminHelpDeskUpdate => "admin.help_desk_update", "Help Desk contact changed";
    AdminApiKeyCreate => "admin.api_key_create", "API key created";
    AdminApiKeyRevoke => "admin.api_key_revoke", "API key revoked";
    AdminTestMail => "admin.test_mail", "Test mail sent";
    /// A source's throttle lifted by an administrator (the source in `detail`).
    AdminThrottleLift => "admin.throttle_lift", "Source throttle lifted";
    /// A source (`source_ip`: an address or an IPv6 /64) that reached the
    /// failures or the locks a window allows: refused until it ends.
    SourceThrottled => "throttle.source_refused", "Source throttled";
    /// A new key issued (not in use until confirmed by a code).
    AuthenticatorSetup => "authenticator.setup", "Authenticator setup started";
    /// Also with result `failure`: a wrong code while confirming a new key.
    AuthenticatorAdded => "authenticator.added", "Authenticator added";
    AuthenticatorRemoved => "authenticator.removed", "Authenticator removed";
    /// A code mailed to a new address (in `detail`), or refused by the limit.
    AddressChangeRequested => "account.address_change_requested", "Mail address change requested";
    /// Also with result `failure`: a wrong or expired code for a new address.
    AddressChanged => "account.address_changed", "Mail address changed";
    AddressRemoved => "account.address_removed", "Mail address removed";
    CliDomainCreate => "cli.domain_create", "Domain created (command line)";
    /// A domain's credential store set (local, or a directory).
    CliDomainStore => "cli.domain_store", "Domain credential store set (command line)";
    /// A domain's second factor for the self-service set.
    CliDomainSecondFactor => "cli.domain_second_factor", "Domain second factor set (command line)";
    CliUserCreate => "cli.user_create", "User created (command line)";
    CliUserImport => "cli.user_import", "Users imported (command line)";
    CliUnlock => "cli.unlock", "Unlock (command line)";
    CliTemporaryPassword => "cli.temporary_password", "Temporary password (command line)";
    CliRoleChange => "cli.role_change", "Role change (command line)";
    CliDemoSeed => "cli.demo_seed", "Demo data created";
    /// A directory user's role set from their directory groups at sign-in.
    DirectoryRoleSync => "directory.role_sync", "Role from directory groups";
    /// A directory user's row set apart: the name now belongs to another
    /// directory entry (the person was deleted and the name reused, or
    /// another was renamed onto it).
    DirectoryIdentityRetired => "directory.identity_retired", "Directory identity retired";
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditResult {
    Success,
    /// Wrong password, wrong answers, unknown name.
    Failure,
    /// Refused because the account is (or just became) locked.
    Locked,
    /// Refused by a rule (policy, reuse, scope, not offered).
    Refused,
}

impl AuditResult {
    pub const ALL: &'static [AuditResult] = &[
        AuditResult::Success,
        AuditResult::Failure,
        AuditResult::Locked,
        AuditResult::Refused,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
            AuditResult::Locked => "locked",
            AuditResult::Refused => "refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_text_and_serialises_as_it() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(
                serde_json::to_string(kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(AuditKind::parse("no_such_kind"), None);
    }

    #[test]
    fn stored_texts_and_labels_are_unique() {
        let mut texts: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut labels: Vec<_> = AuditKind::ALL.iter().map(|k| k.label()).collect();
        texts.sort_unstable();
        texts.dedup();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(texts.len(), AuditKind::ALL.len());
        assert_eq!(labels.len(), AuditKind::ALL.len());
    }
}
