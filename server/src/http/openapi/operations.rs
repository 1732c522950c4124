//! The table: one [`Operation`] per endpoint, built from the same path
//! constants the routers use, with who may call it, what it takes, what it
//! answers and why it may fail ([`why`]).

use std::collections::BTreeMap;

use latchkey_shared::admin::{self, paths as admin_paths};
use latchkey_shared::api::{self, paths};
use latchkey_shared::factors::{self, paths as factor_paths};
use latchkey_shared::self_service::{self as ss, paths as ss_paths};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Delete => "delete",
        }
    }

    pub(super) fn http(self) -> HttpMethod {
        match self {
            Self::Get => HttpMethod::Get,
            Self::Post => HttpMethod::Post,
            Self::Put => HttpMethod::Put,
            Self::Delete => HttpMethod::Delete,
        }
    }
}

/// Who may call an operation: the extractor its handler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Anyone; the session cookie, if sent, is ended (sign-out).
    OptionalSession,
    /// Any live session, even one that may only change its temporary
    /// password (`Authenticated`).
    AnySession,
    /// A full session (`SignedIn`).
    SignedIn,
    /// A full session of an LRA or administrator (`Staff`).
    Staff,
    /// A full session of an administrator (`AdminOnly`).
    Admin,
    /// `Authorization: Bearer <API key>` (the portal).
    ApiKey,
}

/// The parameter in the path, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathParam {
    None,
    /// `{id}`: a user's id (int64).
    UserId,
    /// `{id}`: a notice's id (int64).
    NoticeId,
    /// `{id}`: an API key's id (int64).
    ApiKeyId,
    /// `{slug}`: a domain's short name.
    DomainSlug,
    /// `{id}`: the random flow id `POST /api/self-service/flows` gave (a string).
    FlowId,
}

/// The query parameters, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    None,
    /// `?q=`, the staff user search.
    UserSearch,
    /// [`admin::AuditQuery`]'s filters.
    Audit,
}

/// Collects the component schemas a schema refers to, and returns it.
pub type SchemaFn = fn(&mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;

/// The successful answer.
#[derive(Clone, Copy)]
pub enum Success {
    /// `status` with a JSON body.
    Json(u16, SchemaFn),
    /// 200 with a JSON body and the session cookie (sign-in).
    JsonSettingCookie(SchemaFn),
    /// 200 with a JSON body and an `ETag`; 304 to a matching `If-None-Match`.
    JsonWithEtag(SchemaFn),
    /// 204 without a body.
    NoContent,
    /// 204, clearing the session cookie (sign-out).
    NoContentClearingCookie,
    /// 200 `text/plain`.
    Text,
    /// 200 `text/csv` (an attachment).
    Csv,
    /// 200: this document.
    Document,
}

impl Success {
    pub fn status(self) -> u16 {
        match self {
            Self::Json(status, _) => status,
            Self::NoContent | Self::NoContentClearingCookie => 204,
            _ => 200,
        }
    }
}

/// An error answer: its status and when it happens (starting with the
/// `ErrorCode`, in backquotes, where there is one).
pub type Why = (u16, &'static str);

/// One operation of the API.
#[derive(Clone, Copy)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub param: PathParam,
    pub query: Query,
    /// The JSON request body, read with `ApiJson`.
    pub body: Option<SchemaFn>,
    pub success: Success,
    /// What the handler (and what it calls) answers beyond what follows
    /// from the fields above.
    pub errors: &'static [Why],
    /// Whether it asks the database (then a database that cannot serve is
    /// a 503); only liveness and this document do not.
    pub database: bool,
    /// Whether it checks a credential (a password, answers, a code) and so
    /// goes through the per-source throttle ([`crate::http::throttle`]).
    pub throttle: Throttle,
}

/// How the per-source throttle counts an operation's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Not throttled.
    Off,
    /// Admitted by the throttle; counted when the answer is a failed check.
    Failures,
    /// Admitted by the throttle and always counted: the self-service's
    /// answers, whose verdict the answer withholds until the second CAPTCHA
    /// (counting only wrong ones would tell them apart).
    EveryAttempt,
}

