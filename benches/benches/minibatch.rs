//! Minibatch benchmarks (issue 7), on the flagship deep kernel (M = 30, J = 256, f64).
//!
//! ```text
//! cargo bench -p svgp-bench --bench minibatch              # both parts
//! cargo bench -p svgp-bench --bench minibatch -- scaling   # time per step against N only
//! cargo bench -p svgp-bench --bench minibatch -- threads   # 1 vs 2 threads only
//! ```
//!
//! **scaling** — time per training step (ELBO + gradient + clipped Adam update) against N =
//! 10³ … 10⁶: the full-batch step (exact, accumulated over chunks of 1000 points so memory stays
//! bounded) and the minibatch step (B = 1000, batch drawn from a shuffled in-memory data set of N
//! points). A full-batch step at 10⁶ takes seconds, so this part is a plain timing loop, not
//! criterion: the median of k steps, k from 2 at the largest N up to 20 at the smallest.
//! Expected: full batch linear in N, minibatch flat.
//!
//! **threads** (criterion) — one batch's ELBO + gradient split into as many chunks as threads,
//! on 1 and on 2 threads of the crate's thread team (`svgp::parallel::with_split_elbo`, the
//! engine `svgp::batch::with_split_minibatch` runs each batch on), B = 1000 and B = 100, and one
//! half-batch on one thread (the critical path of a perfect 2-way split, K_zz part included). On
//! a shared, loaded machine the 2-thread timing measures the scheduler; the 1-thread /
//! half-batch ratio is the speed-up two idle cores give.

use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use svgp::batch::{
    accumulate_elbo_and_grad, accumulate_workspace_len, Minibatch, MinibatchElbo, SliceSource,
};
use svgp::gp::ElboOptions;
use svgp::objective::Objective;
use svgp::optim::{Adam, AdamConfig};
use svgp::parallel::{with_split_elbo, Split};
use svgp::rng::Xoshiro256;

#[allow(dead_code)]
#[path = "../../examples/deep_rff/experiment.rs"]
mod experiment;

const BATCH: usize = 1000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `k` calls of `f` (after one warm-up call when `warm`).
fn time_k(k: usize, warm: bool, mut f: impl FnMut()) -> f64 {
    if warm {
        f();
    }
    median(
        (0..k)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn scaling() {
    let (model, init) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    let np = model.n_params();
    println!(
        "scaling: time per step, deep kernel M = {}, J = {}, minibatch B = {BATCH}",
        model.n_inducing(),
        experiment::FEATURES
    );
    println!("{:>9} {:>14} {:>14} {:>16}", "N", "full ms/step", "batch ms/step", "full / batch");
    let mut base: Option<(f64, f64)> = None;
    for &n in &[1_000usize, 10_000, 100_000, 1_000_000] {
        let data = experiment::make_data(n, 0);
        let (mut mu, mut nu, mut grad) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
        let cfg = AdamConfig::new(1e-4).with_clip(1.0);

        // Full batch: exact ELBO over all N (chunks of BATCH), then the update.
        let mut params = init.clone();
        let mut ws = vec![0.0; accumulate_workspace_len(&model, BATCH).unwrap()];
        let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
        let k_full = (20_000 / n).clamp(2, 20);
        let full = time_k(k_full, n < 1_000_000, || {
            let e = accumulate_elbo_and_grad(&model, &params, &data.x, &data.y, BATCH, &mut grad, &mut ws)
                .unwrap();
            grad.iter_mut().for_each(|g| *g = -*g);
            adam.step(&mut params, &mut grad).unwrap();
            black_box(e);
        });

        // Minibatch: one batch of B from the shuffled data set, then the update.
        let mut params = init.clone();
        let (mut mu, mut nu) = (vec![0.0; np], vec![0.0; np]);
        let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
        let mb = Minibatch::new(n, BATCH.min(n)).unwrap();
        let src = SliceSource::new(&data.x, &data.y, 2, Xoshiro256::from_u64(1)).unwrap();
        let mut mws = vec![0.0; mb.workspace_len(&model).unwrap()];
        let mut obj = MinibatchElbo::new(model, mb, src, &mut mws).unwrap();
        let batch = time_k(20, true, || {
            let l = obj.loss_and_grad(&params, &mut grad).unwrap();
            adam.step(&mut params, &mut grad).unwrap();
            black_box(l);
        });
        let (f0, b0) = *base.get_or_insert((full, batch));
        println!(
            "{n:>9} {:>14.2} {:>14.2} {:>16.1}   (x{:.1} and x{:.2} vs N = 1000; full: median of {k_full})",
            1e3 * full,
            1e3 * batch,
            full / batch,
            full / f0,
            batch / b0
        );
    }
}

fn threads(c: &mut Criterion) {
    let (model, params) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    let mut g = c.benchmark_group("threads");
    g.sample_size(20).measurement_time(Duration::from_secs(6)).warm_up_time(Duration::from_secs(2));
    for &b in &[1000usize, 100] {
        let data = experiment::make_data(b, 1);
        let opts = ElboOptions { scale: 10.0, include_kl: true };
        let mut grad = vec![0.0; model.n_params()];
        g.throughput(Throughput::Elements(b as u64));
        for t in [1usize, 2] {
            with_split_elbo(&model, &data.x, &data.y, opts, Split::new(t, t), |team| {
                g.bench_with_input(BenchmarkId::new(format!("elbo_grad_B{b}"), t), &t, |bch, _| {
                    bch.iter(|| team.elbo_and_grad(&params, &mut grad).unwrap())
                });
            })
            .unwrap();
        }
        // The critical path of an ideal 2-thread split: one thread's half of the batch alone.
        // On a loaded machine the 2-thread timing above is meaningless; this one is not, and
        // 1-thread time / this = the speed-up two idle cores would give (minus spawn cost).
        let h = b / 2;
        let mut ws = vec![0.0; model.workspace_len(h).unwrap()];
        g.bench_function(BenchmarkId::new(format!("elbo_grad_B{b}"), "half_batch_serial"), |bch| {
            bch.iter(|| {
                let (xh, yh) = (&data.x[..2 * h], &data.y[..h]);
                model.elbo_and_grad(&params, xh, yh, opts, &mut grad, &mut ws).unwrap()
            })
        });
    }
    g.finish();
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if wants("scaling") {
        scaling();
    }
    if wants("threads") {
        let mut c = Criterion::default().configure_from_args();
        threads(&mut c);
        c.final_summary();
    }
}
