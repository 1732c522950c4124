//! `/account`: the signed-in area: Change Password, the security
//! questions, the authenticator app and the mail address; signing out and
//! the way to the staff console. An account that has not enrolled is sent
//! to `/enrol` first (unless it may skip and chose "Later").

mod address;
mod authenticator;
mod change_password;
mod state;

use latchkey_shared::self_service::EnrolmentStatus;
use latchkey_shared::{PasswordPolicy, PolicyContext, PRODUCT_NAME};
use yew::prelude::*;

use crate::components::form_error::FormError;
use crate::hooks::{
    use_bootstrap, use_request_with, use_required_session, BootstrapAction, RequiredSession,
    SessionAction,
};
use crate::pages::enrol::{EnrolForm, SKIPPED_KEY};
use crate::router::{use_navigator, Route};
use crate::services::error::ApiClientError;
use crate::services::self_service as ss;
use crate::services::session;
use address::AddressPanel;
use authenticator::AuthenticatorPanel;
use change_password::ChangePassword;

/// Why signing out failed.
fn still_signed_in(error: &ApiClientError) -> AttrValue {
    format!("You are still signed in. {}", error.message()).into()
}

/// The account page's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    ChangePassword,
    SecurityQuestions,
    Authenticator,
}

impl Tab {
    const ALL: [Tab; 3] = [
        Tab::ChangePassword,
        Tab::SecurityQuestions,
        Tab::Authenticator,
    ];

    fn id(self) -> &'static str {
        match self {
            Tab::ChangePassword => "tab-change-password",
            Tab::SecurityQuestions => "tab-security-questions",
            Tab::Authenticator => "tab-authenticator",
        }
    }

    fn panel(self) -> &'static str {
        match self {
            Tab::ChangePassword => "panel-change-password",
            Tab::SecurityQuestions => "panel-security-questions",
            Tab::Authenticator => "panel-authenticator",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::ChangePassword => "Change Password",
            Tab::SecurityQuestions => "Security questions",
            Tab::Authenticator => "Authenticator & mail",
        }
    }
}

