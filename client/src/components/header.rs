use latchkey_shared::PRODUCT_NAME;
use yew::prelude::*;

use crate::hooks::use_bootstrap;
use crate::router::{Link, Route};

/// The product banner at the top of every page.
#[component]
pub fn Header() -> Html {
    let bootstrap = use_bootstrap();
    let product = bootstrap
        .data
        .as_ref()
        .map(|b| AttrValue::from(b.product_name.clone()))
        .unwrap_or(AttrValue::Static(PRODUCT_NAME));

    html! {
        <header class="site-header">
            <div class="container header-inner">
                <Link to={Route::SignIn} classes="brand">
                    <svg class="brand-logo" viewBox="0 0 64 64" width="40" height="40" aria-hidden="true" focusable="false">
                        <rect width="64" height="64" rx="14" fill="currentColor" />
                        <circle cx="24" cy="32" r="10" fill="none" stroke="#fff" stroke-width="6" />
                        <path d="M36 32h17M46 32v8M52 32v6" stroke="#fff" stroke-width="6" stroke-linecap="round" fill="none" />
                    </svg>
                    <span class="brand-text">
                        <span class="brand-name">{ product }</span>
                        <span class="brand-tagline">{ "Self Service Password Manager" }</span>
                    </span>
                </Link>
            </div>
        </header>
    }
}