const fn op(
    method: Method,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: Access,
    success: Success,
) -> Operation {
    Operation {
        method,
        path,
        id,
        tag,
        summary,
        access,
        param: PathParam::None,
        query: Query::None,
        body: None,
        success,
        errors: &[],
        database: true,
        throttle: Throttle::Off,
    }
}

/// A step of a self-service flow: `POST` by anyone, with the flow id in
/// the path and a JSON `body`, answered with `answer`.
#[rustfmt::skip]
const fn flow_step(path: &'static str, id: &'static str, summary: &'static str, body: SchemaFn, answer: SchemaFn) -> Operation {
    op(Post, path, id, "self-service", summary, Public, Success::Json(200, answer)).param(PathParam::FlowId).body(body)
}

/// A staff action on a user: `POST` by staff, with the user's id in the
/// path and a reason in the body, answered with `answer`; it needs a recent
/// password entry and an LRA may act only on plain users.
#[rustfmt::skip]
const fn user_action(path: &'static str, id: &'static str, summary: &'static str, answer: SchemaFn) -> Operation {
    op(Post, path, id, "staff", summary, Staff, Success::Json(200, answer))
        .param(PathParam::UserId).body(json::<admin::StaffActionRequest>).errors(&[NO_USER, LRA_ON_STAFF, REAUTH, REASON])
}

impl Operation {
    const fn param(mut self, param: PathParam) -> Self {
        self.param = param;
        self
    }
    const fn query(mut self, query: Query) -> Self {
        self.query = query;
        self
    }
    const fn body(mut self, body: SchemaFn) -> Self {
        self.body = Some(body);
        self
    }
    const fn errors(mut self, errors: &'static [Why]) -> Self {
        self.errors = errors;
        self
    }
    /// Checks a credential: admitted by the per-source throttle first.
    const fn throttled(mut self) -> Self {
        self.throttle = Throttle::Failures;
        self
    }
    /// Checks answers whose verdict comes later: every attempt counts.
    const fn throttled_every_attempt(mut self) -> Self {
        self.throttle = Throttle::EveryAttempt;
        self
    }
    /// Answers without asking the database.
    const fn without_database(mut self) -> Self {
        self.database = false;
        self
    }

    /// Every error answer, by status, with the reasons (derived and the
    /// handler's own).
    pub fn error_statuses(&self) -> BTreeMap<u16, Vec<&'static str>> {
        let mut out: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
        let mut add = |(status, why): Why| {
            let reasons = out.entry(status).or_default();
            if !reasons.contains(&why) {
                reasons.push(why);
            }
        };
        if self.body.is_some() {
            add(why::BAD_BODY);
            add(why::TOO_LARGE);
            add(why::NOT_JSON);
            add(why::BODY_TIMEOUT);
        }
        if self.method != Method::Get {
            add(why::CSRF);
        }
        match self.param {
            PathParam::UserId | PathParam::NoticeId | PathParam::ApiKeyId => add(why::BAD_ID),
            PathParam::None | PathParam::DomainSlug | PathParam::FlowId => {}
        }
        if self.query != Query::None {
            add(why::BAD_QUERY);
        }
        match self.access {
            Access::Public | Access::OptionalSession => {}
            Access::AnySession => add(why::NO_SESSION),
            Access::SignedIn => {
                add(why::NO_SESSION);
                add(why::MUST_CHANGE);
            }
            Access::Staff => {
                add(why::NO_SESSION);
                add(why::MUST_CHANGE);
                add(why::NOT_STAFF);
            }
            Access::Admin => {
                add(why::NO_SESSION);
                add(why::MUST_CHANGE);
                add(why::NOT_ADMIN);
            }
            Access::ApiKey => add(why::NO_API_KEY),
        }
        for e in self.errors {
            add(*e);
        }
        if self.database {
            add(why::DATABASE_UNAVAILABLE);
        }
        if self.throttle != Throttle::Off {
            add(why::THROTTLED);
        }
        add(why::INTERNAL);
        out
    }
}

