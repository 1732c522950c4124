//! Domains: the SSPM flag and text, the password policy, the lockout and
//! the self-service settings ([`crate::settings::domains`]).

use axum::Json;
use latchkey_shared::admin::{AdminDomain, DomainCreate, DomainUpdate};

use super::super::{created, Answer, Created};
use crate::extract::{ApiJson, ApiPath};
use crate::settings::domains;
use crate::staff::AdminCaller;

pub async fn list(a: AdminCaller) -> Answer<Vec<AdminDomain>> {
    Ok(Json(domains::list(&a.state).await?))
}

pub async fn create(a: AdminCaller, ApiJson(req): ApiJson<DomainCreate>) -> Created<AdminDomain> {
    Ok(created(domains::create(&a.state, &a.actor, &req).await?))
}

pub async fn update(
    a: AdminCaller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<DomainUpdate>,
) -> Answer<AdminDomain> {
    Ok(Json(
        domains::update(&a.state, &a.actor, &slug, &req).await?,
    ))
}
