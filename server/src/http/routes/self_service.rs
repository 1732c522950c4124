//! Unlock Account and Forgot Password (`/api/self-service/flows`): the
//! steps of [`crate::accounts::self_service`], one route each.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::bounds::Bounded;
use latchkey_shared::self_service::{
    paths, AnswersRequest, CaptchaChallenge, Completed, FinishRequest, FinishResponse, FlowStarted,
    IdentifyRequest, NewPasswordRequest, QuestionsStep, StartFlowRequest,
};
use serde::de::DeserializeOwned;

use super::Answer;
use crate::accounts::self_service;
use crate::error::AppError;
use crate::http::extract::{ApiJson, ApiPath, ClientIp};
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
) -> Answer<FlowStarted> {
    Ok(Json(self_service::start(&state, &req).await?))
}

async fn new_captcha(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Answer<CaptchaChallenge> {
    Ok(Json(self_service::new_captcha(&state, &token).await?))
}

/// A request for a step of the flow `{id}`: the address, the flow id (the
/// path) and the JSON body, read in that order.
struct Step<B> {
    state: AppState,
    ip: Option<String>,
    token: String,
    body: B,
}

impl<B: DeserializeOwned + Bounded + Send> FromRequest<AppState> for Step<B> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, state).await;
        let ApiPath(token) = ApiPath::<String>::from_request_parts(&mut parts, state).await?;
        let ApiJson(body) = ApiJson::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self {
            state: state.clone(),
            ip,
            token,
            body,
        })
    }
}

async fn identify(s: Step<IdentifyRequest>) -> Answer<QuestionsStep> {
    Ok(Json(
        self_service::identify(&s.state, &s.token, &s.body).await?,
    ))
}

async fn answers(s: Step<AnswersRequest>) -> Answer<CaptchaChallenge> {
    let ip = s.ip.as_deref();
    Ok(Json(
        self_service::answers(&s.state, ip, &s.token, &s.body).await?,
    ))
}

async fn finish(s: Step<FinishRequest>) -> Answer<FinishResponse> {
    let ip = s.ip.as_deref();
    Ok(Json(
        self_service::finish(&s.state, ip, &s.token, &s.body).await?,
    ))
}

async fn new_password(s: Step<NewPasswordRequest>) -> Answer<Completed> {
    let ip = s.ip.as_deref();
    Ok(Json(
        self_service::new_password(&s.state, ip, &s.token, &s.body).await?,
    ))
}
