//! The mail a person gets after a change to their account, so that a
//! change they did not make does not go unnoticed (ASVS 2.2.3, 2.5.5).
//! Each is written to the outbox in the transaction of the change it
//! reports ([`record`]): the change and its mail commit together or not at
//! all. The texts are in docs/notifications.md.

use latchkey_shared::dates::civil_from_days;
use sqlx::{Any, Row, Transaction};

use super::outbox;
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::config::Config;

/// What happened, as the mail tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    PasswordChanged,
    PasswordReset,
    UnlockedBySelfService,
    UnlockedByStaff,
    Locked,
    TemporaryPassword,
    EnrolmentChanged,
    EnrolmentCleared,
    AuthenticatorAdded,
    AuthenticatorRemoved,
    AddressChanged,
    AddressRemoved,
    /// Unlock Account and Forgot Password stopped after too many wrong codes.
    SelfServiceStopped,
}

impl Notice {
    /// The notice an audited change calls for, if any.
    pub fn for_event(kind: AuditKind, result: AuditResult) -> Option<Self> {
        use AuditKind as K;
        match (kind, result) {
            (K::AccountLocked, _) => Some(Self::Locked),
            (K::SelfServiceHalted, _) => Some(Self::SelfServiceStopped),
            (_, r) if r != AuditResult::Success => None,
            (K::PasswordChange, _) => Some(Self::PasswordChanged),
            (K::SelfServiceReset, _) => Some(Self::PasswordReset),
            (K::SelfServiceUnlock, _) => Some(Self::UnlockedBySelfService),
            (K::StaffUnlock, _) => Some(Self::UnlockedByStaff),
            (K::StaffTemporaryPassword, _) => Some(Self::TemporaryPassword),
            (K::SelfServiceEnrolment, _) => Some(Self::EnrolmentChanged),
            (K::StaffClearEnrolment, _) => Some(Self::EnrolmentCleared),
            (K::AuthenticatorAdded, _) => Some(Self::AuthenticatorAdded),
            (K::AuthenticatorRemoved, _) => Some(Self::AuthenticatorRemoved),
            (K::AddressChanged, _) => Some(Self::AddressChanged),
            (K::AddressRemoved, _) => Some(Self::AddressRemoved),
            _ => None,
        }
    }

    /// The outbox's `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::UnlockedBySelfService => "unlocked",
            Self::UnlockedByStaff => "unlocked_by_staff",
            Self::Locked => "locked",
            Self::TemporaryPassword => "temporary_password",
            Self::EnrolmentChanged => "enrolment_changed",
            Self::EnrolmentCleared => "enrolment_cleared",
            Self::AuthenticatorAdded => "authenticator_added",
            Self::AuthenticatorRemoved => "authenticator_removed",
            Self::AddressChanged => "address_changed",
            Self::AddressRemoved => "address_removed",
            Self::SelfServiceStopped => "self_service_stopped",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Self::PasswordChanged => "Your password was changed",
            Self::PasswordReset => "Your password was reset",
            Self::UnlockedBySelfService | Self::UnlockedByStaff => "Your account was unlocked",
            Self::Locked => "Your account was locked",
            Self::TemporaryPassword => "A temporary password was issued for your account",
            Self::EnrolmentChanged => "Your security questions were changed",
            Self::EnrolmentCleared => "Your security questions were cleared",
            Self::AuthenticatorAdded => "An authenticator app was added to your account",
            Self::AuthenticatorRemoved => "The authenticator app was removed from your account",
            Self::AddressChanged => "Your mail address was changed",
            Self::AddressRemoved => "Your mail address was removed",
            Self::SelfServiceStopped => "Password self-service was stopped for your account",
        }
    }

    /// "… was changed", completed by the account, the time and the address.
    fn what(self) -> &'static str {
        match self {
            Self::PasswordChanged => "The password of your account was changed",
            Self::PasswordReset => "The password of your account was reset with Forgot Password",
            Self::UnlockedBySelfService => "Your account was unlocked with Unlock Account",
            Self::UnlockedByStaff => "Your account was unlocked by the Help Desk",
            Self::Locked => "Your account was locked after too many wrong passwords",
            Self::TemporaryPassword => "The Help Desk issued a temporary password for your account",
            Self::EnrolmentChanged => "The security questions of your account were changed",
            Self::EnrolmentCleared => {
                "The Help Desk cleared the security questions of your account"
            }
            Self::AuthenticatorAdded => "An authenticator app was added to your account",
            Self::AuthenticatorRemoved => "The authenticator app was removed from your account",
            Self::AddressChanged => "The mail address of your account was changed",
            Self::AddressRemoved => {
                "This address was removed from your account: you will get no more mail about it"
            }
            Self::SelfServiceStopped => {
                "Unlock Account and Forgot Password were stopped for your account after too many wrong codes"
            }
        }
    }

    /// What the person does if it was them.
    fn if_you(self) -> &'static str {
        match self {
            Self::Locked => {
                "If it was you, use Unlock Account on the sign-in page, or wait for the lock to lift."
            }
            Self::EnrolmentCleared => {
                "If you asked for this, enrol your security questions again at your next sign-in."
            }
            Self::SelfServiceStopped => {
                "Signing in with your password starts them again, or the Help Desk can."
            }
            _ => "If this was you, there is nothing more to do.",
        }
    }
}

