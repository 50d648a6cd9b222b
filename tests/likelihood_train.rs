//! The likelihoods end to end: targets refused with their index and value at every entry point,
//! and training with each likelihood through the public paths (the one-call trainer, the
//! split ELBO on threads, the minibatch objective), judged against the known truth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::Rbf;
use svgp::likelihood::{Bernoulli, Poisson, StudentT};
use svgp::rng::{uniform, Xoshiro256};
use svgp::Error;

fn line(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..n).map(|_| uniform(&mut rng, -1.0, 1.0)).collect()
}

fn z_grid(m: usize) -> Vec<f64> {
    (0..m).map(|i| -1.0 + 2.0 * i as f64 / (m - 1) as f64).collect()
}

#[test]
fn bad_targets_are_typed_errors_naming_index_and_value() {
    let x = [-0.5, 0.0, 0.5, 0.9];
    let bern = Svgp::with_likelihood(Closed(Rbf::new(1)), Bernoulli::logit(), 2, 1e-6).unwrap();
    let mut p = vec![0.0; bern.n_params()];
    bern.init(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], &mut p).unwrap();
    let mut ws = vec![0.0; bern.workspace_len(4).unwrap()];
    let want = Error::InvalidTarget { what: "Bernoulli target (must be 0 or 1)", index: 2, value: -1.0 };
    let y = [0.0, 1.0, -1.0, 1.0]; // ±1 labels are refused: the convention is {0, 1}
    assert_eq!(bern.elbo(&p, &x, &y, ElboOptions::default(), &mut ws), Err(want));
    let mut g = vec![0.0; p.len()];
    assert_eq!(bern.elbo_and_grad(&p, &x, &y, ElboOptions::default(), &mut g, &mut ws), Err(want));
    assert_eq!(svgp::objective::FullBatchElbo::new(&bern, &x, &y, &mut ws[..]).unwrap_err(), want);
    let mut lws = vec![0.0; bern.log_predictive_workspace_len(4).unwrap()];
    assert_eq!(bern.nlpd(&p, &x, &y, &mut lws), Err(want));
    let mut out = [0.0; 4];
    assert_eq!(bern.log_predictive_density(&p, &x, &y, &mut out, &mut lws), Err(want));
    assert_eq!(
        want.to_string(),
        "invalid target -1 at index 2: Bernoulli target (must be 0 or 1)",
        "the message names the value, the index and the rule"
    );
    // A NaN target is a non-finite datum, named as such.
    let nan = bern.elbo(&p, &x, &[0.0, f64::NAN, 1.0, 1.0], ElboOptions::default(), &mut ws).unwrap_err();
    assert!(matches!(nan, Error::NonFinite { what: "targets y", index: 1, .. }), "{nan:?}");

    let pois = Svgp::with_likelihood(Closed(Rbf::new(1)), Poisson::new(), 2, 1e-6).unwrap();
    let mut q = vec![0.0; pois.n_params()];
    pois.init(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], &mut q).unwrap();
    for (y, index, value) in [([0.0, 2.0, 3.0, 2.5], 3, 2.5), ([0.0, -1.0, 3.0, 1.0], 1, -1.0)] {
        match pois.elbo(&q, &x, &y, ElboOptions::default(), &mut ws) {
            Err(Error::InvalidTarget { index: i, value: v, what }) => {
                assert_eq!((i, v), (index, value));
                assert!(what.contains("non-negative integer"), "{what}");
            }
            other => panic!("expected an invalid target, got {other:?}"),
        }
    }
    // The Gaussian and the Student-t take any finite target.
    let t = Svgp::with_likelihood(Closed(Rbf::new(1)), StudentT::new(4.0).unwrap(), 2, 1e-6).unwrap();
    let mut r = vec![0.0; t.n_params()];
    t.init(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], &mut r).unwrap();
    assert!(t.elbo(&r, &x, &[-3.5, 0.25, 1e3, 7.0], ElboOptions::default(), &mut ws).unwrap().is_finite());
}

