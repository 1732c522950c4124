use latchkey_shared::policy::score_label;
use latchkey_shared::StrengthEstimate;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StrengthMeterProps {
    /// `None` while nothing is typed (or the estimator has not loaded).
    pub estimate: Option<StrengthEstimate>,
    /// The estimate for what is typed now is still being computed (by the
    /// strength worker); `estimate`, if any, is for an earlier input.
    /// Marked `data-pending` on `#strength`.
    #[prop_or_default]
    pub pending: bool,
    /// The policy's minimum score, marked on the bar.
    pub min_strength: u8,
}

/// The Password Strength indicator (`#strength`): five levels, the label,
/// and zxcvbn's warning and suggestions.
#[component]
pub fn StrengthMeter(props: &StrengthMeterProps) -> Html {
    let score = props.estimate.as_ref().map(|e| e.score.min(4));
    let label = match score {
        Some(s) => score_label(s).to_string(),
        None if props.pending => "Estimating…".to_owned(),
        None => "Type a new password".to_owned(),
    };
    let level = score.map(|s| format!("level-{s}"));
    let segments = (0..5u8).map(|i| {
        let filled = score.is_some_and(|s| i <= s);
        html! { <span class={classes!("segment", filled.then_some("filled"), (i == props.min_strength).then_some("minimum"))} /> }
    });
    let feedback = props.estimate.as_ref().map(|e| {
        html! {
            <>
                if let Some(w) = &e.warning {
                    <p class="strength-warning">{ w.clone() }</p>
                }
                if !e.suggestions.is_empty() {
                    <ul class="strength-suggestions">
                        { for e.suggestions.iter().map(|s| html! { <li>{ s.clone() }</li> }) }
                    </ul>
                }
            </>
        }
    });
    html! {
        <div id="strength" class={classes!("strength", level, props.pending.then_some("pending"))} data-score={score.map(|s| s.to_string())} data-pending={props.pending.then_some("true")}>
            <p class="strength-heading">
                { "Password Strength: " }
                <strong class="strength-label">{ label }</strong>
            </p>
            <div class="strength-bar" aria-hidden="true">{ for segments }</div>
            <p class="muted small">
                { format!("At least “{}” is required.", score_label(props.min_strength.min(4))) }
            </p>
            { for feedback }
        </div>
    }
}
