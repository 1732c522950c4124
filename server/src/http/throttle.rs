//! The per-source throttle's place at the edge: every operation the
//! OpenAPI table marks with a [`Throttle`] (those that check a
//! password, answers or a code for someone who is not yet signed in, or
//! re-check a signed-in person's password) is admitted by
//! [`throttle::admit`] before its handler runs, so a refused source never
//! reaches argon2 or a directory, and settled by what its answer says:
//! an answer carrying [`FailedCheck`] was a failure, any other is taken
//! back. An attempt whose handler never answers (the client went away, the
//! process stopped) stays counted: the throttle errs on the side of the
//! accounts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::accounts::throttle;
use crate::http::client_addr::client_address;
use crate::http::openapi::{Method, Throttle, OPERATIONS};
use crate::state::AppState;

/// In an answer's extensions: the credential check it answers failed (a
/// wrong password, wrong answers, a wrong code, an unknown name), which
/// the throttle counts. Set by the error's conversion to a response, so no
/// handler can forget it.
#[derive(Debug, Clone, Copy)]
pub struct FailedCheck;

static THROTTLED: LazyLock<HashMap<(&'static str, &'static str), Throttle>> = LazyLock::new(|| {
    OPERATIONS
        .iter()
        .filter(|op| op.throttle != Throttle::Off)
        .map(|op| ((op.method.as_str(), op.path), op.throttle))
        .collect()
});

fn method_name(method: &axum::http::Method) -> Option<&'static str> {
    Some(match *method {
        axum::http::Method::GET => Method::Get.as_str(),
        axum::http::Method::POST => Method::Post.as_str(),
        axum::http::Method::PUT => Method::Put.as_str(),
        axum::http::Method::DELETE => Method::Delete.as_str(),
        _ => return None,
    })
}

/// Behind a reverse proxy that is not in `trusted_proxies`, every client is
/// the proxy's address: the throttle would count the whole world as one
/// source. Worth one line in the log (a local browser also comes from
/// loopback, so it is not an error).
fn warn_once_about_a_local_proxy() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "a credential check came from a loopback address and trusted_proxies is empty: \
             behind a reverse proxy, list it in trusted_proxies, or every client is throttled \
             as one source"
        );
    }
}

/// The middleware: a no-op for an operation the table does not mark.
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let throttle = req.extensions().get::<MatchedPath>().and_then(|path| {
        let method = method_name(req.method())?;
        THROTTLED.get(&(method, path.as_str())).copied()
    });
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let (Some(throttle), Some(peer)) = (throttle, peer) else {
        return next.run(req).await;
    };
    if peer.is_loopback() && state.config.trusted_proxies.is_empty() {
        warn_once_about_a_local_proxy();
    }
    let ip = client_address(peer, req.headers(), &state.config.trusted_proxies);
    let ticket = match throttle::admit(&state, ip).await {
        Ok(Some(ticket)) => ticket,
        Ok(None) => return next.run(req).await,
        Err(refused) => return refused.into_response(),
    };
    let response = next.run(req).await;
    let failed =
        throttle == Throttle::EveryAttempt || response.extensions().get::<FailedCheck>().is_some();
    if let Err(e) = throttle::settle(&state, ticket, failed).await {
        // The answer stands; at worst a success stays counted as a failure.
        tracing::warn!(error = %e, "could not settle a throttled attempt");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::openapi::{why, Access};

    #[test]
    fn every_operation_that_checks_a_password_or_answers_is_throttled_but_the_portals() {
        for op in OPERATIONS {
            let checks_password = op
                .errors
                .iter()
                .any(|e| *e == why::WRONG_PASSWORD || *e == why::WRONG_CURRENT_PASSWORD);
            let expected = if op.id == "answer_questions" {
                Throttle::EveryAttempt
            } else if checks_password && op.access != Access::ApiKey {
                Throttle::Failures
            } else {
                Throttle::Off
            };
            assert_eq!(op.throttle, expected, "{} {}", op.method.as_str(), op.path);
        }
        assert!(THROTTLED.len() >= 9, "{}", THROTTLED.len());
    }
}
