//! Who is asking, enforced on every request: the session cookie, the
//! [`Authenticated`] and [`SignedIn`] extractors (any live session, a
//! session with a usable password), and the staff roles: [`Staff`] (an LRA
//! or an administrator with a full session) and [`AdminOnly`], and the same
//! with the caller as the audit trail's actor ([`StaffCaller`],
//! [`AdminCaller`]). Sessions themselves (tokens, rows, expiry) are
//! [`crate::accounts::session`]; what staff may do with their
//! [`StaffScope`] is [`crate::accounts::staff`], which never sees this
//! module.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use latchkey_shared::api::SESSION_COOKIE;

use crate::accounts::session::{authenticate, SessionUser};
use crate::accounts::staff::StaffScope;
use crate::error::AppError;
use crate::http::extract::{Acting, Caller};
use crate::state::AppState;

/// The session token from the `Cookie` headers, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == SESSION_COOKIE).then(|| value.trim().trim_matches('"').to_owned())
        })
        .find(|v| !v.is_empty() && v.len() <= 128)
}

fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "HttpOnly; SameSite=Strict; Path=/; Secure"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

/// `Set-Cookie` value that hands the browser the token.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; {}",
        cookie_attributes(secure)
    ))
    .expect("base64url tokens are valid header values")
}

/// `Set-Cookie` value that makes the browser forget the token.
pub fn clearing_cookie(secure: bool) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Max-Age=0; {}",
        cookie_attributes(secure)
    ))
    .expect("static cookie is a valid header value")
}

/// Any live session, including one that may only change its temporary
/// password. Use only for `GET`/`DELETE /api/session` and change-password.
#[derive(Debug, Clone)]
pub struct Authenticated(pub SessionUser);

impl Acting for Authenticated {
    fn actor_name(&self) -> String {
        self.0.username_key.clone()
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = token_from_headers(&parts.headers).ok_or(AppError::NotAuthenticated)?;
        authenticate(state, &token).await.map(Authenticated)
    }
}

/// A live session with a usable (non-temporary) password: what every
/// endpoint other than the three above requires. Otherwise 403
/// [`AppError::PasswordChangeRequired`].
#[derive(Debug, Clone)]
pub struct SignedIn(pub SessionUser);

impl Acting for SignedIn {
    fn actor_name(&self) -> String {
        self.0.username_key.clone()
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Authenticated(user) = Authenticated::from_request_parts(parts, state).await?;
        if user.must_change {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(SignedIn(user))
    }
}

/// A signed-in LRA or administrator (full session, not a temporary
/// password): the HTTP side of [`StaffScope`], which is what the service
/// layer takes.
#[derive(Debug, Clone)]
pub struct Staff(pub StaffScope);

impl std::ops::Deref for Staff {
    type Target = StaffScope;

    fn deref(&self) -> &StaffScope {
        &self.0
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        StaffScope::of(state, user).await.map(Staff)
    }
}

/// An administrator; anyone else gets 403.
#[derive(Debug, Clone)]
pub struct AdminOnly(pub Staff);

impl FromRequestParts<AppState> for AdminOnly {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if !staff.is_admin() {
            return Err(AppError::Forbidden(
                "Only an administrator may do this.".to_owned(),
            ));
        }
        Ok(AdminOnly(staff))
    }
}

/// A staff member with the state and their audit actor: `Caller { who: staff, .. }`.
pub type StaffCaller = Caller<Staff>;
/// An administrator with the state and their audit actor.
pub type AdminCaller = Caller<AdminOnly>;

impl Acting for Staff {
    fn actor_name(&self) -> String {
        self.actor()
    }
}

impl Acting for AdminOnly {
    fn actor_name(&self) -> String {
        self.0.actor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=b; latchkey_session=tok; c=d"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("tok"));
        let empty = HeaderMap::new();
        assert_eq!(token_from_headers(&empty), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_on_https() {
        let c = session_cookie("tok", true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        let c = session_cookie("tok", false);
        assert!(!c.to_str().unwrap().contains("Secure"));
    }
}
