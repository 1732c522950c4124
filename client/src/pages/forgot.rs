//! `/manage/:domain/forgot`: Forgot Password (for users who enrolled).

use latchkey_shared::self_service::FlowKind;
use yew::prelude::*;

use super::self_service::SelfServiceFlow;

#[derive(Properties, PartialEq)]
pub struct ForgotProps {
    pub domain: AttrValue,
}

#[component]
pub fn Forgot(props: &ForgotProps) -> Html {
    html! { <SelfServiceFlow domain={props.domain.clone()} kind={FlowKind::Reset} /> }
}
