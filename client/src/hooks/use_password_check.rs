//! The live check of a new password: the rules that need no dictionary at
//! once, on every keystroke; the full report (strength estimate, NotCommon,
//! MinStrength) when the strength worker answers for exactly this input.

use std::rc::Rc;

use latchkey_shared::{PasswordPolicy, PolicyContext, PolicyReport, RuleId};
use yew::prelude::*;

use crate::services::strength::{self, quick_report};

#[derive(Clone, Debug, PartialEq)]
pub struct PasswordCheck {
    pub report: PolicyReport,
    /// The full report for this input has not arrived yet; `report.strength`
    /// (if any) is for an earlier input.
    pub estimating: bool,
}

type Inputs = (PasswordPolicy, PolicyContext, String);

/// Kept in memory only, like the field's value itself.
#[hook]
pub fn use_password_check(
    policy: PasswordPolicy,
    context: PolicyContext,
    password: String,
) -> PasswordCheck {
    let answer = use_state(|| None::<Rc<(Inputs, PolicyReport)>>);
    let inputs: Inputs = (policy, context, password);
    {
        let answer = answer.setter();
        use_effect_with(inputs.clone(), move |inputs| {
            if !inputs.2.is_empty() {
                let key = inputs.clone();
                strength::request(
                    &inputs.0,
                    &inputs.1,
                    &inputs.2,
                    Callback::from(move |report| answer.set(Some(Rc::new((key.clone(), report))))),
                );
            }
        });
    }
    let quick = use_memo(inputs.clone(), |(p, c, pw)| quick_report(p, pw, c));
    match answer.as_deref() {
        Some((key, report)) if *key == inputs => PasswordCheck {
            report: report.clone(),
            estimating: false,
        },
        stale => {
            let mut report = (*quick).clone();
            let estimating = !inputs.2.is_empty();
            if let (true, Some((_, old))) = (estimating, stale) {
                for rule in &mut report.rules {
                    if matches!(rule.rule, RuleId::NotCommon | RuleId::MinStrength) {
                        if let Some(o) = old.rules.iter().find(|r| r.rule == rule.rule) {
                            rule.passed = o.passed;
                        }
                    }
                }
                report.strength = old.strength.clone();
            }
            PasswordCheck { report, estimating }
        }
    }
}
