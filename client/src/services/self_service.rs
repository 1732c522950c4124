//! The self-service endpoints: enrolment, and the Unlock Account / Forgot
//! Password verification flow.

use latchkey_shared::self_service::{
    paths, AnswersRequest, CaptchaChallenge, Completed, EnrolRequest, EnrolmentStatus,
    FinishRequest, FinishResponse, FlowStarted, IdentifyRequest, NewPasswordRequest, QuestionsStep,
    StartFlowRequest,
};

use super::error::ApiClientError;
use super::requests::{get, post, put};

pub async fn enrolment() -> Result<EnrolmentStatus, ApiClientError> {
    get(paths::ENROLMENT).await
}

pub async fn enrol(request: &EnrolRequest) -> Result<EnrolmentStatus, ApiClientError> {
    put(paths::ENROLMENT, request).await
}

/// `{}`: a POST whose request carries nothing but the CSRF header and a JSON body.
#[derive(serde::Serialize)]
struct EmptyBody {}

pub async fn start(request: &StartFlowRequest) -> Result<FlowStarted, ApiClientError> {
    post(paths::FLOWS, request).await
}

pub async fn new_captcha(flow: &str) -> Result<CaptchaChallenge, ApiClientError> {
    let url = paths::flow(paths::FLOW_CAPTCHA, flow);
    post(&url, &EmptyBody {}).await
}

pub async fn identify(
    flow: &str,
    request: &IdentifyRequest,
) -> Result<QuestionsStep, ApiClientError> {
    let url = paths::flow(paths::FLOW_IDENTIFY, flow);
    post(&url, request).await
}

pub async fn answers(
    flow: &str,
    request: &AnswersRequest,
) -> Result<CaptchaChallenge, ApiClientError> {
    let url = paths::flow(paths::FLOW_ANSWERS, flow);
    post(&url, request).await
}

pub async fn finish(flow: &str, request: &FinishRequest) -> Result<FinishResponse, ApiClientError> {
    let url = paths::flow(paths::FLOW_FINISH, flow);
    post(&url, request).await
}

pub async fn new_password(
    flow: &str,
    request: &NewPasswordRequest,
) -> Result<Completed, ApiClientError> {
    let url = paths::flow(paths::FLOW_PASSWORD, flow);
    post(&url, request).await
}
