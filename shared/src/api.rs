//! Every request and response of the HTTP API under `/api`, and the error
//! codes. Client and server both use these types, so they cannot drift.
//!
//! Conventions:
//! - Every state-changing request (`POST`, `PUT`, `DELETE`) carries a JSON body
//!   or the [`CSRF_HEADER`]; the server refuses others with 415/403 so a
//!   cross-site form cannot post.
//! - Errors are always an [`ApiError`] body with a stable [`ErrorCode`].

use serde::{Deserialize, Serialize};

use crate::policy::{PasswordPolicy, PolicyReport};

/// Header every client request carries; a cross-site HTML form cannot set it.
pub const CSRF_HEADER: &str = "x-latchkey-request";
/// Name of the session cookie (`HttpOnly`, `SameSite=Strict`).
pub const SESSION_COOKIE: &str = "latchkey_session";

// ---------------------------------------------------------------- paths
pub mod paths {
    /// `GET` → [`super::Bootstrap`], with `ETag`; answers 304 to `If-None-Match`.
    pub const BOOTSTRAP: &str = "/api/bootstrap";
    /// `POST` [`super::SignInRequest`] → [`super::SessionInfo`] + cookie.
    /// `GET` → [`super::SessionInfo`] of the current session.
    /// `DELETE` → 204, ends the session (sign out).
    pub const SESSION: &str = "/api/session";
    /// `POST` [`super::ChangePasswordRequest`] → [`super::ChangePasswordResponse`].
    pub const CHANGE_PASSWORD: &str = "/api/password/change";
    /// `GET` → `"ok"` when the server can serve (as [`HEALTH_READY`]); for
    /// load balancers.
    pub const HEALTH: &str = "/api/health";
    /// `GET` → `"ok"` while the process runs (asks nothing of the database):
    /// a supervisor restarts a process whose liveness fails.
    pub const HEALTH_LIVE: &str = "/api/health/live";
    /// `GET` → `"ok"` when the database can be written and has every
    /// migration of this binary; else 503 `busy` with `Retry-After`: a load
    /// balancer sends no request until it answers again.
    pub const HEALTH_READY: &str = "/api/health/ready";
}

// ---------------------------------------------------------------- bootstrap / sync
/// What the client needs to work offline: domains and their policies,
/// notices, and who to call for help.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bootstrap {
    pub product_name: String,
    /// What people call the portal whose password this is (the server's
    /// `portal_name`), for the sentences that send them back to it. Absent
    /// from copies cached by an older release.
    #[serde(default)]
    pub portal_name: String,
    pub domains: Vec<DomainInfo>,
    pub notices: Vec<Notice>,
    pub help_desk: HelpDesk,
    /// Unix seconds when the server produced this copy.
    pub generated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainInfo {
    /// Stable slug used in requests, e.g. `partners`.
    pub id: String,
    /// Shown to people, e.g. `Partners`.
    pub name: String,
    /// Whether Latchkey's self-service is offered to this domain's users.
    pub sspm_available: bool,
    /// Shown instead of the self-service when it is not available.
    pub unavailable_text: Option<String>,
    pub policy: PasswordPolicy,
}

