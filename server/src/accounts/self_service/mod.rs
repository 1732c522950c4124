//! Unlock Account and Forgot Password: the verification they share (the
//! seeds' steps 3 to 5) and what each does after it.
//!
//! 1. `POST flows` {kind, domain}: a flow and its first CAPTCHA.
//! 2. `POST flows/{id}/identify` {username, captcha}: the questions, and the
//!    deadline (`verification_minutes`). Unknown, not enrolled and (for
//!    Unlock) not locked names get questions too: decoys from a keyed hash.
//! 3. `POST flows/{id}/answers`: a failure is reserved atomically, the
//!    answers are checked (argon2, dummy hashes for decoys), the outcome is
//!    kept in the flow and the second CAPTCHA is sent whatever it is.
//! 4. `POST flows/{id}/finish` {captcha}: the one verdict. Unlock clears the
//!    lock; Forgot Password moves to
//! 5. `POST flows/{id}/password`: the new password, checked like Change Password.

pub mod checks;

use latchkey_shared::api::ErrorCode;
use latchkey_shared::normalize::normalize_answer;
use latchkey_shared::self_service::{
    messages, AnswersRequest, CaptchaChallenge, Completed, FinishRequest, FinishResponse, FlowKind,
    FlowStarted, IdentifyRequest, NewPasswordRequest, QuestionsStep, StartFlowRequest,
};
use sqlx::Row;

use crate::accounts::lockout::{self, LockoutPolicy};
use crate::accounts::new_password::{self, NewPasswordForm};
use crate::accounts::self_service::checks::{self as ss, CodeGuess, FailureReservation};
use crate::accounts::session;
use crate::accounts::store::{CredentialStore, PasswordSet, Store};
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::db::domains::{self, Domain};
use crate::db::users;
use crate::db::RowExt;
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::state::AppState;

fn flow_kind_audit(kind: FlowKind) -> AuditKind {
    match kind {
        FlowKind::Unlock => AuditKind::SelfServiceUnlock,
        FlowKind::Reset => AuditKind::SelfServiceReset,
    }
}

/// An event of the flow, by the name it is for (the person has not proved
/// who they are: the name as typed is both actor and subject).
fn flow_event<'a>(
    kind: AuditKind,
    key: &'a str,
    domain: &'a Domain,
    ip: Option<&'a str>,
) -> AuditEvent<'a> {
    AuditEvent::new(kind, AuditResult::Success)
        .actor(key)
        .subject(key)
        .domain(&domain.slug)
        .source_ip(ip)
}

/// A flow as stored.
struct Flow {
    id: String,
    kind: FlowKind,
    domain_id: i64,
    step: String,
    username_key: Option<String>,
    user_id: Option<i64>,
    questions: Vec<String>,
    positions: Vec<i64>,
    verified: bool,
    expires_at: i64,
}

async fn load(state: &AppState, token: &str) -> AppResult<Flow> {
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::SelfService(ErrorCode::FlowExpired));
    }
    let id = session::token_id(token);
    let row = sqlx::query(
        "SELECT kind, domain_id, step, username_key, user_id, questions, positions, verified, \
         expires_at FROM self_service_flows WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::SelfService(ErrorCode::FlowExpired))?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= state.now() {
        delete(state, &id).await?;
        return Err(AppError::SelfService(ErrorCode::FlowExpired));
    }
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "unlock" => FlowKind::Unlock,
        _ => FlowKind::Reset,
    };
    let json_list = |col: &str| -> AppResult<Option<String>> { Ok(row.try_get(col)?) };
    Ok(Flow {
        id,
        kind,
        domain_id: row.try_get("domain_id")?,
        step: row.try_get("step")?,
        username_key: row.try_get("username_key")?,
        user_id: row.try_get("user_id")?,
        questions: json_list("questions")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        positions: json_list("positions")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        verified: row.flag("verified")?,
        expires_at,
    })
}

async fn delete(state: &AppState, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM self_service_flows WHERE id = $1")
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

fn expect_step(flow: &Flow, step: &str) -> AppResult<()> {
    if flow.step == step {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "This step of the operation is not expected now. Please start again.".into(),
        ))
    }
}

