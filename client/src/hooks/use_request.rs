//! `use_request`: what a page shows about its requests, written once. A
//! request in flight (`busy`: the form's buttons wait), the last failure
//! (`error`, in words a person can act on), the last success worth saying
//! (`notice`), and whether the server asked for the password again
//! (`reauth`, the staff console's `reauth_required`).
//!
//! Invariants: a request sent by [`UseRequestHandle::run`] clears the last
//! outcome; only its own answer ends `busy`; a failure replaces any notice
//! and a notice any failure, so a page never shows both from one request.
//! What a request's answer does to the page's own data is the page's
//! (its `done` closure, usually an action of its reducer).

use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;

use latchkey_shared::api::ErrorCode;
use yew::prelude::*;

use crate::services::error::ApiClientError;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestState {
    pub busy: bool,
    pub error: Option<AttrValue>,
    pub notice: Option<AttrValue>,
    /// The server wants the staff member's password again before this.
    pub reauth: bool,
}

#[derive(Debug)]
pub enum RequestAction {
    /// A request is sent: busy, and the last outcome is cleared.
    Sent,
    /// A request was answered: no error any more; a notice, if given,
    /// replaces the last one.
    Answered(Option<AttrValue>),
    /// A request failed: its message, and whether to ask for the password.
    Failed { message: AttrValue, reauth: bool },
    /// Refused before anything was sent (a field left empty).
    Refused(AttrValue),
    /// The password was entered again: the notice says to try again.
    Reauthed(AttrValue),
    /// The person changed the form: the last outcome no longer applies.
    Cleared,
}

impl Reducible for RequestState {
    type Action = RequestAction;

    fn reduce(self: Rc<Self>, action: RequestAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RequestAction::Sent => {
                next = RequestState {
                    busy: true,
                    ..RequestState::default()
                };
            }
            RequestAction::Answered(notice) => {
                next.busy = false;
                next.error = None;
                if notice.is_some() {
                    next.notice = notice;
                }
            }
            RequestAction::Failed { message, reauth } => {
                next.busy = false;
                next.error = Some(message);
                next.notice = None;
                next.reauth = reauth;
            }
            RequestAction::Refused(message) => {
                next.error = Some(message);
                next.notice = None;
            }
            RequestAction::Reauthed(notice) => {
                next.reauth = false;
                next.error = None;
                next.notice = Some(notice);
            }
            RequestAction::Cleared => {
                next.error = None;
                next.notice = None;
            }
        }
        Rc::new(next)
    }
}

impl RequestAction {
    /// The failure of a request, described by `describe`.
    pub fn failed(error: &ApiClientError, describe: fn(&ApiClientError) -> AttrValue) -> Self {
        RequestAction::Failed {
            message: describe(error),
            reauth: error.code() == Some(ErrorCode::ReauthRequired),
        }
    }
}

/// The error's own message: what most requests show.
fn message(error: &ApiClientError) -> AttrValue {
    error.message().into()
}

/// A page's request state and the way to send its requests; reads as the
/// [`RequestState`].
#[derive(Clone)]
pub struct UseRequestHandle {
    state: UseReducerHandle<RequestState>,
    describe: fn(&ApiClientError) -> AttrValue,
}

impl Deref for UseRequestHandle {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.state
    }
}

impl UseRequestHandle {
    /// Sends `request` (busy meanwhile, the last outcome cleared). Its
    /// answer goes to `done`, which returns the notice to show, if any; its
    /// failure becomes the error.
    pub fn run<T, F, D>(&self, request: F, done: D)
    where
        T: 'static,
        F: Future<Output = Result<T, ApiClientError>> + 'static,
        D: FnOnce(T) -> Option<AttrValue> + 'static,
    {
        self.run_or(request, done, |_| ());
    }

    /// [`Self::run`], and `failed` with the error when it fails (to forget
    /// a password typed, to move the focus).
    pub fn run_or<T, F, D, E>(&self, request: F, done: D, failed: E)
    where
        T: 'static,
        F: Future<Output = Result<T, ApiClientError>> + 'static,
        D: FnOnce(T) -> Option<AttrValue> + 'static,
        E: FnOnce(&ApiClientError) + 'static,
    {
        self.state.dispatch(RequestAction::Sent);
        self.spawn(request, done, failed);
    }

    /// Reads something for the page without a word while it loads: neither
    /// busy nor clearing the last outcome (a "saved" notice stays while the
    /// list reloads). Its answer goes to `done`; its failure is the error.
    pub fn load<T, F, D>(&self, request: F, done: D)
    where
        T: 'static,
        F: Future<Output = Result<T, ApiClientError>> + 'static,
        D: FnOnce(T) + 'static,
    {
        self.spawn(
            request,
            move |answer| {
                done(answer);
                None
            },
            |_| (),
        );
    }

