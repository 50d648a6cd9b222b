//! The reference experiment of the deep-RFF SVGP notebook, shared by the example
//! (`examples/deep_rff/main.rs`) and the quality test (`tests/quality_flagship.rs`, which
//! includes this file with `#[path]`), so both run exactly the same recipe.
//!
//! Recipe: N = 600 inputs uniform on [−1, 1]², y = sin(2π(x1² − x2)) + 0.1·ε; M = 30 inducing
//! inputs on the 6×5 grid over [−0.8, 0.8]² (trainable); jitter 1e-4; noise variance
//! initialised at 0.01; Adam lr 1e-2 after global-norm clipping at 1.0; 3000 full-batch steps.
//! RBF initialised at variance 1, lengthscale 0.3; deep kernel: MLP 2 → 32 → 32 → 8 (tanh),
//! 256 random Fourier features, feature lengthscale 0.5, variance 1.
//!
//! Seeds: `--seed s` draws the data from `Xoshiro256::from_u64(2·s)` and the deep kernel's
//! initial weights from `Xoshiro256::from_u64(2·s + 1)`, so data and initialisation come
//! from distinct streams and every seed is reproducible on any platform. (JAX's threefry
//! streams are not reproduced: the numbers are comparable in distribution, not draw for draw.)

use core::ops::ControlFlow;
use std::time::Instant;
use svgp::features::DeepRff;
use svgp::gp::{Closed, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::nn::{Activation, Mlp};
use svgp::optim::AdamConfig;
use svgp::parallel::Split;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::train::{FitOptions, Trainer};
use svgp::Scalar;

/// Training points in the recipe.
pub const N_TRAIN: usize = 600;
/// Grid points per axis of the evaluation grid.
pub const GRID: usize = 80;
/// Standard deviation of the observation noise in the data (and the initial noise std).
pub const NOISE_STD: f64 = 0.1;
/// Jitter added to K_zz before its Cholesky factorisation (f64).
pub const JITTER_F64: f64 = 1e-4;
/// Adam learning rate.
pub const LR: f64 = 1e-2;
/// Global-norm clipping threshold.
pub const CLIP_NORM: f64 = 1.0;
/// Fixed chunks the training data are evaluated in ([`svgp::parallel::Split`]): the
/// numbers depend on this count only, so a run gives the same bits on 1 or 2 threads.
pub const CHUNKS: usize = 2;
/// Training steps in the recipe.
pub const STEPS: usize = 3000;

/// The noise-free target f(x) = sin(2π(x1² − x2)).
pub fn f_true(x1: f64, x2: f64) -> f64 {
    (core::f64::consts::TAU * (x1 * x1 - x2)).sin()
}

/// The data seed and the initialisation seed derived from the user's `--seed`.
pub fn seeds(seed: u64) -> (u64, u64) {
    (seed.wrapping_mul(2), seed.wrapping_mul(2).wrapping_add(1))
}

/// Training data: `x` is n × 2 row-major, `y` has n entries.
#[derive(Clone, Debug)]
pub struct Data {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Data {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }
}

/// N inputs uniform on [−1, 1]² (row by row, x1 then x2), then N standard-normal noise
/// draws, from the data stream of `seed`.
pub fn make_data(n: usize, seed: u64) -> Data {
    let mut rng = Xoshiro256::from_u64(seeds(seed).0);
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let y = (0..n).map(|i| f_true(x[2 * i], x[2 * i + 1]) + NOISE_STD * standard_normal(&mut rng)).collect();
    Data { x, y }
}

/// `jnp.linspace(lo, hi, n)`: lo·(1 − i/(n−1)) + hi·i/(n−1), with the last point exactly `hi`
/// (JAX interpolates this way; numpy's lo + i·step differs in the last bits).
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![lo],
        _ => {
            let div = (n - 1) as f64;
            (0..n)
                .map(|i| if i == n - 1 { hi } else { lo * (1.0 - i as f64 / div) + hi * (i as f64 / div) })
                .collect()
        }
    }
}