/// Labels sign(sin 3x) with 5 % flipped, x uniform on [−1, 1].
#[cfg(feature = "alloc")]
fn classes(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let x = line(n, seed);
    let mut rng = Xoshiro256::from_u64(seed + 100);
    let y = x
        .iter()
        .map(|&v| {
            let c = f64::from((3.0 * v).sin() > 0.0);
            if uniform(&mut rng, 0.0, 1.0) < 0.05 {
                1.0 - c
            } else {
                c
            }
        })
        .collect();
    (x, y)
}

#[cfg(feature = "alloc")]
#[test]
fn bernoulli_classifiers_learn_the_boundary() {
    use core::ops::ControlFlow;
    use svgp::optim::AdamConfig;
    use svgp::train::{FitOptions, Trainer};
    let (x, y) = classes(150, 1);
    let xt: Vec<f64> = (0..200).map(|i| -0.995 + 0.01 * i as f64).collect();
    let truth: Vec<f64> = xt.iter().map(|&v| f64::from((3.0 * v).sin() > 0.0)).collect();
    for lik in [Bernoulli::probit(), Bernoulli::logit()] {
        let model = Svgp::with_likelihood(Closed(Rbf::new(1)), lik, 10, 1e-6).unwrap();
        let mut p = vec![0.0; model.n_params()];
        model.init(&Rbf::params(1.0, 0.3), &z_grid(10), &mut p).unwrap();
        let mut ws = vec![0.0; model.log_predictive_workspace_len(200).unwrap()];
        let nlpd0 = model.nlpd(&p, &xt, &truth, &mut ws).unwrap();
        let t = Trainer::new(AdamConfig::new(0.03).with_clip(1.0), FitOptions::new(400));
        t.fit_svgp(&model, &mut p, &x, &y, |_| ControlFlow::Continue(())).unwrap();
        let (mut prob, mut var) = (vec![0.0; 200], vec![0.0; 200]);
        let mut pws = vec![0.0; model.predict_workspace_len(200).unwrap()];
        model.predict_y(&p, &xt, &mut prob, &mut var, &mut pws).unwrap();
        let acc = prob.iter().zip(&truth).filter(|(q, c)| f64::from(**q > 0.5) == **c).count() as f64 / 200.0;
        let nlpd = model.nlpd(&p, &xt, &truth, &mut ws).unwrap();
        println!("{:?}: accuracy {acc:.3}, NLPD {nlpd0:.3} → {nlpd:.3}", lik.link());
        assert!(acc >= 0.93, "{:?}: accuracy {acc}", lik.link());
        assert!((nlpd0 - 2.0_f64.ln()).abs() < 1e-9 && nlpd < 0.4, "{:?}: NLPD {nlpd0} → {nlpd}", lik.link());
        assert!(prob
            .iter()
            .zip(&var)
            .all(|(q, v)| (0.0..=1.0).contains(q) && (v - q * (1.0 - q)).abs() < 1e-12));
    }
}

