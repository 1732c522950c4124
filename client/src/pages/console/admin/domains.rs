//! Domains: self-service flag and text, the password policy with a live
//! preview of the checklist users will see, lockout, security questions;
//! where its passwords live, with a directory's own policy beside the
//! domain's ([`DomainStorePanel`]); and a new domain.

use std::rc::Rc;

use latchkey_shared::admin::{AdminDomain, DomainCreate, DomainUpdate};
use latchkey_shared::{PasswordPolicy, PolicyContext, PolicyReport, RuleResult, PRODUCT_NAME};
use yew::prelude::*;

use super::super::{area_field, check_field, number_field, select_field, text_field};
use super::domain_store::DomainStorePanel;
use super::{opt_num, outcome, use_load};
use crate::components::password_checklist::PasswordChecklist;
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::{admin, strength};

type Dispatcher = UseReducerDispatcher<DomainsState>;

/// The sample user of the policy preview.
fn preview_context(domain_name: &str) -> PolicyContext {
    PolicyContext {
        username: "jsmith".into(),
        display_name: "Jane Smith".into(),
        domain_name: domain_name.to_owned(),
        product_name: PRODUCT_NAME.into(),
    }
}

#[derive(Clone, PartialEq, Default)]
pub struct DomainsState {
    domains: Vec<AdminDomain>,
    /// The slug chosen in the select.
    current: String,
    /// The chosen domain as edited, until saved.
    form: Option<AdminDomain>,
    /// The lockout fields as typed: empty means the server's default.
    threshold: String,
    minutes: String,
    /// The preview's sample password.
    sample: String,
    new_slug: String,
    new_name: String,
    /// The strength worker's report, with the (policy, password) it is for.
    preview: Option<((PasswordPolicy, String), PolicyReport)>,
}

pub enum Action {
    Loaded(Vec<AdminDomain>),
    Choose(String),
    Edit(Box<dyn FnOnce(&mut AdminDomain)>),
    Threshold(String),
    Minutes(String),
    Sample(String),
    NewSlug(String),
    NewName(String),
    Estimated((PasswordPolicy, String), PolicyReport),
    Created(AdminDomain),
}

impl DomainsState {
    fn select(&mut self, d: AdminDomain) {
        self.threshold = d
            .lockout_threshold
            .map(|v| v.to_string())
            .unwrap_or_default();
        self.minutes = d.lockout_minutes.map(|v| v.to_string()).unwrap_or_default();
        self.current = d.slug.clone();
        self.form = Some(d);
    }

    /// The save request for the edited domain: its slug and body.
    fn update(&self) -> Option<(String, DomainUpdate)> {
        let d = self.form.as_ref()?;
        let body = DomainUpdate {
            name: d.name.clone(),
            sspm_available: d.sspm_available,
            unavailable_text: d.unavailable_text.clone(),
            policy: d.policy.clone(),
            lockout_threshold: opt_num(&self.threshold),
            lockout_minutes: opt_num(&self.minutes),
            self_service: Some(d.self_service.clone()),
        };
        Some((d.slug.clone(), body))
    }

    fn create(&self) -> DomainCreate {
        DomainCreate {
            slug: self.new_slug.clone(),
            name: self.new_name.clone(),
            sspm_available: true,
            unavailable_text: None,
        }
    }

    /// The preview's checklist: the strength worker's full report (with the
    /// common-password and strength rules) once it has answered for this
    /// input, the quick check until then.
    fn rules(&self, d: &AdminDomain) -> Vec<RuleResult> {
        match &self.preview {
            Some((for_input, report)) if *for_input == (d.policy.clone(), self.sample.clone()) => {
                report.rules.clone()
            }
            _ => strength::quick_report(&d.policy, &self.sample, &preview_context(&d.name)).rules,
        }
    }
}

impl Reducible for DomainsState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