async fn sspm_domain(state: &AppState, domain_id: i64) -> AppResult<Domain> {
    let domain = domains::by_id(&state.db, domain_id)
        .await?
        .ok_or(AppError::SelfService(ErrorCode::FlowExpired))?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    Ok(domain)
}

/// Issues a new CAPTCHA for the flow (replacing any previous one).
async fn issue_captcha(state: &AppState, flow_id: &str) -> AppResult<CaptchaChallenge> {
    let (text, challenge) = ss::generate_captcha().await?;
    let secret = ss::secret(&state.db).await?;
    sqlx::query(
        "UPDATE self_service_flows SET captcha_hash = $1, captcha_expires_at = $2 WHERE id = $3",
    )
    .bind(ss::captcha_hash(&secret, flow_id, &text))
    .bind(state.now() + ss::CAPTCHA_SECS)
    .bind(flow_id)
    .execute(&state.db.pool)
    .await?;
    #[cfg(feature = "test-hooks")]
    ss::captcha_answers::remember(flow_id, &text);
    Ok(challenge)
}

/// Checks the typed characters. The challenge is used up whatever the
/// outcome (compare-and-swap on the stored hash, so two requests cannot
/// both use it).
async fn check_captcha(state: &AppState, flow_id: &str, typed: &str) -> AppResult<()> {
    let row = sqlx::query(
        "SELECT captcha_hash, captcha_expires_at, captcha_attempts FROM self_service_flows \
         WHERE id = $1",
    )
    .bind(flow_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::SelfService(ErrorCode::FlowExpired))?;
    let stored: Option<String> = row.try_get("captcha_hash")?;
    let expires: Option<i64> = row.try_get("captcha_expires_at")?;
    let attempts: i64 = row.try_get("captcha_attempts")?;
    let Some(stored) = stored else {
        return Err(AppError::SelfService(ErrorCode::CaptchaExpired));
    };
    let used = sqlx::query(
        "UPDATE self_service_flows SET captcha_hash = NULL, captcha_attempts = captcha_attempts + 1 \
         WHERE id = $1 AND captcha_hash = $2",
    )
    .bind(flow_id)
    .bind(&stored)
    .execute(&state.db.pool)
    .await?;
    if used.rows_affected() != 1 {
        return Err(AppError::SelfService(ErrorCode::CaptchaExpired));
    }
    if expires.is_none_or(|e| e <= state.now()) {
        return Err(AppError::SelfService(ErrorCode::CaptchaExpired));
    }
    let secret = ss::secret(&state.db).await?;
    if ss::captcha_hash(&secret, flow_id, typed) != stored {
        if attempts + 1 >= ss::MAX_CAPTCHA_ATTEMPTS {
            delete(state, flow_id).await?;
            return Err(AppError::SelfService(ErrorCode::FlowExpired));
        }
        return Err(AppError::SelfService(ErrorCode::CaptchaIncorrect));
    }
    Ok(())
}

fn seconds_left(state: &AppState, expires_at: i64) -> u64 {
    u64::try_from(expires_at - state.now()).unwrap_or(0)
}

/// Step 1: a flow and its first CAPTCHA.
pub async fn start(state: &AppState, req: &StartFlowRequest) -> AppResult<FlowStarted> {
    let domain = domains::by_slug(&state.db, &req.domain)
        .await?
        .ok_or_else(|| AppError::BadRequest("There is no such authentication domain.".into()))?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    let now = state.now();
    // Housekeeping: flows long gone.
    sqlx::query("DELETE FROM self_service_flows WHERE expires_at < $1")
        .bind(now - 3600)
        .execute(&state.db.pool)
        .await?;
    let (token, id) = session::new_token();
    sqlx::query(
        "INSERT INTO self_service_flows (id, kind, domain_id, step, verified, created_at, expires_at) \
         VALUES ($1, $2, $3, 'identify', $4, $5, $6)",
    )
    .bind(&id)
    .bind(req.kind.as_str())
    .bind(domain.id)
    .bind(false)
    .bind(now)
    .bind(now + ss::IDENTIFY_SECS)
    .execute(&state.db.pool)
    .await?;
    let captcha = issue_captcha(state, &id).await?;
    Ok(FlowStarted {
        flow_id: token,
        captcha,
    })
}

