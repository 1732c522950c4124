//! The hand-over from the first-load module to the full one.
//!
//! The front module (sign-in page, landing pages, notices, checklist) is
//! what a first visit downloads. When the person opens any other route, the
//! front renders [`LoadFullApp`]: it fetches and compiles the full module
//! (from the service worker's cache after the first visit), removes the
//! front app from the page and starts the full one, which reads the same
//! address and shows the page. The session cookie and the synced data in
//! local storage carry over; nothing typed is lost, since only routes with
//! no form of the front module hand over.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use crate::app::App;

#[wasm_bindgen(module = "/js/full_app.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn start_full_app(hand_over: &Closure<dyn FnMut()>) -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    static FRONT: RefCell<Option<yew::AppHandle<App>>> = const { RefCell::new(None) };
}

/// Keeps the front module's app so that the hand-over can take it down.
pub fn keep_front(handle: yew::AppHandle<App>) {
    FRONT.with(|f| *f.borrow_mut() = Some(handle));
}

#[derive(Clone, PartialEq)]
enum LoadState {
    Loading,
    Failed(String),
}

/// Placeholder for a route of the full module: loads it and hands over.
#[component]
pub fn LoadFullApp() -> Html {
    let state = use_state(|| LoadState::Loading);
    let attempt = use_state(|| 0u32);

    {
        let state = state.clone();
        use_effect_with(*attempt, move |_| {
            state.set(LoadState::Loading);
            wasm_bindgen_futures::spawn_local(async move {
                let hand_over = Closure::<dyn FnMut()>::new(|| {
                    if let Some(front) = FRONT.with(|f| f.borrow_mut().take()) {
                        front.destroy();
                    }
                    crate::services::strength::shutdown();
                });
                let result = match start_full_app(&hand_over) {
                    Ok(promise) => JsFuture::from(promise).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                // The closure must live until the promise has settled.
                drop(hand_over);
                if let Err(e) = result {
                    let online = web_sys::window()
                        .map(|w| w.navigator().on_line())
                        .unwrap_or(true);
                    let detail = e
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_default();
                    web_sys::console::warn_1(&format!("full app: {detail}").into());
                    state.set(LoadState::Failed(if online {
                        "This page could not be loaded. Please try again.".into()
                    } else {
                        "This page needs a connection the first time it is opened. Please connect and try again."
                            .into()
                    }));
                }
            });
        });
    }

    match &*state {
        LoadState::Loading => html! {
            <section class="card page-narrow">
                <p class="muted" aria-busy="true" id="full-app-loading">{ "Loading…" }</p>
            </section>
        },
        LoadState::Failed(message) => {
            let onretry = {
                let attempt = attempt.clone();
                Callback::from(move |_| attempt.set(*attempt + 1))
            };
            html! {
                <section class="card page-narrow">
                    <div class="alert alert-error" role="alert" id="full-app-error"><p>{ message.clone() }</p></div>
                    <button type="button" class="button" onclick={onretry}>{ "Try again" }</button>
                </section>
            }
        }
    }
}
