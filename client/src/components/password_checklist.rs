use latchkey_shared::{RuleId, RuleResult};
use yew::prelude::*;

/// `RuleId::MinLength` → `"min_length"`, the same spelling as the API's.
pub fn rule_key(rule: RuleId) -> String {
    crate::services::json::to_value(&rule)
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| format!("{rule:?}"))
}

#[derive(Properties, PartialEq)]
pub struct PasswordChecklistProps {
    /// The policy report's rules, in display order.
    pub rules: Vec<RuleResult>,
    /// Whether the confirmation matches the new password (a client-only item).
    pub confirmation_matches: bool,
    /// Nothing typed yet: show the requirements without marking them failed.
    #[prop_or_default]
    pub pristine: bool,
    /// Nothing typed in the confirmation yet: its item stays neutral.
    #[prop_or_default]
    pub confirmation_pristine: bool,
    /// Show the "confirmation matches" item (not on a try-it-out field).
    #[prop_or(true)]
    pub with_confirmation: bool,
}

/// The password requirements (`#requirements`), ticked as the user types.
#[component]
pub fn PasswordChecklist(props: &PasswordChecklistProps) -> Html {
    let total = props.rules.len() + usize::from(props.with_confirmation);
    let met = props.rules.iter().filter(|r| r.passed).count()
        + usize::from(props.with_confirmation && props.confirmation_matches);
    let item = |key: String, passed: bool, pristine: bool, text: String| {
        // Before anything is typed every item is neutral, even the ones an
        // empty password trivially meets; `data-passed` still tells the truth.
        let state = if pristine {
            "pending"
        } else if passed {
            "passed"
        } else {
            "failed"
        };
        let (icon, sr) = match state {
            "passed" => ("✓", "Met: "),
            "failed" => ("✗", "Not met: "),
            _ => ("•", "Required: "),
        };
        html! {
            <li key={key.clone()} data-rule={key} data-passed={passed.to_string()} class={classes!("rule", state)}>
                <span class="rule-icon" aria-hidden="true">{ icon }</span>
                <span class="visually-hidden">{ sr }</span>
                <span class="rule-text">{ text }</span>
            </li>
        }
    };
    html! {
        <div class="checklist">
            <h3 id="requirements-heading">{ "Password requirements" }</h3>
            <ul id="requirements" aria-labelledby="requirements-heading">
                { for props.rules.iter().map(|r| item(rule_key(r.rule), r.passed, props.pristine, r.message.clone())) }
                if props.with_confirmation {
                    { item(
                        "confirmation_matches".to_owned(),
                        props.confirmation_matches,
                        props.pristine || props.confirmation_pristine,
                        "The new password and its confirmation match".to_owned(),
                    ) }
                }
            </ul>
            <p class="checklist-summary" aria-live="polite">
                if props.pristine {
                    { format!("{total} requirements.") }
                } else if met == total {
                    { "All requirements are met." }
                } else {
                    { format!("{met} of {total} requirements met.") }
                }
            </p>
        </div>
    }
}
