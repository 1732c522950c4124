//! Self-service with security questions: enrolment, and the verification
//! that Unlock Account and Forgot Password share (CAPTCHA, timed questions,
//! second CAPTCHA). The request/response types of those endpoints, the
//! domain's self-service settings, the default question catalogue, and the
//! answer rules the client shows live and the server enforces.

use serde::{Deserialize, Serialize};

use crate::normalize::normalize_answer;
use crate::policy::PasswordPolicy;

// ---------------------------------------------------------------- paths
pub mod paths {
    /// `GET` → [`super::EnrolmentStatus`] of the signed-in user.
    /// `PUT` [`super::EnrolRequest`] → [`super::EnrolmentStatus`] (enrol or re-enrol).
    pub const ENROLMENT: &str = "/api/enrolment";
    /// `POST` [`super::StartFlowRequest`] → [`super::FlowStarted`]: a new
    /// verification flow with its first CAPTCHA.
    pub const FLOWS: &str = "/api/self-service/flows";
    /// `POST /api/self-service/flows/{id}/captcha` (empty JSON body) →
    /// [`super::CaptchaChallenge`]: a new image for the current step.
    pub const FLOW_CAPTCHA: &str = "/api/self-service/flows/{id}/captcha";
    /// `POST` [`super::IdentifyRequest`] → [`super::QuestionsStep`].
    pub const FLOW_IDENTIFY: &str = "/api/self-service/flows/{id}/identify";
    /// `POST` [`super::AnswersRequest`] → [`super::CaptchaChallenge`] (the second CAPTCHA).
    pub const FLOW_ANSWERS: &str = "/api/self-service/flows/{id}/answers";
    /// `POST` [`super::FinishRequest`] → [`super::FinishResponse`].
    pub const FLOW_FINISH: &str = "/api/self-service/flows/{id}/finish";
    /// `POST` [`super::NewPasswordRequest`] → [`super::Completed`] (Forgot Password only).
    pub const FLOW_PASSWORD: &str = "/api/self-service/flows/{id}/password";

    /// A path with the flow id filled in.
    pub fn flow(template: &str, id: &str) -> String {
        template.replace("{id}", id)
    }
}

// ---------------------------------------------------------------- settings
/// The questions every domain offers unless its settings list others.
pub const DEFAULT_QUESTIONS: &[&str] = &[
    "What town was your mother born in?",
    "What is your father's middle name?",
    "What was the name of your first pet?",
    "What was the name of your elementary school?",
    "What was the make of your first car?",
    "In what city did your parents meet?",
    "What was the street you lived on as a child?",
    "What is the name of your favourite childhood friend?",
    "What was your childhood nickname?",
    "What was the first concert you attended?",
];

/// Per-domain settings of the self-service (stored as JSON by the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SelfServiceSettings {
    /// The questions people pick from.
    pub catalogue: Vec<String>,
    /// How many questions a user enrols (default 3).
    pub enrol_count: u8,
    /// How many of the enrolled ones a verification asks (default 2).
    pub verify_count: u8,
    /// Users may write their own question.
    pub allow_custom_questions: bool,
    /// Signed-in users who have not enrolled may skip enrolment for now.
    pub allow_skip_enrolment: bool,
    /// Time allowed from the questions to the final button (default 5).
    pub verification_minutes: u32,
    /// Failed verifications that block the self-service (default 3)…
    pub max_failures: u32,
    /// …within this many minutes (default 30)…
    pub failure_window_minutes: u32,
    /// …for this many minutes (default 30).
    pub block_minutes: u32,
    /// Whether Unlock Account and Forgot Password also ask for a code from
    /// an authenticator app or a mail (default: questions only, as the
    /// seeds).
    pub second_factor: SecondFactor,
    /// Days a password may be used before it must be changed (0: never
    /// expires, the default). Only for passwords Latchkey keeps: a
    /// directory's own maximum age is the directory's.
    pub password_max_age_days: u32,
    /// Days before the expiry when a reminder is mailed (default 14).
    pub expiry_reminder_days: u32,
}

/// What a verification asks besides (or instead of) the questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// The security questions only.
    #[default]
    Off,
    /// The questions and a code (authenticator app, or a mail to the
    /// address on file).
    WithQuestions,
    /// A code only: no questions.
    Only,
}

