//! The self-service flow's state (user name + CAPTCHA, the timed security
//! questions, a second CAPTCHA, the final button; for Forgot Password the new
//! password), and the new-password step's. The rules live here so the
//! components only render, send requests and dispatch their answers.

use std::rc::Rc;

use latchkey_shared::api::{ErrorCode, ErrorDetails};
use latchkey_shared::self_service::{
    AnswersRequest, CaptchaChallenge, FinishRequest, FinishResponse, FlowStarted, IdentifyRequest,
    NewPasswordRequest, QuestionsStep,
};
use latchkey_shared::{PasswordPolicy, PolicyContext, PRODUCT_NAME};
use yew::prelude::*;

use crate::services::error::ApiClientError;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Starting,
    Identify,
    Questions(Vec<String>),
    Confirm,
    Password {
        policy: PasswordPolicy,
        context: PolicyContext,
    },
    /// Finished: the success message.
    Done(String),
    /// Ended without success: the message; starting again may help.
    Ended(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowState {
    pub step: Step,
    pub flow_id: String,
    pub captcha: Option<CaptchaChallenge>,
    pub captcha_text: String,
    pub username: String,
    /// One per question, in their order.
    pub answers: Vec<String>,
    /// The domain asks for a code from an authenticator app or a mail.
    pub code_requested: bool,
    pub code: String,
    /// When the server's time for the operation runs out, on the page's
    /// clock (ms); `None` while no time runs.
    pub deadline_ms: Option<f64>,
    /// The page's clock at the last tick: each tick re-renders the countdown.
    pub now_ms: f64,
    /// A request of a step is on its way: the form is disabled.
    pub busy: bool,
    pub error: Option<AttrValue>,
    /// Counts "Start again": each count starts a new flow.
    pub attempt: u32,
}

pub enum Action {
    /// A new flow is being asked for.
    Starting,
    Started(FlowStarted),
    StartFailed(ApiClientError),
    Username(String),
    CaptchaText(String),
    Answer(usize, String),
    Code(String),
    /// A new picture is being asked for.
    NewCaptcha,
    Captcha(CaptchaChallenge),
    /// A step's request is on its way.
    Busy,
    /// What the form lacks before anything is sent.
    Incomplete(&'static str),
    /// The questions, at the page's clock's `.1`.
    Questions(QuestionsStep, f64),
    /// The answers were accepted: the last CAPTCHA.
    Confirm(CaptchaChallenge),
    Finished(FinishResponse, f64),
    /// The new password is set.
    PasswordSet(String),
    Failed(ApiClientError),
    StartAgain,
    Tick(f64),
}

/// The CAPTCHA is used up: a new picture is needed.
pub fn needs_new_captcha(e: &ApiClientError) -> bool {
    matches!(
        e.code(),
        Some(ErrorCode::CaptchaIncorrect | ErrorCode::CaptchaExpired)
    )
}

fn deadline(now_ms: f64, seconds_left: u64) -> Option<f64> {
    Some(now_ms + seconds_left as f64 * 1000.0)
}

impl FlowState {
    pub fn new(now_ms: f64) -> Self {
        FlowState {
            step: Step::Starting,
            flow_id: String::new(),
            captcha: None,
            captcha_text: String::new(),
            username: String::new(),
            answers: Vec::new(),
            code_requested: false,
            code: String::new(),
            deadline_ms: None,
            now_ms,
            busy: false,
            error: None,
            attempt: 0,
        }
    }

    /// The steps the server's time limit applies to.
    pub fn timed(&self) -> bool {
        matches!(
            self.step,
            Step::Questions(_) | Step::Confirm | Step::Password { .. }
        )
    }

    /// Whole seconds left at `now_ms`, while a timed step is shown.
    pub fn secs_left(&self, now_ms: f64) -> Option<i64> {
        let deadline = self.deadline_ms.filter(|_| self.timed())?;
        Some(((deadline - now_ms) / 1000.0).floor() as i64)
    }

    pub fn timed_out(&self, now_ms: f64) -> bool {
        self.secs_left(now_ms).is_some_and(|s| s <= 0)
    }

    pub fn identify_request(&self) -> Result<IdentifyRequest, &'static str> {
        if self.username.trim().is_empty() || self.captcha_text.trim().is_empty() {
            return Err("Enter your user name and the characters of the picture.");
        }
        Ok(IdentifyRequest {
            username: self.username.trim().to_owned(),
            captcha: self.captcha_text.clone(),
        })
    }

    pub fn answers_request(&self) -> Result<AnswersRequest, &'static str> {
        if self.answers.iter().any(|a| a.trim().is_empty()) {
            return Err("Answer every question.");
        }
        if self.code_requested && self.code.trim().is_empty() {
            return Err(latchkey_shared::self_service::messages::CODE_MISSING);
        }
        Ok(AnswersRequest {
            answers: self.answers.clone(),
            code: self.code_requested.then(|| self.code.trim().to_owned()),
        })
    }

    pub fn finish_request(&self) -> Result<FinishRequest, &'static str> {
        if self.captcha_text.trim().is_empty() {
            return Err("Type the characters of the picture.");
        }
        Ok(FinishRequest {
            captcha: self.captcha_text.clone(),
        })
    }

    fn failed(&mut self, e: ApiClientError) {
        self.busy = false;
        match e.code() {
            Some(ErrorCode::CaptchaIncorrect | ErrorCode::CaptchaExpired) => {
                self.error = Some(e.message().into());
                self.captcha_text.clear();
            }
            Some(
                ErrorCode::FlowExpired
                | ErrorCode::VerificationFailed
                | ErrorCode::SelfServiceBlocked,
            ) => {
                self.error = None;
                self.deadline_ms = None;
                self.step = Step::Ended(e.message());
            }
            _ => self.error = Some(e.message().into()),
        }
    }
}

