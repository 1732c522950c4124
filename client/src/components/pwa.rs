//! The installable, offline-capable app around the pages: registers the
//! service worker (`/sw.js`, generated at build time with the precache list),
//! says when the app is offline and how old its data is, offers the waiting
//! new version ("A new version is available", Reload), and (in the footer)
//! the browser's install prompt.

use std::cell::{Cell, RefCell};

use gloo_timers::callback::Interval;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};
use yew::prelude::*;

use crate::format;
use crate::hooks::{use_bootstrap, use_online, WindowListener};
use crate::services::error::ApiClientError;
use crate::services::storage;

/// Local-storage key remembering that the user declined the install offer.
const INSTALL_DECLINED_KEY: &str = "latchkey.install_declined";

thread_local! {
    static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
    /// Set when the person asked for the new version: the next
    /// `controllerchange` reloads the page (the first install's does not).
    static RELOAD_ON_CHANGE: Cell<bool> = const { Cell::new(false) };
}

const INSTALL_PROMPT_PROPERTY: &str = "__latchkeyInstallPrompt";

fn saved_install_prompt() -> Option<JsValue> {
    let window = web_sys::window()?;
    js_sys::Reflect::get(&window, &JsValue::from_str(INSTALL_PROMPT_PROPERTY))
        .ok()
        .filter(|v| v.is_object())
}

fn save_install_prompt(event: &JsValue) {
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str(INSTALL_PROMPT_PROPERTY), event);
    }
}

fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    // Undefined outside secure contexts (plain http on a non-local address).
    let has =
        js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false);
    has.then(|| navigator.service_worker())
}

/// Asks the browser to look for a new `sw.js` (on reconnecting, hourly).
pub fn check_for_update() {
    REGISTRATION.with(|r| {
        if let Some(reg) = r.borrow().as_ref() {
            let _ = reg.update();
        }
    });
}

fn register(on_waiting: Callback<ServiceWorker>) {
    let Some(sw) = container() else {
        return;
    };
    let onchange = Closure::<dyn FnMut()>::new(|| {
        if RELOAD_ON_CHANGE.get() {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
    });
    sw.set_oncontrollerchange(Some(onchange.as_ref().unchecked_ref()));
    onchange.forget();

    let promise = sw.register("/sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(reg) = JsFuture::from(promise).await else {
            return;
        };
        let reg: ServiceWorkerRegistration = reg.unchecked_into();
        let controlled = || container().and_then(|c| c.controller()).is_some();
        // A new version already installed on an earlier visit.
        if let (Some(waiting), true) = (reg.waiting(), controlled()) {
            on_waiting.emit(waiting);
        }
        let found = reg.clone();
        let onupdatefound = Closure::<dyn FnMut()>::new(move || {
            let Some(installing) = found.installing() else {
                return;
            };
            let worker = installing.clone();
            let on_waiting = on_waiting.clone();
            let onstatechange = Closure::<dyn FnMut()>::new(move || {
                // With no controller this is the first install, not an update.
                if worker.state() == ServiceWorkerState::Installed && controlled() {
                    on_waiting.emit(worker.clone());
                }
            });
            installing.set_onstatechange(Some(onstatechange.as_ref().unchecked_ref()));
            onstatechange.forget();
        });
        reg.set_onupdatefound(Some(onupdatefound.as_ref().unchecked_ref()));
        onupdatefound.forget();
        REGISTRATION.with(|r| *r.borrow_mut() = Some(reg));
    });
}

