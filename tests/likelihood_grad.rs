//! Every likelihood's reverse rules against `Dual` forward mode: the per-point derivatives of
//! the expected log-likelihood (Bonnet/Price for the quadrature ones), and the full ELBO
//! gradient of an SVGP with each likelihood (closed-form and feature priors, minibatch scale,
//! no KL), including a Student-t batch whose variance adjoints have both signs (the sweep's
//! general path). The Gaussian's batch closed form against the sum of its per-point terms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::{dual_grad, grad_errors, random_params_with, reverse_grad, TestRff};
use common::oracle::dual_gradient;
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::likelihood::{BatchAdjoint, Bernoulli, GaussHermite, Gaussian, Likelihood, Poisson, StudentT};
use svgp::rng::{standard_normal, uniform, Xoshiro256};

/// (μ, s²) points with s ≤ 1, where 64 nodes make the quadrature error negligible.
const POINTS: [(f64, f64); 4] = [(0.3, 1e-4), (-0.8, 0.04), (1.2, 0.5), (-0.4, 1.0)];

/// The per-point rule against the Dual gradient of the same likelihood's value.
fn per_point<L: Likelihood>(name: &str, lik: &L, theta: &[f64], targets: &[f64], tol: f64) {
    let np = lik.n_params();
    let mut worst = 0.0_f64;
    for &(mu, s2) in &POINTS {
        for &y in targets {
            let x: Vec<f64> = [mu, s2].iter().chain(theta).copied().collect();
            let (value, g) =
                dual_gradient(|v| lik.expected_log_lik(&v[2..], svgp::Dual::constant(y), v[0], v[1]), &x);
            let mut gp = vec![0.0; np];
            let e = lik.expected_log_lik_grad(theta, y, mu, s2, &mut gp);
            assert_eq!(e.value, value, "{name}: value differs on Dual");
            let got: Vec<f64> = [e.d_mean, e.d_var].into_iter().chain(gp).collect();
            let (max_rel, _) = grad_errors(&got, &g);
            worst = worst.max(max_rel);
        }
    }
    println!("{name}: per-point rule vs Dual, max |Δ|/‖g‖∞ = {worst:.1e}");
    assert!(worst <= tol, "{name}: {worst:e}");
}

fn k64() -> GaussHermite {
    GaussHermite::new(64).unwrap()
}

#[test]
fn per_point_rules_match_dual() {
    per_point("Gaussian", &Gaussian, &[0.2_f64.ln()], &[-1.0, 0.5], 1e-14);
    per_point("Poisson", &Poisson::new(), &[], &[0.0, 2.0, 9.0], 1e-14);
    // Bonnet/Price at 64 nodes against the derivative of the 64-node sum: equal to ~1e-12.
    per_point("probit", &Bernoulli::probit().with_quadrature(k64()), &[], &[0.0, 1.0], 1e-11);
    per_point("logit", &Bernoulli::logit().with_quadrature(k64()), &[], &[0.0, 1.0], 1e-11);
    per_point(
        "Student-t",
        &StudentT::new(4.0).unwrap().with_quadrature(k64()),
        &[0.0],
        &[-1.0, 0.4, 3.0],
        1e-11,
    );
    // At the default 20 nodes the two differ by the quadrature error only (s ≤ 1 here).
    per_point("probit K = 20", &Bernoulli::probit(), &[], &[0.0, 1.0], 1e-8);
    per_point("logit K = 20", &Bernoulli::logit(), &[], &[0.0, 1.0], 1e-8);
    per_point("Student-t K = 20", &StudentT::new(4.0).unwrap(), &[0.0], &[-1.0, 0.4, 3.0], 1e-5);
}

/// Targets for a likelihood from inputs: binary labels, counts, or a regression target with
/// outliers.
fn targets(kind: &str, x: &[f64], d: usize, rng: &mut Xoshiro256) -> Vec<f64> {
    x.chunks(d)
        .enumerate()
        .map(|(i, r)| {
            let f = (3.0 * r[0]).sin() + 0.5 * r.get(1).copied().unwrap_or(0.0);
            match kind {
                "binary" => f64::from(f + 0.3 * standard_normal(rng) > 0.0),
                "counts" => {
                    // Inversion of the Poisson CDF at rate e^{1 + f}.
                    let (rate, u) = ((1.0 + f).exp(), uniform(rng, 0.0, 1.0));
                    let (mut k, mut p) = (0.0, (-rate).exp());
                    let mut cdf = p;
                    while u > cdf {
                        k += 1.0;
                        p *= rate / k;
                        cdf += p;
                    }
                    k
                }
                _ => f + 0.1 * standard_normal(rng) + if i % 3 == 0 { 4.0 } else { 0.0 },
            }
        })
        .collect()
}