/// The split ELBO and the split trainer work for a non-Gaussian likelihood as for the
/// Gaussian: the same bits on one thread or two, the whole-batch ELBO up to rounding.
#[cfg(feature = "std")]
#[test]
fn split_elbo_and_trainer_with_a_bernoulli_likelihood() {
    use core::ops::ControlFlow;
    use svgp::optim::AdamConfig;
    use svgp::parallel::{with_split_elbo, Split};
    use svgp::train::{FitOptions, Trainer};
    let (x, y) = classes(90, 2);
    let model = Svgp::with_likelihood(Closed(Rbf::new(1)), Bernoulli::probit(), 6, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init(&Rbf::params(1.0, 0.3), &z_grid(6), &mut p).unwrap();
    model.params_mut(&mut p).unwrap().mean.copy_from_slice(&[0.3, -0.2, 0.5, 0.1, -0.4, 0.2]);
    let opts = ElboOptions::default();
    let run = |threads| {
        let mut g = vec![0.0; p.len()];
        let e =
            with_split_elbo(&model, &x, &y, opts, Split::new(3, threads), |s| s.elbo_and_grad(&p, &mut g))
                .unwrap()
                .unwrap();
        (e, g)
    };
    let (two, one) = (run(2), run(1));
    assert_eq!(two, one);
    let mut ws = vec![0.0; model.workspace_len(90).unwrap()];
    let mut g = vec![0.0; p.len()];
    let whole = model.elbo_and_grad(&p, &x, &y, opts, &mut g, &mut ws).unwrap();
    assert!((two.0 - whole).abs() <= 1e-12 * whole.abs());
    assert!(common::oracle::grad_errors(&two.1, &g).0 <= 1e-12);
    // The split trainer: bit-identical on 1 and 2 threads.
    let recipe = Trainer::new(AdamConfig::new(0.02), FitOptions::new(15));
    let mut q = p.clone();
    recipe
        .clone()
        .split(Split::new(2, 2))
        .fit_svgp(&model, &mut p, &x, &y, |_| ControlFlow::Continue(()))
        .unwrap();
    recipe.split(Split::new(2, 1)).fit_svgp(&model, &mut q, &x, &y, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(p, q);
    // Bad labels are refused before the team starts, with their index in the whole data set.
    let mut bad = y.clone();
    bad[77] = 0.5;
    let e = with_split_elbo(&model, &x, &bad, opts, Split::new(3, 2), |_| ()).unwrap_err();
    assert!(matches!(e, Error::InvalidTarget { index: 77, .. }), "{e:?}");
}

/// Poisson counts at rate e^{1 + sin 3x}, trained by minibatches of 50 out of 400: the
/// predicted rate E[y] = e^{μ + s²/2} is close to the truth.
#[test]
fn poisson_minibatch_training_recovers_the_rate() {
    use core::ops::ControlFlow;
    use svgp::batch::{Minibatch, MinibatchElbo, SliceSource};
    use svgp::optim::{Adam, AdamConfig};
    use svgp::train::fit;
    let n = 400;
    let x = line(n, 3);
    let rate = |v: f64| (1.0 + (3.0 * v).sin()).exp();
    let mut rng = Xoshiro256::from_u64(33);
    let y: Vec<f64> = x
        .iter()
        .map(|&v| {
            let (lam, u) = (rate(v), uniform(&mut rng, 0.0, 1.0));
            let (mut k, mut pk) = (0.0, (-lam).exp());
            let mut cdf = pk;
            while u > cdf {
                k += 1.0;
                pk *= lam / k;
                cdf += pk;
            }
            k
        })
        .collect();
    let model = Svgp::with_likelihood(Closed(Rbf::new(1)), Poisson::new(), 10, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init(&Rbf::params(1.0, 0.3), &z_grid(10), &mut p).unwrap();
    let mb = Minibatch::new(n, 50).unwrap();
    let src = SliceSource::new(&x, &y, 1, Xoshiro256::from_u64(4)).unwrap();
    let mut ws = vec![0.0; mb.workspace_len(&model).unwrap()];
    let mut obj = MinibatchElbo::new(model, mb, src, &mut ws).unwrap();
    let (mut g, mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()], vec![0.0; p.len()]);
    let mut adam = Adam::new(AdamConfig::new(0.02).with_clip(10.0), &mut mu, &mut nu).unwrap();
    fit(&mut obj, &mut p, &mut g, &mut adam, 800, |_| ControlFlow::Continue(())).unwrap();
    let xt: Vec<f64> = (0..100).map(|i| -0.99 + 0.02 * i as f64).collect();
    let (mut m, mut v) = (vec![0.0; 100], vec![0.0; 100]);
    model
        .predict_y(&p, &xt, &mut m, &mut v, &mut vec![0.0; model.predict_workspace_len(100).unwrap()])
        .unwrap();
    let rmse = (xt.iter().zip(&m).map(|(&t, &r)| (r - rate(t)).powi(2)).sum::<f64>() / 100.0).sqrt();
    let mean_rate = xt.iter().map(|&t| rate(t)).sum::<f64>() / 100.0;
    println!("Poisson: rate RMSE {rmse:.3} (mean rate {mean_rate:.2})");
    assert!(rmse < 0.15 * mean_rate, "rate RMSE {rmse}");
    // The count's variance exceeds its mean (the latent's uncertainty adds to Poisson noise).
    assert!(m.iter().zip(&v).all(|(a, b)| b >= a));
}

/// Robust regression: 15 % of the targets shifted up by 4. A Student-t SVGP ignores them; a
/// Gaussian one is dragged towards them.
#[cfg(feature = "alloc")]
#[test]
fn student_t_regression_resists_outliers_the_gaussian_does_not() {
    use core::ops::ControlFlow;
    use svgp::optim::AdamConfig;
    use svgp::rng::standard_normal;
    use svgp::train::{FitOptions, Trainer};
    let n = 150;
    let x = line(n, 5);
    let mut rng = Xoshiro256::from_u64(55);
    let y: Vec<f64> = x
        .iter()
        .map(|&v| {
            let outlier = if uniform(&mut rng, 0.0, 1.0) < 0.15 { 4.0 } else { 0.0 };
            (3.0 * v).sin() + 0.1 * standard_normal(&mut rng) + outlier
        })
        .collect();
    let xt: Vec<f64> = (0..100).map(|i| -0.99 + 0.02 * i as f64).collect();
    let rmse = |mean: &[f64]| {
        (xt.iter().zip(mean).map(|(&t, &m)| (m - (3.0 * t).sin()).powi(2)).sum::<f64>() / 100.0).sqrt()
    };
    let trainer = Trainer::new(AdamConfig::new(0.02).with_clip(10.0), FitOptions::new(600));
    let gauss = Svgp::new(Closed(Rbf::new(1)), 12, 1e-6).unwrap();
    let mut pg = vec![0.0; gauss.n_params()];
    gauss.init_params(&Rbf::params(1.0, 0.3), &z_grid(12), 0.1, &mut pg).unwrap();
    trainer.fit_svgp(&gauss, &mut pg, &x, &y, |_| ControlFlow::Continue(())).unwrap();
    let t = Svgp::with_likelihood(Closed(Rbf::new(1)), StudentT::new(4.0).unwrap(), 12, 1e-6).unwrap();
    let mut pt = vec![0.0; t.n_params()];
    t.init(&Rbf::params(1.0, 0.3), &z_grid(12), &mut pt).unwrap();
    trainer.fit_svgp(&t, &mut pt, &x, &y, |_| ControlFlow::Continue(())).unwrap();
    let (mut mg, mut mt, mut v) = (vec![0.0; 100], vec![0.0; 100], vec![0.0; 100]);
    let mut ws = vec![0.0; gauss.predict_workspace_len(100).unwrap()];
    gauss.predict(&pg, &xt, &mut mg, &mut v, &mut ws).unwrap();
    t.predict(&pt, &xt, &mut mt, &mut v, &mut ws).unwrap();
    let (rg, rt) = (rmse(&mg), rmse(&mt));
    let scale = t.params(&pt).unwrap().likelihood.scale();
    println!("outliers: RMSE to the truth: Gaussian {rg:.3}, Student-t {rt:.3} (scale σ = {scale:.3})");
    assert!(rt < 0.1 && rt < 0.3 * rg, "Student-t {rt}, Gaussian {rg}");
    assert!((0.05..0.3).contains(&scale), "learned Student-t scale {scale}");
}
