//! Flagship benchmarks: one full training step (−ELBO, gradient, clip + Adam update) for each
//! model of the reference experiment, the deep kernel's ELBO + gradient for N = 600 … 20 000,
//! and the three N·M·J products of the deep step with their GFLOP/s against one core's peak.
//!
//! ```text
//! cargo bench -p svgp-bench --bench flagship                 # everything (about a minute)
//! cargo bench -p svgp-bench --bench flagship -- step         # one group
//! cargo bench -p svgp-bench --bench flagship -- step_split   # the example's step, 1 vs 2 threads
//! ```
//!
//! Peak: Zen 3 with AVX2 + FMA retires 16 f64 flops per cycle per core (two 4-wide FMA pipes);
//! the clock is read from /proc/cpuinfo (`cpu MHz`, the highest listed). Override with
//! `SVGP_PEAK_GFLOPS`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use svgp::gp::{ElboOptions, Prior, Svgp};
use svgp::linalg::{gemm, MatMut, MatRef, Trans};
use svgp::objective::{FullBatchElbo, Objective};
use svgp::optim::{Adam, AdamConfig};
use svgp::parallel::{with_split_elbo, Split};
use svgp_bench::time_per_call;

#[allow(dead_code)]
#[path = "../../examples/deep_rff/experiment.rs"]
mod experiment;

const FLOPS_PER_CYCLE: f64 = 16.0;

/// One core's peak f64 GFLOP/s and how it was obtained.
fn peak_gflops() -> (f64, String) {
    if let Some(v) = std::env::var("SVGP_PEAK_GFLOPS").ok().and_then(|s| s.parse().ok()) {
        return (v, "SVGP_PEAK_GFLOPS".into());
    }
    let mhz = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .filter(|l| l.starts_with("cpu MHz"))
                .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
                .reduce(f64::max)
        })
        .unwrap_or(f64::NAN);
    (FLOPS_PER_CYCLE * mhz / 1e3, format!("{FLOPS_PER_CYCLE} flops/cycle x {mhz:.0} MHz from /proc/cpuinfo"))
}

/// State for one training step of a model: what `train` allocates once.
struct Stepper<P> {
    model: Svgp<P>,
    params: Vec<f64>,
    grad: Vec<f64>,
    ws: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl<P: Prior> Stepper<P> {
    fn new(model: Svgp<P>, params: Vec<f64>, n: usize) -> Self {
        let data = experiment::make_data(n, 0);
        let np = model.n_params();
        Stepper {
            ws: vec![0.0; model.workspace_len(n).unwrap()],
            model,
            params,
            grad: vec![0.0; np],
            x: data.x,
            y: data.y,
        }
    }

    fn elbo_and_grad(&mut self) -> f64 {
        let s = self;
        s.model.elbo_and_grad(&s.params, &s.x, &s.y, ElboOptions::default(), &mut s.grad, &mut s.ws).unwrap()
    }

    /// A full training step as `experiment::train` runs it: −ELBO and its gradient, then
    /// global-norm clipping and the Adam update.
    fn step(&mut self, adam: &mut Adam<'_, f64>) -> f64 {
        let s = self;
        let mut objective = FullBatchElbo::new(&s.model, &s.x, &s.y, &mut s.ws[..]).unwrap();
        let loss = objective.loss_and_grad(&s.params, &mut s.grad).unwrap();
        adam.step(&mut s.params, &mut s.grad).unwrap();
        loss
    }
}

/// Adam's moment buffers for a model with `np` parameters.
fn moments(np: usize) -> (Vec<f64>, Vec<f64>) {
    (vec![0.0; np], vec![0.0; np])
}

fn adam<'a>(mu: &'a mut [f64], nu: &'a mut [f64]) -> Adam<'a, f64> {
    Adam::new(AdamConfig::new(experiment::LR).with_clip(experiment::CLIP_NORM), mu, nu).unwrap()
}

fn bench_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    let n = experiment::N_TRAIN;
    let (m, p) = experiment::rbf_model::<f64>(experiment::JITTER_F64).unwrap();
    let mut rbf = Stepper::new(m, p, n);
    let (mut mu, mut nu) = moments(rbf.params.len());
    let mut opt = adam(&mut mu, &mut nu);
    g.bench_function("rbf_n600", |b| b.iter(|| black_box(rbf.step(&mut opt))));
    let (m, p) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    let mut deep = Stepper::new(m, p, n);
    let (mut mu, mut nu) = moments(deep.params.len());
    let mut opt = adam(&mut mu, &mut nu);
    g.bench_function("deep_n600", |b| b.iter(|| black_box(deep.step(&mut opt))));
    g.finish();
}