impl DomainsState {
    fn apply(&mut self, action: Action) {
        match action {
            Action::Loaded(list) => {
                let pick = list
                    .iter()
                    .find(|d| d.slug == self.current)
                    .or(list.first())
                    .cloned();
                match pick {
                    Some(d) => self.select(d),
                    None => self.form = None,
                }
                self.domains = list;
            }
            Action::Choose(slug) => match self.domains.iter().find(|d| d.slug == slug).cloned() {
                Some(d) => self.select(d),
                None => self.current = slug,
            },
            Action::Edit(edit) => {
                if let Some(d) = &mut self.form {
                    edit(d);
                }
            }
            Action::Threshold(v) => self.threshold = v,
            Action::Minutes(v) => self.minutes = v,
            Action::Sample(v) => self.sample = v,
            Action::NewSlug(v) => self.new_slug = v,
            Action::NewName(v) => self.new_name = v,
            Action::Estimated(for_input, report) => self.preview = Some((for_input, report)),
            Action::Created(d) => {
                self.current = d.slug;
                self.new_slug.clear();
                self.new_name.clear();
            }
        }
    }
}

/// A field's callback that edits the domain with `f`.
fn edit<V: 'static>(dispatcher: &Dispatcher, f: fn(&mut AdminDomain, V)) -> Callback<V> {
    send(dispatcher, move |v: V| {
        Action::Edit(Box::new(move |d| f(d, v)))
    })
}

/// A number field's callback: what does not parse leaves the domain as it is.
fn edit_num(dispatcher: &Dispatcher, f: fn(&mut AdminDomain, u32)) -> Callback<String> {
    send(dispatcher, move |v: String| {
        let n = v.trim().parse::<u32>().ok();
        Action::Edit(Box::new(move |d| {
            if let Some(n) = n {
                f(d, n);
            }
        }))
    })
}

