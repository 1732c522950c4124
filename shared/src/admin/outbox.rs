//! The outbox as the console shows it.

use serde::{Deserialize, Serialize};

/// Where a notification mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not sent yet (first attempt due, or a later one after a failure).
    Waiting,
    Sent,
    /// Given up: refused for good, or too many attempts.
    Failed,
}

/// A notification mail as the console lists it (never its body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// Where the console sends a test mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestMailRequest {
    pub to: String,
}

/// Mails the console lists at most.
pub const OUTBOX_LIST_LIMIT: i64 = 200;
