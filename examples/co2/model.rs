//! The CO₂ model: an SVGP on standardised years and standardised ppm, its kernel, its
//! training and its predictions back in ppm.

use core::ops::ControlFlow;
use std::time::Instant;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{Kernel, PairParams, Periodic, Product, RationalQuadratic, Rbf, Sum};
use svgp::metrics::{gaussian_coverage, gaussian_nlpd, rmse, Standardizer};
use svgp::optim::AdamConfig;
use svgp::parallel::Split as ThreadSplit;
use svgp::train::{FitOptions, Trainer};

use super::args::{Args, KernelChoice};
use super::data::{Series, Split};

/// K_zz jitter.
pub const JITTER: f64 = 1e-6;
/// Fixed chunks the training data are evaluated in: the numbers depend on this count only.
pub const CHUNKS: usize = 2;
/// Initial noise standard deviation, in ppm.
const NOISE_PPM: f64 = 0.3;

/// Initial hyperparameters of [`co2_kernel`] in ppm and years: trend sd and lengthscale,
/// seasonal sd, period, periodic lengthscale (unitless), seasonal decay, RQ sd, lengthscale, α.
const CO2_INIT: [f64; 9] = [16.0, 50.0, 3.7, 1.0, 1.0, 60.0, 1.2, 1.0, 1.0];

/// The composite kernel: RBF trend + periodic × RBF (the seasonal cycle, its shape drifting
/// slowly) + rational quadratic (medium-term irregularities), on one input,
///
/// k(r) = σ²_t e^{−r²/2ℓ_t²} + σ²_s e^{−2 sin²(πr/p)/ℓ_p²} · σ²_d e^{−r²/2ℓ_d²} + σ²_q (1 + r²/2αℓ_q²)^{−α},
///
/// built from the crate's kernel algebra (closed-form blocks and reverse rules for every part).
/// Its parameters, all logarithms, are the parts' side by side:
/// `[σ²_t, ℓ_t | σ²_s, p, ℓ_p | σ²_d, ℓ_d | σ²_q, ℓ_q, α]`; σ²_d only rescales σ²_s, so it
/// stays frozen at 1 ([`FROZEN`]).
pub type Co2Kernel = Sum<Sum<Rbf, Product<Periodic, Rbf>>, RationalQuadratic>;

/// The one-input [`Co2Kernel`].
pub fn co2_kernel() -> Co2Kernel {
    Sum(Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1))), RationalQuadratic::new(1))
}

/// Indices of [`Co2Kernel`]'s parameters kept at their initial values: ln period (one year) and
/// the decay's ln σ²_d (0, as the seasonal variance carries the scale).
pub const FROZEN: [usize; 2] = [3, 5];

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
    let (mut x, mut y) = (train.year.clone(), train.ppm.clone());
    xs.apply_in_place(&mut x);
    ys.apply_in_place(&mut y);
    let z = inducing(&x, args.m);
    let noise_var = (NOISE_PPM / ys.scale).powi(2);
    match args.kernel {
        KernelChoice::Co2 => {
            let h = CO2_INIT;
            let var = |sd: f64| (sd / ys.scale).powi(2); // a variance given as a sd in ppm
            let prior = [
                &Rbf::params(var(h[0]), year(h[1]))[..],
                &Periodic::new(1).params(var(h[2]), &[year(h[3])], &[h[4]])?,
                &Rbf::params(1.0, year(h[5])),
                &RationalQuadratic::new(1).params(var(h[6]), &[year(h[7])], h[8])?,
            ]
            .concat();
            let model = Svgp::new(Closed(co2_kernel()), args.m, JITTER)?;
            let mut frozen = vec![false; model.n_params()];
            let frozen_prior = model.parts_mut(&mut frozen)?.prior;
            FROZEN.iter().for_each(|&i| frozen_prior[i] = true);

            let mut t = train_model(&model, &prior, &z, noise_var, &x, &y, args, Some(frozen), on_step)?;
            let p = model.params(&t.params)?.prior;
            let PairParams(PairParams(trend, PairParams(seas, decay)), rq) = p;
            let sd = |v: f64| v.sqrt() * ys.scale;
            t.hyper = vec![
                ("trend sd (ppm)", sd(trend.variance())),
                ("trend lengthscale (yr)", trend.lengthscale() * xs.scale),
                ("seasonal sd (ppm)", sd(seas.variance() * decay.variance())),
                ("period (yr)", seas.period(0) * xs.scale),
                ("periodic lengthscale", seas.lengthscale(0)),
                ("seasonal decay (yr)", decay.lengthscale() * xs.scale),
                ("rq sd (ppm)", sd(rq.ard.variance())),
                ("rq lengthscale (yr)", rq.ard.lengthscale(0) * xs.scale),
                ("rq alpha", rq.alpha()),
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

    /// The composite is the formula in [`Co2Kernel`]'s documentation, written out here, and
    /// [`FROZEN`] names ln period and the decay's ln σ²_d.
    #[test]
    fn composite_is_the_co2_formula() {
        let k = co2_kernel();
        let p = [0.3, -0.7, -2.0, -2.5, 0.2, 0.1, 0.4, -4.0, -2.2, 0.3];
        let e = |i: usize| f64::exp(p[i]);
        for (a, b) in [(0.0, 0.0), (-1.3, 0.9), (0.05, 0.07), (2.0, -1.5)] {
            let r: f64 = a - b;
            let r2 = r * r;
            let s = (std::f64::consts::PI * r / e(3)).sin();
            let want = e(0) * (-0.5 * r2 / (e(1) * e(1))).exp()
                + e(2) * (-2.0 * s * s / (e(4) * e(4))).exp() * e(5) * (-0.5 * r2 / (e(6) * e(6))).exp()
                + e(7) * (1.0 + r2 / (2.0 * e(9) * e(8) * e(8))).powf(-e(9));
            let got = k.eval(&p, &[a], &[b]);
            assert!((got - want).abs() <= 1e-14 * want.abs().max(1.0), "r = {r}: {got} vs {want}");
        }
        let mut raw = vec![0.0_f64; k.n_params()];
        FROZEN.iter().for_each(|&i| raw[i] = 1.0);
        let v = k.view(&raw[..]).unwrap();
        assert!((v.0 .1 .0.period(0) - 1f64.exp()).abs() < 1e-15);
        assert!((v.0 .1 .1.variance() - 1f64.exp()).abs() < 1e-15);
    }
}
