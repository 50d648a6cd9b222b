//! Fuzz the model through its public API: arbitrary (small) shapes, arbitrary (often extreme)
//! values, every entry point a user trains and predicts with.
//!
//! One input builds one model, a closed kernel (`Rbf`, `RbfArd`, `Matern`) or a feature prior
//! (a small `DeepRff`, a `RandomFourier` map), in `f32` or `f64`, with D ≤ 3, M ≤ 4, N ≤ 6,
//! J ≤ 8 and ≤ 4 prediction points, then runs on it: `Svgp::new`, `init_params`, a few
//! arbitrary edits of the flat parameters, `elbo`, `elbo_terms`, `elbo_and_grad`, `predict`,
//! `predict_cov`, a `fit_with` on the full-batch objective, a threaded `Trainer::fit_svgp` with
//! a frozen mask, one minibatch epoch (`MinibatchElbo` and `with_split_minibatch`), the split
//! ELBO (`with_split_elbo`) and the chunked `accumulate_elbo_and_grad`, `predict_y`,
//! `log_predictive_density` and `nlpd`. Every likelihood: the Gaussian half the time, else
//! Bernoulli (probit, logit), Poisson or Student-t with a Gauss–Hermite order of 1 to 24, and
//! targets that are mostly valid for the likelihood (class labels, counts) and sometimes not. Values come from
//! `Bytes::value`: half tame, the rest zeros, NaN, ±∞, subnormals, f64 and f32 extremes,
//! 2^k over the whole exponent range, raw bit patterns. Now and then (one input in eight) a
//! shape is made inconsistent on purpose (a short workspace, a target too many, a ragged
//! prediction input).
//!
//! The contract checked:
//! - no panic (libFuzzer aborts on one, also in a worker thread);
//! - `Ok` means finite: ELBO, its terms, every gradient entry, predicted means and variances
//!   (variances ≥ 0, the covariance's diagonal too);
//! - an error is a typed `svgp::Error`, never `WorkerPanicked`, and with consistent shapes
//!   never a shape error (`DimensionMismatch`, `BufferTooSmall`): those would be the library's
//!   own sizing going wrong;
//! - training (`fit_with`, `Trainer`, the minibatch fits): every step reports a finite loss and
//!   finite parameters; afterwards, for any outcome, the parameters are finite (when they were
//!   at the start) and are exactly the last ones a step reported (the start when none did), or
//!   with `keep_best` the best iterate's (on `Ok`, the one `best_step` names); frozen
//!   parameters never move.
//!
//! Run: `cargo +nightly fuzz run model_api -- -max_total_time=120`.
#![no_main]

mod common;

use core::ops::ControlFlow;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use svgp::batch::{
    accumulate_elbo_and_grad, accumulate_workspace_len, with_split_minibatch, Minibatch, MinibatchElbo,
    SliceSource,
};
use svgp::features::{Coupling, DeepRff, FeatureMap, FourierForm, RandomFourier, Spectrum};
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::{Kernel, Matern, Nu, Rbf, RbfArd};
use svgp::likelihood::{Bernoulli, GaussHermite, Gaussian, Likelihood, Poisson, StudentT};
use svgp::nn::{Activation, Mlp};
use svgp::objective::FullBatchElbo;
use svgp::optim::{Adam, AdamConfig};
use svgp::parallel::{with_split_elbo, Split};
use svgp::rng::Xoshiro256;
use svgp::train::{fit_with, FitOptions, FitSummary, StepReport, Trainer};
use svgp::{Error, Scalar};

const MAX_D: usize = 3;
const MAX_M: usize = 4;
const MAX_N: usize = 6;
const MAX_J: usize = 8;
const MAX_PRED: usize = 4;
const MAX_STEPS: usize = 4;