impl Reducible for FlowState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Starting => {
                next.step = Step::Starting;
                next.deadline_ms = None;
                next.answers.clear();
                next.captcha_text.clear();
            }
            Action::Started(started) => {
                next.flow_id = started.flow_id;
                next.captcha = Some(started.captcha);
                next.error = None;
                next.step = Step::Identify;
            }
            Action::StartFailed(e) => next.step = Step::Ended(e.message()),
            Action::Username(v) => next.username = v,
            Action::CaptchaText(v) => next.captcha_text = v,
            Action::Answer(i, v) => {
                if let Some(a) = next.answers.get_mut(i) {
                    *a = v;
                }
            }
            Action::Code(v) => next.code = v,
            Action::NewCaptcha => next.captcha_text.clear(),
            Action::Captcha(c) => next.captcha = Some(c),
            Action::Busy => next.busy = true,
            Action::Incomplete(message) => next.error = Some(message.into()),
            Action::Questions(q, now) => {
                next.busy = false;
                next.error = None;
                next.captcha_text.clear();
                next.deadline_ms = deadline(now, q.seconds_left);
                next.answers = vec![String::new(); q.questions.len()];
                next.code_requested = q.code_requested;
                next.code.clear();
                next.step = Step::Questions(q.questions);
            }
            Action::Confirm(c) => {
                next.busy = false;
                next.error = None;
                next.answers.clear();
                next.code.clear();
                next.captcha = Some(c);
                next.step = Step::Confirm;
            }
            Action::Finished(FinishResponse::Unlocked { message }, _) => {
                next.busy = false;
                next.error = None;
                next.deadline_ms = None;
                next.step = Step::Done(message);
            }
            Action::Finished(
                FinishResponse::ChoosePassword {
                    username,
                    display_name,
                    domain_name,
                    policy,
                    seconds_left,
                },
                now,
            ) => {
                next.busy = false;
                next.error = None;
                next.captcha_text.clear();
                next.deadline_ms = deadline(now, seconds_left);
                next.step = Step::Password {
                    policy,
                    context: PolicyContext {
                        username,
                        display_name,
                        domain_name,
                        product_name: PRODUCT_NAME.to_owned(),
                    },
                };
            }
            Action::PasswordSet(message) => {
                next.deadline_ms = None;
                next.step = Step::Done(message);
            }
            Action::Failed(e) => next.failed(e),
            Action::StartAgain => {
                next.error = None;
                next.attempt += 1;
            }
            Action::Tick(now) => next.now_ms = now,
        }
        Rc::new(next)
    }
}

