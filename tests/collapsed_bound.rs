//! The collapsed (Titsias) bound: its reverse sweep against Dual forward mode, equality with
//! the ELBO at the optimal guide it writes (and the bound above it elsewhere), the exact GP
//! log marginal likelihood with Z = X, and typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::{data, random_params, DualOnlyRbf, TestRff};
use common::oracle::{dual_gradient, grad_errors, D8};
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::{cross_covariance, Rbf};
use svgp::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, Side};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::Error;

const N: usize = 8;

fn check<P: Prior>(model: &Svgp<P>, prior: &[f64], seed: u64, label: &str) {
    let mut rng = Xoshiro256::from_u64(seed);
    let (x, y) = data(&mut rng, N, model.input_dim());
    let p = random_params(model, prior, &mut rng);
    let mut ws = vec![0.0; model.collapsed_workspace_len(N).unwrap()];
    let mut g = vec![0.0; p.len()];
    let e = model.collapsed_elbo_and_grad(&p, &x, &y, &mut g, &mut ws).unwrap();
    let xd: Vec<D8> = x.iter().map(|&v| D8::constant(v)).collect();
    let yd: Vec<D8> = y.iter().map(|&v| D8::constant(v)).collect();
    let mut wd = vec![D8::default(); model.collapsed_workspace_len(N).unwrap()];
    let (ed, gd) = dual_gradient(|pd| model.collapsed_elbo(pd, &xd, &yd, &mut wd).unwrap(), &p);
    assert!((e - ed).abs() <= 1e-12 * e.abs(), "{label}: bound {e} vs Dual {ed}");
    let (max_rel, norm_rel) = grad_errors(&g, &gd);
    println!("{label}: max |Δ|/‖g‖∞ = {max_rel:.2e}, ‖Δ‖/‖g‖ = {norm_rel:.2e}");
    assert!(max_rel <= 1e-8 && norm_rel <= 1e-8, "{label}: reverse vs Dual: {max_rel:e}, {norm_rel:e}");
    let (gv, dv) = (model.parts(&g).unwrap(), model.parts(&gd).unwrap());
    for (what, r) in [("prior", dv.prior), ("Z", dv.z), ("noise", dv.likelihood)] {
        assert!(r.iter().any(|v| v.abs() > 1e-6), "{label}: {what} gradient is all zero");
    }
    // The guide does not enter the bound: zero in both.
    assert!(gv.mean.iter().chain(gv.scale_tril).chain(dv.mean).chain(dv.scale_tril).all(|&v| v == 0.0));
}

#[test]
fn rbf_reverse_sweep_matches_dual() {
    let model = Svgp::new(Closed(Rbf::new(2)), 4, 1e-6).unwrap();
    for seed in 0..3 {
        check(&model, &Rbf::params(1.3, 0.6), seed, "rbf");
    }
}

#[test]
fn dual_default_kernel_matches_dual() {
    let model = Svgp::new(Closed(DualOnlyRbf(Rbf::new(3))), 5, 1e-6).unwrap();
    check(&model, &Rbf::params(1.1, 0.7), 3, "dual-default kernel");
}

