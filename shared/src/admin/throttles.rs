//! Sources throttled for failed credential checks: what the administrator
//! sees, and how they lift one.

use serde::{Deserialize, Serialize};

/// A source (an IPv4 address, or an IPv6 /64) with failed checks past the
/// free ones of its window, or refused now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThrottledSource {
    /// `203.0.113.7`, or `2001:db8:1:2::/64`.
    pub source: String,
    /// Failed checks in the current window.
    pub failures: i64,
    /// Accounts it locked in the current window.
    pub locks: i64,
    /// When the window's counts start again (Unix seconds).
    pub window_ends_at: i64,
    /// Until when it is refused (Unix seconds); `None`: it may try now.
    pub refused_until: Option<i64>,
    pub last_attempt_at: i64,
}

/// Lifts the throttle of one source: its counts start again from nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiftThrottle {
    /// As [`ThrottledSource::source`] shows it, or any address in it.
    pub source: String,
}

/// The longest source an administrator can type (an IPv6 /64 with room).
pub const MAX_SOURCE_CHARS: usize = 64;
