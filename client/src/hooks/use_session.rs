//! Who is signed in, shared by the pages: the sign-in form fills it, the
//! account page reads it (or asks the server after a reload), and a page
//! that finds the session gone leaves a message for the sign-in page.

use std::rc::Rc;

use latchkey_shared::api::SessionInfo;
use yew::prelude::*;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionState {
    /// `None` until signed in here, or until the account page has asked the server.
    pub info: Option<SessionInfo>,
    /// Said once on the sign-in page, e.g. "Your session has ended".
    pub notice: Option<AttrValue>,
}

pub enum SessionAction {
    SignedIn(SessionInfo),
    /// The password was changed: the session no longer needs a change.
    PasswordChanged,
    /// Signed out, or the server no longer knows the session.
    Ended {
        notice: Option<AttrValue>,
    },
    ClearNotice,
}

impl Reducible for SessionState {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SessionAction::SignedIn(info) => {
                next.info = Some(info);
                next.notice = None;
            }
            SessionAction::PasswordChanged => {
                if let Some(info) = &mut next.info {
                    info.must_change_password = false;
                }
            }
            SessionAction::Ended { notice } => {
                next.info = None;
                next.notice = notice;
            }
            SessionAction::ClearNotice => next.notice = None,
        }
        Rc::new(next)
    }
}

pub type SessionContext = UseReducerHandle<SessionState>;

/// Used once, by the app.
#[hook]
pub fn use_session_provider() -> SessionContext {
    use_reducer_eq(SessionState::default)
}

#[hook]
pub fn use_session() -> SessionContext {
    use_context::<SessionContext>().expect("use_session outside the App's SessionContext")
}