/// The full ELBO gradient against Dual for `model`, on 9 points.
fn elbo_check<P: Prior, L: Likelihood>(
    model: &Svgp<P, L>,
    prior: &[f64],
    theta: &[f64],
    kind: &str,
    opts: ElboOptions,
    seed: u64,
    label: &str,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256::from_u64(seed);
    let d = model.input_dim();
    let x: Vec<f64> = (0..9 * d).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let y = targets(kind, &x, d, &mut rng);
    let p = random_params_with(model, prior, theta, &mut rng);
    let (e, g) = reverse_grad(model, &p, &x, &y, opts);
    let gd = dual_grad(model, &p, &x, &y, opts);
    let mut ws = vec![0.0; model.workspace_len(9).unwrap()];
    assert_eq!(e, model.elbo(&p, &x, &y, opts, &mut ws).unwrap(), "{label}: ELBO alone differs");
    let (max_rel, norm_rel) = grad_errors(&g, &gd);
    println!("{label}: max |Δ|/‖g‖∞ = {max_rel:.2e}, ‖Δ‖/‖g‖ = {norm_rel:.2e}");
    assert!(max_rel <= 1e-8 && norm_rel <= 1e-8, "{label}: reverse vs Dual: {max_rel:e}, {norm_rel:e}");
    let parts = model.parts(&gd).unwrap();
    for (what, r) in [("prior", parts.prior), ("Z", parts.z), ("m", parts.mean), ("L", parts.scale_tril)] {
        assert!(r.iter().any(|v| v.abs() > 1e-6), "{label}: {what} gradient is all zero");
    }
    (x, y, p)
}

fn every_option<P: Prior, L: Likelihood>(
    model: &Svgp<P, L>,
    prior: &[f64],
    theta: &[f64],
    kind: &str,
    label: &str,
) {
    for seed in 0..2 {
        elbo_check(model, prior, theta, kind, ElboOptions::default(), seed, label);
    }
    elbo_check(model, prior, theta, kind, ElboOptions::minibatch(90, 9).unwrap(), 5, label);
    elbo_check(model, prior, theta, kind, ElboOptions { scale: 3.0, include_kl: false }, 6, label);
}

#[test]
fn bernoulli_elbo_gradients_match_dual() {
    let rbf = Rbf::params(1.3, 0.6);
    for lik in [Bernoulli::probit(), Bernoulli::logit()] {
        let model = Svgp::with_likelihood(Closed(Rbf::new(2)), lik.with_quadrature(k64()), 4, 1e-6).unwrap();
        every_option(&model, &rbf, &[], "binary", &format!("{:?} RBF", lik.link()));
    }
}

#[test]
fn poisson_elbo_gradients_match_dual() {
    let model = Svgp::with_likelihood(Closed(Rbf::new(2)), Poisson::new(), 4, 1e-6).unwrap();
    every_option(&model, &Rbf::params(0.8, 0.5), &[], "counts", "Poisson RBF");
}

/// The Student-t's variance adjoints are positive where a residual exceeds √ν·σ (the
/// outliers here): the sweep takes its general product there, and must still match Dual.
#[test]
fn student_t_elbo_gradients_match_dual_on_both_paths_of_the_sweep() {
    let lik = StudentT::new(4.0).unwrap().with_quadrature(k64());
    let model = Svgp::with_likelihood(Closed(Rbf::new(2)), lik, 4, 1e-6).unwrap();
    let theta = [0.0]; // σ = 1: √ν·σ = 2, the outliers sit 4 away
    let (x, y, p) = elbo_check(
        &model,
        &Rbf::params(1.0, 0.5),
        &theta,
        "outliers",
        ElboOptions::default(),
        3,
        "Student-t",
    );
    // Both signs of v̄ occur in this batch.
    let (mut mean, mut var) = (vec![0.0; 9], vec![0.0; 9]);
    model
        .predict(&p, &x, &mut mean, &mut var, &mut vec![0.0; model.predict_workspace_len(9).unwrap()])
        .unwrap();
    let d_var: Vec<f64> =
        (0..9).map(|i| lik.expected_log_lik_grad(&theta, y[i], mean[i], var[i], &mut [0.0]).d_var).collect();
    assert!(d_var.iter().any(|&v| v > 0.0) && d_var.iter().any(|&v| v < 0.0), "v̄ signs: {d_var:?}");
    every_option(&model, &Rbf::params(1.0, 0.5), &theta, "outliers", "Student-t RBF");
    // The likelihood's own parameter gets a gradient.
    let g = reverse_grad(&model, &p, &x, &y, ElboOptions::default()).1;
    assert!(model.params(&g).unwrap().likelihood.ln_scale_squared().abs() > 1e-6);
}

