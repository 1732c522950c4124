//! `GET /api/openapi.json`: a hand-written OpenAPI 3.1 description of the
//! API. Built from the same path constants the routers use; a test checks
//! that every operation it lists is routed.

use axum::routing::get;
use axum::{Json, Router};
use latchkey_shared::admin::paths as admin_paths;
use latchkey_shared::api::paths;
use serde_json::{json, Map, Value};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(admin_paths::OPENAPI, get(|| async { Json(spec()) }))
}

/// `(method, path, tag, summary, request schema, response schema, auth)`;
/// auth is `none`, `session`, `staff`, `admin` or `api_key`.
pub type Operation = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

pub const OPERATIONS: &[Operation] = &[
    ("get", paths::BOOTSTRAP, "public", "Domains, policies, notices and Help Desk for offline use (ETag)", None, Some("Bootstrap"), "none"),
    ("post", paths::SESSION, "session", "Sign in", Some("SignInRequest"), Some("SessionInfo"), "none"),
    ("get", paths::SESSION, "session", "The current session", None, Some("SessionInfo"), "session"),
    ("delete", paths::SESSION, "session", "Sign out", None, None, "none"),
    ("post", paths::CHANGE_PASSWORD, "session", "Change the password", Some("ChangePasswordRequest"), Some("ChangePasswordResponse"), "session"),
    ("get", paths::HEALTH, "public", "Liveness", None, None, "none"),
    ("post", admin_paths::STAFF_REAUTH, "staff", "Enter the password again (valid 5 minutes for credential-changing actions)", Some("ReauthRequest"), Some("ReauthResponse"), "staff"),
    ("get", admin_paths::STAFF_USERS, "staff", "Find users of the caller's domains by user name or display name (?q=)", None, Some("UserSearchResponse"), "staff"),
    ("get", admin_paths::STAFF_USER, "staff", "A user's state", None, Some("UserState"), "staff"),
    ("post", admin_paths::STAFF_UNLOCK, "staff", "Unlock (re-authentication, reason)", Some("StaffActionRequest"), Some("UserState"), "staff"),
    ("post", admin_paths::STAFF_TEMP_PASSWORD, "staff", "Issue a temporary password, shown once (re-authentication, reason)", Some("StaffActionRequest"), Some("TemporaryPasswordIssued"), "staff"),
    ("post", admin_paths::STAFF_CLEAR_ENROLMENT, "staff", "Clear the enrolment (re-authentication, reason)", Some("StaffActionRequest"), Some("UserState"), "staff"),
    ("post", admin_paths::STAFF_DISABLE, "staff", "Disable the account (re-authentication, reason)", Some("StaffActionRequest"), Some("UserState"), "staff"),
    ("post", admin_paths::STAFF_ENABLE, "staff", "Enable the account (re-authentication, reason)", Some("StaffActionRequest"), Some("UserState"), "staff"),
    ("get", admin_paths::ADMIN_DOMAINS, "admin", "Every domain with its settings", None, Some("AdminDomainList"), "admin"),
    ("post", admin_paths::ADMIN_DOMAINS, "admin", "Create a domain", Some("DomainCreate"), Some("AdminDomain"), "admin"),
    ("put", admin_paths::ADMIN_DOMAIN, "admin", "Edit a domain: SSPM flag and text, policy, lockout", Some("DomainUpdate"), Some("AdminDomain"), "admin"),
    ("get", admin_paths::ADMIN_NOTICES, "admin", "Every notice, published or not", None, Some("AdminNoticeList"), "admin"),
    ("post", admin_paths::ADMIN_NOTICES, "admin", "Create a notice", Some("NoticeInput"), Some("AdminNotice"), "admin"),
    ("put", admin_paths::ADMIN_NOTICE, "admin", "Edit a notice", Some("NoticeInput"), Some("AdminNotice"), "admin"),
    ("delete", admin_paths::ADMIN_NOTICE, "admin", "Delete a notice", None, None, "admin"),
    ("post", admin_paths::ADMIN_MANDATORY_RESET, "admin", "Mandatory password reset: mark users and publish the notice in one step (re-authentication)", Some("MandatoryResetRequest"), Some("MandatoryResetResponse"), "admin"),
    ("get", admin_paths::ADMIN_HELP_DESK, "admin", "The Help Desk contact", None, Some("HelpDesk"), "admin"),
    ("put", admin_paths::ADMIN_HELP_DESK, "admin", "Set the Help Desk contact", Some("HelpDesk"), Some("HelpDesk"), "admin"),
    ("get", admin_paths::ADMIN_AUDIT, "admin", "The audit log, newest first (?user=&domain=&kind=&from=&to=&limit=)", None, Some("AuditPage"), "admin"),
    ("get", admin_paths::ADMIN_AUDIT_CSV, "admin", "The audit log as CSV (same filters)", None, None, "admin"),
    ("get", admin_paths::ADMIN_API_KEYS, "admin", "API keys of the portal", None, Some("ApiKeyInfoList"), "admin"),
    ("post", admin_paths::ADMIN_API_KEYS, "admin", "Create an API key, shown once (re-authentication)", Some("ApiKeyCreate"), Some("ApiKeyCreated"), "admin"),
    ("delete", admin_paths::ADMIN_API_KEY, "admin", "Revoke an API key (re-authentication)", None, None, "admin"),
    ("put", admin_paths::ADMIN_USER_ROLE, "admin", "Set a user's role and an LRA's domains (re-authentication, reason)", Some("RoleUpdate"), Some("UserState"), "admin"),
    ("post", admin_paths::PORTAL_VERIFY, "portal", "Verify a user name and password for the portal; counts toward the lockout", Some("PortalVerifyRequest"), Some("PortalVerifyResponse"), "api_key"),
    ("get", admin_paths::OPENAPI, "public", "This description", None, None, "none"),
];