#[test]
fn feature_kernel_reverse_sweep_matches_dual() {
    let map = TestRff { d: 2, j: 6 };
    let model = Svgp::new(Features(map), 4, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(99);
    let mut prior = vec![0.2_f64];
    prior.extend((0..map.d * map.j).map(|_| standard_normal(&mut rng)));
    prior.extend((0..map.j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    prior.push(0.5_f64.ln());
    for seed in 0..3 {
        check(&model, &prior, seed, "feature kernel");
    }
}

#[test]
fn bound_equals_the_elbo_at_the_optimal_guide_and_exceeds_it_elsewhere() {
    let model = Svgp::new(Closed(Rbf::new(2)), 6, 1e-6).unwrap();
    for seed in 0..3 {
        let mut rng = Xoshiro256::from_u64(10 + seed);
        let (x, y) = data(&mut rng, 40, 2);
        let mut p = random_params(&model, &Rbf::params(0.8, 0.4), &mut rng);
        let mut cws = vec![0.0; model.collapsed_workspace_len(40).unwrap()];
        let mut ws = vec![0.0; model.workspace_len(40).unwrap()];
        let bound = model.collapsed_elbo(&p, &x, &y, &mut cws).unwrap();
        let elsewhere = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws).unwrap();
        assert!(bound > elsewhere);
        let before = p.clone();
        assert_eq!(model.optimal_guide(&mut p, &x, &y, &mut cws).unwrap(), bound);
        let elbo = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws).unwrap();
        let rel = (elbo - bound).abs() / bound.abs();
        println!("seed {seed}: bound {bound:.10}, ELBO at the optimal guide {elbo:.10}, rel {rel:.1e}");
        assert!(rel <= 1e-12, "bound {bound} vs ELBO {elbo}");
        // Only the guide was written.
        let (a, b) = (model.parts(&p).unwrap(), model.parts(&before).unwrap());
        assert_eq!((a.prior, a.z, a.likelihood), (b.prior, b.z, b.likelihood));
        // Every nearby guide is worse.
        let mut q = p.clone();
        model.params_mut(&mut q).unwrap().scale_tril.set(3, 1, 0.05);
        assert!(model.elbo(&q, &x, &y, ElboOptions::default(), &mut ws).unwrap() < elbo);
    }
}

#[test]
fn with_z_equal_to_x_the_bound_is_the_exact_log_marginal_likelihood() {
    // Z = X, RBF: the collapsed bound is log N(y | 0, K + σ²I) up to the jitter.
    let (n, noise, jitter) = (20, 0.1, 1e-9);
    let mut rng = Xoshiro256::from_u64(17);
    let (x, y) = data(&mut rng, n, 2);
    let kern = Rbf::params(1.2, 0.5);
    let model = Svgp::new(Closed(Rbf::new(2)), n, jitter).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&kern, &x, noise, &mut p).unwrap();
    let mut k = vec![0.0; n * n];
    cross_covariance(&Rbf::new(2), &kern, &x, &x, &mut k).unwrap();
    (0..n).for_each(|i| k[i * n + i] += noise);
    cholesky_in_place(MatMut::new(n, n, &mut k).unwrap(), Jitter::Fixed(0.0)).unwrap();
    let mut alpha = y.clone();
    solve_triangular(MatRef::new(n, n, &k).unwrap(), Side::Lower, MatMut::new(n, 1, &mut alpha).unwrap())
        .unwrap();
    let lml = -0.5 * alpha.iter().map(|v| v * v).sum::<f64>()
        - (0..n).map(|i| k[i * n + i].ln()).sum::<f64>()
        - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let mut ws = vec![0.0; model.collapsed_workspace_len(n).unwrap()];
    let bound = model.collapsed_elbo(&p, &x, &y, &mut ws).unwrap();
    let rel = (bound - lml).abs() / lml.abs();
    println!("collapsed bound {bound}, exact log marginal likelihood {lml}, rel {rel:.2e}");
    assert!(rel <= 1e-6, "collapsed bound vs exact LML: rel {rel:e}");
}

#[test]
fn bad_data_is_a_typed_error_and_leaves_the_parameters_alone() {
    let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p).unwrap();
    let mut ws = vec![0.0; model.collapsed_workspace_len(4).unwrap()];
    let x = [0.1, 0.2, 0.3, 0.4];
    let before = p.clone();
    assert!(model.collapsed_elbo(&p, &[], &[], &mut ws).is_err());
    assert!(matches!(
        model.optimal_guide(&mut p, &x, &[0.0, f64::NAN, 0.0, 0.0], &mut ws),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(model.optimal_guide(&mut p, &x, &[1e300; 4], &mut ws), Err(Error::NonFinite { .. })));
    assert_eq!(p, before);
    let mut g = vec![0.0; p.len() - 1];
    assert!(matches!(
        model.collapsed_elbo_and_grad(&p, &x, &[0.0; 4], &mut g, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        model.collapsed_elbo(&p, &x, &[0.0; 4], &mut ws[..3]),
        Err(Error::BufferTooSmall { .. })
    ));
}
