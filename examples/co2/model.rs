//! The CO₂ model: an SVGP on standardised years and standardised ppm, its kernel, its
//! training and its predictions back in ppm.

use core::ops::ControlFlow;
use std::time::Instant;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::layout::SliceRef;
use svgp::metrics::{gaussian_coverage, gaussian_nlpd, rmse, Standardizer};
use svgp::optim::AdamConfig;
use svgp::parallel::Split as ThreadSplit;
use svgp::train::{FitOptions, Trainer};
use svgp::Scalar;

use super::args::{Args, KernelChoice};
use super::data::{Series, Split};

/// K_zz jitter.
pub const JITTER: f64 = 1e-6;
/// Fixed chunks the training data are evaluated in: the numbers depend on this count only.
pub const CHUNKS: usize = 2;
/// Initial noise standard deviation, in ppm.
const NOISE_PPM: f64 = 0.3;

/// Initial hyperparameters of [`Co2Kernel`] in ppm and years: trend sd and lengthscale,
/// seasonal sd, period, periodic lengthscale (unitless), seasonal decay, RQ sd, lengthscale, α.
const CO2_INIT: [f64; 9] = [16.0, 50.0, 3.7, 1.0, 1.0, 60.0, 1.2, 1.0, 1.0];

/// RBF trend + periodic × RBF (the seasonal cycle, its shape drifting slowly) + rational
/// quadratic (medium-term irregularities), on one input, parameters (all logarithms):
///
/// `[σ²_trend, ℓ_trend, σ²_seas, period, ℓ_periodic, ℓ_decay, σ²_rq, ℓ_rq, α]`.
///
/// k(r) = σ²_t e^{−r²/2ℓ_t²} + σ²_s e^{−2 sin²(πr/p)/ℓ_p²} e^{−r²/2ℓ_d²} + σ²_q (1 + r²/2αℓ_q²)^{−α}.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Co2Kernel;

/// The parameter transforms every entry uses: 1/ℓ² of the trend, periodic, decay and RQ
/// terms, π/period and α.
struct Hoisted<S> {
    it: S,
    ip: S,
    ild: S,
    iq: S,
    pi_over_p: S,
    alpha: S,
}

impl<S: Scalar> Hoisted<S> {
    fn new(p: &[S]) -> Self {
        let inv_sq = |v: S| (-(v + v)).exp();
        Self {
            it: inv_sq(p[1]),
            ip: inv_sq(p[4]),
            ild: inv_sq(p[5]),
            iq: inv_sq(p[7]),
            pi_over_p: S::from_f64(core::f64::consts::PI) * (-p[3]).exp(),
            alpha: p[8].exp(),
        }
    }
    /// k(r) for r = x − x'.
    #[inline]
    fn k(&self, p: &[S], r: S) -> S {
        let (half, r2) = (S::from_f64(0.5), r * r);
        let s = (self.pi_over_p * r).sin();
        let trend = (p[0] - half * r2 * self.it).exp();
        let seas = (p[2] - S::from_f64(2.0) * s * s * self.ip - half * r2 * self.ild).exp();
        let rq = (p[6] - self.alpha * (half * r2 * self.iq / self.alpha).ln_1p()).exp();
        trend + seas + rq
    }
}

/// Index of ln period in [`Co2Kernel`]'s parameters (frozen at one year).
pub const PERIOD: usize = 3;

