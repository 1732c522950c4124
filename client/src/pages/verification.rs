//! The verification Unlock Account and Forgot Password share (the seeds'
//! steps 3 to 5): user name + CAPTCHA, the timed security questions, a
//! second CAPTCHA, then the final button; and for Forgot Password the new
//! password on the Change Password checklist and meter.

use crate::router::Link;
use latchkey_shared::api::ErrorCode;
use latchkey_shared::self_service::{
    AnswersRequest, CaptchaChallenge, FinishRequest, FinishResponse, FlowKind, IdentifyRequest,
    NewPasswordRequest, StartFlowRequest,
};
use latchkey_shared::{PasswordPolicy, PolicyContext, PRODUCT_NAME};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::Route;
use crate::components::form_error::FormError;
use crate::components::help_desk::HelpDeskContact;
use crate::components::password_checklist::PasswordChecklist;
use crate::components::password_field::PasswordField;
use crate::components::strength_meter::StrengthMeter;
use crate::hooks::{use_bootstrap, use_password_check};
use crate::services::api::ApiClientError;
use crate::services::self_service as ss;
use crate::services::storage::now_ms;

#[derive(Clone, PartialEq)]
enum Step {
    Starting,
    Identify,
    Questions(Vec<String>),
    Confirm,
    Password {
        policy: PasswordPolicy,
        context: PolicyContext,
    },
    /// Finished: the success message.
    Done(String),
    /// Ended without success: the message, and whether starting again helps.
    Ended(String),
}

/// "04:18"
pub fn mm_ss(secs: i64) -> String {
    let s = secs.max(0);
    format!("{:02}:{:02}", s / 60, s % 60)
}

#[derive(Properties, PartialEq)]
pub struct FlowProps {
    pub domain: AttrValue,
    pub kind: FlowKind,
}

