//! The staff side of the console (the "Users" tab, for LRAs and
//! administrators): find a user of one's domains, see their state, act with
//! a reason. On a directory-backed domain the search reads the directory
//! itself (users who never signed in too) and each user shows who holds them
//! locked and when the password was last set there.

use std::rc::Rc;

use latchkey_shared::admin::{DirectoryAccount, UserSearchResponse, UserState, UserSummary};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{area_field, when, Reauth};
use crate::hooks::use_request;
use crate::services::staff::{self, StaffAction};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Unlock,
    TempPassword,
    ClearEnrolment,
    Disable,
    Enable,
}

impl Act {
    /// The request, for all but the temporary password (which has its own answer).
    fn action(self) -> Option<StaffAction> {
        match self {
            Act::Unlock => Some(StaffAction::Unlock),
            Act::TempPassword => None,
            Act::ClearEnrolment => Some(StaffAction::ClearEnrolment),
            Act::Disable => Some(StaffAction::Disable),
            Act::Enable => Some(StaffAction::Enable),
        }
    }
    fn done(self) -> &'static str {
        match self {
            Act::Unlock => "The account is unlocked.",
            Act::TempPassword => {
                "A temporary password was issued. Give it to the user now: it is shown only once."
            }
            Act::ClearEnrolment => {
                "The enrolment is cleared: the user enrols again at next sign-in."
            }
            Act::Disable => "The account is disabled.",
            Act::Enable => "The account is enabled.",
        }
    }
}

/// A temporary password and when it expires (unix seconds).
type Temporary = (String, i64);

#[derive(Clone, PartialEq, Default)]
pub struct StaffState {
    query: String,
    results: Option<UserSearchResponse>,
    selected: Option<UserState>,
    /// The reason for the next action, as typed.
    reason: String,
    /// The temporary password just issued: shown once.
    temp: Option<Temporary>,
}

pub enum Action {
    Query(String),
    Found(UserSearchResponse),
    /// Another user is chosen: what was shown or typed for the last one goes.
    Choose,
    Chosen(UserState),
    Reason(String),
    /// An action's answer: the user's state, and the temporary password if
    /// one was issued.
    Acted(UserState, Option<Temporary>),
}

impl Reducible for StaffState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Query(v) => next.query = v,
            Action::Found(r) => next.results = Some(r),
            Action::Choose => {
                next.temp = None;
                next.reason.clear();
            }
            Action::Chosen(user) => next.selected = Some(user),
            Action::Reason(v) => next.reason = v,
            Action::Acted(user, temp) => {
                // The list shows the same user's new state.
                if let Some(r) = &mut next.results {
                    for u in r.users.iter_mut().filter(|u| u.id == user.id) {
                        u.locked = user.locked;
                        if !user.locked {
                            u.lock = None;
                        }
                        u.disabled = user.disabled;
                    }
                }
                next.temp = temp;
                next.selected = Some(user);
            }
        }
        Rc::new(next)
    }
}

