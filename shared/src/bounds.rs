//! The bounds of every text the API accepts: a maximum length and no control
//! characters, checked at the edge before any database work. The server
//! refuses a request that breaks one with a 400 naming the field; the client
//! can run the same check before it sends.
//!
//! Fields that identify someone signing in (the user name and password of a
//! sign-in, of the portal's verify and of the self-service's identify step)
//! are deliberately *not* bounded here: an impossible name must be answered
//! exactly like a wrong password, so the credential check handles them (see
//! the server's `credentials` module) and only the body limit bounds them.

use std::fmt;

use crate::admin::{
    ApiKeyCreate, AuditQuery, DomainCreate, DomainUpdate, LiftThrottle, MandatoryResetRequest,
    NoticeInput, PortalVerifyRequest, ReauthRequest, RoleUpdate, StaffActionRequest, StoreUpdate,
    TestMailRequest, MAX_REASON_CHARS, MAX_SOURCE_CHARS,
};
use crate::api::{ChangePasswordRequest, HelpDesk, SignInRequest};
use crate::policy::ABSOLUTE_MAX_LENGTH;
use crate::self_service::{
    AnswersRequest, EnrolRequest, FinishRequest, IdentifyRequest, NewPasswordRequest,
    SelfServiceSettings, StartFlowRequest,
};
use crate::username::MAX_USERNAME_LENGTH;

/// A domain's slug: lower-case letters, digits and `-`.
pub const MAX_SLUG_CHARS: usize = 32;
/// A domain's display name.
pub const MAX_DOMAIN_NAME_CHARS: usize = 100;
/// The text shown instead of the self-service.
pub const MAX_UNAVAILABLE_TEXT_CHARS: usize = 1000;
pub const MAX_NOTICE_TITLE_CHARS: usize = 200;
pub const MAX_NOTICE_BODY_CHARS: usize = 5000;
/// `YYYY-MM-DD`.
pub const MAX_DATE_CHARS: usize = 10;
pub const MAX_PHONE_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 200;
pub const MAX_API_KEY_NAME_CHARS: usize = 100;
/// A credential store: `local` or `directory:<name>`.
pub const MAX_STORE_CHARS: usize = 128;
/// The LRA's search text.
pub const MAX_SEARCH_CHARS: usize = 100;
/// An audit filter (user name, domain, kind).
pub const MAX_FILTER_CHARS: usize = 100;
/// A password anywhere it is not a sign-in: current, new, confirmation. The
/// policies cannot allow more (`ABSOLUTE_MAX_LENGTH`).
pub const MAX_PASSWORD_CHARS: usize = ABSOLUTE_MAX_LENGTH as usize;
/// Answers and questions: the enrolment's own rules (`MAX_ANSWER_CHARS`,
/// `MAX_QUESTION_CHARS`, counted after normalisation) refuse long ones with a
/// precise message; this only keeps what reaches them small.
pub const MAX_ANSWER_INPUT_CHARS: usize = 1024;
/// The characters typed from a CAPTCHA picture.
pub const MAX_CAPTCHA_CHARS: usize = 32;
/// A path parameter (a slug, a flow id; numbers are parsed as numbers).
pub const MAX_PATH_PARAM_CHARS: usize = 128;
/// Entries of a list field (domains of a role or a mandatory reset, the
/// question catalogue, answers).
pub const MAX_LIST_ITEMS: usize = 100;
/// User names of one mandatory reset.
pub const MAX_USERNAMES_PER_RESET: usize = 10_000;

/// What may be in a text besides printable characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: no control character at all.
    Line,
    /// Paragraphs: line breaks and tabs allowed, no other control character.
    Multiline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    TooLong { max: usize },
    ControlCharacter,
    TooManyItems { max: usize },
}

/// A field that broke its bound; the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match self.problem {
            Problem::TooLong { max } => {
                write!(
                    f,
                    "The field `{field}` is too long: at most {max} characters."
                )
            }
            Problem::ControlCharacter => write!(
                f,
                "The field `{field}` contains a control character (such as NUL); remove it."
            ),
            Problem::TooManyItems { max } => {
                write!(
                    f,
                    "The field `{field}` has too many entries: at most {max}."
                )
            }
        }
    }
}

impl std::error::Error for FieldError {}

/// Checks one text: at most `max` code points, and no control character
/// beyond what `kind` allows.
pub fn check_text(field: &str, value: &str, max: usize, kind: TextKind) -> Result<(), FieldError> {
    let err = |problem| FieldError {
        field: field.to_owned(),
        problem,
    };
    let allowed = |c: char| kind == TextKind::Multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(err(Problem::ControlCharacter));
    }
    // Counting stops at the first character past the bound.
    if value.chars().nth(max).is_some() {
        return Err(err(Problem::TooLong { max }));
    }
    Ok(())
}

fn line(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    check_text(field, value, max, TextKind::Line)
}

fn opt_line(field: &str, value: Option<&str>, max: usize) -> Result<(), FieldError> {
    value.map_or(Ok(()), |v| line(field, v, max))
}