#[test]
fn feature_prior_with_each_likelihood_matches_dual() {
    let map = TestRff { d: 2, j: 6 };
    let mut rng = Xoshiro256::from_u64(99);
    let mut prior = vec![0.2_f64];
    prior.extend((0..map.d * map.j).map(|_| standard_normal(&mut rng)));
    prior.extend((0..map.j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    prior.push(0.5_f64.ln());
    let bern =
        Svgp::with_likelihood(Features(map), Bernoulli::logit().with_quadrature(k64()), 4, 1e-4).unwrap();
    elbo_check(&bern, &prior, &[], "binary", ElboOptions::default(), 1, "logit features");
    let pois = Svgp::with_likelihood(Features(map), Poisson::new(), 4, 1e-4).unwrap();
    elbo_check(&pois, &prior, &[], "counts", ElboOptions::default(), 2, "Poisson features");
    let t = Svgp::with_likelihood(Features(map), StudentT::new(3.0).unwrap().with_quadrature(k64()), 4, 1e-4)
        .unwrap();
    elbo_check(&t, &prior, &[0.0], "outliers", ElboOptions::default(), 3, "Student-t features");
}

/// The Gaussian's batch closed form (the reference arithmetic) against the sum of its
/// per-point expected log-likelihoods and their derivatives, and the clip rule's adjoints.
#[test]
fn gaussian_batch_closed_form_equals_the_sum_of_its_points() {
    let mut rng = Xoshiro256::from_u64(4);
    let n = 12;
    let y: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
    let mean: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
    let mut var: Vec<f64> = (0..n).map(|_| uniform(&mut rng, 0.0, 2.0)).collect();
    (var[3], var[7]) = (0.0, -1e-12); // a tie and a clipped rounding error
    let theta = [0.3_f64.ln()];
    let scale = 2.5;
    let (mut mb, mut vb, mut pb) = (vec![0.0; n], vec![0.0; n], vec![0.0; 1]);
    let adj = BatchAdjoint { scale, mean: &mut mb, var: &mut vb, params: &mut pb };
    let ell = Gaussian.batch_expected_log_lik(&theta, &y, &mean, &var, Some(adj));
    assert_eq!(ell, Gaussian.batch_expected_log_lik(&theta, &y, &mean, &var, None));
    // The provided (per-point) batch of a wrapper that does not override it.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct PerPoint;
    impl Likelihood for PerPoint {
        type Params<C> = svgp::likelihood::GaussianParams<C>;
        fn id(&self) -> svgp::likelihood::LikelihoodId {
            svgp::likelihood::LikelihoodId::Custom
        }
        fn n_params(&self) -> usize {
            1
        }
        fn view<S: svgp::Scalar, C: svgp::layout::SliceRef<S>>(
            &self,
            raw: C,
        ) -> svgp::Result<Self::Params<C>> {
            Gaussian.view(raw)
        }
        fn init_params<S: svgp::Scalar>(&self, out: &mut [S]) -> svgp::Result<()> {
            Gaussian.init_params(out)
        }
        fn expected_log_lik<S: svgp::Scalar>(&self, p: &[S], y: S, m: S, v: S) -> S {
            Gaussian.expected_log_lik(p, y, m, v)
        }
        fn expected_log_lik_grad<S: svgp::Scalar>(
            &self,
            p: &[S],
            y: S,
            m: S,
            v: S,
            g: &mut [S],
        ) -> svgp::likelihood::ExpectedLogLik<S> {
            Gaussian.expected_log_lik_grad(p, y, m, v, g)
        }
        fn predictive<S: svgp::Scalar>(
            &self,
            p: &[S],
            m: S,
            v: S,
        ) -> svgp::Result<svgp::likelihood::Moments<S>> {
            Gaussian.predictive(p, m, v)
        }
        fn log_predictive_density<S: svgp::Scalar>(&self, p: &[S], y: S, m: S, v: S) -> S {
            Gaussian.log_predictive_density(p, y, m, v)
        }
    }
    let (mut mb2, mut vb2, mut pb2) = (vec![0.0; n], vec![0.0; n], vec![0.0; 1]);
    let adj = BatchAdjoint { scale, mean: &mut mb2, var: &mut vb2, params: &mut pb2 };
    let ell2 = PerPoint.batch_expected_log_lik(&theta, &y, &mean, &var, Some(adj));
    assert!((ell - ell2).abs() <= 1e-13 * ell.abs(), "closed form {ell} vs per point {ell2}");
    let (max_rel, _) =
        grad_errors(&[mb.clone(), vb.clone(), pb.clone()].concat(), &[mb2, vb2.clone(), pb2].concat());
    assert!(max_rel <= 1e-13, "adjoints: {max_rel:e}");
    // The clip: v̄ at the tie is half of the others (all −s/(2σ²)), below 0 none.
    assert!((vb[0] + 0.5 * scale / 0.3).abs() <= 1e-14 * vb[0].abs());
    assert!(vb.iter().enumerate().all(|(i, &v)| i == 3 || i == 7 || v == vb[0]));
    assert_eq!((vb[3], vb2[3], vb[7], vb2[7]), (0.5 * vb[0], 0.5 * vb[0], 0.0, 0.0));
}