impl DomainInfo {
    /// What its users are told when self-service is not offered: the
    /// domain's own text, else [`messages::sspm_unavailable`].
    pub fn unavailable_message(&self) -> String {
        self.unavailable_text
            .clone()
            .unwrap_or_else(|| messages::sspm_unavailable(&self.name))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// Calendar date shown as "Posted: …", ISO `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub posted_on: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelpDesk {
    pub phone: String,
    pub email: String,
}

// ---------------------------------------------------------------- session
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    /// Domain slug.
    pub domain: String,
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for SignInRequest {
    // Never let a password reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub user: UserInfo,
    /// The user signed in with a temporary (or expired) password: the only
    /// thing the session allows is changing it.
    pub must_change_password: bool,
    /// Seconds of inactivity after which the server ends the session.
    pub idle_timeout_secs: u64,
    /// What the person may do; staff see the console.
    #[serde(default)]
    pub role: crate::admin::Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub display_name: String,
    /// Domain slug.
    pub domain: String,
    pub domain_name: String,
}

// ---------------------------------------------------------------- change password
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub new_password: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub confirm_password: String,
    /// Version of the policy the client checked the new password against. If
    /// the domain's policy has moved on, the server answers
    /// [`ErrorCode::PolicyChanged`] with the current policy.
    pub policy_version: u32,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("policy_version", &self.policy_version)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordResponse {
    pub message: String,
}

// ---------------------------------------------------------------- errors
/// Stable, machine-readable error codes. The HTTP status for each is given in
/// its doc comment; the server's `AppError` maps to exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed or a field is invalid.
    BadRequest,
    /// 401: user name, domain or password wrong; never says which.
    InvalidCredentials,
    /// 423: too many failed attempts. Same answer for unknown user names.
    AccountLocked,
    /// 403: the temporary password has expired; an LRA must issue a new one.
    TemporaryPasswordExpired,
    /// 403: this session may only change its temporary password.
    PasswordChangeRequired,
    /// 401: no session, or it ended (idle timeout, sign-out, password change).
    NotAuthenticated,
    /// 422: the new password does not satisfy the policy; details carry the report.
    PasswordRejected,
    /// 422: new password and confirmation differ.
    PasswordsDoNotMatch,
    /// 422: the new password is the current one or in the history.
    PasswordReused,
    /// 409: the client checked against an outdated policy; details carry the current one.
    PolicyChanged,
    /// 403: self-service is not offered for this domain.
    SspmUnavailable,
    /// 403: the request lacks the CSRF header / JSON body, or the role is insufficient.
    Forbidden,
    /// 403: a staff action that changes a credential needs the password
    /// entered again (within the last 5 minutes): `POST /api/staff/reauth`.
    ReauthRequired,
    /// 404: no such resource.
    NotFound,
    /// 409: the resource exists already (e.g. a domain's short name is taken).
    Conflict,
    /// 408: the request body did not arrive in time (`body_timeout_secs`).
    RequestTimeout,
    /// 413: the request body is larger than the server reads.
    PayloadTooLarge,
    /// 415: state-changing requests must send `application/json`.
    UnsupportedMediaType,
    /// 429: too many requests; retry after the given seconds.
    TooManyRequests,
    /// 503: the server is saturated; retry after the given seconds.
    Busy,
    /// 500: something went wrong on our side; quote the request id to the Help Desk.
    Internal,
    /// 422: the CAPTCHA characters were wrong (the challenge is used up; get a new image).
    CaptchaIncorrect,
    /// 422: the CAPTCHA expired (2 minutes) or was already used; get a new image.
    CaptchaExpired,
    /// 410: the self-service flow ran out of time (or is unknown); start again.
    FlowExpired,
    /// 422: the verification failed; one message for every cause (no enumeration).
    VerificationFailed,
    /// 429: too many failed verifications; self-service is blocked for a while.
    SelfServiceBlocked,
}

impl ErrorCode {
    /// The code an answer without an [`ApiError`] body most likely means
    /// (a proxy's or load balancer's page): the inverse of the status each
    /// code is sent with, taking the most general code where several share one.
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            400 => ErrorCode::BadRequest,
            401 => ErrorCode::NotAuthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            408 => ErrorCode::RequestTimeout,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            423 => ErrorCode::AccountLocked,
            429 => ErrorCode::TooManyRequests,
            502..=504 => ErrorCode::Busy,
            _ => ErrorCode::Internal,
        }
    }

    /// The HTTP status every answer with this code has (the one in its doc
    /// comment). The server answers with it; the client reads it back when a
    /// body is missing.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::InvalidCredentials | Self::NotAuthenticated => 401,
            Self::TemporaryPasswordExpired
            | Self::PasswordChangeRequired
            | Self::SspmUnavailable
            | Self::Forbidden
            | Self::ReauthRequired => 403,
            Self::NotFound => 404,
            Self::PolicyChanged | Self::Conflict => 409,
            Self::RequestTimeout => 408,
            Self::FlowExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::PasswordRejected
            | Self::PasswordsDoNotMatch
            | Self::PasswordReused
            | Self::CaptchaIncorrect
            | Self::CaptchaExpired
            | Self::VerificationFailed => 422,
            Self::AccountLocked => 423,
            Self::TooManyRequests | Self::SelfServiceBlocked => 429,
            Self::Internal => 500,
            Self::Busy => 503,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    /// A sentence a person can act on.
    pub message: String,
    /// Set for 500s so the Help Desk can find the log line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ErrorDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorDetails {
    /// Why the password was refused, rule by rule.
    PasswordReport { report: PolicyReport },
    /// The domain's current policy, for [`ErrorCode::PolicyChanged`].
    Policy { policy: PasswordPolicy },
    /// Seconds to wait, for 429 and 503.
    RetryAfter { seconds: u64 },
}