/// The reasons for error answers, shared by the rows: one a line, as a
/// table.
#[rustfmt::skip]
pub mod why {
    use super::Why;

    pub const DATABASE_UNAVAILABLE: Why = (503, "`busy`: the database cannot serve now (locked by another writer, unreachable, its file gone); nothing changed; retry after `Retry-After` seconds");
    pub const INTERNAL: Why = (500, "`internal`: a failure on our side (e.g. the database); quote `request_id` to the Help Desk");
    pub const BAD_BODY: Why = (400, "`bad_request`: the body is not JSON of the expected shape");
    pub const TOO_LARGE: Why = (413, "the body is larger than the server reads (64 KiB)");
    pub const BODY_TIMEOUT: Why = (408, "`request_timeout`: the body did not arrive within `body_timeout_secs` of the request's head");
    pub const NOT_JSON: Why = (415, "`unsupported_media_type`: the body is not sent as `Content-Type: application/json`");
    pub const CSRF: Why = (403, "`forbidden`: neither a JSON body nor the `x-latchkey-request` header (cross-site protection)");
    pub const BAD_ID: Why = (400, "`bad_request`: the id in the path is not an integer");
    pub const BAD_QUERY: Why = (400, "`bad_request`: a query parameter is not of its type");
    pub const NO_SESSION: Why = (401, "`not_authenticated`: no session cookie, or the session ended");
    pub const MUST_CHANGE: Why = (403, "`password_change_required`: this session may only change its temporary password");
    pub const NOT_STAFF: Why = (403, "`forbidden`: only Local Registration Authorities and administrators");
    pub const NOT_ADMIN: Why = (403, "`forbidden`: only administrators");
    pub const NO_API_KEY: Why = (403, "`forbidden`: no valid API key");
    pub const BUSY: Why = (503, "`busy`: too many passwords are being hashed; retry after `Retry-After` seconds (details `retry_after`)");
    pub const WRONG_PASSWORD: Why = (401, "`invalid_credentials`: wrong domain, user name or password (never says which)");
    pub const WRONG_CURRENT_PASSWORD: Why = (401, "`invalid_credentials`: the current password is wrong");
    pub const LOCKED: Why = (423, "`account_locked`: too many failed attempts (also for unknown user names)");
    pub const SSPM_UNAVAILABLE: Why = (403, "`sspm_unavailable`: self-service is not offered for this domain (the message is the domain's text)");
    pub const TEMP_EXPIRED: Why = (403, "`temporary_password_expired`: the temporary password was right but has expired");
    pub const REAUTH: Why = (403, "`reauth_required`: enter the password again (`POST /api/staff/reauth`) within 5 minutes before this");
    pub const LRA_ON_STAFF: Why = (403, "`forbidden`: an LRA may act only on plain users");
    pub const NO_USER: Why = (404, "`not_found`: no such user (or not in the caller's domains)");
    pub const REASON: Why = (400, "`bad_request`: the reason is missing or too long");
    pub const INVALID: Why = (400, "`bad_request`: a field is not valid (the message says which)");
    pub const POLICY_CHANGED: Why = (409, "`policy_changed`: the client checked against an outdated policy; details `policy` carry the current one");
    pub const MISMATCH: Why = (422, "`passwords_do_not_match`: the new password and its confirmation differ");
    pub const REJECTED: Why = (422, "`password_rejected`: the policy refuses the new password; details `password_report` say which rules failed");
    pub const REUSED: Why = (422, "`password_reused`: the current password or one in the history");
    pub const FLOW_EXPIRED: Why = (410, "`flow_expired`: the flow ran out of time, is unknown, or was used up; start again");
    pub const WRONG_STEP: Why = (400, "`bad_request`: this step is not expected now, or the answers do not fit the questions");
    pub const CAPTCHA: Why = (422, "`captcha_incorrect` or `captcha_expired`: the picture's characters were wrong or the picture expired; get a new one");
    pub const VERIFICATION_FAILED: Why = (422, "`verification_failed`: one answer for every cause (no enumeration)");
    pub const OWN_ACCOUNT: Why = (400, "`bad_request`: one's own account");
    pub const THROTTLED: Why = (429, "`too_many_requests`: too many failed checks from this network (an IPv4 address or IPv6 /64); nothing was checked; retry after `Retry-After` seconds");
    pub const BLOCKED: Why = (429, "`self_service_blocked`: too many failed verifications; self-service is blocked for a while");
}