/// `meshgrid(gx, gy, indexing="xy")` raveled row-major: point k = (gx[k % nx], gy[k / nx]),
/// x1 fastest. Returns the points as a row-major k × 2 buffer.
pub fn mesh(gx: &[f64], gy: &[f64]) -> Vec<f64> {
    gy.iter().flat_map(|&b| gx.iter().flat_map(move |&a| [a, b])).collect()
}

/// The M = 30 initial inducing inputs: the 6 × 5 grid over [−0.8, 0.8]².
pub fn inducing_grid() -> Vec<f64> {
    mesh(&linspace(-0.8, 0.8, 6), &linspace(-0.8, 0.8, 5))
}

/// The 80 × 80 evaluation grid over [−1, 1]² (6400 × 2) and f_true on it.
pub fn eval_grid() -> (Vec<f64>, Vec<f64>) {
    let axis = linspace(-1.0, 1.0, GRID);
    let pts = mesh(&axis, &axis);
    let f = pts.chunks_exact(2).map(|p| f_true(p[0], p[1])).collect();
    (pts, f)
}

/// Default jitter of the f32 runs: the recipe's 1e-4 was enough for both kernels at seed 0
/// (f32 rounds K_zz's entries at ~6e-8 relative, and M·ε·‖K_zz‖ stays below 1e-4 here);
/// `--f32-jitter` raises it if an f32 Cholesky ever fails.
pub const JITTER_F32: f64 = 1e-4;

/// The two models of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rbf = 0,
    Deep = 1,
}

impl Kind {
    /// Short name used in JSON (`"rbf"`, `"deep"`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Rbf => "rbf",
            Kind::Deep => "deep",
        }
    }
    /// Display name.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Rbf => "RBF",
            Kind::Deep => "Deep RFF",
        }
    }
}

/// What one training run reports.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub kind: Kind,
    pub dtype: &'static str,
    pub jitter: f64,
    /// Loss of the last step (evaluated before its update, like the notebook's `losses[-1]`).
    pub neg_elbo: f64,
    pub variance: f64,
    /// RBF lengthscale, or the deep kernel's feature lengthscale.
    pub lengthscale: f64,
    pub noise_std: f64,
    pub grid_rmse: f64,
    /// Wall time of the whole training loop.
    pub train_s: f64,
    /// Median wall time of one step.
    pub step_ms: f64,
    /// −ELBO of every step.
    pub losses: Vec<f64>,
    /// Posterior mean on the evaluation grid.
    pub grid_mean: Vec<f64>,
    /// Deep kernel only: the MLP warp on the evaluation grid (6400 × 8).
    pub warp: Option<Vec<f64>>,
}

/// MLP width, depth (hidden layers) and output width H of the deep kernel's warp.
pub const MLP: (usize, usize, usize) = (32, 2, 8);
/// Random Fourier features J of the deep kernel.
pub const FEATURES: usize = 256;
/// Inducing points M.
pub const M_INDUCING: usize = 30;

/// The deep kernel's feature map: MLP 2 → 32 → 32 → 8 (tanh) then 256 random Fourier features.
pub fn deep_map() -> Result<DeepRff, svgp::Error> {
    DeepRff::new(Mlp::equinox(2, MLP.0, MLP.1, MLP.2, Activation::Tanh)?, FEATURES)
}

/// The RBF model with its initial parameters (variance 1, lengthscale 0.3).
pub fn rbf_model<S: Scalar>(jitter: f64) -> Result<(Svgp<Closed<Rbf>>, Vec<S>), svgp::Error> {
    let model = Svgp::new(Closed(Rbf::new(2)), M_INDUCING, jitter)?;
    let prior: Vec<S> = Rbf::params(1.0, 0.3).iter().map(|&v| S::from_f64(v)).collect();
    let params = init_params(&model, &prior)?;
    Ok((model, params))
}