/// Messages shared by client and server so the wording is the same everywhere.
pub mod messages {
    pub const INVALID_CREDENTIALS: &str =
        "The user name, password or authentication domain is not correct. Please try again.";
    pub const ACCOUNT_LOCKED: &str =
        "Your account is locked after too many failed sign-in attempts. \
         Use the Self Service Password Manager to unlock your account, or call the Help Desk.";
    pub const TEMPORARY_PASSWORD_EXPIRED: &str = "Your temporary password has expired. \
         Contact your Local Registration Authority or the Help Desk for a new one.";
    pub const PASSWORD_CHANGE_REQUIRED: &str =
        "You must change your password first: it is a temporary password or it has expired.";
    /// The account page's banner for a session that may only change the
    /// password: the seeds' wording for a temporary password, and its
    /// counterpart for one past the domain's maximum age.
    pub fn must_change_banner(portal: &str, expired: bool) -> String {
        if expired {
            format!("Your password has expired. You cannot use it to log into {portal} until you change it.")
        } else {
            format!("You cannot use your temporary password to log into {portal}. You must change it first.")
        }
    }
    /// After a change: where to use the new password. `portal` is the
    /// server's `portal_name`.
    pub fn password_changed(portal: &str) -> String {
        format!(
            "Your password has been changed successfully. \
             Sign out, then sign in to {portal} with your new password."
        )
    }
    pub const NOT_AUTHENTICATED: &str = "Your session has ended. Please sign in again.";
    pub const PASSWORDS_DO_NOT_MATCH: &str = "The new password and its confirmation do not match.";
    pub const PASSWORD_REUSED: &str =
        "You cannot reuse your current password or a recent one. Choose a different password.";
    pub const POLICY_CHANGED: &str =
        "The password requirements have just changed. Check your new password against them and try again.";
    pub const BUSY: &str = "The server is busy. Please try again in a moment.";
    pub const REQUEST_TIMEOUT: &str =
        "The request did not arrive in time. Check your connection and try again.";
    /// A directory-backed domain whose directory does not answer.
    pub const DIRECTORY_UNAVAILABLE: &str = "Your organisation's directory is not answering. Nothing was changed and no attempt was counted: please try again in a few minutes.";
    pub const INTERNAL: &str =
        "Something went wrong on our side. Please try again; if it keeps happening, call the Help Desk and quote the reference.";

    /// The refusal of an attempt from a network that has failed too often
    /// (see the server's per-source throttle); `seconds` until it may try.
    pub fn throttled_source(seconds: i64) -> String {
        let wait = if seconds < 90 {
            format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
        } else {
            let minutes = (seconds + 59) / 60;
            format!("{minutes} minutes")
        };
        format!(
            "Too many failed attempts have come from your network. Nothing was checked: \
             please try again in {wait}. If this keeps happening, call the Help Desk."
        )
    }

