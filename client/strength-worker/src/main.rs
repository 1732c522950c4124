//! Latchkey's strength worker: answers each request with the full shared
//! policy check (`strength::check_password`, the same the server enforces),
//! off the main thread, so typing never waits for zxcvbn.
//!
//! Protocol (JSON strings both ways, see `protocol` in the client's
//! `services/strength.rs`): on start it posts `{"ready":true}`; each
//! `{"id":N,"policy":…,"context":…,"password":"…"}` is answered with
//! `{"id":N,"report":PolicyReport}`. Nothing is stored.

use latchkey_shared::strength::check_password;
use latchkey_shared::{PasswordPolicy, PolicyContext, PolicyReport};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

#[derive(Deserialize)]
struct Request {
    id: u64,
    policy: PasswordPolicy,
    context: PolicyContext,
    password: String,
}

#[derive(Serialize)]
struct Response {
    id: u64,
    report: PolicyReport,
}

/// The answer to one request's JSON text, or `None` if it is not a request.
fn answer(text: &str) -> Option<String> {
    let request: Request = serde_json::from_str(text).ok()?;
    let report = check_password(&request.policy, &request.password, &request.context);
    serde_json::to_string(&Response {
        id: request.id,
        report,
    })
    .ok()
}

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(out) = event.data().as_string().as_deref().and_then(answer) {
            let _ = reply.post_message(&JsValue::from_str(&out));
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let _ = scope.post_message(&JsValue::from_str(r#"{"ready":true}"#));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_the_full_report() {
        let request = serde_json::json!({
            "id": 7,
            "policy": PasswordPolicy::default(),
            "context": PolicyContext::default(),
            "password": "correct horse battery staple lantern",
        });
        let out: serde_json::Value =
            serde_json::from_str(&answer(&request.to_string()).unwrap()).unwrap();
        assert_eq!(out["id"], 7);
        assert!(out["report"]["strength"]["score"].as_u64().unwrap() >= 3);
        assert!(answer("not json").is_none());
    }
}
