//! The reverse sweep against chunked Dual forward mode (the oracle), f64, small problems.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::*;
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::rng::{standard_normal, uniform, Xoshiro256};

fn check<P: Prior>(model: &Svgp<P>, prior: &[f64], seed: u64, opts: ElboOptions, label: &str) {
    let mut rng = Xoshiro256::from_u64(seed);
    let (x, y) = data(&mut rng, 7, model.input_dim());
    let p = random_params(model, prior, &mut rng);
    let (e, g) = reverse_grad(model, &p, &x, &y, opts);
    let gd = dual_grad(model, &p, &x, &y, opts);
    let mut ws = vec![svgp::Dual::<f64, 8>::default(); model.workspace_len(7).unwrap()];
    let pd: Vec<_> = p.iter().map(|&v| svgp::Dual::<f64, 8>::constant(v)).collect();
    let xd: Vec<_> = x.iter().map(|&v| svgp::Dual::<f64, 8>::constant(v)).collect();
    let yd: Vec<_> = y.iter().map(|&v| svgp::Dual::<f64, 8>::constant(v)).collect();
    let ed = model.elbo(&pd, &xd, &yd, opts, &mut ws).unwrap();
    assert!((e - ed.re).abs() <= 1e-12 * e.abs(), "{label}: ELBO {e} vs Dual {}", ed.re);
    let (max_rel, norm_rel) = grad_errors(&g, &gd);
    println!("{label}: max |Δ|/‖g‖∞ = {max_rel:.2e}, ‖Δ‖/‖g‖ = {norm_rel:.2e}");
    assert!(max_rel <= 1e-8 && norm_rel <= 1e-8, "{label}: reverse vs Dual: {max_rel:e}, {norm_rel:e}");
    // Every block of the layout has a non-zero gradient (the check covers them all).
    let parts = model.parts(&gd).unwrap();
    for (what, r) in [("prior", parts.prior), ("Z", parts.z), ("m", parts.mean), ("L", parts.scale_tril)] {
        assert!(r.iter().any(|v| v.abs() > 1e-6), "{label}: {what} gradient is all zero");
    }
}

#[test]
fn rbf_reverse_sweep_matches_dual() {
    let model = Svgp::new(Closed(Rbf::new(2)), 4, 1e-6).unwrap();
    for seed in 0..3 {
        check(&model, &Rbf::params(1.3, 0.6), seed, ElboOptions::default(), "rbf");
    }
}

#[test]
fn rbf_minibatch_scale_and_no_kl_match_dual() {
    let model = Svgp::new(Closed(Rbf::new(2)), 4, 1e-6).unwrap();
    check(&model, &Rbf::params(0.8, 0.4), 11, ElboOptions::minibatch(70, 7).unwrap(), "rbf s=10");
    check(&model, &Rbf::params(0.8, 0.4), 12, ElboOptions { scale: 3.0, include_kl: false }, "rbf no KL");
}

#[test]
fn dual_default_kernel_adjoint_matches_dual() {
    // A kernel without a closed-form adjoint goes through the Dual fallback end to end.
    let model = Svgp::new(Closed(DualOnlyRbf(Rbf::new(3))), 5, 1e-6).unwrap();
    check(&model, &Rbf::params(1.1, 0.7), 3, ElboOptions::default(), "dual-default kernel");
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
        check(&model, &prior, seed, ElboOptions::default(), "feature kernel");
    }
}

#[test]
fn rbf_closed_form_adjoint_matches_dual_default() {
    let mut rng = Xoshiro256::from_u64(5);
    let (k, kd) = (Rbf::new(2), DualOnlyRbf(Rbf::new(2)));
    let params = Rbf::params(1.7, 0.45);
    let x1: Vec<f64> = (0..10).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let mut x2: Vec<f64> = (0..8).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    x2[..2].copy_from_slice(&x1[..2]); // one coincident pair: r² = 0 exactly
    let mut kv = vec![0.0; 20];
    svgp::kernel::cross_covariance(&k, &params, &x1, &x2, &mut kv).unwrap();
    let kbar: Vec<f64> = (0..20).map(|_| standard_normal(&mut rng)).collect();
    type Adjoint<'a> = &'a dyn Fn(&mut [f64], &mut [f64], &mut [f64]);
    let run = |kern: Adjoint| {
        let (mut gp, mut g1, mut g2) = (vec![0.0; 2], vec![0.0; 10], vec![0.0; 8]);
        kern(&mut gp, &mut g1, &mut g2);
        [gp, g1, g2].concat()
    };
    let a = run(&|gp, g1, g2| {
        k.cross_covariance_adjoint(&params, &x1, &x2, &kv, &kbar, gp, g1, Some(g2)).unwrap()
    });
    let b = run(&|gp, g1, g2| {
        kd.cross_covariance_adjoint(&params, &x1, &x2, &kv, &kbar, gp, g1, Some(g2)).unwrap()
    });
    let (max_rel, _) = grad_errors(&a, &b);
    assert!(max_rel <= 1e-13, "closed-form RBF adjoint vs Dual default: {max_rel:e}");
    let wd: Vec<f64> = (0..5).map(|_| standard_normal(&mut rng)).collect();
    let (mut ga, mut gb) = (vec![0.0; 2], vec![0.0; 2]);
    k.diagonal_adjoint(&params, &x1, &wd, &mut ga).unwrap();
    kd.diagonal_adjoint(&params, &x1, &wd, &mut gb).unwrap();
    assert!(grad_errors(&ga, &gb).0 <= 1e-14);
}

