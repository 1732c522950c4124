//! The checks the self-service steps ([`super`]) are built from: the
//! domain's settings, the server secret, CAPTCHAs, decoy questions,
//! enrolled answers, and the atomic counts of failed verifications and of
//! code guesses. Enrolment uses the settings too ([`crate::accounts::enrolment`]).

use base64::Engine;
use latchkey_shared::self_service::{messages, CaptchaChallenge, SelfServiceSettings};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Db, RowExt};
use crate::error::AppError;

/// `settings` key of the server secret that keys the decoy questions and the
/// CAPTCHA hashes; created on first use, random.
pub const SECRET_KEY: &str = "self_service_secret";

/// Lifetime of one CAPTCHA challenge.
pub const CAPTCHA_SECS: i64 = 120;
/// Time to solve the first CAPTCHA and give the user name.
pub const IDENTIFY_SECS: i64 = 15 * 60;
/// Time to choose the new password after a successful Forgot Password verification.
pub const PASSWORD_STEP_SECS: i64 = 10 * 60;
/// Wrong CAPTCHAs one flow tolerates before it must start again.
pub const MAX_CAPTCHA_ATTEMPTS: i64 = 10;
/// Characters of the CAPTCHA: none that look alike (0/O, 1/I/l, 2/Z, 5/S, 8/B).
const CAPTCHA_CHARS: &[char] = &[
    'A', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'R', 'T', 'U', 'V', 'W', 'X', 'Y',
    '3', '4', '6', '7', '9',
];
const CAPTCHA_LEN: u32 = 5;
pub const CAPTCHA_WIDTH: u32 = 220;
pub const CAPTCHA_HEIGHT: u32 = 110;

/// The domain's settings, or the defaults.
pub async fn settings(db: &Db, domain_id: i64) -> Result<SelfServiceSettings, AppError> {
    let row = sqlx::query("SELECT settings FROM self_service_settings WHERE domain_id = $1")
        .bind(domain_id)
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(r) => {
            let json: String = r.try_get("settings")?;
            serde_json::from_str(&json)
                .map_err(|e| AppError::internal(format!("stored self-service settings: {e}")))
        }
        None => Ok(SelfServiceSettings::default()),
    }
}

/// Stores a domain's settings (demo data, admin tools, tests).
pub async fn set_settings<'e, E>(
    executor: E,
    domain_id: i64,
    settings: &SelfServiceSettings,
) -> Result<(), AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    settings.validate().map_err(AppError::BadRequest)?;
    let json = serde_json::to_string(settings).map_err(AppError::internal)?;
    sqlx::query(
        "INSERT INTO self_service_settings (domain_id, settings) VALUES ($1, $2) \
         ON CONFLICT (domain_id) DO UPDATE SET settings = $2",
    )
    .bind(domain_id)
    .bind(json)
    .execute(executor)
    .await?;
    Ok(())
}

/// The server secret (hex), created at first use. Race-free: the first
/// insert wins and everyone reads the stored value.
pub async fn secret(db: &Db) -> Result<String, AppError> {
    db.self_service_secret
        .get_or_try_init(|| read_or_create_secret(db))
        .await
        .cloned()
}

async fn read_or_create_secret(db: &Db) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(SECRET_KEY)
        .bind(hex::encode(bytes))
        .execute(&db.pool)
        .await?;
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(SECRET_KEY)
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get("value")?)
}

