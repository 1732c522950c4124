//! `/console`: the staff console. An LRA finds users of their domains and
//! helps them; an administrator also runs domains, notices, the Help Desk
//! contact, the audit log and the portal's API keys. The server enforces
//! every role and scope; this page only hides what a role cannot use.

mod admin;
mod staff;

use latchkey_shared::admin::{Role, REAUTH_WINDOW_SECS};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::form_error::FormError;
use crate::hooks::{use_request, use_required_session, RequiredSession};
use crate::router::{Link, Route};
use crate::services::staff as staff_service;

// ---------------------------------------------------------------- formatting
/// `YYYY-MM-DD` → unix seconds at 00:00 UTC (the audit filter's dates).
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    latchkey_shared::dates::unix_from_iso_date(s.trim())
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(unix: i64) -> String {
    let (y, m, d) = latchkey_shared::dates::civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        (s / 60) % 60
    )
}

pub(crate) fn today() -> String {
    let now = (js_now() / 1000.0) as i64;
    when(now)[..10].to_owned()
}

fn js_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.time_origin() + p.now())
        .unwrap_or(0.0)
}

// ---------------------------------------------------------------- inputs
pub(crate) fn text_field(id: &str, label: &str, value: &str, on: Callback<String>) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        on.emit(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    html! {
        <div class="field">
            <label for={id.to_owned()}>{ label }</label>
            <input id={id.to_owned()} type="text" value={value.to_owned()} {oninput} autocomplete="off" />
        </div>
    }
}

pub(crate) fn number_field(id: &str, label: &str, value: &str, on: Callback<String>) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        on.emit(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    html! {
        <div class="field">
            <label for={id.to_owned()}>{ label }</label>
            <input id={id.to_owned()} type="number" inputmode="numeric" value={value.to_owned()} {oninput} />
        </div>
    }
}

pub(crate) fn area_field(id: &str, label: &str, value: &str, on: Callback<String>) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        on.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value())
    });
    html! {
        <div class="field">
            <label for={id.to_owned()}>{ label }</label>
            <textarea id={id.to_owned()} rows="3" value={value.to_owned()} {oninput} />
        </div>
    }
}

pub(crate) fn check_field(id: &str, label: &str, checked: bool, on: Callback<bool>) -> Html {
    let onchange = Callback::from(move |e: Event| {
        on.emit(e.target_unchecked_into::<HtmlInputElement>().checked())
    });
    html! {
        <div class="field-check">
            <input id={id.to_owned()} type="checkbox" {checked} {onchange} />
            <label for={id.to_owned()}>{ label }</label>
        </div>
    }
}

pub(crate) fn select_field(
    id: &str,
    label: &str,
    value: &str,
    options: &[(String, String)],
    on: Callback<String>,
) -> Html {
    let onchange = Callback::from(move |e: Event| {
        on.emit(e.target_unchecked_into::<HtmlSelectElement>().value())
    });
    html! {
        <div class="field">
            <label for={id.to_owned()}>{ label }</label>
            <select id={id.to_owned()} {onchange}>
                { for options.iter().map(|(v, l)| html! {
                    <option value={v.clone()} selected={v == value}>{ l.clone() }</option>
                }) }
            </select>
        </div>
    }
}

// ---------------------------------------------------------------- re-authentication
#[derive(Properties, PartialEq)]
pub struct ReauthProps {
    pub ondone: Callback<()>,
}