/// A mail as it goes into the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The facts a notice tells.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub display_name: &'a str,
    pub username: &'a str,
    pub domain_name: &'a str,
    pub at: i64,
    pub source_ip: Option<&'a str>,
    pub help_desk_phone: &'a str,
    pub portal_name: &'a str,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "3 December 2026 at 10:47 UTC".
pub fn when(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    let month = MONTHS[usize::try_from(m.saturating_sub(1)).unwrap_or(0).min(11)];
    format!(
        "{d} {month} {y} at {:02}:{:02} UTC",
        secs / 3600,
        (secs / 60) % 60
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(notice: Notice, facts: &Facts<'_>) -> Rendered {
    let from = facts
        .source_ip
        .map(|ip| format!(", from the address {ip}"))
        .unwrap_or_default();
    let account = format!("{} ({})", facts.username, facts.domain_name);
    let fact = insert_account(notice.what(), &account, &when(facts.at), &from);
    let call = if facts.help_desk_phone.is_empty() {
        "If this was not you, call the Help Desk now.".to_owned()
    } else {
        format!(
            "If this was not you, call the Help Desk now: {}.",
            facts.help_desk_phone
        )
    };
    let greeting = if facts.display_name.is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", facts.display_name)
    };
    let text = format!(
        "{greeting}\n\n{fact}\n\n{}\n{call}\n\nThis mail was sent by the password self-service of {}. Nobody will ever ask you for your password by mail.\n",
        notice.if_you(),
        facts.portal_name
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24\">\
         <p>{}</p><p><strong>{}</strong></p><p>{}<br><strong>{}</strong></p>\
         <p style=\"color:#57606a;font-size:0.9em\">This mail was sent by the password self-service of {}. Nobody will ever ask you for your password by mail.</p>\
         </body></html>",
        escape(&greeting),
        escape(&fact),
        escape(notice.if_you()),
        escape(&call),
        escape(facts.portal_name)
    );
    Rendered {
        subject: notice.subject().to_owned(),
        text,
        html,
    }
}

/// "The password of your account jsmith (Partners) was changed on …".
fn insert_account(what: &str, account: &str, when: &str, from: &str) -> String {
    let with_account = match what.to_lowercase().find("your account") {
        Some(i) => {
            let end = i + "your account".len();
            format!("{} {account}{}", &what[..end], &what[end..])
        }
        None => format!("{what} ({account})"),
    };
    format!("{with_account} on {when}{from}.")
}

/// The mail with a one-time code for Unlock Account or Forgot Password.
pub fn code_mail(
    kind: latchkey_shared::self_service::FlowKind,
    code: &str,
    minutes: i64,
    help_desk_phone: &str,
    portal_name: &str,
) -> Rendered {
    let what = match kind {
        latchkey_shared::self_service::FlowKind::Unlock => "Unlock Account",
        latchkey_shared::self_service::FlowKind::Reset => "Forgot Password",
    };
    let call = if help_desk_phone.is_empty() {
        "If you did not ask for it, someone may be trying to get into your account: call the Help Desk.".to_owned()
    } else {
        format!("If you did not ask for it, someone may be trying to get into your account: call the Help Desk at {help_desk_phone}.")
    };
    let text = format!(
        "Your code for {what} is {code}.\n\nIt is valid for {minutes} minutes, once. Type it where the page asks for the code; nobody will ever ask you for it by phone or mail.\n\n{call}\n\nThis mail was sent by the password self-service of {portal_name}.\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24\">\
         <p>Your code for {} is</p><p style=\"font-size:1.6em;letter-spacing:0.15em\"><strong>{}</strong></p>\
         <p>It is valid for {minutes} minutes, once. Type it where the page asks for the code; nobody will ever ask you for it by phone or mail.</p>\
         <p><strong>{}</strong></p><p style=\"color:#57606a;font-size:0.9em\">This mail was sent by the password self-service of {}.</p></body></html>",
        escape(what),
        escape(code),
        escape(&call),
        escape(portal_name)
    );
    Rendered {
        subject: format!("Your code for {what}"),
        text,
        html,
    }
}

/// The reminder that a password expires soon.
pub fn expiry_reminder_mail(
    display_name: &str,
    username: &str,
    expires_at: i64,
    portal_name: &str,
) -> Rendered {
    let text = format!(
        "Hello {display_name},\n\nThe password of your account {username} expires on {}. Change it before then on the password self-service of {portal_name}: after that day it can only be changed.\n\nNobody will ever ask you for your password by mail.\n",
        when(expires_at)
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24\">\
         <p>Hello {},</p><p><strong>The password of your account {} expires on {}.</strong></p>\
         <p>Change it before then on the password self-service of {}: after that day it can only be changed.</p>\
         <p style=\"color:#57606a;font-size:0.9em\">Nobody will ever ask you for your password by mail.</p></body></html>",
        escape(display_name),
        escape(username),
        escape(&when(expires_at)),
        escape(portal_name)
    );
    Rendered {
        subject: "Your password expires soon".to_owned(),
        text,
        html,
    }
}

/// The mail with the code that confirms a new address.
pub fn address_code_mail(code: &str, minutes: i64, portal_name: &str) -> Rendered {
    let text = format!(
        "Your code to confirm this mail address is {code}.\n\nIt is valid for {minutes} minutes, once. If you did not ask to use this address for your account, ignore this mail: nothing changes.\n\nThis mail was sent by the password self-service of {portal_name}.\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24\">\
         <p>Your code to confirm this mail address is</p><p style=\"font-size:1.6em;letter-spacing:0.15em\"><strong>{}</strong></p>\
         <p>It is valid for {minutes} minutes, once. If you did not ask to use this address for your account, ignore this mail: nothing changes.</p>\
         <p style=\"color:#57606a;font-size:0.9em\">This mail was sent by the password self-service of {}.</p></body></html>",
        escape(code),
        escape(portal_name)
    );
    Rendered {
        subject: "Confirm your mail address".to_owned(),
        text,
        html,
    }
}

/// The audit row of `event` and, when it is a change the person must hear
/// of and mail is configured, their notification, both in `tx`.
pub async fn record(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    now: i64,
    event: &AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    audit::record(&mut **tx, now, event).await?;
    enqueue(tx, config, now, event, None).await
}

/// `event`'s notice alone, for a caller that wrote its audit row already
/// and mails after its answer ([`crate::state::background`]).
pub async fn mail_only(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    now: i64,
    event: &AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    enqueue(tx, config, now, event, None).await
}

/// `event`'s notice, sent to `address` as well as (by [`record`]) the one
/// on the record: a changed mail address is told to the old one too.
pub async fn also_to(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    now: i64,
    event: &AuditEvent<'_>,
    address: &str,
) -> Result<(), sqlx::Error> {
    enqueue(tx, config, now, event, Some(address)).await
}

async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    now: i64,
    event: &AuditEvent<'_>,
    to: Option<&str>,
) -> Result<(), sqlx::Error> {
    let Some(notice) = Notice::for_event(event.kind, event.result) else {
        return Ok(());
    };
    if config.mail.is_none() {
        return Ok(());
    }
    let (Some(subject), Some(domain)) = (event.subject, event.domain) else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT u.username, u.display_name, u.email, d.name AS domain_name \
         FROM users u JOIN domains d ON d.id = u.domain_id \
         WHERE d.slug = $1 AND u.username_key = $2",
    )
    .bind(domain)
    .bind(subject)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let email: Option<String> = match to {
        Some(address) => Some(address.to_owned()),
        None => row.try_get("email")?,
    };
    let Some(email) = email.filter(|e| e.contains('@')) else {
        return Ok(());
    };
    let phone: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(crate::settings::help_desk::HELP_DESK_PHONE)
        .fetch_optional(&mut **tx)
        .await?;
    let (username, display_name, domain_name): (String, String, String) = (
        row.try_get("username")?,
        row.try_get("display_name")?,
        row.try_get("domain_name")?,
    );
    let mail = render(
        notice,
        &Facts {
            display_name: &display_name,
            username: &username,
            domain_name: &domain_name,
            at: now,
            source_ip: event.source_ip,
            help_desk_phone: phone.as_deref().unwrap_or(""),
            portal_name: &config.portal_name,
        },
    );
    outbox::enqueue(tx, notice.as_str(), &email, &mail, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            display_name: "Jo <Smith>",
            username: "jsmith",
            domain_name: "Partners",
            at: 1_796_294_820, // 2026-12-03 10:47 UTC
            source_ip: Some("203.0.113.9"),
            help_desk_phone: "1-866-250-1554",
            portal_name: "ClinicalConnect",
        }
    }

    #[test]
    fn a_notice_says_what_when_from_where_and_whom_to_call() {
        let mail = render(Notice::PasswordChanged, &facts());
        assert_eq!(mail.subject, "Your password was changed");
        assert!(mail.text.contains(
            "The password of your account jsmith (Partners) was changed on 3 December 2026 at 10:47 UTC, from the address 203.0.113.9."
        ), "{}", mail.text);
        assert!(mail
            .text
            .contains("If this was not you, call the Help Desk now: 1-866-250-1554."));
        // The HTML part escapes what came from the database.
        assert!(
            mail.html.contains("Hello Jo &lt;Smith&gt;,"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<Smith>"));
    }

    #[test]
    fn only_changes_call_for_a_notice() {
        use AuditKind as K;
        use AuditResult as R;
        assert_eq!(
            Notice::for_event(K::PasswordChange, R::Success),
            Some(Notice::PasswordChanged)
        );
        assert_eq!(Notice::for_event(K::PasswordChange, R::Failure), None);
        assert_eq!(
            Notice::for_event(K::AccountLocked, R::Locked),
            Some(Notice::Locked)
        );
        assert_eq!(Notice::for_event(K::SignIn, R::Success), None);
        assert_eq!(Notice::for_event(K::StaffReauth, R::Success), None);
    }

    #[test]
    fn without_a_phone_or_an_address_the_sentences_still_read() {
        let mail = render(
            Notice::Locked,
            &Facts {
                help_desk_phone: "",
                source_ip: None,
                display_name: "",
                ..facts()
            },
        );
        assert!(mail.text.starts_with("Hello,\n"));
        assert!(mail.text.contains("Your account jsmith (Partners) was locked after too many wrong passwords on 3 December 2026 at 10:47 UTC."), "{}", mail.text);
        assert!(mail
            .text
            .contains("If this was not you, call the Help Desk now.\n"));
    }
}
