use yew::prelude::*;

use crate::components::notices::Notices;
use crate::components::password_preview::PasswordPreview;
use crate::components::sign_in_form::SignInForm;
use crate::hooks::{use_bootstrap, use_session};
use crate::router::{Link, Route};

/// `/` (and `/m`): sign in, the per-domain self-service links, the messages.
#[component]
pub fn SignIn() -> Html {
    let bootstrap = use_bootstrap();
    let session = use_session();

    // The section under the sign-in card is always there, with the same
    // heading and lead, so that nothing moves when the domains arrive: while
    // they load it says so (or why they could not be loaded), then it lists
    // the per-domain links. It keeps its place among the column's children,
    // so Yew updates it in place. (When it came only with the data, Yew
    // reused the sign-in card's element for it and moved it down the page:
    // a layout shift of 0.8 on a phone. Its lead, the largest text on a
    // phone's first screen, is also painted at once.)
    let links = match (&bootstrap.data, &bootstrap.error) {
        (Some(data), _) => html! {
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
        },
        (None, Some(e)) => html! {
            <div class="alert alert-error" id="bootstrap-error">
                <p>{ "The sign-in options could not be loaded. " }{ e.message() }</p>
            </div>
        },
        (None, None) => html! { <p class="muted">{ "Loading…" }</p> },
    };
    let manage_links = html! {
        <section class="card manage-links" aria-labelledby="manage-heading" aria-busy={(bootstrap.data.is_none() && bootstrap.error.is_none()).then_some("true")}>
            <h2 id="manage-heading" class="visually-hidden">{ "Manage your password" }</h2>
            <p>{ "To change or manage your password profile, click the appropriate link:" }</p>
            { links }
        </section>
    };

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
                    <SignInForm />
                </section>
                { manage_links }
            </div>
            <div class="column">
                { for notices }
                <PasswordPreview />
            </div>
        </div>
    }
}
