//! `GET /api/enrolment` (the signed-in user's enrolled questions, never the
//! answers) and `PUT /api/enrolment` (enrol, or re-enrol after entering the
//! password again): [`crate::accounts::enrolment`].

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_shared::self_service::{paths, EnrolRequest, EnrolmentStatus};

use crate::accounts::{enrolment, Actor};
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp};
use crate::session::SignedIn;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::ENROLMENT, get(status).put(enrol))
}

async fn status(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> AppResult<Json<EnrolmentStatus>> {
    Ok(Json(
        enrolment::status(&state, session.user_id, session.domain_id).await?,
    ))
}

async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> AppResult<Json<EnrolmentStatus>> {
    let actor = Actor::new(session.username_key.clone(), ip);
    Ok(Json(
        enrolment::enrol(&state, &session, &actor, &req).await?,
    ))
}
