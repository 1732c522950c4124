//! The administrator's console API, one file per resource: domains (SSPM
//! flag and text, policy, lockout), notices and the one-step mandatory
//! reset, the Help Desk contact, the audit log (filters, CSV), API keys for
//! the portal, and staff roles. Each handler parses the request, calls one
//! operation of [`crate::settings`] (roles: [`crate::accounts::staff`]) and
//! maps the result to a response.

use axum::routing::{delete, get, post, put};
use axum::Router;
use latchkey_shared::admin::paths;

use crate::state::AppState;

mod api_keys;
mod audit;
mod domains;
mod help_desk;
mod notices;
mod roles;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::ADMIN_DOMAINS,
            get(domains::list_domains).post(domains::create_domain),
        )
        .route(paths::ADMIN_DOMAIN, put(domains::update_domain))
        .route(
            paths::ADMIN_NOTICES,
            get(notices::list_notices).post(notices::create_notice),
        )
        .route(
            paths::ADMIN_NOTICE,
            put(notices::update_notice).delete(notices::delete_notice),
        )
        .route(paths::ADMIN_MANDATORY_RESET, post(notices::mandatory_reset))
        .route(
            paths::ADMIN_HELP_DESK,
            get(help_desk::get_help_desk).put(help_desk::put_help_desk),
        )
        .route(paths::ADMIN_AUDIT, get(audit::audit_log))
        .route(paths::ADMIN_AUDIT_CSV, get(audit::audit_csv))
        .route(
            paths::ADMIN_API_KEYS,
            get(api_keys::list_api_keys).post(api_keys::create_api_key),
        )
        .route(paths::ADMIN_API_KEY, delete(api_keys::revoke_api_key))
        .route(paths::ADMIN_USER_ROLE, put(roles::update_role))
}