/// The deep-kernel model with its initial parameters (variance 1, feature lengthscale 0.5, the
/// map drawn from the init stream of `seed`).
pub fn deep_model<S: Scalar>(
    seed: u64,
    jitter: f64,
) -> Result<(Svgp<Features<DeepRff>>, Vec<S>), svgp::Error> {
    let map = deep_map()?;
    let model = Svgp::new(Features(map), M_INDUCING, jitter)?;
    let mut prior = vec![S::zero(); model.prior().n_params()]; // [ln σ² | map parameters]
    map.init(&mut Xoshiro256::from_u64(seeds(seed).1), 0.5, model.prior().parts(&mut prior[..])?.map)?;
    model.prior().view(&mut prior[..])?.set_variance(1.0)?;
    let params = init_params(&model, &prior)?;
    Ok((model, params))
}

fn init_params<P: Prior, S: Scalar>(model: &Svgp<P>, prior: &[S]) -> Result<Vec<S>, svgp::Error> {
    let z: Vec<S> = inducing_grid().into_iter().map(S::from_f64).collect();
    let mut params = vec![S::zero(); model.n_params()];
    model.init_params(prior, &z, NOISE_STD * NOISE_STD, &mut params)?;
    Ok(params)
}

/// "f64" or "f32": the plain float under `S`.
pub fn dtype<S: Scalar>() -> &'static str {
    if <S::Real as Scalar>::epsilon().re() < 1e-10 {
        "f64"
    } else {
        "f32"
    }
}

