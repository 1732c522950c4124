//! Notices: what the sign-in page shows before anyone signs in, and the
//! one-step mandatory reset.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminNotice {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// ISO `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub posted_on: String,
    pub published: bool,
    pub sort_order: i64,
}

impl NoticeInput {
    /// The rules beyond the input bounds; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.title.trim().is_empty() {
            return Err(format!(
                "The notice title must be 1-{} characters.",
                crate::bounds::MAX_NOTICE_TITLE_CHARS
            ));
        }
        if self.body.trim().is_empty() {
            return Err(format!(
                "The notice text must be 1-{} characters.",
                crate::bounds::MAX_NOTICE_BODY_CHARS
            ));
        }
        if !crate::dates::valid_iso_date(self.posted_on.trim()) {
            return Err("The posted date must be a date like 2019-12-13.".to_owned());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeInput {
    pub title: String,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub posted_on: String,
    pub published: bool,
    pub sort_order: i64,
}

/// Mark every user of `domains`, or only `usernames` of them, as having to
/// change their password at next sign-in, and publish the notice, in one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MandatoryResetRequest {
    /// Domain slugs (at least one).
    pub domains: Vec<String>,
    /// Limit to these user names; empty = every user of the domains.
    #[serde(default)]
    pub usernames: Vec<String>,
    /// Notice to publish (dated today); `None` = the one titled
    /// [`MANDATORY_RESET_NOTICE_TITLE`], created if missing.
    #[serde(default)]
    pub notice_id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MandatoryResetResponse {
    pub users_marked: i64,
    pub notice: AdminNotice,
    /// Requested user names that matched no user.
    pub unknown_usernames: Vec<String>,
}
