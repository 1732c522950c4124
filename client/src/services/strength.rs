//! The strength estimate, off the main thread.
//!
//! zxcvbn and its ~770 KB of dictionaries are not in the main bundle: they
//! live in the strength worker (`client/strength-worker`, built by trunk into
//! `latchkey-strength-worker*.js/wasm` and precached by the service worker).
//! The worker is started after the first paint ([`preload`]); until it
//! answers, [`quick_report`] gives every rule that needs no dictionary, with
//! the NotCommon and MinStrength rules shown as not yet met.
//!
//! Latest wins: at most one request is with the worker; while it works, a
//! newer request replaces the waiting one, so typing never queues estimates.

use std::cell::RefCell;
use std::collections::HashMap;

use latchkey_shared::policy::{check_rules, estimator_rules};
use latchkey_shared::{PasswordPolicy, PolicyContext, PolicyReport};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::Callback;

/// The loader trunk writes for the worker (`data-loader-shim`).
const WORKER_URL: &str = "/latchkey-strength-worker_loader.js";

/// The check that needs no dictionary: [`check_rules`], then NotCommon (when
/// the policy blocks common passwords) and MinStrength as not yet met, with
/// the same wording as the full check, and no estimate.
pub fn quick_report(policy: &PasswordPolicy, password: &str, ctx: &PolicyContext) -> PolicyReport {
    let mut rules = check_rules(policy, password, ctx);
    rules.extend(estimator_rules(policy, false, false));
    PolicyReport {
        rules,
        strength: None,
    }
}

#[derive(Serialize)]
struct WorkerRequest<'a> {
    id: u64,
    policy: &'a PasswordPolicy,
    context: &'a PolicyContext,
    password: &'a str,
}

#[derive(Deserialize)]
struct WorkerMessage {
    #[serde(default)]
    ready: bool,
    #[serde(default)]
    id: u64,
    report: Option<PolicyReport>,
}

#[derive(Default)]
struct Service {
    worker: Option<web_sys::Worker>,
    ready: bool,
    failed: bool,
    next_id: u64,
    /// The request the worker is computing.
    busy: Option<u64>,
    /// The newest request not yet sent (replaced by newer ones).
    waiting: Option<(u64, String)>,
    callbacks: HashMap<u64, Callback<PolicyReport>>,
}

thread_local! {
    static SERVICE: RefCell<Service> = RefCell::new(Service::default());
}

/// Stops the worker (when the first-load module hands the page over: the
/// full module starts its own, and two copies of zxcvbn are 10+ MB).
pub fn shutdown() {
    SERVICE.with(|s| {
        if let Some(worker) = s.borrow_mut().worker.take() {
            worker.terminate();
        }
    });
}

fn post(worker: &web_sys::Worker, text: &str) -> bool {
    worker.post_message(&JsValue::from_str(text)).is_ok()
}

/// Sends the waiting request if the worker is free.
fn pump(s: &mut Service) {
    if !s.ready || s.busy.is_some() {
        return;
    }
    if let (Some(worker), Some((id, text))) = (s.worker.clone(), s.waiting.take()) {
        if post(&worker, &text) {
            s.busy = Some(id);
        } else {
            s.callbacks.remove(&id);
        }
    }
}

fn on_message(event: web_sys::MessageEvent) {
    let Some(text) = event.data().as_string() else {
        return;
    };
    let Some(message) = super::json::from_str::<WorkerMessage>(&text) else {
        return;
    };
    let done = SERVICE.with(|s| {
        let mut s = s.borrow_mut();
        if message.ready {
            s.ready = true;
            pump(&mut s);
            return None;
        }
        if s.busy == Some(message.id) {
            s.busy = None;
        }
        let callback = s.callbacks.remove(&message.id);
        pump(&mut s);
        callback.zip(message.report)
    });
    // Outside the borrow: the callback re-renders, which may ask again.
    if let Some((callback, report)) = done {
        callback.emit(report);
    }
}

fn start(s: &mut Service) {
    if s.worker.is_some() || s.failed {
        return;
    }
    match web_sys::Worker::new(WORKER_URL) {
        Ok(worker) => {
            let onmessage = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(on_message);
            worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            onmessage.forget();
            let onerror = Closure::<dyn FnMut(JsValue)>::new(|_| {
                SERVICE.with(|s| {
                    let mut s = s.borrow_mut();
                    s.failed = true;
                    s.worker = None;
                    s.busy = None;
                    s.waiting = None;
                    s.callbacks.clear();
                })
            });
            worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
            onerror.forget();
            s.worker = Some(worker);
        }
        Err(_) => s.failed = true,
    }
}

/// Starts the worker (after the first paint), so the estimate is ready by the
/// time someone types.
pub fn preload() {
    SERVICE.with(|s| start(&mut s.borrow_mut()));
}

/// Asks for the full report of `password`; `done` is called with it unless a
/// newer request replaced this one first. Nothing is kept after the answer.
pub fn request(
    policy: &PasswordPolicy,
    context: &PolicyContext,
    password: &str,
    done: Callback<PolicyReport>,
) {
    SERVICE.with(|s| {
        let mut s = s.borrow_mut();
        start(&mut s);
        if s.failed {
            return;
        }
        s.next_id += 1;
        let id = s.next_id;
        let Some(text) = super::json::to_string(&WorkerRequest {
            id,
            policy,
            context,
            password,
        }) else {
            return;
        };
        if let Some((old, _)) = s.waiting.replace((id, text)) {
            s.callbacks.remove(&old);
        }
        s.callbacks.insert(id, done);
        pump(&mut s);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_report_has_every_rule_of_the_full_check_in_the_same_order() {
        let policy = PasswordPolicy::default();
        let ctx = PolicyContext::default();
        for pw in ["", "short", "correct horse battery staple lantern"] {
            let quick = quick_report(&policy, pw, &ctx);
            let full = latchkey_shared::strength::check_password(&policy, pw, &ctx);
            let ids = |r: &PolicyReport| {
                r.rules
                    .iter()
                    .map(|r| (r.rule, r.message.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&quick), ids(&full));
            assert!(quick.strength.is_none() && !quick.passed());
        }
    }
}
