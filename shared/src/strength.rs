//! The zxcvbn strength estimate and the full policy check built on it.
//!
//! Behind the `strength` feature because zxcvbn's dictionaries weigh about
//! 770 KB; the client loads them after first paint.

use zxcvbn::matching::patterns::MatchPattern;

use crate::normalize::normalize_password;
use crate::policy::{
    check_rules, estimator_rules, PasswordPolicy, PolicyContext, PolicyReport, StrengthEstimate,
};

/// Only this many leading code points are estimated: matching is quadratic
/// or worse in the length, and a prefix this long already decides the score
/// (zxcvbn 3.1 itself stops at 100). The length rules still see the whole
/// password.
pub const MAX_ESTIMATED_CHARS: usize = 256;
/// The server-only rule's wording (the breached list is not sent to clients).
pub const NOT_BREACHED_RULE: &str = "Not in the list of known breached passwords";

/// User inputs are cut to this length for the same reason.
const MAX_USER_INPUT_CHARS: usize = 256;

/// Warning of the fail-closed estimate used if zxcvbn panics.
const ESTIMATE_FAILED: &str = "The strength of this password could not be estimated.";

/// zxcvbn's estimate for `password` (NFKC-normalised first), treating
/// `user_inputs` as words an attacker would try early.
///
/// Total: never panics, whatever the input, and always returns finite
/// numbers so the result survives JSON.
pub fn estimate(password: &str, user_inputs: &[&str]) -> StrengthEstimate {
    let password = normalize_password(password);
    let (estimate, _) = run_zxcvbn(&password, user_inputs);
    estimate
}

/// The full policy check the server enforces: [`check_rules`], then
/// NotCommon (if the policy blocks common passwords) and MinStrength, with the
/// strength estimate attached.
pub fn check_password(
    policy: &PasswordPolicy,
    password: &str,
    ctx: &PolicyContext,
) -> PolicyReport {
    let normalized = normalize_password(password);
    let mut rules = check_rules(policy, &normalized, ctx);

    let inputs = ctx.user_inputs();
    let input_refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let (strength, common) = run_zxcvbn(&normalized, &input_refs);

    rules.extend(estimator_rules(
        policy,
        !common,
        strength.score >= policy.min_strength,
    ));

    PolicyReport {
        rules,
        strength: Some(strength),
    }
}

/// Runs zxcvbn on an already normalised password; also says whether the
/// whole password is one entry of zxcvbn's common-password list (possibly
/// reversed, l33t-substituted or with changed case).
fn run_zxcvbn(password: &str, user_inputs: &[&str]) -> (StrengthEstimate, bool) {
    // zxcvbn answers an empty password with -inf guesses; short-circuit to
    // keep the numbers finite and skip the work.
    if password.is_empty() {
        return (empty_estimate(), false);
    }

    let total_chars = password.chars().count();
    let prefix: String = password.chars().take(MAX_ESTIMATED_CHARS).collect();
    let inputs: Vec<String> = user_inputs
        .iter()
        .map(|input| {
            normalize_password(input)
                .chars()
                .take(MAX_USER_INPUT_CHARS)
                .collect::<String>()
        })
        .filter(|input| !input.trim().is_empty())
        .collect();
    let input_refs: Vec<&str> = inputs.iter().map(String::as_str).collect();

    // zxcvbn is third-party code with `unwrap`s on paths we cannot fully
    // audit; where unwinding exists (the server), a panic there must become
    // a refusal, not a crashed request handler. On wasm32 panics abort, so
    // the proptests are what guard the client.
    let outcome = std::panic::catch_unwind(|| {
        let entropy = zxcvbn::zxcvbn(&prefix, &input_refs);
        let common = is_single_common_password(entropy.sequence(), total_chars);
        let score = u8::from(entropy.score()).min(4);
        let guesses_log10 = entropy.guesses_log10();
        let (warning, suggestions) = match entropy.feedback() {
            Some(feedback) => (
                feedback.warning().map(|w| w.to_string()),
                feedback
                    .suggestions()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            ),
            None => (None, Vec::new()),
        };
        (
            StrengthEstimate {
                score,
                guesses_log10: tidy_log10(guesses_log10),
                warning,
                suggestions,
            },
            common,
        )
    });
    // Fail closed: score 0 makes MinStrength refuse, and "common" refuses too.
    outcome.unwrap_or_else(|_| (failed_estimate(), true))
}