/// Trains one model of the experiment with the recipe (jitter [`JITTER_F64`] in f64) and
/// reports it; `threads` run the data's [`CHUNKS`]; `on_step(step, loss)` sees every step.
pub fn run<S: Scalar + Send + Sync>(
    kind: Kind,
    data: &Data,
    seed: u64,
    steps: usize,
    jitter: f64,
    threads: usize,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<Outcome, svgp::Error> {
    match kind {
        Kind::Rbf => {
            let (model, params) = rbf_model::<S>(jitter)?;
            let t = train(&model, params, data, steps, threads, on_step)?;
            let p = model.params(&t.params)?.prior;
            let (variance, lengthscale) = (p.ln_variance().re().exp(), p.ln_lengthscale().re().exp());
            finish(kind, &model, t, variance, lengthscale, None)
        }
        Kind::Deep => {
            let (model, params) = deep_model::<S>(seed, jitter)?;
            let t = train(&model, params, data, steps, threads, on_step)?;
            let p = model.params(&t.params)?.prior;
            let (variance, lengthscale) = (p.ln_variance[0].re().exp(), p.map.ln_lengthscale[0].re().exp());
            let warp = warp_on_grid(&model.prior().0, p.map.mlp)?;
            finish(kind, &model, t, variance, lengthscale, Some(warp))
        }
    }
}

/// The learned warp MLP(x) on the evaluation grid (6400 × H), from the warp's parameters.
pub fn warp_on_grid<S: Scalar>(map: &DeepRff, mlp_params: &[S]) -> Result<Vec<f64>, svgp::Error> {
    let mlp = map.mlp();
    let (grid, _) = eval_grid();
    let g: Vec<S> = grid.into_iter().map(S::from_f64).collect();
    let n = g.len() / 2;
    let mut out = vec![S::zero(); n * mlp.output_dim()];
    let mut ws = vec![S::zero(); mlp.workspace_len(n)?];
    mlp.forward(mlp_params, &g, &mut out, &mut ws)?;
    Ok(out.iter().map(|v| v.re()).collect())
}

/// A trained parameter buffer with its loss curve and timings.
pub struct Trained<S> {
    pub params: Vec<S>,
    pub losses: Vec<f64>,
    pub train_s: f64,
    pub step_ms: f64,
}

/// The recipe's optimisation: full-batch Adam (lr 1e-2) on −ELBO after global-norm clipping at 1.
/// The data go in [`CHUNKS`] chunks to `threads` threads (the caller's included).
pub fn train<P: Prior + Sync, S: Scalar + Send + Sync>(
    model: &Svgp<P>,
    mut params: Vec<S>,
    data: &Data,
    steps: usize,
    threads: usize,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<Trained<S>, svgp::Error> {
    let x: Vec<S> = data.x.iter().map(|&v| S::from_f64(v)).collect();
    let y: Vec<S> = data.y.iter().map(|&v| S::from_f64(v)).collect();
    let trainer = Trainer::new(AdamConfig::new(LR).with_clip(CLIP_NORM), FitOptions::new(steps))
        .split(Split::new(CHUNKS.min(data.len()), threads));
    let mut losses = Vec::with_capacity(steps);
    let mut step_s = Vec::with_capacity(steps);
    let start = Instant::now();
    let mut last = start;
    trainer.fit_svgp(model, &mut params, &x, &y, |r| {
        let now = Instant::now();
        step_s.push(now.duration_since(last).as_secs_f64());
        last = now;
        losses.push(r.loss);
        on_step(r.step, r.loss);
        ControlFlow::Continue(())
    })?;
    let train_s = start.elapsed().as_secs_f64();
    step_s.sort_by(f64::total_cmp);
    let step_ms = 1e3 * step_s.get(step_s.len() / 2).copied().unwrap_or(f64::NAN);
    Ok(Trained { params, losses, train_s, step_ms })
}

fn finish<P: Prior, S: Scalar>(
    kind: Kind,
    model: &Svgp<P>,
    t: Trained<S>,
    variance: f64,
    lengthscale: f64,
    warp: Option<Vec<f64>>,
) -> Result<Outcome, svgp::Error> {
    let grid_mean = predict_grid(model, &t.params)?;
    let (_, truth) = eval_grid();
    Ok(Outcome {
        kind,
        dtype: dtype::<S>(),
        jitter: model.jitter(),
        neg_elbo: t.losses.last().copied().unwrap_or(f64::NAN),
        variance,
        lengthscale,
        noise_std: (0.5 * model.params(&t.params)?.likelihood.ln_noise_variance().re()).exp(),
        grid_rmse: svgp::metrics::rmse(&truth, &grid_mean)?,
        train_s: t.train_s,
        step_ms: t.step_ms,
        losses: t.losses,
        grid_mean,
        warp,
    })
}

/// Posterior mean of the latent f on the 80 × 80 grid.
pub fn predict_grid<P: Prior, S: Scalar>(model: &Svgp<P>, params: &[S]) -> Result<Vec<f64>, svgp::Error> {
    let (grid, _) = eval_grid();
    let g: Vec<S> = grid.into_iter().map(S::from_f64).collect();
    let n = g.len() / 2;
    let (mut mean, mut var) = (vec![S::zero(); n], vec![S::zero(); n]);
    let mut ws = vec![S::zero(); model.predict_workspace_len(n)?];
    model.predict(params, &g, &mut mean, &mut var, &mut ws)?;
    Ok(mean.iter().map(|v| v.re()).collect())
}

/// Bytes the experiment needs for `n` training points, estimated before anything is allocated:
/// the data (x and y in f64, and again in the training type) and the deep model's ELBO
/// workspace over all n points (the larger model's; the split ELBO's chunks add up to about
/// the same), all in f64. `None` when the size does not fit in 64 bits.
pub fn memory_estimate(n: usize) -> Option<u64> {
    let model = Svgp::new(Features(deep_map().ok()?), M_INDUCING, JITTER_F64).ok()?;
    let values = model.workspace_len(n).ok()?.checked_add(n.checked_mul(6)?)?;
    (values as u64).checked_mul(8)
}
