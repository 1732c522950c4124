//! The account page's mail address: where notifications and one-time codes
//! go. Asking for a new one needs the password again (Forgot Password mails
//! its code there), and it is used once the code mailed to it is typed back;
//! removing it needs the password again.

use std::rc::Rc;

use latchkey_shared::factors::{messages, AddressStatus};
use yew::prelude::*;

use super::state::password_error;
use crate::components::form_error::FormError;
use crate::hooks::use_request_with;
use crate::pages::input_value;
use crate::services::factors;

/// The panel's data; what its requests say (busy, error, notice) is
/// [`use_request_with`]'s.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AddressState {
    pub status: Option<AddressStatus>,
    pub address: String,
    pub code: String,
    /// The password for asking for a new address.
    pub change_password: String,
    /// The password for removing the address.
    pub password: String,
}

pub enum Action {
    Address(String),
    Code(String),
    ChangePassword(String),
    Password(String),
    /// The server's answer.
    Status(AddressStatus),
    /// A request failed: a password is never kept for a second try (as on
    /// the Change Password form).
    ForgetPasswords,
}

impl Reducible for AddressState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Address(v) => next.address = v,
            Action::Code(v) => next.code = v,
            Action::ChangePassword(v) => next.change_password = v,
            Action::Password(v) => next.password = v,
            Action::Status(status) => {
                next.code.clear();
                next.forget_passwords();
                if status.pending.is_none() {
                    next.address.clear();
                }
                next.status = Some(status);
            }
            Action::ForgetPasswords => next.forget_passwords(),
        }
        Rc::new(next)
    }
}

impl AddressState {
    fn forget_passwords(&mut self) {
        self.change_password.clear();
        self.password.clear();
    }
}

#[derive(Clone, Copy)]
enum Step {
    Change,
    Confirm,
    Remove,
}

#[component]
pub fn AddressPanel() -> Html {
    let state = use_reducer(AddressState::default);
    let request = use_request_with(password_error);
    {
        let (request, d) = (request.clone(), state.dispatcher());
        use_effect_with((), move |()| {
            request.load(factors::address(), move |s| d.dispatch(Action::Status(s)));
        });
    }
    let submit = |step: Step| {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (address, code, change_password, password) = (
                state.address.clone(),
                state.code.clone(),
                state.change_password.clone(),
                state.password.clone(),
            );
            let missing = match step {
                Step::Change => change_password.is_empty(),
                Step::Remove => password.is_empty(),
                Step::Confirm => false,
            };
            if missing {
                request.refuse(messages::PASSWORD_NEEDED);
                return;
            }
            let (d, forget) = (state.dispatcher(), state.dispatcher());
            let answer = async move {
                match step {
                    Step::Confirm => factors::confirm_address(&code)
                        .await
                        .map(|s| (s, "Your mail address is changed.")),
                    Step::Change => factors::change_address(&address, &change_password)
                        .await
                        .map(|s| {
                            (
                                s,
                                "We have mailed a code to the new address: type it below.",
                            )
                        }),
                    Step::Remove => factors::remove_address(&password).await.map(|s| {
                        (
                            s,
                            "Your mail address is removed: we will not write to it again.",
                        )
                    }),
                }
            };
            request.run_or(
                answer,
                move |(status, notice)| {
                    d.dispatch(Action::Status(status));
                    Some(notice.into())
                },
                move |_| forget.dispatch(Action::ForgetPasswords),
            );
        })
    };
    let on_address = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Address(input_value(e))))
    };
    let on_code = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Code(input_value(e))))
    };
    let on_password = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Password(input_value(e))))
    };
    let on_change_password = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::ChangePassword(input_value(e))))
    };
    let busy = request.busy;
    html! {
        <div id="mail-address" class="divided">
            <h2>{ "Mail address" }</h2>
            if let Some(notice) = &request.notice {
                <div class="alert alert-success" role="status"><p>{ notice.clone() }</p></div>
            }
            <FormError message={request.error.clone()} />
            { match &state.status {
                None => html! { <p class="muted" aria-busy="true">{ "Loading…" }</p> },
                Some(s) => html! {
                    <>
                        <p id="mail-address-current">
                            { match &s.address {
                                Some(a) => format!("We write to {a} when your account changes, and send one-time codes there."),
                                None => "You have no mail address on file: you are not told when your account changes.".to_owned(),
                            } }
                        </p>
                        if s.from_directory {
                            <p class="muted">{ messages::ADDRESS_FROM_DIRECTORY }</p>
                        } else if !s.mail_available {
                            <p class="muted">{ messages::NO_MAIL }</p>
                        } else if let Some(pending) = &s.pending {
                            <form id="mail-address-confirm" onsubmit={submit(Step::Confirm)} novalidate=true>
                                <div class="field">
                                    <label for="mail-address-code">{ format!("The code we mailed to {pending}") }</label>
                                    <input id="mail-address-code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                        value={state.code.clone()} oninput={on_code} disabled={busy} />
                                </div>
                                <button id="mail-address-confirm-button" type="submit" class="button button-primary" disabled={busy}>
                                    { if busy { "Please wait…" } else { "Confirm the address" } }
                                </button>
                            </form>
                        } else {
                            <form id="mail-address-change" onsubmit={submit(Step::Change)} novalidate=true>
                                <div class="field">
                                    <label for="mail-address-new">{ "New mail address" }</label>
                                    <input id="mail-address-new" type="email" autocomplete="email"
                                        value={state.address.clone()} oninput={on_address} disabled={busy} />
                                </div>
                                <div class="field">
                                    <label for="mail-address-change-password">{ "Your password, to confirm it is you" }</label>
                                    <input id="mail-address-change-password" type="password" autocomplete="current-password"
                                        value={state.change_password.clone()} oninput={on_change_password} disabled={busy} />
                                </div>
                                <button id="mail-address-send" type="submit" class="button button-secondary" disabled={busy}>
                                    { if busy { "Please wait…" } else { "Send a code to this address" } }
                                </button>
                            </form>
                        }
                        if s.address.is_some() && !s.from_directory {
                            <form id="mail-address-remove" onsubmit={submit(Step::Remove)} novalidate=true>
                                <div class="field">
                                    <label for="mail-address-password">{ "To remove your address, enter your password" }</label>
                                    <input id="mail-address-password" type="password" autocomplete="current-password"
                                        value={state.password.clone()} oninput={on_password} disabled={busy} />
                                </div>
                                <button id="mail-address-remove-button" type="submit" class="button button-secondary" disabled={busy}>
                                    { if busy { "Please wait…" } else { "Remove my address" } }
                                </button>
                            </form>
                        }
                    </>
                },
            } }
        </div>
    }
}
