//! The administrator's tabs, one file each: domains (with a live preview of
//! the requirement checklist, and the credential store beside it), notices with the one-step mandatory reset and
//! the Help Desk contact, the audit log, and API keys for the portal.
//!
//! Each tab's state is a reducer (`Reducible` + `Action`, like
//! `pages/account/state.rs`): the component renders and dispatches, and a
//! request's answer comes back as an action.

mod api_keys;
mod audit;
mod domain_store;
mod domains;
mod notices;
mod outbox;

use std::future::Future;
use std::rc::Rc;

pub use api_keys::ApiKeys;
pub use audit::Audit;
pub use domains::Domains;
pub use notices::Notices;
pub use outbox::Outbox;
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

/// A tab's own state; [`Tab`] adds what every tab does alike.
trait TabState: Clone + PartialEq + 'static {
    type Action;
    /// Applies `action`; the new status where the action has one to say.
    fn apply(&mut self, action: Self::Action) -> Option<Status>;
}

/// A tab's reducer: its state, and the outcome of its last request (a
/// failure, or a password entered again).
#[derive(Clone, PartialEq)]
struct Tab<S> {
    state: S,
    status: Status,
}

impl<S> Tab<S> {
    fn new(state: S) -> Self {
        Tab {
            state,
            status: Status::default(),
        }
    }
}

impl<S> std::ops::Deref for Tab<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.state
    }
}

enum TabAction<A> {
    Do(A),
    Failed(ApiClientError),
    Reauthed,
}

impl<S: TabState> Reducible for Tab<S> {
    type Action = TabAction<S::Action>;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            TabAction::Do(action) => {
                if let Some(status) = next.state.apply(action) {
                    next.status = status;
                }
            }
            TabAction::Failed(e) => next.status = Status::err(&e),
            TabAction::Reauthed => next.status = Status::reauthed(),
        }
        Rc::new(next)
    }
}

type Dispatcher<S> = UseReducerDispatcher<Tab<S>>;

fn status_view<S: TabState>(tab: &UseReducerHandle<Tab<S>>) -> Html {
    let status = &tab.status;
    let ondone = crate::pages::send(&tab.dispatcher(), |()| TabAction::Reauthed);
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

/// A callback that dispatches the tab's `action(value)`.
fn send<S: TabState, V: 'static>(
    dispatcher: &Dispatcher<S>,
    action: impl Fn(V) -> S::Action + 'static,
) -> Callback<V> {
    crate::pages::send(dispatcher, move |v| TabAction::Do(action(v)))
}

/// Runs `request`; its answer becomes `ok(answer)` (then `reload`, for the
/// requests that change the tab's list), its failure the tab's status.
fn run<S: TabState, T: 'static>(
    dispatcher: &Dispatcher<S>,
    request: impl Future<Output = Result<T, ApiClientError>> + 'static,
    ok: impl FnOnce(T) -> S::Action + 'static,
    reload: Option<Callback<()>>,
) {
    let dispatcher = dispatcher.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match request.await {
            Ok(answer) => {
                dispatcher.dispatch(TabAction::Do(ok(answer)));
                if let Some(reload) = reload {
                    reload.emit(());
                }
            }
            Err(e) => dispatcher.dispatch(TabAction::Failed(e)),
        }
    });
}

/// `load` once, when the tab opens; it is also the tab's reload.
#[hook]
fn use_load(load: Callback<()>) -> Callback<()> {
    {
        let load = load.clone();
        use_effect_with((), move |_| load.emit(()));
    }
    load
}

fn opt_num(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        t.parse().ok()
    }
}
