//! `/account`: the signed-in area. For now its only tab is Change Password.

mod change_password;
mod state;

use latchkey_shared::{PasswordPolicy, PolicyContext, PRODUCT_NAME};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::components::form_error::FormError;
use crate::hooks::{use_bootstrap, use_session, BootstrapAction, SessionAction};
use crate::services::api::{self, ApiClientError};
use change_password::ChangePassword;

#[component]
pub fn Account() -> Html {
    let session = use_session();
    let bootstrap = use_bootstrap();
    let navigator = use_navigator();
    let load_error = use_state(|| None::<AttrValue>);
    let sign_out_error = use_state(|| None::<AttrValue>);
    let signing_out = use_state(|| false);

    // Back to the sign-in page with a word of explanation.
    let session_ended = {
        let (session, navigator) = (session.clone(), navigator.clone());
        Callback::from(move |error: ApiClientError| {
            session.dispatch(SessionAction::Ended {
                notice: Some(error.message().into()),
            });
            if let Some(nav) = &navigator {
                nav.replace(&Route::SignIn);
            }
        })
    };

    // After a reload the session is only known to the server: ask it.
    {
        let (session, load_error, session_ended) =
            (session.clone(), load_error.clone(), session_ended.clone());
        let known = session.info.is_some();
        use_effect_with((), move |_| {
            if !known {
                wasm_bindgen_futures::spawn_local(async move {
                    match api::get_session().await {
                        Ok(info) => session.dispatch(SessionAction::SignedIn(info)),
                        Err(e) if e.is_not_authenticated() => session_ended.emit(e),
                        Err(e) => load_error.set(Some(e.message().into())),
                    }
                });
            }
        });
    }

    let on_sign_out = {
        let (session, navigator) = (session.clone(), navigator.clone());
        let (sign_out_error, signing_out) = (sign_out_error.clone(), signing_out.clone());
        Callback::from(move |_: MouseEvent| {
            let (session, navigator) = (session.clone(), navigator.clone());
            let (sign_out_error, signing_out) = (sign_out_error.clone(), signing_out.clone());
            signing_out.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::sign_out().await {
                    Ok(()) => {
                        session.dispatch(SessionAction::Ended {
                            notice: Some("You have signed out.".into()),
                        });
                        if let Some(nav) = &navigator {
                            nav.push(&Route::SignIn);
                        }
                    }
                    Err(e) => {
                        signing_out.set(false);
                        sign_out_error.set(Some(
                            format!("You are still signed in. {}", e.message()).into(),
                        ));
                    }
                }
            });
        })
    };

    let Some(info) = session.info.clone() else {
        return html! {
            <section class="card page-narrow">
                if let Some(message) = &*load_error {
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
                <button id="sign-out" type="button" class="button button-secondary" onclick={on_sign_out} disabled={*signing_out}>
                    { if *signing_out { "Signing out…" } else { "Sign out" } }
                </button>
            </section>
            if let Some(message) = &*sign_out_error {
                <div class="alert alert-error" role="alert"><p>{ message.clone() }</p></div>
            }
            if info.must_change_password {
                <div id="must-change" class="alert alert-warning" role="note">
                    <p>
                        <strong>{ "! " }</strong>
                        { "You cannot use your temporary password to log into ClinicalConnect. You must change it first." }
                    </p>
                </div>
            }
            <div class="card tabs">
                <div class="tab-list" role="tablist" aria-label="Manage your password">
                    <button
                        id="tab-change-password"
                        type="button"
                        role="tab"
                        class="tab active"
                        aria-selected="true"
                        aria-controls="panel-change-password"
                    >
                        { "Change Password" }
                    </button>
                </div>
                <div id="panel-change-password" class="tab-panel" role="tabpanel" aria-labelledby="tab-change-password">
                    <h1 class="visually-hidden">{ "Change Password" }</h1>
                    <p class="muted">
                        { "Your new password requirements are listed below. Create a new confidential password and confirm it." }
                    </p>
                    { panel }
                    <p class="muted small">
                        { format!("For your security you are signed out after {minutes} minute{} without activity.", if minutes == 1 { "" } else { "s" }) }
                    </p>
                </div>
            </div>
        </div>
    }
}
