//! Latchkey's PWA: the sign-in page with the notices, the per-domain
//! landing pages with Unlock Account and Forgot Password (self-service),
//! enrolment, the signed-in account page and the staff console.
//!
//! Two entry points, two wasm modules built from this one library (so the
//! first load stays small, issue 4):
//! - [`start_front`] (`src/main.rs`, loaded by `index.html`): the sign-in
//!   page, the notices and the password checklist; every other route hands
//!   over to the full app ([`full_app`]). Only what [`app::switch_front`]
//!   reaches is linked into it, and it must stay under 150 KB compressed;
//! - [`start_full`] (`src/bin/latchkey-app.rs`, fetched on demand and
//!   precached by the service worker): every page.
//!
//! Layout (in the style of Yew's function-component examples):
//! - [`app`]: the application-wide contexts (bootstrap data, session) and
//!   which page each [`router::Route`] shows;
//! - [`router`]: [`router::Route`] (the one place it is defined and
//!   imported from), links and the navigator;
//! - [`pages`]: one component per route, with its feature's parts beside
//!   it (`account/`, `console/`, `self_service/`);
//! - [`components`]: the pieces the pages are built from;
//! - [`hooks`]: the bootstrap data, the session, and `use_request`, the one
//!   way a page keeps the state of its requests (busy, error, notice,
//!   re-authentication);
//! - [`services`]: the only place that talks HTTP, a file per resource;
//! - [`dom`]: focus management;
//! - [`format`]: pure helpers (dates, phone links), unit-tested natively;
//! - [`unicode`]: the browser's NFKC and case mapping for the shared crate.
//!
//! A page's non-trivial state is a `Reducible` with an `Action` enum (see
//! `pages/account/state.rs`), unit-tested natively (`cargo test -p
//! latchkey-client`); the component renders and dispatches.

mod app;
mod components;
mod dom;
mod format;
mod full_app;
mod hooks;
mod pages;
mod router;
mod services;
mod unicode;

/// The first-load module: see [`app::switch_front`]. It renders once the
/// sign-in page's data is there ([`hooks::when_ready`]).
pub fn start_front() {
    unicode::install();
    hooks::when_ready(|| {
        full_app::keep_front(
            yew::Renderer::<app::App>::with_props(app::AppProps {
                switch: app::switch_front,
            })
            .render(),
        )
    });
}

/// The module with every page, started by the front one (or by itself
/// when it is the only one loaded).
pub fn start_full() {
    unicode::install();
    hooks::when_ready(|| {
        yew::Renderer::<app::App>::with_props(app::AppProps {
            switch: app::switch_full,
        })
        .render();
    });
}
