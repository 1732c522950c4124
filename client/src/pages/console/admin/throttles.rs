//! The sources throttled for failed checks (`GET /api/admin/throttles`):
//! who is refused now and until when, and a button that lifts one (an
//! organisation's own network, say, after a misconfigured script).

use std::rc::Rc;

use latchkey_shared::admin::{LiftThrottle, ThrottledSource};
use yew::prelude::*;

use super::super::when;
use super::{outcome, use_load};
use crate::hooks::use_request;
use crate::services::admin;

#[derive(Clone, PartialEq, Default)]
pub struct ThrottlesState {
    sources: Vec<ThrottledSource>,
    loaded: bool,
}

pub enum Action {
    Loaded(Vec<ThrottledSource>),
}

impl Reducible for ThrottlesState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::Loaded(sources) => Rc::new(Self {
                sources,
                loaded: true,
            }),
        }
    }
}

fn status(s: &ThrottledSource) -> String {
    match s.refused_until {
        Some(t) => format!("Refused until {}", when(t)),
        None => "Slowed down".to_owned(),
    }
}

#[component]
pub fn Throttles() -> Html {
    let state = use_reducer(ThrottlesState::default);
    let request = use_request();
    let load = {
        let (request, dispatcher) = (request.clone(), state.dispatcher());
        Callback::from(move |()| {
            let dispatcher = dispatcher.clone();
            request.load(admin::throttles(), move |sources| {
                dispatcher.dispatch(Action::Loaded(sources))
            });
        })
    };
    let load = use_load(load);
    let onreload = {
        let load = load.clone();
        Callback::from(move |_: MouseEvent| load.emit(()))
    };
    html! {
        <div class="console-throttles">
            <h1 class="visually-hidden">{ "Throttled sources" }</h1>
            { outcome(&request) }
            <p class="muted small">{ "Networks (an IPv4 address, or an IPv6 /64) with many failed sign-ins, answers or codes are slowed down, then refused for a while; so are those that locked several accounts. The people whose accounts they locked can still unlock them. Lifting a source clears its counts." }</p>
            if state.loaded && state.sources.is_empty() {
                <p id="throttles-none">{ "No source is throttled now." }</p>
            }
            <ul id="throttles" class="admin-list">
                { for state.sources.iter().map(|s| {
                    let lift = {
                        let (request, load) = (request.clone(), load.clone());
                        let body = LiftThrottle { source: s.source.clone() };
                        Callback::from(move |_: MouseEvent| {
                            let (load, body) = (load.clone(), body.clone());
                            request.run(async move { admin::lift_throttle(&body).await }, move |()| {
                                load.emit(());
                                Some("The source's throttle is lifted.".into())
                            });
                        })
                    };
                    html! {
                        <li class="throttled-source">
                            <strong><code>{ s.source.clone() }</code></strong>
                            <span class="muted small">{ format!(" {} · {} failed, {} locked · last {}",
                                status(s), s.failures, s.locks, when(s.last_attempt_at)) }</span>
                            <button type="button" class="button button-secondary throttle-lift" onclick={lift}
                                aria-label={format!("Lift the throttle of {}", s.source)}>{ "Lift" }</button>
                        </li>
                    }
                }) }
            </ul>
            <button id="throttles-reload" type="button" class="button button-secondary" onclick={onreload}>{ "Reload" }</button>
        </div>
    }
}
