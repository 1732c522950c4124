//! Sends what the outbox holds, on every instance: each claims a few due
//! mails at a time ([`super::outbox::claim`]), so a mail is sent by one of
//! them. A mail server that is down or refuses for a while delays mail and
//! loses none: the mail waits with a growing pause between attempts.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio::sync::watch;

use super::config::{MailConfig, MailSecurity};
use super::outbox::{self, Claimed};
use crate::state::AppState;

/// Mails claimed at once by one instance.
const BATCH: i64 = 20;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, String> {
        config.validate()?;
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("[mail] from: {e}"))?;
        let tls = || -> Result<TlsParameters, String> {
            let mut params = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("[mail] cannot read ca_file {}: {e}", path.display()))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("[mail] ca_file {}: {e}", path.display()))?;
                params = params.add_root_certificate(cert);
            }
            params
                .build_rustls()
                .map_err(|e| format!("[mail] TLS: {e}"))
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port())
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        let builder = match config.security {
            MailSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
            MailSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            MailSecurity::Plain => {
                tracing::warn!(
                    host = %config.host,
                    "mail is sent unencrypted (allow_plain = true): use it only for a test server"
                );
                builder
            }
        };
        let builder = match (&config.username, config.password()?) {
            (Some(user), Some(password)) => builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            )),
            _ => builder,
        };
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one mail; `Err((why, permanent))`.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), (String, bool)> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| (format!("not an address: {e}"), true))?;
        // A Message-ID of our own host: receiving servers expect one.
        let message = Message::builder()
            .message_id(None)
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
            .map_err(|e| (e.to_string(), true))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| (e.to_string(), e.is_permanent()))
    }
}

/// Sends the mails that are due now; returns how many were sent.
pub async fn send_due(state: &AppState, mailer: &Mailer) -> Result<usize, sqlx::Error> {
    let (_keep, never) = watch::channel(false);
    send_due_until(state, mailer, &never).await
}

/// [`send_due`], stopping after the mail being sent once `stop` is true:
/// the mails claimed and not yet attempted are put back
/// ([`outbox::release`]), so a shutdown neither cuts a mail in the middle
/// nor holds them for the claim's lease.
pub async fn send_due_until(
    state: &AppState,
    mailer: &Mailer,
    stop: &watch::Receiver<bool>,
) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    outbox::expire(&state.db, state.now()).await?;
    loop {
        if *stop.borrow() {
            return Ok(sent);
        }
        let now = state.now();
        let batch = outbox::claim(&state.db, now, BATCH).await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for (i, mail) in batch.iter().enumerate() {
            if *stop.borrow() {
                let left: Vec<i64> = batch[i..].iter().map(|m| m.id).collect();
                outbox::release(&state.db, &left).await?;
                return Ok(sent);
            }
            sent += usize::from(deliver(state, mailer, mail).await?);
        }
    }
}

async fn deliver(state: &AppState, mailer: &Mailer, mail: &Claimed) -> Result<bool, sqlx::Error> {
    match mailer
        .send(&mail.recipient, &mail.subject, &mail.text, &mail.html)
        .await
    {
        Ok(()) => {
            outbox::mark_sent(&state.db, mail.id, state.now()).await?;
            Ok(true)
        }
        Err((why, permanent)) => {
            tracing::warn!(outbox_id = mail.id, attempt = mail.attempts, permanent, error = %why, "sending a mail failed");
            outbox::mark_failed(&state.db, mail, &why, permanent, state.now()).await?;
            Ok(false)
        }
    }
}

/// Looks at the outbox every `poll_secs` while the returned task lives,
/// until `stop` turns true (then it ends after the mail it is sending).
pub fn spawn(
    state: AppState,
    mailer: Arc<Mailer>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            if let Err(e) = send_due_until(&state, &mailer, &stop).await {
                tracing::warn!(error = %e, "reading the outbox failed; will retry");
            }
        }
    })
}