/// Another picture for the step that shows one.
pub async fn new_captcha(state: &AppState, token: &str) -> AppResult<CaptchaChallenge> {
    let flow = load(state, token).await?;
    if flow.step != "identify" && flow.step != "confirm" {
        return Err(AppError::BadRequest(
            "No picture is needed at this step.".into(),
        ));
    }
    issue_captcha(state, &flow.id).await
}

/// Step 2: the name and the first CAPTCHA; the questions.
pub async fn identify(
    state: &AppState,
    token: &str,
    req: &IdentifyRequest,
) -> AppResult<QuestionsStep> {
    let flow = load(state, token).await?;
    expect_step(&flow, "identify")?;
    let domain = sspm_domain(state, flow.domain_id).await?;
    if req.username.trim().is_empty() {
        return Err(AppError::BadRequest("Enter your user name.".into()));
    }
    check_captcha(state, &flow.id, &req.captcha).await?;

    // Every name, real or not, enrolled or not, runs the same queries from
    // here on (the block check, one lookup, the flow's update) and the same
    // work (the decoys are drawn for all), so the answer's timing tells
    // nothing.
    let key = users::lookup_key(&req.username);
    let settings = ss::settings(&state.db, domain.id).await?;
    let now = state.now();
    if ss::is_blocked(&state.db, domain.id, &key, &settings, now).await? {
        return Err(AppError::SelfService(ErrorCode::SelfServiceBlocked));
    }
    let count = usize::from(settings.verify_count);
    let found = ss::identify(&state.db, domain.id, &key).await?;
    let secret = ss::secret(&state.db).await?;
    let decoys = ss::decoy_questions(&secret, domain.id, &key, &settings, count);
    let enrolled = if found.disabled {
        Vec::new()
    } else {
        found.enrolled
    };
    let factor = settings.second_factor;
    let (questions, positions) = if !factor.asks_questions() {
        (Vec::new(), Vec::new())
    } else if enrolled.len() >= count && !enrolled.is_empty() {
        let mut chosen = enrolled;
        ss::pick_random(&mut chosen, count);
        chosen.into_iter().map(|(p, q)| (q, p)).unzip()
    } else {
        (decoys, Vec::new())
    };
    let expires_at = now + i64::from(settings.verification_minutes) * 60;
    // A disabled account is no one here: no code is mailed to it.
    let person = found.user_id.filter(|_| !found.disabled);
    let mut tx = state.db.pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE self_service_flows SET step = 'questions', username_key = $1, user_id = $2, \
         questions = $3, positions = $4, expires_at = $5 WHERE id = $6 AND step = 'identify'",
    )
    .bind(&key)
    .bind(found.user_id)
    .bind(serde_json::to_string(&questions).map_err(AppError::internal)?)
    .bind(serde_json::to_string(&positions).map_err(AppError::internal)?)
    .bind(expires_at)
    .bind(&flow.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if factor.asks_code() && moved.rows_affected() == 1 {
        crate::accounts::factors::codes::deliver_later(state, flow.kind, person);
    }
    Ok(QuestionsStep {
        questions,
        seconds_left: seconds_left(state, expires_at),
        code_requested: factor.asks_code(),
    })
}