use why::*;
use Access::*;
use Method::{Delete, Get, Post, Put};

/// Every operation the API serves (the `test-hooks` feature's aside).
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    // ------------------------------------------------------------ public
    op(Get, paths::BOOTSTRAP, "get_bootstrap", "public",
       "Domains, policies, notices and Help Desk for offline use", Public,
       Success::JsonWithEtag(json::<api::Bootstrap>)),
    op(Get, paths::HEALTH, "get_health", "public",
       "Readiness (as `/api/health/ready`), for load balancers that ask one address", Public, Success::Text),
    op(Get, paths::HEALTH_LIVE, "get_health_live", "public",
       "Liveness: `ok` while the process runs; asks nothing of the database", Public, Success::Text)
        .without_database(),
    op(Get, paths::HEALTH_READY, "get_health_ready", "public",
       "Readiness: `ok` when the database can be written and has every migration", Public, Success::Text),
    op(Get, admin_paths::OPENAPI, "get_openapi", "public",
       "This description", Public, Success::Document)
        .without_database(),
    // ------------------------------------------------------------ session
    op(Post, paths::SESSION, "sign_in", "session", "Sign in", Public,
       Success::JsonSettingCookie(json::<api::SessionInfo>))
        .body(json::<api::SignInRequest>)
        .errors(&[WRONG_PASSWORD, LOCKED, SSPM_UNAVAILABLE, TEMP_EXPIRED, BUSY])
        .throttled(),
    op(Get, paths::SESSION, "get_session", "session", "The current session", AnySession,
       Success::Json(200, json::<api::SessionInfo>)),
    op(Delete, paths::SESSION, "sign_out", "session", "Sign out (ends the session, if any)",
       OptionalSession, Success::NoContentClearingCookie),
    op(Post, paths::CHANGE_PASSWORD, "change_password", "session",
       "Change the password (also a temporary one)", AnySession,
       Success::Json(200, json::<api::ChangePasswordResponse>))
        .body(json::<api::ChangePasswordRequest>)
        .errors(&[SSPM_UNAVAILABLE, POLICY_CHANGED, MISMATCH, WRONG_CURRENT_PASSWORD, LOCKED,
                  REJECTED, REUSED, BUSY])
        .throttled(),
    // ------------------------------------------------------------ self-service
    op(Get, ss_paths::ENROLMENT, "get_enrolment", "self-service",
       "The signed-in user's enrolled questions (never the answers) and the catalogue",
       SignedIn, Success::Json(200, json::<ss::EnrolmentStatus>)),
    op(Put, ss_paths::ENROLMENT, "enrol", "self-service",
       "Enrol security questions, or re-enrol (needs the current password)", SignedIn,
       Success::Json(200, json::<ss::EnrolmentStatus>))
        .body(json::<ss::EnrolRequest>)
        .errors(&[SSPM_UNAVAILABLE, INVALID, WRONG_CURRENT_PASSWORD, LOCKED, BUSY])
        .throttled(),
    op(Get, factor_paths::AUTHENTICATOR, "get_authenticator", "self-service",
       "Whether the signed-in user has an authenticator app", SignedIn,
       Success::Json(200, json::<factors::AuthenticatorStatus>)),
    op(Post, factor_paths::AUTHENTICATOR_SETUP, "set_up_authenticator", "self-service",
       "A new authenticator key (text and otpauth URI), used once confirmed (needs the \
        current password)", SignedIn,
       Success::Json(200, json::<factors::AuthenticatorSetup>))
        .body(json::<factors::BeginAuthenticator>)
        .errors(&[(409, "`conflict`: an authenticator is in use already, or the server has \
                  no secret_key"), WRONG_CURRENT_PASSWORD, LOCKED, BUSY])
        .throttled(),
    op(Post, factor_paths::AUTHENTICATOR_CONFIRM, "confirm_authenticator", "self-service",
       "Confirm the new authenticator with a code from it", SignedIn,
       Success::Json(200, json::<factors::AuthenticatorStatus>))
        .body(json::<factors::ConfirmAuthenticator>)
        .errors(&[(400, "`bad_request`: not a code, a wrong or used code, or nothing set up"),
                  (409, "`conflict`: an authenticator is in use already, or no secret_key")]),
    op(Delete, factor_paths::AUTHENTICATOR, "remove_authenticator", "self-service",
       "Remove the authenticator (needs the current password)", SignedIn,
       Success::Json(200, json::<factors::AuthenticatorStatus>))
        .body(json::<factors::RemoveAuthenticator>)
        .errors(&[(400, "`bad_request`: there is no authenticator"), WRONG_CURRENT_PASSWORD,
                  LOCKED, BUSY])
        .throttled(),
    op(Get, factor_paths::ADDRESS, "get_address", "self-service",
       "The signed-in user's mail address, and one waiting for confirmation", SignedIn,
       Success::Json(200, json::<factors::AddressStatus>)),
    op(Post, factor_paths::ADDRESS, "change_address", "self-service",
       "Set or change the mail address (needs the current password): a code is mailed to it",
       SignedIn, Success::Json(200, json::<factors::AddressStatus>))
        .body(json::<factors::ChangeAddress>)
        .errors(&[(400, "`bad_request`: not a mail address"),
                  (409, "`conflict`: no mail server, or the directory's address"),
                  WRONG_CURRENT_PASSWORD, LOCKED, BUSY,
                  (429, "`too_many_requests`: too many address changes within an hour; \
                  retry after `Retry-After` seconds (details `retry_after`)")])
        .throttled(),
    op(Delete, factor_paths::ADDRESS, "remove_address", "self-service",
       "Remove the mail address on file (needs the current password); it is told", SignedIn,
       Success::Json(200, json::<factors::AddressStatus>))
        .body(json::<factors::RemoveAddress>)
        .errors(&[(400, "`bad_request`: there is no address"), WRONG_CURRENT_PASSWORD,
                  (409, "`conflict`: the directory's address, or it changed meanwhile"),
                  LOCKED, BUSY])
        .throttled(),
    op(Post, factor_paths::ADDRESS_CONFIRM, "confirm_address", "self-service",
       "Confirm the new address with the code mailed to it", SignedIn,
       Success::Json(200, json::<factors::AddressStatus>))
        .body(json::<factors::ConfirmAddress>)
        .errors(&[(400, "`bad_request`: a wrong or expired code, or nothing waiting")]),
    op(Get, factor_paths::PASSWORD_EXPIRY, "get_password_expiry", "self-service",
       "When the signed-in user's password expires (domains with a maximum age); \
        open to a session that must change its password", AnySession,
       Success::Json(200, json::<factors::PasswordExpiry>)),
    op(Post, ss_paths::FLOWS, "start_flow", "self-service",
       "Start Unlock Account or Forgot Password: a flow and its first CAPTCHA", Public,
       Success::Json(200, json::<ss::FlowStarted>))
        .body(json::<ss::StartFlowRequest>)
        .errors(&[(400, "`bad_request`: there is no such domain"), SSPM_UNAVAILABLE]),
    op(Post, ss_paths::FLOW_CAPTCHA, "new_flow_captcha", "self-service",
       "A new CAPTCHA image for the current step", Public,
       Success::Json(200, json::<ss::CaptchaChallenge>))
        .param(PathParam::FlowId)
        .errors(&[FLOW_EXPIRED, (400, "`bad_request`: no picture is needed at this step")]),
    flow_step(ss_paths::FLOW_IDENTIFY, "identify",
              "The user name and the first CAPTCHA: the questions to answer",
              json::<ss::IdentifyRequest>, json::<ss::QuestionsStep>)
        .errors(&[FLOW_EXPIRED, WRONG_STEP, (400, "`bad_request`: the user name is empty"),
                  SSPM_UNAVAILABLE, CAPTCHA, BLOCKED]),
    flow_step(ss_paths::FLOW_ANSWERS, "answer_questions",
              "The answers: the second CAPTCHA, whatever they were",
              json::<ss::AnswersRequest>, json::<ss::CaptchaChallenge>)
        .errors(&[FLOW_EXPIRED, WRONG_STEP, SSPM_UNAVAILABLE, BLOCKED, BUSY])
        .throttled_every_attempt(),
    flow_step(ss_paths::FLOW_FINISH, "finish_verification",
              "The second CAPTCHA: the verdict (unlocked, or choose the new password)",
              json::<ss::FinishRequest>, json::<ss::FinishResponse>)
        .errors(&[FLOW_EXPIRED, WRONG_STEP, SSPM_UNAVAILABLE, CAPTCHA, VERIFICATION_FAILED]),
    flow_step(ss_paths::FLOW_PASSWORD, "choose_new_password", "Forgot Password: the new password",
              json::<ss::NewPasswordRequest>, json::<ss::Completed>)
        .errors(&[FLOW_EXPIRED, WRONG_STEP, SSPM_UNAVAILABLE, VERIFICATION_FAILED,
                  POLICY_CHANGED, MISMATCH, REJECTED, REUSED, BUSY]),
    // ------------------------------------------------------------ staff
    op(Post, admin_paths::STAFF_REAUTH, "staff_reauth", "staff",
       "Enter the password again (valid 5 minutes for credential-changing actions); counts \
        toward the lockout", Staff,
       Success::Json(200, json::<admin::ReauthResponse>))
        .body(json::<admin::ReauthRequest>)
        .errors(&[WRONG_CURRENT_PASSWORD, LOCKED, BUSY])
        .throttled(),
    op(Get, admin_paths::STAFF_USERS, "search_users", "staff",
       "Find users of the caller's domains by user name or display name", Staff,
       Success::Json(200, json::<admin::UserSearchResponse>))
        .query(Query::UserSearch)
        .errors(&[(400, "`bad_request`: the search is longer than 100 characters")]),
    op(Get, admin_paths::STAFF_USER, "get_user", "staff", "A user's state", Staff,
       Success::Json(200, json::<admin::UserState>))
        .param(PathParam::UserId)
        .errors(&[NO_USER]),
    user_action(admin_paths::STAFF_UNLOCK, "unlock_user",
                "Unlock an account (re-authentication, reason)", json::<admin::UserState>),
    user_action(admin_paths::STAFF_TEMP_PASSWORD, "issue_temporary_password",
                "Issue a temporary password, shown once (re-authentication, reason)",
                json::<admin::TemporaryPasswordIssued>)
        .errors(&[NO_USER, LRA_ON_STAFF, REAUTH, REASON, BUSY]),
    user_action(admin_paths::STAFF_CLEAR_ENROLMENT, "clear_enrolment",
                "Clear the security-question enrolment (re-authentication, reason)",
                json::<admin::UserState>),
    user_action(admin_paths::STAFF_DISABLE, "disable_user",
                "Disable the account (re-authentication, reason)", json::<admin::UserState>)
        .errors(&[NO_USER, LRA_ON_STAFF, REAUTH, REASON, OWN_ACCOUNT]),
    user_action(admin_paths::STAFF_ENABLE, "enable_user",
                "Enable the account (re-authentication, reason)", json::<admin::UserState>)
        .errors(&[NO_USER, LRA_ON_STAFF, REAUTH, REASON, OWN_ACCOUNT]),
    // ------------------------------------------------------------ admin
    op(Get, admin_paths::ADMIN_DOMAINS, "list_domains", "admin",
       "Every domain with its settings", Admin, Success::Json(200, list::<admin::AdminDomain>)),
    op(Post, admin_paths::ADMIN_DOMAINS, "create_domain", "admin", "Create a domain", Admin,
       Success::Json(201, json::<admin::AdminDomain>))
        .body(json::<admin::DomainCreate>)
        .errors(&[(400, "`bad_request`: the short name or name is not valid"),
                  (409, "`conflict`: a domain with this short name exists already")]),
    op(Put, admin_paths::ADMIN_DOMAIN, "update_domain", "admin",
       "Edit a domain: SSPM flag and text, policy, lockout, self-service settings \
        (re-authentication for any change but the name and the text)", Admin,
       Success::Json(200, json::<admin::AdminDomain>))
        .param(PathParam::DomainSlug)
        .body(json::<admin::DomainUpdate>)
        .errors(&[(404, "`not_found`: no such domain"), INVALID, REAUTH]),
    op(Get, admin_paths::ADMIN_DOMAIN_STORE, "get_domain_store", "admin",
       "Where a domain's passwords live, the directories to choose from, and the directory's \
        own policy beside the domain's with warnings (a directory that is down is said so)",
       Admin, Success::Json(200, json::<admin::DomainStore>))
        .param(PathParam::DomainSlug)
        .errors(&[(404, "`not_found`: no such domain")]),
    op(Put, admin_paths::ADMIN_DOMAIN_STORE, "set_domain_store", "admin",
       "Move a domain's passwords to `local` or `directory:<name>` (re-authentication)", Admin,
       Success::Json(200, json::<admin::DomainStore>))
        .param(PathParam::DomainSlug)
        .body(json::<admin::StoreUpdate>)
        .errors(&[(404, "`not_found`: no such domain"), REAUTH,
                  (400, "`bad_request`: not `local` or `directory:<name>`, or a directory the \
                  configuration does not have (the message names the ones it has)")]),
    op(Get, admin_paths::ADMIN_NOTICES, "list_notices", "admin",
       "Every notice, published or not", Admin, Success::Json(200, list::<admin::AdminNotice>)),
    op(Post, admin_paths::ADMIN_NOTICES, "create_notice", "admin", "Create a notice", Admin,
       Success::Json(201, json::<admin::AdminNotice>))
        .body(json::<admin::NoticeInput>)
        .errors(&[INVALID]),
    op(Put, admin_paths::ADMIN_NOTICE, "update_notice", "admin", "Edit a notice", Admin,
       Success::Json(200, json::<admin::AdminNotice>))
        .param(PathParam::NoticeId)
        .body(json::<admin::NoticeInput>)
        .errors(&[INVALID, (404, "`not_found`: no such notice")]),
    op(Delete, admin_paths::ADMIN_NOTICE, "delete_notice", "admin", "Delete a notice", Admin,
       Success::NoContent)
        .param(PathParam::NoticeId)
        .errors(&[(404, "`not_found`: no such notice")]),
    op(Post, admin_paths::ADMIN_MANDATORY_RESET, "mandatory_reset", "admin",
       "Mandatory password reset: mark users and publish the notice in one step \
        (re-authentication, reason)", Admin,
       Success::Json(200, json::<admin::MandatoryResetResponse>))
        .body(json::<admin::MandatoryResetRequest>)
        .errors(&[REAUTH, REASON, (400, "`bad_request`: no domain, an unknown domain or \
                  notice, or an impossible user name")]),
    op(Get, admin_paths::ADMIN_HELP_DESK, "get_help_desk", "admin", "The Help Desk contact",
       Admin, Success::Json(200, json::<api::HelpDesk>)),
    op(Put, admin_paths::ADMIN_HELP_DESK, "set_help_desk", "admin",
       "Set the Help Desk contact", Admin, Success::Json(200, json::<api::HelpDesk>))
        .body(json::<api::HelpDesk>)
        .errors(&[INVALID]),
    op(Get, admin_paths::ADMIN_AUDIT, "get_audit_log", "admin",
       "The audit log, newest first, filtered", Admin,
       Success::Json(200, json::<admin::AuditPage>))
        .query(Query::Audit),
    op(Get, admin_paths::ADMIN_AUDIT_CSV, "export_audit_log", "admin",
       "The audit log as CSV (same filters)", Admin, Success::Csv)
        .query(Query::Audit),
    op(Get, admin_paths::ADMIN_API_KEYS, "list_api_keys", "admin", "API keys of the portal",
       Admin, Success::Json(200, list::<admin::ApiKeyInfo>)),
    op(Post, admin_paths::ADMIN_API_KEYS, "create_api_key", "admin",
       "Create an API key, shown once (re-authentication)", Admin,
       Success::Json(201, json::<admin::ApiKeyCreated>))
        .body(json::<admin::ApiKeyCreate>)
        .errors(&[REAUTH, (400, "`bad_request`: the name is empty or too long")]),
    op(Delete, admin_paths::ADMIN_API_KEY, "revoke_api_key", "admin",
       "Revoke an API key (re-authentication)", Admin, Success::NoContent)
        .param(PathParam::ApiKeyId)
        .errors(&[REAUTH, (404, "`not_found`: no such live API key")]),
    op(Put, admin_paths::ADMIN_USER_ROLE, "set_user_role", "admin",
       "Set a user's role and an LRA's domains (re-authentication, reason)", Admin,
       Success::Json(200, json::<admin::UserState>))
        .param(PathParam::UserId)
        .body(json::<admin::RoleUpdate>)
        .errors(&[NO_USER, REAUTH, REASON, (400, "`bad_request`: one's own role, or an LRA \
                  without (known) domains")]),
    op(Get, admin_paths::ADMIN_OUTBOX, "list_outbox", "admin",
       "The newest notification mails: waiting, sent, failed (never their bodies)", Admin,
       Success::Json(200, list::<admin::OutboxEntry>)),
    op(Post, admin_paths::ADMIN_TEST_MAIL, "send_test_mail", "admin",
       "Queue a test mail to an address, sent like the notifications", Admin,
       Success::Json(202, json::<admin::OutboxEntry>))
        .body(json::<admin::TestMailRequest>)
        .errors(&[(400, "`bad_request`: not a mail address"),
                  (409, "`conflict`: no mail server is configured")]),
    op(Get, admin_paths::ADMIN_THROTTLES, "list_throttled_sources", "admin",
       "The sources throttled now for failed checks (or past their free ones)", Admin,
       Success::Json(200, list::<admin::ThrottledSource>)),
    op(Post, admin_paths::ADMIN_THROTTLE_LIFT, "lift_throttle", "admin",
       "Lift one source's throttle: its counts start again from nothing", Admin,
       Success::NoContent)
        .body(json::<admin::LiftThrottle>)
        .errors(&[(400, "`bad_request`: not an IPv4 address, or an IPv6 address or /64"),
                  (404, "`not_found`: nothing is counted for this source")]),
    // ------------------------------------------------------------ portal
    op(Post, admin_paths::PORTAL_VERIFY, "portal_verify", "portal",
       "Verify a user name and password for the portal; counts toward the lockout", ApiKey,
       Success::Json(200, json::<admin::PortalVerifyResponse>))
        .body(json::<admin::PortalVerifyRequest>)
        .errors(&[WRONG_PASSWORD, LOCKED, SSPM_UNAVAILABLE, TEMP_EXPIRED, BUSY]),    op(Post, admin_paths::PORTAL_VERIFY, "portal_verify", "portal",
       "Verify a user name and password for the portal; counts toward the lockout", ApiKey,
       Success::Json(200, json::<admin::PortalVerifyResponse>))
        .body(json::<admin::PortalVerifyRequest>)
        .errors(&[WRONG_PASSWORD, LOCKED, SSPM_UNAVAILABLE, TEMP_EXPIRED, BUSY]),
];

// ---------------------------------------------------------------- schemas

/// A reference to `T`'s component schema (registered with its dependencies).
pub fn json<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    components.push((T::name().into_owned(), T::schema()));
    T::schemas(components);
    Ref::from_schema_name(T::name()).into()
}

/// An array of `T`.
pub fn list<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    ArrayBuilder::new().items(json::<T>(components)).into()
}

pub(super) fn string() -> RefOr<Schema> {
    String::schema()
}
