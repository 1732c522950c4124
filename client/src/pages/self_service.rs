//! The self-service flow Unlock Account and Forgot Password share (the seeds'
//! steps 3 to 5): user name + CAPTCHA, the timed security questions, a
//! second CAPTCHA, then the final button; and for Forgot Password the new
//! password on the Change Password checklist and meter. The state and its
//! rules are in [`state`].

mod state;

use std::future::Future;

use latchkey_shared::self_service::{FlowKind, StartFlowRequest};
use latchkey_shared::{PasswordPolicy, PolicyContext};
use yew::prelude::*;

use crate::pages::input_value;

use crate::components::form_error::FormError;
use crate::components::help_desk::HelpDeskContact;
use crate::components::password_checklist::PasswordChecklist;
use crate::components::password_field::PasswordField;
use crate::components::strength_meter::StrengthMeter;
use crate::hooks::{use_bootstrap, use_password_check};
use crate::pages::send;
use crate::router::{Link, Route};
use crate::services::error::ApiClientError;
use crate::services::self_service as ss;
use crate::services::storage::now_ms;
use state::{
    ends_flow, needs_new_captcha, Action, FlowState, NewPasswordState, PasswordAction, Step,
};

/// "04:18"
pub fn mm_ss(secs: i64) -> String {
    let s = secs.max(0);
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// One step's submission: what the form lacks is said at once; else the
/// request goes with the form disabled, and its answer becomes an action.
fn submit_step<F>(
    dispatcher: &UseReducerDispatcher<FlowState>,
    on_error: &Callback<ApiClientError>,
    request: Result<F, &'static str>,
) where
    F: Future<Output = Result<Action, ApiClientError>> + 'static,
{
    match request {
        Err(lacking) => dispatcher.dispatch(Action::Incomplete(lacking)),
        Ok(request) => {
            dispatcher.dispatch(Action::Busy);
            let (dispatcher, on_error) = (dispatcher.clone(), on_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match request.await {
                    Ok(action) => dispatcher.dispatch(action),
                    Err(e) => on_error.emit(e),
                }
            });
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct FlowProps {
    pub domain: AttrValue,
    pub kind: FlowKind,
}

#[component]
pub fn SelfServiceFlow(props: &FlowProps) -> Html {
    let bootstrap = use_bootstrap();
    let state = use_reducer(|| FlowState::new(now_ms()));
    let dispatcher = state.dispatcher();

    let domain = bootstrap
        .data
        .as_ref()
        .and_then(|d| d.domains.iter().find(|x| *x.id == *props.domain).cloned());
    let available = domain.as_ref().map(|d| d.sspm_available);
    let (title, final_label, final_id) = match props.kind {
        FlowKind::Unlock => ("Unlock Your Account", "Unlock Account", "unlock-account"),
        FlowKind::Reset => ("Reset Your Password", "Reset Password", "reset-password"),
    };

    // Start a flow once we know the domain offers self-service (and again on "Start again").
    {
        let dispatcher = dispatcher.clone();
        let request = StartFlowRequest {
            kind: props.kind,
            domain: props.domain.to_string(),
        };
        use_effect_with((available, state.attempt), move |(available, _)| {
            if *available == Some(true) {
                dispatcher.dispatch(Action::Starting);
                wasm_bindgen_futures::spawn_local(async move {
                    dispatcher.dispatch(match ss::start(&request).await {
                        Ok(started) => Action::Started(started),
                        Err(e) => Action::StartFailed(e),
                    });
                });
            }
        });
    }

    // The countdown ticks while a deadline runs.
    {
        let dispatcher = dispatcher.clone();
        use_effect_with(state.deadline_ms.is_some(), move |running| {
            let interval = running.then(|| {
                gloo_timers::callback::Interval::new(1000, move || {
                    dispatcher.dispatch(Action::Tick(now_ms()))
                })
            });
            move || drop(interval)
        });
    }
    // The tick only re-renders; the clock itself is read here, so that a
    // render for any other reason is as current.
    let secs_left = state.secs_left(now_ms());
    let timed_out = state.timed_out(now_ms());

    let refresh_captcha = {
        let (state, dispatcher) = (state.clone(), dispatcher.clone());
        Callback::from(move |()| {
            dispatcher.dispatch(Action::NewCaptcha);
            let (flow_id, dispatcher) = (state.flow_id.clone(), dispatcher.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(c) = ss::new_captcha(&flow_id).await {
                    dispatcher.dispatch(Action::Captcha(c));
                }
            });
        })
    };

    // What an error means for the flow is the reducer's; a used-up CAPTCHA
    // also needs a new picture.
    let on_error = {
        let (dispatcher, refresh_captcha) = (dispatcher.clone(), refresh_captcha.clone());
        Callback::from(move |e: ApiClientError| {
            let new_picture = needs_new_captcha(&e);
            dispatcher.dispatch(Action::Failed(e));
            if new_picture {
                refresh_captcha.emit(());
            }
            crate::dom::focus_by_id("form-error");
        })
    };

    let on_identify = {
        let (state, dispatcher, on_error) = (state.clone(), dispatcher.clone(), on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let flow_id = state.flow_id.clone();
            let request = state.identify_request().map(|r| async move {
                let q = ss::identify(&flow_id, &r).await?;
                Ok(Action::Questions(q, now_ms()))
            });
            submit_step(&dispatcher, &on_error, request);
        })
    };
    let on_answers = {
        let (state, dispatcher, on_error) = (state.clone(), dispatcher.clone(), on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let flow_id = state.flow_id.clone();
            let request = state
                .answers_request()
                .map(|r| async move { Ok(Action::Confirm(ss::answers(&flow_id, &r).await?)) });
            submit_step(&dispatcher, &on_error, request);
        })
    };
    let on_finish = {
        let (state, dispatcher, on_error) = (state.clone(), dispatcher.clone(), on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let flow_id = state.flow_id.clone();
            let request = state.finish_request().map(|r| async move {
                let finished = ss::finish(&flow_id, &r).await?;
                Ok(Action::Finished(finished, now_ms()))
            });
            submit_step(&dispatcher, &on_error, request);
        })
    };
    let start_again = send(&dispatcher, |_: MouseEvent| Action::StartAgain);

    let back = html! {
        <p class="back-link"><Link to={Route::Manage { domain: props.domain.to_string() }}>{ "← Back" }</Link></p>
    };
    let help = bootstrap.data.as_ref().map(|d| {
        html! { <p class="muted small">{ "If you have difficulty, " }<HelpDeskContact help_desk={d.help_desk.clone()} />{ "." }</p> }
    });

    // Domain gating: nothing is sent for a domain without self-service.
    match (&domain, available) {
        (None, _) => {
            return html! {
                <section class="card page-narrow">
                    if bootstrap.data.is_some() {
                        <h1>{ "Unknown domain" }</h1>
                        <p>{ "There is no authentication domain at this address." }</p>
                    } else {
                        <p class="muted" aria-busy="true">{ "Loading…" }</p>
                    }
                    { back }
                </section>
            };
        }
        (Some(d), Some(false)) => {
            let text = d.unavailable_message();
            return html! {
                <section class="card page-narrow" aria-labelledby="ss-heading">
                    <h1 id="ss-heading">{ title }</h1>
                    <p id="sspm-unavailable" class="alert alert-info">{ text }</p>
                    { help }
                    { back }
                </section>
            };
        }
        _ => {}
    }

    let captcha_block = |input_label: &str| {
        let on_input = send(&dispatcher, |e: InputEvent| {
            Action::CaptchaText(input_value(e))
        });
        let on_new = refresh_captcha.reform(|_: MouseEvent| ());
        html! {
            <div class="captcha">
                <p id="captcha-instructions">{ input_label.to_owned() }</p>
                <div class="captcha-row">
                    if let Some(c) = &state.captcha {
                        <img
                            id="captcha-image"
                            src={format!("data:image/png;base64,{}", c.image_png_base64)}
                            alt={c.alt_text.clone()}
                            width={c.width.to_string()}
                            height={c.height.to_string()}
                        />
                    }
                    <button id="captcha-new" type="button" class="button button-secondary" onclick={on_new} disabled={state.busy}>
                        { "New image" }
                    </button>
                </div>
                <p id="captcha-help" class="muted small">
                    { "Cannot read it? Choose “New image”. The picture expires after 2 minutes. If you still cannot read it, call the Help Desk." }
                </p>
                <div class="field">
                    <label for="captcha-input">{ "Characters in the picture" }</label>
                    <input
                        id="captcha-input"
                        type="text"
                        value={state.captcha_text.clone()}
                        oninput={on_input}
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck="false"
                        aria-describedby="captcha-instructions captcha-help"
                        disabled={state.busy}
                    />
                </div>
            </div>
        }
    };

    let countdown_html = secs_left.map(|s| {
        html! {
            <p id="countdown" class={classes!("countdown", (s <= 60).then_some("countdown-low"))} role="timer" aria-live="off">
                { "Time left for this operation : " }<strong>{ mm_ss(s) }</strong>
            </p>
        }
    });

    let body = if timed_out {
        html! {
            <div id="ss-ended" class="alert alert-warning" role="alert">
                <p>{ latchkey_shared::self_service::messages::FLOW_EXPIRED }</p>
                <button id="start-again" type="button" class="button button-primary" onclick={start_again.clone()}>{ "Start again" }</button>
            </div>
        }
    } else {
        match &state.step {
            Step::Starting => html! { <p class="muted" aria-busy="true">{ "Preparing…" }</p> },
            Step::Identify => {
                let on_username = send(&dispatcher, |e: InputEvent| {
                    Action::Username(input_value(e))
                });
                html! {
                    <form id="ss-identify" onsubmit={on_identify.clone()} novalidate=true>
                        <FormError message={state.error.clone()} />
                        <p>{ "Please provide your user name." }</p>
                        <div class="field">
                            <label for="ss-username">{ "Domain User Name (Example : Jsmith)" }</label>
                            <input id="ss-username" type="text" value={state.username.clone()} oninput={on_username}
                                autocomplete="username" autocapitalize="off" spellcheck="false" disabled={state.busy} />
                        </div>
                        { captcha_block("Type the characters you see in the picture below.") }
                        <button id="ss-continue" type="submit" class="button button-primary" disabled={state.busy}>
                            { if state.busy { "Please wait…" } else { "Continue" } }
                        </button>
                    </form>
                }
            }
            Step::Questions(questions) => html! {
                <form id="ss-questions" onsubmit={on_answers.clone()} novalidate=true>
                    <FormError message={state.error.clone()} />
                    if !questions.is_empty() {
                        <h2>{ "Security Questions" }</h2>
                        <p>{ "Please answer the following question(s) as per your enrollment profile." }</p>
                    }
                    <ol id="questions" class="questions">
                        { for questions.iter().enumerate().map(|(i, q)| {
                            let oninput = send(&dispatcher, move |e: InputEvent| Action::Answer(i, input_value(e)));
                            html! {
                                <li class="question">
                                    <label for={format!("answer-{i}")}><span class="muted">{ "Que: " }</span>{ q.clone() }</label>
                                    <input id={format!("answer-{i}")} class="answer" type="text"
                                        value={state.answers.get(i).cloned().unwrap_or_default()} {oninput}
                                        autocomplete="off" autocapitalize="off" spellcheck="false" disabled={state.busy} />
                                </li>
                            }
                        }) }
                    </ol>
                    if state.code_requested {
                        <div class="field">
                            <label for="ss-code">{ "Code" }</label>
                            <p class="hint" id="ss-code-hint">{ latchkey_shared::self_service::messages::CODE_PROMPT }</p>
                            <input id="ss-code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                aria-describedby="ss-code-hint" value={state.code.clone()}
                                oninput={send(&dispatcher, |e: InputEvent| Action::Code(input_value(e)))}
                                autocapitalize="off" spellcheck="false" disabled={state.busy} />
                        </div>
                    }
                    <button id="answers-continue" type="submit" class="button button-primary" disabled={state.busy}>
                        { if state.busy { "Please wait…" } else { "Continue" } }
                    </button>
                </form>
            },
            Step::Confirm => html! {
                <form id="ss-confirm" onsubmit={on_finish.clone()} novalidate=true>
                    <FormError message={state.error.clone()} />
                    { captcha_block(&format!("Type the characters shown in the picture, then click {final_label}.")) }
                    <button id={final_id} type="submit" class="button button-primary" disabled={state.busy}>
                        { if state.busy { "Please wait…" } else { final_label } }
                    </button>
                </form>
            },
            Step::Password { policy, context } => {
                let ondone = send(&dispatcher, Action::PasswordSet);
                html! {
                    <NewPasswordStep
                        flow_id={AttrValue::from(state.flow_id.clone())}
                        policy={policy.clone()}
                        context={context.clone()}
                        {ondone}
                        onended={on_error.clone()}
                    />
                }
            }
            Step::Done(message) => html! {
                <div>
                    <div id="ss-success" class="alert alert-success" role="status" tabindex="-1"><p>{ message.clone() }</p></div>
                    <p><a href="/" class="button button-primary" id="back-home">{ "Back to home" }</a></p>
                </div>
            },
            Step::Ended(message) => html! {
                <div>
                    <div id="ss-ended" class="alert alert-error" role="alert" tabindex="-1"><p>{ message.clone() }</p></div>
                    <p class="actions">
                        <button id="start-again" type="button" class="button button-primary" onclick={start_again.clone()}>{ "Start again" }</button>
                        { " " }
                        <a href="/" class="button button-secondary" id="back-home">{ "Back to home" }</a>
                    </p>
                </div>
            },
        }
    };

    html! {
        <section class="card page-narrow page-self-service" aria-labelledby="ss-heading">
            <p class="eyebrow">{ domain.map(|d| format!("{} Domain Users", d.name)).unwrap_or_default() }</p>
            <h1 id="ss-heading">{ title }</h1>
            { for countdown_html }
            { body }
            { help }
            { back }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct NewPasswordProps {
    flow_id: AttrValue,
    policy: PasswordPolicy,
    context: PolicyContext,
    ondone: Callback<String>,
    onended: Callback<ApiClientError>,
}

/// The new password, on the same checklist and meter as Change Password.
#[component]
fn NewPasswordStep(props: &NewPasswordProps) -> Html {
    let state = use_reducer({
        let policy = props.policy.clone();
        move || NewPasswordState::new(policy)
    });
    let dispatcher = state.dispatcher();
    let check = use_password_check(
        state.policy.clone(),
        props.context.clone(),
        state.new.clone(),
    );
    let typed = !state.new.is_empty();
    let matches = state.confirmation_matches();
    let can_submit = !state.busy && check.report.passed() && !check.estimating && matches;

    let onsubmit = {
        let (state, dispatcher) = (state.clone(), dispatcher.clone());
        let (ondone, onended, flow_id) = (
            props.ondone.clone(),
            props.onended.clone(),
            props.flow_id.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !can_submit {
                return;
            }
            let request = state.request();
            dispatcher.dispatch(PasswordAction::Submitting);
            let (dispatcher, ondone, onended, flow_id) = (
                dispatcher.clone(),
                ondone.clone(),
                onended.clone(),
                flow_id.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match ss::new_password(&flow_id, &request).await {
                    Ok(done) => ondone.emit(done.message),
                    Err(e) if ends_flow(&e) => onended.emit(e),
                    Err(e) => {
                        dispatcher.dispatch(PasswordAction::Refused(e));
                        crate::dom::focus_by_id("form-error");
                    }
                }
            });
        })
    };
    let estimate = if typed {
        check.report.strength.clone()
    } else {
        None
    };

    html! {
        <form id="ss-new-password" class="change-password-form" {onsubmit} novalidate=true>
            <p>{ format!("Choose a new password for {}.", props.context.username) }</p>
            <FormError
                message={state.error.as_ref().map(|e| e.0.clone())}
                details={state.error.as_ref().map(|e| e.1.clone()).unwrap_or_default()}
            />
            <div class="form-grid">
                <div class="form-fields">
                    <PasswordField id="new-password" label="New password" value={AttrValue::from(state.new.clone())}
                        oninput={send(&dispatcher, PasswordAction::New)} autocomplete="new-password" revealed={state.revealed}
                        describedby={Some(AttrValue::Static("requirements-heading strength"))} disabled={state.busy} />
                    <PasswordField id="confirm-password" label="Confirm new password" value={AttrValue::from(state.confirm.clone())}
                        oninput={send(&dispatcher, PasswordAction::Confirm)} autocomplete="new-password" revealed={state.revealed} disabled={state.busy} />
                    <div class="field field-check">
                        <input id="show-passwords" type="checkbox" checked={state.revealed} onchange={send(&dispatcher, |_: Event| PasswordAction::ToggleReveal)} />
                        <label for="show-passwords">{ "Show passwords" }</label>
                    </div>
                    <StrengthMeter {estimate} pending={typed && check.estimating} min_strength={state.policy.min_strength} />
                </div>
                <PasswordChecklist
                    rules={check.report.rules.clone()}
                    confirmation_matches={matches}
                    pristine={!typed}
                    confirmation_pristine={state.confirm.is_empty()}
                />
            </div>
            <button id="set-password" type="submit" class="button button-primary" disabled={!can_submit}>
                { if state.busy { "Saving…" } else { "Reset Password" } }
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::mm_ss;

    #[test]
    fn countdown_format() {
        assert_eq!(mm_ss(258), "04:18");
        assert_eq!(mm_ss(0), "00:00");
        assert_eq!(mm_ss(-5), "00:00");
        assert_eq!(mm_ss(300), "05:00");
    }
}
