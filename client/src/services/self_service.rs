//! The self-service endpoints: enrolment, and the Unlock Account / Forgot
//! Password verification flow.

use gloo_net::http::Request;
use latchkey_shared::self_service::{
    paths, AnswersRequest, CaptchaChallenge, Completed, EnrolRequest, EnrolmentStatus,
    FinishRequest, FinishResponse, FlowStarted, IdentifyRequest, NewPasswordRequest, QuestionsStep,
    StartFlowRequest,
};

use super::api::{check, decode, send, send_json, ApiClientError};

pub async fn enrolment() -> Result<EnrolmentStatus, ApiClientError> {
    decode(check(send(Request::get(paths::ENROLMENT)).await?).await?).await
}

pub async fn enrol(request: &EnrolRequest) -> Result<EnrolmentStatus, ApiClientError> {
    decode(check(send_json(Request::put(paths::ENROLMENT), request).await?).await?).await
}

/// `{}`: a POST whose request carries nothing but the CSRF header and a JSON body.
#[derive(serde::Serialize)]
struct EmptyBody {}

pub async fn start(request: &StartFlowRequest) -> Result<FlowStarted, ApiClientError> {
    decode(check(send_json(Request::post(paths::FLOWS), request).await?).await?).await
}

pub async fn new_captcha(flow: &str) -> Result<CaptchaChallenge, ApiClientError> {
    let url = paths::flow(paths::FLOW_CAPTCHA, flow);
    decode(check(send_json(Request::post(&url), &EmptyBody {}).await?).await?).await
}

pub async fn identify(
    flow: &str,
    request: &IdentifyRequest,
) -> Result<QuestionsStep, ApiClientError> {
    let url = paths::flow(paths::FLOW_IDENTIFY, flow);
    decode(check(send_json(Request::post(&url), request).await?).await?).await
}

pub async fn answers(
    flow: &str,
    request: &AnswersRequest,
) -> Result<CaptchaChallenge, ApiClientError> {
    let url = paths::flow(paths::FLOW_ANSWERS, flow);
    decode(check(send_json(Request::post(&url), request).await?).await?).await
}

pub async fn finish(flow: &str, request: &FinishRequest) -> Result<FinishResponse, ApiClientError> {
    let url = paths::flow(paths::FLOW_FINISH, flow);
    decode(check(send_json(Request::post(&url), request).await?).await?).await
}

pub async fn new_password(
    flow: &str,
    request: &NewPasswordRequest,
) -> Result<Completed, ApiClientError> {
    let url = paths::flow(paths::FLOW_PASSWORD, flow);
    decode(check(send_json(Request::post(&url), request).await?).await?).await
}