/// "Enter your password again": shown when the server answers `reauth_required`.
#[component]
pub fn Reauth(props: &ReauthProps) -> Html {
    let password = use_state(String::new);
    let request = use_request();
    let onsubmit = {
        let (password, request, ondone) = (password.clone(), request.clone(), props.ondone.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = (*password).clone();
            let (password, ondone) = (password.clone(), ondone.clone());
            request.run(
                async move { staff_service::reauth(&typed).await },
                move |_| {
                    password.set(String::new());
                    ondone.emit(());
                    None
                },
            );
        })
    };
    let oninput = {
        let password = password.clone();
        Callback::from(move |e: InputEvent| {
            password.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    html! {
        <form id="reauth" class="card reauth" {onsubmit}>
            <h2>{ "Confirm it is you" }</h2>
            <p class="muted">{ format!(
                "Changing a credential needs your password entered within the last {} minutes.",
                REAUTH_WINDOW_SECS / 60
            ) }</p>
            if let Some(m) = &request.error {
                <div class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            <div class="field">
                <label for="reauth-password">{ "Your password" }</label>
                <input id="reauth-password" type="password" autocomplete="current-password" value={(*password).clone()} {oninput} />
            </div>
            <button id="reauth-submit" type="submit" class="button button-primary" disabled={request.busy}>
                { if request.busy { "Checking…" } else { "Confirm" } }
            </button>
        </form>
    }
}

// ---------------------------------------------------------------- page
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Users,
    Domains,
    Notices,
    Audit,
    Keys,
    Mail,
    Throttles,
}

impl Tab {
    fn id(self) -> &'static str {
        match self {
            Tab::Users => "tab-users",
            Tab::Domains => "tab-domains",
            Tab::Notices => "tab-notices",
            Tab::Audit => "tab-audit",
            Tab::Keys => "tab-keys",
            Tab::Mail => "tab-mail",
            Tab::Throttles => "tab-throttles",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Tab::Users => "Users",
            Tab::Domains => "Domains",
            Tab::Notices => "Notices & Help Desk",
            Tab::Audit => "Audit log",
            Tab::Keys => "API keys",
            Tab::Mail => "Mail",
            Tab::Throttles => "Throttling",
        }
    }
}

#[component]
pub fn Console() -> Html {
    let RequiredSession {
        session,
        load_error,
        ..
    } = use_required_session();
    let tab = use_state(|| Tab::Users);
    let Some(info) = session.info.clone() else {
        return html! {
            <section class="card page-narrow">
                if let Some(m) = &load_error {
                    <FormError message={m.clone()} />
                } else {
                    <p class="muted" aria-busy="true">{ "Loading…" }</p>
                }
            </section>
        };
    };
    if !info.role.is_staff() || info.must_change_password {
        return html! {
            <section class="card page-narrow">
                <h1>{ "Staff console" }</h1>
                <p>{ if info.must_change_password {
                    "Change your temporary password first."
                } else {
                    "The staff console is for Local Registration Authorities and administrators."
                } }</p>
                <Link to={Route::Account} classes="button button-secondary">{ "Back to your account" }</Link>
            </section>
        };
    }
    let tabs: Vec<Tab> = if info.role == Role::Admin {
        vec![
            Tab::Users,
            Tab::Domains,
            Tab::Notices,
            Tab::Audit,
            Tab::Keys,
            Tab::Mail,
            Tab::Throttles,
        ]
    } else {
        vec![Tab::Users]
    };
    let panel = match *tab {
        Tab::Users => html! { <staff::Staff /> },
        Tab::Domains => html! { <admin::Domains /> },
        Tab::Notices => html! { <admin::Notices /> },
        Tab::Audit => html! { <admin::Audit /> },
        Tab::Keys => html! { <admin::ApiKeys /> },
        Tab::Mail => html! { <admin::Outbox /> },
        Tab::Throttles => html! { <admin::Throttles /> },
    };
    html! {
        <div class="page page-console">
            <section class="card account-bar" aria-label="Staff console">
                <p id="console-role">
                    <strong>{ info.user.display_name.clone() }</strong>
                    <span class="muted">{ format!(" — {}", info.role.label()) }</span>
                </p>
                <Link to={Route::Account} classes="button button-secondary">{ "Your account" }</Link>
            </section>
            <div class="card tabs">
                if tabs.len() > 1 {
                    <div class="tab-list console-tabs" role="tablist" aria-label="Console sections">
                        { for tabs.iter().map(|t| {
                            let t = *t;
                            let active = *tab == t;
                            let onclick = { let tab = tab.clone(); Callback::from(move |_: MouseEvent| tab.set(t)) };
                            html! {
                                <button id={t.id()} type="button" role="tab" class={classes!("tab", active.then_some("active"))}
                                    aria-selected={active.to_string()} {onclick}>{ t.label() }</button>
                            }
                        }) }
                    </div>
                }
                <div class="tab-panel" role="tabpanel">
                    { panel }
                </div>
            </div>
        </div>
    }
}
