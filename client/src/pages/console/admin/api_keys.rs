//! API keys for the portal (`POST /api/portal/verify`): create, list, revoke.

use std::rc::Rc;

use latchkey_shared::admin::{ApiKeyCreate, ApiKeyCreated, ApiKeyInfo};
use yew::prelude::*;

use super::super::{text_field, when};
use super::{outcome, use_load};
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::admin;

#[derive(Clone, PartialEq, Default)]
pub struct ApiKeysState {
    keys: Vec<ApiKeyInfo>,
    /// The new key's name, as typed.
    name: String,
    /// The key just created: shown once.
    created: Option<String>,
}

pub enum Action {
    Loaded(Vec<ApiKeyInfo>),
    Name(String),
    Created(ApiKeyCreated),
}

impl Reducible for ApiKeysState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Loaded(keys) => next.keys = keys,
            Action::Name(v) => next.name = v,
            Action::Created(k) => {
                next.created = Some(k.key);
                next.name.clear();
            }
        }
        Rc::new(next)
    }
}

#[component]
pub fn ApiKeys() -> Html {
    let state = use_reducer(ApiKeysState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();
    let load = {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        Callback::from(move |()| {
            let dispatcher = dispatcher.clone();
            request.load(admin::api_keys(), move |keys| {
                dispatcher.dispatch(Action::Loaded(keys))
            });
        })
    };
    let load = use_load(load);
    let oncreate = {
        let (state, request, load) = (state.clone(), request.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = ApiKeyCreate {
                name: state.name.clone(),
            };
            let (dispatcher, load) = (state.dispatcher(), load.clone());
            request.run(
                async move { admin::create_api_key(&body).await },
                move |key| {
                    dispatcher.dispatch(Action::Created(key));
                    load.emit(());
                    Some("The key is created. Copy it now: it is shown only once.".into())
                },
            );
        })
    };
    html! {
        <div class="console-keys">
            <h1 class="visually-hidden">{ "API keys" }</h1>
            { outcome(&request) }
            if let Some(k) = &state.created {
                <div class="alert alert-warning" role="status">
                    <p>{ "New API key (shown once):" }</p>
                    <p><code id="api-key-value" class="temp-password">{ k.clone() }</code></p>
                </div>
            }
            <ul id="api-keys" class="admin-list">
                { for state.keys.iter().map(|k| {
                    let id = k.id;
                    let revoke = {
                        let (request, load) = (request.clone(), load.clone());
                        Callback::from(move |_: MouseEvent| {
                            let load = load.clone();
                            request.run(admin::revoke_api_key(id), move |()| {
                                load.emit(());
                                Some("The key is revoked.".into())
                            });
                        })
                    };
                    html! {
                        <li class="api-key">
                            <strong>{ k.name.clone() }</strong>
                            <span class="muted small">{ format!(" {}… · created {}{}", k.prefix, when(k.created_at),
                                k.last_used_at.map(|t| format!(" · last used {}", when(t))).unwrap_or_default()) }</span>
                            if let Some(t) = k.revoked_at {
                                <span class="badge">{ format!("Revoked {}", when(t)) }</span>
                            } else {
                                <button type="button" class="button button-secondary api-key-revoke" onclick={revoke}>{ "Revoke" }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
            <form id="api-key-form" class="console-form" onsubmit={oncreate}>
                { text_field("api-key-name", "Name of the new key (e.g. ClinicalConnect)", &state.name, send(&dispatcher, Action::Name)) }
                <button id="api-key-create" type="submit" class="button button-primary">{ "Create key" }</button>
            </form>
            <p class="muted small">{ "The portal calls POST /api/portal/verify with Authorization: Bearer <key>. " }
                <a href="/api/openapi.json">{ "OpenAPI description" }</a></p>
        </div>
    }
}
