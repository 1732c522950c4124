//! The administrator's console API, one file per resource: domains (SSPM
//! flag and text, policy, lockout), notices and the one-step mandatory
//! reset, the credential store of a domain, the Help Desk contact, the audit log (filters, CSV), API keys for
//! the portal, and staff roles. Each handler parses the request, calls one
//! operation of [`crate::settings`] (roles: [`crate::accounts::staff`]) and
//! maps the result to a response.

use axum::routing::{delete, get, post, put};
use axum::Router;
use latchkey_shared::admin::paths::{
    ADMIN_API_KEY, ADMIN_API_KEYS, ADMIN_AUDIT, ADMIN_AUDIT_CSV, ADMIN_DOMAIN, ADMIN_DOMAINS,
    ADMIN_DOMAIN_STORE, ADMIN_HELP_DESK, ADMIN_MANDATORY_RESET, ADMIN_NOTICE, ADMIN_NOTICES,
    ADMIN_OUTBOX, ADMIN_TEST_MAIL, ADMIN_THROTTLES, ADMIN_THROTTLE_LIFT, ADMIN_USER_ROLE,
};

use crate::state::AppState;

mod api_keys;
mod audit;
mod domains;
mod help_desk;
mod notices;
mod outbox;
mod roles;
mod throttles;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ADMIN_DOMAINS, get(domains::list).post(domains::create))
        .route(ADMIN_DOMAIN, put(domains::update))
        .route(
            ADMIN_DOMAIN_STORE,
            get(domains::store).put(domains::set_store),
        )
        .route(ADMIN_NOTICES, get(notices::list).post(notices::create))
        .route(ADMIN_NOTICE, put(notices::update).delete(notices::delete))
        .route(ADMIN_MANDATORY_RESET, post(notices::mandatory_reset))
        .route(ADMIN_HELP_DESK, get(help_desk::get).put(help_desk::put))
        .route(ADMIN_AUDIT, get(audit::page))
        .route(ADMIN_AUDIT_CSV, get(audit::csv))
        .route(ADMIN_API_KEYS, get(api_keys::list).post(api_keys::create))
        .route(ADMIN_API_KEY, delete(api_keys::revoke))
        .route(ADMIN_USER_ROLE, put(roles::update))
        .route(ADMIN_OUTBOX, get(outbox::list))
        .route(ADMIN_TEST_MAIL, post(outbox::test_mail))
        .route(ADMIN_THROTTLES, get(throttles::list))
        .route(ADMIN_THROTTLE_LIFT, post(throttles::lift))
}
