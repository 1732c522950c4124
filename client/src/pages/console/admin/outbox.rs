//! The notification mails (waiting, sent, failed) and a test mail that goes
//! the same way.

use std::rc::Rc;

use latchkey_shared::admin::{OutboxEntry, OutboxStatus, TestMailRequest};
use yew::prelude::*;

use super::super::{text_field, when};
use super::{outcome, use_load};
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::admin;

#[derive(Clone, PartialEq, Default)]
pub struct OutboxState {
    mails: Vec<OutboxEntry>,
    /// Where the test mail goes, as typed.
    to: String,
}

pub enum Action {
    Loaded(Vec<OutboxEntry>),
    To(String),
}

impl Reducible for OutboxState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Loaded(mails) => next.mails = mails,
            Action::To(v) => next.to = v,
        }
        Rc::new(next)
    }
}

fn queued_message(m: &OutboxEntry) -> String {
    format!(
        "A test mail to {} is waiting to be sent; it shows as sent below within a few seconds.",
        m.recipient
    )
}

fn status_label(s: OutboxStatus) -> &'static str {
    match s {
        OutboxStatus::Waiting => "Waiting",
        OutboxStatus::Sent => "Sent",
        OutboxStatus::Failed => "Failed",
    }
}

#[component]
pub fn Outbox() -> Html {
    let state = use_reducer(OutboxState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();
    let load = {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        Callback::from(move |()| {
            let dispatcher = dispatcher.clone();
            request.load(admin::outbox(), move |mails| {
                dispatcher.dispatch(Action::Loaded(mails))
            });
        })
    };
    let load = use_load(load);
    let onsend = {
        let (state, request, load) = (state.clone(), request.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = TestMailRequest {
                to: state.to.trim().to_owned(),
            };
            let load = load.clone();
            request.run(async move { admin::test_mail(&body).await }, move |mail| {
                load.emit(());
                Some(queued_message(&mail).into())
            });
        })
    };
    let onreload = {
        let load = load.clone();
        Callback::from(move |_: MouseEvent| load.emit(()))
    };
    html! {
        <div class="console-mail">
            <h1 class="visually-hidden">{ "Mail" }</h1>
            { outcome(&request) }
            <form id="test-mail-form" class="console-form" onsubmit={onsend}>
                { text_field("test-mail-to", "Send a test mail to", &state.to, send(&dispatcher, Action::To)) }
                <button id="test-mail-send" type="submit" class="button button-primary">{ "Send test mail" }</button>
            </form>
            <h2>{ "Notification mails" }</h2>
            <button id="outbox-reload" type="button" class="button button-secondary" onclick={onreload}>{ "Refresh" }</button>
            if state.mails.is_empty() {
                <p class="muted">{ "No mail yet." }</p>
            }
            <ul id="outbox" class="admin-list">
                { for state.mails.iter().map(|m| html! {
                    <li class={classes!("outbox-mail", format!("outbox-{}", status_label(m.status).to_lowercase()))}>
                        <span class="badge">{ status_label(m.status) }</span>
                        <strong>{ format!(" {}", m.subject) }</strong>
                        <span class="muted small">{ format!(" to {} · queued {}{}{}", m.recipient, when(m.created_at),
                            m.sent_at.map(|t| format!(" · sent {}", when(t))).unwrap_or_default(),
                            if m.attempts > 1 { format!(" · {} attempts", m.attempts) } else { String::new() }) }</span>
                        if let Some(e) = &m.last_error {
                            if m.status != OutboxStatus::Sent {
                                <p class="small">{ format!("Last error: {e}") }</p>
                            }
                        }
                    </li>
                }) }
            </ul>
        </div>
    }
}