fn list(field: &str, values: &[String], max_items: usize, max: usize) -> Result<(), FieldError> {
    if values.len() > max_items {
        return Err(FieldError {
            field: field.to_owned(),
            problem: Problem::TooManyItems { max: max_items },
        });
    }
    values
        .iter()
        .enumerate()
        .try_for_each(|(i, v)| line(&format!("{field}[{i}]"), v, max))
}

/// A request (body or query) whose every text has a bound.
pub trait Bounded {
    fn check_bounds(&self) -> Result<(), FieldError>;
}

impl Bounded for SignInRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        // Domain, name and password: see the module's comment.
        Ok(())
    }
}

impl Bounded for PortalVerifyRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        Ok(())
    }
}

impl Bounded for IdentifyRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        // The name: see the module's comment. The CAPTCHA is no secret of
        // the user's, so a refusal tells nothing about the name.
        line("captcha", &self.captcha, MAX_CAPTCHA_CHARS)
    }
}

impl Bounded for ChangePasswordRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line(
            "current_password",
            &self.current_password,
            MAX_PASSWORD_CHARS,
        )?;
        line("new_password", &self.new_password, MAX_PASSWORD_CHARS)?;
        line(
            "confirm_password",
            &self.confirm_password,
            MAX_PASSWORD_CHARS,
        )
    }
}

impl Bounded for crate::factors::ConfirmAuthenticator {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("code", &self.code, crate::factors::MAX_CODE_CHARS)
    }
}

impl Bounded for crate::factors::ChangeAddress {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("address", &self.address, MAX_EMAIL_CHARS)?;
        line("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for crate::factors::BeginAuthenticator {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for crate::factors::ConfirmAddress {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("code", &self.code, crate::factors::MAX_CODE_CHARS)
    }
}

impl Bounded for crate::factors::RemoveAuthenticator {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for crate::factors::RemoveAddress {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for TestMailRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("to", &self.to, MAX_EMAIL_CHARS)
    }
}

impl Bounded for ReauthRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for StaffActionRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        check_text(
            "reason",
            &self.reason,
            MAX_REASON_CHARS,
            TextKind::Multiline,
        )
    }
}

impl Bounded for RoleUpdate {
    fn check_bounds(&self) -> Result<(), FieldError> {
        list("domains", &self.domains, MAX_LIST_ITEMS, MAX_SLUG_CHARS)?;
        check_text(
            "reason",
            &self.reason,
            MAX_REASON_CHARS,
            TextKind::Multiline,
        )
    }
}

impl Bounded for DomainCreate {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("slug", &self.slug, MAX_SLUG_CHARS)?;
        line("name", &self.name, MAX_DOMAIN_NAME_CHARS)?;
        opt_unavailable_text(self.unavailable_text.as_deref())
    }
}

fn opt_unavailable_text(text: Option<&str>) -> Result<(), FieldError> {
    text.map_or(Ok(()), |t| {
        check_text(
            "unavailable_text",
            t,
            MAX_UNAVAILABLE_TEXT_CHARS,
            TextKind::Multiline,
        )
    })
}

impl Bounded for DomainUpdate {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("name", &self.name, MAX_DOMAIN_NAME_CHARS)?;
        opt_unavailable_text(self.unavailable_text.as_deref())?;
        self.self_service
            .as_ref()
            .map_or(Ok(()), SelfServiceSettings::check_bounds)
    }
}

impl Bounded for SelfServiceSettings {
    fn check_bounds(&self) -> Result<(), FieldError> {
        list(
            "self_service.catalogue",
            &self.catalogue,
            MAX_LIST_ITEMS,
            MAX_ANSWER_INPUT_CHARS,
        )
    }
}

impl Bounded for StoreUpdate {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("store", &self.store, MAX_STORE_CHARS)
    }
}

impl Bounded for NoticeInput {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("title", &self.title, MAX_NOTICE_TITLE_CHARS)?;
        check_text(
            "body",
            &self.body,
            MAX_NOTICE_BODY_CHARS,
            TextKind::Multiline,
        )?;
        line("posted_on", &self.posted_on, MAX_DATE_CHARS)
    }
}

impl Bounded for MandatoryResetRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        list("domains", &self.domains, MAX_LIST_ITEMS, MAX_SLUG_CHARS)?;
        list(
            "usernames",
            &self.usernames,
            MAX_USERNAMES_PER_RESET,
            MAX_USERNAME_LENGTH,
        )?;
        check_text(
            "reason",
            &self.reason,
            MAX_REASON_CHARS,
            TextKind::Multiline,
        )
    }
}

impl Bounded for HelpDesk {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("phone", &self.phone, MAX_PHONE_CHARS)?;
        line("email", &self.email, MAX_EMAIL_CHARS)
    }
}

impl Bounded for AuditQuery {
    fn check_bounds(&self) -> Result<(), FieldError> {
        opt_line("user", self.user.as_deref(), MAX_FILTER_CHARS)?;
        opt_line("domain", self.domain.as_deref(), MAX_FILTER_CHARS)?;
        opt_line("kind", self.kind.as_deref(), MAX_FILTER_CHARS)
    }
}

