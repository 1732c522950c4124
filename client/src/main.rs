//! Latchkey's PWA: the sign-in page with the notices, the per-domain
//! self-service landing pages, and the signed-in Change Password screen.
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
mod hooks;
mod pages;
mod services;
mod unicode;

fn main() {
    unicode::install();
    yew::Renderer::<app::App>::new().render();
}