impl SecondFactor {
    pub fn asks_questions(self) -> bool {
        self != Self::Only
    }

    pub fn asks_code(self) -> bool {
        self != Self::Off
    }
}

impl Default for SelfServiceSettings {
    fn default() -> Self {
        Self {
            catalogue: DEFAULT_QUESTIONS.iter().map(|q| (*q).to_owned()).collect(),
            enrol_count: 3,
            verify_count: 2,
            allow_custom_questions: false,
            allow_skip_enrolment: false,
            verification_minutes: 5,
            max_failures: 3,
            failure_window_minutes: 30,
            block_minutes: 30,
            second_factor: SecondFactor::Off,
            password_max_age_days: 0,
            expiry_reminder_days: 14,
        }
    }
}

impl SelfServiceSettings {
    /// Sane bounds (for admins editing the settings).
    pub fn validate(&self) -> Result<(), String> {
        if self.enrol_count == 0 || self.enrol_count > 10 {
            return Err("enrol_count must be between 1 and 10".into());
        }
        if self.verify_count == 0 || self.verify_count > self.enrol_count {
            return Err("verify_count must be between 1 and enrol_count".into());
        }
        if self.catalogue.len() < usize::from(self.enrol_count) {
            return Err("the catalogue must offer at least enrol_count questions".into());
        }
        if self.verification_minutes == 0 || self.max_failures == 0 {
            return Err("verification_minutes and max_failures must be at least 1".into());
        }
        if self.failure_window_minutes == 0 || self.block_minutes == 0 {
            return Err(messages::LIMIT_DISABLED.into());
        }
        if self.password_max_age_days > 3650 {
            return Err(
                "password_max_age_days must be at most 3650 (0: passwords never expire)".into(),
            );
        }
        if self.password_max_age_days > 0 && self.expiry_reminder_days >= self.password_max_age_days
        {
            return Err("expiry_reminder_days must be fewer than password_max_age_days".into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- answer rules
/// Shortest answer, in characters after normalisation.
pub const MIN_ANSWER_CHARS: usize = 3;
/// Longest answer accepted.
pub const MAX_ANSWER_CHARS: usize = 128;
/// Bounds of a question the user writes.
pub const MIN_QUESTION_CHARS: usize = 10;
pub const MAX_QUESTION_CHARS: usize = 150;

/// Words of a question that an answer may contain anyway.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "did", "do", "does", "for", "from", "had", "has", "have", "how",
    "in", "is", "it", "its", "me", "my", "name", "of", "on", "or", "the", "to", "was", "were",
    "what", "when", "where", "which", "who", "whom", "why", "with", "you", "your",
];

/// Why an answer (or a question) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerIssue {
    /// Fewer than [`MIN_ANSWER_CHARS`] characters after normalisation.
    TooShort,
    TooLong,
    /// The same (normalised) answer as another question's.
    SameAsAnother,
    /// Contains a word of its own question.
    ContainsQuestionWord {
        word: String,
    },
    /// Contains the user name.
    ContainsUsername,
    /// The question is empty, too short or too long, or asked twice.
    InvalidQuestion,
    /// The question is not in the catalogue and custom questions are off.
    QuestionNotOffered,
    DuplicateQuestion,
}

impl AnswerIssue {
    /// A sentence a person understands.
    pub fn message(&self) -> String {
        match self {
            Self::TooShort => {
                format!("The answer must have at least {MIN_ANSWER_CHARS} characters.")
            }
            Self::TooLong => format!("The answer can have at most {MAX_ANSWER_CHARS} characters."),
            Self::SameAsAnother => "Each answer must be different from the others.".to_owned(),
            Self::ContainsQuestionWord { word } => {
                format!("The answer cannot contain a word of its question (“{word}”).")
            }
            Self::ContainsUsername => "The answer cannot contain your user name.".to_owned(),
            Self::InvalidQuestion => format!(
                "Write a question of {MIN_QUESTION_CHARS} to {MAX_QUESTION_CHARS} characters."
            ),
            Self::QuestionNotOffered => "Choose a question from the list.".to_owned(),
            Self::DuplicateQuestion => "Choose a different question for each answer.".to_owned(),
        }
    }
}

fn words(normalised: &str) -> impl Iterator<Item = String> + '_ {
    normalised
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .map(|w| {
            let w = w.trim_matches(|c| c == '\'' || c == '’');
            w.strip_suffix("'s")
                .or_else(|| w.strip_suffix("’s"))
                .unwrap_or(w)
                .to_owned()
        })
        .filter(|w| !w.is_empty())
}

/// The rules for one answer on its own: length, its question's words, the
/// user name. `username` is the user name as typed (any case).
pub fn check_answer(question: &str, answer: &str, username: &str) -> Vec<AnswerIssue> {
    let mut issues = Vec::new();
    let a = normalize_answer(answer);
    let len = a.chars().count();
    if len < MIN_ANSWER_CHARS {
        issues.push(AnswerIssue::TooShort);
    } else if len > MAX_ANSWER_CHARS {
        issues.push(AnswerIssue::TooLong);
    }
    let q = normalize_answer(question);
    let answer_words: Vec<String> = words(&a).collect();
    if let Some(word) = words(&q)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .find(|w| answer_words.iter().any(|aw| aw == w))
    {
        issues.push(AnswerIssue::ContainsQuestionWord { word });
    }
    let user = normalize_answer(username);
    if user.chars().count() >= 3 && a.contains(&user) {
        issues.push(AnswerIssue::ContainsUsername);
    }
    issues
}

/// A question the user picked or wrote.
pub fn check_question(
    question: &str,
    catalogue: &[String],
    allow_custom: bool,
) -> Option<AnswerIssue> {
    let trimmed = question.trim();
    if catalogue.iter().any(|q| q == trimmed) {
        return None;
    }
    if !allow_custom {
        return Some(AnswerIssue::QuestionNotOffered);
    }
    let len = trimmed.chars().count();
    if !(MIN_QUESTION_CHARS..=MAX_QUESTION_CHARS).contains(&len)
        || trimmed.chars().any(char::is_control)
    {
        return Some(AnswerIssue::InvalidQuestion);
    }
    None
}

/// Every rule for a whole enrolment: one list of issues per entry, in order
/// (empty = fine). Checks the questions against the catalogue too.
pub fn check_enrolment(
    entries: &[EnrolAnswer],
    username: &str,
    catalogue: &[String],
    allow_custom: bool,
) -> Vec<Vec<AnswerIssue>> {
    let normalised: Vec<String> = entries
        .iter()
        .map(|e| normalize_answer(&e.answer))
        .collect();
    let questions: Vec<String> = entries
        .iter()
        .map(|e| normalize_answer(&e.question))
        .collect();
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut issues = Vec::new();
            if let Some(issue) = check_question(&e.question, catalogue, allow_custom) {
                issues.push(issue);
            } else if questions[..i].contains(&questions[i]) {
                issues.push(AnswerIssue::DuplicateQuestion);
            }
            issues.extend(check_answer(&e.question, &e.answer, username));
            if !normalised[i].is_empty()
                && normalised
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && *other == normalised[i])
            {
                issues.push(AnswerIssue::SameAsAnother);
            }
            issues
        })
        .collect()
}

