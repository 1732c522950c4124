//! `/enrol`: the one-time enrolment with security questions, asked of a
//! signed-in user who has not enrolled; and [`EnrolForm`], also used by the
//! account page's Security questions tab to re-enrol.

use std::rc::Rc;

use latchkey_shared::self_service::{
    check_enrolment, messages, EnrolAnswer, EnrolRequest, EnrolmentStatus, MIN_ANSWER_CHARS,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::form_error::FormError;
use crate::components::password_field::PasswordField;
use crate::hooks::{use_request, use_required_session, RequiredSession};
use crate::router::{use_navigator, Route};
use crate::services::self_service as ss;

/// `<select>` value for "write my own question".
const CUSTOM: &str = "__custom";
/// Local storage key: the user name that chose "Later" (only where allowed).
pub const SKIPPED_KEY: &str = "latchkey.enrolment-skipped";

#[derive(Properties, PartialEq)]
pub struct EnrolFormProps {
    pub status: EnrolmentStatus,
    pub username: AttrValue,
    pub onenrolled: Callback<EnrolmentStatus>,
}

#[derive(Clone, PartialEq, Default)]
struct Row {
    /// A catalogue question, or [`CUSTOM`], or empty (not chosen).
    choice: String,
    custom: String,
    answer: String,
}

impl Row {
    fn question(&self) -> String {
        if self.choice == CUSTOM {
            self.custom.trim().to_owned()
        } else {
            self.choice.clone()
        }
    }
}

/// What the enrolment form holds; what its request says (busy, error,
/// "enrolled") is [`use_request`]'s.
#[derive(Clone, PartialEq)]
struct EnrolState {
    rows: Vec<Row>,
    /// The current password, to change an existing enrolment.
    password: String,
}

enum Action {
    Choice(usize, String),
    Custom(usize, String),
    Answer(usize, String),
    Password(String),
    /// Saved: a blank form for `.0` questions.
    Enrolled(usize),
    /// The request failed: the password is not kept for a second try.
    ForgetPassword,
}

impl EnrolState {
    fn new(count: usize) -> Self {
        EnrolState {
            rows: vec![Row::default(); count],
            password: String::new(),
        }
    }
}

impl Reducible for EnrolState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Choice(i, v) => next.rows[i].choice = v,
            Action::Custom(i, v) => next.rows[i].custom = v,
            Action::Answer(i, v) => next.rows[i].answer = v,
            Action::Password(v) => next.password = v,
            Action::Enrolled(count) => next = EnrolState::new(count),
            Action::ForgetPassword => next.password.clear(),
        }
        Rc::new(next)
    }
}

