//! The LRA's tab: find a user of one's domains, see their state, act with a reason.
//! On a directory-backed domain the search reads the directory itself (users
//! who never signed in too) and each user shows who holds them locked and
//! when the password was last set there.

use latchkey_shared::admin::{
    paths, DirectoryAccount, StaffActionRequest, TemporaryPasswordIssued, UserSearchResponse,
    UserState, UserSummary,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{area_field, needs_reauth, when, Reauth};
use crate::services::api::ApiClientError;
use crate::services::requests::{get, post};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Unlock,
    TempPassword,
    ClearEnrolment,
    Disable,
    Enable,
}

impl Act {
    fn path(self) -> &'static str {
        match self {
            Act::Unlock => paths::STAFF_UNLOCK,
            Act::TempPassword => paths::STAFF_TEMP_PASSWORD,
            Act::ClearEnrolment => paths::STAFF_CLEAR_ENROLMENT,
            Act::Disable => paths::STAFF_DISABLE,
            Act::Enable => paths::STAFF_ENABLE,
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

#[component]
pub fn Users() -> Html {
    let query = use_state(String::new);
    let results = use_state(|| None::<UserSearchResponse>);
    let selected = use_state(|| None::<UserState>);
    let reason = use_state(String::new);
    let temp = use_state(|| None::<(String, i64)>);
    let message = use_state(|| None::<AttrValue>);
    let error = use_state(|| None::<AttrValue>);
    let reauth = use_state(|| false);
    let busy = use_state(|| false);

    let onsearch = {
        let (query, results, error) = (query.clone(), results.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (results, error) = (results.clone(), error.clone());
            let url = format!(
                "{}?q={}",
                paths::STAFF_USERS,
                latchkey_shared::admin::encode(&query)
            );
            wasm_bindgen_futures::spawn_local(async move {
                match get::<UserSearchResponse>(&url).await {
                    Ok(r) => {
                        error.set(None);
                        results.set(Some(r));
                    }
                    Err(e) => error.set(Some(e.message().into())),
                }
            });
        })
    };
    let select = {
        let (selected, error, temp, message, reason) = (
            selected.clone(),
            error.clone(),
            temp.clone(),
            message.clone(),
            reason.clone(),
        );
        Callback::from(move |id: i64| {
            let (selected, error) = (selected.clone(), error.clone());
            temp.set(None);
            message.set(None);
            reason.set(String::new());
            wasm_bindgen_futures::spawn_local(async move {
                match get::<UserState>(&paths::with_id(paths::STAFF_USER, id)).await {
                    Ok(s) => {
                        error.set(None);
                        selected.set(Some(s));
                    }
                    Err(e) => error.set(Some(e.message().into())),
                }
            });
        })
    };
    let act = {
        let (selected, reason, temp, message, error, reauth, busy, results) = (
            selected.clone(),
            reason.clone(),
            temp.clone(),
            message.clone(),
            error.clone(),
            reauth.clone(),
            busy.clone(),
            results.clone(),
        );
        Callback::from(move |act: Act| {
            let Some(user) = (*selected).clone() else {
                return;
            };
            let (selected, temp, message, error, reauth, busy, results) = (
                selected.clone(),
                temp.clone(),
                message.clone(),
                error.clone(),
                reauth.clone(),
                busy.clone(),
                results.clone(),
            );
            let body = StaffActionRequest {
                reason: (*reason).clone(),
            };
            let url = paths::with_id(act.path(), user.id);
            busy.set(true);
            message.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let res: Result<UserState, ApiClientError> = if act == Act::TempPassword {
                    post::<_, TemporaryPasswordIssued>(&url, &body)
                        .await
                        .map(|issued| {
                            temp.set(Some((issued.temporary_password, issued.expires_at)));
                            issued.user
                        })
                } else {
                    post::<_, UserState>(&url, &body).await
                };
                busy.set(false);
                match res {
                    Ok(state) => {
                        error.set(None);
                        if let Some(mut r) = (*results).clone() {
                            for u in r.users.iter_mut().filter(|u| u.id == state.id) {
                                u.locked = state.locked;
                                if !state.locked {
                                    u.lock = None;
                                }
                                u.disabled = state.disabled;
                            }
                            results.set(Some(r));
                        }
                        if act == Act::TempPassword {
                            // On a phone the password is below the fold: bring it into view.
                            gloo_timers::callback::Timeout::new(50, || {
                                crate::dom::focus_by_id("temp-password")
                            })
                            .forget();
                        }
                        if act != Act::TempPassword {
                            temp.set(None);
                        }
                        message.set(Some(act.done().into()));
                        selected.set(Some(state));
                    }
                    Err(e) => {
                        reauth.set(needs_reauth(&e));
                        error.set(Some(e.message().into()));
                    }
                }
            });
        })
    };
    let on_reauthed = {
        let (reauth, error, message) = (reauth.clone(), error.clone(), message.clone());
        Callback::from(move |()| {
            reauth.set(false);
            error.set(None);
            message.set(Some("Confirmed. Choose the action again.".into()));
        })
    };
    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            query.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };

    let result_list = match &*results {
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

    let detail = match &*selected {
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
                        disabled={*busy || reason.trim().is_empty()} {onclick}>{ label }</button>
                }
            };
            html! {
                <section id="user-state" class="user-state" aria-live="polite">
                    <h2>{ format!("{} ({})", u.display_name, u.username) }</h2>
                    if let Some((pw, exp)) = &*temp {
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
                    { area_field("action-reason", "Reason (recorded in the audit log)", &reason, {
                        let reason = reason.clone(); Callback::from(move |v| reason.set(v)) }) }
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
                    <input id="user-search" type="search" value={(*query).clone()} {oninput} autocomplete="off" />
                </div>
                <button id="user-search-submit" type="submit" class="button button-primary">{ "Search" }</button>
            </form>
            if let Some(m) = &*error {
                <div id="console-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            if let Some(r) = &*results {
                { for r.unavailable.iter().map(|m| html! {
                    <div class="alert alert-warning search-unavailable" role="status"><p>{ m.clone() }</p></div>
                }) }
            }
            if *reauth {
                <Reauth ondone={on_reauthed} />
            }
            if let Some(m) = &*message {
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
