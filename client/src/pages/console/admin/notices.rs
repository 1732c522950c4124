//! Notices on the sign-in page, the one-step mandatory password reset, and
//! the Help Desk contact.

use std::rc::Rc;

use latchkey_shared::admin::{
    AdminDomain, AdminNotice, MandatoryResetRequest, MandatoryResetResponse, NoticeInput,
    MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::api::HelpDesk;
use yew::prelude::*;

use super::super::{area_field, check_field, number_field, text_field, today};
use super::{outcome, use_load};
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::admin;

fn blank_notice() -> NoticeInput {
    NoticeInput {
        title: String::new(),
        body: String::new(),
        posted_on: today(),
        published: true,
        sort_order: 0,
    }
}

#[derive(Clone, PartialEq)]
pub struct NoticesState {
    notices: Vec<AdminNotice>,
    /// The notice the form edits; `None` for a new one.
    editing: Option<i64>,
    form: NoticeInput,
    /// The order field as typed.
    order: String,
    /// The domains the mandatory reset can apply to.
    domains: Vec<AdminDomain>,
    reset_domains: Vec<String>,
    reset_users: String,
    reset_reason: String,
    help: HelpDesk,
}

pub enum Action {
    Notices(Vec<AdminNotice>),
    Domains(Vec<AdminDomain>),
    HelpDesk(HelpDesk),
    Pick(AdminNotice),
    New,
    Edit(Box<dyn FnOnce(&mut NoticeInput)>),
    Order(String),
    Saved(AdminNotice),
    Deleted,
    ResetDomain(String, bool),
    ResetUsers(String),
    ResetReason(String),
    Phone(String),
    Email(String),
}

impl NoticesState {
    fn new() -> Self {
        NoticesState {
            notices: Vec::new(),
            editing: None,
            form: blank_notice(),
            order: "0".to_owned(),
            domains: Vec::new(),
            reset_domains: Vec::new(),
            reset_users: String::new(),
            reset_reason: String::new(),
            help: HelpDesk {
                phone: String::new(),
                email: String::new(),
            },
        }
    }

    fn notice(&self) -> NoticeInput {
        NoticeInput {
            sort_order: self.order.trim().parse().unwrap_or(0),
            ..self.form.clone()
        }
    }

    fn reset_request(&self) -> MandatoryResetRequest {
        MandatoryResetRequest {
            domains: self.reset_domains.clone(),
            usernames: self
                .reset_users
                .split([',', '\n', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            notice_id: None,
            reason: self.reset_reason.clone(),
        }
    }
}

fn reset_done_message(r: &MandatoryResetResponse) -> String {
    let mut m = format!(
        "{} users must change their password at next sign-in; \"{}\" is published.",
        r.users_marked, r.notice.title
    );
    if !r.unknown_usernames.is_empty() {
        m.push_str(&format!(" Unknown: {}.", r.unknown_usernames.join(", ")));
    }
    m
}

impl Reducible for NoticesState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

impl NoticesState {
    fn apply(&mut self, action: Action) {
        match action {
            Action::Notices(n) => self.notices = n,
            Action::Domains(d) => self.domains = d,
            Action::HelpDesk(h) => self.help = h,
            Action::Pick(n) => {
                self.editing = Some(n.id);
                self.order = n.sort_order.to_string();
                self.form = NoticeInput {
                    title: n.title,
                    body: n.body,
                    posted_on: n.posted_on,
                    published: n.published,
                    sort_order: n.sort_order,
                };
            }
            Action::New => {
                self.editing = None;
                self.form = blank_notice();
            }
            Action::Edit(edit) => edit(&mut self.form),
            Action::Order(v) => self.order = v,
            Action::Saved(n) => self.editing = Some(n.id),
            Action::Deleted => {
                self.editing = None;
                self.form = blank_notice();
            }
            Action::ResetDomain(slug, on) => {
                self.reset_domains.retain(|s| *s != slug);
                if on {
                    self.reset_domains.push(slug);
                }
            }
            Action::ResetUsers(v) => self.reset_users = v,
            Action::ResetReason(v) => self.reset_reason = v,
            Action::Phone(v) => self.help.phone = v,
            Action::Email(v) => self.help.email = v,
        }
    }
}

#[component]
pub fn Notices() -> Html {
    let state = use_reducer(NoticesState::new);
    let request = use_request();
    let dispatcher = state.dispatcher();
    let load = {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        Callback::from(move |()| {
            let d = dispatcher.clone();
            request.load(admin::notices(), move |n| d.dispatch(Action::Notices(n)));
            // Without the domains or the contact the notices still work:
            // only the notices' failure is said.
            let d = dispatcher.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(domains) = admin::domains().await {
                    d.dispatch(Action::Domains(domains));
                }
                if let Ok(help) = admin::help_desk().await {
                    d.dispatch(Action::HelpDesk(help));
                }
            });
        })
    };
    let load = use_load(load);

    let onsave = {
        let (state, request, load) = (state.clone(), request.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (body, id) = (state.notice(), state.editing);
            let (dispatcher, load) = (state.dispatcher(), load.clone());
            request.run(
                async move { admin::save_notice(id, &body).await },
                move |notice| {
                    dispatcher.dispatch(Action::Saved(notice));
                    load.emit(());
                    Some("The notice is saved.".into())
                },
            );
        })
    };
    let ondelete = {
        let (state, request, load) = (state.clone(), request.clone(), load.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(id) = state.editing else { return };
            let (dispatcher, load) = (state.dispatcher(), load.clone());
            request.run(admin::delete_notice(id), move |()| {
                dispatcher.dispatch(Action::Deleted);
                load.emit(());
                Some("The notice is deleted.".into())
            });
        })
    };
    let onreset = {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = state.reset_request();
            let load = load.clone();
            request.run(
                async move { admin::mandatory_reset(&body).await },
                move |done| {
                    load.emit(());
                    Some(reset_done_message(&done).into())
                },
            );
        })
    };
    let onhelp = {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = state.help.clone();
            request.run(async move { admin::set_help_desk(&body).await }, |_| {
                Some("The Help Desk contact is saved.".into())
            });
        })
    };
    let edit = |f: fn(&mut NoticeInput, String)| {
        send(&dispatcher, move |v: String| {
            Action::Edit(Box::new(move |n| f(n, v)))
        })
    };
    let form = &state.form;

    html! {
        <div class="console-notices">
            <h1 class="visually-hidden">{ "Notices and Help Desk" }</h1>
            { outcome(&request) }
            <h2>{ "Notices on the sign-in page" }</h2>
            <ul id="admin-notices" class="admin-list">
                { for state.notices.iter().map(|n| {
                    let pick = { let n = n.clone(); send(&dispatcher, move |_: MouseEvent| Action::Pick(n.clone())) };
                    html! {
                        <li class="admin-notice">
                            <button type="button" class="link-button" onclick={pick}>{ n.title.clone() }</button>
                            <span class="muted small">{ format!(" {} · order {} · {}", n.posted_on, n.sort_order, if n.published { "published" } else { "hidden" }) }</span>
                        </li>
                    }
                }) }
            </ul>
            <form id="notice-form" class="console-form" onsubmit={onsave}>
                <h3>{ if state.editing.is_some() { "Edit notice" } else { "New notice" } }</h3>
                { text_field("notice-title", "Title", &form.title, edit(|n, v| n.title = v)) }
                { area_field("notice-body", "Text", &form.body, edit(|n, v| n.body = v)) }
                <div class="grid-2">
                    { text_field("notice-date", "Posted (YYYY-MM-DD)", &form.posted_on, edit(|n, v| n.posted_on = v)) }
                    { number_field("notice-order", "Order", &state.order, send(&dispatcher, Action::Order)) }
                </div>
                { check_field("notice-published", "Published", form.published,
                    send(&dispatcher, |v: bool| Action::Edit(Box::new(move |n| n.published = v)))) }
                <div class="actions">
                    <button id="notice-save" type="submit" class="button button-primary">{ "Save notice" }</button>
                    <button id="notice-new" type="button" class="button button-secondary"
                        onclick={send(&dispatcher, |_: MouseEvent| Action::New)}>{ "New notice" }</button>
                    if state.editing.is_some() {
                        <button id="notice-delete" type="button" class="button button-secondary" onclick={ondelete}>{ "Delete" }</button>
                    }
                </div>
            </form>
            <form id="mandatory-reset-form" class="console-form" onsubmit={onreset}>
                <h2>{ MANDATORY_RESET_NOTICE_TITLE }</h2>
                <p class="muted">{ "Every user of the chosen domains (or only the listed user names) must change their password at next sign-in, and the notice is published — in one step." }</p>
                { for state.domains.iter().map(|d| {
                    let slug = d.slug.clone();
                    let on = send(&dispatcher, move |v: bool| Action::ResetDomain(slug.clone(), v));
                    check_field(&format!("reset-domain-{}", d.slug), &d.name, state.reset_domains.contains(&d.slug), on)
                }) }
                { area_field("reset-usernames", "Only these user names (optional; comma or line separated)", &state.reset_users, send(&dispatcher, Action::ResetUsers)) }
                { area_field("reset-reason", "Reason (recorded in the audit log)", &state.reset_reason, send(&dispatcher, Action::ResetReason)) }
                <button id="mandatory-reset" type="submit" class="button button-primary"
                    disabled={state.reset_domains.is_empty() || state.reset_reason.trim().is_empty()}>{ "Require a new password and publish the notice" }</button>
            </form>
            <form id="helpdesk-form" class="console-form" onsubmit={onhelp}>
                <h2>{ "Help Desk contact" }</h2>
                <div class="grid-2">
                    { text_field("helpdesk-phone", "Phone", &state.help.phone, send(&dispatcher, Action::Phone)) }
                    { text_field("helpdesk-email", "E-mail", &state.help.email, send(&dispatcher, Action::Email)) }
                </div>
                <button id="helpdesk-save" type="submit" class="button button-primary">{ "Save contact" }</button>
            </form>
        </div>
    }
}
