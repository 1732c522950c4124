//! The data the app needs before anyone signs in (domains and their
//! policies, notices, the Help Desk contact), from `GET /api/bootstrap`.
//!
//! The last copy is kept in local storage with its `ETag`: the app renders
//! from it at once, then revalidates with `If-None-Match` (a `304` costs a
//! few bytes). This is also the copy the offline app will run from.
//!
//! On a first visit (nothing kept yet) the app asks for it before its first
//! render ([`when_ready`]) and renders once, with the data, instead of
//! rendering the page without its domains and notices and then again with
//! them: one paint, and no second render (the largest task of the load,
//! after the first paint) for the person to wait through.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use latchkey_shared::api::{Bootstrap, DomainInfo};
use latchkey_shared::PasswordPolicy;
use serde::{Deserialize, Serialize};
use yew::prelude::*;

use crate::hooks::WindowListener;
use crate::services::bootstrap::{self, BootstrapFetch};
use crate::services::error::ApiClientError;
use crate::services::storage;

const CACHE_KEY: &str = "latchkey.bootstrap.v1";
/// How long a first visit's first render waits for the data once the app
/// has loaded; a slower answer arrives in the rendered page.
const FIRST_RENDER_WAIT_MS: i32 = 800;
/// Retries of the first load when there is no cached copy to fall back on.
const RETRY_DELAYS_MS: [u32; 4] = [2_000, 5_000, 15_000, 30_000];

/// What is kept in local storage.
#[derive(Serialize, Deserialize)]
struct Cached {
    etag: Option<String>,
    /// When this client last heard from the server about it, ms since the epoch.
    synced_at_ms: f64,
    bootstrap: Bootstrap,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BootstrapState {
    pub data: Option<Rc<Bootstrap>>,
    pub etag: Option<String>,
    /// When the data was last confirmed by the server (ms since the epoch).
    pub synced_at_ms: Option<f64>,
    /// A request to the server is under way.
    pub loading: bool,
    /// The last attempt to reach the server failed.
    pub error: Option<ApiClientError>,
}

impl BootstrapState {
    pub fn domain(&self, slug: &str) -> Option<&DomainInfo> {
        self.data.as_ref()?.domains.iter().find(|d| d.id == slug)
    }

    fn save(&self) {
        if let Some(data) = &self.data {
            storage::save(
                CACHE_KEY,
                &Cached {
                    etag: self.etag.clone(),
                    synced_at_ms: self.synced_at_ms.unwrap_or_default(),
                    bootstrap: (**data).clone(),
                },
            );
        }
    }
}

pub enum BootstrapAction {
    Loading,
    Loaded {
        bootstrap: Bootstrap,
        etag: Option<String>,
    },
    NotModified,
    Failed(ApiClientError),
    /// The server said a domain's policy has moved on (409 on a change).
    PolicyUpdated {
        domain: String,
        policy: PasswordPolicy,
    },
}

impl Reducible for BootstrapState {
    type Action = BootstrapAction;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            BootstrapAction::Loading => next.loading = true,
            BootstrapAction::Loaded { bootstrap, etag } => {
                next.data = Some(Rc::new(bootstrap));
                next.etag = etag;
                next.synced_at_ms = Some(storage::now_ms());
                next.loading = false;
                next.error = None;
                next.save();
            }
            BootstrapAction::NotModified => {
                next.synced_at_ms = Some(storage::now_ms());
                next.loading = false;
                next.error = None;
                next.save();
            }
            BootstrapAction::Failed(error) => {
                next.loading = false;
                next.error = Some(error);
            }
            BootstrapAction::PolicyUpdated { domain, policy } => {
                if let Some(data) = &next.data {
                    let mut data = (**data).clone();
                    if let Some(d) = data.domains.iter_mut().find(|d| d.id == domain) {
                        d.policy = policy;
                    }
                    next.data = Some(Rc::new(data));
                    // The ETag no longer describes what we hold: revalidate in full next time.
                    next.etag = None;
                    next.save();
                }
            }
        }
        Rc::new(next)
    }
}

pub type BootstrapContext = UseReducerHandle<BootstrapState>;

type Answer = Result<BootstrapFetch, ApiClientError>;

thread_local! {
    /// The request [`when_ready`] started: settles once it has an answer.
    static EARLY_REQUEST: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
    /// Its answer, until the loader takes it.
    static EARLY_ANSWER: RefCell<Option<Answer>> = const { RefCell::new(None) };
}

