//! "Load the session or go to sign-in", for every page that needs one.

use yew::prelude::*;

use super::{use_session, SessionAction, SessionContext};
use crate::router::use_navigator;
use crate::router::Route;
use crate::services::error::ApiClientError;
use crate::services::session;

pub struct RequiredSession {
    pub session: SessionContext,
    /// Why the session could not be read (other than its end), to show in
    /// place of the page.
    pub load_error: Option<AttrValue>,
    /// Back to the sign-in page with the error's message: for the page's own
    /// requests that find the session gone.
    pub onended: Callback<ApiClientError>,
}

/// The session of the context; after a reload it is only known to the
/// server, so it is asked once. A session the server no longer knows sends
/// the person to the sign-in page, which says why.
#[hook]
pub fn use_required_session() -> RequiredSession {
    let session = use_session();
    let navigator = use_navigator();
    let load_error = use_state(|| None::<AttrValue>);
    let onended = {
        let (session, navigator) = (session.clone(), navigator.clone());
        Callback::from(move |error: ApiClientError| {
            session.dispatch(SessionAction::Ended {
                notice: Some(error.message().into()),
            });
            if let Some(nav) = &navigator {
                nav.replace(&Route::SignIn);
            }
        })
    };
    {
        let (session, load_error, onended) = (session.clone(), load_error.clone(), onended.clone());
        let known = session.info.is_some();
        use_effect_with((), move |_| {
            if !known {
                wasm_bindgen_futures::spawn_local(async move {
                    match session::get_session().await {
                        Ok(info) => session.dispatch(SessionAction::SignedIn(info)),
                        Err(e) if e.is_not_authenticated() => onended.emit(e),
                        Err(e) => load_error.set(Some(e.message().into())),
                    }
                });
            }
        });
    }
    RequiredSession {
        session,
        load_error: (*load_error).clone(),
        onended,
    }
}
