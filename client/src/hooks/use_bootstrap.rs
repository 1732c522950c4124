//! The data the app needs before anyone signs in (domains and their
//! policies, notices, the Help Desk contact), from `GET /api/bootstrap`.
//!
//! The last copy is kept in local storage with its `ETag`: the app renders
//! from it at once, then revalidates with `If-None-Match` (a `304` costs a
//! few bytes). This is also the copy the offline app will run from.

use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use latchkey_shared::api::{Bootstrap, DomainInfo};
use latchkey_shared::PasswordPolicy;
use serde::{Deserialize, Serialize};
use yew::prelude::*;

use crate::hooks::WindowListener;
use crate::services::api::{self, ApiClientError, BootstrapFetch};
use crate::services::storage;

const CACHE_KEY: &str = "latchkey.bootstrap.v1";
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

fn initial_state() -> BootstrapState {
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
            let etag = if has_cache { state.etag.clone() } else { None };
            let loader = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let state = loader;
                let mut delays = RETRY_DELAYS_MS.iter();
                loop {
                    state.dispatch(BootstrapAction::Loading);
                    match api::get_bootstrap(etag.as_deref()).await {
                        Ok(BootstrapFetch::Fresh { bootstrap, etag }) => {
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
        match api::get_bootstrap(etag.as_deref()).await {
            Ok(BootstrapFetch::Fresh { bootstrap, etag }) => {
                state.dispatch(BootstrapAction::Loaded { bootstrap, etag })
            }
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
