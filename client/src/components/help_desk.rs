use latchkey_shared::api::HelpDesk;
use yew::prelude::*;

use crate::format::tel_href;

#[derive(Properties, PartialEq)]
pub struct HelpDeskContactProps {
    pub help_desk: HelpDesk,
}

/// "contact the Help Desk 905-521-2100 ext. 43000 or email helpd@hhsc.ca",
/// with tappable links.
#[component]
pub fn HelpDeskContact(props: &HelpDeskContactProps) -> Html {
    let HelpDesk { phone, email } = &props.help_desk;
    html! {
        <span class="help-desk">
            { "contact the Help Desk " }
            <a href={tel_href(phone)} class="nowrap">{ phone.clone() }</a>
            { " or email " }
            <a href={format!("mailto:{email}")}>{ email.clone() }</a>
        </span>
    }
}
