//! argon2id at the configured parameters (m = 19456 KiB, t = 2, p = 1): the
//! physical limit the load harness compares sign-in throughput against.

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey_server::password::{hash_blocking, verify_blocking};

fn bench(c: &mut Criterion) {
    let hash = hash_blocking("a-benchmark-password-123").expect("hash");
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(20);
    g.bench_function("hash", |b| {
        b.iter(|| hash_blocking("a-benchmark-password-123"))
    });
    g.bench_function("verify", |b| {
        b.iter(|| assert!(verify_blocking("a-benchmark-password-123", &hash).matched))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
