//! API keys for the portal (`POST /api/portal/verify`): create, list, revoke.

use latchkey_shared::admin::{paths, ApiKeyCreate, ApiKeyCreated, ApiKeyInfo};
use yew::prelude::*;

use super::super::{text_field, when};
use super::{run, send, status_view, use_load, Status, Tab, TabState};
use crate::services::requests::{delete, get, post};

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
    Revoked,
}

impl TabState for ApiKeysState {
    type Action = Action;

    fn apply(&mut self, action: Action) -> Option<Status> {
        match action {
            Action::Loaded(keys) => self.keys = keys,
            Action::Name(v) => self.name = v,
            Action::Created(k) => {
                self.created = Some(k.key);
                self.name.clear();
                return Some(Status::ok(
                    "The key is created. Copy it now: it is shown only once.",
                ));
            }
            Action::Revoked => return Some(Status::ok("The key is revoked.")),
        }
        None
    }
}

#[component]
pub fn ApiKeys() -> Html {
    let state = use_reducer(|| Tab::new(ApiKeysState::default()));
    let dispatcher = state.dispatcher();
    let load = {
        let dispatcher = dispatcher.clone();
        Callback::from(move |()| {
            run(
                &dispatcher,
                get(paths::ADMIN_API_KEYS),
                Action::Loaded,
                None,
            );
        })
    };
    let load = use_load(load);
    let oncreate = {
        let (state, dispatcher, load) = (state.clone(), dispatcher.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = ApiKeyCreate {
                name: state.name.clone(),
            };
            let request = async move { post(paths::ADMIN_API_KEYS, &body).await };
            run(&dispatcher, request, Action::Created, Some(load.clone()));
        })
    };
    html! {
        <div class="console-keys">
            <h1 class="visually-hidden">{ "API keys" }</h1>
            { status_view(&state) }
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
                        let (dispatcher, load) = (dispatcher.clone(), load.clone());
                        Callback::from(move |_: MouseEvent| {
                            let request = async move { delete(&paths::with_id(paths::ADMIN_API_KEY, id)).await };
                            run(&dispatcher, request, |()| Action::Revoked, Some(load.clone()));
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
