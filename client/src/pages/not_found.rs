use yew::prelude::*;

use crate::router::{Link, Route};

#[component]
pub fn NotFound() -> Html {
    html! {
        <section class="card page-narrow">
            <h1>{ "Page not found" }</h1>
            <p>{ "There is nothing at this address." }</p>
            <p><Link to={Route::SignIn}>{ "Go to the sign-in page" }</Link></p>
        </section>
    }
}