// ---------------------------------------------------------------- enrolment API
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolAnswer {
    pub question: String,
    pub answer: String,
}

impl std::fmt::Debug for EnrolAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolAnswer")
            .field("question", &self.question)
            .field("answer", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    /// Required to change an existing enrolment (not for the first one).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: Option<String>,
    pub answers: Vec<EnrolAnswer>,
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest")
            .field("answers", &self.answers)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentStatus {
    pub enrolled: bool,
    /// The enrolled questions (never the answers).
    pub questions: Vec<String>,
    /// Unix seconds of the last enrolment.
    pub enrolled_at: Option<i64>,
    /// The catalogue to choose from.
    pub catalogue: Vec<String>,
    /// How many questions to enrol.
    pub enrol_count: u8,
    pub allow_custom_questions: bool,
    /// The user may skip enrolment for now.
    pub allow_skip: bool,
}

// ---------------------------------------------------------------- verification API
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Unlock Account.
    Unlock,
    /// Forgot Password.
    Reset,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unlock => "unlock",
            Self::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartFlowRequest {
    pub kind: FlowKind,
    /// Domain slug.
    pub domain: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptchaChallenge {
    /// The PNG image, base64 (standard alphabet).
    pub image_png_base64: String,
    pub width: u32,
    pub height: u32,
    /// Seconds before the challenge expires.
    pub expires_in_secs: u64,
    /// The text alternative for people who cannot read the image.
    pub alt_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowStarted {
    /// Random; send it back in the path of the next steps.
    pub flow_id: String,
    pub captcha: CaptchaChallenge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentifyRequest {
    pub username: String,
    /// The characters of the CAPTCHA (any case).
    pub captcha: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionsStep {
    /// Empty when the domain asks for a code only.
    pub questions: Vec<String>,
    /// Seconds left for the rest of the operation.
    pub seconds_left: u64,
    /// The domain asks for a code as well ([`messages::CODE_PROMPT`]): the
    /// same for every name, whether it has an authenticator, an address,
    /// or nothing.
    #[serde(default)]
    pub code_requested: bool,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswersRequest {
    /// One per question, in the order given.
    pub answers: Vec<String>,
    /// The code from the authenticator app or the mail, when asked.
    #[serde(default)]
    pub code: Option<String>,
}

impl std::fmt::Debug for AnswersRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswersRequest").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinishRequest {
    pub captcha: String,
}

/// The outcome of the verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "next", rename_all = "snake_case")]
pub enum FinishResponse {
    /// Unlock Account: done.
    Unlocked { message: String },
    /// Forgot Password: choose the new password now, before `seconds_left` run out.
    ChoosePassword {
        username: String,
        display_name: String,
        domain_name: String,
        policy: PasswordPolicy,
        seconds_left: u64,
    },
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPasswordRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub new_password: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub confirm_password: String,
    pub policy_version: u32,
}

impl std::fmt::Debug for NewPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPasswordRequest")
            .field("policy_version", &self.policy_version)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completed {
    pub message: String,
}

/// Wording shared by client and server.
pub mod messages {
    /// The code step, the same for every name.
    pub const CODE_PROMPT: &str = "If this account has an authenticator app or an address on file, enter the code from the app, or the one we have just mailed.";
    pub const CODE_MISSING: &str = "Enter the code from your authenticator app or from the mail.";
    pub const VERIFICATION_FAILED: &str = "The answers you provided do not match our records. \
         If you have never enrolled in the Self-Service Password Manager, contact your \
         Local Registration Authority (LRA).";
    pub const UNLOCKED: &str = "Your account has been unlocked successfully. \
         You may now proceed with your normal operations using your account.";
    pub const PASSWORD_RESET: &str = "Your password has been reset successfully. \
         Sign in with your new password.";
    pub const CAPTCHA_INCORRECT: &str =
        "The characters you typed do not match the picture. Please try again with the new picture.";
    pub const CAPTCHA_EXPIRED: &str =
        "The picture has expired. Please type the characters of the new picture.";
    pub const FLOW_EXPIRED: &str = "The time for this operation has run out. Please start again.";
    /// A setting of 0 that would turn the limit on failed verifications off.
    pub const LIMIT_DISABLED: &str = "failure_window_minutes and block_minutes must be at \
         least 1: 0 turns off the limit on wrong answers and codes";
    pub const SELF_SERVICE_BLOCKED: &str = "Too many failed attempts: self-service is blocked \
         for this account for a while. Try again later, or call the Help Desk.";
    pub const CAPTCHA_ALT: &str = "Picture of distorted characters to type below. If you \
         cannot read it, choose “New image”, or call the Help Desk for help.";
    pub const ENROLLED: &str = "Your security questions have been saved.";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(q: &str, a: &str) -> EnrolAnswer {
        EnrolAnswer {
            question: q.into(),
            answer: a.into(),
        }
    }

    fn catalogue() -> Vec<String> {
        SelfServiceSettings::default().catalogue
    }

    #[test]
    fn default_settings_are_valid_and_offer_eight_questions() {
        let s = SelfServiceSettings::default();
        s.validate().unwrap();
        assert!(s.catalogue.len() >= 8);
        assert_eq!((s.enrol_count, s.verify_count), (3, 2));
        assert!(!s.allow_skip_enrolment);
    }

    #[test]
    fn answers_need_three_characters_after_normalisation() {
        let q = DEFAULT_QUESTIONS[0];
        assert_eq!(
            check_answer(q, "  A  ", "jsmith"),
            vec![AnswerIssue::TooShort]
        );
        assert_eq!(check_answer(q, "ab", "jsmith"), vec![AnswerIssue::TooShort]);
        assert!(check_answer(q, "Ham", "jsmith").is_empty());
        assert_eq!(
            check_answer(q, &"x".repeat(MAX_ANSWER_CHARS + 1), "j"),
            vec![AnswerIssue::TooLong]
        );
    }

    #[test]
    fn an_answer_may_not_contain_its_question_words() {
        let q = "What town was your mother born in?";
        assert_eq!(
            check_answer(q, "My Mother's town", "jsmith"),
            vec![AnswerIssue::ContainsQuestionWord {
                word: "town".into()
            }]
        );
        assert!(matches!(
            check_answer(q, "MOTHER", "jsmith")[..],
            [AnswerIssue::ContainsQuestionWord { .. }]
        ));
        // Stop words and parts of words are fine.
        assert!(check_answer(q, "Hamilton in Ontario", "jsmith").is_empty());
        assert!(check_answer(q, "Townsville", "jsmith").is_empty());
        // Possessives count as the word.
        assert_eq!(
            check_answer("What is your father's middle name?", "Father John", "x"),
            vec![AnswerIssue::ContainsQuestionWord {
                word: "father".into()
            }]
        );
    }

    #[test]
    fn an_answer_may_not_contain_the_user_name() {
        let q = DEFAULT_QUESTIONS[2];
        assert_eq!(
            check_answer(q, "Rex JSmith", "jsmith"),
            vec![AnswerIssue::ContainsUsername]
        );
        assert!(check_answer(q, "Rex", "jsmith").is_empty());
    }

    #[test]
    fn no_two_answers_alike() {
        let c = catalogue();
        let issues = check_enrolment(
            &[
                entry(&c[0], "Hamilton"),
                entry(&c[1], " HAMILTON "),
                entry(&c[2], "Rex"),
            ],
            "jsmith",
            &c,
            false,
        );
        assert_eq!(issues[0], vec![AnswerIssue::SameAsAnother]);
        assert_eq!(issues[1], vec![AnswerIssue::SameAsAnother]);
        assert!(issues[2].is_empty());
    }

    #[test]
    fn questions_come_from_the_catalogue_unless_custom_ones_are_allowed() {
        let c = catalogue();
        let custom = entry("What was my grandmother's maiden name?", "Beaulieu");
        assert_eq!(
            check_enrolment(std::slice::from_ref(&custom), "j", &c, false)[0],
            vec![AnswerIssue::QuestionNotOffered]
        );
        assert!(check_enrolment(std::slice::from_ref(&custom), "j", &c, true)[0].is_empty());
        let issues = check_enrolment(
            &[entry(&c[0], "Paris"), entry(&c[0], "Rome")],
            "j",
            &c,
            false,
        );
        assert_eq!(issues[1], vec![AnswerIssue::DuplicateQuestion]);
        assert_eq!(
            check_enrolment(&[entry("short?", "Paris")], "j", &c, true)[0],
            vec![AnswerIssue::InvalidQuestion]
        );
    }

    #[test]
    fn requests_never_debug_print_answers() {
        let r = EnrolRequest {
            current_password: Some("pw-secret".into()),
            answers: vec![entry("Q?", "answer-secret")],
        };
        let d = format!("{r:?}");
        assert!(!d.contains("secret"), "{d}");
        let a = AnswersRequest {
            answers: vec!["answer-secret".into()],
            code: Some("123456".into()),
        };
        assert!(!format!("{a:?}").contains("123456"));
        assert!(!format!("{a:?}").contains("secret"));
    }

    #[test]
    fn flow_paths_fill_in_the_id() {
        assert_eq!(
            paths::flow(paths::FLOW_FINISH, "abc"),
            "/api/self-service/flows/abc/finish"
        );
    }
}
