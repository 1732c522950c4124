//! The administrator's tabs, one file each: domains (with a live preview of
//! the requirement checklist, and the credential store beside it), notices with the one-step mandatory reset and
//! the Help Desk contact, the audit log, and API keys for the portal.
//!
//! Each tab's data is a reducer (`Reducible` + `Action`, like
//! `pages/account/state.rs`): the component renders and dispatches, and a
//! request's answer comes back as an action. What the tab says about its
//! requests (failed, saved, enter the password again) is
//! [`crate::hooks::use_request`], shown by [`outcome`].

mod api_keys;
mod audit;
mod domain_store;
mod domains;
mod notices;
mod outbox;
mod throttles;

pub use api_keys::ApiKeys;
pub use audit::Audit;
pub use domains::Domains;
pub use notices::Notices;
pub use outbox::Outbox;
pub use throttles::Throttles;
use yew::prelude::*;

use super::Reauth;
use crate::hooks::UseRequestHandle;

/// What a tab says after its last request: the failure (and the password
/// prompt when the server wants it again), or the success.
fn outcome(request: &UseRequestHandle) -> Html {
    let ondone = {
        let request = request.clone();
        Callback::from(move |()| request.reauthed("Confirmed. Do it again now."))
    };
    html! {
        <>
            if let Some(m) = &request.error {
                <div id="console-error" class="alert alert-error" role="alert"><p>{ m.clone() }</p></div>
            }
            if request.reauth { <Reauth {ondone} /> }
            if let Some(m) = &request.notice {
                <div id="console-success" class="alert alert-success" role="status"><p>{ m.clone() }</p></div>
            }
        </>
    }
}

/// `load` once, when the tab opens; it is also the tab's reload.
#[hook]
fn use_load(load: Callback<()>) -> Callback<()> {
    {
        let load = load.clone();
        use_effect_with((), move |_| load.emit(()));
    }
    load
}

fn opt_num(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        t.parse().ok()
    }
}
