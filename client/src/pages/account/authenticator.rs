//! The account page's "Authenticator app" tab: add one after the password
//! again (a QR code and the key as text, then a code from the app to
//! confirm), or remove it after the password again.

use std::rc::Rc;

use latchkey_shared::api::ErrorCode;
use latchkey_shared::factors::{messages, AuthenticatorSetup, AuthenticatorStatus};
use yew::prelude::*;

use crate::pages::input_value;

use crate::components::form_error::FormError;
use crate::services::api::ApiClientError;
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

#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticatorState {
    pub phase: Phase,
    pub code: String,
    pub password: String,
    pub busy: bool,
    pub error: Option<AttrValue>,
    pub notice: Option<AttrValue>,
}

pub enum Action {
    Loaded(AuthenticatorStatus),
    Busy,
    SetUp(AuthenticatorSetup),
    Code(String),
    Password(String),
    /// The server's answer to a confirmation or a removal.
    Done(AuthenticatorStatus, &'static str),
    /// Refused before asking the server (a field left empty).
    Invalid(&'static str),
    Failed(ApiClientError),
    Cancel,
}

impl Default for AuthenticatorState {
    fn default() -> Self {
        Self {
            phase: Phase::Loading,
            code: String::new(),
            password: String::new(),
            busy: false,
            error: None,
            notice: None,
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
            Action::Loaded(status) => {
                next.phase = phase_of(&status);
                next.busy = false;
            }
            Action::Busy => {
                next.busy = true;
                next.error = None;
                next.notice = None;
            }
            Action::SetUp(setup) => {
                next.busy = false;
                next.code.clear();
                next.password.clear();
                next.phase = Phase::SettingUp(setup);
            }
            Action::Code(code) => next.code = code,
            Action::Password(password) => next.password = password,
            Action::Done(status, notice) => {
                next.busy = false;
                next.code.clear();
                next.password.clear();
                next.phase = phase_of(&status);
                next.notice = Some(notice.into());
            }
            Action::Invalid(message) => {
                next.error = Some(message.into());
                next.notice = None;
            }
            Action::Failed(e) => {
                next.busy = false;
                // A password is never kept for a second try (as on the
                // Change Password form).
                next.password.clear();
                next.error = Some(if e.code() == Some(ErrorCode::InvalidCredentials) {
                    super::state::WRONG_CURRENT_PASSWORD.into()
                } else {
                    e.message().into()
                });
            }
            Action::Cancel => {
                next.phase = Phase::Inactive;
                next.code.clear();
                next.error = None;
            }
        }
        Rc::new(next)
    }
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
    {
        let state = state.dispatcher();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match factors::status().await {
                    Ok(s) => state.dispatch(Action::Loaded(s)),
                    Err(e) => state.dispatch(Action::Failed(e)),
                }
            });
        });
    }
    let run = |make: fn(
        AuthenticatorState,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Action>>>| {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let dispatcher = state.dispatcher();
            let snapshot = (*state).clone();
            // Adding and removing ask for the password; confirming does not.
            if snapshot.password.is_empty() && !matches!(snapshot.phase, Phase::SettingUp(_)) {
                dispatcher.dispatch(Action::Invalid(messages::PASSWORD_NEEDED));
                return;
            }
            dispatcher.dispatch(Action::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                dispatcher.dispatch(make(snapshot).await);
            });
        })
    };
    let on_add = run(|s| {
        Box::pin(async move {
            match factors::setup(&s.password).await {
                Ok(setup) => Action::SetUp(setup),
                Err(e) => Action::Failed(e),
            }
        })
    });
    let on_confirm = run(|s| {
        Box::pin(async move {
            match factors::confirm(&s.code).await {
                Ok(status) => Action::Done(
                    status,
                    "Your authenticator app is set up. Unlock Account and Forgot Password may ask for its code.",
                ),
                Err(e) => Action::Failed(e),
            }
        })
    });
    let on_remove = run(|s| {
        Box::pin(async move {
            match factors::remove(&s.password).await {
                Ok(status) => Action::Done(status, "Your authenticator app was removed."),
                Err(e) => Action::Failed(e),
            }
        })
    });
    let on_code = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Code(input_value(e))))
    };
    let on_password = {
        let d = state.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(Action::Password(input_value(e))))
    };
    let on_cancel = {
        let d = state.dispatcher();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Cancel))
    };
    let busy = state.busy;
    html! {
        <div id="authenticator">
            <h2>{ "Authenticator app" }</h2>
            if let Some(notice) = &state.notice {
                <div class="alert alert-success" role="status"><p>{ notice.clone() }</p></div>
            }
            <FormError message={state.error.clone()} />
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