/// Pick the questions, answer them (the shared rules checked as you type),
/// and, to change an existing enrolment, enter the password.
#[component]
pub fn EnrolForm(props: &EnrolFormProps) -> Html {
    let count = usize::from(props.status.enrol_count);
    let state = use_reducer(|| EnrolState::new(count));
    let request = use_request();
    let rows = &state.rows;
    let busy = request.busy;
    let re_enrol = props.status.enrolled;

    let entries: Vec<EnrolAnswer> = rows
        .iter()
        .map(|r| EnrolAnswer {
            question: r.question(),
            answer: r.answer.clone(),
        })
        .collect();
    let issues = check_enrolment(
        &entries,
        &props.username,
        &props.status.catalogue,
        props.status.allow_custom_questions,
    );
    let complete = rows
        .iter()
        .all(|r| !r.question().is_empty() && !r.answer.is_empty());
    let valid = complete && issues.iter().all(Vec::is_empty);
    let can_submit = valid && !busy && (!re_enrol || !state.password.is_empty());

    // Editing a row: the last outcome no longer applies.
    let update = |i: usize, action: fn(usize, String) -> Action| {
        let (d, request) = (state.dispatcher(), request.clone());
        move |value: String| {
            d.dispatch(action(i, value));
            request.clear();
        }
    };

    let onsubmit = {
        let (state, request) = (state.clone(), request.clone());
        let onenrolled = props.onenrolled.clone();
        let entries = entries.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !can_submit {
                return;
            }
            let body = EnrolRequest {
                current_password: re_enrol.then(|| state.password.clone()),
                answers: entries.clone(),
            };
            let (d, forget, onenrolled) =
                (state.dispatcher(), state.dispatcher(), onenrolled.clone());
            request.run_or(
                async move { ss::enrol(&body).await },
                move |status| {
                    d.dispatch(Action::Enrolled(status.enrol_count.into()));
                    onenrolled.emit(status);
                    crate::dom::focus_by_id("enrol-success");
                    Some(messages::ENROLLED.into())
                },
                move |_| {
                    forget.dispatch(Action::ForgetPassword);
                    crate::dom::focus_by_id("form-error");
                },
            );
        })
    };

    let chosen: Vec<String> = rows.iter().map(|r| r.choice.clone()).collect();
    let row_html = |i: usize| {
        let row = &rows[i];
        let on_choice = {
            let set = update(i, Action::Choice);
            Callback::from(move |e: Event| {
                set(e.target_unchecked_into::<HtmlSelectElement>().value())
            })
        };
        let on_custom = {
            let set = update(i, Action::Custom);
            Callback::from(move |e: InputEvent| {
                set(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let on_answer = {
            let set = update(i, Action::Answer);
            Callback::from(move |e: InputEvent| {
                set(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let row_issues: Vec<String> = if row.answer.is_empty() && row.question().is_empty() {
            Vec::new()
        } else {
            issues[i].iter().map(|x| x.message()).collect()
        };
        let error_id = format!("enrol-answer-{i}-error");
        html! {
            <fieldset class="enrol-row" key={i}>
                <legend>{ format!("Question {}", i + 1) }</legend>
                <div class="field">
                    <label for={format!("enrol-question-{i}")}>{ "Question" }</label>
                    <select id={format!("enrol-question-{i}")} onchange={on_choice} disabled={busy}>
                        <option value="" selected={row.choice.is_empty()}>{ "Choose a question…" }</option>
                        { for props.status.catalogue.iter().map(|q| {
                            let taken = chosen.iter().enumerate().any(|(j, c)| j != i && c == q);
                            html! { <option value={q.clone()} selected={row.choice == *q} disabled={taken}>{ q.clone() }</option> }
                        }) }
                        if props.status.allow_custom_questions {
                            <option value={CUSTOM} selected={row.choice == CUSTOM}>{ "Write my own question…" }</option>
                        }
                    </select>
                </div>
                if row.choice == CUSTOM {
                    <div class="field">
                        <label for={format!("enrol-custom-{i}")}>{ "Your question" }</label>
                        <input id={format!("enrol-custom-{i}")} type="text" value={row.custom.clone()} oninput={on_custom} disabled={busy} />
                    </div>
                }
                <div class="field">
                    <label for={format!("enrol-answer-{i}")}>{ "Answer" }</label>
                    <input
                        id={format!("enrol-answer-{i}")}
                        type="text"
                        value={row.answer.clone()}
                        oninput={on_answer}
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        disabled={busy}
                        aria-invalid={(!row_issues.is_empty()).to_string()}
                        aria-describedby={error_id.clone()}
                    />
                    <div id={error_id} class="field-error" aria-live="polite">
                        { for row_issues.iter().map(|m| html! { <p>{ m.clone() }</p> }) }
                    </div>
                </div>
            </fieldset>
        }
    };

    html! {
        <form id="enrol-form" class="enrol-form" {onsubmit} novalidate=true>
            if let Some(m) = &request.notice {
                <div id="enrol-success" class="alert alert-success" role="status" tabindex="-1"><p>{ m.clone() }</p></div>
            }
            <FormError message={request.error.clone()} />
            <p class="muted">
                { format!("Choose {count} different questions and answer them. Answers are not case-sensitive; \
                           each needs at least {MIN_ANSWER_CHARS} characters, must differ from the others, and may not contain \
                           its question's words or your user name. You will answer some of them to unlock your \
                           account or reset a forgotten password.") }
            </p>
            { for (0..count).map(row_html) }
            if re_enrol {
                <PasswordField
                    id="enrol-password"
                    label="Your current password (to confirm the change)"
                    value={AttrValue::from(state.password.clone())}
                    oninput={crate::pages::send(&state.dispatcher(), Action::Password)}
                    autocomplete="current-password"
                    disabled={busy}
                />
            }
            <button id="enrol-submit" type="submit" class="button button-primary" disabled={!can_submit}>
                { if busy { "Saving…" } else if re_enrol { "Change my security questions" } else { "Save my security questions" } }
            </button>
        </form>
    }
}

/// `/enrol`: the first enrolment, before anything else.
#[component]
pub fn Enrol() -> Html {
    let RequiredSession {
        session,
        load_error,
        ..
    } = use_required_session();
    let navigator = use_navigator();
    let status = use_state(|| None::<EnrolmentStatus>);
    let request = use_request();

    {
        let (status, request) = (status.clone(), request.clone());
        use_effect_with(session.info.is_some(), move |known| {
            if *known {
                request.load(ss::enrolment(), move |s| status.set(Some(s)));
            }
        });
    }

    let to_account = {
        let navigator = navigator.clone();
        Callback::from(move |_| {
            if let Some(nav) = &navigator {
                nav.push(&Route::Account);
            }
        })
    };
    let on_skip = {
        let to_account = to_account.clone();
        let who = session
            .info
            .as_ref()
            .map(|i| i.user.username.clone())
            .unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            crate::services::storage::save(SKIPPED_KEY, &who);
            to_account.emit(());
        })
    };
    let onenrolled = {
        let to_account = to_account.clone();
        Callback::from(move |_: EnrolmentStatus| to_account.emit(()))
    };

    let body = match (&*status, session.info.as_ref()) {
        (Some(s), Some(info)) => html! {
            <>
                <EnrolForm status={s.clone()} username={AttrValue::from(info.user.username.clone())} {onenrolled} />
                if s.allow_skip {
                    <p><button id="enrol-skip" type="button" class="button button-secondary" onclick={on_skip}>{ "Later" }</button></p>
                }
            </>
        },
        _ => match load_error.as_ref().or(request.error.as_ref()) {
            Some(m) => html! { <FormError message={m.clone()} /> },
            None => html! { <p class="muted" aria-busy="true">{ "Loading…" }</p> },
        },
    };

    html! {
        <section class="card page-narrow" aria-labelledby="enrol-heading">
            <h1 id="enrol-heading">{ "Enrol in the Self-Service Password Manager" }</h1>
            <p>
                { "This one-time registration lets you reset a forgotten password yourself and unlock your \
                   account if it is locked, without contacting your Local Registration Authority (LRA) or \
                   calling the Help Desk." }
            </p>
            { body }
        </section>
    }
}
