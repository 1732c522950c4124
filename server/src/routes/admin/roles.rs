//! Staff roles: an administrator makes someone an LRA (for some domains),
//! an administrator, or a plain user again.

use axum::extract::State;
use axum::Json;
use latchkey_shared::admin::{RoleUpdate, UserState};

use crate::accounts::staff;
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::staff::AdminOnly;
use crate::state::AppState;

pub(super) async fn update_role(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RoleUpdate>,
) -> AppResult<Json<UserState>> {
    let actor = admin.as_actor(ip);
    Ok(Json(
        staff::update_role(
            &state,
            &admin,
            &actor,
            id,
            req.role,
            &req.domains,
            &req.reason,
        )
        .await?,
    ))
}
