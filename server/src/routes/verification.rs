//! Unlock Account and Forgot Password (`/api/self-service/flows`): the
//! steps of [`crate::accounts::recovery`], one route each.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::self_service::{
    paths, AnswersRequest, CaptchaChallenge, Completed, FinishRequest, FinishResponse, FlowStarted,
    IdentifyRequest, NewPasswordRequest, QuestionsStep, StartFlowRequest,
};

use crate::accounts::recovery;
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::FLOWS, post(start))
        .route(paths::FLOW_CAPTCHA, post(new_captcha))
        .route(paths::FLOW_IDENTIFY, post(identify))
        .route(paths::FLOW_ANSWERS, post(answers))
        .route(paths::FLOW_FINISH, post(finish))
        .route(paths::FLOW_PASSWORD, post(new_password))
}

async fn start(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<StartFlowRequest>,
) -> AppResult<Json<FlowStarted>> {
    Ok(Json(recovery::start(&state, &req).await?))
}

async fn new_captcha(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Json<CaptchaChallenge>> {
    Ok(Json(recovery::new_captcha(&state, &token).await?))
}

async fn identify(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<IdentifyRequest>,
) -> AppResult<Json<QuestionsStep>> {
    Ok(Json(recovery::identify(&state, &token, &req).await?))
}

async fn answers(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<AnswersRequest>,
) -> AppResult<Json<CaptchaChallenge>> {
    Ok(Json(
        recovery::answers(&state, ip.as_deref(), &token, &req).await?,
    ))
}

async fn finish(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<FinishRequest>,
) -> AppResult<Json<FinishResponse>> {
    Ok(Json(
        recovery::finish(&state, ip.as_deref(), &token, &req).await?,
    ))
}

async fn new_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<NewPasswordRequest>,
) -> AppResult<Json<Completed>> {
    Ok(Json(
        recovery::new_password(&state, ip.as_deref(), &token, &req).await?,
    ))
}