/// The example's training step: the data in `experiment::CHUNKS` fixed chunks
/// ([`with_split_elbo`]) on 1 thread and on 2 (same numbers, bit for bit); wall-clock time, so
/// run it on an otherwise idle machine.
fn bench_split_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("step_split");
    g.measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    let data = experiment::make_data(experiment::N_TRAIN, 0);
    let opts = ElboOptions::default();
    let (rbf, rbf_p) = experiment::rbf_model::<f64>(experiment::JITTER_F64).unwrap();
    let (deep, deep_p) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    for threads in [1, 2] {
        let split = Split::new(experiment::CHUNKS, threads);
        let mut run = |name: &str, model_p: &mut Vec<f64>, team: &mut dyn Objective<f64>| {
            let np = model_p.len();
            let (mut mu, mut nu) = moments(np);
            let mut opt = adam(&mut mu, &mut nu);
            let mut grad = vec![0.0; np];
            g.bench_function(format!("{name}_n600_{threads}threads"), |b| {
                b.iter(|| {
                    let loss = team.loss_and_grad(model_p, &mut grad).unwrap();
                    opt.step(model_p, &mut grad).unwrap();
                    black_box(loss)
                })
            });
        };
        let mut p = rbf_p.clone();
        with_split_elbo(&rbf, &data.x, &data.y, opts, split, |t| run("rbf", &mut p, t)).unwrap();
        let mut p = deep_p.clone();
        with_split_elbo(&deep, &data.x, &data.y, opts, split, |t| run("deep", &mut p, t)).unwrap();
    }
    g.finish();
}

fn bench_elbo_grad_n(c: &mut Criterion) {
    let mut g = c.benchmark_group("deep_elbo_grad");
    g.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    for n in [600, 2000, 5000, 20_000] {
        let (m, p) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
        let mut s = Stepper::new(m, p, n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(s.elbo_and_grad()))
        });
    }
    g.finish();
}

/// The deep step's three N·M·J products with the shapes and transposes the feature prior uses:
/// A = σ²·B·Ψ_xᵀ (M×N), B̄ = σ²·Ā·Ψ_x (M×J), Ψ̄_x = σ²·Āᵀ·B (N×J).
struct Products {
    n: usize,
    m: usize,
    j: usize,
    b: Vec<f64>,
    psi: Vec<f64>,
    abar: Vec<f64>,
    a: Vec<f64>,
    bbar: Vec<f64>,
    psibar: Vec<f64>,
}

impl Products {
    fn new(n: usize, m: usize, j: usize) -> Self {
        let fill = |len: usize, k: f64| (0..len).map(|i| (i as f64 * k).sin()).collect::<Vec<f64>>();
        Products {
            n,
            m,
            j,
            b: fill(m * j, 0.37),
            psi: fill(n * j, 0.11),
            abar: fill(m * n, 0.23),
            a: vec![0.0; m * n],
            bbar: vec![0.0; m * j],
            psibar: vec![0.0; n * j],
        }
    }
    fn flops(&self) -> f64 {
        3.0 * 2.0 * (self.n * self.m * self.j) as f64
    }
    fn run(&mut self) {
        let (n, m, j) = (self.n, self.m, self.j);
        let r = |rows, cols, d| MatRef::new(rows, cols, d).unwrap();
        gemm(
            0.9,
            r(m, j, &self.b),
            Trans::No,
            r(n, j, &self.psi),
            Trans::Yes,
            0.0,
            MatMut::new(m, n, &mut self.a).unwrap(),
        )
        .unwrap();
        gemm(
            0.9,
            r(m, n, &self.abar),
            Trans::No,
            r(n, j, &self.psi),
            Trans::No,
            0.0,
            MatMut::new(m, j, &mut self.bbar).unwrap(),
        )
        .unwrap();
        gemm(
            0.9,
            r(m, n, &self.abar),
            Trans::Yes,
            r(m, j, &self.b),
            Trans::No,
            0.0,
            MatMut::new(n, j, &mut self.psibar).unwrap(),
        )
        .unwrap();
        black_box((&self.a, &self.bbar, &self.psibar));
    }
}

fn bench_products(c: &mut Criterion) {
    let (n, m, j) = (experiment::N_TRAIN, experiment::M_INDUCING, experiment::FEATURES);
    let mut p = Products::new(n, m, j);
    let mut g = c.benchmark_group("nmj_products");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    // Throughput in elements = flops, so criterion's "Gelem/s" reads as GFLOP/s.
    g.throughput(Throughput::Elements(p.flops() as u64));
    g.bench_function("three_gemms_n600_m30_j256", |b| b.iter(|| p.run()));
    g.finish();
}