/// The new password's form, checked on the Change Password checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPasswordState {
    pub new: String,
    pub confirm: String,
    /// Show the passwords as text.
    pub revealed: bool,
    pub busy: bool,
    /// The message and the rules the server refused.
    pub error: Option<(AttrValue, Vec<AttrValue>)>,
    /// The domain's policy; replaced by a newer one from the server's 409.
    pub policy: PasswordPolicy,
}

pub enum PasswordAction {
    New(String),
    Confirm(String),
    ToggleReveal,
    Submitting,
    /// Refused; the flow goes on (the errors that end it go to the flow).
    Refused(ApiClientError),
}

/// The flow ran out or failed: not this form's to say.
pub fn ends_flow(e: &ApiClientError) -> bool {
    matches!(
        e.code(),
        Some(ErrorCode::FlowExpired | ErrorCode::VerificationFailed)
    )
}

impl NewPasswordState {
    pub fn new(policy: PasswordPolicy) -> Self {
        NewPasswordState {
            new: String::new(),
            confirm: String::new(),
            revealed: false,
            busy: false,
            error: None,
            policy,
        }
    }

    pub fn confirmation_matches(&self) -> bool {
        !self.new.is_empty() && self.new == self.confirm
    }

    pub fn request(&self) -> NewPasswordRequest {
        NewPasswordRequest {
            new_password: self.new.clone(),
            confirm_password: self.confirm.clone(),
            policy_version: self.policy.version,
        }
    }
}

impl Reducible for NewPasswordState {
    type Action = PasswordAction;

