//! The staff console's user side (LRA and administrator): find a user of
//! one's domains, read their state, act on them with a reason, and enter
//! one's password again when the server asks for it (`reauth_required`).

use latchkey_shared::admin::{
    encode, paths, ReauthRequest, ReauthResponse, StaffActionRequest, TemporaryPasswordIssued,
    UserSearchResponse, UserState,
};

use super::error::ApiClientError;
use super::requests::{get, post};

pub async fn reauth(password: &str) -> Result<ReauthResponse, ApiClientError> {
    let body = ReauthRequest {
        password: password.to_owned(),
    };
    post(paths::STAFF_REAUTH, &body).await
}

/// The users of the staff member's domains whose user name or name matches.
pub async fn search(query: &str) -> Result<UserSearchResponse, ApiClientError> {
    get(&format!("{}?q={}", paths::STAFF_USERS, encode(query))).await
}

pub async fn user(id: i64) -> Result<UserState, ApiClientError> {
    get(&paths::with_id(paths::STAFF_USER, id)).await
}

/// What staff can do to a user; each needs a reason (for the audit log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffAction {
    Unlock,
    ClearEnrolment,
    Disable,
    Enable,
}

/// `action` on user `id`: the user's state afterwards.
pub async fn act(action: StaffAction, id: i64, reason: &str) -> Result<UserState, ApiClientError> {
    let path = match action {
        StaffAction::Unlock => paths::STAFF_UNLOCK,
        StaffAction::ClearEnrolment => paths::STAFF_CLEAR_ENROLMENT,
        StaffAction::Disable => paths::STAFF_DISABLE,
        StaffAction::Enable => paths::STAFF_ENABLE,
    };
    post(&paths::with_id(path, id), &reason_body(reason)).await
}

/// A temporary password for user `id`, shown once.
pub async fn issue_temporary_password(
    id: i64,
    reason: &str,
) -> Result<TemporaryPasswordIssued, ApiClientError> {
    post(
        &paths::with_id(paths::STAFF_TEMP_PASSWORD, id),
        &reason_body(reason),
    )
    .await
}

fn reason_body(reason: &str) -> StaffActionRequest {
    StaffActionRequest {
        reason: reason.to_owned(),
    }
}
