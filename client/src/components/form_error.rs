use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FormErrorProps {
    /// Nothing is rendered while this is `None`.
    #[prop_or_default]
    pub message: Option<AttrValue>,
    /// Extra lines under the message, e.g. the rules the server refused.
    #[prop_or_default]
    pub details: Vec<AttrValue>,
}

/// A form's error, announced by screen readers as soon as it appears.
#[component]
pub fn FormError(props: &FormErrorProps) -> Html {
    let Some(message) = &props.message else {
        return html! {};
    };
    html! {
        <div id="form-error" class="alert alert-error" role="alert" tabindex="-1">
            <p>{ message.clone() }</p>
            if !props.details.is_empty() {
                <ul>
                    { for props.details.iter().map(|d| html! { <li>{ d.clone() }</li> }) }
                </ul>
            }
        </div>
    }
}