/// Step 3: the answers, checked and kept as the flow's outcome; the second
/// CAPTCHA whatever it is.
pub async fn answers(
    state: &AppState,
    ip: Option<&str>,
    token: &str,
    req: &AnswersRequest,
) -> AppResult<CaptchaChallenge> {
    let flow = load(state, token).await?;
    expect_step(&flow, "questions")?;
    let domain = sspm_domain(state, flow.domain_id).await?;
    if req.answers.len() != flow.questions.len() {
        return Err(AppError::BadRequest("Answer every question shown.".into()));
    }
    if req.answers.iter().any(|a| normalize_answer(a).is_empty()) {
        return Err(AppError::BadRequest("Answer every question shown.".into()));
    }
    let key = flow.username_key.clone().unwrap_or_default();
    let settings = ss::settings(&state.db, domain.id).await?;
    let factor = settings.second_factor;
    let code = req.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if factor.asks_code() && code.is_none() {
        return Err(AppError::BadRequest(messages::CODE_MISSING.into()));
    }

    // A place in the hashing queue first (503 at once if full), then move
    // the flow on, so the same answers cannot be sent twice.
    let ticket = state.hasher.ticket()?;
    let moved = sqlx::query(
        "UPDATE self_service_flows SET step = 'checking' WHERE id = $1 AND step = 'questions'",
    )
    .bind(&flow.id)
    .execute(&state.db.pool)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(AppError::BadRequest(
            "This step of the operation is not expected now. Please start again.".into(),
        ));
    }

    let reservation =
        ss::reserve_failure(&state.db, domain.id, &key, &settings, state.now()).await?;
    let blocks = match reservation {
        FailureReservation::Blocked => {
            drop(ticket);
            delete(state, &flow.id).await?;
            return Err(AppError::SelfService(ErrorCode::SelfServiceBlocked));
        }
        FailureReservation::Allowed { blocks } => blocks,
    };
    let halts = if factor.asks_code() {
        match ss::reserve_code_guess(&state.db, domain.id, &key, state.now()).await? {
            CodeGuess::Halted => {
                drop(ticket);
                delete(state, &flow.id).await?;
                return Err(AppError::SelfService(ErrorCode::SelfServiceBlocked));
            }
            CodeGuess::Allowed { halts } => halts,
        }
    } else {
        false
    };

    // The same number of argon2 checks whoever the name belongs to.
    let stored = match flow.user_id {
        Some(user_id) if !flow.positions.is_empty() => ss::enrolled_answers(&state.db, user_id)
            .await?
            .into_iter()
            .map(|(p, _, h)| (p, h))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let mut all_match = !flow.positions.is_empty();
    for (i, answer) in req.answers.iter().enumerate() {
        let normalised = normalize_answer(answer);
        let hash = flow
            .positions
            .get(i)
            .and_then(|p| stored.iter().find(|(sp, _)| sp == p))
            .map(|(_, h)| h.clone());
        match hash {
            Some(h) => all_match &= ticket.verify(&normalised, &h).await?.matched,
            None => {
                ticket.verify_dummy(&normalised).await?;
                all_match = false;
            }
        }
    }
    drop(ticket);
    if !factor.asks_questions() {
        // No questions: the code alone decides, and only for someone.
        all_match = flow.user_id.is_some();
    }
    let questions_ok = all_match;
    let mut code_ok = false;
    if let Some(code) = code.filter(|_| factor.asks_code()) {
        code_ok = crate::accounts::factors::codes::check(state, flow.user_id, code).await?;
        all_match &= code_ok;
    }
    if code_ok {
        ss::release_code_guess(&state.db, domain.id, &key).await?;
    }
    let halts = halts && !code_ok;

    let now = state.now();
    if all_match {
        ss::forget_failures(&state.db, domain.id, &key).await?;
    } else {
        let detail =
            if flow.user_id.is_none() || (factor.asks_questions() && flow.positions.is_empty()) {
                "unknown or not enrolled"
            } else if questions_ok {
                "wrong code"
            } else {
                "wrong answers"
            };
        let event = flow_event(flow_kind_audit(flow.kind), &key, &domain, ip);
        let mut tx = state.db.pool.begin().await?;
        let failed = event
            .clone()
            .with_result(AuditResult::Failure)
            .detail(detail);
        audit::record(&mut *tx, now, &failed).await?;
        if blocks {
            let blocked = event
                .clone()
                .as_kind(AuditKind::SelfServiceBlocked, AuditResult::Locked)
                .detail("failed verification threshold reached");
            audit::record(&mut *tx, now, &blocked).await?;
        }
        if halts {
            let halted = event
                .as_kind(AuditKind::SelfServiceHalted, AuditResult::Locked)
                .detail("too many wrong codes: stopped until the owner signs in or the Help Desk clears it");
            audit::record(&mut *tx, now, &halted).await?;
        }
        tx.commit().await?;
        if halts {
            tell_owner_halted(state, &key, &domain.slug, ip, now);
        }
    }
    // The late answer is refused even if the checks above took a moment.
    if flow.expires_at <= now {
        delete(state, &flow.id).await?;
        return Err(AppError::SelfService(ErrorCode::FlowExpired));
    }
    sqlx::query("UPDATE self_service_flows SET step = 'confirm', verified = $1 WHERE id = $2")
        .bind(all_match)
        .bind(&flow.id)
        .execute(&state.db.pool)
        .await?;
    issue_captcha(state, &flow.id).await
}

