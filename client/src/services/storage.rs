//! The browser's local storage, as JSON. Failures (private mode, quota,
//! storage disabled) are not errors for the app: it just works without a
//! cached copy. Never store a password here.

use serde::de::DeserializeOwned;
use serde::Serialize;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = local_storage()?.get_item(key).ok().flatten()?;
    super::json::from_str(&text)
}

pub fn save<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Some(text)) = (local_storage(), super::json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
}

/// Milliseconds since the Unix epoch, from the browser's clock.
pub fn now_ms() -> f64 {
    js_sys_now()
}

fn js_sys_now() -> f64 {
    // `Date.now()` without pulling js-sys in as a direct dependency.
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.time_origin() + p.now())
        .unwrap_or(0.0)
}
