use latchkey_shared::api::{ErrorCode, ErrorDetails};
use latchkey_shared::{PasswordPolicy, PolicyContext};
use yew::prelude::*;

use super::state::{Action, ChangePasswordState};
use crate::components::form_error::FormError;
use crate::components::password_checklist::PasswordChecklist;
use crate::components::password_field::PasswordField;
use crate::components::strength_meter::StrengthMeter;
use crate::dom;
use crate::services::account;
use crate::services::error::ApiClientError;
use crate::services::strength;

#[derive(Properties, PartialEq)]
pub struct ChangePasswordProps {
    pub policy: PasswordPolicy,
    pub context: PolicyContext,
    /// Signed in with a temporary password.
    pub must_change: bool,
    /// The server sent a newer policy (409): keep it for next time.
    pub onpolicychange: Callback<PasswordPolicy>,
    pub onchanged: Callback<()>,
    /// The server no longer knows the session.
    pub onsessionended: Callback<ApiClientError>,
}

/// The Change Password tab: current, new and confirmation, the live
/// requirements checklist and strength meter, and the server's verdict.
#[component]
pub fn ChangePassword(props: &ChangePasswordProps) -> Html {
    let state = {
        let (policy, context) = (props.policy.clone(), props.context.clone());
        use_reducer(move || ChangePasswordState::new(policy, context))
    };
    {
        // A fresher policy from the bootstrap data: re-check what is typed.
        let state = state.clone();
        use_effect_with(props.policy.clone(), move |policy| {
            state.dispatch(Action::Policy(policy.clone()))
        });
    }
    {
        // Each change of the new password (or policy) asks the strength
        // worker for the full report; an answer for an older input is ignored.
        let state = state.clone();
        use_effect_with(state.seq, move |&seq| {
            if state.estimating {
                let dispatcher = state.dispatcher();
                strength::request(
                    &state.policy,
                    &state.context,
                    &state.new,
                    Callback::from(move |report| {
                        dispatcher.dispatch(Action::Estimated(seq, report))
                    }),
                );
            }
        });
    }

    {
        // The outcome of a submission shows at the top of the form, which on a
        // phone is off-screen once the button is pressed: take focus there.
        let outcome = (
            state.success.is_some(),
            state.error.as_ref().map(|e| e.message.clone()),
            state.submitting,
        );
        use_effect_with(outcome, |(success, error, submitting)| {
            if !*submitting {
                if *success {
                    dom::focus_by_id("success");
                } else if error.is_some() {
                    dom::focus_by_id("form-error");
                }
            }
        });
    }

    let onsubmit = {
        let state = state.clone();
        let onpolicychange = props.onpolicychange.clone();
        let onchanged = props.onchanged.clone();
        let onsessionended = props.onsessionended.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !state.can_submit() {
                return;
            }
            let request = state.request();
            state.dispatch(Action::Submitting);
            let (state, onpolicychange, onchanged, onsessionended) = (
                state.clone(),
                onpolicychange.clone(),
                onchanged.clone(),
                onsessionended.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match account::change_password(&request).await {
                    Ok(response) => {
                        state.dispatch(Action::Succeeded(response.message));
                        onchanged.emit(());
                    }
                    Err(error) if error.is_not_authenticated() => onsessionended.emit(error),
                    Err(error) => {
                        if let ApiClientError::Api(api) = &error {
                            if let (
                                ErrorCode::PolicyChanged,
                                Some(ErrorDetails::Policy { policy }),
                            ) = (api.code, &api.details)
                            {
                                onpolicychange.emit(policy.clone());
                            }
                        }
                        state.dispatch(Action::Failed(error));
                    }
                }
            });
        })
    };

    let field = |action: fn(String) -> Action| {
        let state = state.clone();
        Callback::from(move |v: String| state.dispatch(action(v)))
    };
    let on_reveal = {
        let state = state.clone();
        Callback::from(move |_: Event| state.dispatch(Action::ToggleReveal))
    };

    let typed = !state.new.is_empty();
    let estimate = if typed {
        state.report.strength.clone()
    } else {
        None
    };
    let (current_label, current_autocomplete) = if props.must_change {
        ("Temporary password", "off")
    } else {
        ("Current password", "current-password")
    };

    html! {
        <form class="change-password-form" {onsubmit} novalidate=true>
            if let Some(message) = &state.success {
                <div id="success" class="alert alert-success" role="status" tabindex="-1">
                    <p>{ message.clone() }</p>
                </div>
            }
            <FormError
                message={state.error.as_ref().map(|e| e.message.clone())}
                details={state.error.as_ref().map(|e| e.details.clone()).unwrap_or_default()}
            />
            <div class="form-grid">
                <div class="form-fields">
                    <PasswordField
                        id="current-password"
                        class="f-current"
                        label={current_label}
                        value={AttrValue::from(state.current.clone())}
                        oninput={field(Action::Current)}
                        autocomplete={current_autocomplete}
                        revealed={state.revealed}
                        disabled={state.submitting}
                    />
                    <PasswordField
                        id="new-password"
                        class="f-new"
                        label="New password"
                        value={AttrValue::from(state.new.clone())}
                        oninput={field(Action::New)}
                        autocomplete="new-password"
                        revealed={state.revealed}
                        describedby={Some(AttrValue::Static("requirements-heading strength"))}
                        disabled={state.submitting}
                    />
                    <PasswordField
                        id="confirm-password"
                        class="f-confirm"
                        label="Confirm new password"
                        value={AttrValue::from(state.confirm.clone())}
                        oninput={field(Action::Confirm)}
                        autocomplete="new-password"
                        revealed={state.revealed}
                        disabled={state.submitting}
                    />
                    <div class="field field-check f-show">
                        <input id="show-passwords" type="checkbox" checked={state.revealed} onchange={on_reveal} />
                        <label for="show-passwords">{ "Show passwords" }</label>
                    </div>
                    <StrengthMeter {estimate} pending={typed && state.estimating} min_strength={state.policy.min_strength} />
                </div>
                <PasswordChecklist
                    rules={state.report.rules.clone()}
                    confirmation_matches={state.confirmation_matches()}
                    pristine={!typed}
                    confirmation_pristine={state.confirm.is_empty()}
                />
            </div>
            <button id="change-password" type="submit" class="button button-primary" disabled={!state.can_submit()}>
                { if state.submitting { "Changing password…" } else { "Change Password" } }
            </button>
        </form>
    }
}
