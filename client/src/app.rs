//! The router and the contexts every page reads.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::footer::Footer;
use crate::components::header::Header;
use crate::hooks::{use_bootstrap_loader, use_session_provider, BootstrapContext, SessionContext};
use crate::pages::account::Account;
use crate::pages::manage::Manage;
use crate::pages::not_found::NotFound;
use crate::pages::sign_in::SignIn;

#[derive(Clone, Debug, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    SignIn,
    /// The seeds' separate mobile link; here it is the same responsive app.
    #[at("/m")]
    Mobile,
    #[at("/account")]
    Account,
    #[at("/manage/:domain")]
    Manage { domain: String },
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::SignIn | Route::Mobile => html! { <SignIn /> },
        Route::Account => html! { <Account /> },
        Route::Manage { domain } => html! { <Manage {domain} /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

#[component]
pub fn App() -> Html {
    let bootstrap = use_bootstrap_loader();
    let session = use_session_provider();

    html! {
        <ContextProvider<BootstrapContext> context={bootstrap}>
            <ContextProvider<SessionContext> context={session}>
                <BrowserRouter>
                    <a class="skip-link" href="#main">{ "Skip to main content" }</a>
                    <Header />
                    <main id="main" class="container" tabindex="-1">
                        <Switch<Route> render={switch} />
                    </main>
                    <Footer />
                </BrowserRouter>
            </ContextProvider<SessionContext>>
        </ContextProvider<BootstrapContext>>
    }
}
