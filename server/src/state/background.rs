//! Work an answer does not wait for: a mail that only some names get (a
//! one-time code, the notice that self-service stopped). Done after the
//! answer's own transaction, so the answer takes the same time whoever the
//! name is; a failure is logged, never shown to the person.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::error::AppError;

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