#[component]
pub fn SelfServiceFlow(props: &FlowProps) -> Html {
    let bootstrap = use_bootstrap();
    let attempt = use_state(|| 0u32);
    let step = use_state(|| Step::Starting);
    let flow_id = use_state(String::new);
    let captcha = use_state(|| None::<CaptchaChallenge>);
    let captcha_text = use_state(String::new);
    let username = use_state(String::new);
    let answers = use_state(Vec::<String>::new);
    let deadline_ms = use_state(|| None::<f64>);
    let now = use_state(now_ms);
    let busy = use_state(|| false);
    let error = use_state(|| None::<AttrValue>);

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
        let (step, flow_id, captcha, error, deadline_ms, answers, captcha_text) = (
            step.clone(),
            flow_id.clone(),
            captcha.clone(),
            error.clone(),
            deadline_ms.clone(),
            answers.clone(),
            captcha_text.clone(),
        );
        let request = StartFlowRequest {
            kind: props.kind,
            domain: props.domain.to_string(),
        };
        use_effect_with((available, *attempt), move |(available, _)| {
            if *available == Some(true) {
                step.set(Step::Starting);
                deadline_ms.set(None);
                answers.set(Vec::new());
                captcha_text.set(String::new());
                wasm_bindgen_futures::spawn_local(async move {
                    match ss::start(&request).await {
                        Ok(started) => {
                            flow_id.set(started.flow_id);
                            captcha.set(Some(started.captcha));
                            error.set(None);
                            step.set(Step::Identify);
                        }
                        Err(e) => step.set(Step::Ended(e.message())),
                    }
                });
            }
        });
    }

    // The countdown ticks while a deadline runs.
    {
        let now = now.clone();
        use_effect_with(deadline_ms.is_some(), move |running| {
            let interval = running
                .then(|| gloo_timers::callback::Interval::new(1000, move || now.set(now_ms())));
            move || drop(interval)
        });
    }
    // `now` only triggers the re-render each second; read the clock itself.
    let _tick = *now;
    let secs_left = deadline_ms.map(|d| ((d - now_ms()) / 1000.0).floor() as i64);
    let timed_out = secs_left.is_some_and(|s| s <= 0)
        && matches!(
            *step,
            Step::Questions(_) | Step::Confirm | Step::Password { .. }
        );

    let refresh_captcha = {
        let (flow_id, captcha, captcha_text) =
            (flow_id.clone(), captcha.clone(), captcha_text.clone());
        Callback::from(move |_: ()| {
            let (flow_id, captcha, captcha_text) =
                (flow_id.clone(), captcha.clone(), captcha_text.clone());
            captcha_text.set(String::new());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(c) = ss::new_captcha(&flow_id).await {
                    captcha.set(Some(c));
                }
            });
        })
    };

    // What an error means for the flow.
    let on_error = {
        let (step, error, refresh_captcha, deadline_ms) = (
            step.clone(),
            error.clone(),
            refresh_captcha.clone(),
            deadline_ms.clone(),
        );
        Callback::from(move |e: ApiClientError| {
            match e.code() {
                Some(ErrorCode::CaptchaIncorrect | ErrorCode::CaptchaExpired) => {
                    error.set(Some(e.message().into()));
                    refresh_captcha.emit(());
                }
                Some(
                    ErrorCode::FlowExpired
                    | ErrorCode::VerificationFailed
                    | ErrorCode::SelfServiceBlocked,
                ) => {
                    error.set(None);
                    deadline_ms.set(None);
                    step.set(Step::Ended(e.message()));
                }
                _ => error.set(Some(e.message().into())),
            }
            crate::dom::focus_by_id("form-error");
        })
    };

    let run = {
        let busy = busy.clone();
        move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>| {
            busy.set(true);
            let busy = busy.clone();
            wasm_bindgen_futures::spawn_local(async move {
                fut.await;
                busy.set(false);
            });
        }
    };

    let on_identify = {
        let (flow_id, username, captcha_text, step, answers, deadline_ms, error, on_error) = (
            flow_id.clone(),
            username.clone(),
            captcha_text.clone(),
            step.clone(),
            answers.clone(),
            deadline_ms.clone(),
            error.clone(),
            on_error.clone(),
        );
        let run = run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if username.trim().is_empty() || captcha_text.trim().is_empty() {
                error.set(Some(
                    "Enter your user name and the characters of the picture.".into(),
                ));
                return;
            }
            let request = IdentifyRequest {
                username: username.trim().to_owned(),
                captcha: (*captcha_text).clone(),
            };
            let (flow_id, step, answers, deadline_ms, error, on_error, captcha_text) = (
                (*flow_id).clone(),
                step.clone(),
                answers.clone(),
                deadline_ms.clone(),
                error.clone(),
                on_error.clone(),
                captcha_text.clone(),
            );
            run(Box::pin(async move {
                match ss::identify(&flow_id, &request).await {
                    Ok(q) => {
                        error.set(None);
                        captcha_text.set(String::new());
                        deadline_ms.set(Some(now_ms() + q.seconds_left as f64 * 1000.0));
                        answers.set(vec![String::new(); q.questions.len()]);
                        step.set(Step::Questions(q.questions));
                    }
                    Err(e) => on_error.emit(e),
                }
            }));
        })
    };

    let on_answers = {
        let (flow_id, answers, step, captcha, error, on_error) = (
            flow_id.clone(),
            answers.clone(),
            step.clone(),
            captcha.clone(),
            error.clone(),
            on_error.clone(),
        );
        let run = run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if answers.iter().any(|a| a.trim().is_empty()) {
                error.set(Some("Answer every question.".into()));
                return;
            }
            let request = AnswersRequest {
                answers: (*answers).clone(),
            };
            let (flow_id, step, captcha, error, on_error, answers) = (
                (*flow_id).clone(),
                step.clone(),
                captcha.clone(),
                error.clone(),
                on_error.clone(),
                answers.clone(),
            );
            run(Box::pin(async move {
                match ss::answers(&flow_id, &request).await {
                    Ok(c) => {
                        error.set(None);
                        answers.set(Vec::new());
                        captcha.set(Some(c));
                        step.set(Step::Confirm);
                    }
                    Err(e) => on_error.emit(e),
                }
            }));
        })
    };

    let on_finish = {
        let (flow_id, captcha_text, step, deadline_ms, error, on_error) = (
            flow_id.clone(),
            captcha_text.clone(),
            step.clone(),
            deadline_ms.clone(),
            error.clone(),
            on_error.clone(),
        );
        let run = run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if captcha_text.trim().is_empty() {
                error.set(Some("Type the characters of the picture.".into()));
                return;
            }
            let request = FinishRequest {
                captcha: (*captcha_text).clone(),
            };
            let (flow_id, step, deadline_ms, error, on_error, captcha_text) = (
                (*flow_id).clone(),
                step.clone(),
                deadline_ms.clone(),
                error.clone(),
                on_error.clone(),
                captcha_text.clone(),
            );
            run(Box::pin(async move {
                match ss::finish(&flow_id, &request).await {
                    Ok(FinishResponse::Unlocked { message }) => {
                        error.set(None);
                        deadline_ms.set(None);
                        step.set(Step::Done(message));
                    }
                    Ok(FinishResponse::ChoosePassword {
                        username,
                        display_name,
                        domain_name,
                        policy,
                        seconds_left,
                    }) => {
                        error.set(None);
                        captcha_text.set(String::new());
                        deadline_ms.set(Some(now_ms() + seconds_left as f64 * 1000.0));
                        step.set(Step::Password {
                            policy,
                            context: PolicyContext {
                                username,
                                display_name,
                                domain_name,
                                product_name: PRODUCT_NAME.to_owned(),
                            },
                        });
                    }
                    Err(e) => on_error.emit(e),
                }
            }));
        })
    };

    let start_again = {
        let attempt = attempt.clone();
        let error = error.clone();
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            attempt.set(*attempt + 1);
        })
    };

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
        let on_input = {
            let captcha_text = captcha_text.clone();
            Callback::from(move |e: InputEvent| {
                captcha_text.set(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let on_new = {
            let refresh = refresh_captcha.clone();
            Callback::from(move |_: MouseEvent| refresh.emit(()))
        };
        html! {
            <div class="captcha">
                <p id="captcha-instructions">{ input_label.to_owned() }</p>
                <div class="captcha-row">
                    if let Some(c) = &*captcha {
                        <img
                            id="captcha-image"
                            src={format!("data:image/png;base64,{}", c.image_png_base64)}
                            alt={c.alt_text.clone()}
                            width={c.width.to_string()}
                            height={c.height.to_string()}
                        />
                    }
                    <button id="captcha-new" type="button" class="button button-secondary" onclick={on_new} disabled={*busy}>
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
                        value={(*captcha_text).clone()}
                        oninput={on_input}
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck="false"
                        aria-describedby="captcha-instructions captcha-help"
                        disabled={*busy}
                    />
                </div>
            </div>
        }
    };

    let countdown = secs_left.filter(|_| {
        matches!(
            *step,
            Step::Questions(_) | Step::Confirm | Step::Password { .. }
        )
    });
    let countdown_html = countdown.map(|s| {
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
        match &*step {
            Step::Starting => html! { <p class="muted" aria-busy="true">{ "Preparing…" }</p> },
            Step::Identify => {
                let on_username = {
                    let username = username.clone();
                    Callback::from(move |e: InputEvent| {
                        username.set(e.target_unchecked_into::<HtmlInputElement>().value())
                    })
                };
                html! {
                    <form id="ss-identify" onsubmit={on_identify.clone()} novalidate=true>
                        <FormError message={(*error).clone()} />
                        <p>{ "Please provide your user name." }</p>
                        <div class="field">
                            <label for="ss-username">{ "Domain User Name (Example : Jsmith)" }</label>
                            <input id="ss-username" type="text" value={(*username).clone()} oninput={on_username}
                                autocomplete="username" autocapitalize="off" spellcheck="false" disabled={*busy} />
                        </div>
                        { captcha_block("Type the characters you see in the picture below.") }
                        <button id="ss-continue" type="submit" class="button button-primary" disabled={*busy}>
                            { if *busy { "Please wait…" } else { "Continue" } }
                        </button>
                    </form>
                }
            }
            Step::Questions(questions) => html! {
                <form id="ss-questions" onsubmit={on_answers.clone()} novalidate=true>
                    <FormError message={(*error).clone()} />
                    <h2>{ "Security Questions" }</h2>
                    <p>{ "Please answer the following question(s) as per your enrollment profile." }</p>
                    <ol id="questions" class="questions">
                        { for questions.iter().enumerate().map(|(i, q)| {
                            let oninput = {
                                let answers = answers.clone();
                                Callback::from(move |e: InputEvent| {
                                    let mut next = (*answers).clone();
                                    if let Some(a) = next.get_mut(i) {
                                        *a = e.target_unchecked_into::<HtmlInputElement>().value();
                                    }
                                    answers.set(next);
                                })
                            };
                            html! {
                                <li class="question">
                                    <label for={format!("answer-{i}")}><span class="muted">{ "Que: " }</span>{ q.clone() }</label>
                                    <input id={format!("answer-{i}")} class="answer" type="text"
                                        value={answers.get(i).cloned().unwrap_or_default()} {oninput}
                                        autocomplete="off" autocapitalize="off" spellcheck="false" disabled={*busy} />
                                </li>
                            }
                        }) }
                    </ol>
                    <button id="answers-continue" type="submit" class="button button-primary" disabled={*busy}>
                        { if *busy { "Please wait…" } else { "Continue" } }
                    </button>
                </form>
            },
            Step::Confirm => html! {
                <form id="ss-confirm" onsubmit={on_finish.clone()} novalidate=true>
                    <FormError message={(*error).clone()} />
                    { captcha_block(&format!("Type the characters shown in the picture, then click {final_label}.")) }
                    <button id={final_id} type="submit" class="button button-primary" disabled={*busy}>
                        { if *busy { "Please wait…" } else { final_label } }
                    </button>
                </form>
            },
            Step::Password { policy, context } => {
                let ondone = {
                    let (step, deadline_ms) = (step.clone(), deadline_ms.clone());
                    Callback::from(move |m: String| {
                        deadline_ms.set(None);
                        step.set(Step::Done(m));
                    })
                };
                html! {
                    <NewPasswordStep
                        flow_id={AttrValue::from((*flow_id).clone())}
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
    let new = use_state(String::new);
    let confirm = use_state(String::new);
    let revealed = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<(AttrValue, Vec<AttrValue>)>);
    let policy = use_state(|| props.policy.clone());
    let check = use_password_check((*policy).clone(), props.context.clone(), (*new).clone());
    let typed = !new.is_empty();
    let matches = typed && *new == *confirm;
    let can_submit = !*busy && check.report.passed() && !check.estimating && matches;

    let onsubmit = {
        let (new, confirm, busy, error, policy) = (
            new.clone(),
            confirm.clone(),
            busy.clone(),
            error.clone(),
            policy.clone(),
        );
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
            let request = NewPasswordRequest {
                new_password: (*new).clone(),
                confirm_password: (*confirm).clone(),
                policy_version: policy.version,
            };
            busy.set(true);
            let (busy, error, policy, ondone, onended, flow_id) = (
                busy.clone(),
                error.clone(),
                policy.clone(),
                ondone.clone(),
                onended.clone(),
                flow_id.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let result = ss::new_password(&flow_id, &request).await;
                busy.set(false);
                match result {
                    Ok(done) => ondone.emit(done.message),
                    Err(e) => {
                        if let ApiClientError::Api(api) = &e {
                            match (&api.code, &api.details) {
                                (ErrorCode::FlowExpired | ErrorCode::VerificationFailed, _) => {
                                    onended.emit(e);
                                    return;
                                }
                                (
                                    ErrorCode::PolicyChanged,
                                    Some(latchkey_shared::api::ErrorDetails::Policy { policy: p }),
                                ) => policy.set(p.clone()),
                                _ => {}
                            }
                            let details = match &api.details {
                                Some(latchkey_shared::api::ErrorDetails::PasswordReport {
                                    report,
                                }) => report
                                    .rules
                                    .iter()
                                    .filter(|r| !r.passed)
                                    .map(|r| AttrValue::from(r.message.clone()))
                                    .collect(),
                                _ => Vec::new(),
                            };
                            error.set(Some((api.message.clone().into(), details)));
                        } else {
                            error.set(Some((e.message().into(), Vec::new())));
                        }
                        crate::dom::focus_by_id("form-error");
                    }
                }
            });
        })
    };
    let set = |s: &UseStateHandle<String>| {
        let (s, error) = (s.clone(), error.clone());
        Callback::from(move |v: String| {
            s.set(v);
            error.set(None);
        })
    };
    let on_reveal = {
        let revealed = revealed.clone();
        Callback::from(move |_: Event| revealed.set(!*revealed))
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
                message={error.as_ref().map(|e| e.0.clone())}
                details={error.as_ref().map(|e| e.1.clone()).unwrap_or_default()}
            />
            <div class="form-grid">
                <div class="form-fields">
                    <PasswordField id="new-password" label="New password" value={AttrValue::from((*new).clone())}
                        oninput={set(&new)} autocomplete="new-password" revealed={*revealed}
                        describedby={Some(AttrValue::Static("requirements-heading strength"))} disabled={*busy} />
                    <PasswordField id="confirm-password" label="Confirm new password" value={AttrValue::from((*confirm).clone())}
                        oninput={set(&confirm)} autocomplete="new-password" revealed={*revealed} disabled={*busy} />
                    <div class="field field-check">
                        <input id="show-passwords" type="checkbox" checked={*revealed} onchange={on_reveal} />
                        <label for="show-passwords">{ "Show passwords" }</label>
                    </div>
                    <StrengthMeter {estimate} pending={typed && check.estimating} min_strength={policy.min_strength} />
                </div>
                <PasswordChecklist
                    rules={check.report.rules.clone()}
                    confirmation_matches={matches}
                    pristine={!typed}
                    confirmation_pristine={confirm.is_empty()}
                />
            </div>
            <button id="set-password" type="submit" class="button button-primary" disabled={!can_submit}>
                { if *busy { "Saving…" } else { "Reset Password" } }
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
