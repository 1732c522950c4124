//! The administrator's tabs: domains (with a live preview of the requirement
//! checklist), notices with the one-step mandatory reset and the Help Desk
//! contact, the audit log, and API keys for the portal.

use latchkey_shared::admin::{
    paths, AdminDomain, AdminNotice, ApiKeyCreate, ApiKeyCreated, ApiKeyInfo, AuditPage,
    AuditQuery, DomainCreate, DomainUpdate, MandatoryResetRequest, MandatoryResetResponse,
    NoticeInput, MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::api::HelpDesk;
use latchkey_shared::self_service::SelfServiceSettings;
use latchkey_shared::{PasswordPolicy, PolicyContext, PRODUCT_NAME};
use yew::prelude::*;

use super::{
    area_field, check_field, needs_reauth, number_field, parse_date, select_field, text_field,
    today, when, Reauth,
};
use crate::components::password_checklist::PasswordChecklist;
use crate::services::api::ApiClientError;
use crate::services::requests::{delete, get as get_json, post as post_json, put as put_json};

/// Messages of one tab.
#[derive(Clone, PartialEq, Default)]
struct Status {
    ok: Option<AttrValue>,
    err: Option<AttrValue>,
    reauth: bool,
}

impl Status {
    fn ok(m: &str) -> Self {
        Status {
            ok: Some(AttrValue::from(m.to_owned())),
            ..Default::default()
        }
    }
    fn err(e: &ApiClientError) -> Self {
        Status {
            err: Some(e.message().into()),
            reauth: needs_reauth(e),
            ..Default::default()
        }
    }
}

fn status_view(status: &UseStateHandle<Status>) -> Html {
    let ondone = {
        let status = status.clone();
        Callback::from(move |()| status.set(Status::ok("Confirmed. Do it again now.")))
    };
    html! {
        <>
            if let Some(m) = &status.err {
                <div id="console-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            if status.reauth { <Reauth {ondone} /> }
            if let Some(m) = &status.ok {
                <div id="console-success" class="alert alert-success" role="status"><p>{ m.clone() }</p></div>
            }
        </>
    }
}

fn setter<T: 'static>(h: &UseStateHandle<T>) -> Callback<T> {
    let h = h.clone();
    Callback::from(move |v| h.set(v))
}

fn opt_num(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        t.parse().ok()
    }
}

// ---------------------------------------------------------------- domains
/// The sample user of the policy preview.
fn preview_context(domain_name: &str) -> PolicyContext {
    PolicyContext {
        username: "jsmith".into(),
        display_name: "Jane Smith".into(),
        domain_name: domain_name.to_owned(),
        product_name: PRODUCT_NAME.into(),
    }
}

