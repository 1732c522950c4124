//! The router and the contexts every page reads.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::footer::Footer;
use crate::components::header::Header;
use crate::components::pwa::PwaBar;
use crate::hooks::{use_bootstrap_loader, use_session_provider, BootstrapContext, SessionContext};
use crate::pages::account::Account;
use crate::pages::console::Console;
use crate::pages::enrol::Enrol;
use crate::pages::forgot::Forgot;
use crate::pages::unlock::Unlock;
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
    /// The staff console (LRA and administrator).
    #[at("/console")]
    Console,
    /// One-time enrolment with security questions.
    #[at("/enrol")]
    Enrol,
    #[at("/manage/:domain")]
    Manage { domain: String },
    #[at("/manage/:domain/unlock")]
    Unlock { domain: String },
    #[at("/manage/:domain/forgot")]
    Forgot { domain: String },
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::SignIn | Route::Mobile => html! { <SignIn /> },
        Route::Account => html! { <Account /> },
        Route::Console => html! { <Console /> },
        Route::Manage { domain } => html! { <Manage {domain} /> },
        Route::Enrol => html! { <Enrol /> },
        Route::Unlock { domain } => html! { <Unlock {domain} /> },
        Route::Forgot { domain } => html! { <Forgot {domain} /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

#[component]
pub fn App() -> Html {
    let bootstrap = use_bootstrap_loader();
    let session = use_session_provider();
    // The strength worker (zxcvbn) loads after the first paint.
    use_effect_with((), |_| {
        gloo_timers::callback::Timeout::new(0, crate::services::strength::preload).forget();
    });

    html! {
        <ContextProvider<BootstrapContext> context={bootstrap}>
            <ContextProvider<SessionContext> context={session}>
                <BrowserRouter>
                    <a class="skip-link" href="#main">{ "Skip to main content" }</a>
                    <Header />
                    <PwaBar />
                    <main id="main" class="container" tabindex="-1">
                        <Switch<Route> render={switch} />
                    </main>
                    <Footer />
                </BrowserRouter>
            </ContextProvider<SessionContext>>
        </ContextProvider<BootstrapContext>>
    }
}
