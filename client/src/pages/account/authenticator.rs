//! The account page's "Authenticator app" tab: add one after the password
//! again (a QR code and the key as text, then a code from the app to
//! confirm), or remove it after the password again.

use std::rc::Rc;

use latchkey_shared::factors::{messages, AuthenticatorSetup, AuthenticatorStatus};
use yew::prelude::*;

use super::state::password_error;
use crate::components::form_error::FormError;
use crate::hooks::use_request_with;
use crate::pages::input_value;
use crate::services::factors;

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Loading,
    /// The server keeps no authenticators (no key).
    Unavailable,
    /// None in use: the "Add" button.
    Inactive,
    /// A new key is shown, waiting for a code from the app.
    SettingUp(AuthenticatorSetup),
    /// One in use since (unix seconds).
    Active(Option<i64>),
}

/// The panel's data; what its requests say (busy, error, notice) is
/// [`use_request_with`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticatorState {
    pub phase: Phase,
    pub code: String,
    pub password: String,
}

pub enum Action {
    Loaded(AuthenticatorStatus),
    SetUp(AuthenticatorSetup),
    Code(String),
    Password(String),
    /// The server's answer to a confirmation or a removal.
    Done(AuthenticatorStatus),
    /// A request failed: a password is never kept for a second try (as on
    /// the Change Password form).
    ForgetPassword,
    Cancel,
}

impl Default for AuthenticatorState {
    fn default() -> Self {
        Self {
            phase: Phase::Loading,
            code: String::new(),
            password: String::new(),
        }
    }
}

fn phase_of(status: &AuthenticatorStatus) -> Phase {
    if status.active {
        Phase::Active(status.since)
    } else if status.available {
        Phase::Inactive
    } else {
        Phase::Unavailable
    }
}

impl Reducible for AuthenticatorState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Loaded(status) => next.phase = phase_of(&status),
            Action::SetUp(setup) => {
                next.code.clear();
                next.password.clear();
                next.phase = Phase::SettingUp(setup);
            }
            Action::Code(code) => next.code = code,
            Action::Password(password) => next.password = password,
            Action::Done(status) => {
                next.code.clear();
                next.password.clear();
                next.phase = phase_of(&status);
            }
            Action::ForgetPassword => next.password.clear(),
            Action::Cancel => {
                next.phase = Phase::Inactive;
                next.code.clear();
            }
        }
        Rc::new(next)
    }
}

#[derive(Clone, Copy)]
enum Step {
    Add,
    Confirm,
    Remove,
}

