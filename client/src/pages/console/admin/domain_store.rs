//! Where a domain's passwords live: `local` or one of the configuration's
//! directories (listed by name and kind), set from here with a password
//! entered again; for a directory, its own password policy beside the
//! domain's and the warnings where they disagree, recomputed as the policy
//! above is edited (the same [`directory_warnings`] the server runs). A
//! directory that does not answer is said so.

use std::rc::Rc;

use latchkey_shared::admin::{
    directory_warnings, DirectoryComplexity, DirectoryInfo, DirectoryPolicy, DirectoryPolicyReport,
    DomainStore, StoreUpdate, LOCAL_STORE,
};
use latchkey_shared::PasswordPolicy;
use yew::prelude::*;

use super::super::{select_field, Reauth};
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::admin;

#[derive(Clone, PartialEq, Default)]
pub struct StoreState {
    /// The domain the view is for.
    slug: String,
    view: Option<DomainStore>,
    /// The store chosen in the select, until saved.
    choice: String,
}

pub enum Action {
    Loaded(String, DomainStore),
    Choose(String),
    Saved(DomainStore),
}

impl Reducible for StoreState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Loaded(slug, view) => {
                next.slug = slug;
                next.choice = view.store.clone();
                next.view = Some(view);
            }
            Action::Choose(store) => next.choice = store,
            Action::Saved(view) => {
                next.choice = view.store.clone();
                next.view = Some(view);
            }
        }
        Rc::new(next)
    }
}

#[derive(Properties, PartialEq)]
pub struct DomainStorePanelProps {
    pub slug: AttrValue,
    /// The domain's policy as edited above (not yet saved, maybe).
    pub policy: PasswordPolicy,
    /// The lockout in force with the fields as typed: failures, and minutes
    /// until a lock lifts (0: never).
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
}

fn store_label(d: &DirectoryInfo) -> String {
    format!(
        "Directory {} ({}{})",
        d.name,
        d.kind.label(),
        if d.roles_from_groups {
            ", staff roles from its groups"
        } else {
            ""
        }
    )
}

fn count(v: Option<u32>, none: &str) -> String {
    v.map_or_else(|| none.to_owned(), |v| v.to_string())
}

fn lock_lifts(minutes: i64) -> String {
    if minutes == 0 {
        "Only when unlocked".to_owned()
    } else {
        format!("After {minutes} minutes")
    }
}

fn directory_lock_lifts(secs: Option<u64>) -> String {
    match secs {
        None => "Not said".to_owned(),
        Some(0) => "Only when unlocked".to_owned(),
        Some(s) => format!("After {} minutes", s.div_ceil(60)),
    }
}

