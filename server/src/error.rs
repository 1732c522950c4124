//! The one error type of every operation: each variant has a stable
//! [`ErrorCode`] (whose status is in `shared`, [`ErrorCode::status`]) and
//! becomes an [`ApiError`] body. How it becomes an HTTP answer (status,
//! `Retry-After`, an internal failure's chain kept for the log) is
//! [`crate::http::error`].

use latchkey_shared::api::{messages, ApiError, ErrorCode, ErrorDetails};
use latchkey_shared::{PasswordPolicy, PolicyReport};

/// Seconds a client is asked to wait after a 503.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Any error of ours or of a library, kept whole for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: malformed request or invalid field; the message says what is wrong.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: user name, domain or password wrong; never says which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 423: too many failed attempts (also for unknown user names).
    #[error("account locked")]
    AccountLocked,
    /// 403: the temporary password was right but has expired.
    #[error("temporary password expired")]
    TemporaryPasswordExpired,
    /// 403: this session may only change its temporary password.
    #[error("password change required")]
    PasswordChangeRequired,
    /// 401: no session, or it ended.
    #[error("not authenticated")]
    NotAuthenticated,
    /// 422: the new password fails the policy; the report says why.
    #[error("password rejected by policy")]
    PasswordRejected(Box<PolicyReport>),
    /// 422: new password and confirmation differ.
    #[error("passwords do not match")]
    PasswordsDoNotMatch,
    /// 422: the new password is the current one or in the history.
    #[error("password reused")]
    PasswordReused,
    /// 409: the client checked against an outdated policy; carries the current one.
    #[error("policy changed")]
    PolicyChanged(Box<PasswordPolicy>),
    /// 403: self-service is not offered for this domain; carries the domain's text.
    #[error("self-service unavailable")]
    SspmUnavailable(String),
    /// 403: refused (CSRF protection, insufficient role); the message says why.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 403: a credential-changing staff action needs a recent password entry.
    #[error("re-authentication required")]
    ReauthRequired,
    /// 422, 410 or 429: a self-service verification error (CAPTCHA, expiry,
    /// failed verification, block); status and message follow from the code.
    #[error("self-service: {0:?}")]
    SelfService(ErrorCode),
    /// 404: no such resource.
    #[error("not found")]
    NotFound,
    /// 409: the resource exists already (e.g. a taken short name); the
    /// message says which.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 408: the body did not arrive within `body_timeout_secs` of the
    /// request's head.
    #[error("request body timed out")]
    RequestTimeout,
    /// 413: the body is larger than the API reads ([`crate::MAX_BODY_BYTES`]).
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body must be `application/json`.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`: a limit per account reached; the message says
    /// what to do and when.
    #[error("too many requests")]
    TooMany { message: String, retry_after: i64 },
    /// 503 with `Retry-After`: too many password hashes already waiting.
    #[error("busy")]
    Busy,
    /// 503 with `Retry-After` (code `busy`): the domain's directory did not
    /// answer in time; nothing was counted. The text names the directory
    /// for the log only.
    #[error("directory unavailable: {0}")]
    DirectoryUnavailable(String),
    /// 503 with `Retry-After` (code `busy`): the database is locked by
    /// another writer, cannot be reached or cannot be written (its file
    /// gone, the disk full); the transaction rolled back, nothing changed.
    /// Logged once with its chain, at WARN.
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] sqlx::Error),
    /// 500: database failure (logged once with its chain, never shown).
    // Transparent: the CLI prints the cause, and a log's chain does not
    // repeat it.
    #[error(transparent)]
    Database(sqlx::Error),
    /// 500: any other failure on our side (logged once with its chain, never
    /// shown).
    #[error(transparent)]
    Internal(BoxError),
}

impl AppError {
    /// A field that broke its bound ([`latchkey_shared::bounds`]).
    pub fn invalid_field(e: latchkey_shared::bounds::FieldError) -> Self {
        Self::BadRequest(e.to_string())
    }

    /// Any error (or a message: `&str`, `String`) as a 500, keeping its
    /// `source()` chain.
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Self::Internal(e.into())
    }

    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Internal(_))
    }

    /// Whether the answer carries the error for the log: a 500, or a
    /// database that cannot serve (a 503 an operator must hear about).
    pub fn is_logged(&self) -> bool {
        self.is_internal() || matches!(self, Self::DatabaseUnavailable(_))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::AccountLocked => ErrorCode::AccountLocked,
            Self::TemporaryPasswordExpired => ErrorCode::TemporaryPasswordExpired,
            Self::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            Self::NotAuthenticated => ErrorCode::NotAuthenticated,
            Self::PasswordRejected(_) => ErrorCode::PasswordRejected,
            Self::PasswordsDoNotMatch => ErrorCode::PasswordsDoNotMatch,
            Self::PasswordReused => ErrorCode::PasswordReused,
            Self::PolicyChanged(_) => ErrorCode::PolicyChanged,
            Self::SspmUnavailable(_) => ErrorCode::SspmUnavailable,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::ReauthRequired => ErrorCode::ReauthRequired,
            Self::SelfService(code) => *code,
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::TooMany { .. } => ErrorCode::TooManyRequests,
            Self::Busy | Self::DirectoryUnavailable(_) | Self::DatabaseUnavailable(_) => {
                ErrorCode::Busy
            }
            Self::Database(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The [`ApiError`] body. Internal errors get the given request id.
    pub fn to_api_error(&self, request_id: Option<String>) -> ApiError {
        let (message, details) = match self {
            Self::BadRequest(m) => (m.clone(), None),
            Self::InvalidCredentials => (messages::INVALID_CREDENTIALS.to_owned(), None),
            Self::AccountLocked => (messages::ACCOUNT_LOCKED.to_owned(), None),
            Self::TemporaryPasswordExpired => {
                (messages::TEMPORARY_PASSWORD_EXPIRED.to_owned(), None)
            }
            Self::PasswordChangeRequired => (messages::PASSWORD_CHANGE_REQUIRED.to_owned(), None),
            Self::NotAuthenticated => (messages::NOT_AUTHENTICATED.to_owned(), None),
            Self::PasswordRejected(report) => (
                "The new password does not meet the requirements.".to_owned(),
                Some(ErrorDetails::PasswordReport {
                    report: (**report).clone(),
                }),
            ),
            Self::PasswordsDoNotMatch => (messages::PASSWORDS_DO_NOT_MATCH.to_owned(), None),
            Self::PasswordReused => (messages::PASSWORD_REUSED.to_owned(), None),
            Self::PolicyChanged(policy) => (
                messages::POLICY_CHANGED.to_owned(),
                Some(ErrorDetails::Policy {
                    policy: (**policy).clone(),
                }),
            ),
            Self::SspmUnavailable(text) => (text.clone(), None),
            Self::Forbidden(m) => (m.clone(), None),
            Self::ReauthRequired => (
                "Enter your password again to confirm this action.".to_owned(),
                None,
            ),
            Self::SelfService(code) => {
                use latchkey_shared::self_service::messages as ss;
                let m = match code {
                    ErrorCode::CaptchaIncorrect => ss::CAPTCHA_INCORRECT,
                    ErrorCode::CaptchaExpired => ss::CAPTCHA_EXPIRED,
                    ErrorCode::FlowExpired => ss::FLOW_EXPIRED,
                    ErrorCode::SelfServiceBlocked => ss::SELF_SERVICE_BLOCKED,
                    _ => ss::VERIFICATION_FAILED,
                };
                (m.to_owned(), None)
            }
            Self::NotFound => ("There is nothing at this address.".to_owned(), None),
            Self::RequestTimeout => (messages::REQUEST_TIMEOUT.to_owned(), None),
            Self::PayloadTooLarge => (
                format!(
                    "The request body is too large: at most {} KiB.",
                    crate::MAX_BODY_BYTES / 1024
                ),
                None,
            ),
            Self::Conflict(m) | Self::UnsupportedMediaType(m) => (m.clone(), None),
            Self::DirectoryUnavailable(_) => (
                messages::DIRECTORY_UNAVAILABLE.to_owned(),
                Some(ErrorDetails::RetryAfter {
                    seconds: BUSY_RETRY_AFTER_SECS,
                }),
            ),
            Self::TooMany {
                message,
                retry_after,
            } => (
                message.clone(),
                Some(ErrorDetails::RetryAfter {
                    seconds: u64::try_from(*retry_after).unwrap_or(1),
                }),
            ),
            Self::Busy | Self::DatabaseUnavailable(_) => (
                messages::BUSY.to_owned(),
                Some(ErrorDetails::RetryAfter {
                    seconds: BUSY_RETRY_AFTER_SECS,
                }),
            ),
            Self::Database(_) | Self::Internal(_) => (messages::INTERNAL.to_owned(), None),
        };
        ApiError {
            code: self.code(),
            message,
            request_id,
            details,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if database_unavailable(&e) {
            Self::DatabaseUnavailable(e)
        } else {
            Self::Database(e)
        }
    }
}

/// Whether `e` says the database cannot serve now (a state that passes or
/// an operator fixes), not that this request or our SQL is wrong.
pub fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// PostgreSQL's SQLSTATE (five characters): connection exceptions (`08`),
/// insufficient resources (`53`), an administrator's or a crash's shutdown
/// (`57P0x`). SQLite's extended result code (a number) by its primary
/// code: busy (5), locked (6), read-only (8: the file was moved or
/// deleted), I/O error (10), full (13), cannot open (14).
fn unavailable_code(code: &str) -> bool {
    if code.len() == 5 {
        code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0")
    } else {
        code.parse::<u32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_or_unreachable_database_is_unavailable_and_a_bad_query_is_not() {
        // SQLite: busy, locked, the file moved (read-only), I/O error, full,
        // cannot open; PostgreSQL: connection failure, too many
        // connections, shutting down.
        for code in [
            "5", "517", "6", "1032", "10", "13", "14", "08006", "53300", "57P01", "57P03",
        ] {
            assert!(unavailable_code(code), "{code}");
        }
        // A constraint, a syntax error, a missing table: our bug or the input's.
        for code in ["19", "2067", "1", "23505", "42601", "42P01", "40001"] {
            assert!(!unavailable_code(code), "{code}");
        }
        assert!(matches!(
            AppError::from(sqlx::Error::PoolTimedOut),
            AppError::DatabaseUnavailable(_)
        ));
        assert!(matches!(
            AppError::from(sqlx::Error::RowNotFound),
            AppError::Database(_)
        ));
        let busy = AppError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(busy.code(), ErrorCode::Busy);
        assert!(!busy.is_internal() && busy.is_logged());
    }

    #[test]
    fn internal_errors_never_show_their_details() {
        let e = AppError::internal("secret detail");
        let body = e.to_api_error(Some("id".into()));
        assert!(!body.message.contains("secret"));
        assert_eq!(body.code, ErrorCode::Internal);
        assert_eq!(body.request_id.as_deref(), Some("id"));
    }
}
