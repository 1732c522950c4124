//! Whether the browser is online (`navigator.onLine`, its `online` and
//! `offline` events, which DevTools' network emulation drives too), and a
//! small event-listener guard for window events.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A listener on a window event, removed when dropped.
pub struct WindowListener {
    event: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl WindowListener {
    pub fn new(event: &'static str, f: impl FnMut(web_sys::Event) + 'static) -> Self {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        if let Some(w) = web_sys::window() {
            let _ = w.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
        Self { event, closure }
    }
}

impl Drop for WindowListener {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                self.event,
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// `navigator.onLine` now (true when unknown).
pub fn is_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

/// Re-renders the component when the browser goes offline or online.
#[hook]
pub fn use_online() -> bool {
    let online = use_state(is_online);
    {
        let online = online.clone();
        use_effect_with((), move |_| {
            let (on, off) = (online.clone(), online);
            let listeners = [
                WindowListener::new("online", move |_| on.set(true)),
                WindowListener::new("offline", move |_| off.set(false)),
            ];
            move || drop(listeners)
        });
    }
    *online
}