/// What the target needs of each likelihood: how to initialise a model's parameters with a
/// (possibly absurd) noise scale, and how to draw a target (usually a valid one for the
/// likelihood, now and then any value, so that target errors are met too).
trait FuzzLik: Likelihood + Sync {
    fn init_all<P: Prior, S: Scalar>(m: &Svgp<P, Self>, prior: &[S], z: &[S], noise: f64, out: &mut [S]) -> svgp::Result<()>;
    fn target(b: &mut Bytes<'_>) -> f64;
}

impl FuzzLik for Gaussian {
    fn init_all<P: Prior, S: Scalar>(m: &Svgp<P, Self>, prior: &[S], z: &[S], noise: f64, out: &mut [S]) -> svgp::Result<()> {
        m.init_params(prior, z, noise, out)
    }
    fn target(b: &mut Bytes<'_>) -> f64 {
        b.value()
    }
}

impl FuzzLik for Bernoulli {
    fn init_all<P: Prior, S: Scalar>(m: &Svgp<P, Self>, prior: &[S], z: &[S], _: f64, out: &mut [S]) -> svgp::Result<()> {
        m.init(prior, z, out)
    }
    fn target(b: &mut Bytes<'_>) -> f64 {
        match b.u8() {
            0..=119 => 0.0,
            120..=239 => 1.0,
            _ => b.value(),
        }
    }
}

impl FuzzLik for Poisson {
    fn init_all<P: Prior, S: Scalar>(m: &Svgp<P, Self>, prior: &[S], z: &[S], _: f64, out: &mut [S]) -> svgp::Result<()> {
        m.init(prior, z, out)
    }
    fn target(b: &mut Bytes<'_>) -> f64 {
        match b.u8() {
            0..=199 => (b.u8() % 24) as f64,
            200..=229 => b.u64() as f64, // large counts, up to 2^64
            _ => b.value(),
        }
    }
}

impl FuzzLik for StudentT {
    fn init_all<P: Prior, S: Scalar>(m: &Svgp<P, Self>, prior: &[S], z: &[S], noise: f64, out: &mut [S]) -> svgp::Result<()> {
        m.init(prior, z, out)?;
        m.params_mut(out)?.likelihood.set_scale(noise)
    }
    fn target(b: &mut Bytes<'_>) -> f64 {
        b.value()
    }
}

/// Runs `$body` with `$lik` bound to a likelihood the byte `$k` picks: the Gaussian half the
/// time, else Bernoulli (probit or logit), Poisson or Student-t (ν and the quadrature order
/// from the bytes too; an order or ν the library refuses falls back to the Gaussian).
macro_rules! with_likelihood {
    ($b:ident, $lik:ident => $body:expr) => {{
        let k = $b.u8();
        let quad = GaussHermite::new(1 + $b.u8() as usize % 24).ok();
        match (k % 8, quad) {
            (4, Some(q)) => { let $lik = Bernoulli::probit().with_quadrature(q); $body }
            (5, Some(q)) => { let $lik = Bernoulli::logit().with_quadrature(q); $body }
            (6, Some(q)) => { let $lik = Poisson::new().with_quadrature(q); $body }
            (7, Some(q)) => match StudentT::new([1.0, 2.5, 4.0, 30.0, 0.5][k as usize / 8 % 5]) {
                Ok(t) => { let $lik = t.with_quadrature(q); $body }
                Err(_) => { let $lik = Gaussian; $body }
            },
            _ => { let $lik = Gaussian; $body }
        }
    }};
}

/// An error is typed, not a caught panic, and not a shape error when the shapes were right.
fn typed<T>(r: &svgp::Result<T>, consistent: bool, what: &str) {
    if std::env::var_os("FUZZ_STATS").is_some() {
        match r { Ok(_) => eprintln!("STAT {what} ok"), Err(e) => eprintln!("STAT {what} {}", format!("{e:?}").split(|c: char| c == ' ' || c == '{').next().unwrap()) }
    }
    if let Err(e) = r {
        assert!(!matches!(e, Error::WorkerPanicked { .. }), "{what}: a worker panicked: {e:?}");
        if consistent {
            assert!(
                !matches!(e, Error::DimensionMismatch { .. } | Error::BufferTooSmall { .. }),
                "{what}: a shape error with consistent shapes: {e:?}"
            );
        }
    }
}

fn all_finite<S: Scalar>(v: &[S]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Bitwise equality (NaN equals NaN).
fn same<S: Scalar>(a: &[S], b: &[S]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.re().to_bits() == y.re().to_bits())
}

fn to_s<S: Scalar>(v: &[f64]) -> Vec<S> {
    v.iter().map(|&x| S::from_f64(x)).collect()
}

/// The data and settings one input decodes, shared by every stage.
struct Case<'a, S> {
    b: Bytes<'a>,
    /// Whether every shape handed to the library is right.
    consistent: bool,
    /// Which shape to break (when the input asked for it): 0 workspace, 1 targets, 2 prediction input.
    broken: Option<u8>,
    x: Vec<S>,
    y: Vec<S>,
    params: Vec<S>,
}

