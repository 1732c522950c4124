use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DomainSelectProps {
    /// `(slug, name)` for each domain, in the server's order.
    pub domains: Vec<(AttrValue, AttrValue)>,
    /// The selected slug.
    pub value: AttrValue,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub disabled: bool,
}

/// The authentication-domain selector (`#domain`).
#[component]
pub fn DomainSelect(props: &DomainSelectProps) -> Html {
    let onchange = {
        let cb = props.onchange.clone();
        Callback::from(move |e: Event| {
            cb.emit(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    html! {
        <div class="field">
            <label for="domain">{ "Authentication domain" }</label>
            <select id="domain" name="domain" {onchange} disabled={props.disabled || props.domains.is_empty()}>
                { for props.domains.iter().map(|(slug, name)| html! {
                    <option key={slug.to_string()} value={slug.clone()} selected={*slug == props.value}>
                        { name.clone() }
                    </option>
                }) }
            </select>
        </div>
    }
}