/// Mails the owner of `key`, if there is one with an address, that their
/// self-service stopped: after the answer, so that it takes the same time
/// for every name.
fn tell_owner_halted(state: &AppState, key: &str, domain: &str, ip: Option<&str>, now: i64) {
    let task_state = state.clone();
    let (key, domain, ip) = (key.to_owned(), domain.to_owned(), ip.map(str::to_owned));
    state
        .background
        .spawn("mailing that self-service stopped", async move {
            let event = AuditEvent::new(AuditKind::SelfServiceHalted, AuditResult::Locked)
                .subject(&key)
                .domain(&domain)
                .source_ip(ip.as_deref());
            let mut tx = task_state.db.pool.begin().await?;
            notices::mail_only(&mut tx, &task_state.config, now, &event).await?;
            tx.commit().await?;
            Ok(())
        });
}

/// Step 4: the second CAPTCHA and the one verdict.
pub async fn finish(
    state: &AppState,
    ip: Option<&str>,
    token: &str,
    req: &FinishRequest,
) -> AppResult<FinishResponse> {
    let flow = load(state, token).await?;
    expect_step(&flow, "confirm")?;
    let domain = sspm_domain(state, flow.domain_id).await?;
    check_captcha(state, &flow.id, &req.captcha).await?;

    let key = flow.username_key.clone().unwrap_or_default();
    let now = state.now();
    let user = match (flow.verified, flow.user_id) {
        (true, Some(id)) => users::by_id(&state.db, id).await?.filter(|u| !u.disabled),
        _ => None,
    };
    let lock_policy = LockoutPolicy::of(&domain, &state.config);
    let cause = match (&user, flow.kind) {
        (None, _) if !flow.verified => Some("answers do not match or not enrolled"),
        (None, _) => Some("account unavailable"),
        (Some(u), FlowKind::Unlock) if !locked(state, &domain, u, lock_policy, now).await? => {
            Some("account not locked")
        }
        _ => None,
    };
    let event = flow_event(flow_kind_audit(flow.kind), &key, &domain, ip);
    let user = match (user, cause) {
        (Some(user), None) => user,
        (_, cause) => {
            let cause = cause.unwrap_or("account unavailable");
            let mut tx = state.db.pool.begin().await?;
            delete_flow(&mut tx, &flow.id).await?;
            let failed = event.with_result(AuditResult::Failure).detail(cause);
            audit::record(&mut *tx, now, &failed).await?;
            tx.commit().await?;
            return Err(AppError::SelfService(ErrorCode::VerificationFailed));
        }
    };
    match flow.kind {
        FlowKind::Unlock => {
            // The directory's lock first, with no transaction open.
            Store::for_domain(state, &domain)?.lift_lock(&user).await?;
            let mut tx = state.db.pool.begin().await?;
            lockout::reset_in(&mut *tx, domain.id, &user.username_key).await?;
            delete_flow(&mut tx, &flow.id).await?;
            notices::record(
                &mut tx,
                &state.config,
                now,
                &event.detail("account unlocked"),
            )
            .await?;
            tx.commit().await?;
            state.metrics.unlock(crate::metrics::Channel::SelfService);
            Ok(FinishResponse::Unlocked {
                message: messages::UNLOCKED.to_owned(),
            })
        }
        FlowKind::Reset => {
            let expires_at = now + ss::PASSWORD_STEP_SECS;
            let mut tx = state.db.pool.begin().await?;
            move_to_password_step(&mut tx, &flow.id, expires_at).await?;
            let verified = event.detail("verified; choosing a new password");
            audit::record(&mut *tx, now, &verified).await?;
            tx.commit().await?;
            Ok(FinishResponse::ChoosePassword {
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                domain_name: domain.name.clone(),
                policy: domain.policy.clone(),
                seconds_left: seconds_left(state, expires_at),
            })
        }
    }
}