    fn spawn<T, F, D, E>(&self, request: F, done: D, failed: E)
    where
        T: 'static,
        F: Future<Output = Result<T, ApiClientError>> + 'static,
        D: FnOnce(T) -> Option<AttrValue> + 'static,
        E: FnOnce(&ApiClientError) + 'static,
    {
        let (dispatcher, describe) = (self.state.dispatcher(), self.describe);
        wasm_bindgen_futures::spawn_local(async move {
            let action = match request.await {
                Ok(answer) => RequestAction::Answered(done(answer)),
                Err(e) => {
                    failed(&e);
                    RequestAction::failed(&e, describe)
                }
            };
            dispatcher.dispatch(action);
        });
    }

    /// Says what the form lacks, without sending anything.
    pub fn refuse(&self, message: impl Into<AttrValue>) {
        self.state.dispatch(RequestAction::Refused(message.into()));
    }

    /// The password was entered again.
    pub fn reauthed(&self, notice: impl Into<AttrValue>) {
        self.state.dispatch(RequestAction::Reauthed(notice.into()));
    }

    /// The form changed: the last outcome goes.
    pub fn clear(&self) {
        self.state.dispatch(RequestAction::Cleared);
    }
}

/// A page's request state, failures said in the error's own words.
#[hook]
pub fn use_request() -> UseRequestHandle {
    use_request_with(message)
}

/// [`use_request`] with failures said by `describe` (e.g. "your current
/// password is not correct" for a form that asked for it).
#[hook]
pub fn use_request_with(describe: fn(&ApiClientError) -> AttrValue) -> UseRequestHandle {
    let state = use_reducer(RequestState::default);
    UseRequestHandle { state, describe }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::error::api_error;

    fn state() -> Rc<RequestState> {
        Rc::new(RequestState::default())
    }

    fn failed(code: ErrorCode) -> RequestAction {
        RequestAction::failed(&api_error(code, None), message)
    }

    #[test]
    fn sending_is_busy_and_clears_the_last_outcome() {
        let s = state()
            .reduce(failed(ErrorCode::ReauthRequired))
            .reduce(RequestAction::Sent);
        assert_eq!(
            *s,
            RequestState {
                busy: true,
                ..RequestState::default()
            }
        );
        let s = state()
            .reduce(RequestAction::Answered(Some("saved".into())))
            .reduce(RequestAction::Sent);
        assert!(s.busy && s.notice.is_none());
    }

    #[test]
    fn an_answer_ends_busy_and_its_notice_replaces_the_last() {
        let s = state()
            .reduce(RequestAction::Sent)
            .reduce(RequestAction::Answered(Some("saved".into())));
        assert!(!s.busy);
        assert_eq!(s.notice.as_deref(), Some("saved"));
        // A quiet answer (a list reloaded) keeps the notice, ends the error.
        let s = s
            .reduce(failed(ErrorCode::Internal))
            .reduce(RequestAction::Answered(Some("saved again".into())))
            .reduce(RequestAction::Answered(None));
        assert_eq!(s.notice.as_deref(), Some("saved again"));
        assert_eq!(s.error, None);
    }

    #[test]
    fn a_failure_replaces_the_notice_and_asks_for_the_password_when_told() {
        let s = state()
            .reduce(RequestAction::Answered(Some("saved".into())))
            .reduce(RequestAction::Sent)
            .reduce(failed(ErrorCode::ReauthRequired));
        assert!(!s.busy && s.reauth && s.notice.is_none());
        assert_eq!(s.error.as_deref(), Some("server says no"));
        assert!(!state().reduce(failed(ErrorCode::Forbidden)).reauth);
    }

    #[test]
    fn the_failure_is_said_as_the_page_describes_it() {
        let s = state().reduce(RequestAction::failed(
            &api_error(ErrorCode::InvalidCredentials, None),
            |_| "wrong password".into(),
        ));
        assert_eq!(s.error.as_deref(), Some("wrong password"));
        let s = state().reduce(RequestAction::failed(&ApiClientError::Network, message));
        assert_eq!(
            s.error.as_deref(),
            Some(ApiClientError::Network.message().as_str())
        );
    }

    #[test]
    fn re_entering_the_password_ends_the_prompt_and_the_error() {
        let s = state()
            .reduce(failed(ErrorCode::ReauthRequired))
            .reduce(RequestAction::Reauthed("do it again".into()));
        assert!(!s.reauth && s.error.is_none());
        assert_eq!(s.notice.as_deref(), Some("do it again"));
    }

    #[test]
    fn a_refusal_or_an_edit_leaves_busy_alone() {
        let s = state()
            .reduce(RequestAction::Sent)
            .reduce(RequestAction::Refused("type it".into()));
        assert!(s.busy);
        assert_eq!(s.error.as_deref(), Some("type it"));
        let s = s.reduce(RequestAction::Cleared);
        assert!(s.busy && s.error.is_none() && s.notice.is_none());
    }
}
