//! Security questions: the signed-in user's enrolment (never the answers)
//! and enrolling or re-enrolling. Answers are normalised (shared
//! `normalize_answer`), checked by the shared rules, and stored only as
//! argon2id hashes; changing an enrolment needs the password again,
//! counted and audited like every other proof of the current password.

use latchkey_shared::normalize::normalize_answer;
use latchkey_shared::self_service::{check_enrolment, EnrolRequest, EnrolmentStatus};

use super::verify_current_password;
use crate::accounts::self_service::checks as ss;
use crate::accounts::session::SessionUser;
use crate::audit::Actor;
use crate::audit::{self, AuditKind, AuditResult};
use crate::db::domains;
use crate::db::users;
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::state::AppState;

/// The enrolment of `user_id` and what the domain asks for.
pub async fn status(state: &AppState, user_id: i64, domain_id: i64) -> AppResult<EnrolmentStatus> {
    let settings = ss::settings(&state.db, domain_id).await?;
    let answers = ss::enrolled_answers(&state.db, user_id).await?;
    let enrolled_at = ss::enrolled_at(&state.db, user_id).await?;
    Ok(EnrolmentStatus {
        enrolled: !answers.is_empty(),
        questions: answers.into_iter().map(|(_, q, _)| q).collect(),
        enrolled_at,
        catalogue: settings.catalogue,
        enrol_count: settings.enrol_count,
        allow_custom_questions: settings.allow_custom_questions,
        allow_skip: settings.allow_skip_enrolment,
    })
}

/// Enrols `session`'s user, or replaces their enrolment.
pub async fn enrol(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    req: &EnrolRequest,
) -> AppResult<EnrolmentStatus> {
    let domain = domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    let settings = ss::settings(&state.db, domain.id).await?;
    let event = actor
        .did(AuditKind::SelfServiceEnrolment)
        .subject(&session.username_key)
        .domain(&domain.slug);

    let want = usize::from(settings.enrol_count);
    if req.answers.len() != want {
        return Err(AppError::BadRequest(format!(
            "Choose {want} questions and answer each of them."
        )));
    }
    let issues = check_enrolment(
        &req.answers,
        &session.username,
        &settings.catalogue,
        settings.allow_custom_questions,
    );
    if let Some((i, first)) = issues
        .iter()
        .enumerate()
        .find_map(|(i, list)| list.first().map(|f| (i, f)))
    {
        let refused = event
            .clone()
            .with_result(AuditResult::Refused)
            .detail("answers refused");
        audit::record(&state.db.pool, state.now(), &refused).await?;
        return Err(AppError::BadRequest(format!(
            "Question {}: {}",
            i + 1,
            first.message()
        )));
    }

    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let was_enrolled = ss::enrolled_at(&state.db, account.id).await?.is_some();
    let ticket = if was_enrolled {
        let Some(password) = req.current_password.as_deref().filter(|p| !p.is_empty()) else {
            return Err(AppError::BadRequest(
                "Enter your current password to change your security questions.".into(),
            ));
        };
        verify_current_password(state, &domain, &account, password, &event).await?
    } else {
        state.hasher.ticket()?
    };

    let mut rows = Vec::with_capacity(req.answers.len());
    for entry in &req.answers {
        let hash = ticket.hash(&normalize_answer(&entry.answer)).await?;
        rows.push((entry.question.trim().to_owned(), hash));
    }
    drop(ticket);

    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    replace_answers(&mut tx, account.id, &rows, now).await?;
    let detail = if was_enrolled {
        "re-enrolled"
    } else {
        "enrolled"
    };
    notices::record(&mut tx, &state.config, now, &event.detail(detail)).await?;
    tx.commit().await?;
    status(state, account.id, domain.id).await
}

/// Replaces a user's enrolled answers (hashes already computed); their
/// `created_at` is the enrolment date (the staff console reads it too).
pub async fn replace_answers(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    rows: &[(String, String)],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM security_answers WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for (position, (question, hash)) in rows.iter().enumerate() {
        sqlx::query(
            "INSERT INTO security_answers (user_id, position, question, answer_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(question)
        .bind(hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
