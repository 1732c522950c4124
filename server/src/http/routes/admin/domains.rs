//! Domains: the SSPM flag and text, the password policy, the lockout and
//! the self-service settings ([`crate::settings::domains`]); the credential
//! store with the directory's policy ([`crate::settings::domain_store`]).

use axum::Json;
use latchkey_shared::admin::{AdminDomain, DomainCreate, DomainStore, DomainUpdate, StoreUpdate};

use super::super::{created, Answer, Created};
use crate::http::auth::AdminCaller;
use crate::http::extract::{ApiJson, ApiPath};
use crate::settings::{domain_store, domains};

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
        domains::update(&a.state, &a.who.0, &a.actor, &slug, &req).await?,
    ))
}

pub async fn store(a: AdminCaller, ApiPath(slug): ApiPath<String>) -> Answer<DomainStore> {
    Ok(Json(domain_store::view(&a.state, &slug).await?))
}

pub async fn set_store(
    a: AdminCaller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<StoreUpdate>,
) -> Answer<DomainStore> {
    Ok(Json(
        domain_store::update(&a.state, &a.who.0, &a.actor, &slug, &req).await?,
    ))
}
