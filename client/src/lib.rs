//! Latchkey's PWA: the sign-in page with the notices, the per-domain
//! self-service landing pages, and the signed-in Change Password screen.
//!
//! Two entry points, two wasm modules built from this one library (so the
//! first load stays small, issue 4):
//! - [`start_front`] (`src/main.rs`, loaded by `index.html`): the sign-in
//!   page, the per-domain landing pages, the notices and the password
//!   checklist; every other route hands over to the full app;
//! - [`start_full`] (`src/bin/latchkey-app.rs`, fetched on demand and
//!   precached by the service worker): every page.
//!
//! Layout (in the style of Yew's function-component examples):
//! - [`app`]: the router and the application-wide contexts (bootstrap data, session);
//! - [`pages`]: one component per route;
//! - [`components`]: the pieces the pages are built from;
//! - [`hooks`]: loading/caching the bootstrap data, the session context;
//! - [`services`]: the only place that talks HTTP;
//! - [`dom`]: focus management;
//! - [`format`]: pure helpers (dates, phone links), unit-tested natively;
//! - [`unicode`]: the browser's NFKC and case mapping for the shared crate.

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
