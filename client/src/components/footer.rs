use yew::prelude::*;

use crate::components::help_desk::HelpDeskContact;
use crate::hooks::use_bootstrap;

/// The Help Desk contact at the bottom of every page.
#[component]
pub fn Footer() -> Html {
    let bootstrap = use_bootstrap();
    let contact = match &bootstrap.data {
        Some(data) => html! {
            <p id="help-desk-contact">
                { "If you have difficulty using the Self Service Password Manager, please " }
                <HelpDeskContact help_desk={data.help_desk.clone()} />
                { "." }
            </p>
        },
        None => html! {
            <p>{ "If you have difficulty using the Self Service Password Manager, please contact the Help Desk." }</p>
        },
    };
    html! {
        <footer class="site-footer">
            <div class="container">{ contact }</div>
        </footer>
    }
}