    /// Said when a domain does not offer self-service and has no text of its own.
    pub fn sspm_unavailable(domain_name: &str) -> String {
        format!(
            "Self-service is not available for {domain_name} Domain Users. \
             Please use your own organization's password tool."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_status_inverts_the_unambiguous_statuses() {
        assert_eq!(ErrorCode::from_status(401), ErrorCode::NotAuthenticated);
        assert_eq!(ErrorCode::from_status(423), ErrorCode::AccountLocked);
        assert_eq!(ErrorCode::from_status(503), ErrorCode::Busy);
        assert_eq!(ErrorCode::from_status(500), ErrorCode::Internal);
        assert_eq!(ErrorCode::from_status(418), ErrorCode::Internal);
    }

    #[test]
    fn unavailable_message_prefers_the_domain_text() {
        let mut d = DomainInfo {
            id: "hhsc".into(),
            name: "HHSC".into(),
            sspm_available: false,
            unavailable_text: None,
            policy: PasswordPolicy::default(),
        };
        assert_eq!(d.unavailable_message(), messages::sspm_unavailable("HHSC"));
        assert!(d.unavailable_message().contains("HHSC Domain Users"));
        d.unavailable_text = Some("Use the HHSC tool.".into());
        assert_eq!(d.unavailable_message(), "Use the HHSC tool.");
    }

    #[test]
    fn error_codes_are_snake_case() {
        let cases = [
            (ErrorCode::BadRequest, "bad_request"),
            (ErrorCode::InvalidCredentials, "invalid_credentials"),
            (ErrorCode::AccountLocked, "account_locked"),
            (
                ErrorCode::TemporaryPasswordExpired,
                "temporary_password_expired",
            ),
            (
                ErrorCode::PasswordChangeRequired,
                "password_change_required",
            ),
            (ErrorCode::NotAuthenticated, "not_authenticated"),
            (ErrorCode::PasswordRejected, "password_rejected"),
            (ErrorCode::PasswordsDoNotMatch, "passwords_do_not_match"),
            (ErrorCode::PasswordReused, "password_reused"),
            (ErrorCode::PolicyChanged, "policy_changed"),
            (ErrorCode::SspmUnavailable, "sspm_unavailable"),
            (ErrorCode::Forbidden, "forbidden"),
            (ErrorCode::ReauthRequired, "reauth_required"),
            (ErrorCode::NotFound, "not_found"),
            (ErrorCode::Conflict, "conflict"),
            (ErrorCode::RequestTimeout, "request_timeout"),
            (ErrorCode::PayloadTooLarge, "payload_too_large"),
            (ErrorCode::UnsupportedMediaType, "unsupported_media_type"),
            (ErrorCode::TooManyRequests, "too_many_requests"),
            (ErrorCode::Busy, "busy"),
            (ErrorCode::Internal, "internal"),
            (ErrorCode::CaptchaIncorrect, "captcha_incorrect"),
            (ErrorCode::CaptchaExpired, "captcha_expired"),
            (ErrorCode::FlowExpired, "flow_expired"),
            (ErrorCode::VerificationFailed, "verification_failed"),
            (ErrorCode::SelfServiceBlocked, "self_service_blocked"),
        ];
        for (code, name) in cases {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).expect("deserialize"),
                code
            );
        }
    }

    /// The status of each code is written twice, in its doc comment (what
    /// the OpenAPI document and readers see) and in `status()`: they agree.
    #[test]
    fn each_status_is_the_one_in_the_doc_comment() {
        let source = include_str!("api.rs");
        let start = source.find("pub enum ErrorCode {").expect("the enum");
        let body = &source[start..];
        let body = &body[..body.find("\n}").expect("its end")];
        let mut documented: Option<u16> = None;
        let mut checked = 0;
        for line in body.lines().skip(1).map(str::trim) {
            if let Some(doc) = line.strip_prefix("/// ") {
                if documented.is_none() {
                    documented = doc.get(..3).and_then(|n| n.parse().ok());
                }
            } else if let Some(variant) = line.strip_suffix(',') {
                let mut snake = String::new();
                for (i, c) in variant.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                }
                let code: ErrorCode =
                    serde_json::from_str(&format!("\"{snake}\"")).expect("a known code");
                assert_eq!(
                    Some(code.status()),
                    documented.take(),
                    "{variant}: status() and the doc comment differ"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 26, "every code was checked");
    }

    #[test]
    fn api_error_shape() {
        let err = ApiError {
            code: ErrorCode::Busy,
            message: messages::BUSY.into(),
            request_id: None,
            details: Some(ErrorDetails::RetryAfter { seconds: 3 }),
        };
        let value = serde_json::to_value(&err).expect("serialize");
        assert_eq!(value["code"], "busy");
        assert_eq!(value["details"]["kind"], "retry_after");
        assert_eq!(value["details"]["seconds"], 3);
        assert!(value.get("request_id").is_none());
        let back: ApiError = serde_json::from_value(value).expect("deserialize");
        assert_eq!(back, err);
    }

    #[test]
    fn requests_never_debug_print_passwords() {
        let sign_in = SignInRequest {
            domain: "partners".into(),
            username: "jsmith".into(),
            password: "hunter2-secret".into(),
        };
        assert!(!format!("{sign_in:?}").contains("hunter2-secret"));
        let change = ChangePasswordRequest {
            current_password: "old-secret".into(),
            new_password: "new-secret".into(),
            confirm_password: "new-secret".into(),
            policy_version: 1,
        };
        let debug = format!("{change:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}