    fn reduce(self: Rc<Self>, action: PasswordAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            PasswordAction::New(v) => {
                next.new = v;
                next.error = None;
            }
            PasswordAction::Confirm(v) => {
                next.confirm = v;
                next.error = None;
            }
            PasswordAction::ToggleReveal => next.revealed = !next.revealed,
            PasswordAction::Submitting => next.busy = true,
            PasswordAction::Refused(e) => {
                next.busy = false;
                next.error = Some(match &e {
                    ApiClientError::Api(api) => {
                        if let (ErrorCode::PolicyChanged, Some(ErrorDetails::Policy { policy })) =
                            (api.code, &api.details)
                        {
                            next.policy = policy.clone();
                        }
                        let details = match &api.details {
                            Some(ErrorDetails::PasswordReport { report }) => report
                                .rules
                                .iter()
                                .filter(|r| !r.passed)
                                .map(|r| AttrValue::from(r.message.clone()))
                                .collect(),
                            _ => Vec::new(),
                        };
                        (api.message.clone().into(), details)
                    }
                    _ => (e.message().into(), Vec::new()),
                });
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use crate::services::error::api_error;

    use super::*;

    fn questions() -> Rc<FlowState> {
        Rc::new(FlowState::new(0.0)).reduce(Action::Questions(
            QuestionsStep {
                questions: vec!["Q1".into(), "Q2".into()],
                seconds_left: 300,
                code_requested: false,
            },
            1_000.0,
        ))
    }

    #[test]
    fn identify_needs_a_user_name_and_the_captcha() {
        let s = Rc::new(FlowState::new(0.0)).reduce(Action::Username(" jsmith ".into()));
        assert!(s.identify_request().is_err());
        let s = s.reduce(Action::CaptchaText("AB12".into()));
        let r = s.identify_request().unwrap();
        assert_eq!(
            (r.username.as_str(), r.captcha.as_str()),
            ("jsmith", "AB12")
        );
    }

    #[test]
    fn questions_start_the_clock_and_every_answer_is_needed() {
        let s = questions();
        assert_eq!(s.answers.len(), 2);
        assert_eq!(s.secs_left(1_000.0), Some(300));
        assert!(!s.timed_out(300_000.0) && s.timed_out(301_000.0));
        let s = s.reduce(Action::Answer(0, "Paris".into()));
        assert!(s.answers_request().is_err());
        let s = s.reduce(Action::Answer(1, "Rex".into()));
        assert_eq!(s.answers_request().unwrap().answers, ["Paris", "Rex"]);
    }

    #[test]
    fn a_wrong_captcha_clears_it_and_keeps_the_step() {
        let s = Rc::new(FlowState::new(0.0))
            .reduce(Action::CaptchaText("XXXX".into()))
            .reduce(Action::Busy);
        let e = api_error(ErrorCode::CaptchaIncorrect, None);
        assert!(needs_new_captcha(&e));
        let s = s.reduce(Action::Failed(e));
        assert!(!s.busy && s.captcha_text.is_empty());
        assert_eq!(s.error.as_deref(), Some("server says no"));
        assert_eq!(s.step, Step::Starting);
    }

    #[test]
    fn a_failed_verification_ends_the_flow_and_stops_the_clock() {
        let s = questions().reduce(Action::Failed(api_error(
            ErrorCode::VerificationFailed,
            None,
        )));
        assert_eq!(s.step, Step::Ended("server says no".into()));
        assert_eq!((s.deadline_ms, s.error.clone()), (None, None));
        assert_eq!(s.secs_left(0.0), None);
    }

    #[test]
    fn start_again_counts_a_new_attempt() {
        let s = questions()
            .reduce(Action::StartAgain)
            .reduce(Action::Starting);
        assert_eq!(s.attempt, 1);
        assert_eq!(s.step, Step::Starting);
        assert!(s.answers.is_empty() && s.deadline_ms.is_none());
    }

    #[test]
    fn a_changed_policy_replaces_the_one_checked_against() {
        let stricter = PasswordPolicy {
            version: 7,
            ..PasswordPolicy::default()
        };
        let s = Rc::new(NewPasswordState::new(PasswordPolicy::default()))
            .reduce(PasswordAction::New("a".into()))
            .reduce(PasswordAction::Submitting)
            .reduce(PasswordAction::Refused(api_error(
                ErrorCode::PolicyChanged,
                Some(ErrorDetails::Policy {
                    policy: stricter.clone(),
                }),
            )));
        assert!(!s.busy);
        assert_eq!(s.request().policy_version, 7);
        assert_eq!(s.error.as_ref().unwrap().0, "server says no");
        assert!(!ends_flow(&api_error(ErrorCode::PolicyChanged, None)));
        assert!(ends_flow(&api_error(ErrorCode::FlowExpired, None)));
    }

    #[test]
    fn a_domain_that_asks_for_a_code_gets_it_with_the_answers() {
        let s = Rc::new(FlowState::new(0.0)).reduce(Action::Questions(
            QuestionsStep {
                questions: vec!["Q1".into()],
                seconds_left: 300,
                code_requested: true,
            },
            1_000.0,
        ));
        let s = s.reduce(Action::Answer(0, "Paris".into()));
        assert_eq!(
            s.answers_request().unwrap_err(),
            latchkey_shared::self_service::messages::CODE_MISSING
        );
        let s = s.reduce(Action::Code(" 123 456 ".into()));
        assert_eq!(
            s.answers_request().unwrap().code.as_deref(),
            Some("123 456")
        );
    }
}