/// True when zxcvbn explains the whole password as a single word of its
/// common-password dictionary.
fn is_single_common_password(sequence: &[zxcvbn::Match], total_chars: usize) -> bool {
    match sequence {
        [only] => match &only.pattern {
            MatchPattern::Dictionary(pattern) => {
                // zxcvbn does not export its dictionary enum; its Debug form
                // is the variant name. A test pins this to the 3.1 naming.
                let from_passwords = format!("{:?}", pattern.dictionary_name) == "Passwords";
                let covers_all = only.i == 0 && only.j.checked_add(1) == Some(total_chars);
                from_passwords && covers_all
            }
            _ => false,
        },
        _ => false,
    }
}

/// Finite, non-negative and rounded to three decimals: JSON has no NaN or
/// infinity, and short decimals survive a JSON round trip exactly, so the
/// client and the server see the same number.
fn tidy_log10(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        (value * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

fn empty_estimate() -> StrengthEstimate {
    StrengthEstimate {
        score: 0,
        guesses_log10: 0.0,
        warning: None,
        suggestions: vec!["Use a few words, avoid common phrases.".into()],
    }
}

fn failed_estimate() -> StrengthEstimate {
    StrengthEstimate {
        score: 0,
        guesses_log10: 0.0,
        warning: Some(ESTIMATE_FAILED.into()),
        suggestions: vec!["Try a different password.".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{RuleId, RuleResult};
    use proptest::prelude::*;

    fn ctx() -> PolicyContext {
        PolicyContext {
            username: "JSmith".into(),
            display_name: "Jane Smith".into(),
            domain_name: "Partners".into(),
            product_name: crate::PRODUCT_NAME.into(),
        }
    }

    fn rule(report: &PolicyReport, id: RuleId) -> &RuleResult {
        report
            .rules
            .iter()
            .find(|r| r.rule == id)
            .unwrap_or_else(|| panic!("rule {id:?} missing from {report:?}"))
    }

    /// Short passwords allowed, so only the zxcvbn rules can refuse.
    fn lenient() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 1,
            min_strength: 0,
            forbid_context_words: false,
            ..PasswordPolicy::default()
        }
    }

    const PASSPHRASE: &str = "Quartz vinegar Tulip orbit 47 mango!";

    #[test]
    fn strong_passphrase_accepted() {
        let report = check_password(&PasswordPolicy::default(), PASSPHRASE, &ctx());
        assert!(report.passed(), "{report:#?}");
        let strength = report.strength.as_ref().expect("strength present");
        assert!(strength.score >= 3);
        assert!(strength.guesses_log10 > 10.0);
        let ids: Vec<RuleId> = report.rules.iter().map(|r| r.rule).collect();
        assert_eq!(
            ids,
            [
                RuleId::MinLength,
                RuleId::MaxLength,
                RuleId::NoControlCharacters,
                RuleId::NoContextWords,
                RuleId::NotCommon,
                RuleId::MinStrength,
            ]
        );
    }

    #[test]
    fn messages() {
        let report = check_password(&PasswordPolicy::default(), PASSPHRASE, &ctx());
        assert_eq!(
            rule(&report, RuleId::NotCommon).message,
            "Not a commonly used password"
        );
        assert_eq!(
            rule(&report, RuleId::MinStrength).message,
            "Strength at least Strong"
        );
        let p = PasswordPolicy {
            min_strength: 4,
            ..PasswordPolicy::default()
        };
        let report = check_password(&p, PASSPHRASE, &ctx());
        assert_eq!(
            rule(&report, RuleId::MinStrength).message,
            "Strength at least Very strong"
        );
    }

    #[test]
    fn common_password_refused() {
        for common in [
            "password", "Password", "PASSWORD", "drowssap", "p@ssw0rd", "letmein", "123456",
        ] {
            let report = check_password(&lenient(), common, &ctx());
            assert!(
                !rule(&report, RuleId::NotCommon).passed,
                "{common:?} not flagged: {report:#?}"
            );
            assert!(!report.passed());
        }
    }

    #[test]
    fn long_common_password_refused_under_default_policy() {
        // In zxcvbn's common-password list and 16 characters long, so only
        // NotCommon and MinStrength stand in its way.
        let report = check_password(&PasswordPolicy::default(), "passwordstandard", &ctx());
        assert!(rule(&report, RuleId::MinLength).passed);
        assert!(!rule(&report, RuleId::NotCommon).passed, "{report:#?}");
        assert!(!report.passed());
    }

    #[test]
    fn common_word_inside_longer_password_is_not_common() {
        let report = check_password(&lenient(), "password purple elephant", &ctx());
        assert!(rule(&report, RuleId::NotCommon).passed, "{report:#?}");
        let report = check_password(&lenient(), "passwordx", &ctx());
        assert!(rule(&report, RuleId::NotCommon).passed, "{report:#?}");
    }

    #[test]
    fn not_common_rule_can_be_off() {
        let p = PasswordPolicy {
            block_common_passwords: false,
            ..lenient()
        };
        let report = check_password(&p, "password", &ctx());
        assert!(report.rules.iter().all(|r| r.rule != RuleId::NotCommon));
        assert!(report.passed(), "{report:#?}");
    }

    #[test]
    fn weak_password_fails_min_strength() {
        let p = PasswordPolicy {
            block_common_passwords: false,
            ..PasswordPolicy::default()
        };
        let report = check_password(&p, "aaaaaaaaaaaaaaaa", &ctx());
        assert!(rule(&report, RuleId::MinLength).passed);
        assert!(!rule(&report, RuleId::MinStrength).passed);
        let strength = report.strength.as_ref().expect("strength present");
        assert!(strength.score < 3);
        assert!(strength.warning.is_some() || !strength.suggestions.is_empty());
        assert!(!report.passed());
    }

    #[test]
    fn context_words_weaken_the_estimate() {
        let pw = "JSmithPartners";
        let without = estimate(pw, &[]);
        let with = estimate(pw, &["JSmith", "Partners"]);
        assert!(
            with.guesses_log10 < without.guesses_log10,
            "{with:?} vs {without:?}"
        );
    }

    #[test]
    fn check_password_normalises() {
        // Full-width "password" is the common password after NFKC.
        let report = check_password(
            &lenient(),
            "\u{FF50}\u{FF41}\u{FF53}\u{FF53}\u{FF57}\u{FF4F}\u{FF52}\u{FF44}",
            &ctx(),
        );
        assert!(!rule(&report, RuleId::NotCommon).passed, "{report:#?}");
    }

    #[test]
    fn empty_password() {
        let e = estimate("", &[]);
        assert_eq!(e.score, 0);
        assert!(e.guesses_log10.is_finite());
        let report = check_password(&PasswordPolicy::default(), "", &ctx());
        assert!(!report.passed());
        assert!(!rule(&report, RuleId::MinLength).passed);
        assert!(rule(&report, RuleId::NotCommon).passed);
        assert!(!rule(&report, RuleId::MinStrength).passed);
    }

    #[test]
    fn very_long_password_still_gets_length_rules() {
        let long = format!("{PASSPHRASE} ").repeat(40);
        assert!(long.chars().count() > 1000);
        let report = check_password(&PasswordPolicy::default(), &long, &ctx());
        assert!(!rule(&report, RuleId::MaxLength).passed);
        assert!(report.strength.is_some());
        assert!(!report.passed());
    }

    /// The inputs that cost zxcvbn most: every l33t-ambiguous character at
    /// once maximises its substitution enumeration; repeats stress its
    /// backtracking regexes. How long they take is measured by `./x bench`
    /// (`shared_check/adversarial`), not here: a timed test fails on a
    /// loaded machine and proves nothing on an idle one.
    fn adversarial_inputs() -> [String; 4] {
        [
            "1|7$5@4({[<3690+%2".repeat(8),
            "4@8({[<36910!|7$5+%2".repeat(10),
            "abababababababababababababababababababab".repeat(4),
            "1991-12-31".repeat(20),
        ]
    }

    #[test]
    fn adversarial_inputs_are_estimated_and_refused_as_too_long() {
        for pw in &adversarial_inputs() {
            let report = check_password(&PasswordPolicy::default(), pw, &ctx());
            assert!(report.strength.is_some(), "{pw:?}");
            assert!(
                !report.passed(),
                "{pw:?} is over the default maximum length"
            );
        }
    }

    #[test]
    fn estimate_is_serializable() {
        for pw in ["", "a", PASSPHRASE, "password"] {
            let e = estimate(pw, &["user"]);
            let json = serde_json::to_string(&e).expect("serialize");
            let back: StrengthEstimate = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, e);
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let odd = [
            "\u{0}",
            "\t\n\r",
            "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            "e\u{0301}\u{0301}\u{0301}",
            "\u{0130}\u{0130}\u{0130}",
            "\u{FDFA}",
            "\u{FFFF}\u{10FFFF}",
            "1|7|1|7|1|7|1|7|$5@4(",
        ];
        for pw in odd {
            let e = estimate(pw, &[pw, "", " "]);
            assert_ne!(e.warning.as_deref(), Some(ESTIMATE_FAILED), "{pw:?}");
            let report = check_password(&PasswordPolicy::default(), pw, &ctx());
            assert!(report.strength.is_some());
        }
        let e = estimate(&"\u{FDFA}".repeat(300), &[]);
        assert_ne!(e.warning.as_deref(), Some(ESTIMATE_FAILED));
    }

    proptest! {
        #[test]
        fn check_password_never_panics_on_any_string(password in any::<String>(), name in any::<String>()) {
            let ctx = PolicyContext { username: name.clone(), display_name: name, ..ctx() };
            let report = check_password(&PasswordPolicy::default(), &password, &ctx);
            let strength = report.strength.expect("always present");
            // zxcvbn itself must not have panicked: on wasm32 nothing catches it.
            prop_assert_ne!(strength.warning.as_deref(), Some(ESTIMATE_FAILED));
            prop_assert!(strength.score <= 4);
            prop_assert!(strength.guesses_log10.is_finite());
        }

        // Random code points rarely reach zxcvbn's keyboard, l33t, date and
        // repeat matchers; ASCII drawn from their alphabets does.
        #[test]
        fn check_password_never_panics_on_matcher_alphabet(password in "[a-zA-Z0-9 !@$%|()<>+/.-]{0,120}") {
            let report = check_password(&PasswordPolicy::default(), &password, &ctx());
            let strength = report.strength.expect("always present");
            prop_assert_ne!(strength.warning.as_deref(), Some(ESTIMATE_FAILED));
        }

        #[test]
        fn check_password_never_panics_on_arbitrary_chars(chars in proptest::collection::vec(any::<char>(), 0..300)) {
            let password: String = chars.into_iter().collect();
            let inputs = [password.as_str()];
            let e = estimate(&password, &inputs);
            prop_assert_ne!(e.warning.as_deref(), Some(ESTIMATE_FAILED));
            prop_assert!(e.score <= 4);
            let report = check_password(&PasswordPolicy::default(), &password, &ctx());
            prop_assert!(report.strength.is_some());
        }
    }
}
