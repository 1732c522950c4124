//! The password policy and the one check that both the client (live
//! checklist) and the server (authority) run.
//!
//! [`check_rules`] needs no zxcvbn, so the client can show every other rule
//! before the estimator's dictionaries have loaded; `strength::check_password`
//! adds the rules that do.

use serde::{Deserialize, Serialize};

use crate::normalize::{case_fold, normalize_password};

/// A domain's password policy. Versioned so a client that checked against an
/// older copy can be told to re-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PasswordPolicy {
    /// Bumped by the server on every change.
    pub version: u32,
    /// Minimum length in Unicode code points, after NFKC. Default 15.
    pub min_length: u32,
    /// Maximum length in code points; longer is refused, never truncated. Default 128.
    pub max_length: u32,
    /// Minimum zxcvbn score, 0-4. Default 3.
    pub min_strength: u8,
    /// Optional character-class rules, off by default (NIST SP 800-63B advises
    /// against them; some organisations insist).
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    /// Refuse passwords containing the user name, display name (any part of
    /// 3+ characters), domain name or product name, case-insensitively.
    pub forbid_context_words: bool,
    /// Refuse passwords that zxcvbn's common-password dictionary matches whole.
    pub block_common_passwords: bool,
    /// How many previous passwords may not be reused. 0-24; default 0 (the
    /// current password is always refused).
    pub history_depth: u8,
}

/// Whether `password` is empty or only whitespace: such a password proves
/// nothing and is refused before any store is asked. Sent to a directory, an
/// empty password is an LDAP *unauthenticated bind* (RFC 4513 §5.1.2), which
/// servers that allow it (Active Directory by default, OpenLDAP with
/// `olcAllows: bind_anon_dn`) answer with success for any DN.
pub fn is_blank_password(password: &str) -> bool {
    password.trim().is_empty()
}

pub const MAX_HISTORY_DEPTH: u8 = 24;
/// Hard ceiling on any policy's `max_length`, so hashing cost stays bounded.
pub const ABSOLUTE_MAX_LENGTH: u32 = 1024;

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            version: 1,
            min_length: 15,
            max_length: 128,
            min_strength: 3,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
            forbid_context_words: true,
            block_common_passwords: true,
            history_depth: 0,
        }
    }
}

/// Who is choosing the password; feeds the context-word rule and zxcvbn's
/// user inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyContext {
    pub username: String,
    pub display_name: String,
    pub domain_name: String,
    pub product_name: String,
}

/// One entry per rule, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    MinLength,
    MaxLength,
    NoControlCharacters,
    Lowercase,
    Uppercase,
    Digit,
    Symbol,
    NoContextWords,
    NotCommon,
    /// Server only: not in the organisation's breached-password list.
    NotBreached,
    MinStrength,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleResult {
    pub rule: RuleId,
    pub passed: bool,
    /// A requirement a person understands, e.g. "At least 15 characters".
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrengthEstimate {
    /// 0 (too guessable) to 4 (very unguessable).
    pub score: u8,
    /// log10 of zxcvbn's estimate of guesses needed.
    pub guesses_log10: f64,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyReport {
    pub rules: Vec<RuleResult>,
    /// `None` while the estimator has not loaded (client only); the server
    /// always fills it.
    pub strength: Option<StrengthEstimate>,
}

impl PolicyReport {
    /// True only when every rule passed and the strength estimate is present.
    pub fn passed(&self) -> bool {
        self.strength.is_some() && self.rules.iter().all(|r| r.passed)
    }
}

/// Context words shorter than this are too common as fragments of ordinary
/// words ("jo", "al") to forbid.
pub const MIN_CONTEXT_WORD_LENGTH: usize = 3;

/// Label for a zxcvbn score, as shown by the strength meter and the
/// MinStrength rule. Scores above 4 are treated as 4.
pub fn score_label(score: u8) -> &'static str {
    match score {
        0 => "Very weak",
        1 => "Weak",
        2 => "Fair",
        3 => "Strong",
        _ => "Very strong",
    }
}

/// The rules only the strength estimator decides, after [`check_rules`]:
/// NotCommon (when the policy blocks common passwords), then MinStrength.
/// One wording for the server's full check and the client's check made
/// before the estimator has answered.
pub fn estimator_rules(
    policy: &PasswordPolicy,
    not_common: bool,
    strong_enough: bool,
) -> Vec<RuleResult> {
    let mut rules = Vec::with_capacity(2);
    if policy.block_common_passwords {
        rules.push(rule(
            RuleId::NotCommon,
            not_common,
            "Not a commonly used password",
        ));
    }
    rules.push(rule(
        RuleId::MinStrength,
        strong_enough,
        format!("Strength at least {}", score_label(policy.min_strength)),
    ));
    rules
}

impl PasswordPolicy {
    /// Checks the bounds an administrator could get wrong when editing a
    /// policy; the error is a sentence to show them.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_length < 1 {
            return Err("The minimum length must be at least 1 character.".into());
        }
        if self.max_length > ABSOLUTE_MAX_LENGTH {
            return Err(format!(
                "The maximum length can be at most {ABSOLUTE_MAX_LENGTH} characters."
            ));
        }
        if self.min_length > self.max_length {
            return Err(format!(
                "The minimum length ({}) cannot be greater than the maximum length ({}).",
                self.min_length, self.max_length
            ));
        }
        if self.min_strength > 4 {
            return Err("The minimum strength must be between 0 and 4.".into());
        }
        if self.history_depth > MAX_HISTORY_DEPTH {
            return Err(format!(
                "The password history can remember at most {MAX_HISTORY_DEPTH} passwords."
            ));
        }
        Ok(())
    }
}

