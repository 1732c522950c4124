//! The shared check at the lengths the issue names: what the client pays per
//! keystroke and the server per change. `./x bench` runs it.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use latchkey_shared::policy::check_rules;
use latchkey_shared::strength::{check_password, estimate};
use latchkey_shared::{PasswordPolicy, PolicyContext};

fn password(len: usize) -> String {
    // A plausible passphrase-like input, not a worst case.
    "correct horse battery staple orbit lantern 7! "
        .chars()
        .cycle()
        .take(len)
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let ctx = PolicyContext {
        username: "jsmith".into(),
        display_name: "Jane Smith".into(),
        domain_name: "Partners".into(),
        product_name: "Latchkey".into(),
    };
    let mut g = c.benchmark_group("shared_check");
    for len in [8, 16, 64, 128] {
        let pw = password(len);
        g.bench_with_input(BenchmarkId::new("estimate", len), &pw, |b, pw| {
            b.iter(|| estimate(black_box(pw), &["jsmith", "Jane", "Smith"]))
        });
        g.bench_with_input(BenchmarkId::new("policy_report", len), &pw, |b, pw| {
            b.iter(|| check_password(&policy, black_box(pw), &ctx))
        });
        g.bench_with_input(BenchmarkId::new("rules_only", len), &pw, |b, pw| {
            b.iter(|| check_rules(&policy, black_box(pw), &ctx))
        });
    }
    // zxcvbn's worst cases (see `strength::tests::adversarial_inputs`):
    // every l33t-ambiguous character at once, and long repeats.
    for (name, pw) in [
        ("leet", "4@8({[<36910!|7$5+%2".repeat(10)),
        (
            "repeat",
            "abababababababababababababababababababab".repeat(4),
        ),
        ("dates", "1991-12-31".repeat(20)),
    ] {
        g.bench_with_input(BenchmarkId::new("adversarial", name), &pw, |b, pw| {
            b.iter(|| check_password(&policy, black_box(pw), &ctx))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
