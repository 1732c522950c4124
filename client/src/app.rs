//! The router and the contexts every page reads.

use yew::prelude::*;

use crate::components::footer::Footer;
use crate::components::header::Header;
use crate::components::pwa::PwaBar;
use crate::full_app::LoadFullApp;
use crate::hooks::{use_bootstrap_loader, use_session_provider, BootstrapContext, SessionContext};
use crate::pages::account::Account;
use crate::pages::console::Console;
use crate::pages::enrol::Enrol;
use crate::pages::forgot::Forgot;
use crate::pages::manage::Manage;
use crate::pages::not_found::NotFound;
use crate::pages::sign_in::SignIn;
use crate::pages::unlock::Unlock;
use crate::router::{Route, Router};

/// The first-load module's pages. Every other route hands over to the full
/// module; only this function and what it reaches are linked into the
/// first-load wasm, so the console, enrolment and self-service flows cost
/// nothing until somebody opens them.
pub fn switch_front(route: Route) -> Html {
    match route {
        Route::SignIn | Route::Mobile => html! { <SignIn /> },
        Route::NotFound => html! { <NotFound /> },
        Route::Manage { .. }
        | Route::Account
        | Route::Console
        | Route::Enrol
        | Route::Unlock { .. }
        | Route::Forgot { .. } => {
            html! { <LoadFullApp /> }
        }
    }
}

/// Every page (the full module).
pub fn switch_full(route: Route) -> Html {
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

#[derive(Properties)]
pub struct AppProps {
    /// [`switch_front`] or [`switch_full`]: a function pointer rather than a
    /// flag, so that the front module never links the full module's pages.
    pub switch: fn(Route) -> Html,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.switch, other.switch)
    }
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let bootstrap = use_bootstrap_loader();
    let session = use_session_provider();
    // The strength worker (zxcvbn) loads after the first paint.
    use_effect_with((), |_| {
        gloo_timers::callback::Timeout::new(0, crate::services::strength::preload).forget();
    });

    html! {
        <ContextProvider<BootstrapContext> context={bootstrap}>
            <ContextProvider<SessionContext> context={session}>
                <Router render={props.switch}>
                    <a class="skip-link" href="#main">{ "Skip to main content" }</a>
                    <Header />
                    <PwaBar />
                </Router>
                <Footer />
            </ContextProvider<SessionContext>>
        </ContextProvider<BootstrapContext>>
    }
}
