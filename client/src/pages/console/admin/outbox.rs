//! The notification mails (waiting, sent, failed) and a test mail that goes
//! the same way.

use latchkey_shared::admin::{paths, OutboxEntry, OutboxStatus, TestMailRequest};
use yew::prelude::*;

use super::super::{text_field, when};
use super::{run, send, status_view, use_load, Status, Tab, TabState};
use crate::services::requests::{get, post};

#[derive(Clone, PartialEq, Default)]
pub struct OutboxState {
    mails: Vec<OutboxEntry>,
    /// Where the test mail goes, as typed.
    to: String,
}

pub enum Action {
    Loaded(Vec<OutboxEntry>),
    To(String),
    Queued(OutboxEntry),
}

impl TabState for OutboxState {
    type Action = Action;

    fn apply(&mut self, action: Action) -> Option<Status> {
        match action {
            Action::Loaded(mails) => self.mails = mails,
            Action::To(v) => self.to = v,
            Action::Queued(m) => {
                return Some(Status::ok(format!(
                    "A test mail to {} is waiting to be sent; it shows as sent below within a few seconds.",
                    m.recipient
                )))
            }
        }
        None
    }
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
    let state = use_reducer(|| Tab::new(OutboxState::default()));
    let dispatcher = state.dispatcher();
    let load = {
        let dispatcher = dispatcher.clone();
        Callback::from(move |()| run(&dispatcher, get(paths::ADMIN_OUTBOX), Action::Loaded, None))
    };
    let load = use_load(load);
    let onsend = {
        let (state, dispatcher, load) = (state.clone(), dispatcher.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = TestMailRequest {
                to: state.to.trim().to_owned(),
            };
            let request = async move { post(paths::ADMIN_TEST_MAIL, &body).await };
            run(&dispatcher, request, Action::Queued, Some(load.clone()));
        })
    };
    let onreload = {
        let load = load.clone();
        Callback::from(move |_: MouseEvent| load.emit(()))
    };
    html! {
        <div class="console-mail">
            <h1 class="visually-hidden">{ "Mail" }</h1>
            { status_view(&state) }
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