/// A plain-text summary: GFLOP/s of the three products vs one core's peak, and their share of
/// a full training step. Timed in thread CPU time (`svgp_bench::time_per_call`), so the numbers
/// hold on a busy machine where criterion's wall-clock samples drift.
fn report(_: &mut Criterion) {
    let (peak, how) = peak_gflops();
    let (n, m, j) = (experiment::N_TRAIN, experiment::M_INDUCING, experiment::FEATURES);
    let mut p = Products::new(n, m, j);
    let t_prod = time_per_call(|| p.run(), Duration::from_millis(200), 15);
    let (md, pd) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    let mut deep = Stepper::new(md, pd, n);
    let (mut mu, mut nu) = moments(deep.params.len());
    let mut opt = adam(&mut mu, &mut nu);
    let t_step = time_per_call(
        || {
            black_box(deep.step(&mut opt));
        },
        Duration::from_millis(300),
        15,
    );
    let (mr, pr) = experiment::rbf_model::<f64>(experiment::JITTER_F64).unwrap();
    let mut rbf = Stepper::new(mr, pr, n);
    let (mut mu, mut nu) = moments(rbf.params.len());
    let mut opt = adam(&mut mu, &mut nu);
    let t_rbf = time_per_call(
        || {
            black_box(rbf.step(&mut opt));
        },
        Duration::from_millis(200),
        15,
    );
    let gflops = p.flops() / t_prod / 1e9;
    println!("\n== flagship deep step, N = {n}, M = {m}, J = {j}, f64 ==");
    println!("one core's peak: {peak:.1} GFLOP/s ({how})");
    println!(
        "three N·M·J products: {:.3} ms for {:.1} MFLOP = {gflops:.2} GFLOP/s = {:.0}% of peak (goal >= 30%)",
        1e3 * t_prod,
        p.flops() / 1e6,
        100.0 * gflops / peak
    );
    println!(
        "full deep training step: {:.3} ms (thread CPU time); the products are {:.0}% of it; whole-step rate of the products' flops {:.2} GFLOP/s",
        1e3 * t_step,
        100.0 * t_prod / t_step,
        p.flops() / t_step / 1e9
    );
    println!("RBF training step: {:.3} ms (thread CPU time)", 1e3 * t_rbf);
    breakdown(t_step, t_prod, t_rbf);
}

/// One stage of a step and its thread CPU time per call.
type Stage = (String, f64);

/// The stages every prior has, timed one by one on the step's data and parameters (thread CPU
/// time, the step's timing loop): the inducing half of the prior pass and its reverse, the data
/// half and its reverse, and clip + Adam. The ELBO's own work (likelihood, guide: the M²N
/// products) is the rest of the step. Inputs of a stage that modifies them are restored from a
/// copy each call (included in the time; at most 18 k values).
fn prior_stages<P: Prior>(model: &Svgp<P>, params: &[f64], n: usize) -> Vec<Stage> {
    use svgp::gp::{InducingBlocks, PriorAdjoint, PriorGrad, PriorInputs};
    use svgp::linalg::Jitter;
    let data = experiment::make_data(n, 0);
    let prior = *model.prior();
    let m = model.n_inducing();
    let parts = model.parts(params).unwrap();
    let (pp, z) = (parts.prior, parts.z);
    let inputs = PriorInputs { params: pp, z, x: &data.x };
    let t = |f: &mut dyn FnMut()| time_per_call(f, Duration::from_millis(150), 9);
    let (mut lz, mut state) = (vec![0.0; m * m], vec![0.0; prior.inducing_state_len(m).unwrap()]);
    let jitter = Jitter::Fixed(model.jitter());
    let t_zf = t(&mut || {
        prior.forward_inducing(pp, z, jitter, InducingBlocks { lz: &mut lz, state: &mut state }).unwrap();
    });
    let (mut a, mut kxx) = (vec![0.0; m * n], vec![0.0; n]);
    let mut ws = vec![0.0; prior.data_workspace_len(n, m).unwrap()];
    let t_xf = t(&mut || {
        let inducing = InducingBlocks { lz: &lz[..], state: &state[..] };
        prior.forward_data(inputs, inducing, &mut a, &mut kxx, &mut ws).unwrap();
    });
    let a_bar0: Vec<f64> = svgp_bench::matrix(m, n, 7).iter().map(|v| 1e-2 * v).collect();
    let kxx_bar = vec![-0.5; n];
    let (mut a_bar, mut g_p, mut g_z) = (a_bar0.clone(), vec![0.0; pp.len()], vec![0.0; z.len()]);
    let mut z_adj = vec![0.0; prior.inducing_adjoint_len(m).unwrap()];
    let t_xb = t(&mut || {
        a_bar.copy_from_slice(&a_bar0);
        let inducing = InducingBlocks { lz: &lz[..], state: &state[..] };
        let adjoint = PriorAdjoint { a: &mut a_bar, kxx: &kxx_bar };
        let grad = PriorGrad { params: &mut g_p, z: &mut g_z };
        prior.backward_data(inputs, inducing, &a, adjoint, grad, &mut z_adj, &mut ws).unwrap();
    });
    let (z_adj0, state0) = (z_adj.clone(), state.clone());
    let mut adj = z_adj0.clone();
    let t_zb = t(&mut || {
        adj.copy_from_slice(&z_adj0);
        state.copy_from_slice(&state0);
        let grad = PriorGrad { params: &mut g_p, z: &mut g_z };
        prior.backward_inducing(pp, z, &lz, &mut state, &mut adj, grad).unwrap();
    });
    let np = params.len();
    let (mut mu, mut nu) = moments(np);
    let mut opt = adam(&mut mu, &mut nu);
    let (mut p, mut grad) = (params.to_vec(), vec![1e-3; np]);
    let t_adam = t(&mut || {
        grad.iter_mut().for_each(|v| *v = 1e-3);
        opt.step(&mut p, &mut grad).unwrap();
    });
    vec![
        (format!("prior, inducing half: K_zz (M = {m}) and its Cholesky"), t_zf),
        ("prior, data half: K_zx, A = L_z⁻¹K_zx, diag K_xx".into(), t_xf),
        ("prior, data half's reverse".into(), t_xb),
        ("prior, inducing half's reverse (through the Cholesky)".into(), t_zb),
        (format!("clip + Adam ({np} parameters)"), t_adam),
    ]
}

