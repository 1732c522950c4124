//! `/manage/:domain/unlock`: Unlock Account (the seeds' unlock guide).

use latchkey_shared::self_service::FlowKind;
use yew::prelude::*;

use super::self_service::SelfServiceFlow;

#[derive(Properties, PartialEq)]
pub struct UnlockProps {
    pub domain: AttrValue,
}

#[component]
pub fn Unlock(props: &UnlockProps) -> Html {
    html! { <SelfServiceFlow domain={props.domain.clone()} kind={FlowKind::Unlock} /> }
}
