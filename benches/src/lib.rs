//! Shared helpers for the svgp benchmarks: a small timing loop and seeded test matrices.

use std::hint::black_box;
use std::time::Duration;

/// CPU time consumed by the calling thread, in seconds. Unlike wall time it does not count
/// the time the thread spends descheduled, so measurements survive a busy machine.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always available on Linux.
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts)
    };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Fastest thread-CPU seconds per call of `f` over `batches` batches each lasting about
/// `batch`: on a shared machine interference only ever adds time, so the minimum is the
/// most repeatable estimate (both svgp and the baselines are measured the same way).
pub fn time_per_call<F: FnMut()>(mut f: F, batch: Duration, batches: usize) -> f64 {
    // Warm up (caches, CPU clocks, lazy CPU-feature detection) and size a batch.
    let start = thread_cpu_seconds();
    let mut calls = 0u64;
    while thread_cpu_seconds() - start < batch.as_secs_f64() {
        f();
        calls += 1;
    }
    let per_batch = calls.max(1);
    let mut times: Vec<f64> = (0..batches.max(1))
        .map(|_| {
            let t = thread_cpu_seconds();
            for _ in 0..per_batch {
                f();
            }
            (thread_cpu_seconds() - t) / per_batch as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    black_box(&mut times);
    times[0]
}

/// A seeded row-major matrix of values in (-1, 1) (a tiny LCG: no extra dependency).
pub fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..rows * cols)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// A well-conditioned SPD matrix G·Gᵀ/n + I, row-major n × n.
pub fn spd(n: usize, seed: u64) -> Vec<f64> {
    let g = matrix(n, n, seed);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let s: f64 = (0..n).map(|k| g[i * n + k] * g[j * n + k]).sum();
            a[i * n + j] = s / n as f64 + if i == j { 1.0 } else { 0.0 };
        }
    }
    a
}
