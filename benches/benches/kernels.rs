//! Kernel training steps: the ARD RBF with one input against the isotropic RBF (the same
//! model; goal: within 1.3×), and the steps the GPyTorch comparison times (ARD RBF and
//! Matérn-5/2 with D = 10, N = 354; the CO₂-style composite RBF + periodic × RBF, N = 1780),
//! all with M = 50, f64, one thread.
//!
//! ```text
//! cargo bench -p svgp-bench --bench kernels              # report + criterion groups
//! cargo bench -p svgp-bench --bench kernels -- report    # the thread-CPU-time table only
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{Kernel, Matern, Nu, Periodic, Product, Rbf, RbfArd, Sum};
use svgp::objective::{FullBatchElbo, Objective};
use svgp::optim::{Adam, AdamConfig};
use svgp_bench::{matrix, time_per_call};

const M: usize = 50;

/// One model's training step (−ELBO, gradient, Adam) with everything allocated once.
struct Step<K> {
    model: Svgp<Closed<K>>,
    p: Vec<f64>,
    g: Vec<f64>,
    mu: Vec<f64>,
    nu: Vec<f64>,
    ws: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl<K: Kernel> Step<K> {
    /// The model on N seeded points in [−1, 1]^D (x scaled by `span`), y = sin(3·x₁) + x₂…,
    /// inducing inputs the first M points.
    fn new(k: K, prior: &[f64], n: usize, span: f64) -> Self {
        let d = k.input_dim();
        let x: Vec<f64> = matrix(n, d, 7).iter().map(|v| v * span).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                (3.0 * x[i * d] / span).sin() + x[i * d..(i + 1) * d].iter().sum::<f64>() / span / d as f64
            })
            .collect();
        let model = Svgp::new(Closed(k), M, 1e-6).unwrap();
        let mut p = vec![0.0; model.n_params()];
        model.init_params(prior, &x[..M * d], 0.01, &mut p).unwrap();
        let np = p.len();
        Step {
            ws: vec![0.0; model.workspace_len(n).unwrap()],
            model,
            p,
            g: vec![0.0; np],
            mu: vec![0.0; np],
            nu: vec![0.0; np],
            x,
            y,
        }
    }
    /// One step. Adam's state is rebuilt around the kept moment buffers each call (its step
    /// count restarts, which changes the update's size, not its cost).
    fn step(&mut self) -> f64 {
        let s = self;
        let mut objective = FullBatchElbo::new(&s.model, &s.x, &s.y, &mut s.ws[..]).unwrap();
        let loss = objective.loss_and_grad(&s.p, &mut s.g).unwrap();
        let mut adam = Adam::new(AdamConfig::new(1e-2), &mut s.mu, &mut s.nu).unwrap();
        adam.step(&mut s.p, &mut s.g).unwrap();
        black_box(loss)
    }
}

fn co2_like() -> Step<Sum<Rbf, Product<Periodic, Rbf>>> {
    let k = Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1)));
    let p = [
        &Rbf::params(1.0, 50.0)[..],
        &Periodic::new(1).params(0.05, &[1.0], &[1.0]).unwrap(),
        &Rbf::params(1.0, 60.0),
    ]
    .concat();
    Step::new(k, &p, 1780, 22.0)
}

/// Thread-CPU-time medians, interleaved: isotropic and ARD RBF at D = 1 alternate within each
/// round, so load drifts hit both alike.
fn report(_: &mut Criterion) {
    let mut iso = Step::new(Rbf::new(1), &Rbf::params(1.0, 0.5), 354, 1.0);
    let mut ard = Step::new(RbfArd::new(1), &RbfArd::new(1).params(1.0, &[0.5]).unwrap(), 354, 1.0);
    let (mut t_iso, mut t_ard) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        t_iso.push(time_per_call(
            || {
                iso.step();
            },
            Duration::from_millis(150),
            5,
        ));
        t_ard.push(time_per_call(
            || {
                ard.step();
            },
            Duration::from_millis(150),
            5,
        ));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ti, ta) = (med(&mut t_iso), med(&mut t_ard));
    let mut rbf10 = Step::new(RbfArd::new(10), &RbfArd::new(10).params(1.0, &[1.0]).unwrap(), 354, 1.0);
    let k = Matern::new(10, Nu::FiveHalves);
    let mut mat10 = Step::new(k, &k.params(1.0, &[1.0]).unwrap(), 354, 1.0);
    let mut co2 = co2_like();
    let t_rbf10 = time_per_call(
        || {
            rbf10.step();
        },
        Duration::from_millis(200),
        9,
    );
    let t_mat10 = time_per_call(
        || {
            mat10.step();
        },
        Duration::from_millis(200),
        9,
    );
    let t_co2 = time_per_call(
        || {
            co2.step();
        },
        Duration::from_millis(300),
        9,
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n== kernel training steps, M = {M}, f64, thread CPU time (arch {:?}, load {}) ==",
        svgp::arch::level(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("RBF isotropic, D = 1, N = 354: {:.3} ms", 1e3 * ti);
    println!(
        "RBF-ARD,       D = 1, N = 354: {:.3} ms  ratio ARD/isotropic {:.2} (goal <= 1.3)",
        1e3 * ta,
        ta / ti
    );
    println!("RBF-ARD,       D = 10, N = 354: {:.3} ms", 1e3 * t_rbf10);
    println!("Matérn-5/2 ARD, D = 10, N = 354: {:.3} ms", 1e3 * t_mat10);
    println!("RBF + periodic × RBF, D = 1, N = 1780: {:.3} ms\n", 1e3 * t_co2);
}

fn bench_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel_step");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    let mut iso = Step::new(Rbf::new(1), &Rbf::params(1.0, 0.5), 354, 1.0);
    g.bench_function("rbf_iso_d1_n354", |b| b.iter(|| iso.step()));
    let mut ard = Step::new(RbfArd::new(1), &RbfArd::new(1).params(1.0, &[0.5]).unwrap(), 354, 1.0);
    g.bench_function("rbf_ard_d1_n354", |b| b.iter(|| ard.step()));
    let mut rbf10 = Step::new(RbfArd::new(10), &RbfArd::new(10).params(1.0, &[1.0]).unwrap(), 354, 1.0);
    g.bench_function("rbf_ard_d10_n354", |b| b.iter(|| rbf10.step()));
    let k = Matern::new(10, Nu::FiveHalves);
    let mut mat10 = Step::new(k, &k.params(1.0, &[1.0]).unwrap(), 354, 1.0);
    g.bench_function("matern52_ard_d10_n354", |b| b.iter(|| mat10.step()));
    let mut co2 = co2_like();
    g.bench_function("rbf_plus_periodic_x_rbf_n1780", |b| b.iter(|| co2.step()));
    g.finish();
}

criterion_group!(benches, report, bench_steps);
criterion_main!(benches);