/// The `otpauth://` URI as an SVG QR code.
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[component]
pub fn AuthenticatorPanel() -> Html {
    let state = use_reducer(AuthenticatorState::default);
    let request = use_request_with(password_error);
    {
        let (request, d) = (request.clone(), state.dispatcher());
        use_effect_with((), move |()| {
            request.load(factors::status(), move |s| d.dispatch(Action::Loaded(s)));
        });
    }
    let submit = |step: Step| {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (code, password) = (state.code.clone(), state.password.clone());
            // Adding and removing ask for the password; confirming does not.
            if password.is_empty() && !matches!(step, Step::Confirm) {
                request.refuse(messages::PASSWORD_NEEDED);
                return;
            }
            let (d, forget) = (state.dispatcher(), state.dispatcher());
            let forget = move |_: &_| forget.dispatch(Action::ForgetPassword);
            match step {
                Step::Add => request.run_or(
                    async move { factors::setup(&password).await },
                    move |setup| {
                        d.dispatch(Action::SetUp(setup));
                        None
                    },
                    forget,
                ),
                Step::Confirm => request.run_or(
                    async move { factors::confirm(&code).await },
                    move |status| {
                        d.dispatch(Action::Done(status));
                        Some("Your authenticator app is set up. Unlock Account and Forgot Password may ask for its code.".into())
                    },
                    forget,
                ),
                Step::Remove => request.run_or(
                    async move { factors::remove(&password).await },
                    move |status| {
                        d.dispatch(Action::Done(status));
                        Some("Your authenticator app was removed.".into())
                    },
                    forget,
                ),
            }
        })
    };
    let on_add = submit(Step::Add);
    let on_confirm = submit(Step::Confirm);
    let on_remove = submit(Step::Remove);
    let on_code = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Code(input_value(e))))
    };
    let on_password = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Password(input_value(e))))
    };
    let on_cancel = {
        let (d, request) = (state.dispatcher(), request.clone());
        Callback::from(move |_: MouseEvent| {
            d.dispatch(Action::Cancel);
            request.clear();
        })
    };
    let busy = request.busy;
    html! {
        <div id="authenticator">
            <h2>{ "Authenticator app" }</h2>
            if let Some(notice) = &request.notice {
                <div class="alert alert-success" role="status"><p>{ notice.clone() }</p></div>
            }
            <FormError message={request.error.clone()} />
            { match &state.phase {
                Phase::Loading => html! { <p class="muted" aria-busy="true">{ "Loading…" }</p> },
                Phase::Unavailable => html! {
                    <p class="muted">{ messages::NO_KEY }</p>
                },
                Phase::Inactive => html! {
                    <form id="authenticator-add" onsubmit={on_add}>
                        <p>{ "An authenticator app on your phone (such as FreeOTP, Google Authenticator or Microsoft Authenticator) shows a new 6-digit code every 30 seconds. Unlock Account and Forgot Password may ask for it, which is much safer than security questions alone." }</p>
                        <div class="field">
                            <label for="authenticator-setup-password">{ "To add one, enter your password" }</label>
                            <input id="authenticator-setup-password" type="password" autocomplete="current-password"
                                value={state.password.clone()} oninput={on_password.clone()} disabled={busy} />
                        </div>
                        <button id="authenticator-start" type="submit" class="button button-primary" disabled={busy}>
                            { if busy { "Please wait…" } else { "Add an authenticator app" } }
                        </button>
                    </form>
                },
                Phase::SettingUp(setup) => html! {
                    <form id="authenticator-confirm" onsubmit={on_confirm} novalidate=true>
                        <p>{ "In your authenticator app, add an account and scan this code:" }</p>
                        <div class="qr" role="img" aria-label="QR code of your new authenticator key">
                            { qr_svg(&setup.otpauth_uri).map(|svg| Html::from_html_unchecked(AttrValue::from(svg))).unwrap_or_default() }
                        </div>
                        <p>{ "Or type this key into the app:" }</p>
                        <p><code id="authenticator-secret" class="secret-key">{ setup.secret.clone() }</code></p>
                        <div class="field">
                            <label for="authenticator-code">{ "Then type the 6-digit code the app shows" }</label>
                            <input id="authenticator-code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                value={state.code.clone()} oninput={on_code} disabled={busy} />
                        </div>
                        <div class="account-actions">
                            <button id="authenticator-confirm-button" type="submit" class="button button-primary" disabled={busy}>
                                { if busy { "Please wait…" } else { "Confirm" } }
                            </button>
                            <button type="button" class="button button-secondary" onclick={on_cancel} disabled={busy}>{ "Cancel" }</button>
                        </div>
                    </form>
                },
                Phase::Active(since) => html! {
                    <form id="authenticator-remove" onsubmit={on_remove} novalidate=true>
                        <p id="authenticator-active">
                            { "An authenticator app is set up" }
                            { since.map(|s| format!(" (since {})", latchkey_shared::dates::iso_date(s))).unwrap_or_default() }
                            { "." }
                        </p>
                        <div class="field">
                            <label for="authenticator-password">{ "To remove it, enter your password" }</label>
                            <input id="authenticator-password" type="password" autocomplete="current-password"
                                value={state.password.clone()} oninput={on_password} disabled={busy} />
                        </div>
                        <button id="authenticator-remove-button" type="submit" class="button button-secondary" disabled={busy}>
                            { if busy { "Please wait…" } else { "Remove the authenticator app" } }
                        </button>
                    </form>
                },
            } }
        </div>
    }
}