impl Kernel for Co2Kernel {
    type Params<C> = C; // read by index (see the list above)
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        1
    }
    fn n_params(&self) -> usize {
        9
    }
    fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
        Hoisted::new(p).k(p, x[0] - y[0])
    }
    /// Parameter transforms hoisted out of the loop (the default calls `eval` per entry).
    fn cross_covariance_block<S: Scalar>(&self, p: &[S], x1: &[S], x2: &[S], out: &mut [S]) {
        let h = Hoisted::new(p);
        for (row, &a) in out.chunks_exact_mut(x2.len()).zip(x1) {
            for (o, &b) in row.iter_mut().zip(x2) {
                *o = h.k(p, a - b);
            }
        }
    }
    fn eval_diag<S: Scalar>(&self, p: &[S], _x: &[S]) -> S {
        p[0].exp() + p[2].exp() + p[6].exp()
    }
    /// Closed form (the `Dual` default costs ~100 ms a step here): with r = x − z, each term's
    /// derivatives by its parameters and by r (∂/∂z = −∂/∂r), as `tests::adjoint_matches_dual`
    /// checks against the default.
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        p: &[S],
        x1: &[S],
        x2: &[S],
        _k: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        grad_x1: &mut [S],
        mut grad_x2: Option<&mut [S]>,
    ) -> svgp::Result<()> {
        let (half, two, pi) = (S::from_f64(0.5), S::from_f64(2.0), S::from_f64(core::f64::consts::PI));
        let (it, ip, ild, iq) =
            ((-(p[1] + p[1])).exp(), (-(p[4] + p[4])).exp(), (-(p[5] + p[5])).exp(), (-(p[7] + p[7])).exp());
        let (inv_period, alpha) = ((-p[3]).exp(), p[8].exp());
        let mut g = [S::zero(); 9];
        let n2 = x2.len();
        for (i, &a) in x1.iter().enumerate() {
            let mut gx = S::zero();
            for (j, &b) in x2.iter().enumerate() {
                let w = k_bar[i * n2 + j];
                let r = a - b;
                let r2 = r * r;
                let t = w * (p[0] - half * r2 * it).exp();
                let theta = pi * r * inv_period;
                let (sn, cs) = theta.sin_cos();
                let sv = w * (p[2] - two * sn * sn * ip - half * r2 * ild).exp();
                let u = half * r2 * iq;
                let base = S::one() + u / alpha;
                let q = w * (p[6] - alpha * base.ln()).exp();
                g[0] += t;
                g[1] += t * r2 * it;
                g[2] += sv;
                g[3] += sv * S::from_f64(4.0) * ip * sn * cs * theta;
                g[4] += sv * S::from_f64(4.0) * sn * sn * ip;
                g[5] += sv * r2 * ild;
                g[6] += q;
                g[7] += two * u * q / base;
                g[8] += alpha * q * ((u / alpha) / base - base.ln());
                let dr = -t * r * it
                    - sv * (S::from_f64(4.0) * ip * sn * cs * pi * inv_period + r * ild)
                    - q * r * iq / base;
                gx += dr;
                if let Some(g2) = grad_x2.as_deref_mut() {
                    g2[j] -= dr;
                }
            }
            grad_x1[i] += gx;
        }
        grad_params.iter_mut().zip(g).for_each(|(d, v)| *d += v);
        Ok(())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        p: &[S],
        _x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
    ) -> svgp::Result<()> {
        let s: S = k_bar.iter().copied().sum();
        grad_params[0] += s * p[0].exp();
        grad_params[2] += s * p[2].exp();
        grad_params[6] += s * p[6].exp();
        Ok(())
    }
}

