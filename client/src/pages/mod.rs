//! One component per route, named as the feature is everywhere else:
//! `sign_in`, `manage` (a domain's landing page), `unlock` and `forgot`
//! (both the [`self_service`] flow), `enrol`, `account`, `console` (its
//! `staff` tab for LRAs, its `admin` tabs), `not_found`. Pages call
//! `crate::services`, never the low-level requests.

pub mod account;
pub mod console;
pub mod enrol;
pub mod forgot;
pub mod manage;
pub mod not_found;
pub mod self_service;
pub mod sign_in;
pub mod unlock;

use yew::prelude::*;

/// A callback that dispatches `action(value)` to a page's reducer.
pub(crate) fn send<R, V>(
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

/// What an `<input>` holds, from its input event.
pub(crate) fn input_value(e: InputEvent) -> String {
    e.target_unchecked_into::<web_sys::HtmlInputElement>()
        .value()
}