#[component]
pub fn Account() -> Html {
    let RequiredSession {
        session,
        load_error,
        onended: session_ended,
    } = use_required_session();
    let bootstrap = use_bootstrap();
    let navigator = use_navigator();
    let sign_out = use_request_with(still_signed_in);
    let tab = use_state(|| Tab::ChangePassword);
    let enrolment = use_state(|| None::<EnrolmentStatus>);
    let expiry = use_state(|| None::<latchkey_shared::factors::PasswordExpiry>);
    {
        let expiry = expiry.clone();
        // Asked for must-change sessions too: the banner says whether the
        // password is temporary or expired.
        let who = session
            .info
            .as_ref()
            .map(|i| (i.user.username.clone(), i.must_change_password));
        use_effect_with(who, move |who| {
            if who.is_some() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(e) = crate::services::factors::password_expiry().await {
                        expiry.set(Some(e));
                    }
                });
            }
        });
    }

    // A signed-in user who has not enrolled enrols first (unless the domain
    // lets them skip and they chose "Later").
    {
        let (enrolment, navigator) = (enrolment.clone(), navigator.clone());
        // Not straight after replacing a temporary password on this page: its
        // success message stays; the next sign-in goes to the enrolment.
        let saw_temporary = use_mut_ref(|| false);
        if session
            .info
            .as_ref()
            .is_some_and(|i| i.must_change_password)
        {
            *saw_temporary.borrow_mut() = true;
        }
        let redirect = !*saw_temporary.borrow();
        let who = session
            .info
            .as_ref()
            .filter(|i| !i.must_change_password)
            .map(|i| i.user.username.clone());
        use_effect_with(who, move |who| {
            if let Some(who) = who.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(status) = ss::enrolment().await {
                        let skipped = status.allow_skip
                            && crate::services::storage::load::<String>(SKIPPED_KEY).as_deref()
                                == Some(who.as_str());
                        if redirect && !status.enrolled && !skipped {
                            if let Some(nav) = &navigator {
                                nav.replace(&Route::Enrol);
                            }
                        }
                        enrolment.set(Some(status));
                    }
                });
            }
        });
    }

    let on_sign_out = {
        let (session, navigator, sign_out) = (session.clone(), navigator.clone(), sign_out.clone());
        Callback::from(move |_: MouseEvent| {
            let (session, navigator) = (session.clone(), navigator.clone());
            sign_out.run(session::sign_out(), move |()| {
                session.dispatch(SessionAction::Ended {
                    notice: Some("You have signed out.".into()),
                });
                if let Some(nav) = &navigator {
                    nav.push(&Route::SignIn);
                }
                None
            });
        })
    };

    let Some(info) = session.info.clone() else {
        return html! {
            <section class="card page-narrow">
                if let Some(message) = &load_error {
                    <FormError message={message.clone()} />
                } else {
                    <p class="muted" aria-busy="true">{ "Loading your account…" }</p>
                }
            </section>
        };
    };

    let policy: Option<PasswordPolicy> = bootstrap
        .domain(&info.user.domain)
        .map(|d| d.policy.clone());
    let context = PolicyContext {
        username: info.user.username.clone(),
        display_name: info.user.display_name.clone(),
        domain_name: info.user.domain_name.clone(),
        product_name: PRODUCT_NAME.to_owned(),
    };

    let on_policy_change = {
        let (bootstrap, domain) = (bootstrap.clone(), info.user.domain.clone());
        Callback::from(move |policy: PasswordPolicy| {
            bootstrap.dispatch(BootstrapAction::PolicyUpdated {
                domain: domain.clone(),
                policy,
            })
        })
    };
    let on_changed = {
        let session = session.clone();
        Callback::from(move |()| session.dispatch(SessionAction::PasswordChanged))
    };

    let panel = match policy {
        Some(policy) => html! {
            <ChangePassword
                {policy}
                {context}
                must_change={info.must_change_password}
                onpolicychange={on_policy_change}
                onchanged={on_changed}
                onsessionended={session_ended}
            />
        },
        None => match &bootstrap.error {
            Some(e) if !bootstrap.loading => html! {
                <FormError message={AttrValue::from(format!("The password requirements could not be loaded. {}", e.message()))} />
            },
            _ => {
                html! { <p class="muted" aria-busy="true">{ "Loading the password requirements…" }</p> }
            }
        },
    };

    let minutes = info.idle_timeout_secs.div_ceil(60);

    html! {
        <div class="page page-account">
            <section class="card account-bar" aria-label="Your account">
                <p id="whoami">
                    { "Signed in as " }
                    <strong>{ info.user.display_name.clone() }</strong>
                    <span class="muted">{ format!(" ({}, {} domain)", info.user.username, info.user.domain_name) }</span>
                </p>
                <div class="account-actions">
                    if info.role.is_staff() && !info.must_change_password {
                        <button id="open-console" type="button" class="button button-primary" onclick={{
                            let navigator = navigator.clone();
                            Callback::from(move |_: MouseEvent| if let Some(nav) = &navigator { nav.push(&Route::Console) })
                        }}>{ "Console" }</button>
                    }
                    <button id="sign-out" type="button" class="button button-secondary" onclick={on_sign_out} disabled={sign_out.busy}>
                        { if sign_out.busy { "Signing out…" } else { "Sign out" } }
                    </button>
                </div>
            </section>
            if let Some(message) = &sign_out.error {
                <div class="alert alert-error" role="alert"><p>{ message.clone() }</p></div>
            }
            if info.must_change_password {
                <div id="must-change" class="alert alert-warning" role="note">
                    <p>
                        <strong>{ "! " }</strong>
                        { latchkey_shared::api::messages::must_change_banner(
                            bootstrap
                                .data
                                .as_ref()
                                .map(|d| d.portal_name.as_str())
                                .filter(|name| !name.is_empty())
                                .unwrap_or("your organisation's portal"),
                            expiry.as_ref().is_some_and(|e| e.expired),
                        ) }
                    </p>
                </div>
            }
            <div class="card tabs">
                <div class="tab-list" role="tablist" aria-label="Manage your password">
                    { for Tab::ALL.iter().filter(|t| **t == Tab::ChangePassword || !info.must_change_password).map(|t| {
                        let selected = *tab == *t;
                        let onclick = { let (tab, t) = (tab.clone(), *t); Callback::from(move |_| tab.set(t)) };
                        html! {
                            <button id={t.id()} type="button" role="tab"
                                class={classes!("tab", selected.then_some("active"))}
                                aria-selected={selected.to_string()} aria-controls={t.panel()} {onclick}>
                                { t.label() }
                            </button>
                        }
                    }) }
                </div>
                if *tab == Tab::Authenticator && !info.must_change_password {
                    <div id="panel-authenticator" class="tab-panel" role="tabpanel" aria-labelledby="tab-authenticator">
                        <h1 class="visually-hidden">{ "Authenticator app and mail address" }</h1>
                        <AuthenticatorPanel />
                        <AddressPanel />
                    </div>
                }
                if *tab == Tab::SecurityQuestions && !info.must_change_password {
                    <div id="panel-security-questions" class="tab-panel" role="tabpanel" aria-labelledby="tab-security-questions">
                        <h1 class="visually-hidden">{ "Security questions" }</h1>
                        { match &*enrolment {
                            Some(status) => html! {
                                <>
                                    if status.enrolled {
                                        <h2>{ "Your security questions" }</h2>
                                        <ul id="enrolled-questions">
                                            { for status.questions.iter().map(|q| html! { <li>{ q.clone() }</li> }) }
                                        </ul>
                                        <p class="muted">{ "Your answers are never shown. To change your questions or answers, choose new ones below and enter your password." }</p>
                                    } else {
                                        <p>{ "You have not enrolled yet." }</p>
                                    }
                                    <EnrolForm
                                        status={status.clone()}
                                        username={AttrValue::from(info.user.username.clone())}
                                        onenrolled={{ let e = enrolment.clone(); Callback::from(move |s| e.set(Some(s))) }}
                                    />
                                </>
                            },
                            None => html! { <p class="muted" aria-busy="true">{ "Loading…" }</p> },
                        } }
                    </div>
                }
                <div id="panel-change-password" class="tab-panel" role="tabpanel" aria-labelledby="tab-change-password" hidden={*tab != Tab::ChangePassword && !info.must_change_password}>
                    <h1 class="visually-hidden">{ "Change Password" }</h1>
                    <p class="muted">
                        { "Your new password requirements are listed below. Create a new confidential password and confirm it." }
                    </p>
                    { panel }
                    if let Some(at) = expiry.as_ref().and_then(|e| e.expires_at) {
                        <p id="password-expires" class="muted">
                            { format!("Your password expires on {}.", latchkey_shared::dates::iso_date(at)) }
                        </p>
                    }
                    <p class="muted small">
                        { format!("For your security you are signed out after {minutes} minute{} without activity.", if minutes == 1 { "" } else { "s" }) }
                    </p>
                </div>
            </div>
        </div>
    }
}