fn character_rules(p: &PasswordPolicy) -> String {
    let kinds: Vec<&str> = [
        (p.require_lowercase, "lower-case"),
        (p.require_uppercase, "upper-case"),
        (p.require_digit, "digit"),
        (p.require_symbol, "symbol"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if kinds.is_empty() {
        "None required".to_owned()
    } else {
        format!("Requires {}", kinds.join(", "))
    }
}

fn complexity(c: Option<DirectoryComplexity>) -> String {
    match c {
        None => "Not said".to_owned(),
        Some(DirectoryComplexity::Off) => "None required".to_owned(),
        Some(DirectoryComplexity::QualityCheck { enforced }) => format!(
            "Its quality check ({})",
            if enforced { "always" } else { "when it can" }
        ),
        Some(DirectoryComplexity::ThreeOfFourClasses) => {
            "Three of upper-case, lower-case, digit, symbol; no part of the names".to_owned()
        }
    }
}

/// The domain's rules beside the directory's, one row each.
fn comparison(props: &DomainStorePanelProps, d: &DirectoryPolicy) -> Html {
    let p = &props.policy;
    let rows = [
        (
            "cmp-min-length",
            "Minimum length",
            p.min_length.to_string(),
            count(d.min_length, "Not said"),
        ),
        (
            "cmp-history",
            "Previous passwords refused",
            p.history_depth.to_string(),
            count(d.history, "Not said"),
        ),
        (
            "cmp-lockout",
            "Failed sign-ins before locking",
            props.lockout_threshold.to_string(),
            match d.max_failures {
                Some(0) => "Never locks".to_owned(),
                other => count(other, "Not said"),
            },
        ),
        (
            "cmp-lock-lifts",
            "A lock lifts",
            lock_lifts(props.lockout_minutes),
            directory_lock_lifts(d.lockout_secs),
        ),
        (
            "cmp-characters",
            "Character rules",
            character_rules(p),
            complexity(d.complexity),
        ),
    ];
    html! {
        <div class="table-wrap">
            <table id="policy-comparison" class="audit-table">
                <thead>
                    <tr><th scope="col">{ "Rule" }</th><th scope="col">{ "This domain (Latchkey)" }</th><th scope="col">{ "The directory" }</th></tr>
                </thead>
                <tbody>
                    { for rows.into_iter().map(|(id, label, ours, theirs)| html! {
                        <tr id={id}>
                            <th scope="row">{ label }</th>
                            <td>{ ours }</td>
                            <td>{ theirs }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

fn report_view(props: &DomainStorePanelProps, report: &DirectoryPolicyReport) -> Html {
    // Recomputed from the policy as edited: the warnings follow the typing.
    let warnings = report.policy.as_ref().map_or_else(Vec::new, |d| {
        directory_warnings(
            &props.policy,
            props.lockout_threshold,
            props.lockout_minutes,
            d,
        )
    });
    html! {
        <div id="directory-policy" class="directory-policy">
            <h3>{ format!("The directory {}'s own policy", report.directory.name) }</h3>
            if let Some(m) = &report.unavailable {
                <div id="directory-unavailable" class="alert alert-warning" role="status"><p>{ m.clone() }</p></div>
            }
            if let Some(d) = &report.policy {
                { comparison(props, d) }
            }
            if warnings.is_empty() {
                if report.policy.is_some() {
                    <p id="directory-agrees" class="muted">{ "This domain's rules are at least as strict as the directory's." }</p>
                }
            } else {
                <div id="directory-warnings" class="alert alert-warning" role="status">
                    <ul>
                        { for warnings.into_iter().map(|w| html! { <li>{ w }</li> }) }
                    </ul>
                </div>
            }
        </div>
    }
}

#[component]
pub fn DomainStorePanel(props: &DomainStorePanelProps) -> Html {
    let state = use_reducer(StoreState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();
    {
        let (request, dispatcher) = (request.clone(), dispatcher.clone());
        use_effect_with(props.slug.clone(), move |slug| {
            let slug = slug.to_string();
            request.load(
                {
                    let slug = slug.clone();
                    async move { admin::domain_store(&slug).await }
                },
                move |view| dispatcher.dispatch(Action::Loaded(slug, view)),
            );
        });
    }
    let onsave = {
        let (state, request, slug) = (state.clone(), request.clone(), props.slug.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = StoreUpdate {
                store: state.choice.clone(),
            };
            let (slug, dispatcher) = (slug.clone(), state.dispatcher());
            request.run(
                async move { admin::set_domain_store(&slug, &body).await },
                move |view| {
                    dispatcher.dispatch(Action::Saved(view));
                    Some("The credential store is saved.".into())
                },
            );
        })
    };
    let ondone = {
        let request = request.clone();
        Callback::from(move |()| request.reauthed("Confirmed. Do it again now."))
    };
    let Some(view) = state.view.as_ref().filter(|_| state.slug == *props.slug) else {
        return html! { <p class="muted">{ "Loading where this domain's passwords live…" }</p> };
    };
    let mut options = vec![(
        LOCAL_STORE.to_owned(),
        "Latchkey (local passwords)".to_owned(),
    )];
    options.extend(view.directories.iter().map(|d| {
        (
            latchkey_shared::admin::directory_store(&d.name),
            store_label(d),
        )
    }));
    if !options.iter().any(|(v, _)| *v == view.store) {
        options.push((
            view.store.clone(),
            format!("{} (not configured)", view.store),
        ));
    }
    html! {
        <form id="domain-store-form" class="console-form" onsubmit={onsave}>
            <fieldset>
                <legend>{ "Where passwords live" }</legend>
                if let Some(m) = &request.error {
                    <div id="store-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
                }
                if request.reauth { <Reauth {ondone} /> }
                if let Some(m) = &request.notice {
                    <div id="store-success" class="alert alert-success" role="status"><p>{ m.clone() }</p></div>
                }
                { select_field("domain-store", "Credential store", &state.choice, &options, send(&dispatcher, Action::Choose)) }
                if state.choice != view.store {
                    <p class="muted small">{ "Moving a domain keeps its users' enrolment and roles. Its users then sign in with the passwords of the new store: directory users have no Latchkey password, and Latchkey users no directory one until it is set there." }</p>
                }
                <button id="domain-store-save" type="submit" class="button button-secondary"
                    disabled={state.choice == view.store}>{ "Save credential store" }</button>
                if let Some(report) = &view.directory {
                    { report_view(props, report) }
                }
            </fieldset>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_character_rules_read_as_words() {
        let mut p = PasswordPolicy::default();
        assert_eq!(character_rules(&p), "None required");
        p.require_digit = true;
        p.require_symbol = true;
        assert_eq!(character_rules(&p), "Requires digit, symbol");
        assert_eq!(directory_lock_lifts(Some(0)), "Only when unlocked");
        assert_eq!(directory_lock_lifts(Some(1800)), "After 30 minutes");
    }
}