/// Locked by Latchkey's counter, or by the store itself with a lock an
/// unlock may lift.
async fn locked(
    state: &AppState,
    domain: &Domain,
    user: &users::UserRecord,
    policy: LockoutPolicy,
    now: i64,
) -> AppResult<bool> {
    if lockout::is_locked(&state.db, domain.id, &user.username_key, policy, now).await? {
        return Ok(true);
    }
    Store::for_domain(state, domain)?.liftable_lock(user).await
}

async fn delete_flow(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM self_service_flows WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

async fn move_to_password_step(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE self_service_flows SET step = 'password', expires_at = $1 WHERE id = $2")
        .bind(expires_at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Step 5 (Forgot Password): the new password.
pub async fn new_password(
    state: &AppState,
    ip: Option<&str>,
    token: &str,
    req: &NewPasswordRequest,
) -> AppResult<Completed> {
    let flow = load(state, token).await?;
    expect_step(&flow, "password")?;
    let domain = sspm_domain(state, flow.domain_id).await?;
    let user = match flow.user_id {
        Some(id) => users::by_id(&state.db, id).await?,
        None => None,
    }
    .filter(|u| !u.disabled)
    .ok_or(AppError::SelfService(ErrorCode::VerificationFailed))?;
    let event = flow_event(AuditKind::SelfServiceReset, &user.username_key, &domain, ip);
    let form = NewPasswordForm {
        new_password: &req.new_password,
        confirm_password: &req.confirm_password,
        policy_version: req.policy_version,
    };
    new_password::check_form(&domain, &form)?;
    let ticket = state.hasher.ticket()?;
    let new = new_password::accept(state, &ticket, &domain, &user, &form, None, &event).await?;
    drop(ticket);

    let now = state.now();
    let depth = users::history_depth(&domain.policy);
    // Single use: only the request that claims the step goes on. The
    // store's own work (a directory's) is done between two short
    // transactions, never inside one; if it fails, the step is given back
    // so the person can try again.
    if !claim_password_step(&state.db, &flow.id, now).await? {
        return Err(AppError::SelfService(ErrorCode::FlowExpired));
    }
    let stored = async {
        let store = Store::for_domain(state, &domain)?;
        let written = store
            .write_password(&user, &new, PasswordSet::Reset)
            .await?
            .ok_or_else(|| AppError::internal("a reset refused as a wrong password"))?;
        store.lift_lock(&user).await?;
        let mut tx = state.db.pool.begin().await?;
        delete_flow(&mut tx, &flow.id).await?;
        let stored = store
            .store_password(&mut tx, written, &user, PasswordSet::Reset, depth, now)
            .await?;
        if !stored {
            // Another request changed the password since this flow read it:
            // the step is given back, and a new try reads the account anew.
            tx.rollback().await?;
            return Err(AppError::SelfService(ErrorCode::FlowExpired));
        }
        crate::accounts::staff::end_sessions(&mut tx, user.id).await?;
        lockout::reset_in(&mut *tx, domain.id, &user.username_key).await?;
        notices::record(&mut tx, &state.config, now, &event.detail("password reset")).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = stored {
        // Whatever failed after the claim, the person may try again (within
        // the step's time), rather than start the whole flow over.
        give_back_password_step(&state.db, &flow.id).await?;
        return Err(e);
    }
    state.metrics.reset(crate::metrics::Channel::SelfService);
    Ok(Completed {
        message: messages::PASSWORD_RESET.to_owned(),
    })
}

/// Moves the flow from its password step to `storing`, which no step
/// accepts: false when another request claimed it first.
async fn claim_password_step(db: &crate::db::Db, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE self_service_flows SET step = 'storing' \
         WHERE id = $1 AND step = 'password' AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// The password step again, after the store could not set the password.
async fn give_back_password_step(db: &crate::db::Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE self_service_flows SET step = 'password' WHERE id = $1 AND step = 'storing'",
    )
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}
