use crate::router::Link;
use yew::prelude::*;

use crate::app::Route;
use crate::components::notices::Notices;
use crate::components::password_preview::PasswordPreview;
use crate::components::sign_in_form::SignInForm;
use crate::hooks::{use_bootstrap, use_session};

/// `/` (and `/m`): sign in, the per-domain self-service links, the messages.
#[component]
pub fn SignIn() -> Html {
    let bootstrap = use_bootstrap();
    let session = use_session();

    let load_problem = match (&bootstrap.data, &bootstrap.error) {
        (None, Some(e)) => Some(html! {
            <div class="alert alert-error" id="bootstrap-error">
                <p>{ "The sign-in options could not be loaded. " }{ e.message() }</p>
            </div>
        }),
        (None, None) => Some(html! { <p class="muted" aria-busy="true">{ "Loading…" }</p> }),
        _ => None,
    };

    let manage_links = bootstrap.data.as_ref().map(|data| {
        html! {
            <section class="card manage-links" aria-labelledby="manage-heading">
                <h2 id="manage-heading" class="visually-hidden">{ "Manage your password" }</h2>
                <p>{ "To change or manage your password profile, click the appropriate link:" }</p>
                <ul class="link-list">
                    { for data.domains.iter().map(|d| html! {
                        <li key={d.id.clone()}>
                            { format!("For {} Domain Users, ", d.name) }
                            <Link to={Route::Manage { domain: d.id.clone() }}>
                                { "click here" }
                                <span class="visually-hidden">{ format!(" to manage your {} password", d.name) }</span>
                            </Link>
                            { "." }
                        </li>
                    }) }
                </ul>
            </section>
        }
    });

    let notices = bootstrap
        .data
        .as_ref()
        .map(|data| html! { <Notices notices={data.notices.clone()} /> });

    html! {
        <div class="page page-sign-in">
            <div class="column">
                <section class="card" aria-labelledby="sign-in-heading">
                    <h1 id="sign-in-heading">{ "Sign in" }</h1>
                    if let Some(notice) = &session.notice {
                        <p id="session-notice" class="alert alert-info" role="status">{ notice.clone() }</p>
                    }
                    if let Some(info) = &session.info {
                        <p class="alert alert-info" id="signed-in-note">
                            { format!("You are signed in as {}. ", info.user.display_name) }
                            <Link to={Route::Account}>{ "Go to your account" }</Link>
                        </p>
                    }
                    { for load_problem }
                    <SignInForm />
                </section>
                { for manage_links }
            </div>
            <div class="column">
                { for notices }
                <PasswordPreview />
            </div>
        </div>
    }
}
