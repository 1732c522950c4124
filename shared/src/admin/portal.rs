//! The portal's verification API (`POST /api/portal/verify`).

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalVerifyRequest {
    /// Domain slug.
    pub domain: String,
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for PortalVerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalVerifyRequest")
            .field("domain", &self.domain)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What the portal may do with a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasswordStatus {
    /// Sign the user in.
    Valid,
    /// A temporary password: send the user to change it first.
    Temporary,
    /// A mandatory reset is in effect: send the user to change it first.
    ChangeRequired,
    /// Older than the domain's maximum password age: send the user to
    /// change it first.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalVerifyResponse {
    pub status: PasswordStatus,
    pub username: String,
    pub display_name: String,
    pub domain: String,
    /// For [`PasswordStatus::Temporary`]: when it expires (unix seconds).
    pub expires_at: Option<i64>,
}
