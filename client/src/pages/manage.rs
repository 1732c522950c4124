use yew::prelude::*;

use crate::components::help_desk::HelpDeskContact;
use crate::components::sign_in_form::SignInForm;
use crate::hooks::use_bootstrap;
use crate::router::{Link, Route};

#[derive(Properties, PartialEq)]
pub struct ManageProps {
    /// Domain slug from the address.
    pub domain: AttrValue,
}

/// `/manage/:domain`: a domain's self-service landing page.
#[component]
pub fn Manage(props: &ManageProps) -> Html {
    let bootstrap = use_bootstrap();
    let back = html! {
        <p class="back-link"><Link to={Route::SignIn}>{ "← Back to the sign-in page" }</Link></p>
    };

    let Some(data) = bootstrap.data.clone() else {
        return html! {
            <section class="card page-narrow">
                if let Some(e) = &bootstrap.error {
                    <div class="alert alert-error"><p>{ e.message() }</p></div>
                } else {
                    <p class="muted" aria-busy="true">{ "Loading…" }</p>
                }
                { back }
            </section>
        };
    };

    let Some(domain) = data.domains.iter().find(|d| *d.id == *props.domain) else {
        return html! {
            <section class="card page-narrow">
                <h1>{ "Unknown domain" }</h1>
                <p>{ "There is no authentication domain at this address." }</p>
                { back }
            </section>
        };
    };

    if !domain.sspm_available {
        let text = domain.unavailable_message();
        return html! {
            <section class="card page-narrow" aria-labelledby="manage-heading">
                <h1 id="manage-heading">{ format!("{} Domain Users", domain.name) }</h1>
                <p id="sspm-unavailable" class="alert alert-info">{ text }</p>
                <p>{ "For help, " }<HelpDeskContact help_desk={data.help_desk.clone()} />{ "." }</p>
                { back }
            </section>
        };
    }

    html! {
        <div class="page page-manage">
            <section class="card" aria-labelledby="manage-heading">
                <p class="eyebrow">{ format!("{} Domain Users", domain.name) }</p>
                <h1 id="manage-heading">{ "Sign In to Change Your Password" }</h1>
                <SignInForm fixed_domain={AttrValue::from(domain.id.clone())} submit_label="Sign In" />
            </section>
            <section class="card" aria-labelledby="other-heading">
                <h2 id="other-heading" class="visually-hidden">{ "Other self-service options" }</h2>
                <div class="option">
                    <h3 id="link-unlock"><Link to={Route::Unlock { domain: domain.id.clone() }} classes="option-link">{ "Unlock Account" }</Link></h3>
                    <p>{ "Unlock your account after multiple failed login attempts." }</p>
                </div>
                <div class="option">
                    <h3 id="link-forgot"><Link to={Route::Forgot { domain: domain.id.clone() }} classes="option-link">{ "Forgot Password" }</Link></h3>
                    <p>
                        { "If you have forgotten your password, and " }
                        <strong>{ "have previously enrolled in Self-Service Password Manager (SSPM) by setting up your security questions" }</strong>
                        { ", you can reset your password yourself. If you have forgotten your password but never enrolled in SSPM, \
                           you must contact your organization's Local Registration Authority to have your password reset manually." }
                    </p>
                </div>
                { back }
            </section>
        </div>
    }
}