/// Runs `render` (the app's first render) once the bootstrap data is there
/// to render with: at once when a copy is kept (it is revalidated after the
/// render) or when offline; otherwise when `GET /api/bootstrap` has
/// answered, or after [`FIRST_RENDER_WAIT_MS`], whichever comes first.
pub fn when_ready(render: impl FnOnce() + 'static) {
    let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
    if !online || storage::load::<Cached>(CACHE_KEY).is_some() {
        render();
        return;
    }
    let request = wasm_bindgen_futures::future_to_promise(async {
        let answer = bootstrap::get_bootstrap(None).await;
        EARLY_ANSWER.with(|a| *a.borrow_mut() = Some(answer));
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    });
    EARLY_REQUEST.with(|r| *r.borrow_mut() = Some(request.clone()));
    let timeout = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                FIRST_RENDER_WAIT_MS,
            );
        }
    });
    let first = js_sys::Promise::race(&js_sys::Array::of2(&request, &timeout));
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(first).await;
        render();
    });
}

/// The answer to the request [`when_ready`] started, waiting for it if it
/// is still under way; `None` if there was none (or it was taken).
async fn early_answer() -> Option<Answer> {
    let request = EARLY_REQUEST.with(|r| r.borrow_mut().take())?;
    let _ = wasm_bindgen_futures::JsFuture::from(request).await;
    EARLY_ANSWER.with(|a| a.borrow_mut().take())
}

fn initial_state() -> BootstrapState {
    // A first visit whose data came before the first render: render with it.
    if let Some(Ok(BootstrapFetch::Fresh {
        body: bootstrap,
        etag,
    })) = EARLY_ANSWER.with(|a| a.borrow_mut().take())
    {
        EARLY_REQUEST.with(|r| r.borrow_mut().take());
        let state = BootstrapState {
            data: Some(Rc::new(bootstrap)),
            etag,
            synced_at_ms: Some(storage::now_ms()),
            loading: false,
            error: None,
        };
        state.save();
        return state;
    }
    match storage::load::<Cached>(CACHE_KEY) {
        Some(cached) => BootstrapState {
            data: Some(Rc::new(cached.bootstrap)),
            etag: cached.etag,
            synced_at_ms: Some(cached.synced_at_ms),
            loading: true,
            error: None,
        },
        None => BootstrapState {
            loading: true,
            ..Default::default()
        },
    }
}

/// Used once, by the app: owns the state, loads and caches it.
#[hook]
pub fn use_bootstrap_loader() -> BootstrapContext {
    let state = use_reducer_eq(initial_state);
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            // The handle's value is a snapshot of the first render: read it now.
            let has_cache = state.data.is_some();
            // Not loading: the first render already has the server's answer.
            let needed = state.loading;
            let etag = if has_cache { state.etag.clone() } else { None };
            let loader = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if !needed {
                    return;
                }
                let state = loader;
                let mut delays = RETRY_DELAYS_MS.iter();
                // The request started before the first render, if it is still
                // under way (or failed); then requests of our own.
                let mut early = early_answer().await;
                loop {
                    let answer = match early.take() {
                        Some(answer) => answer,
                        None => {
                            state.dispatch(BootstrapAction::Loading);
                            bootstrap::get_bootstrap(etag.as_deref()).await
                        }
                    };
                    match answer {
                        Ok(BootstrapFetch::Fresh {
                            body: bootstrap,
                            etag,
                        }) => {
                            state.dispatch(BootstrapAction::Loaded { bootstrap, etag });
                            break;
                        }
                        Ok(BootstrapFetch::NotModified) => {
                            state.dispatch(BootstrapAction::NotModified);
                            break;
                        }
                        Err(error) => {
                            let retry = error == ApiClientError::Network
                                || matches!(
                                    error.code(),
                                    Some(latchkey_shared::api::ErrorCode::Busy)
                                );
                            state.dispatch(BootstrapAction::Failed(error));
                            // With a cached copy the app works as it is; without
                            // one, keep trying for a while.
                            match delays.next() {
                                Some(&ms) if retry && !has_cache => {
                                    TimeoutFuture::new(ms).await;
                                }
                                _ => break,
                            }
                        }
                    }
                }
            });
            // Back online: revalidate (a 304 if nothing changed).
            let listener = WindowListener::new("online", move |_| resync(state.clone()));
            move || drop(listener)
        });
    }
    state
}

/// One revalidation of the cached copy, e.g. when the network comes back.
fn resync(state: BootstrapContext) {
    let etag = storage::load::<Cached>(CACHE_KEY).and_then(|c| c.etag);
    wasm_bindgen_futures::spawn_local(async move {
        state.dispatch(BootstrapAction::Loading);
        match bootstrap::get_bootstrap(etag.as_deref()).await {
            Ok(BootstrapFetch::Fresh {
                body: bootstrap,
                etag,
            }) => state.dispatch(BootstrapAction::Loaded { bootstrap, etag }),
            Ok(BootstrapFetch::NotModified) => state.dispatch(BootstrapAction::NotModified),
            Err(error) => state.dispatch(BootstrapAction::Failed(error)),
        }
    });
}

/// The bootstrap state, for any component under the app.
#[hook]
pub fn use_bootstrap() -> BootstrapContext {
    use_context::<BootstrapContext>().expect("use_bootstrap outside the App's BootstrapContext")
}