#[component]
pub fn Staff() -> Html {
    let state = use_reducer(StaffState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();

    let onsearch = {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (query, dispatcher) = (state.query.clone(), state.dispatcher());
            request.load(async move { staff::search(&query).await }, move |r| {
                dispatcher.dispatch(Action::Found(r))
            });
        })
    };
    let select = {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        Callback::from(move |id: i64| {
            dispatcher.dispatch(Action::Choose);
            let dispatcher = dispatcher.clone();
            request.run(staff::user(id), move |user| {
                dispatcher.dispatch(Action::Chosen(user));
                None
            });
        })
    };
    let act = {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |act: Act| {
            let Some(user) = state.selected.as_ref() else {
                return;
            };
            let (id, reason, dispatcher) = (user.id, state.reason.clone(), state.dispatcher());
            let answer = async move {
                match act.action() {
                    Some(action) => staff::act(action, id, &reason).await.map(|u| (u, None)),
                    None => staff::issue_temporary_password(id, &reason)
                        .await
                        .map(|i| (i.user, Some((i.temporary_password, i.expires_at)))),
                }
            };
            request.run(answer, move |(user, temp)| {
                let issued = temp.is_some();
                dispatcher.dispatch(Action::Acted(user, temp));
                if issued {
                    // On a phone the password is below the fold: bring it into view.
                    gloo_timers::callback::Timeout::new(50, || {
                        crate::dom::focus_by_id("temp-password")
                    })
                    .forget();
                }
                Some(act.done().into())
            });
        })
    };
    let on_reauthed = {
        let request = request.clone();
        Callback::from(move |()| request.reauthed("Confirmed. Choose the action again."))
    };
    let oninput = {
        let dispatcher = dispatcher.clone();
        Callback::from(move |e: InputEvent| {
            dispatcher.dispatch(Action::Query(
                e.target_unchecked_into::<HtmlInputElement>().value(),
            ))
        })
    };
    let busy = request.busy;
    let reason = &state.reason;

    let result_list = match &state.results {
        None => html! {},
        Some(r) if r.users.is_empty() => {
            html! { <p id="user-results-empty" class="muted">{ "No user matches." }</p> }
        }
        Some(r) => html! {
            <>
            if r.truncated {
                <p id="user-results-truncated" class="muted small">{ "More users match: type more of the name." }</p>
            }
            <ul id="user-results" class="user-results">
                { for r.users.iter().map(|u: &UserSummary| {
                    let id = u.id;
                    let onclick = { let select = select.clone(); Callback::from(move |_: MouseEvent| select.emit(id)) };
                    html! {
                        <li>
                            <button type="button" class="user-result" data-username={u.username.clone()} {onclick}>
                                <strong>{ u.display_name.clone() }</strong>
                                <span class="muted">{ format!(" {} · {}", u.username, u.domain_name) }</span>
                                if let Some(mail) = &u.email { <span class="muted small">{ format!(" · {mail}") }</span> }
                                if u.locked {
                                    <span class="badge badge-warning">{ u.lock.map_or("Locked", |l| l.label()) }</span>
                                }
                                if u.disabled { <span class="badge">{ "Disabled" }</span> }
                                if let Some(t) = u.password_changed_at {
                                    <span class="muted small">{ format!(" · password set {}", when(t)) }</span>
                                }
                            </button>
                        </li>
                    }
                }) }
            </ul>
            </>
        },
    };

    let detail = match &state.selected {
        None => html! {},
        Some(u) => {
            let row = |id: &str, label: &str, value: String, flag: Option<bool>| {
                html! {
                    <div class="state-row">
                        <dt>{ label }</dt>
                        <dd id={id.to_owned()} data-value={flag.map(|f| f.to_string())}>{ value }</dd>
                    </div>
                }
            };
            let button = |id: &str, label: &str, a: Act, primary: bool| {
                let act = act.clone();
                let onclick = Callback::from(move |_: MouseEvent| act.emit(a));
                html! {
                    <button id={id.to_owned()} type="button"
                        class={classes!("button", if primary { "button-primary" } else { "button-secondary" })}
                        disabled={busy || reason.trim().is_empty()} {onclick}>{ label }</button>
                }
            };
            html! {
                <section id="user-state" class="user-state" aria-live="polite">
                    <h2>{ format!("{} ({})", u.display_name, u.username) }</h2>
                    if let Some((pw, exp)) = &state.temp {
                        <div class="alert alert-warning temp-password-box" role="status">
                            <p>{ "Temporary password (shown once — read it to the user):" }</p>
                            <p><code id="temp-password" class="temp-password" tabindex="-1">{ pw.clone() }</code></p>
                            <p class="small">{ format!("Expires {}. The user must change it at first sign-in.", when(*exp)) }</p>
                        </div>
                    }
                    <dl>
                        { row("state-domain", "Domain", u.domain_name.clone(), None) }
                        { row("state-locked", "Locked", if u.locked {
                            match u.locked_until { Some(t) => format!("Yes, until {}", when(t)), None => "Yes, until unlocked".into() }
                        } else { "No".into() }, Some(u.locked)) }
                        { row("state-failed", "Failed attempts", u.failed_attempts.to_string(), None) }
                        { row("state-enrolled", "Enrolled", match u.enrolled_at { Some(t) => format!("Yes, on {}", when(t)), None => "No".into() }, Some(u.enrolled)) }
                        { row("state-temporary", "Temporary password", match (u.temporary_password, u.temporary_password_expires_at) {
                            (true, Some(t)) => format!("Pending, expires {}", when(t)),
                            (true, None) => "Pending".into(),
                            _ => "No".into(),
                        }, Some(u.temporary_password)) }
                        { row("state-must-change", "Must change at next sign-in", if u.must_change { "Yes".into() } else { "No".into() }, Some(u.must_change)) }
                        { row("state-changed", "Last password change", when(u.password_changed_at), None) }
                        { row("state-disabled", "Disabled", if u.disabled { "Yes".into() } else { "No".into() }, Some(u.disabled)) }
                        if let Some(d) = &u.directory {
                            { row("state-directory", "In the directory", directory_text(d), None) }
                        }
                    </dl>
                    { area_field("action-reason", "Reason (recorded in the audit log)", reason,
                        crate::pages::send(&dispatcher, Action::Reason)) }
                    <div class="actions">
                        { button("action-unlock", "Unlock", Act::Unlock, u.locked) }
                        { button("action-temp-password", "Issue temporary password", Act::TempPassword, !u.locked) }
                        { button("action-clear-enrolment", "Clear enrolment", Act::ClearEnrolment, false) }
                        if u.disabled {
                            { button("action-enable", "Enable account", Act::Enable, false) }
                        } else {
                            { button("action-disable", "Disable account", Act::Disable, false) }
                        }
                    </div>
                </section>
            }
        }
    };

    html! {
        <div class="console-users">
            <h1 class="visually-hidden">{ "Users" }</h1>
            <form class="search-form" role="search" onsubmit={onsearch}>
                <div class="field">
                    <label for="user-search">{ "Find a user by user name or name" }</label>
                    <input id="user-search" type="search" value={state.query.clone()} {oninput} autocomplete="off" />
                </div>
                <button id="user-search-submit" type="submit" class="button button-primary">{ "Search" }</button>
            </form>
            if let Some(m) = &request.error {
                <div id="console-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            if let Some(r) = &state.results {
                { for r.unavailable.iter().map(|m| html! {
                    <div class="alert alert-warning search-unavailable" role="status"><p>{ m.clone() }</p></div>
                }) }
            }
            if request.reauth {
                <Reauth ondone={on_reauthed} />
            }
            if let Some(m) = &request.notice {
                <div id="action-result" class="alert alert-success" role="status"><p>{ m.clone() }</p></div>
            }
            { result_list }
            { detail }
        </div>
    }
}

