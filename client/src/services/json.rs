//! JSON through the browser's own `JSON.parse`/`JSON.stringify`, with
//! serde-wasm-bindgen between JS values and Rust types. serde_json's parser
//! and formatter added about 9 KB of brotli to the first-load module for
//! what the browser already does natively.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `None` for text that is not JSON or not the expected shape.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// JSON text: `None` maps become objects and `None` becomes `null`, as
/// serde_json would write them.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let value = to_value(value)?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}

pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Option<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()
}
