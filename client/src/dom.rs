//! Small DOM helpers the components need outside of rendering.

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Moves keyboard focus (and so the scroll position) to an element, e.g. a
/// message that appeared at the top of a long form on a phone. The element
/// needs `tabindex="-1"` unless it is focusable anyway.
pub fn focus_by_id(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
