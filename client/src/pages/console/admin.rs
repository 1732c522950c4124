//! The administrator's tabs, one file each: domains (with a live preview of
//! the requirement checklist), notices with the one-step mandatory reset and
//! the Help Desk contact, the audit log, and API keys for the portal.
//!
//! Each tab's state is a reducer (`Reducible` + `Action`, like
//! `pages/account/state.rs`): the component renders and dispatches, and a
//! request's answer comes back as an action.

mod api_keys;
mod audit;
mod domains;
mod notices;

use std::future::Future;

pub use api_keys::ApiKeys;
pub use audit::Audit;
pub use domains::Domains;
pub use notices::Notices;
use yew::prelude::*;

use super::{needs_reauth, Reauth};
use crate::services::api::ApiClientError;

/// The outcome of a tab's last request.
#[derive(Clone, PartialEq, Default)]
struct Status {
    ok: Option<AttrValue>,
    err: Option<AttrValue>,
    reauth: bool,
}

impl Status {
    fn ok(m: impl Into<AttrValue>) -> Self {
        Status {
            ok: Some(m.into()),
            ..Default::default()
        }
    }
    fn err(e: &ApiClientError) -> Self {
        Status {
            err: Some(e.message().into()),
            reauth: needs_reauth(e),
            ..Default::default()
        }
    }
    fn reauthed() -> Self {
        Status::ok("Confirmed. Do it again now.")
    }
}

/// What every tab's reducer does alike: it has a [`Status`], and is told of
/// a failed request and of a password entered again.
trait TabState: Reducible + 'static {
    fn status(&self) -> &Status;
    fn failed(e: ApiClientError) -> Self::Action;
    fn reauthed() -> Self::Action;
}

fn status_view<R: TabState>(state: &UseReducerHandle<R>) -> Html {
    let status = state.status();
    let ondone = send(&state.dispatcher(), |()| R::reauthed());
    html! {
        <>
            if let Some(m) = &status.err {
                <div id="console-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            if status.reauth { <Reauth {ondone} /> }
            if let Some(m) = &status.ok {
                <div id="console-success" class="alert alert-success" role="status"><p>{ m.clone() }</p></div>
            }
        </>
    }
}

/// A callback that dispatches `action(value)`.
fn send<R, V>(
    dispatcher: &UseReducerDispatcher<R>,
    action: impl Fn(V) -> R::Action + 'static,
) -> Callback<V>
where
    R: Reducible + 'static,
    V: 'static,
{
    let dispatcher = dispatcher.clone();
    Callback::from(move |v| dispatcher.dispatch(action(v)))
}

/// Runs `request`; its answer becomes `ok(answer)` (then `reload`, for the
/// requests that change the tab's list), its failure the tab's `failed`.
fn run<R, T>(
    dispatcher: &UseReducerDispatcher<R>,
    request: impl Future<Output = Result<T, ApiClientError>> + 'static,
    ok: impl FnOnce(T) -> R::Action + 'static,
    reload: Option<Callback<()>>,
) where
    R: TabState,
    T: 'static,
{
    let dispatcher = dispatcher.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match request.await {
            Ok(answer) => {
                dispatcher.dispatch(ok(answer));
                if let Some(reload) = reload {
                    reload.emit(());
                }
            }
            Err(e) => dispatcher.dispatch(R::failed(e)),
        }
    });
}

fn opt_num(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        t.parse().ok()
    }
}