#[component]
pub fn Domains() -> Html {
    let domains = use_state(Vec::<AdminDomain>::new);
    let current = use_state(String::new);
    let form = use_state(|| None::<AdminDomain>);
    let threshold = use_state(String::new);
    let minutes = use_state(String::new);
    let sample = use_state(String::new);
    let status = use_state(Status::default);
    let new_slug = use_state(String::new);
    let new_name = use_state(String::new);
    let reload = use_state(|| 0u32);
    let preview = use_state(|| None::<((PasswordPolicy, String), latchkey_shared::PolicyReport)>);

    {
        let (domains, current, form, threshold, minutes, status) = (
            domains.clone(),
            current.clone(),
            form.clone(),
            threshold.clone(),
            minutes.clone(),
            status.clone(),
        );
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match get_json::<Vec<AdminDomain>>(paths::ADMIN_DOMAINS).await {
                    Ok(list) => {
                        let pick = list
                            .iter()
                            .find(|d| d.slug == *current)
                            .or(list.first())
                            .cloned();
                        if let Some(d) = &pick {
                            current.set(d.slug.clone());
                            threshold.set(
                                d.lockout_threshold
                                    .map(|v| v.to_string())
                                    .unwrap_or_default(),
                            );
                            minutes
                                .set(d.lockout_minutes.map(|v| v.to_string()).unwrap_or_default());
                        }
                        form.set(pick);
                        domains.set(list);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        });
    }

    let choose = {
        let (domains, current, form, threshold, minutes) = (
            domains.clone(),
            current.clone(),
            form.clone(),
            threshold.clone(),
            minutes.clone(),
        );
        Callback::from(move |slug: String| {
            if let Some(d) = domains.iter().find(|d| d.slug == slug).cloned() {
                threshold.set(
                    d.lockout_threshold
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                );
                minutes.set(d.lockout_minutes.map(|v| v.to_string()).unwrap_or_default());
                form.set(Some(d));
            }
            current.set(slug);
        })
    };

    {
        // Hooks before any early return.
        let preview = preview.clone();
        let key = (
            (*form).as_ref().map(|d| (d.policy.clone(), d.name.clone())),
            (*sample).clone(),
        );
        use_effect_with(key, move |(domain, password)| {
            if let Some((policy, name)) = domain.clone() {
                let context = preview_context(&name);
                let for_input = (policy.clone(), password.clone());
                crate::services::strength::request(
                    &policy,
                    &context,
                    password,
                    Callback::from(move |report| preview.set(Some((for_input.clone(), report)))),
                );
            }
        });
    }
    let Some(d) = (*form).clone() else {
        return html! { <>{ status_view(&status) }<p class="muted">{ "Loading the domains…" }</p></> };
    };
    let edit = |f: fn(&mut AdminDomain, String)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            if let Some(mut d) = (*form).clone() {
                f(&mut d, v);
                form.set(Some(d));
            }
        })
    };
    let flag = |f: fn(&mut PasswordPolicy, bool)| {
        let form = form.clone();
        Callback::from(move |v: bool| {
            if let Some(mut d) = (*form).clone() {
                f(&mut d.policy, v);
                form.set(Some(d));
            }
        })
    };
    let num = |f: fn(&mut PasswordPolicy, u32)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            if let (Some(mut d), Ok(n)) = ((*form).clone(), v.trim().parse::<u32>()) {
                f(&mut d.policy, n);
                form.set(Some(d));
            }
        })
    };
    let ss_flag = |f: fn(&mut SelfServiceSettings, bool)| {
        let form = form.clone();
        Callback::from(move |v: bool| {
            if let Some(mut d) = (*form).clone() {
                f(&mut d.self_service, v);
                form.set(Some(d));
            }
        })
    };
    let ss_num = |f: fn(&mut SelfServiceSettings, u32)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            if let (Some(mut d), Ok(n)) = ((*form).clone(), v.trim().parse::<u32>()) {
                f(&mut d.self_service, n);
                form.set(Some(d));
            }
        })
    };
    let onsave = {
        let (form, threshold, minutes, status, reload) = (
            form.clone(),
            threshold.clone(),
            minutes.clone(),
            status.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(d) = (*form).clone() else { return };
            let body = DomainUpdate {
                name: d.name.clone(),
                sspm_available: d.sspm_available,
                unavailable_text: d.unavailable_text.clone(),
                policy: d.policy.clone(),
                lockout_threshold: opt_num(&threshold),
                lockout_minutes: opt_num(&minutes),
                self_service: Some(d.self_service.clone()),
            };
            let (status, reload) = (status.clone(), reload.clone());
            let url = paths::ADMIN_DOMAIN.replace("{slug}", &d.slug);
            wasm_bindgen_futures::spawn_local(async move {
                match put_json::<_, AdminDomain>(&url, &body).await {
                    Ok(_) => {
                        status.set(Status::ok("The domain is saved."));
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    let oncreate = {
        let (new_slug, new_name, status, reload, current) = (
            new_slug.clone(),
            new_name.clone(),
            status.clone(),
            reload.clone(),
            current.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = DomainCreate {
                slug: (*new_slug).clone(),
                name: (*new_name).clone(),
                sspm_available: true,
                unavailable_text: None,
            };
            let (status, reload, current, new_slug, new_name) = (
                status.clone(),
                reload.clone(),
                current.clone(),
                new_slug.clone(),
                new_name.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match post_json::<_, AdminDomain>(paths::ADMIN_DOMAINS, &body).await {
                    Ok(d) => {
                        status.set(Status::ok("The domain is created."));
                        current.set(d.slug);
                        new_slug.set(String::new());
                        new_name.set(String::new());
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };

    let context = preview_context(&d.name);
    let rules = match &*preview {
        // The full report (with the common-password and strength rules) from
        // the strength worker, once it has answered for this input.
        Some((for_input, report)) if *for_input == (d.policy.clone(), (*sample).clone()) => {
            report.rules.clone()
        }
        _ => crate::services::strength::quick_report(&d.policy, &sample, &context).rules,
    };

    let options: Vec<(String, String)> = domains
        .iter()
        .map(|d| {
            (
                d.slug.clone(),
                format!("{} ({} users)", d.name, d.user_count),
            )
        })
        .collect();
    let p = &d.policy;
    html! {
        <div class="console-domains">
            <h1 class="visually-hidden">{ "Domains" }</h1>
            { status_view(&status) }
            { select_field("domain-select", "Domain", &current, &options, choose) }
            <form id="domain-form" class="console-form" onsubmit={onsave}>
                { text_field("domain-name", "Name", &d.name, edit(|d, v| d.name = v)) }
                { check_field("domain-sspm", "Self-service is available to this domain", d.sspm_available, {
                    let form = form.clone();
                    Callback::from(move |v| if let Some(mut d) = (*form).clone() { d.sspm_available = v; form.set(Some(d)); })
                }) }
                { area_field("domain-unavailable-text", "Text shown when self-service is not available", d.unavailable_text.as_deref().unwrap_or(""),
                    edit(|d, v| d.unavailable_text = if v.trim().is_empty() { None } else { Some(v) })) }
                <fieldset>
                    <legend>{ "Password policy" }</legend>
                    <div class="grid-2">
                        { number_field("policy-min-length", "Minimum length", &p.min_length.to_string(), num(|p, v| p.min_length = v)) }
                        { number_field("policy-max-length", "Maximum length", &p.max_length.to_string(), num(|p, v| p.max_length = v)) }
                        { number_field("policy-min-strength", "Minimum strength (0-4)", &p.min_strength.to_string(), num(|p, v| p.min_strength = u8::try_from(v).unwrap_or(4))) }
                        { number_field("policy-history-depth", "Previous passwords refused (0-24)", &p.history_depth.to_string(), num(|p, v| p.history_depth = u8::try_from(v).unwrap_or(24))) }
                    </div>
                    { check_field("policy-require-lowercase", "Require a lower-case letter", p.require_lowercase, flag(|p, v| p.require_lowercase = v)) }
                    { check_field("policy-require-uppercase", "Require an upper-case letter", p.require_uppercase, flag(|p, v| p.require_uppercase = v)) }
                    { check_field("policy-require-digit", "Require a digit", p.require_digit, flag(|p, v| p.require_digit = v)) }
                    { check_field("policy-require-symbol", "Require a symbol", p.require_symbol, flag(|p, v| p.require_symbol = v)) }
                    { check_field("policy-forbid-context-words", "Refuse the user's names, the domain and the product name", p.forbid_context_words, flag(|p, v| p.forbid_context_words = v)) }
                    { check_field("policy-block-common", "Refuse common passwords", p.block_common_passwords, flag(|p, v| p.block_common_passwords = v)) }
                </fieldset>
                <fieldset>
                    <legend>{ "Lockout" }</legend>
                    <div class="grid-2">
                        { number_field("domain-lockout-threshold", &format!("Failed attempts before locking (empty = {})", d.default_lockout_threshold), &threshold, setter(&threshold)) }
                        { number_field("domain-lockout-minutes", &format!("Minutes until it unlocks by itself, 0 = never (empty = {})", d.default_lockout_minutes), &minutes, setter(&minutes)) }
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{ "Security questions" }</legend>
                    <div class="grid-2">
                        { number_field("ss-enrol-count", "Questions to enrol", &d.self_service.enrol_count.to_string(), ss_num(|s, v| s.enrol_count = u8::try_from(v).unwrap_or(10))) }
                        { number_field("ss-verify-count", "Questions to ask", &d.self_service.verify_count.to_string(), ss_num(|s, v| s.verify_count = u8::try_from(v).unwrap_or(10))) }
                    </div>
                    { check_field("ss-allow-custom", "Users may write their own question", d.self_service.allow_custom_questions, ss_flag(|s, v| s.allow_custom_questions = v)) }
                    { check_field("ss-allow-skip", "Users may enrol later", d.self_service.allow_skip_enrolment, ss_flag(|s, v| s.allow_skip_enrolment = v)) }
                    { area_field("ss-catalogue", "Question catalogue (one per line)", &d.self_service.catalogue.join("\n"), {
                        let form = form.clone();
                        Callback::from(move |v: String| if let Some(mut d) = (*form).clone() {
                            d.self_service.catalogue = v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
                            form.set(Some(d));
                        })
                    }) }
                </fieldset>
                <fieldset id="policy-preview" class="policy-preview">
                    <legend>{ "Preview: what users will see" }</legend>
                    { text_field("policy-preview-password", "Try a password (for Jane Smith, jsmith)", &sample, setter(&sample)) }
                    <PasswordChecklist rules={rules} confirmation_matches=true pristine={sample.is_empty()} />
                </fieldset>
                <button id="domain-save" type="submit" class="button button-primary">{ "Save domain" }</button>
            </form>
            <form id="domain-create-form" class="console-form" onsubmit={oncreate}>
                <h2>{ "New domain" }</h2>
                <div class="grid-2">
                    { text_field("new-domain-slug", "Short name (a-z, 0-9, -)", &new_slug, setter(&new_slug)) }
                    { text_field("new-domain-name", "Name", &new_name, setter(&new_name)) }
                </div>
                <button id="domain-create" type="submit" class="button button-secondary">{ "Create domain" }</button>
            </form>
        </div>
    }
}

// ---------------------------------------------------------------- notices + help desk
fn blank_notice() -> NoticeInput {
    NoticeInput {
        title: String::new(),
        body: String::new(),
        posted_on: today(),
        published: true,
        sort_order: 0,
    }
}

#[component]
pub fn Notices() -> Html {
    let notices = use_state(Vec::<AdminNotice>::new);
    let editing = use_state(|| None::<i64>);
    let form = use_state(blank_notice);
    let order = use_state(|| "0".to_owned());
    let status = use_state(Status::default);
    let reload = use_state(|| 0u32);
    let domains = use_state(Vec::<AdminDomain>::new);
    let reset_domains = use_state(Vec::<String>::new);
    let reset_users = use_state(String::new);
    let reset_reason = use_state(String::new);
    let help = use_state(|| HelpDesk {
        phone: String::new(),
        email: String::new(),
    });

    {
        let (notices, domains, help, status) = (
            notices.clone(),
            domains.clone(),
            help.clone(),
            status.clone(),
        );
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match get_json::<Vec<AdminNotice>>(paths::ADMIN_NOTICES).await {
                    Ok(n) => notices.set(n),
                    Err(e) => status.set(Status::err(&e)),
                }
                if let Ok(d) = get_json::<Vec<AdminDomain>>(paths::ADMIN_DOMAINS).await {
                    domains.set(d);
                }
                if let Ok(h) = get_json::<HelpDesk>(paths::ADMIN_HELP_DESK).await {
                    help.set(h);
                }
            });
        });
    }

    let edit = |f: fn(&mut NoticeInput, String)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            let mut n = (*form).clone();
            f(&mut n, v);
            form.set(n);
        })
    };
    let onsave = {
        let (form, order, editing, status, reload) = (
            form.clone(),
            order.clone(),
            editing.clone(),
            status.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut body = (*form).clone();
            body.sort_order = order.trim().parse().unwrap_or(0);
            let (status, reload, editing2) = (status.clone(), reload.clone(), editing.clone());
            let id = *editing;
            wasm_bindgen_futures::spawn_local(async move {
                let res = match id {
                    Some(id) => {
                        put_json::<_, AdminNotice>(&paths::with_id(paths::ADMIN_NOTICE, id), &body)
                            .await
                    }
                    None => post_json::<_, AdminNotice>(paths::ADMIN_NOTICES, &body).await,
                };
                match res {
                    Ok(n) => {
                        editing2.set(Some(n.id));
                        status.set(Status::ok("The notice is saved."));
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    let ondelete = {
        let (editing, form, status, reload) = (
            editing.clone(),
            form.clone(),
            status.clone(),
            reload.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(id) = *editing else { return };
            let (editing, form, status, reload) = (
                editing.clone(),
                form.clone(),
                status.clone(),
                reload.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match delete(&paths::with_id(paths::ADMIN_NOTICE, id)).await {
                    Ok(()) => {
                        editing.set(None);
                        form.set(blank_notice());
                        status.set(Status::ok("The notice is deleted."));
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    let onreset = {
        let (reset_domains, reset_users, reset_reason, status, reload) = (
            reset_domains.clone(),
            reset_users.clone(),
            reset_reason.clone(),
            status.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = MandatoryResetRequest {
                domains: (*reset_domains).clone(),
                usernames: reset_users
                    .split([',', '\n', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                notice_id: None,
                reason: (*reset_reason).clone(),
            };
            let (status, reload) = (status.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match post_json::<_, MandatoryResetResponse>(paths::ADMIN_MANDATORY_RESET, &body)
                    .await
                {
                    Ok(r) => {
                        let mut m = format!(
                            "{} users must change their password at next sign-in; \"{}\" is published.",
                            r.users_marked, r.notice.title
                        );
                        if !r.unknown_usernames.is_empty() {
                            m.push_str(&format!(" Unknown: {}.", r.unknown_usernames.join(", ")));
                        }
                        status.set(Status::ok(&m));
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    let onhelp = {
        let (help, status) = (help.clone(), status.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = (*help).clone();
            let status = status.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match put_json::<_, HelpDesk>(paths::ADMIN_HELP_DESK, &body).await {
                    Ok(_) => status.set(Status::ok("The Help Desk contact is saved.")),
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };

    html! {
        <div class="console-notices">
            <h1 class="visually-hidden">{ "Notices and Help Desk" }</h1>
            { status_view(&status) }
            <h2>{ "Notices on the sign-in page" }</h2>
            <ul id="admin-notices" class="admin-list">
                { for notices.iter().map(|n| {
                    let pick = {
                        let (editing, form, order, n) = (editing.clone(), form.clone(), order.clone(), n.clone());
                        Callback::from(move |_: MouseEvent| {
                            editing.set(Some(n.id));
                            order.set(n.sort_order.to_string());
                            form.set(NoticeInput { title: n.title.clone(), body: n.body.clone(), posted_on: n.posted_on.clone(), published: n.published, sort_order: n.sort_order });
                        })
                    };
                    html! {
                        <li class="admin-notice">
                            <button type="button" class="link-button" onclick={pick}>{ n.title.clone() }</button>
                            <span class="muted small">{ format!(" {} · order {} · {}", n.posted_on, n.sort_order, if n.published { "published" } else { "hidden" }) }</span>
                        </li>
                    }
                }) }
            </ul>
            <form id="notice-form" class="console-form" onsubmit={onsave}>
                <h3>{ if editing.is_some() { "Edit notice" } else { "New notice" } }</h3>
                { text_field("notice-title", "Title", &form.title, edit(|n, v| n.title = v)) }
                { area_field("notice-body", "Text", &form.body, edit(|n, v| n.body = v)) }
                <div class="grid-2">
                    { text_field("notice-date", "Posted (YYYY-MM-DD)", &form.posted_on, edit(|n, v| n.posted_on = v)) }
                    { number_field("notice-order", "Order", &order, setter(&order)) }
                </div>
                { check_field("notice-published", "Published", form.published, {
                    let form = form.clone();
                    Callback::from(move |v| { let mut n = (*form).clone(); n.published = v; form.set(n); })
                }) }
                <div class="actions">
                    <button id="notice-save" type="submit" class="button button-primary">{ "Save notice" }</button>
                    <button id="notice-new" type="button" class="button button-secondary" onclick={{
                        let (editing, form) = (editing.clone(), form.clone());
                        Callback::from(move |_: MouseEvent| { editing.set(None); form.set(blank_notice()); })
                    }}>{ "New notice" }</button>
                    if editing.is_some() {
                        <button id="notice-delete" type="button" class="button button-secondary" onclick={ondelete}>{ "Delete" }</button>
                    }
                </div>
            </form>
            <form id="mandatory-reset-form" class="console-form" onsubmit={onreset}>
                <h2>{ MANDATORY_RESET_NOTICE_TITLE }</h2>
                <p class="muted">{ "Every user of the chosen domains (or only the listed user names) must change their password at next sign-in, and the notice is published — in one step." }</p>
                { for domains.iter().map(|d| {
                    let slug = d.slug.clone();
                    let checked = reset_domains.contains(&slug);
                    let on = {
                        let reset_domains = reset_domains.clone();
                        Callback::from(move |v: bool| {
                            let mut list = (*reset_domains).clone();
                            list.retain(|s| *s != slug);
                            if v { list.push(slug.clone()); }
                            reset_domains.set(list);
                        })
                    };
                    check_field(&format!("reset-domain-{}", d.slug), &d.name, checked, on)
                }) }
                { area_field("reset-usernames", "Only these user names (optional; comma or line separated)", &reset_users, setter(&reset_users)) }
                { area_field("reset-reason", "Reason (recorded in the audit log)", &reset_reason, setter(&reset_reason)) }
                <button id="mandatory-reset" type="submit" class="button button-primary"
                    disabled={reset_domains.is_empty() || reset_reason.trim().is_empty()}>{ "Require a new password and publish the notice" }</button>
            </form>
            <form id="helpdesk-form" class="console-form" onsubmit={onhelp}>
                <h2>{ "Help Desk contact" }</h2>
                <div class="grid-2">
                    { text_field("helpdesk-phone", "Phone", &help.phone, {
                        let help = help.clone();
                        Callback::from(move |v| help.set(HelpDesk { phone: v, email: help.email.clone() }))
                    }) }
                    { text_field("helpdesk-email", "E-mail", &help.email, {
                        let help = help.clone();
                        Callback::from(move |v| help.set(HelpDesk { phone: help.phone.clone(), email: v }))
                    }) }
                </div>
                <button id="helpdesk-save" type="submit" class="button button-primary">{ "Save contact" }</button>
            </form>
        </div>
    }
}

// ---------------------------------------------------------------- audit log
#[component]
pub fn Audit() -> Html {
    let user = use_state(String::new);
    let domain = use_state(String::new);
    let kind = use_state(String::new);
    let from = use_state(String::new);
    let to = use_state(String::new);
    let page = use_state(|| None::<AuditPage>);
    let status = use_state(Status::default);
    let query = AuditQuery {
        user: Some((*user).clone()).filter(|s| !s.trim().is_empty()),
        domain: Some((*domain).clone()).filter(|s| !s.trim().is_empty()),
        kind: Some((*kind).clone()).filter(|s| !s.trim().is_empty()),
        from: parse_date(&from),
        to: parse_date(&to).map(|t| t + 86_400),
        limit: None,
    };
    let search = {
        let (page, status, query) = (page.clone(), status.clone(), query.clone());
        Callback::from(move |()| {
            let (page, status) = (page.clone(), status.clone());
            let url = format!("{}?{}", paths::ADMIN_AUDIT, query.to_query_string());
            wasm_bindgen_futures::spawn_local(async move {
                match get_json::<AuditPage>(&url).await {
                    Ok(p) => {
                        status.set(Status::default());
                        page.set(Some(p));
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    {
        let search = search.clone();
        use_effect_with((), move |_| search.emit(()));
    }
    let onsubmit = {
        let search = search.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            search.emit(());
        })
    };
    let csv = format!("{}?{}", paths::ADMIN_AUDIT_CSV, query.to_query_string());
    html! {
        <div class="console-audit">
            <h1 class="visually-hidden">{ "Audit log" }</h1>
            { status_view(&status) }
            <form id="audit-filters" class="console-form audit-filters" {onsubmit}>
                <div class="grid-3">
                    { text_field("audit-user", "User", &user, setter(&user)) }
                    { text_field("audit-domain", "Domain", &domain, setter(&domain)) }
                    { text_field("audit-kind", "Kind (e.g. sign_in)", &kind, setter(&kind)) }
                    { text_field("audit-from", "From (YYYY-MM-DD)", &from, setter(&from)) }
                    { text_field("audit-to", "To (YYYY-MM-DD)", &to, setter(&to)) }
                </div>
                <div class="actions">
                    <button id="audit-search" type="submit" class="button button-primary">{ "Filter" }</button>
                    <a id="audit-csv" class="button button-secondary" href={csv} download="latchkey-audit.csv">{ "Export CSV" }</a>
                </div>
            </form>
            if let Some(p) = &*page {
                <div class="table-wrap">
                    <table id="audit-table" class="audit-table">
                        <thead><tr>
                            <th>{ "Time" }</th><th>{ "Kind" }</th><th>{ "Result" }</th><th>{ "Actor" }</th>
                            <th>{ "Subject" }</th><th>{ "Domain" }</th><th>{ "Source" }</th><th>{ "Detail" }</th>
                        </tr></thead>
                        <tbody>
                            { for p.events.iter().map(|e| html! {
                                <tr class="audit-row" data-kind={e.kind.clone()}>
                                    <td>{ when(e.at) }</td><td>{ e.kind.clone() }</td><td>{ e.result.clone() }</td>
                                    <td>{ e.actor.clone().unwrap_or_default() }</td><td>{ e.subject.clone().unwrap_or_default() }</td>
                                    <td>{ e.domain.clone().unwrap_or_default() }</td><td>{ e.source_ip.clone().unwrap_or_default() }</td>
                                    <td>{ e.detail.clone().unwrap_or_default() }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                if p.truncated { <p class="muted small">{ "Only the newest events are shown; narrow the filters or export CSV." }</p> }
            }
        </div>
    }
}

// ---------------------------------------------------------------- API keys
#[component]
pub fn ApiKeys() -> Html {
    let keys = use_state(Vec::<ApiKeyInfo>::new);
    let name = use_state(String::new);
    let created = use_state(|| None::<String>);
    let status = use_state(Status::default);
    let reload = use_state(|| 0u32);
    {
        let (keys, status) = (keys.clone(), status.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match get_json::<Vec<ApiKeyInfo>>(paths::ADMIN_API_KEYS).await {
                    Ok(k) => keys.set(k),
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        });
    }
    let oncreate = {
        let (name, created, status, reload) = (
            name.clone(),
            created.clone(),
            status.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = ApiKeyCreate {
                name: (*name).clone(),
            };
            let (name, created, status, reload) = (
                name.clone(),
                created.clone(),
                status.clone(),
                reload.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match post_json::<_, ApiKeyCreated>(paths::ADMIN_API_KEYS, &body).await {
                    Ok(k) => {
                        created.set(Some(k.key));
                        name.set(String::new());
                        status.set(Status::ok(
                            "The key is created. Copy it now: it is shown only once.",
                        ));
                        reload.set(*reload + 1);
                    }
                    Err(e) => status.set(Status::err(&e)),
                }
            });
        })
    };
    html! {
        <div class="console-keys">
            <h1 class="visually-hidden">{ "API keys" }</h1>
            { status_view(&status) }
            if let Some(k) = &*created {
                <div class="alert alert-warning" role="status">
                    <p>{ "New API key (shown once):" }</p>
                    <p><code id="api-key-value" class="temp-password">{ k.clone() }</code></p>
                </div>
            }
            <ul id="api-keys" class="admin-list">
                { for keys.iter().map(|k| {
                    let id = k.id;
                    let revoke = {
                        let (status, reload) = (status.clone(), reload.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (status, reload) = (status.clone(), reload.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                match delete(&paths::with_id(paths::ADMIN_API_KEY, id)).await {
                                    Ok(()) => { status.set(Status::ok("The key is revoked.")); reload.set(*reload + 1); }
                                    Err(e) => status.set(Status::err(&e)),
                                }
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
                { text_field("api-key-name", "Name of the new key (e.g. ClinicalConnect)", &name, setter(&name)) }
                <button id="api-key-create" type="submit" class="button button-primary">{ "Create key" }</button>
            </form>
            <p class="muted small">{ "The portal calls POST /api/portal/verify with Authorization: Bearer <key>. " }
                <a href="/api/openapi.json">{ "OpenAPI description" }</a></p>
        </div>
    }
}
