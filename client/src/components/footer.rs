use yew::prelude::*;

use crate::components::help_desk::HelpDeskContact;
use crate::components::pwa::use_install_offer;
use crate::hooks::use_bootstrap;

/// The Help Desk contact at the bottom of every page, and the offer to
/// install the app when the browser makes one.
#[component]
pub fn Footer() -> Html {
    let bootstrap = use_bootstrap();
    let install = use_install_offer();
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
            <div class="container">
                { contact }
                { install }
            </div>
        </footer>
    }
}
