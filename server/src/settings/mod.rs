//! What an administrator configures, and the audit log they read: domains
//! (SSPM flag and text, policy, lockout, self-service settings, the
//! credential store), notices and
//! the one-step mandatory reset, the Help Desk contact, API keys for the
//! portal. Each change is one transaction with its audit row; the queries are
//! small named functions beside the operation that uses them. A route parses
//! its request, calls one operation here and maps the result to a response.
//! (Roles are changes to an account: [`crate::accounts::staff`].)

pub mod api_keys;
pub mod audit_log;
pub mod domain_store;
pub mod domains;
pub mod help_desk;
pub mod notices;
pub mod outbox;
pub mod provisioning;
pub mod site;
