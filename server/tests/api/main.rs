//! Integration tests of the HTTP API, the static files and the CLI. Every
//! test runs twice: against SQLite and against PostgreSQL (a throwaway
//! cluster this process starts once; see `latchkey_testkit::postgres`).

/// Turns `async fn name(backend: Backend)` test bodies into
/// `sqlite::name` and `postgres::name` tests.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await
                }
            )+
        }
    };
}

mod active_directory;
mod admin_console;
mod authenticator;
mod behind_nginx;
mod bootstrap;
mod change_password;
mod cli;
mod client_address;
mod configuration;
mod directory;
mod directory_console;
mod directory_domains;
mod errors;
mod fuzz;
mod hashing;
mod helpers;
mod hostile_input;
mod https;
mod lockout;
mod metrics;
mod notifications;
mod openapi;
mod packaging;
mod password_expiry;
mod purge;
mod requests;
mod second_factor;
mod second_factor_limits;
mod self_service;
mod service_layer;
mod serving;
mod sessions;
mod sign_in;
mod staff;
mod static_files;
mod temporary_passwords;
mod throttle;
mod upgrades;
