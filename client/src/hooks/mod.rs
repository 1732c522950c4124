//! The app's hooks: the bootstrap data and the session (contexts), being
//! online, the password check as one types, and [`use_request`], the one
//! way a page keeps the state of its requests.

mod use_bootstrap;
mod use_online;
mod use_password_check;
mod use_request;
mod use_required_session;
mod use_session;

pub use use_bootstrap::{
    use_bootstrap, use_bootstrap_loader, when_ready, BootstrapAction, BootstrapContext,
};
pub use use_online::{is_online, use_online, WindowListener};
pub use use_password_check::use_password_check;
pub use use_request::{use_request, use_request_with, UseRequestHandle};
pub use use_required_session::{use_required_session, RequiredSession};
pub use use_session::{use_session, use_session_provider, SessionAction, SessionContext};
