use latchkey_shared::api::{DomainInfo, SignInRequest};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::domain_select::DomainSelect;
use crate::components::form_error::FormError;
use crate::components::password_field::PasswordField;
use crate::hooks::{is_online, use_bootstrap, use_online, use_session, SessionAction};
use crate::router::{use_navigator, Route};
use crate::services::error::ApiClientError;
use crate::services::session;
use crate::services::storage;

/// What was typed on the sign-in form, kept across reloads and offline
/// spells. Never the password.
const DRAFT_KEY: &str = "latchkey.sign-in-draft.v1";

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Draft {
    domain: Option<String>,
    username: String,
}

pub const SIGN_IN_NEEDS_CONNECTION: &str = "You are offline. Signing in needs a connection to \
    the server: press Login again when you are back online. Your user name is kept.";

/// The domain preselected on the sign-in page: Partners, as in the seeds.
const DEFAULT_DOMAIN: &str = "partners";

fn default_domain(domains: &[DomainInfo]) -> Option<String> {
    domains
        .iter()
        .find(|d| d.id == DEFAULT_DOMAIN)
        .or_else(|| domains.iter().find(|d| d.sspm_available))
        .or_else(|| domains.first())
        .map(|d| d.id.clone())
}

#[derive(Properties, PartialEq)]
pub struct SignInFormProps {
    /// Sign in to this domain only (the per-domain page); otherwise the user picks.
    #[prop_or_default]
    pub fixed_domain: Option<AttrValue>,
    #[prop_or(AttrValue::Static("Login"))]
    pub submit_label: AttrValue,
}

/// User name, password and domain; on success the session is stored and the
/// user lands on the account page.
#[component]
pub fn SignInForm(props: &SignInFormProps) -> Html {
    let bootstrap = use_bootstrap();
    let session = use_session();
    let navigator = use_navigator();
    let online = use_online();
    let draft = use_memo((), |_| {
        storage::load::<Draft>(DRAFT_KEY).unwrap_or_default()
    });
    let chosen_domain = use_state(|| draft.domain.clone());
    let username = use_state(|| draft.username.clone());
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<AttrValue>);

    let domains: &[DomainInfo] = bootstrap
        .data
        .as_ref()
        .map(|b| b.domains.as_slice())
        .unwrap_or_default();
    let domain: Option<String> = props
        .fixed_domain
        .as_ref()
        .map(|d| d.to_string())
        .or_else(|| (*chosen_domain).clone())
        .or_else(|| default_domain(domains));
    let selected = domain
        .as_deref()
        .and_then(|slug| domains.iter().find(|d| d.id == slug));

    let onsubmit = {
        let (username, password, busy, error) = (
            username.clone(),
            password.clone(),
            busy.clone(),
            error.clone(),
        );
        let domain = domain.clone();
        let session = session.clone();
        let navigator = navigator.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let Some(domain) = domain.clone() else {
                error.set(Some(
                    "The list of domains has not loaded yet. Check your connection and try again."
                        .into(),
                ));
                return;
            };
            if username.trim().is_empty() || password.is_empty() {
                error.set(Some("Enter your user name and password.".into()));
                return;
            }
            if !is_online() {
                // Said at once; what was typed stays in the form.
                error.set(Some(SIGN_IN_NEEDS_CONNECTION.into()));
                return;
            }
            let request = SignInRequest {
                domain,
                username: username.trim().to_owned(),
                password: (*password).clone(),
            };
            busy.set(true);
            error.set(None);
            session.dispatch(SessionAction::ClearNotice);
            let (password, busy, error, session, navigator) = (
                password.clone(),
                busy.clone(),
                error.clone(),
                session.clone(),
                navigator.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let result = session::sign_in(&request).await;
                busy.set(false);
                match result {
                    Ok(info) => {
                        password.set(String::new());
                        storage::save(DRAFT_KEY, &Draft::default());
                        session.dispatch(SessionAction::SignedIn(info));
                        if let Some(nav) = navigator {
                            nav.push(&Route::Account);
                        }
                    }
                    // No answer: keep the password in the field (never stored)
                    // so Login can simply be pressed again.
                    Err(ApiClientError::Network) if !is_online() => {
                        error.set(Some(SIGN_IN_NEEDS_CONNECTION.into()));
                    }
                    Err(ApiClientError::Network) => {
                        error.set(Some(ApiClientError::Network.message().into()));
                    }
                    Err(e) => {
                        password.set(String::new());
                        error.set(Some(e.message().into()));
                    }
                }
            });
        })
    };

    let on_domain = {
        let (chosen_domain, error, username) =
            (chosen_domain.clone(), error.clone(), username.clone());
        Callback::from(move |slug: String| {
            let draft = Draft {
                domain: Some(slug.clone()),
                username: (*username).clone(),
            };
            storage::save(DRAFT_KEY, &draft);
            chosen_domain.set(Some(slug));
            error.set(None);
        })
    };
    let on_username = {
        let (username, chosen_domain) = (username.clone(), chosen_domain.clone());
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            let draft = Draft {
                domain: (*chosen_domain).clone(),
                username: value.clone(),
            };
            storage::save(DRAFT_KEY, &draft);
            username.set(value)
        })
    };
    let on_password = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };

    let domain_field = match (&props.fixed_domain, selected) {
        (Some(_), Some(d)) => html! {
            <p class="fixed-domain">{ "Authentication domain: " }<strong>{ d.name.clone() }</strong></p>
        },
        (Some(_), None) => html! {},
        (None, _) => html! {
            <DomainSelect
                domains={domains.iter().map(|d| (AttrValue::from(d.id.clone()), AttrValue::from(d.name.clone()))).collect::<Vec<_>>()}
                value={AttrValue::from(domain.clone().unwrap_or_default())}
                onchange={on_domain}
                disabled={*busy}
            />
        },
    };
    // Said before they try; once the server has said it, once is enough.
    let unavailable = selected
        .filter(|d| !d.sspm_available && error.is_none())
        .map(|d| {
            html! {
                <p class="alert alert-info" id="domain-note">
                    { d.unavailable_message() }
                </p>
            }
        });

    html! {
        <form class="sign-in-form" {onsubmit} novalidate=true>
            <FormError message={(*error).clone()} />
            <div class="field">
                <label for="username">{ "User name" }</label>
                <input
                    id="username"
                    name="username"
                    type="text"
                    value={(*username).clone()}
                    oninput={on_username}
                    autocomplete="username"
                    autocapitalize="off"
                    autocorrect="off"
                    spellcheck="false"
                    required=true
                    disabled={*busy}
                />
            </div>
            <PasswordField
                id="password"
                label="Password"
                value={AttrValue::from((*password).clone())}
                oninput={on_password}
                autocomplete="current-password"
                disabled={*busy}
            />
            { domain_field }
            { for unavailable }
            <button id="login" type="submit" class="button button-primary" disabled={*busy}>
                { if *busy { AttrValue::Static("Signing in…") } else { props.submit_label.clone() } }
            </button>
            if !online {
                <p id="needs-connection" class="muted small">{ "Signing in needs a connection." }</p>
            }
        </form>
    }
}
