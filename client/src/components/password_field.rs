use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PasswordFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    /// `current-password` or `new-password`, so password managers do the right thing.
    pub autocomplete: AttrValue,
    /// Show the characters instead of dots.
    #[prop_or_default]
    pub revealed: bool,
    #[prop_or_default]
    pub describedby: Option<AttrValue>,
    #[prop_or_default]
    pub disabled: bool,
    /// Extra classes on the wrapper, e.g. for layout.
    #[prop_or_default]
    pub class: Classes,
}

#[component]
pub fn PasswordField(props: &PasswordFieldProps) -> Html {
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            cb.emit(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    html! {
        <div class={classes!("field", props.class.clone())}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                id={props.id.clone()}
                name={props.id.clone()}
                type={if props.revealed { "text" } else { "password" }}
                value={props.value.clone()}
                {oninput}
                autocomplete={props.autocomplete.clone()}
                autocapitalize="off"
                autocorrect="off"
                spellcheck="false"
                required=true
                disabled={props.disabled}
                aria-describedby={props.describedby.clone()}
            />
        </div>
    }
}
