//! The audit log: filters (the kind is one of [`AuditKind::ALL`]), the
//! newest events, and the CSV export of the same filters.

use std::rc::Rc;

use latchkey_shared::admin::{AuditPage, AuditQuery};
use latchkey_shared::audit::AuditKind;
use yew::prelude::*;

use super::super::{parse_date, select_field, text_field, when};
use super::{outcome, use_load};
use crate::hooks::use_request;
use crate::pages::send;
use crate::services::admin;

#[derive(Clone, PartialEq, Default)]
pub struct AuditState {
    user: String,
    domain: String,
    /// An [`AuditKind::as_str`], or empty for any kind.
    kind: String,
    /// `YYYY-MM-DD`, as typed.
    from: String,
    to: String,
    page: Option<AuditPage>,
}

pub enum Action {
    User(String),
    Domain(String),
    Kind(String),
    From(String),
    To(String),
    Loaded(AuditPage),
}

fn non_blank(s: &str) -> Option<String> {
    Some(s.to_owned()).filter(|s| !s.trim().is_empty())
}

impl AuditState {
    fn query(&self) -> AuditQuery {
        AuditQuery {
            user: non_blank(&self.user),
            domain: non_blank(&self.domain),
            kind: non_blank(&self.kind),
            from: parse_date(&self.from),
            // The whole of the last day.
            to: parse_date(&self.to).map(|t| t + 86_400),
            limit: None,
        }
    }
}

impl Reducible for AuditState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::User(v) => next.user = v,
            Action::Domain(v) => next.domain = v,
            Action::Kind(v) => next.kind = v,
            Action::From(v) => next.from = v,
            Action::To(v) => next.to = v,
            Action::Loaded(p) => next.page = Some(p),
        }
        Rc::new(next)
    }
}

/// The kind filter's options: any kind, then every kind by its label.
fn kind_options() -> Vec<(String, String)> {
    std::iter::once((String::new(), "Any kind".to_owned()))
        .chain(
            AuditKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
        )
        .collect()
}

#[component]
pub fn Audit() -> Html {
    let state = use_reducer(AuditState::default);
    let request = use_request();
    let dispatcher = state.dispatcher();
    let query = state.query();
    let search = {
        let (request, dispatcher, query) = (request.clone(), dispatcher.clone(), query.clone());
        Callback::from(move |()| {
            let (dispatcher, query) = (dispatcher.clone(), query.clone());
            request.load(async move { admin::audit(&query).await }, move |page| {
                dispatcher.dispatch(Action::Loaded(page))
            });
        })
    };
    let search = use_load(search);
    let onsubmit = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        search.emit(());
    });
    let csv = admin::audit_csv_url(&query);
    html! {
        <div class="console-audit">
            <h1 class="visually-hidden">{ "Audit log" }</h1>
            { outcome(&request) }
            <form id="audit-filters" class="console-form audit-filters" {onsubmit}>
                <div class="grid-3">
                    { text_field("audit-user", "User", &state.user, send(&dispatcher, Action::User)) }
                    { text_field("audit-domain", "Domain", &state.domain, send(&dispatcher, Action::Domain)) }
                    { select_field("audit-kind", "Kind", &state.kind, &kind_options(), send(&dispatcher, Action::Kind)) }
                    { text_field("audit-from", "From (YYYY-MM-DD)", &state.from, send(&dispatcher, Action::From)) }
                    { text_field("audit-to", "To (YYYY-MM-DD)", &state.to, send(&dispatcher, Action::To)) }
                </div>
                <div class="actions">
                    <button id="audit-search" type="submit" class="button button-primary">{ "Filter" }</button>
                    <a id="audit-csv" class="button button-secondary" href={csv} download="latchkey-audit.csv">{ "Export CSV" }</a>
                </div>
            </form>
            if let Some(p) = &state.page {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_filter_offers_any_kind_then_every_kind() {
        let options = kind_options();
        assert_eq!(options[0].0, "");
        assert_eq!(options.len(), AuditKind::ALL.len() + 1);
        assert!(options
            .iter()
            .any(|(v, l)| v == "sign_in" && l == AuditKind::SignIn.label()));
    }

    #[test]
    fn query_leaves_out_blank_filters_and_takes_the_whole_last_day() {
        let q = Rc::new(AuditState::default())
            .reduce(Action::Kind("staff.unlock".into()))
            .reduce(Action::User("  ".into()))
            .reduce(Action::To("1970-01-02".into()))
            .query();
        assert_eq!(q.kind.as_deref(), Some("staff.unlock"));
        assert_eq!(q.user, None);
        assert_eq!(q.to, Some(2 * 86_400));
    }
}