impl<S: Scalar + Send + Sync> Case<'_, S> {
    fn n(&self) -> usize {
        self.y.len()
    }
    /// A workspace of `len` (one short when the workspace is the shape being broken).
    fn ws(&self, len: svgp::Result<usize>) -> Option<Vec<S>> {
        let len = len.ok()?;
        let len = if self.broken == Some(0) { len.saturating_sub(1) } else { len };
        Some(vec![S::zero(); len])
    }
    fn adam(&mut self) -> AdamConfig {
        let lr = match self.b.u8() % 8 {
            0..=2 => 1e-2,
            3 => 0.3,
            4 => 10.0,
            _ => self.b.value(),
        };
        let mut cfg = AdamConfig::new(lr);
        let knobs = self.b.u8();
        if knobs & 1 == 1 {
            cfg = cfg.with_clip(if knobs & 2 == 0 { 1.0 } else { self.b.value() });
        }
        if knobs & 4 == 4 {
            cfg.b1 = self.b.value();
        }
        if knobs & 8 == 8 {
            cfg.b2 = self.b.value();
        }
        if knobs & 16 == 16 {
            cfg.eps = self.b.value();
        }
        cfg
    }
    fn fit_options(&mut self) -> (FitOptions, Option<usize>) {
        let k = self.b.u8();
        let mut o = FitOptions::new(1 + k as usize % MAX_STEPS);
        if k & 0x10 != 0 {
            o = o.keep_best();
        }
        if k & 0x20 != 0 {
            o = o.patience(1 + (k >> 6) as usize).min_improvement(if k & 0x08 != 0 { self.b.value() } else { 0.0 });
        }
        // A callback that stops training after this many steps (never when None).
        let stop = match self.b.u8() % 4 {
            3 => Some(1 + self.b.u8() as usize % MAX_STEPS),
            _ => None,
        };
        (o, stop)
    }
    fn split(&mut self) -> Split {
        let k = self.b.u8();
        Split::new(1 + k as usize % 3, 1 + (k >> 4) as usize % 2)
    }
}

