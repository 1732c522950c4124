//! Everything a server runs beside its requests, started here and nowhere
//! else:
//!
//! - [`Background`]: work an answer does not wait for, a mail that only
//!   some names get (a one-time code, the notice that self-service
//!   stopped). Done after the answer's own transaction, so the answer takes
//!   the same time whoever the name is; a failure is logged, never shown to
//!   the person.
//! - [`housekeeping`]: every second, the deferred audit events and the
//!   report of the 503s (while the application serves).
//! - [`Schedules`]: the purge of expired state with the expiry reminders,
//!   and the outbox's sender when mail is configured (`latchkey serve`); at
//!   a shutdown the sender finishes the mail it is sending.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::audit;
use crate::error::AppError;
use crate::mail::sender::{self, Mailer};
use crate::state::AppState;

/// The tasks of one server, counted so that a test (or a shutdown) can wait
/// until they are done.
#[derive(Debug)]
pub struct Background {
    running: watch::Sender<usize>,
}

impl Default for Background {
    fn default() -> Self {
        Self {
            running: watch::Sender::new(0),
        }
    }
}

/// Counts a task down however it ends (a panic included).
struct Running(Arc<Background>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Background {
    /// Runs `work` on its own; `what` names it in the log if it fails.
    pub fn spawn<F>(self: &Arc<Self>, what: &'static str, work: F)
    where
        F: Future<Output = Result<(), AppError>> + Send + 'static,
    {
        self.running.send_modify(|n| *n += 1);
        let running = Running(Arc::clone(self));
        tokio::spawn(async move {
            let _running = running;
            if let Err(e) = work.await {
                tracing::warn!(error = %e, what, "background work failed");
            }
        });
    }

    /// Returns once no task is running.
    pub async fn settled(&self) {
        let mut rx = self.running.subscribe();
        // The sender lives as long as `self`: this cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// What a serving process does every second: write the deferred audit
/// events and report the 503s of the last second.
pub(crate) fn housekeeping(state: &AppState) -> Housekeeping {
    let stop = Arc::new(tokio::sync::Notify::new());
    let state = state.clone();
    let task = audit::spawn_flusher(state.deferred_audit.clone(), stop.clone(), move || {
        let state = state.clone();
        async move {
            if let Err(e) = state.flush_audit().await {
                tracing::warn!(error = %e, "writing deferred audit events failed; will retry");
            }
            state.hasher.report_busy();
        }
    });
    Housekeeping {
        stop,
        task: Some(task),
    }
}

/// The housekeeping task; aborted when dropped (the server future that
/// started it ended or was dropped), unless [`Housekeeping::finish`]ed.
pub(crate) struct Housekeeping {
    stop: Arc<tokio::sync::Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Housekeeping {
    /// Lets a round in progress (a write of the deferred audit) end, then
    /// stops.
    pub(crate) async fn finish(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Housekeeping {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The periodic tasks of `latchkey serve`; stopped when dropped, or
/// gently with [`Schedules::stop`].
pub struct Schedules {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sender: Option<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Schedules {
    /// Starts the purge every `purge_interval_secs` and, when mail is
    /// configured, the outbox's sender every `poll_secs`. An invalid mail
    /// configuration is an error before anything starts.
    pub fn start(state: &AppState) -> Result<Self, String> {
        let mailer = match &state.config.mail {
            Some(mail) => Some((Mailer::new(mail)?, mail.poll_secs)),
            None => None,
        };
        let purge_every = Duration::from_secs(state.config.purge_interval_secs.max(1));
        let tasks = vec![crate::db::purge::spawn(state.clone(), purge_every)];
        let (stop, stopping) = watch::channel(false);
        let sender = mailer.map(|(mailer, poll_secs)| {
            sender::spawn(
                state.clone(),
                Arc::new(mailer),
                Duration::from_secs(poll_secs),
                stopping,
            )
        });
        Ok(Self {
            tasks,
            sender,
            stop,
        })
    }

    /// Stops the purge at once (its work is transactional) and tells the
    /// mail sender to stop after the mail it is sending; the future waits
    /// for that, for at most `within`. The mails the sender claimed and did
    /// not attempt go back to the outbox.
    pub fn stop(mut self, within: Duration) -> impl Future<Output = ()> {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        let sender = self.sender.take();
        async move {
            if let Some(mut sender) = sender {
                if tokio::time::timeout(within, &mut sender).await.is_err() {
                    tracing::warn!(
                        "the mail sender was still sending at the end of the grace period: stopped"
                    );
                    sender.abort();
                }
            }
        }
    }
}

impl Drop for Schedules {
    fn drop(&mut self) {
        for task in self.tasks.iter().chain(&self.sender) {
            task.abort();
        }
    }
}