#[test]
fn deep_kernel_reverse_sweep_matches_dual() {
    use svgp::features::DeepRff;
    use svgp::nn::{Activation, Mlp};
    let map = DeepRff::new(Mlp::equinox(2, 3, 2, 2, Activation::Tanh).unwrap(), 6).unwrap();
    let model = Svgp::new(Features(map), 4, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(2024);
    let mut prior = vec![0.0_f64; model.prior().n_params()];
    let parts = model.prior().parts(&mut prior[..]).unwrap();
    parts.ln_variance[0] = 0.3;
    map.init(&mut rng, 0.5, parts.map).unwrap();
    for seed in 0..3 {
        check(&model, &prior, 40 + seed, ElboOptions::default(), "deep kernel");
    }
}

/// Forward over reverse: the reverse sweep run on Dual numbers gives H·v, checked against
/// central differences of the f64 gradient along v.
fn check_hvp<P: Prior>(model: &Svgp<P>, prior: &[f64], seed: u64, label: &str) {
    use svgp::Dual;
    let mut rng = Xoshiro256::from_u64(seed);
    let (x, y) = data(&mut rng, 7, model.input_dim());
    let p = random_params(model, prior, &mut rng);
    let v: Vec<f64> = (0..p.len()).map(|_| standard_normal(&mut rng)).collect();
    let pd: Vec<Dual<f64, 1>> = p.iter().zip(&v).map(|(&a, &b)| Dual::new(a, [b])).collect();
    let xd: Vec<Dual<f64, 1>> = x.iter().map(|&a| Dual::constant(a)).collect();
    let yd: Vec<Dual<f64, 1>> = y.iter().map(|&a| Dual::constant(a)).collect();
    let mut ws = vec![Dual::<f64, 1>::default(); model.workspace_len(7).unwrap()];
    let mut gd = vec![Dual::<f64, 1>::default(); p.len()];
    model.elbo_and_grad(&pd, &xd, &yd, ElboOptions::default(), &mut gd, &mut ws).unwrap();
    let hv: Vec<f64> = gd.iter().map(|g| g.eps[0]).collect();
    let h = 1e-5;
    let shifted = |s: f64| {
        let q: Vec<f64> = p.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        reverse_grad(model, &q, &x, &y, ElboOptions::default()).1
    };
    let (gp, gm) = (shifted(h), shifted(-h));
    let fd: Vec<f64> = gp.iter().zip(&gm).map(|(a, b)| (a - b) / (2.0 * h)).collect();
    let (_, norm_rel) = grad_errors(&hv, &fd);
    println!("{label}: H·v forward-over-reverse vs central differences: ‖Δ‖/‖Hv‖ = {norm_rel:.2e}");
    assert!(norm_rel <= 1e-5, "{label}: {norm_rel:e}");
    // The value part is the f64 gradient itself.
    let g0 = reverse_grad(model, &p, &x, &y, ElboOptions::default()).1;
    assert!(gd.iter().zip(&g0).all(|(a, b)| (a.re - b).abs() <= 1e-12 * (1.0 + b.abs())));
}

#[test]
fn reverse_sweep_on_duals_gives_hessian_vector_products() {
    let rbf = Svgp::new(Closed(Rbf::new(2)), 4, 1e-6).unwrap();
    check_hvp(&rbf, &Rbf::params(1.1, 0.6), 7, "rbf");
    let map = TestRff { d: 2, j: 6 };
    let feat = Svgp::new(Features(map), 4, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(8);
    let mut prior = vec![0.1_f64];
    prior.extend((0..map.d * map.j).map(|_| standard_normal(&mut rng)));
    prior.extend((0..map.j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    prior.push(0.6_f64.ln());
    check_hvp(&feat, &prior, 9, "feature kernel");
}