impl Bounded for ApiKeyCreate {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("name", &self.name, MAX_API_KEY_NAME_CHARS)
    }
}

impl Bounded for LiftThrottle {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("source", &self.source, MAX_SOURCE_CHARS)
    }
}

impl Bounded for StartFlowRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("domain", &self.domain, MAX_SLUG_CHARS)
    }
}

impl Bounded for AnswersRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        // The same bound for everyone: a refusal tells nothing about the user.
        list(
            "answers",
            &self.answers,
            MAX_LIST_ITEMS,
            MAX_ANSWER_INPUT_CHARS,
        )?;
        opt_line("code", self.code.as_deref(), crate::factors::MAX_CODE_CHARS)
    }
}

impl Bounded for FinishRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("captcha", &self.captcha, MAX_CAPTCHA_CHARS)
    }
}

impl Bounded for NewPasswordRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        line("new_password", &self.new_password, MAX_PASSWORD_CHARS)?;
        line(
            "confirm_password",
            &self.confirm_password,
            MAX_PASSWORD_CHARS,
        )
    }
}

impl Bounded for EnrolRequest {
    fn check_bounds(&self) -> Result<(), FieldError> {
        if let Some(p) = &self.current_password {
            line("current_password", p, MAX_PASSWORD_CHARS)?;
        }
        if self.answers.len() > MAX_LIST_ITEMS {
            return Err(FieldError {
                field: "answers".to_owned(),
                problem: Problem::TooManyItems {
                    max: MAX_LIST_ITEMS,
                },
            });
        }
        self.answers.iter().enumerate().try_for_each(|(i, a)| {
            line(
                &format!("answers[{i}].question"),
                &a.question,
                MAX_ANSWER_INPUT_CHARS,
            )?;
            line(
                &format!("answers[{i}].answer"),
                &a.answer,
                MAX_ANSWER_INPUT_CHARS,
            )
        })
    }
}

/// A path parameter: numbers are bounded by their type, text by
/// [`MAX_PATH_PARAM_CHARS`].
pub trait BoundedParam {
    fn check_param(&self) -> Result<(), FieldError>;
}

impl BoundedParam for i64 {
    fn check_param(&self) -> Result<(), FieldError> {
        Ok(())
    }
}

impl BoundedParam for String {
    fn check_param(&self) -> Result<(), FieldError> {
        line("path parameter", self, MAX_PATH_PARAM_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_in_a_line_is_refused_with_the_field_named() {
        let e = check_text("title", "a\u{0}b", 10, TextKind::Line).unwrap_err();
        assert_eq!(e.problem, Problem::ControlCharacter);
        assert!(e.to_string().contains("`title`"), "{e}");
    }

    #[test]
    fn paragraphs_may_break_lines_but_hold_no_other_control_character() {
        assert!(check_text("body", "one\r\ntwo\tthree", 50, TextKind::Multiline).is_ok());
        assert!(check_text("body", "one\ntwo", 50, TextKind::Line).is_err());
        assert!(check_text("body", "bell\u{7}", 50, TextKind::Multiline).is_err());
        assert!(check_text("body", "c1\u{85}", 50, TextKind::Multiline).is_err());
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        assert!(check_text("name", &"é".repeat(5), 5, TextKind::Line).is_ok());
        let e = check_text("name", &"é".repeat(6), 5, TextKind::Line).unwrap_err();
        assert_eq!(e.problem, Problem::TooLong { max: 5 });
    }

    #[test]
    fn list_entries_are_named_by_their_position() {
        let r = StaffActionRequest {
            reason: "ok".into(),
        };
        assert!(r.check_bounds().is_ok());
        let role = RoleUpdate {
            role: crate::admin::Role::Lra,
            domains: vec!["partners".into(), "bad\u{0}".into()],
            reason: "x".into(),
        };
        assert_eq!(role.check_bounds().unwrap_err().field, "domains[1]");
        let many = RoleUpdate {
            domains: vec!["a".into(); MAX_LIST_ITEMS + 1],
            ..role
        };
        assert_eq!(
            many.check_bounds().unwrap_err().problem,
            Problem::TooManyItems {
                max: MAX_LIST_ITEMS
            }
        );
    }

    #[test]
    fn sign_in_fields_are_left_to_the_credential_check() {
        let req = SignInRequest {
            domain: "p\u{0}".into(),
            username: "a\u{0}b".repeat(10_000),
            password: "x".into(),
        };
        assert!(req.check_bounds().is_ok());
    }

    #[test]
    fn path_text_is_bounded_and_numbers_are_not() {
        assert!(7i64.check_param().is_ok());
        assert!("x".repeat(MAX_PATH_PARAM_CHARS).check_param().is_ok());
        assert!("x".repeat(MAX_PATH_PARAM_CHARS + 1).check_param().is_err());
        assert!("a\u{0}".to_owned().check_param().is_err());
    }
}