impl PolicyContext {
    /// The words a password may not contain when the policy forbids context
    /// words: the user name, each part of the display name, the domain name
    /// and the product name, NFKC-normalised, trimmed, and only those of at
    /// least [`MIN_CONTEXT_WORD_LENGTH`] characters. Duplicates are removed.
    pub fn forbidden_words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        let candidates = std::iter::once(self.username.as_str())
            .chain(self.display_name.split_whitespace())
            .chain([self.domain_name.as_str(), self.product_name.as_str()]);
        for candidate in candidates {
            let word = normalize_password(candidate.trim());
            if word.chars().count() >= MIN_CONTEXT_WORD_LENGTH && !words.contains(&word) {
                words.push(word);
            }
        }
        words
    }

    /// Everything known about the user, for the strength estimator's
    /// user-input dictionary. Broader than [`Self::forbidden_words`]: short
    /// words and the whole display name still make a guess cheaper.
    pub fn user_inputs(&self) -> Vec<String> {
        let mut inputs: Vec<String> = Vec::new();
        let candidates = [self.username.as_str(), self.display_name.as_str()]
            .into_iter()
            .chain(self.display_name.split_whitespace())
            .chain([self.domain_name.as_str(), self.product_name.as_str()]);
        for candidate in candidates {
            let input = normalize_password(candidate.trim());
            if !input.is_empty() && !inputs.contains(&input) {
                inputs.push(input);
            }
        }
        inputs
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn rule(rule: RuleId, passed: bool, message: impl Into<String>) -> RuleResult {
    RuleResult {
        rule,
        passed,
        message: message.into(),
    }
}

/// Every rule of `policy` that needs no strength estimator, in display order.
///
/// The password is NFKC-normalised first, so client and server agree on
/// lengths whatever the input method produced. Lengths count code points;
/// an over-long password is refused, never truncated.
pub fn check_rules(
    policy: &PasswordPolicy,
    password: &str,
    ctx: &PolicyContext,
) -> Vec<RuleResult> {
    let password = normalize_password(password);
    let length = password.chars().count();
    let mut results = Vec::with_capacity(8);

    // u32 -> usize cannot lose information on any target we build for
    // (wasm32 and 64-bit hosts), but saturate rather than assume.
    let min = usize::try_from(policy.min_length).unwrap_or(usize::MAX);
    let max = usize::try_from(policy.max_length).unwrap_or(usize::MAX);
    results.push(rule(
        RuleId::MinLength,
        length >= min,
        format!(
            "At least {}",
            plural(policy.min_length, "character", "characters")
        ),
    ));
    results.push(rule(
        RuleId::MaxLength,
        length <= max,
        format!(
            "At most {}",
            plural(policy.max_length, "character", "characters")
        ),
    ));
    results.push(rule(
        RuleId::NoControlCharacters,
        !password.chars().any(char::is_control),
        "No control characters (such as tabs or line breaks)",
    ));

    if policy.require_lowercase {
        results.push(rule(
            RuleId::Lowercase,
            password.chars().any(char::is_lowercase),
            "At least one lowercase letter",
        ));
    }
    if policy.require_uppercase {
        results.push(rule(
            RuleId::Uppercase,
            password.chars().any(char::is_uppercase),
            "At least one uppercase letter",
        ));
    }
    if policy.require_digit {
        results.push(rule(
            RuleId::Digit,
            password.chars().any(char::is_numeric),
            "At least one digit",
        ));
    }
    if policy.require_symbol {
        results.push(rule(
            RuleId::Symbol,
            password
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace()),
            "At least one symbol (such as ! # or %)",
        ));
    }

    if policy.forbid_context_words {
        let folded = case_fold(&password);
        let contains_context_word = ctx
            .forbidden_words()
            .iter()
            .any(|word| folded.contains(&case_fold(word)));
        results.push(rule(
            RuleId::NoContextWords,
            !contains_context_word,
            "Must not contain your user name, your name, the domain name or the product name",
        ));
    }

    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> PolicyContext {
        PolicyContext {
            username: "JSmith".into(),
            display_name: "Jane  Al Smith-Jones".into(),
            domain_name: "Partners".into(),
            product_name: crate::PRODUCT_NAME.into(),
        }
    }

    #[test]
    fn empty_and_whitespace_passwords_are_blank_and_others_are_not() {
        for blank in ["", " ", "\t\n", "\u{3000}\u{a0}"] {
            assert!(is_blank_password(blank), "{blank:?}");
        }
        for real in ["a", " a ", "\0", "0"] {
            assert!(!is_blank_password(real), "{real:?}");
        }
    }

    /// A policy with only the length and control-character rules.
    fn bare() -> PasswordPolicy {
        PasswordPolicy {
            forbid_context_words: false,
            ..PasswordPolicy::default()
        }
    }

    fn result(results: &[RuleResult], id: RuleId) -> &RuleResult {
        results
            .iter()
            .find(|r| r.rule == id)
            .unwrap_or_else(|| panic!("rule {id:?} missing from {results:?}"))
    }

    fn passed(policy: &PasswordPolicy, password: &str, id: RuleId) -> bool {
        result(&check_rules(policy, password, &ctx()), id).passed
    }

    fn ids(results: &[RuleResult]) -> Vec<RuleId> {
        results.iter().map(|r| r.rule).collect()
    }

    #[test]
    fn default_rules_in_display_order() {
        let results = check_rules(&PasswordPolicy::default(), "", &ctx());
        assert_eq!(
            ids(&results),
            [
                RuleId::MinLength,
                RuleId::MaxLength,
                RuleId::NoControlCharacters,
                RuleId::NoContextWords
            ]
        );
        assert_eq!(results[0].message, "At least 15 characters");
        assert_eq!(results[1].message, "At most 128 characters");
        assert_eq!(
            results[2].message,
            "No control characters (such as tabs or line breaks)"
        );
        assert_eq!(
            results[3].message,
            "Must not contain your user name, your name, the domain name or the product name"
        );
    }

    #[test]
    fn all_rules_in_display_order() {
        let policy = PasswordPolicy {
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
            ..PasswordPolicy::default()
        };
        let results = check_rules(&policy, "x", &ctx());
        assert_eq!(
            ids(&results),
            [
                RuleId::MinLength,
                RuleId::MaxLength,
                RuleId::NoControlCharacters,
                RuleId::Lowercase,
                RuleId::Uppercase,
                RuleId::Digit,
                RuleId::Symbol,
                RuleId::NoContextWords,
            ]
        );
        for r in &results {
            assert!(!r.message.is_empty());
        }
    }

    #[test]
    fn messages_use_policy_values() {
        let policy = PasswordPolicy {
            min_length: 1,
            max_length: 20,
            ..bare()
        };
        let results = check_rules(&policy, "x", &ctx());
        assert_eq!(results[0].message, "At least 1 character");
        assert_eq!(results[1].message, "At most 20 characters");
    }

    #[test]
    fn length_boundaries() {
        let p = bare();
        assert!(!passed(&p, &"a".repeat(14), RuleId::MinLength));
        assert!(passed(&p, &"a".repeat(15), RuleId::MinLength));
        assert!(passed(&p, &"a".repeat(128), RuleId::MaxLength));
        assert!(!passed(&p, &"a".repeat(129), RuleId::MaxLength));
        // Too long is reported, never silently accepted by truncation.
        assert!(passed(&p, &"a".repeat(129), RuleId::MinLength));
        assert!(!passed(&p, &"a".repeat(5000), RuleId::MaxLength));
        assert!(!passed(&p, "", RuleId::MinLength));
    }

    #[test]
    fn length_counts_code_points_after_nfkc() {
        let p = bare();
        // 14 raw code points, but each ligature expands to "fi": 15 after NFKC.
        let ligatures = format!("{}{}", "\u{FB01}", "a".repeat(13));
        assert_eq!(ligatures.chars().count(), 14);
        assert!(passed(&p, &ligatures, RuleId::MinLength));
        // 16 raw code points, 15 after NFKC: the pair composes to 'é'.
        let composed = format!("e\u{0301}{}", "a".repeat(14));
        assert_eq!(composed.chars().count(), 16);
        assert!(passed(&p, &composed, RuleId::MinLength));
        let short = format!("e\u{0301}{}", "a".repeat(13));
        assert_eq!(short.chars().count(), 15);
        assert!(!passed(&p, &short, RuleId::MinLength));
        // 128 ligatures become 256 letters.
        assert!(!passed(&p, &"\u{FB01}".repeat(128), RuleId::MaxLength));
        assert!(passed(&p, &"\u{FB01}".repeat(64), RuleId::MaxLength));
    }

    #[test]
    fn emoji_count_one_code_point_each() {
        let p = bare();
        assert!(!passed(&p, &"\u{1F511}".repeat(14), RuleId::MinLength));
        assert!(passed(&p, &"\u{1F511}".repeat(15), RuleId::MinLength));
        assert!(passed(&p, &"\u{1F511}".repeat(128), RuleId::MaxLength));
        assert!(!passed(&p, &"\u{1F511}".repeat(129), RuleId::MaxLength));
    }

    #[test]
    fn control_characters_refused() {
        let p = bare();
        assert!(passed(
            &p,
            "correct horse battery staple",
            RuleId::NoControlCharacters
        ));
        for bad in [
            "correct\thorse battery",
            "line\nbreak",
            "nul\u{0}",
            "del\u{7F}",
            "c1\u{85}x",
        ] {
            assert!(
                !passed(&p, bad, RuleId::NoControlCharacters),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn optional_class_rules_off_by_default() {
        let results = check_rules(&bare(), "aaaaaaaaaaaaaaa", &ctx());
        for id in [
            RuleId::Lowercase,
            RuleId::Uppercase,
            RuleId::Digit,
            RuleId::Symbol,
        ] {
            assert!(!ids(&results).contains(&id));
        }
        assert!(results.iter().all(|r| r.passed));
    }

    #[test]
    fn lowercase_rule() {
        let p = PasswordPolicy {
            require_lowercase: true,
            ..bare()
        };
        assert!(passed(&p, "ABCa", RuleId::Lowercase));
        assert!(passed(&p, "\u{00DF}", RuleId::Lowercase));
        assert!(!passed(&p, "ABC123!", RuleId::Lowercase));
        assert!(!passed(&p, "\u{6771}\u{4EAC}", RuleId::Lowercase));
    }

    #[test]
    fn uppercase_rule() {
        let p = PasswordPolicy {
            require_uppercase: true,
            ..bare()
        };
        assert!(passed(&p, "abcA", RuleId::Uppercase));
        assert!(passed(&p, "\u{00C9}t\u{00E9}", RuleId::Uppercase));
        assert!(!passed(&p, "abc123!", RuleId::Uppercase));
    }

    #[test]
    fn digit_rule() {
        let p = PasswordPolicy {
            require_digit: true,
            ..bare()
        };
        assert!(passed(&p, "abc7", RuleId::Digit));
        // Full-width digit becomes ASCII under NFKC.
        assert!(passed(&p, "abc\u{FF17}", RuleId::Digit));
        assert!(!passed(&p, "abc!", RuleId::Digit));
    }

    #[test]
    fn symbol_rule() {
        let p = PasswordPolicy {
            require_symbol: true,
            ..bare()
        };
        assert!(passed(&p, "abc!", RuleId::Symbol));
        assert!(passed(&p, "abc\u{1F511}", RuleId::Symbol));
        // A space is not a symbol.
        assert!(!passed(&p, "abc def 123", RuleId::Symbol));
        assert!(!passed(&p, "\u{00E9}\u{6771}", RuleId::Symbol));
    }

    #[test]
    fn context_words_case_insensitive() {
        let p = PasswordPolicy::default();
        assert!(passed(
            &p,
            "purple elephant trampoline",
            RuleId::NoContextWords
        ));
        for bad in [
            "my jsmith password",
            "JSMITH is here again",
            "hello JANE my friend",
            "smith-jones forever and ever",
            "welcome to partners land",
            "LATCHKEY rocks my world",
            // Full-width letters are NFKC-normalised before comparing.
            "\u{FF2A}\u{FF33}\u{FF2D}\u{FF29}\u{FF34}\u{FF28} forever",
        ] {
            assert!(!passed(&p, bad, RuleId::NoContextWords), "{bad:?} accepted");
        }
        // "Al" is shorter than 3 characters, so it is not forbidden.
        assert!(passed(&p, "always alert alpaca", RuleId::NoContextWords));
    }

    #[test]
    fn context_words_fold_full_unicode_case() {
        let ctx = PolicyContext {
            username: "gross".into(),
            display_name: "J\u{00FC}rgen Stra\u{00DF}er".into(),
            ..PolicyContext::default()
        };
        let p = PasswordPolicy::default();
        let check = |pw: &str| result(&check_rules(&p, pw, &ctx), RuleId::NoContextWords).passed;
        assert!(!check("mr GRO\u{00DF} was here"));
        assert!(!check("STRASSER forever and ever"));
        assert!(!check("JU\u{0308}RGEN forever and ever"));
        assert!(check("nothing personal in here"));
    }

    #[test]
    fn context_words_rule_can_be_off() {
        let results = check_rules(&bare(), "jsmith jsmith jsmith", &ctx());
        assert!(!ids(&results).contains(&RuleId::NoContextWords));
    }

    #[test]
    fn empty_context_forbids_nothing() {
        let results = check_rules(
            &PasswordPolicy::default(),
            "anything at all here",
            &PolicyContext::default(),
        );
        assert!(result(&results, RuleId::NoContextWords).passed);
    }

    #[test]
    fn forbidden_and_user_input_words() {
        assert_eq!(
            ctx().forbidden_words(),
            ["JSmith", "Jane", "Smith-Jones", "Partners", "Latchkey"]
        );
        assert_eq!(
            ctx().user_inputs(),
            [
                "JSmith",
                "Jane  Al Smith-Jones",
                "Jane",
                "Al",
                "Smith-Jones",
                "Partners",
                "Latchkey"
            ]
        );
    }

    #[test]
    fn score_labels() {
        let labels: Vec<_> = (0..=5).map(score_label).collect();
        assert_eq!(
            labels,
            [
                "Very weak",
                "Weak",
                "Fair",
                "Strong",
                "Very strong",
                "Very strong"
            ]
        );
    }

    #[test]
    fn validate_bounds() {
        assert_eq!(PasswordPolicy::default().validate(), Ok(()));
        let ok = |p: PasswordPolicy| p.validate().is_ok();
        let d = PasswordPolicy::default;
        assert!(!ok(PasswordPolicy {
            min_length: 0,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            min_length: 1,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            min_length: 128,
            max_length: 128,
            ..d()
        }));
        assert!(!ok(PasswordPolicy {
            min_length: 129,
            max_length: 128,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            max_length: ABSOLUTE_MAX_LENGTH,
            ..d()
        }));
        assert!(!ok(PasswordPolicy {
            max_length: ABSOLUTE_MAX_LENGTH + 1,
            ..d()
        }));
        assert!(!ok(PasswordPolicy {
            min_length: u32::MAX,
            max_length: u32::MAX,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            min_strength: 0,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            min_strength: 4,
            ..d()
        }));
        assert!(!ok(PasswordPolicy {
            min_strength: 5,
            ..d()
        }));
        assert!(ok(PasswordPolicy {
            history_depth: MAX_HISTORY_DEPTH,
            ..d()
        }));
        assert!(!ok(PasswordPolicy {
            history_depth: MAX_HISTORY_DEPTH + 1,
            ..d()
        }));
        let msg = PasswordPolicy {
            min_length: 20,
            max_length: 16,
            ..d()
        }
        .validate()
        .expect_err("min > max");
        assert!(msg.contains("20") && msg.contains("16"), "{msg}");
    }

    #[test]
    fn serde_defaults_missing_fields() {
        let p: PasswordPolicy = serde_json::from_str("{}").expect("empty object");
        assert_eq!(p, PasswordPolicy::default());
        let p: PasswordPolicy =
            serde_json::from_str(r#"{"version": 7, "min_length": 12, "require_digit": true}"#)
                .expect("partial object");
        assert_eq!(
            p,
            PasswordPolicy {
                version: 7,
                min_length: 12,
                require_digit: true,
                ..PasswordPolicy::default()
            }
        );
        let full = PasswordPolicy {
            version: 3,
            min_length: 8,
            max_length: 64,
            min_strength: 2,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
            forbid_context_words: false,
            block_common_passwords: false,
            history_depth: 5,
        };
        let json = serde_json::to_string(&full).expect("serialize");
        assert_eq!(
            serde_json::from_str::<PasswordPolicy>(&json).expect("deserialize"),
            full
        );
    }

    #[test]
    fn rule_ids_serialize_snake_case() {
        assert_eq!(
            serde_json::to_string(&RuleId::NoControlCharacters).expect("serialize"),
            "\"no_control_characters\""
        );
        assert_eq!(
            serde_json::to_string(&RuleId::MinStrength).expect("serialize"),
            "\"min_strength\""
        );
    }

    #[test]
    fn report_passes_only_with_strength_and_all_rules() {
        let rules = check_rules(&bare(), "purple elephant trampoline", &ctx());
        let mut report = PolicyReport {
            rules,
            strength: None,
        };
        assert!(!report.passed());
        report.strength = Some(StrengthEstimate {
            score: 4,
            guesses_log10: 20.0,
            warning: None,
            suggestions: vec![],
        });
        assert!(report.passed());
        report.rules[0].passed = false;
        assert!(!report.passed());
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        fn policies() -> impl Strategy<Value = PasswordPolicy> {
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(lower, upper, digit, symbol, context)| PasswordPolicy {
                    require_lowercase: lower,
                    require_uppercase: upper,
                    require_digit: digit,
                    require_symbol: symbol,
                    forbid_context_words: context,
                    ..PasswordPolicy::default()
                })
        }

        proptest! {
            #[test]
            fn on_any_string(policy in policies(), password in any::<String>(), name in any::<String>()) {
                let ctx = PolicyContext { username: name.clone(), display_name: name, ..ctx() };
                let results = check_rules(&policy, &password, &ctx);
                prop_assert!(results.len() >= 3);
            }

            #[test]
            fn on_arbitrary_chars(policy in policies(), chars in proptest::collection::vec(any::<char>(), 0..300)) {
                let password: String = chars.into_iter().collect();
                let results = check_rules(&policy, &password, &ctx());
                prop_assert!(results.len() >= 3);
            }
        }
    }
}
