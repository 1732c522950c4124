mod use_bootstrap;
mod use_session;

pub use use_bootstrap::{use_bootstrap, use_bootstrap_loader, BootstrapAction, BootstrapContext};
pub use use_session::{use_session, use_session_provider, SessionAction, SessionContext};
