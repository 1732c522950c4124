//! Mail to the people whose accounts change: notices written to an outbox
//! in the change's own transaction ([`notices::record`]) and sent by a
//! background task on every instance ([`sender`]) through the configured
//! SMTP server ([`config`]).

pub mod config;
pub mod notices;
pub mod outbox;
pub mod sender;
