//! The Change Password form's state: what is typed, the live policy report,
//! and the outcome of the last submission. All the rules live here so the
//! component only renders and dispatches.

use std::rc::Rc;

use latchkey_shared::api::{messages, ChangePasswordRequest, ErrorCode, ErrorDetails};
use latchkey_shared::{PasswordPolicy, PolicyContext, PolicyReport, RuleId};
use yew::prelude::*;

use crate::services::error::ApiClientError;
use crate::services::strength::quick_report;

pub const WRONG_CURRENT_PASSWORD: &str =
    "Your current password is not correct. Please type it again.";

/// A failure of a request that carried the person's password (the account
/// panels' `use_request_with`): a wrong password says which field.
pub fn password_error(error: &ApiClientError) -> AttrValue {
    if error.code() == Some(ErrorCode::InvalidCredentials) {
        WRONG_CURRENT_PASSWORD.into()
    } else {
        error.message().into()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormMessage {
    pub message: AttrValue,
    pub details: Vec<AttrValue>,
}

impl FormMessage {
    fn plain(message: impl Into<AttrValue>) -> Self {
        Self {
            message: message.into(),
            details: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangePasswordState {
    pub policy: PasswordPolicy,
    pub context: PolicyContext,
    pub current: String,
    pub new: String,
    pub confirm: String,
    /// Show the passwords as text.
    pub revealed: bool,
    /// The shared check of `new` against `policy`: the rules that need no
    /// dictionary at once on every change, the full report (strength
    /// estimate, NotCommon, MinStrength) when the strength worker answers.
    pub report: PolicyReport,
    /// Numbers each change of `new` or `policy`; the worker's answer for an
    /// older one is ignored.
    pub seq: u64,
    /// The full report for the current `new` has not arrived yet (what is
    /// shown of the estimate is for an earlier input).
    pub estimating: bool,
    pub submitting: bool,
    pub error: Option<FormMessage>,
    pub success: Option<AttrValue>,
}

pub enum Action {
    Current(String),
    New(String),
    Confirm(String),
    ToggleReveal,
    /// A newer copy of the policy (bootstrap refresh, or the server's 409).
    Policy(PasswordPolicy),
    /// The strength worker's full report for change number `.0`.
    Estimated(u64, PolicyReport),
    Submitting,
    Succeeded(String),
    Failed(ApiClientError),
}

impl ChangePasswordState {
    pub fn new(policy: PasswordPolicy, context: PolicyContext) -> Self {
        let report = quick_report(&policy, "", &context);
        Self {
            policy,
            context,
            current: String::new(),
            new: String::new(),
            confirm: String::new(),
            revealed: false,
            report,
            seq: 0,
            estimating: false,
            submitting: false,
            error: None,
            success: None,
        }
    }

    fn recheck(&mut self) {
        self.seq += 1;
        let mut quick = quick_report(&self.policy, &self.new, &self.context);
        self.estimating = !self.new.is_empty();
        if self.estimating && self.report.strength.is_some() {
            // Until the worker answers, keep showing its last verdict on the
            // rules only it can check, so the meter does not flicker.
            for rule in &mut quick.rules {
                if matches!(rule.rule, RuleId::NotCommon | RuleId::MinStrength) {
                    if let Some(old) = self.report.rules.iter().find(|r| r.rule == rule.rule) {
                        rule.passed = old.passed;
                    }
                }
            }
            quick.strength = self.report.strength.take();
        }
        self.report = quick;
    }

    pub fn confirmation_matches(&self) -> bool {
        !self.new.is_empty() && self.new == self.confirm
    }

    pub fn can_submit(&self) -> bool {
        !self.submitting
            && !self.estimating
            && !self.current.is_empty()
            && self.report.passed()
            && self.confirmation_matches()
    }

    pub fn request(&self) -> ChangePasswordRequest {
        ChangePasswordRequest {
            current_password: self.current.clone(),
            new_password: self.new.clone(),
            confirm_password: self.confirm.clone(),
            policy_version: self.policy.version,
        }
    }

    fn edited(&mut self) {
        self.error = None;
        self.success = None;
    }

    fn failed(&mut self, error: ApiClientError) {
        let ApiClientError::Api(api) = &error else {
            self.error = Some(FormMessage::plain(error.message()));
            return;
        };
        match (api.code, &api.details) {
            (ErrorCode::PolicyChanged, Some(ErrorDetails::Policy { policy })) => {
                self.policy = policy.clone();
                self.recheck();
                self.error = Some(FormMessage::plain(messages::POLICY_CHANGED));
            }
            (ErrorCode::PasswordRejected, Some(ErrorDetails::PasswordReport { report })) => {
                let details = report
                    .rules
                    .iter()
                    .filter(|r| !r.passed)
                    .map(|r| AttrValue::from(r.message.clone()))
                    .chain(
                        report
                            .strength
                            .iter()
                            .flat_map(|s| s.warning.clone())
                            .map(AttrValue::from),
                    )
                    .collect();
                self.error = Some(FormMessage {
                    message: api.message.clone().into(),
                    details,
                });
            }
            (ErrorCode::InvalidCredentials, _) => {
                // Wrong current password: the person is signed in, so say which field.
                self.current.clear();
                self.error = Some(FormMessage::plain(WRONG_CURRENT_PASSWORD));
            }
            _ => self.error = Some(FormMessage::plain(error.message())),
        }
    }
}

impl Reducible for ChangePasswordState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Current(v) => {
                next.current = v;
                next.edited();
            }
            Action::New(v) => {
                next.new = v;
                next.recheck();
                next.edited();
            }
            Action::Confirm(v) => {
                next.confirm = v;
                next.edited();
            }
            Action::ToggleReveal => next.revealed = !next.revealed,
            Action::Policy(policy) => {
                if policy != next.policy {
                    next.policy = policy;
                    next.recheck();
                }
            }
            Action::Estimated(seq, report) => {
                if seq == next.seq && next.estimating {
                    next.report = report;
                    next.estimating = false;
                }
            }
            Action::Submitting => {
                next.submitting = true;
                next.error = None;
                next.success = None;
            }
            Action::Succeeded(message) => {
                next.submitting = false;
                next.current.clear();
                next.new.clear();
                next.confirm.clear();
                next.revealed = false;
                next.recheck();
                next.success = Some(message.into());
            }
            Action::Failed(error) => {
                next.submitting = false;
                next.failed(error);
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use crate::services::error::api_error;
    use latchkey_shared::strength::check_password;

    use super::*;

    const STRONG: &str = "correct horse battery staple lantern";

    fn state() -> Rc<ChangePasswordState> {
        let context = PolicyContext {
            username: "jsmith".into(),
            display_name: "Jane Smith".into(),
            domain_name: "Partners".into(),
            product_name: "Latchkey".into(),
        };
        Rc::new(ChangePasswordState::new(PasswordPolicy::default(), context))
    }

    fn rule(s: &ChangePasswordState, id: RuleId) -> bool {
        s.report
            .rules
            .iter()
            .find(|r| r.rule == id)
            .map(|r| r.passed)
            .unwrap()
    }

    /// The strength worker's answer for the current input.
    fn estimated(s: Rc<ChangePasswordState>) -> Rc<ChangePasswordState> {
        let report = check_password(&s.policy, &s.new, &s.context);
        let seq = s.seq;
        s.reduce(Action::Estimated(seq, report))
    }

    fn ready() -> Rc<ChangePasswordState> {
        estimated(
            state()
                .reduce(Action::Current("Temp-1234".into()))
                .reduce(Action::New(STRONG.into())),
        )
        .reduce(Action::Confirm(STRONG.into()))
    }

    #[test]
    fn rechecks_on_every_keystroke_and_gates_the_button() {
        let s = state().reduce(Action::New("short".into()));
        assert!(!rule(&s, RuleId::MinLength));
        assert!(!s.can_submit());
        let s = ready();
        assert!(rule(&s, RuleId::MinLength));
        assert!(s.report.passed(), "{:?}", s.report);
        assert!(s.confirmation_matches());
        assert!(s.can_submit());
        let s = s.reduce(Action::Confirm(format!("{STRONG}x")));
        assert!(!s.confirmation_matches());
        assert!(!s.can_submit());
        let s = ready().reduce(Action::Current(String::new()));
        assert!(!s.can_submit());
    }

    #[test]
    fn the_estimate_for_an_older_input_is_ignored_and_gates_the_button() {
        let s = ready().reduce(Action::New(format!("{STRONG}!")));
        assert!(s.estimating && !s.can_submit());
        // The last verdict stays on screen meanwhile.
        assert!(s.report.strength.is_some());
        let old = check_password(&s.policy, "short", &s.context);
        let stale = s.seq - 1;
        let s = s.reduce(Action::Estimated(stale, old));
        assert!(s.estimating, "an answer for an older input was taken");
        let s = estimated(s).reduce(Action::Confirm(format!("{STRONG}!")));
        assert!(!s.estimating && s.can_submit());
    }

    #[test]
    fn request_carries_the_policy_version() {
        let r = ready().request();
        assert_eq!(r.policy_version, PasswordPolicy::default().version);
        assert_eq!(r.new_password, STRONG);
        assert_eq!(r.confirm_password, STRONG);
    }

    #[test]
    fn success_clears_every_field() {
        let s = ready().reduce(Action::Submitting);
        assert!(!s.can_submit());
        let s = s.reduce(Action::Succeeded("done".into()));
        assert_eq!(
            (s.current.as_str(), s.new.as_str(), s.confirm.as_str()),
            ("", "", "")
        );
        assert_eq!(s.success.as_deref(), Some("done"));
        assert!(!s.submitting);
        // Typing again hides the old outcome.
        assert!(s.reduce(Action::New("a".into())).success.is_none());
    }

    #[test]
    fn policy_changed_replaces_the_policy_and_rechecks() {
        let stricter = PasswordPolicy {
            version: 2,
            min_length: 40,
            ..PasswordPolicy::default()
        };
        let s = ready()
            .reduce(Action::Submitting)
            .reduce(Action::Failed(api_error(
                ErrorCode::PolicyChanged,
                Some(ErrorDetails::Policy {
                    policy: stricter.clone(),
                }),
            )));
        assert_eq!(s.policy, stricter);
        assert!(!rule(&s, RuleId::MinLength));
        assert!(!s.can_submit());
        assert_eq!(s.error.as_ref().unwrap().message, messages::POLICY_CHANGED);
        assert_eq!(s.request().policy_version, 2);
    }

    #[test]
    fn rejected_lists_the_failed_rules() {
        let server = check_password(
            &PasswordPolicy::default(),
            "short",
            &PolicyContext::default(),
        );
        let s = ready().reduce(Action::Failed(api_error(
            ErrorCode::PasswordRejected,
            Some(ErrorDetails::PasswordReport { report: server }),
        )));
        let error = s.error.as_ref().unwrap();
        assert_eq!(error.message, "server says no");
        assert!(!error.details.is_empty());
        // What was typed stays, so it can be corrected.
        assert_eq!(s.new, STRONG);
    }

    #[test]
    fn wrong_current_password_clears_it() {
        let s = ready().reduce(Action::Failed(api_error(
            ErrorCode::InvalidCredentials,
            None,
        )));
        assert_eq!(s.current, "");
        assert_eq!(s.new, STRONG);
        assert_eq!(s.error.as_ref().unwrap().message, WRONG_CURRENT_PASSWORD);
    }

    #[test]
    fn a_wrong_password_in_a_panel_says_which_field() {
        assert_eq!(
            password_error(&api_error(ErrorCode::InvalidCredentials, None)),
            WRONG_CURRENT_PASSWORD
        );
        assert_eq!(
            password_error(&api_error(ErrorCode::Forbidden, None)),
            "server says no"
        );
    }

    #[test]
    fn network_failure_keeps_everything() {
        let s = ready()
            .reduce(Action::Submitting)
            .reduce(Action::Failed(ApiClientError::Network));
        assert!(s.can_submit());
        assert_eq!(
            s.error.as_ref().unwrap().message,
            ApiClientError::Network.message()
        );
    }
}