/// Prints the stages against the step time, and the rest.
fn print_stages(title: &str, t_step: f64, stages: &[Stage]) {
    println!("{title}: {:.3} ms per step, level {}", 1e3 * t_step, svgp::arch::level());
    let mut sum = 0.0;
    for (what, secs) in stages {
        if !what.starts_with("  ") {
            sum += secs;
        }
        println!("  {:>7.3} ms {:>4.0}%  {what}", 1e3 * secs, 100.0 * secs / t_step);
    }
    println!(
        "  {:>7.3} ms {:>4.0}%  the rest: the ELBO's own work (likelihood, guide: LLᵀ, Q = (S − I)·A, −QQᵀ, G·L), checks, copies",
        1e3 * (t_step - sum),
        100.0 * (t_step - sum) / t_step
    );
}

/// Where the deep and RBF steps' time goes (see [`prior_stages`]); for the deep kernel also the
/// main pieces of its data half (the feature map on X and the three N·M·J products), indented.
fn breakdown(t_step: f64, t_prod: f64, t_rbf: f64) {
    use svgp::features::FeatureMap;
    let n = experiment::N_TRAIN;
    let (model, params) = experiment::deep_model::<f64>(0, experiment::JITTER_F64).unwrap();
    let mut stages = prior_stages(&model, &params, n);
    let map = model.prior().0;
    let fp = model.parts(&params).unwrap().prior[1..].to_vec();
    let data = experiment::make_data(n, 0);
    let j = map.n_features();
    let mut psi = vec![0.0; n * j];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    let (mut gp, mut gx, psi_bar) = (vec![0.0; fp.len()], vec![0.0; data.x.len()], vec![1e-3; n * j]);
    let t = |f: &mut dyn FnMut()| time_per_call(f, Duration::from_millis(150), 9);
    let fwd = t(&mut || map.features(&fp, &data.x, &mut psi, &mut ws).unwrap());
    let rev =
        t(&mut || map.features_adjoint(&fp, &data.x, &psi_bar, &mut gp, Some(&mut gx), &mut ws).unwrap());
    stages[1].0 = "prior, data half: features on X, A = σ²BΨ_xᵀ, diag K_xx".into();
    stages.insert(2, ("  of which the feature map on X (MLP, Φ·W, sin/cos)".into(), fwd));
    stages.insert(4, ("  of which the feature map's reverse on X (MLP, W̄, Φ̄)".into(), rev));
    stages.insert(5, ("  of which the three N·M·J products (A, B̄, Ψ̄)".into(), t_prod));
    stages[0].0 = "prior, inducing half: features on Z, Ψ_zΨ_zᵀ, Cholesky, B = L_z⁻¹Ψ_z".into();
    println!();
    print_stages("where the deep step goes (one thread, one chunk)", t_step, &stages);
    let (model, params) = experiment::rbf_model::<f64>(experiment::JITTER_F64).unwrap();
    let stages = prior_stages(&model, &params, n);
    println!();
    print_stages("where the RBF step goes (one thread, one chunk)", t_rbf, &stages);
    println!();
}

criterion_group!(benches, report, bench_products, bench_steps, bench_split_steps, bench_elbo_grad_n);
criterion_main!(benches);
