//! The outbox as the console shows it, and the test mail an administrator
//! sends to check the mail settings (it goes through the outbox and the
//! sender like every notification).

use latchkey_shared::admin::{OutboxEntry, TestMailRequest, OUTBOX_LIST_LIMIT};

use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::error::{AppError, AppResult};
use crate::mail::notices::{when, Rendered};
use crate::mail::outbox;
use crate::state::AppState;

/// No `[mail]` section: nothing is sent, and the console says so.
const NO_MAIL: &str =
    "No mail server is configured: add a [mail] section to the configuration file (docs/notifications.md).";

pub async fn recent(state: &AppState) -> AppResult<Vec<OutboxEntry>> {
    Ok(outbox::recent(&state.db, OUTBOX_LIST_LIMIT).await?)
}

/// Queues a test mail to `req.to`, with its audit row.
pub async fn send_test(
    state: &AppState,
    actor: &Actor,
    req: &TestMailRequest,
) -> AppResult<OutboxEntry> {
    if state.config.mail.is_none() {
        return Err(AppError::Conflict(NO_MAIL.to_owned()));
    }
    let to = req.to.trim();
    if to.parse::<lettre::message::Mailbox>().is_err() {
        return Err(AppError::BadRequest(format!(
            "{to:?} is not a mail address (e.g. someone@example.org)."
        )));
    }
    let now = state.now();
    let mail = Rendered {
        subject: "Latchkey test mail".to_owned(),
        text: format!(
            "This is a test mail from the password self-service of {}, sent by {} on {}.\n\nIf you can read it, notifications reach this address.\n",
            state.config.portal_name,
            actor.name,
            when(now)
        ),
        html: format!(
            "<!doctype html><html lang=\"en\"><body><p>This is a test mail from the password self-service, sent on {}.</p><p>If you can read it, notifications reach this address.</p></body></html>",
            when(now)
        ),
    };
    let mut tx = state.db.pool.begin().await?;
    outbox::enqueue(&mut tx, "test", to, &mail, now).await?;
    let ev = actor.did(AuditKind::AdminTestMail).detail(to);
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    recent(state)
        .await?
        .into_iter()
        .find(|m| m.kind == "test" && m.recipient == to)
        .ok_or_else(|| AppError::internal("the test mail vanished from the outbox"))
}