#[component]
pub fn PwaBar() -> Html {
    let online = use_online();
    let bootstrap = use_bootstrap();
    let waiting = use_state(|| None::<ServiceWorker>);
    let now = use_state(storage::now_ms);

    {
        let (waiting, now) = (waiting.clone(), now.clone());
        use_effect_with((), move |_| {
            register(Callback::from(move |w| waiting.set(Some(w))));
            let listeners = [WindowListener::new("online", |_| check_for_update())];
            // The "last synced" age stays current; new versions are noticed
            // by long-open pages too.
            let mut ticks = 0u32;
            let ticker = Interval::new(30_000, move || {
                now.set(storage::now_ms());
                ticks += 1;
                if ticks.is_multiple_of(120) {
                    check_for_update();
                }
            });
            move || {
                drop(listeners);
                drop(ticker);
            }
        });
    }

    // Offline: the browser says so, or the server cannot be reached.
    let unreachable = bootstrap.error == Some(ApiClientError::Network);
    let offline = (!online || unreachable).then(|| {
        let synced = match bootstrap.synced_at_ms.filter(|_| bootstrap.data.is_some()) {
            Some(at) => html! {
                <>
                    { "Showing what the app last synced " }
                    <span id="last-synced" data-synced-at={format!("{at:.0}")}>{ format::age(*now, at) }</span>
                    { ". " }
                </>
            },
            None => html! { { "Nothing has been synced to this device yet. " } },
        };
        let lead = if online { "The server cannot be reached." } else { "You are offline." };
        html! {
            <div key="offline" id="offline-banner" class="pwa-banner pwa-offline" role="status">
                <p>
                    <strong>{ lead }</strong>{ " " }{ synced }
                    { "Signing in and changing, unlocking or resetting a password need a connection; \
                       the app syncs by itself when it is back." }
                </p>
            </div>
        }
    });

    let update = waiting.as_ref().map(|worker| {
        let worker = worker.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            RELOAD_ON_CHANGE.set(true);
            let _ = worker.post_message(&JsValue::from_str("skip-waiting"));
        });
        html! {
            <div key="update" id="update-banner" class="pwa-banner pwa-update" role="status">
                <p>{ "A new version of Latchkey is available." }</p>
                <button id="update-reload" type="button" class="button button-primary" {onclick}>{ "Reload" }</button>
            </div>
        }
    });

    html! {
        <div class="pwa-bar container" aria-live="polite">
            // One keyed list: banners come and go independently, and each
            // keeps its own element (unkeyed, Yew morphed one into another).
            // The install offer is not here but in the footer
            // ([`use_install_offer`]): browsers fire `beforeinstallprompt`
            // once the page has loaded, and a banner appearing up here then
            // pushed the whole page down (a layout shift of 0.11 on a first
            // visit, the last one Lighthouse counted).
            { for [update, offline].into_iter().flatten() }
        </div>
    }
}

/// The browser's offer to install the app, for the footer: it arrives after
/// the page has loaded (`beforeinstallprompt`), so it goes where it moves
/// nothing on screen; and people come here to fix a password, not to
/// install an app. A hook rather than a component (each component costs the
/// first-load module its own copy of Yew's lifecycle).
#[hook]
pub fn use_install_offer() -> Html {
    // The browser fires `beforeinstallprompt` once per page: the event is
    // kept on `window` so that the full module, started later, can offer it too.
    let install_prompt = use_state(saved_install_prompt);
    {
        let install_prompt = install_prompt.clone();
        use_effect_with((), move |_| {
            let (prompt, installed) = (install_prompt.clone(), install_prompt);
            let listeners = [
                WindowListener::new("beforeinstallprompt", move |e: web_sys::Event| {
                    e.prevent_default();
                    save_install_prompt(&e);
                    prompt.set(Some(e.into()));
                }),
                WindowListener::new("appinstalled", move |_| {
                    save_install_prompt(&JsValue::UNDEFINED);
                    installed.set(None)
                }),
            ];
            move || drop(listeners)
        });
    }

    // Once declined, it stays away.
    let declined = use_state(|| storage::load::<bool>(INSTALL_DECLINED_KEY).unwrap_or(false));
    let install = install_prompt.as_ref().filter(|_| !*declined).map(|event| {
        let ondecline = {
            let declined = declined.clone();
            Callback::from(move |_: MouseEvent| {
                storage::save(INSTALL_DECLINED_KEY, &true);
                declined.set(true);
            })
        };
        let (event, install_prompt) = (event.clone(), install_prompt.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            if let Ok(prompt) = js_sys::Reflect::get(&event, &JsValue::from_str("prompt")) {
                if let Some(prompt) = prompt.dyn_ref::<js_sys::Function>() {
                    let _ = prompt.call0(&event);
                }
            }
            // The event's prompt can be shown only once.
            save_install_prompt(&JsValue::UNDEFINED);
            install_prompt.set(None);
        });
        html! {
            <div class="pwa-banner pwa-install">
                <p>{ "Use Latchkey like an app on this device." }</p>
                <button id="install-app" type="button" class="button" {onclick}>{ "Install app" }</button>
                <button id="install-decline" type="button" class="button button-link" onclick={ondecline}>{ "Not now" }</button>
            </div>
        }
    });

    install.unwrap_or_default()
}
