//! `GET /api/enrolment` (the signed-in user's enrolled questions, never the
//! answers) and `PUT /api/enrolment` (enrol, or re-enrol after entering the
//! password again). Answers are normalised (shared `normalize_answer`),
//! checked by the shared rules, and stored only as argon2id hashes.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_shared::normalize::normalize_answer;
use latchkey_shared::self_service::{check_enrolment, paths, EnrolRequest, EnrolmentStatus};

use crate::audit::{self, result, AuditEvent};
use crate::domains;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::self_service as ss;
use crate::session::SignedIn;
use crate::state::AppState;
use crate::users;

/// Audit kind of every enrolment change.
pub const ENROLMENT: &str = "self_service.enrolment";

pub fn router() -> Router<AppState> {
    Router::new().route(paths::ENROLMENT, get(status).put(enrol))
}

async fn current_status(
    state: &AppState,
    user_id: i64,
    domain_id: i64,
) -> AppResult<EnrolmentStatus> {
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

async fn status(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> AppResult<Json<EnrolmentStatus>> {
    Ok(Json(
        current_status(&state, session.user_id, session.domain_id).await?,
    ))
}

async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> AppResult<Json<EnrolmentStatus>> {
    let domain = domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    let settings = ss::settings(&state.db, domain.id).await?;
    let audit_event = |res: &'static str, detail: &'static str| AuditEvent {
        kind: ENROLMENT,
        actor: Some(session.username_key.as_str()),
        subject: Some(session.username_key.as_str()),
        domain: Some(domain.slug.as_str()),
        source_ip: ip.as_deref(),
        result: res,
        detail: Some(detail),
    };

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
        audit::record(
            &state.db.pool,
            state.now(),
            &audit_event(result::REFUSED, "answers refused"),
        )
        .await?;
        return Err(AppError::BadRequest(format!(
            "Question {}: {}",
            i + 1,
            first.message()
        )));
    }

    let user = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let ticket = state.hasher.ticket()?;
    let was_enrolled = ss::enrolled_at(&state.db, user.id).await?.is_some();
    if was_enrolled {
        // Changing the enrolment needs the password again; it counts toward
        // the lockout exactly like a sign-in.
        let Some(password) = req.current_password.as_deref().filter(|p| !p.is_empty()) else {
            return Err(AppError::BadRequest(
                "Enter your current password to change your security questions.".into(),
            ));
        };
        let policy = LockoutPolicy::resolve(
            domain.lockout_threshold,
            domain.lockout_minutes,
            &state.config,
        );
        match lockout::reserve(
            &state.db,
            domain.id,
            &user.username_key,
            policy,
            state.now(),
        )
        .await?
        {
            Reservation::Locked => return Err(AppError::AccountLocked),
            Reservation::Allowed { .. } => {}
        }
        if !ticket.verify(password, &user.password_hash).await?.matched {
            audit::record(
                &state.db.pool,
                state.now(),
                &audit_event(result::FAILURE, "wrong current password"),
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        }
        lockout::reset(&state.db, domain.id, &user.username_key).await?;
    }

    let mut rows = Vec::with_capacity(req.answers.len());
    for entry in &req.answers {
        let hash = ticket.hash(&normalize_answer(&entry.answer)).await?;
        rows.push((entry.question.trim().to_owned(), hash));
    }
    drop(ticket);

    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    replace_answers(&mut tx, user.id, &rows, now).await?;
    audit::record(
        &mut *tx,
        now,
        &audit_event(
            result::SUCCESS,
            if was_enrolled {
                "re-enrolled"
            } else {
                "enrolled"
            },
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(current_status(&state, user.id, domain.id).await?))
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
