//! `GET /api/enrolment` (the signed-in user's enrolled questions, never the
//! answers) and `PUT /api/enrolment` (enrol, or re-enrol after entering the
//! password again): [`crate::accounts::enrolment`].

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_shared::self_service::{paths, EnrolRequest, EnrolmentStatus};

use super::Answer;
use crate::accounts::enrolment;
use crate::http::auth::SignedIn;
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::ENROLMENT, get(status).put(enrol))
}

async fn status(
    SignedIn(session): SignedIn,
    State(state): State<AppState>,
) -> Answer<EnrolmentStatus> {
    Ok(Json(
        enrolment::status(&state, session.user_id, session.domain_id).await?,
    ))
}

async fn enrol(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Answer<EnrolmentStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        enrolment::enrol(&u.state, session, &u.actor, &req).await?,
    ))
}
