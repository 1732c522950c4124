//! Staff roles: an administrator makes someone an LRA (for some domains),
//! an administrator, or a plain user again ([`crate::accounts::staff`]).

use axum::Json;
use latchkey_shared::admin::{RoleUpdate, UserState};

use super::super::Answer;
use crate::accounts::staff;
use crate::http::auth::AdminCaller;
use crate::http::extract::{ApiJson, ApiPath};

pub async fn update(
    a: AdminCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RoleUpdate>,
) -> Answer<UserState> {
    let user = staff::update_role(&a.state, &a.who.0, &a.actor, id, &req).await?;
    Ok(Json(user))
}