/// One fit's results, in ppm.
pub struct Fit {
    pub split: &'static str,
    pub kernel: &'static str,
    pub n_train: usize,
    pub n_test: usize,
    pub m: usize,
    pub steps: usize,
    pub rmse_ppm: f64,
    pub nlpd: f64,
    pub coverage95: f64,
    pub train_s: f64,
    pub step_ms: f64,
    /// Predictive mean and standard deviation of y at the held-out weeks.
    pub test_mean: Vec<f64>,
    pub test_sd: Vec<f64>,
    /// The same on [`grid`].
    pub grid_mean: Vec<f64>,
    pub grid_sd: Vec<f64>,
    /// Learned hyperparameters in years and ppm, named.
    pub hyper: Vec<(&'static str, f64)>,
    pub noise_ppm: f64,
    pub final_loss: f64,
}

/// Weekly years from 1958.0 to 2002.0, where the figures show the predictive.
pub fn grid() -> Vec<f64> {
    (0..=44 * 52).map(|k| 1958.0 + k as f64 / 52.0).collect()
}

/// Trains on `split.train`, predicts `split.test` and [`grid`]; `on_step(step, loss)` sees
/// every step.
pub fn fit(
    series: &Series,
    split: &Split,
    args: &Args,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<Fit, Box<dyn std::error::Error>> {
    let train = series.select(&split.train);
    let test = series.select(&split.test);
    // Years are centred, not scaled: Adam moves each inducing input by about `lr` per step in
    // the input's units, 0.01 yr in years, but 0.13 yr in standardised years (1 unit = 12.6 yr),
    // which makes the inducing inputs hop across the seasonal cycle (test RMSE 0.56 against
    // 0.42 ppm at seed 0).
    let xs = Standardizer { scale: 1.0, ..Standardizer::fit(&train.year)? };
    let ys = Standardizer::fit(&train.ppm)?;
    let year = |v: f64| v / xs.scale; // a length in years, in input units
    let ppm_var = |sd: f64| (sd / ys.scale).powi(2).ln(); // ln of a variance given as a sd in ppm
    let (mut x, mut y) = (train.year.clone(), train.ppm.clone());
    xs.apply_in_place(&mut x);
    ys.apply_in_place(&mut y);
    let z = inducing(&x, args.m);
    let noise_var = (NOISE_PPM / ys.scale).powi(2);
    match args.kernel {
        KernelChoice::Co2 => {
            let h = CO2_INIT;
            let prior = [
                ppm_var(h[0]),
                year(h[1]).ln(),
                ppm_var(h[2]),
                year(h[3]).ln(),
                h[4].ln(),
                year(h[5]).ln(),
                ppm_var(h[6]),
                year(h[7]).ln(),
                h[8].ln(),
            ];
            let model = Svgp::new(Closed(Co2Kernel), args.m, JITTER)?;
            let mut frozen = vec![false; model.n_params()];
            model.parts_mut(&mut frozen)?.prior[PERIOD] = true;

            let mut t = train_model(&model, &prior, &z, noise_var, &x, &y, args, Some(frozen), on_step)?;
            let p = model.params(&t.params)?.prior;
            let ls = |i: usize| p[i].exp() * xs.scale;
            let var = |i: usize| p[i].exp().sqrt() * ys.scale;
            t.hyper = vec![
                ("trend sd (ppm)", var(0)),
                ("trend lengthscale (yr)", ls(1)),
                ("seasonal sd (ppm)", var(2)),
                ("period (yr)", ls(3)),
                ("periodic lengthscale", p[4].exp()),
                ("seasonal decay (yr)", ls(5)),
                ("rq sd (ppm)", var(6)),
                ("rq lengthscale (yr)", ls(7)),
                ("rq alpha", p[8].exp()),
            ];
            finish(&model, t, split, args, "co2", (&xs, &ys), &test)
        }
        KernelChoice::Rbf => {
            let model = Svgp::new(Closed(Rbf::new(1)), args.m, JITTER)?;
            let prior = Rbf::params(1.0, year(5.0));
            let mut t = train_model(&model, &prior, &z, noise_var, &x, &y, args, None, on_step)?;
            let p = model.params(&t.params)?.prior;
            t.hyper = vec![
                ("sd (ppm)", p.variance().sqrt() * ys.scale),
                ("lengthscale (yr)", p.lengthscale() * xs.scale),
            ];
            finish(&model, t, split, args, "rbf", (&xs, &ys), &test)
        }
    }
}

/// M inducing inputs spread evenly over the (standardised) training range.
fn inducing(x: &[f64], m: usize) -> Vec<f64> {
    let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    (0..m).map(|i| lo + (hi - lo) * (i as f64 + 0.5) / m as f64).collect()
}

struct Trained {
    params: Vec<f64>,
    losses: Vec<f64>,
    train_s: f64,
    step_ms: f64,
    hyper: Vec<(&'static str, f64)>,
}

fn train_model<K: Kernel + Sync>(
    model: &Svgp<Closed<K>>,
    prior: &[f64],
    z: &[f64],
    noise_var: f64,
    x: &[f64],
    y: &[f64],
    args: &Args,
    frozen: Option<Vec<bool>>,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<Trained, svgp::Error> {
    let mut params = vec![0.0; model.n_params()];
    model.init_params(prior, z, noise_var, &mut params)?;
    let mut trainer = Trainer::new(AdamConfig::new(args.lr).with_clip(1.0), FitOptions::new(args.steps))
        .split(ThreadSplit::new(CHUNKS.min(y.len()), args.threads));
    if let Some(f) = frozen {
        trainer = trainer.freeze(&f);
    }
    let (mut losses, mut step_s) = (Vec::with_capacity(args.steps), Vec::with_capacity(args.steps));
    let start = Instant::now();
    let mut last = start;
    trainer.fit_svgp(model, &mut params, x, y, |r| {
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
    Ok(Trained { params, losses, train_s, step_ms, hyper: Vec::new() })
}

/// Predictive mean and variance of y (latent variance + noise) at `years`, in ppm.
fn predict_ppm<K: Kernel>(
    model: &Svgp<Closed<K>>,
    params: &[f64],
    (xs, ys): (&Standardizer, &Standardizer),
    years: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), svgp::Error> {
    let mut x = years.to_vec();
    xs.apply_in_place(&mut x);
    let n = x.len();
    let (mut mean, mut var) = (vec![0.0; n], vec![0.0; n]);
    let mut ws = vec![0.0; model.predict_workspace_len(n)?];
    model.predict(params, &x, &mut mean, &mut var, &mut ws)?;
    let noise = model.params(params)?.likelihood.noise_variance();
    var.iter_mut().for_each(|v| *v += noise);
    ys.invert_in_place(&mut mean, &mut var)?;
    Ok((mean, var))
}

fn finish<K: Kernel>(
    model: &Svgp<Closed<K>>,
    t: Trained,
    split: &Split,
    args: &Args,
    kernel: &'static str,
    st: (&Standardizer, &Standardizer),
    test: &Series,
) -> Result<Fit, Box<dyn std::error::Error>> {
    let (mean, var) = predict_ppm(model, &t.params, st, &test.year)?;
    let (gm, gv) = predict_ppm(model, &t.params, st, &grid())?;
    Ok(Fit {
        split: split.name,
        kernel,
        n_train: split.train.len(),
        n_test: split.test.len(),
        m: args.m,
        steps: t.losses.len(),
        rmse_ppm: rmse(&test.ppm, &mean)?,
        nlpd: gaussian_nlpd(&test.ppm, &mean, &var)?,
        coverage95: gaussian_coverage(&test.ppm, &mean, &var, 0.95)?,
        train_s: t.train_s,
        step_ms: t.step_ms,
        test_sd: var.iter().map(|v| v.sqrt()).collect(),
        test_mean: mean,
        grid_sd: gv.iter().map(|v| v.sqrt()).collect(),
        grid_mean: gm,
        noise_ppm: model.params(&t.params)?.likelihood.noise_variance().sqrt() * st.1.scale,
        hyper: t.hyper,
        final_loss: t.losses.last().copied().unwrap_or(f64::NAN),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;
    use svgp::kernel::cross_covariance;

    /// The same kernel without its closed-form adjoints: the trait's `Dual` defaults.
    #[derive(Clone, Copy, Debug)]
    struct ByDual;
    impl Kernel for ByDual {
        type Params<C> = C;
        fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
            Ok(raw)
        }
        fn input_dim(&self) -> usize {
            1
        }
        fn n_params(&self) -> usize {
            9
        }
        fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
            Co2Kernel.eval(p, x, y)
        }
    }

    #[test]
    fn adjoint_matches_dual() {
        let p = [0.3, -0.7, -2.0, -2.5, 0.2, 0.4, -4.0, -2.2, 0.3];
        let x1 = [-1.3, -0.2, 0.05, 0.9, 1.6];
        let x2 = [-1.0, 0.0, 0.07, 1.5];
        let kb: Vec<f64> = (0..20).map(|k| ((k * 7 % 11) as f64 - 5.0) / 3.0).collect();
        let mut k = vec![0.0; 20];
        cross_covariance(&Co2Kernel, &p, &x1, &x2, &mut k).unwrap();
        type Adjoint<'a> = &'a dyn Fn(&mut [f64], &mut [f64], &mut [f64]);
        let run = |kern: Adjoint| {
            let (mut gp, mut g1, mut g2) = (vec![0.0; 9], vec![0.0; 5], vec![0.0; 4]);
            kern(&mut gp, &mut g1, &mut g2);
            [gp, g1, g2].concat()
        };
        let closed = run(&|gp, g1, g2| {
            Co2Kernel.cross_covariance_adjoint(&p, &x1, &x2, &k, &kb, gp, g1, Some(g2)).unwrap()
        });
        let dual = run(&|gp, g1, g2| {
            ByDual.cross_covariance_adjoint(&p, &x1, &x2, &k, &kb, gp, g1, Some(g2)).unwrap()
        });
        for (i, (a, b)) in closed.iter().zip(&dual).enumerate() {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "entry {i}: closed {a}, dual {b}");
        }
        let (mut a, mut b) = (vec![0.0; 9], vec![0.0; 9]);
        Co2Kernel.diagonal_adjoint(&p, &x1, &kb[..5], &mut a).unwrap();
        ByDual.diagonal_adjoint(&p, &x1, &kb[..5], &mut b).unwrap();
        assert!(a.iter().zip(&b).all(|(u, v)| (u - v).abs() <= 1e-12 * v.abs().max(1.0)), "{a:?} vs {b:?}");
    }
}