/// Runs a fit and checks what it leaves: `run(params, callback)` trains `params` from `start`.
fn check_fit<S: Scalar>(
    what: &str,
    consistent: bool,
    start: &[S],
    keep_best: bool,
    stop: Option<usize>,
    frozen: Option<&[bool]>,
    run: impl FnOnce(&mut [S], &mut dyn FnMut(&StepReport<'_, S>) -> ControlFlow<()>) -> svgp::Result<FitSummary>,
) {
    let mut params = start.to_vec();
    // seen[k]: the parameters before step k + 1 (seen[0] the start).
    let mut seen: Vec<Vec<S>> = vec![start.to_vec()];
    let mut callback = |r: &StepReport<'_, S>| {
        assert!(r.loss.is_finite(), "{what}: step {} reported loss {}", r.step, r.loss);
        assert!(all_finite(r.params), "{what}: step {} reported non-finite parameters", r.step);
        assert_eq!(r.step, seen.len(), "{what}: steps out of order");
        seen.push(r.params.to_vec());
        if stop.is_some_and(|s| r.step >= s) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let r = run(&mut params, &mut callback);
    typed(&r, consistent, what);
    if all_finite(start) {
        assert!(all_finite(&params), "{what}: non-finite parameters after {r:?}");
    }
    let last = seen.last().map(|p| same(&params, p)).unwrap_or(false);
    match &r {
        Ok(s) => {
            assert_eq!(s.steps + 1, seen.len(), "{what}: summary steps {s:?}");
            assert!(s.steps == 0 || s.last_loss.is_finite(), "{what}: {s:?}");
            if keep_best && s.best_step > 0 {
                assert!(s.best_loss.is_finite(), "{what}: {s:?}");
                assert!(same(&params, &seen[s.best_step - 1]), "{what}: not the best iterate {s:?}");
            } else {
                assert!(last, "{what}: not the last parameters {s:?}");
            }
        }
        Err(e) => {
            if keep_best {
                assert!(seen.iter().any(|p| same(&params, p)), "{what}: parameters never seen, after {e:?}");
            } else {
                assert!(last, "{what}: not the last finite parameters after {e:?}");
            }
        }
    }
    if let Some(frozen) = frozen {
        for (i, &f) in frozen.iter().enumerate() {
            if f {
                assert_eq!(params[i].re().to_bits(), start[i].re().to_bits(), "{what}: frozen {i} moved");
            }
        }
    }
}

/// The ELBO, its terms and its gradient at the case's parameters.
fn stage_elbo<P: Prior + Sync, L: FuzzLik, S: Scalar + Send + Sync>(model: &Svgp<P, L>, c: &mut Case<'_, S>) {
    let k = c.b.u8();
    let scale = match k % 8 {
        0..=4 => 1.0,
        5 => 1e3,
        _ => c.b.value(),
    };
    let opts = ElboOptions { scale, include_kl: k & 0x80 == 0 };
    let Some(mut ws) = c.ws(model.workspace_len(c.n())) else { return };
    let np = model.n_params();
    let r = model.elbo(&c.params, &c.x, &c.y, opts, &mut ws);
    typed(&r, c.consistent, "elbo");
    if let Ok(v) = r {
        assert!(v.is_finite(), "elbo Ok({v})");
    }
    let r = model.elbo_terms(&c.params, &c.x, &c.y, opts, &mut ws);
    typed(&r, c.consistent, "elbo_terms");
    if let Ok(t) = r {
        assert!(t.ell.is_finite() && t.kl.is_finite() && t.elbo.is_finite(), "elbo_terms Ok({t:?})");
    }
    let mut grad = vec![S::zero(); np];
    let r = model.elbo_and_grad(&c.params, &c.x, &c.y, opts, &mut grad, &mut ws);
    typed(&r, c.consistent, "elbo_and_grad");
    if let Ok(v) = r {
        assert!(v.is_finite() && all_finite(&grad), "elbo_and_grad Ok({v}) or a non-finite gradient");
    }
    // The same sum, chunk by chunk (scale 1, the KL once).
    let chunk = (c.b.u8() as usize + 1) % (MAX_N + 1);
    if let Some(mut ws) = c.ws(accumulate_workspace_len(model, chunk)) {
        let r = accumulate_elbo_and_grad(model, &c.params, &c.x, &c.y, chunk, &mut grad, &mut ws);
        typed(&r, c.consistent, "accumulate_elbo_and_grad");
        if let Ok(v) = r {
            assert!(v.is_finite() && all_finite(&grad), "accumulate_elbo_and_grad Ok({v}) or a non-finite gradient");
        }
    }
    // The split ELBO on a thread team.
    let split = c.split();
    let mut grad = vec![S::zero(); np];
    let (x, y, p) = (&c.x, &c.y, &c.params);
    let r = with_split_elbo(model, x, y, opts, split, |e| e.elbo_and_grad(p, &mut grad)).and_then(|r| r);
    typed(&r, c.consistent, "with_split_elbo");
    if let Ok(v) = r {
        assert!(v.is_finite() && all_finite(&grad), "split elbo Ok({v}) or a non-finite gradient");
    }
}

/// A prediction's result: a typed error, or finite means and non-negative finite variances.
fn moments_ok<S: Scalar>(r: &svgp::Result<()>, consistent: bool, what: &str, mean: &[S], var: &[S]) {
    typed(r, consistent, what);
    if r.is_ok() {
        assert!(all_finite(mean) && all_finite(var), "{what} Ok with non-finite values");
        assert!(var.iter().all(|v| *v >= S::zero()), "{what} Ok with a negative variance");
    }
}

/// Posterior mean, variance and covariance at a few points.
fn stage_predict<P: Prior, L: FuzzLik, S: Scalar>(model: &Svgp<P, L>, c: &mut Case<'_, S>) {
    let n = (c.b.u8() as usize + 1) % (MAX_PRED + 1);
    let d = model.input_dim();
    let len = if c.broken == Some(2) { n * d + 1 } else { n * d };
    let xs: Vec<S> = (0..len).map(|_| S::from_f64(c.b.value())).collect();
    let (mut mean, mut var) = (vec![S::zero(); n], vec![S::zero(); n]);
    // The latent f and the observation y: the same workspace, the same contract.
    if let Some(mut ws) = c.ws(model.predict_workspace_len(n)) {
        let r = model.predict(&c.params, &xs, &mut mean, &mut var, &mut ws);
        moments_ok(&r, c.consistent, "predict", &mean, &var);
        let r = model.predict_y(&c.params, &xs, &mut mean, &mut var, &mut ws);
        moments_ok(&r, c.consistent, "predict_y", &mean, &var);
    }
    let ys: Vec<S> = (0..n).map(|_| S::from_f64(L::target(&mut c.b))).collect();
    if let Some(mut ws) = c.ws(model.log_predictive_workspace_len(n)) {
        let mut lpd = vec![S::zero(); n];
        let r = model.log_predictive_density(&c.params, &xs, &ys, &mut lpd, &mut ws);
        typed(&r, c.consistent, "log_predictive_density");
        if r.is_ok() {
            assert!(all_finite(&lpd), "log_predictive_density Ok with a non-finite density");
        }
        let r = model.nlpd(&c.params, &xs, &ys, &mut ws);
        typed(&r, c.consistent, "nlpd");
        if let Ok(v) = r {
            assert!(v.is_finite(), "nlpd Ok({v})");
        }
    }
    let mut cov = vec![S::zero(); n * n];
    if let Some(mut ws) = c.ws(model.predict_cov_workspace_len(n)) {
        let r = model.predict_cov(&c.params, &xs, &mut mean, &mut cov, &mut ws);
        typed(&r, c.consistent, "predict_cov");
        if r.is_ok() {
            assert!(all_finite(&mean) && all_finite(&cov), "predict_cov Ok with non-finite values");
            assert!((0..n).all(|i| cov[i * n + i] >= S::zero()), "predict_cov Ok with a negative variance");
        }
    }
}

/// A few Adam steps on the full batch (`fit_with`), and the one-call `Trainer` with a split and
/// a frozen mask.
fn stage_fit<P: Prior + Sync, L: FuzzLik, S: Scalar + Send + Sync>(model: &Svgp<P, L>, c: &mut Case<'_, S>) {
    let np = model.n_params();
    let cfg = c.adam();
    let (opts, stop) = c.fit_options();
    if let Some(mut ws) = c.ws(model.workspace_len(c.n())) {
        let (x, y, start) = (&c.x, &c.y, &c.params);
        check_fit("fit_with (full batch)", c.consistent, start, opts.keep_best, stop, None, |params, cb| {
            let mut obj = FullBatchElbo::new(model, x, y, &mut ws[..])?;
            let (mut mu, mut nu) = (vec![S::zero(); np], vec![S::zero(); np]);
            let mut adam = Adam::new(cfg, &mut mu, &mut nu)?;
            let mut fws = vec![S::zero(); opts.workspace_len(np)?];
            fit_with(&mut obj, params, &mut adam, &opts, &mut fws, cb)
        });
    }
    let cfg = c.adam();
    let (opts, stop) = c.fit_options();
    let split = c.split();
    let mask = c.b.u64();
    let frozen: Vec<bool> = (0..np).map(|i| mask >> (i % 64) & 1 == 1).collect();
    let trainer = Trainer::new(cfg, opts).split(split).freeze(&frozen);
    let (x, y, start) = (&c.x, &c.y, &c.params);
    check_fit("Trainer::fit_svgp", c.consistent, start, opts.keep_best, stop, Some(&frozen), |params, cb| {
        trainer.fit_svgp(model, params, x, y, cb)
    });
}

/// One epoch of minibatches: on the calling thread, and each batch split on a team.
fn stage_minibatch<P: Prior + Sync, L: FuzzLik, S: Scalar + Send + Sync>(model: &Svgp<P, L>, c: &mut Case<'_, S>) {
    let np = model.n_params();
    let n = c.n();
    let batch = match c.b.u8() {
        6 => 0,
        7 => n + 1,
        k => 1 + (k as usize) % n.max(1),
    };
    let seed = c.b.u64();
    let cfg = c.adam();
    let split = c.split();
    let Ok(mb) = Minibatch::new(n, batch).inspect_err(|e| assert!(matches!(e, Error::InvalidParameter { .. })))
    else {
        return;
    };
    // One epoch: ⌈N/B⌉ batches, one Adam step each.
    let epoch = n.div_ceil(batch);
    let (x, y, start, d) = (&c.x, &c.y, &c.params, model.input_dim());
    if let Some(mut ws) = c.ws(mb.workspace_len(model)) {
        check_fit("minibatch epoch", c.consistent, start, false, None, None, |params, cb| {
            let src = SliceSource::new(x, y, d, Xoshiro256::from_u64(seed))?;
            let mut obj = MinibatchElbo::new(*model, mb, src, &mut ws)?;
            let (mut mu, mut nu) = (vec![S::zero(); np], vec![S::zero(); np]);
            let mut adam = Adam::new(cfg, &mut mu, &mut nu)?;
            let opts = FitOptions::new(epoch);
            let mut fws = vec![S::zero(); opts.workspace_len(np)?];
            fit_with(&mut obj, params, &mut adam, &opts, &mut fws, cb)
        });
    }
    check_fit("split minibatch epoch", c.consistent, start, false, None, None, |params, cb| {
        let src = SliceSource::new(x, y, d, Xoshiro256::from_u64(seed))?;
        let (mut mu, mut nu) = (vec![S::zero(); np], vec![S::zero(); np]);
        let mut adam = Adam::new(cfg, &mut mu, &mut nu)?;
        let opts = FitOptions::new(epoch);
        let mut fws = vec![S::zero(); opts.workspace_len(np)?];
        with_split_minibatch(*model, mb, src, split, |obj| fit_with(obj, params, &mut adam, &opts, &mut fws, cb))?
    });
}

/// Builds the model's parameters and data from the bytes and runs every stage.
fn run<P: Prior + Sync, L: FuzzLik, S: Scalar + Send + Sync>(
    model: Svgp<P, L>,
    prior: &[f64],
    tame_prior: &[f64],
    mut b: Bytes<'_>,
) {
    let (d, m, np) = (model.input_dim(), model.n_inducing(), model.n_params());
    let shape = b.u8();
    let broken = (shape & 7 == 7).then_some((shape >> 3) % 3);
    let z: Vec<f64> = (0..m * d).map(|_| b.value()).collect();
    let noise = match b.u8() % 4 {
        0 => 0.01,
        _ => b.value(),
    };
    let mut params = vec![S::zero(); np];
    let r = L::init_all(&model, &to_s::<S>(prior), &to_s::<S>(&z), noise, &mut params);
    typed(&r, true, "init_params");
    if r.is_err() {
        // Go on from tame parameters, so the later stages run on most inputs.
        let z: Vec<f64> = (0..m * d).map(|i| i as f64 / (m * d) as f64 - 0.5).collect();
        let r = L::init_all(&model, &to_s::<S>(tame_prior), &to_s::<S>(&z), 0.1, &mut params);
        assert!(r.is_ok(), "tame init_params: {r:?}");
    }
    // A few entries anywhere in the flat buffer (m, L, the noise, Z, the prior) set to any value.
    for _ in 0..b.u8() % 4 {
        let i = u16::from_le_bytes([b.u8(), b.u8()]) as usize % np;
        params[i] = S::from_f64(b.value());
    }
    let n = (b.u8() as usize + 3) % (MAX_N + 1);
    let x: Vec<S> = (0..n * d).map(|_| S::from_f64(b.value())).collect();
    let ny = if broken == Some(1) { n + 1 } else { n };
    let y: Vec<S> = (0..ny).map(|_| S::from_f64(L::target(&mut b))).collect();
    let mut c = Case { b, consistent: broken.is_none(), broken, x, y, params };
    stage_elbo(&model, &mut c);
    stage_predict(&model, &mut c);
    stage_fit(&model, &mut c);
    stage_minibatch(&model, &mut c);
}

fn closed<K: Kernel + Sync, L: FuzzLik>(kernel: K, lik: L, m: usize, jitter: f64, f32s: bool, mut b: Bytes<'_>) {
    let Ok(model) = Svgp::with_likelihood(Closed(kernel), lik, m, jitter) else { return };
    let prior: Vec<f64> = (0..kernel.n_params()).map(|_| b.value()).collect();
    let tame = vec![0.0; kernel.n_params()];
    if f32s {
        run::<_, _, f32>(model, &prior, &tame, b)
    } else {
        run::<_, _, f64>(model, &prior, &tame, b)
    }
}

/// Feature prior parameters `[ln σ² | map]`: the map's drawn by `draw`, then a few entries
/// set to any value; the tame ones are the drawn ones with σ² = 1.
fn features<F: FeatureMap + Sync, L: FuzzLik>(
    map: F,
    lik: L,
    m: usize,
    jitter: f64,
    f32s: bool,
    mut b: Bytes<'_>,
    draw: impl FnOnce(&mut Xoshiro256, &mut [f64]),
) {
    let Ok(model) = Svgp::with_likelihood(Features(map), lik, m, jitter) else { return };
    let mut tame = vec![0.0; 1 + map.n_params()];
    draw(&mut Xoshiro256::from_u64(b.u8() as u64), &mut tame[1..]);
    let mut prior = tame.clone();
    prior[0] = match b.u8() % 2 {
        0 => 0.0,
        _ => b.value(),
    };
    for _ in 0..b.u8() % 4 {
        let i = b.u8() as usize % prior.len();
        prior[i] = b.value();
    }
    if f32s {
        run::<_, _, f32>(model, &prior, &tame, b)
    } else {
        run::<_, _, f64>(model, &prior, &tame, b)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let head = b.u8();
    let f32s = head & 1 == 1;
    let d = 1 + b.u8() as usize % MAX_D;
    let m = 1 + b.u8() as usize % MAX_M;
    let jitter = match b.u8() % 8 {
        0..=3 => 1e-6,
        4 => 1e-3,
        5 => 0.0,
        _ => b.value(),
    };
    let nu = [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves][(head >> 4) as usize % 3];
    match (head >> 1) % 5 {
        0 => with_likelihood!(b, lik => closed(Rbf::new(d), lik, m, jitter, f32s, b)),
        1 => with_likelihood!(b, lik => closed(RbfArd::new(d), lik, m, jitter, f32s, b)),
        2 => with_likelihood!(b, lik => closed(Matern::new(d, nu), lik, m, jitter, f32s, b)),
        3 => {
            let k = b.u8();
            let act = [Activation::Tanh, Activation::Relu, Activation::Gelu, Activation::Softplus, Activation::Sin]
                [k as usize % 5];
            let depth = (k >> 3) as usize % 3;
            let (width, h) = (1 + (k >> 5) as usize % 4, 1 + b.u8() as usize % 3);
            let j = 1 + b.u8() as usize % MAX_J;
            let Ok(mlp) = Mlp::equinox(d, width, depth, h, act) else { return };
            let Ok(map) = DeepRff::new(mlp, j) else { return };
            with_likelihood!(b, lik => features(map, lik, m, jitter, f32s, b, |rng, p| {
                let r = map.init(rng, 0.5, p);
                assert!(r.is_ok(), "DeepRff::init: {r:?}");
            }))
        }
        _ => {
            let k = b.u8();
            let form = [FourierForm::CosPhase, FourierForm::CosSin][k as usize % 2];
            let spectrum = [Spectrum::Rbf, Spectrum::Matern(nu), Spectrum::Laplace][(k >> 1) as usize % 3];
            let coupling = [Coupling::Iid, Coupling::Orthogonal][(k >> 3) as usize % 2];
            let j = 1 + b.u8() as usize % MAX_J;
            let Ok(map) = RandomFourier::new(d, j, form, spectrum, coupling) else { return };
            with_likelihood!(b, lik => features(map, lik, m, jitter, f32s, b, |rng, p| {
                let r = map.draw(rng, 1.0, p);
                assert!(r.is_ok(), "RandomFourier::draw: {r:?}");
            }))
        }
    }
});