fn obj(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), v.clone());
    }
    json!({ "type": "object", "properties": p, "required": required })
}

fn s() -> Value {
    json!({ "type": "string" })
}
fn i() -> Value {
    json!({ "type": "integer", "format": "int64" })
}
fn b() -> Value {
    json!({ "type": "boolean" })
}
fn opt(v: Value) -> Value {
    json!({ "oneOf": [v, { "type": "null" }] })
}
fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}
fn arr(v: Value) -> Value {
    json!({ "type": "array", "items": v })
}

fn schemas() -> Value {
    let role = json!({ "type": "string", "enum": ["user", "lra", "admin"] });
    let policy = obj(
        &[
            ("version", i()),
            ("min_length", i()),
            ("max_length", i()),
            ("min_strength", i()),
            ("require_lowercase", b()),
            ("require_uppercase", b()),
            ("require_digit", b()),
            ("require_symbol", b()),
            ("forbid_context_words", b()),
            ("block_common_passwords", b()),
            ("history_depth", i()),
        ],
        &[],
    );
    let user_state = obj(
        &[
            ("id", i()),
            ("username", s()),
            ("display_name", s()),
            ("email", opt(s())),
            ("domain", s()),
            ("domain_name", s()),
            ("role", role.clone()),
            ("staff_domains", arr(s())),
            ("locked", b()),
            ("locked_until", opt(i())),
            ("failed_attempts", i()),
            ("enrolled", b()),
            ("enrolled_at", opt(i())),
            ("temporary_password", b()),
            ("temporary_password_expires_at", opt(i())),
            ("must_change", b()),
            ("password_changed_at", i()),
            ("disabled", b()),
        ],
        &["id", "username", "domain", "role", "locked", "disabled"],
    );
    let admin_domain = obj(
        &[
            ("slug", s()),
            ("name", s()),
            ("sspm_available", b()),
            ("unavailable_text", opt(s())),
            ("policy", r("PasswordPolicy")),
            ("lockout_threshold", opt(i())),
            ("lockout_minutes", opt(i())),
            ("default_lockout_threshold", i()),
            ("default_lockout_minutes", i()),
            ("user_count", i()),
            (
                "self_service",
                json!({"type": "object", "description": "catalogue, enrol_count, verify_count, allow_custom_questions, allow_skip_enrolment, verification_minutes, max_failures, failure_window_minutes, block_minutes"}),
            ),
        ],
        &["slug", "name", "sspm_available", "policy"],
    );
    let notice = obj(
        &[
            ("id", i()),
            ("title", s()),
            ("body", s()),
            ("posted_on", json!({ "type": "string", "format": "date" })),
            ("published", b()),
            ("sort_order", i()),
        ],
        &[
            "id",
            "title",
            "body",
            "posted_on",
            "published",
            "sort_order",
        ],
    );
    let api_key = obj(
        &[
            ("id", i()),
            ("name", s()),
            ("prefix", s()),
            ("created_at", i()),
            ("created_by", opt(s())),
            ("last_used_at", opt(i())),
            ("revoked_at", opt(i())),
        ],
        &["id", "name", "prefix", "created_at"],
    );
    let audit = obj(
        &[
            ("id", i()),
            ("at", i()),
            ("kind", s()),
            ("actor", opt(s())),
            ("subject", opt(s())),
            ("domain", opt(s())),
            ("source_ip", opt(s())),
            ("result", s()),
            ("detail", opt(s())),
        ],
        &["id", "at", "kind", "result"],
    );
    json!({
        "ApiError": obj(&[("code", s()), ("message", s()), ("request_id", s()), ("details", json!({"type": "object"}))], &["code", "message"]),
        "Bootstrap": obj(&[("product_name", s()), ("domains", arr(json!({"type": "object"}))), ("notices", arr(json!({"type": "object"}))), ("help_desk", r("HelpDesk")), ("generated_at", i())], &[]),
        "HelpDesk": obj(&[("phone", s()), ("email", s())], &["phone", "email"]),
        "PasswordPolicy": policy,
        "SignInRequest": obj(&[("domain", s()), ("username", s()), ("password", json!({"type": "string", "format": "password"}))], &["domain", "username", "password"]),
        "SessionInfo": obj(&[("user", json!({"type": "object"})), ("must_change_password", b()), ("idle_timeout_secs", i()), ("role", role.clone())], &["user", "must_change_password", "idle_timeout_secs"]),
        "ChangePasswordRequest": obj(&[("current_password", s()), ("new_password", s()), ("confirm_password", s()), ("policy_version", i())], &["current_password", "new_password", "confirm_password", "policy_version"]),
        "ChangePasswordResponse": obj(&[("message", s())], &["message"]),
        "ReauthRequest": obj(&[("password", json!({"type": "string", "format": "password"}))], &["password"]),
        "ReauthResponse": obj(&[("valid_until", i())], &["valid_until"]),
        "UserSummary": obj(&[("id", i()), ("username", s()), ("display_name", s()), ("domain", s()), ("domain_name", s()), ("role", role.clone()), ("locked", b()), ("disabled", b())], &["id", "username", "domain"]),
        "UserSearchResponse": obj(&[("users", arr(r("UserSummary"))), ("truncated", b())], &["users", "truncated"]),
        "UserState": user_state,
        "StaffActionRequest": obj(&[("reason", s())], &["reason"]),
        "TemporaryPasswordIssued": obj(&[("temporary_password", s()), ("expires_at", i()), ("user", r("UserState"))], &["temporary_password", "expires_at", "user"]),
        "RoleUpdate": obj(&[("role", role), ("domains", arr(s())), ("reason", s())], &["role", "reason"]),
        "AdminDomain": admin_domain,
        "AdminDomainList": arr(r("AdminDomain")),
        "DomainCreate": obj(&[("slug", s()), ("name", s()), ("sspm_available", b()), ("unavailable_text", opt(s()))], &["slug", "name"]),
        "DomainUpdate": obj(&[("name", s()), ("sspm_available", b()), ("unavailable_text", opt(s())), ("policy", r("PasswordPolicy")), ("lockout_threshold", opt(i())), ("lockout_minutes", opt(i())), ("self_service", json!({"type": "object"}))], &["name", "sspm_available", "policy"]),
        "AdminNotice": notice,
        "AdminNoticeList": arr(r("AdminNotice")),
        "NoticeInput": obj(&[("title", s()), ("body", s()), ("posted_on", json!({"type": "string", "format": "date"})), ("published", b()), ("sort_order", i())], &["title", "body", "posted_on", "published", "sort_order"]),
        "MandatoryResetRequest": obj(&[("domains", arr(s())), ("usernames", arr(s())), ("notice_id", opt(i())), ("reason", s())], &["domains", "reason"]),
        "MandatoryResetResponse": obj(&[("users_marked", i()), ("notice", r("AdminNotice")), ("unknown_usernames", arr(s()))], &["users_marked", "notice"]),
        "AuditEntry": audit,
        "AuditPage": obj(&[("events", arr(r("AuditEntry"))), ("truncated", b())], &["events", "truncated"]),
        "ApiKeyInfo": api_key,
        "ApiKeyInfoList": arr(r("ApiKeyInfo")),
        "ApiKeyCreate": obj(&[("name", s())], &["name"]),
        "ApiKeyCreated": obj(&[("key", s()), ("info", r("ApiKeyInfo"))], &["key", "info"]),
        "PortalVerifyRequest": obj(&[("domain", s()), ("username", s()), ("password", json!({"type": "string", "format": "password"}))], &["domain", "username", "password"]),
        "PortalVerifyResponse": obj(&[("status", json!({"type": "string", "enum": ["valid", "temporary", "change_required"]})), ("username", s()), ("display_name", s()), ("domain", s()), ("expires_at", opt(i()))], &["status", "username", "display_name", "domain"]),
    })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": r("ApiError") } } })
}