#[component]
pub fn Domains() -> Html {
    let state = use_reducer(DomainsState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();
    let load = {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        Callback::from(move |()| {
            let dispatcher = dispatcher.clone();
            request.load(admin::domains(), move |list| {
                dispatcher.dispatch(Action::Loaded(list))
            });
        })
    };
    let load = use_load(load);
    {
        // Hooks before any early return.
        let dispatcher = dispatcher.clone();
        let key = (
            state
                .form
                .as_ref()
                .map(|d| (d.policy.clone(), d.name.clone())),
            state.sample.clone(),
        );
        use_effect_with(key, move |(domain, password)| {
            if let Some((policy, name)) = domain.clone() {
                let for_input = (policy.clone(), password.clone());
                strength::request(
                    &policy,
                    &preview_context(&name),
                    password,
                    Callback::from(move |report| {
                        dispatcher.dispatch(Action::Estimated(for_input.clone(), report))
                    }),
                );
            }
        });
    }
    let Some(d) = state.form.clone() else {
        return html! { <>{ outcome(&request) }<p class="muted">{ "Loading the domains…" }</p></> };
    };

    let onsave = {
        let (state, request, load) = (state.clone(), request.clone(), load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some((slug, body)) = state.update() else {
                return;
            };
            let load = load.clone();
            request.run(
                async move { admin::update_domain(&slug, &body).await },
                move |_| {
                    load.emit(());
                    Some("The domain is saved.".into())
                },
            );
        })
    };
    let oncreate = {
        let (state, request) = (state.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = state.create();
            let (dispatcher, load) = (state.dispatcher(), load.clone());
            request.run(
                async move { admin::create_domain(&body).await },
                move |domain| {
                    dispatcher.dispatch(Action::Created(domain));
                    load.emit(());
                    Some("The domain is created.".into())
                },
            );
        })
    };

    let text = |f: fn(&mut AdminDomain, String)| edit(&dispatcher, f);
    let flag = |f: fn(&mut AdminDomain, bool)| edit(&dispatcher, f);
    let num = |f: fn(&mut AdminDomain, u32)| edit_num(&dispatcher, f);
    let options: Vec<(String, String)> = state
        .domains
        .iter()
        .map(|d| {
            (
                d.slug.clone(),
                format!("{} ({} users, {})", d.name, d.user_count, d.store),
            )
        })
        .collect();
    let rules = state.rules(&d);
    let p = &d.policy;
    let threshold = opt_num(&state.threshold).unwrap_or(d.default_lockout_threshold);
    let minutes = opt_num(&state.minutes).unwrap_or(d.default_lockout_minutes);
    html! {
        <div class="console-domains">
            <h1 class="visually-hidden">{ "Domains" }</h1>
            { outcome(&request) }
            { select_field("domain-select", "Domain", &state.current, &options, send(&dispatcher, Action::Choose)) }
            <DomainStorePanel slug={d.slug.clone()} policy={d.policy.clone()} lockout_threshold={threshold} lockout_minutes={minutes} />
            <form id="domain-form" class="console-form" onsubmit={onsave}>
                { text_field("domain-name", "Name", &d.name, text(|d, v| d.name = v)) }
                { check_field("domain-sspm", "Self-service is available to this domain", d.sspm_available, flag(|d, v| d.sspm_available = v)) }
                { area_field("domain-unavailable-text", "Text shown when self-service is not available", d.unavailable_text.as_deref().unwrap_or(""),
                    text(|d, v| d.unavailable_text = if v.trim().is_empty() { None } else { Some(v) })) }
                <fieldset>
                    <legend>{ "Password policy" }</legend>
                    <div class="grid-2">
                        { number_field("policy-min-length", "Minimum length", &p.min_length.to_string(), num(|d, v| d.policy.min_length = v)) }
                        { number_field("policy-max-length", "Maximum length", &p.max_length.to_string(), num(|d, v| d.policy.max_length = v)) }
                        { number_field("policy-min-strength", "Minimum strength (0-4)", &p.min_strength.to_string(), num(|d, v| d.policy.min_strength = u8::try_from(v).unwrap_or(4))) }
                        { number_field("policy-history-depth", "Previous passwords refused (0-24)", &p.history_depth.to_string(), num(|d, v| d.policy.history_depth = u8::try_from(v).unwrap_or(24))) }
                    </div>
                    { check_field("policy-require-lowercase", "Require a lower-case letter", p.require_lowercase, flag(|d, v| d.policy.require_lowercase = v)) }
                    { check_field("policy-require-uppercase", "Require an upper-case letter", p.require_uppercase, flag(|d, v| d.policy.require_uppercase = v)) }
                    { check_field("policy-require-digit", "Require a digit", p.require_digit, flag(|d, v| d.policy.require_digit = v)) }
                    { check_field("policy-require-symbol", "Require a symbol", p.require_symbol, flag(|d, v| d.policy.require_symbol = v)) }
                    { check_field("policy-forbid-context-words", "Refuse the user's names, the domain and the product name", p.forbid_context_words, flag(|d, v| d.policy.forbid_context_words = v)) }
                    { check_field("policy-block-common", "Refuse common passwords", p.block_common_passwords, flag(|d, v| d.policy.block_common_passwords = v)) }
                </fieldset>
                <fieldset>
                    <legend>{ "Lockout" }</legend>
                    <div class="grid-2">
                        { number_field("domain-lockout-threshold", &format!("Failed attempts before locking (empty = {})", d.default_lockout_threshold), &state.threshold, send(&dispatcher, Action::Threshold)) }
                        { number_field("domain-lockout-minutes", &format!("Minutes until it unlocks by itself, 0 = never (empty = {})", d.default_lockout_minutes), &state.minutes, send(&dispatcher, Action::Minutes)) }
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{ "Security questions" }</legend>
                    <div class="grid-2">
                        { number_field("ss-enrol-count", "Questions to enrol", &d.self_service.enrol_count.to_string(), num(|d, v| d.self_service.enrol_count = u8::try_from(v).unwrap_or(10))) }
                        { number_field("ss-verify-count", "Questions to ask", &d.self_service.verify_count.to_string(), num(|d, v| d.self_service.verify_count = u8::try_from(v).unwrap_or(10))) }
                    </div>
                    { check_field("ss-allow-custom", "Users may write their own question", d.self_service.allow_custom_questions, flag(|d, v| d.self_service.allow_custom_questions = v)) }
                    { check_field("ss-allow-skip", "Users may enrol later", d.self_service.allow_skip_enrolment, flag(|d, v| d.self_service.allow_skip_enrolment = v)) }
                    <div class="grid-2">
                        { number_field("ss-max-age", "Days a password may be used (0 = it never expires)", &d.self_service.password_max_age_days.to_string(), num(|d, v| d.self_service.password_max_age_days = v)) }
                        { number_field("ss-reminder-days", "Days before expiry to mail a reminder", &d.self_service.expiry_reminder_days.to_string(), num(|d, v| d.self_service.expiry_reminder_days = v)) }
                    </div>
                    { select_field("ss-second-factor", "Unlock Account and Forgot Password also ask for a code", second_factor_value(d.self_service.second_factor), &second_factor_options(),
                        text(|d, v| d.self_service.second_factor = second_factor_of(&v))) }
                    if d.unreadable_authenticators > 0 {
                        <div id="unreadable-authenticators" class="alert alert-warning" role="status">
                            <p>{ latchkey_shared::admin::unreadable_authenticators_warning(d.unreadable_authenticators) }</p>
                        </div>
                    }
                    { area_field("ss-catalogue", "Question catalogue (one per line)", &d.self_service.catalogue.join("\n"),
                        text(|d, v| d.self_service.catalogue = v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())) }
                </fieldset>
                <fieldset id="policy-preview" class="policy-preview">
                    <legend>{ "Preview: what users will see" }</legend>
                    { text_field("policy-preview-password", "Try a password (for Jane Smith, jsmith)", &state.sample, send(&dispatcher, Action::Sample)) }
                    <PasswordChecklist rules={rules} confirmation_matches=true pristine={state.sample.is_empty()} />
                </fieldset>
                <button id="domain-save" type="submit" class="button button-primary">{ "Save domain" }</button>
            </form>
            <form id="domain-create-form" class="console-form" onsubmit={oncreate}>
                <h2>{ "New domain" }</h2>
                <div class="grid-2">
                    { text_field("new-domain-slug", "Short name (a-z, 0-9, -)", &state.new_slug, send(&dispatcher, Action::NewSlug)) }
                    { text_field("new-domain-name", "Name", &state.new_name, send(&dispatcher, Action::NewName)) }
                </div>
                <button id="domain-create" type="submit" class="button button-secondary">{ "Create domain" }</button>
            </form>
        </div>
    }
}

/// The console's names of a domain's second-factor setting.
fn second_factor_value(f: latchkey_shared::self_service::SecondFactor) -> &'static str {
    use latchkey_shared::self_service::SecondFactor;
    match f {
        SecondFactor::Off => "off",
        SecondFactor::WithQuestions => "with_questions",
        SecondFactor::Only => "only",
    }
}

fn second_factor_of(value: &str) -> latchkey_shared::self_service::SecondFactor {
    use latchkey_shared::self_service::SecondFactor;
    match value {
        "with_questions" => SecondFactor::WithQuestions,
        "only" => SecondFactor::Only,
        _ => SecondFactor::Off,
    }
}

fn second_factor_options() -> Vec<(String, String)> {
    [
        ("off", "No: the security questions only"),
        (
            "with_questions",
            "Yes: the questions and a code (authenticator app, or a mail to the address on file)",
        ),
        ("only", "A code only, no questions"),
    ]
    .iter()
    .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
    .collect()
}
