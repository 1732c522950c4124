//! "Check a new password" on the sign-in page: each self-service domain's
//! requirements and the strength meter, before signing in and offline too
//! (from the last synced policies; nothing typed here is sent or stored).

use latchkey_shared::{PolicyContext, PRODUCT_NAME};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::password_checklist::PasswordChecklist;
use crate::components::password_field::PasswordField;
use crate::components::strength_meter::StrengthMeter;
use crate::hooks::{use_bootstrap, use_password_check};

#[component]
pub fn PasswordPreview() -> Html {
    let bootstrap = use_bootstrap();
    let chosen = use_state(|| None::<String>);
    let password = use_state(String::new);

    let domains: Vec<_> = bootstrap
        .data
        .as_ref()
        .map(|d| {
            d.domains
                .iter()
                .filter(|d| d.sspm_available)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let domain = (*chosen)
        .as_ref()
        .and_then(|slug| domains.iter().find(|d| d.id == *slug))
        .or_else(|| domains.first())
        .cloned();
    let (policy, context) = match &domain {
        Some(d) => (
            d.policy.clone(),
            PolicyContext {
                domain_name: d.name.clone(),
                product_name: PRODUCT_NAME.to_owned(),
                ..PolicyContext::default()
            },
        ),
        None => Default::default(),
    };
    let min_strength = policy.min_strength;
    let check = use_password_check(policy, context, (*password).clone());

    let Some(domain) = domain else {
        return html! {};
    };
    let onchange = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            chosen.set(Some(e.target_unchecked_into::<HtmlSelectElement>().value()))
        })
    };
    let oninput = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    let typed = !password.is_empty();
    html! {
        <section class="card password-preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">{ "Password requirements" }</h2>
            <p class="muted small">{ "Try a new password against your domain's rules. It is checked on this device only: nothing you type here is sent or kept." }</p>
            <div class="field">
                <label for="preview-domain">{ "Domain" }</label>
                <select id="preview-domain" {onchange}>
                    { for domains.iter().map(|d| html! {
                        <option key={d.id.clone()} value={d.id.clone()} selected={d.id == domain.id}>{ d.name.clone() }</option>
                    }) }
                </select>
            </div>
            <PasswordField
                id="try-password"
                label="New password"
                value={AttrValue::from((*password).clone())}
                {oninput}
                autocomplete="off"
                describedby={Some(AttrValue::Static("requirements-heading strength"))}
            />
            <StrengthMeter
                estimate={typed.then(|| check.report.strength.clone()).flatten()}
                pending={typed && check.estimating}
                {min_strength}
            />
            <PasswordChecklist rules={check.report.rules.clone()} confirmation_matches={false} pristine={!typed} with_confirmation={false} />
        </section>
    }
}
