//! The administrator's console: domains and where their passwords live,
//! notices, the mandatory reset and the Help Desk contact, the audit log,
//! the portal's API keys, and the mail outbox.

use latchkey_shared::admin::{
    paths, AdminDomain, AdminNotice, ApiKeyCreate, ApiKeyCreated, ApiKeyInfo, AuditPage,
    AuditQuery, DomainCreate, DomainStore, DomainUpdate, LiftThrottle, MandatoryResetRequest,
    MandatoryResetResponse, NoticeInput, OutboxEntry, StoreUpdate, TestMailRequest,
    ThrottledSource,
};
use latchkey_shared::api::HelpDesk;

use super::error::ApiClientError;
use super::requests::{delete, get, post, put};

fn domain_path(template: &str, slug: &str) -> String {
    template.replace("{slug}", slug)
}

// ---------------------------------------------------------------- domains
pub async fn domains() -> Result<Vec<AdminDomain>, ApiClientError> {
    get(paths::ADMIN_DOMAINS).await
}

pub async fn create_domain(domain: &DomainCreate) -> Result<AdminDomain, ApiClientError> {
    post(paths::ADMIN_DOMAINS, domain).await
}

pub async fn update_domain(
    slug: &str,
    update: &DomainUpdate,
) -> Result<AdminDomain, ApiClientError> {
    put(&domain_path(paths::ADMIN_DOMAIN, slug), update).await
}

pub async fn domain_store(slug: &str) -> Result<DomainStore, ApiClientError> {
    get(&domain_path(paths::ADMIN_DOMAIN_STORE, slug)).await
}

pub async fn set_domain_store(
    slug: &str,
    update: &StoreUpdate,
) -> Result<DomainStore, ApiClientError> {
    put(&domain_path(paths::ADMIN_DOMAIN_STORE, slug), update).await
}

// ---------------------------------------------------------------- notices, reset, Help Desk
pub async fn notices() -> Result<Vec<AdminNotice>, ApiClientError> {
    get(paths::ADMIN_NOTICES).await
}

/// Saves the notice `id`, or a new one.
pub async fn save_notice(
    id: Option<i64>,
    notice: &NoticeInput,
) -> Result<AdminNotice, ApiClientError> {
    match id {
        Some(id) => put(&paths::with_id(paths::ADMIN_NOTICE, id), notice).await,
        None => post(paths::ADMIN_NOTICES, notice).await,
    }
}

pub async fn delete_notice(id: i64) -> Result<(), ApiClientError> {
    delete(&paths::with_id(paths::ADMIN_NOTICE, id)).await
}

pub async fn mandatory_reset(
    request: &MandatoryResetRequest,
) -> Result<MandatoryResetResponse, ApiClientError> {
    post(paths::ADMIN_MANDATORY_RESET, request).await
}

pub async fn help_desk() -> Result<HelpDesk, ApiClientError> {
    get(paths::ADMIN_HELP_DESK).await
}

pub async fn set_help_desk(help_desk: &HelpDesk) -> Result<HelpDesk, ApiClientError> {
    put(paths::ADMIN_HELP_DESK, help_desk).await
}

// ---------------------------------------------------------------- audit log
pub async fn audit(query: &AuditQuery) -> Result<AuditPage, ApiClientError> {
    get(&format!(
        "{}?{}",
        paths::ADMIN_AUDIT,
        query.to_query_string()
    ))
    .await
}

/// The address of the CSV export of the same filters (a download link).
pub fn audit_csv_url(query: &AuditQuery) -> String {
    format!("{}?{}", paths::ADMIN_AUDIT_CSV, query.to_query_string())
}

// ---------------------------------------------------------------- API keys
pub async fn api_keys() -> Result<Vec<ApiKeyInfo>, ApiClientError> {
    get(paths::ADMIN_API_KEYS).await
}

pub async fn create_api_key(key: &ApiKeyCreate) -> Result<ApiKeyCreated, ApiClientError> {
    post(paths::ADMIN_API_KEYS, key).await
}

pub async fn revoke_api_key(id: i64) -> Result<(), ApiClientError> {
    delete(&paths::with_id(paths::ADMIN_API_KEY, id)).await
}

// ---------------------------------------------------------------- mail
pub async fn outbox() -> Result<Vec<OutboxEntry>, ApiClientError> {
    get(paths::ADMIN_OUTBOX).await
}

pub async fn test_mail(request: &TestMailRequest) -> Result<OutboxEntry, ApiClientError> {
    post(paths::ADMIN_TEST_MAIL, request).await
}

// ---------------------------------------------------------------- throttling
pub async fn throttles() -> Result<Vec<ThrottledSource>, ApiClientError> {
    get(paths::ADMIN_THROTTLES).await
}

pub async fn lift_throttle(request: &LiftThrottle) -> Result<(), ApiClientError> {
    post(paths::ADMIN_THROTTLE_LIFT, request).await
}