/// SHA-256 of the secret and the labelled parts (each length-prefixed).
pub fn keyed_hash(secret: &str, label: &str, parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in std::iter::once(secret)
        .chain(std::iter::once(label))
        .chain(parts.iter().copied())
    {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// What the user typed for a CAPTCHA, in the form that is hashed: no
/// white space, upper case (the check is case-insensitive).
pub fn captcha_canonical(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

pub fn captcha_hash(secret: &str, flow_id: &str, typed: &str) -> String {
    hex::encode(keyed_hash(
        secret,
        "captcha",
        &[flow_id, &captcha_canonical(typed)],
    ))
}

/// A fresh CAPTCHA: its characters and the challenge to send.
pub async fn generate_captcha() -> Result<(String, CaptchaChallenge), AppError> {
    let (text, png) = tokio::task::spawn_blocking(|| {
        use captcha::filters::{Dots, Noise, Wave};
        let mut c = captcha::Captcha::new();
        c.set_chars(CAPTCHA_CHARS)
            .add_chars(CAPTCHA_LEN)
            .apply_filter(Noise::new(0.2))
            .apply_filter(Wave::new(2.0, 12.0))
            .view(CAPTCHA_WIDTH, CAPTCHA_HEIGHT)
            .apply_filter(Dots::new(8).max_radius(5).min_radius(2));
        c.as_tuple()
    })
    .await
    .map_err(AppError::internal)?
    .ok_or_else(|| AppError::internal("captcha image could not be encoded"))?;
    Ok((
        text,
        CaptchaChallenge {
            image_png_base64: base64::engine::general_purpose::STANDARD.encode(png),
            width: CAPTCHA_WIDTH,
            height: CAPTCHA_HEIGHT,
            expires_in_secs: CAPTCHA_SECS as u64,
            alt_text: messages::CAPTCHA_ALT.to_owned(),
        },
    ))
}

/// Decoy questions for a name that is unknown or not enrolled: `count` of
/// `enrol_count` catalogue questions chosen by a keyed hash of the name (so
/// the same name always draws from the same plausible set), the `count`
/// asked picked at random among them like for an enrolled user.
pub fn decoy_questions(
    secret: &str,
    domain_id: i64,
    username_key: &str,
    settings: &SelfServiceSettings,
    count: usize,
) -> Vec<String> {
    let seed = keyed_hash(
        secret,
        "decoy-questions",
        &[&domain_id.to_string(), username_key],
    );
    let mut order: Vec<usize> = (0..settings.catalogue.len()).collect();
    // Fisher-Yates driven by the hash bytes.
    for i in (1..order.len()).rev() {
        let b =
            usize::from(seed[i % seed.len()]) + usize::from(seed[(i * 7 + 3) % seed.len()]) * 256;
        order.swap(i, b % (i + 1));
    }
    let mut set: Vec<usize> = order
        .into_iter()
        .take(usize::from(settings.enrol_count))
        .collect();
    pick_random(&mut set, count);
    set.into_iter()
        .map(|i| settings.catalogue[i].clone())
        .collect()
}

/// Keeps `count` elements chosen at random, in their original order.
pub fn pick_random<T: Clone>(items: &mut Vec<T>, count: usize) {
    let mut rng = rand::thread_rng();
    while items.len() > count {
        let i = rng.gen_range(0..items.len());
        items.remove(i);
    }
}

/// A user's enrolled (position, question, answer hash), in order.
pub async fn enrolled_answers(
    db: &Db,
    user_id: i64,
) -> Result<Vec<(i64, String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT position, question, answer_hash FROM security_answers \
         WHERE user_id = $1 ORDER BY position",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("position")?,
                r.try_get("question")?,
                r.try_get("answer_hash")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// When the user last enrolled (`None` = not enrolled).
pub async fn enrolled_at(db: &Db, user_id: i64) -> Result<Option<i64>, AppError> {
    let row = sqlx::query(
        "SELECT created_at FROM security_answers WHERE user_id = $1 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| r.try_get("created_at")).transpose()?)
}

// ---------------------------------------------------------------- failures
/// The outcome of reserving a failed verification in advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReservation {
    /// The answers may be checked; `blocks` if this reservation reached the limit.
    Allowed { blocks: bool },
    /// Blocked: refuse without checking anything.
    Blocked,
}

const RESERVE_SQL: &str = "\
INSERT INTO self_service_failures (domain_id, username_key, failed_count, window_start, blocked_at, updated_at) \
VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $3 ELSE NULL END, $3) \
ON CONFLICT (domain_id, username_key) DO UPDATE SET \
    failed_count = CASE WHEN self_service_failures.blocked_at IS NOT NULL \
                          OR self_service_failures.window_start <= $3 - $5 THEN 1 \
                        ELSE self_service_failures.failed_count + 1 END, \
    window_start = CASE WHEN self_service_failures.blocked_at IS NOT NULL \
                          OR self_service_failures.window_start <= $3 - $5 THEN $3 \
                        ELSE self_service_failures.window_start END, \
    blocked_at = CASE WHEN (CASE WHEN self_service_failures.blocked_at IS NOT NULL \
                                   OR self_service_failures.window_start <= $3 - $5 THEN 1 \
                                 ELSE self_service_failures.failed_count + 1 END) >= $4 \
                      THEN $3 ELSE NULL END, \
    updated_at = $3 \
WHERE self_service_failures.blocked_at IS NULL \
   OR self_service_failures.blocked_at <= $3 - $6 \
RETURNING failed_count";

/// Records one failed verification before the answers are checked, in one
/// atomic upsert, so parallel submissions get no more than `max_failures`
/// checks per window. A verification that succeeds takes it back with
/// [`forget_failures`].
pub async fn reserve_failure(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    settings: &SelfServiceSettings,
    now: i64,
) -> Result<FailureReservation, AppError> {
    let max = i64::from(settings.max_failures.max(1));
    let row = sqlx::query(RESERVE_SQL)
        .bind(domain_id)
        .bind(username_key)
        .bind(now)
        .bind(max)
        .bind(window_secs(settings))
        .bind(block_secs(settings))
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(r) => {
            let count: i64 = r.try_get("failed_count")?;
            Ok(FailureReservation::Allowed {
                blocks: count >= max,
            })
        }
        None => Ok(FailureReservation::Blocked),
    }
}

// Settings stored before 0 was refused ([`SelfServiceSettings::validate`])
// must not turn the limit off either.
fn window_secs(settings: &SelfServiceSettings) -> i64 {
    i64::from(settings.failure_window_minutes.max(1)) * 60
}

fn block_secs(settings: &SelfServiceSettings) -> i64 {
    i64::from(settings.block_minutes.max(1)) * 60
}

pub async fn forget_failures(db: &Db, domain_id: i64, username_key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM self_service_failures WHERE domain_id = $1 AND username_key = $2")
        .bind(domain_id)
        .bind(username_key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// What the identify step learns of a name, in one query whatever the name:
/// the user, if there is one, and their enrolled questions.
pub struct Identified {
    pub user_id: Option<i64>,
    pub disabled: bool,
    /// `(position, question)`, in order.
    pub enrolled: Vec<(i64, String)>,
}

/// One round trip for every name, known, unknown, enrolled or not, so the
/// step's cost does not tell them apart: a row per enrolled answer, or one
/// row with NULLs.
pub async fn identify(db: &Db, domain_id: i64, username_key: &str) -> Result<Identified, AppError> {
    let rows = sqlx::query(
        "SELECT u.id AS user_id, u.disabled AS disabled, a.position AS position, \
         a.question AS question \
         FROM (SELECT CAST($1 AS BIGINT) AS domain_id, CAST($2 AS TEXT) AS username_key) q \
         LEFT JOIN users u ON u.domain_id = q.domain_id AND u.username_key = q.username_key \
         LEFT JOIN security_answers a ON a.user_id = u.id \
         ORDER BY a.position",
    )
    .bind(domain_id)
    .bind(username_key)
    .fetch_all(&db.pool)
    .await?;
    let mut found = Identified {
        user_id: None,
        disabled: false,
        enrolled: Vec::new(),
    };
    for row in &rows {
        found.user_id = row.try_get("user_id")?;
        if found.user_id.is_some() {
            found.disabled = row.flag("disabled")?;
        }
        if let Some(position) = row.try_get::<Option<i64>, _>("position")? {
            let question: Option<String> = row.try_get("question")?;
            found
                .enrolled
                .push((position, question.unwrap_or_default()));
        }
    }
    Ok(found)
}

/// Whether the name is blocked now, for a while or until cleared (one
/// read-only query).
pub async fn is_blocked(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    settings: &SelfServiceSettings,
    now: i64,
) -> Result<bool, AppError> {
    let row = sqlx::query(
        "SELECT (SELECT blocked_at FROM self_service_failures \
                 WHERE domain_id = $1 AND username_key = $2) AS blocked_at, \
                (SELECT halted_at FROM code_failures \
                 WHERE domain_id = $1 AND username_key = $2) AS halted_at",
    )
    .bind(domain_id)
    .bind(username_key)
    .fetch_one(&db.pool)
    .await?;
    let blocked_at: Option<i64> = row.try_get("blocked_at")?;
    let halted_at: Option<i64> = row.try_get("halted_at")?;
    Ok(halted_at.is_some() || blocked_at.is_some_and(|at| at > now - block_secs(settings)))
}

// ---------------------------------------------------------------- wrong codes
/// The outcome of reserving a code guess against the total cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeGuess {
    /// The code may be checked; `halts` if this guess reached the cap.
    Allowed { halts: bool },
    /// The name's self-service has stopped: check nothing.
    Halted,
}

const RESERVE_CODE_SQL: &str = "\
INSERT INTO code_failures (domain_id, username_key, wrong_codes, halted_at, updated_at) \
VALUES ($1, $2, 1, CASE WHEN 1 >= $4 THEN $3 ELSE NULL END, $3) \
ON CONFLICT (domain_id, username_key) DO UPDATE SET \
    wrong_codes = code_failures.wrong_codes + 1, \
    halted_at = CASE WHEN code_failures.wrong_codes + 1 >= $4 THEN $3 ELSE NULL END, \
    updated_at = $3 \
WHERE code_failures.halted_at IS NULL \
RETURNING wrong_codes";

/// Counts a code guess as wrong before it is checked, in one atomic upsert,
/// so that parallel guesses get no more than
/// [`latchkey_shared::factors::MAX_WRONG_CODES`] checks in all. Keyed by
/// the name as typed, like the failures: an unknown name stops the same
/// way. A right code takes its guess back ([`release_code_guess`]).
pub async fn reserve_code_guess(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    now: i64,
) -> Result<CodeGuess, AppError> {
    let max = i64::from(latchkey_shared::factors::MAX_WRONG_CODES.max(1));
    let row = sqlx::query(RESERVE_CODE_SQL)
        .bind(domain_id)
        .bind(username_key)
        .bind(now)
        .bind(max)
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(r) => {
            let count: i64 = r.try_get("wrong_codes")?;
            Ok(CodeGuess::Allowed {
                halts: count >= max,
            })
        }
        None => Ok(CodeGuess::Halted),
    }
}

/// A reserved guess that was the right code.
pub async fn release_code_guess(
    db: &Db,
    domain_id: i64,
    username_key: &str,
) -> Result<(), AppError> {
    let max = i64::from(latchkey_shared::factors::MAX_WRONG_CODES.max(1));
    sqlx::query(
        "UPDATE code_failures SET wrong_codes = wrong_codes - 1, \
         halted_at = CASE WHEN wrong_codes - 1 >= $3 THEN halted_at ELSE NULL END \
         WHERE domain_id = $1 AND username_key = $2 AND wrong_codes > 0",
    )
    .bind(domain_id)
    .bind(username_key)
    .bind(max)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forgets the wrong codes of a name, in the caller's transaction: the
/// owner signed in, or the Help Desk unlocked the account or cleared its
/// enrolment.
pub async fn clear_code_failures<'e, E>(
    executor: E,
    domain_id: i64,
    username_key: &str,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM code_failures WHERE domain_id = $1 AND username_key = $2")
        .bind(domain_id)
        .bind(username_key)
        .execute(executor)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captcha_answers_are_case_and_space_insensitive() {
        assert_eq!(
            captcha_hash("k", "f", " ab c7 "),
            captcha_hash("k", "f", "ABC7")
        );
        assert_ne!(
            captcha_hash("k", "f", "ABC7"),
            captcha_hash("k", "g", "ABC7")
        );
        assert_ne!(
            captcha_hash("k", "f", "ABC7"),
            captcha_hash("k2", "f", "ABC7")
        );
    }

    #[test]
    fn decoys_are_stable_per_name_and_from_the_catalogue() {
        let s = SelfServiceSettings::default();
        let set = |name: &str| {
            let mut all = std::collections::BTreeSet::new();
            for _ in 0..40 {
                all.extend(decoy_questions("secret", 1, name, &s, 2));
            }
            all
        };
        let a = set("ghost");
        assert_eq!(a.len(), 3, "{a:?}");
        assert!(a.iter().all(|q| s.catalogue.contains(q)));
        assert_eq!(a, set("ghost"));
        assert_eq!(decoy_questions("secret", 1, "ghost", &s, 2).len(), 2);
    }

    #[tokio::test]
    async fn captchas_are_pngs_of_the_expected_size() {
        let (text, c) = generate_captcha().await.unwrap();
        assert_eq!(text.chars().count(), CAPTCHA_LEN as usize);
        assert!(text.chars().all(|ch| CAPTCHA_CHARS.contains(&ch)));
        let png = base64::engine::general_purpose::STANDARD
            .decode(c.image_png_base64)
            .unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}

/// The demo data of the self-service: the default catalogue written out for
/// every self-service domain, and the user `enrolled` with a password and
/// three answers, all random and printed once (never guessable).
pub mod demo {
    use latchkey_shared::normalize::normalize_answer;
    use latchkey_shared::self_service::SelfServiceSettings;
    use latchkey_shared::Username;
    use rand::Rng;

    use crate::password::generate_temporary_password;
    use crate::state::AppState;

    pub const USERNAME: &str = "enrolled";
    pub const DISPLAY_NAME: &str = "Enrolled Demo User";

    pub struct Prepared {
        pub password: String,
        pub password_hash: String,
        /// (question, answer, hash of the normalised answer)
        pub answers: Vec<(String, String, String)>,
    }

    impl Prepared {
        pub fn console_line(&self, domain: &str) -> String {
            let answers: Vec<String> = self
                .answers
                .iter()
                .enumerate()
                .map(|(i, (q, a, _))| format!("Q{}={a} ({q})", i + 1))
                .collect();
            format!(
                "Demo enrolled user: domain={domain} username={USERNAME} password={} answers: {}",
                self.password,
                answers.join("; ")
            )
        }
    }

    fn random_answer() -> String {
        const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
        let mut rng = rand::rngs::OsRng;
        (0..7)
            .map(|_| char::from(LETTERS[rng.gen_range(0..LETTERS.len())]))
            .collect()
    }

    /// Hashing happens here, before the seeding transaction.
    pub async fn prepare(state: &AppState) -> anyhow::Result<Prepared> {
        let settings = SelfServiceSettings::default();
        let ticket = state.hasher.ticket()?;
        let password = generate_temporary_password();
        let password_hash = ticket.hash(&password).await?;
        let mut answers = Vec::new();
        for question in settings
            .catalogue
            .iter()
            .take(usize::from(settings.enrol_count))
        {
            let answer = random_answer();
            let hash = ticket.hash(&normalize_answer(&answer)).await?;
            answers.push((question.clone(), answer, hash));
        }
        Ok(Prepared {
            password,
            password_hash,
            answers,
        })
    }

    pub async fn insert(
        conn: &mut sqlx::AnyConnection,
        now: i64,
        sspm_domains: &[i64],
        user_domain: i64,
        prepared: &Prepared,
    ) -> anyhow::Result<()> {
        for d in sspm_domains {
            super::set_settings(&mut *conn, *d, &SelfServiceSettings::default())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let username = Username::parse(USERNAME).map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = crate::settings::provisioning::insert_user(
            conn,
            now,
            user_domain,
            &username,
            DISPLAY_NAME,
            None,
            &prepared.password_hash,
            None,
        )
        .await?;
        let rows: Vec<(String, String)> = prepared
            .answers
            .iter()
            .map(|(q, _, h)| (q.clone(), h.clone()))
            .collect();
        crate::accounts::enrolment::replace_answers(conn, id, &rows, now).await?;
        Ok(())
    }
}

/// The CAPTCHAs' answers, kept for the test-only endpoints
/// (`routes::test_hooks`); compiled in only with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
pub mod captcha_answers {
    use std::collections::HashMap;
    use std::sync::Mutex;

    static ANSWERS: Mutex<Option<(HashMap<String, String>, String)>> = Mutex::new(None);

    /// Called when a CAPTCHA is issued for the flow whose stored id is `flow_id`.
    pub fn remember(flow_id: &str, text: &str) {
        let mut guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        let (map, latest) = guard.get_or_insert_with(Default::default);
        map.insert(flow_id.to_owned(), text.to_owned());
        *latest = text.to_owned();
    }

    pub fn for_flow(flow_id: &str) -> Option<String> {
        let guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().and_then(|(m, _)| m.get(flow_id).cloned())
    }

    pub fn latest() -> Option<String> {
        let guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map(|(_, l)| l.clone())
            .filter(|l| !l.is_empty())
    }
}