/// The whole description.
pub fn spec() -> Value {
    let mut path_items: Map<String, Value> = Map::new();
    for (method, path, tag, summary, request, response, auth) in OPERATIONS {
        let mut op = Map::new();
        op.insert("tags".into(), json!([tag]));
        op.insert("summary".into(), json!(summary));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{method}_{}",
                path.trim_start_matches("/api/")
                    .replace(['/', '-', '.'], "_")
                    .replace(['{', '}'], "")
            )),
        );
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true,
                        "schema": if name == "id" { i() } else { s() } })
            })
            .collect();
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = request {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": r(req) } } }),
            );
        }
        let mut responses = Map::new();
        let ok = match (method, response) {
            (_, Some(resp)) => {
                json!({ "description": "OK", "content": { "application/json": { "schema": r(resp) } } })
            }
            (&"delete", None) => json!({ "description": "Done (204)" }),
            _ => json!({ "description": "OK" }),
        };
        responses.insert(if *method == "delete" { "204" } else { "200" }.into(), ok);
        responses.insert("400".into(), error_response("Bad input"));
        match *auth {
            "session" | "staff" | "admin" => {
                responses.insert("401".into(), error_response("Not signed in"));
                responses.insert(
                    "403".into(),
                    error_response(
                        "Role insufficient, password change required, or `reauth_required`",
                    ),
                );
                op.insert("security".into(), json!([{ "session": [] }]));
            }
            "api_key" => {
                responses.insert("401".into(), error_response("`invalid_credentials`: wrong domain, user name or password (never says which)"));
                responses.insert(
                    "403".into(),
                    error_response(
                        "No valid API key, `temporary_password_expired`, or `sspm_unavailable`",
                    ),
                );
                responses.insert("423".into(), error_response("`account_locked`"));
                op.insert("security".into(), json!([{ "api_key": [] }]));
            }
            _ => {}
        }
        if *path == admin_paths::STAFF_USERS {
            op.insert(
                "parameters".into(),
                json!([{ "name": "q", "in": "query", "required": false, "schema": s() }]),
            );
        }
        if *path == admin_paths::ADMIN_AUDIT || *path == admin_paths::ADMIN_AUDIT_CSV {
            op.insert(
                "parameters".into(),
                json!(["user", "domain", "kind", "from", "to", "limit"]
                    .iter()
                    .map(|n| json!({ "name": n, "in": "query", "required": false,
                                     "schema": if ["from", "to", "limit"].contains(n) { i() } else { s() } }))
                    .collect::<Vec<_>>()),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        let item = path_items
            .entry((*path).to_owned())
            .or_insert_with(|| json!({}));
        if let Value::Object(m) = item {
            m.insert((*method).to_owned(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Latchkey API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-service password management. Every state-changing request sends JSON \
                            (or the x-latchkey-request header). Errors are ApiError bodies with a stable code."
        },
        "paths": path_items,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": latchkey_shared::api::SESSION_COOKIE },
                "api_key": { "type": "http", "scheme": "bearer", "description": "An API key created by an administrator (lk_…)" }
            }
        }
    })
}