/// What the directory says about the account, in a line.
fn directory_text(d: &DirectoryAccount) -> String {
    match d {
        DirectoryAccount::Found {
            directory,
            lock,
            password_changed_at,
            must_change,
        } => {
            let mut parts = vec![format!("Found in {directory}")];
            parts.push(lock.map_or_else(
                || "not locked there".to_owned(),
                |l| l.label().to_lowercase(),
            ));
            if let Some(t) = password_changed_at {
                parts.push(format!("password set {}", when(*t)));
            }
            if *must_change {
                parts.push("must change the password".to_owned());
            }
            parts.join("; ")
        }
        DirectoryAccount::NotFound { directory } => {
            format!("Not in {directory} any more: the account cannot sign in")
        }
        DirectoryAccount::Unavailable { reason, .. } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use latchkey_shared::admin::{LockHolder, Role};

    use super::*;

    fn summary(id: i64, locked: bool) -> UserSummary {
        UserSummary {
            id,
            username: format!("user{id}"),
            display_name: format!("User {id}"),
            domain: "partners".into(),
            domain_name: "Partners".into(),
            role: Role::User,
            locked,
            disabled: false,
            email: None,
            lock: locked.then_some(LockHolder::Latchkey),
            password_changed_at: None,
        }
    }

    fn user(id: i64, locked: bool, disabled: bool) -> UserState {
        UserState {
            id,
            username: format!("user{id}"),
            display_name: format!("User {id}"),
            email: None,
            domain: "partners".into(),
            domain_name: "Partners".into(),
            role: Role::User,
            staff_domains: Vec::new(),
            locked,
            locked_until: None,
            failed_attempts: 0,
            enrolled: false,
            enrolled_at: None,
            temporary_password: false,
            temporary_password_expires_at: None,
            must_change: false,
            password_changed_at: 0,
            disabled,
            directory: None,
        }
    }

    fn found() -> Rc<StaffState> {
        Rc::new(StaffState::default()).reduce(Action::Found(UserSearchResponse {
            users: vec![summary(1, true), summary(2, true)],
            truncated: false,
            unavailable: Vec::new(),
        }))
    }

    #[test]
    fn an_action_shows_the_users_new_state_in_the_list_too() {
        let s = found()
            .reduce(Action::Chosen(user(1, true, false)))
            .reduce(Action::Acted(user(1, false, true), None));
        let users = &s.results.as_ref().unwrap().users;
        assert!(!users[0].locked && users[0].lock.is_none() && users[0].disabled);
        // Only that user.
        assert!(users[1].locked && users[1].lock.is_some());
        assert_eq!(s.selected.as_ref().map(|u| u.locked), Some(false));
    }

    #[test]
    fn a_temporary_password_is_shown_until_the_next_action_or_user() {
        let s = found()
            .reduce(Action::Reason("verified".into()))
            .reduce(Action::Acted(user(1, false, false), Some(("pw".into(), 9))));
        assert_eq!(s.temp, Some(("pw".to_owned(), 9)));
        assert_eq!(s.reason, "verified");
        let next = s.clone().reduce(Action::Acted(user(1, false, false), None));
        assert_eq!(next.temp, None);
        let other = s.reduce(Action::Choose);
        assert_eq!((other.temp.clone(), other.reason.as_str()), (None, ""));
    }
}
