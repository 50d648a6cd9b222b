//! Closed-form kernels: Gram blocks symmetric and positive semi-definite (property tests over
//! random inputs and parameters), consistency between kernels, and behaviour at r = 0.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use proptest::prelude::*;
use svgp::kernel::{cross_covariance, diagonal, gram, ArcCosine, Kernel, Matern, Nu, Rbf, RbfArd};
use svgp::linalg::{cholesky_in_place, Jitter, MatMut};
use svgp::{Dual, Scalar};

/// Symmetric, and K + 1e-8·max(diag)·I has a Cholesky factor (PSD up to rounding).
fn assert_symmetric_psd<K: Kernel>(k: &K, params: &[f64], x: &[f64]) {
    let n = x.len() / k.input_dim();
    let mut g = vec![0.0; n * n];
    gram(k, params, x, &mut g).unwrap();
    let mut c = vec![0.0; n * n];
    cross_covariance(k, params, x, x, &mut c).unwrap();
    let mut dg = vec![0.0; n];
    diagonal(k, params, x, &mut dg).unwrap();
    let scale = dg.iter().fold(0.0_f64, |m, &v| m.max(v.abs())).max(1e-300);
    for i in 0..n {
        assert!((g[i * n + i] - dg[i]).abs() <= 1e-12 * scale, "{k:?}: diag");
        for j in 0..n {
            assert_eq!(g[i * n + j], g[j * n + i], "{k:?}: not symmetric");
            assert!((g[i * n + j] - c[i * n + j]).abs() <= 1e-12 * scale, "{k:?}: gram vs cross");
        }
        g[i * n + i] += 1e-8 * scale;
    }
    let res = cholesky_in_place(MatMut::new(n, n, &mut g).unwrap(), Jitter::Fixed(0.0));
    assert!(res.is_ok(), "{k:?} params {params:?}: Gram not PSD: {res:?}");
}

fn inputs(d: usize) -> impl Strategy<Value = Vec<f64>> {
    (2usize..12).prop_flat_map(move |n| prop::collection::vec(-3.0..3.0_f64, n * d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rbf_gram_psd(x in inputs(2), lv in -2.0..2.0_f64, ll in -1.5..1.5_f64) {
        assert_symmetric_psd(&Rbf::new(2), &[lv, ll], &x);
    }

    #[test]
    fn rbf_ard_gram_psd(x in inputs(3), lv in -2.0..2.0_f64, ll in prop::collection::vec(-1.5..1.5_f64, 3)) {
        let p = [lv, ll[0], ll[1], ll[2]];
        assert_symmetric_psd(&RbfArd::new(3), &p, &x);
    }

    #[test]
    fn matern_gram_psd(x in inputs(3), lv in -2.0..2.0_f64, ll in prop::collection::vec(-1.5..1.5_f64, 3)) {
        let p = [lv, ll[0], ll[1], ll[2]];
        for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
            assert_symmetric_psd(&Matern::new(3, nu), &p, &x);
        }
    }

    #[test]
    fn arc_cosine_gram_psd(x in inputs(3), lv in -2.0..2.0_f64, ll in -1.0..1.0_f64) {
        for order in 0..=2 {
            assert_symmetric_psd(&ArcCosine::new(3, order), &[lv, ll], &x);
        }
    }

    #[test]
    fn ard_with_equal_lengthscales_is_isotropic(x in prop::collection::vec(-3.0..3.0_f64, 4), lv in -2.0..2.0_f64, ll in -1.5..1.5_f64) {
        let a = Rbf::new(2).eval(&[lv, ll], &x[..2], &x[2..]);
        let b = RbfArd::new(2).eval(&[lv, ll, ll], &x[..2], &x[2..]);
        prop_assert!((a - b).abs() <= 1e-12 * lv.exp());
    }
}

#[test]
fn matern_smoothness_orders_near_zero() {
    // 1 − k(r) ~ r for ν = 1/2 and ~ r² for ν ≥ 3/2: halving r halves or quarters it.
    let k = |nu: Nu, r: f64| 1.0 - Matern::new(1, nu).eval(&[0.0, 0.0], &[0.0], &[r]);
    let ratio = |nu| k(nu, 1e-3) / k(nu, 5e-4);
    assert!((ratio(Nu::Half) - 2.0).abs() < 1e-2);
    assert!((ratio(Nu::ThreeHalves) - 4.0).abs() < 1e-2);
    assert!((ratio(Nu::FiveHalves) - 4.0).abs() < 1e-2);
    // Curvature at 0: k ≈ 1 − ν/(ν − 1)·r²/2, so −k''(0) = 3 for ν = 3/2 and 5/3 for ν = 5/2.
    let curv = |nu| 2.0 * k(nu, 1e-4) / 1e-8;
    assert!((curv(Nu::ThreeHalves) - 3.0).abs() < 1e-2);
    assert!((curv(Nu::FiveHalves) - 5.0 / 3.0).abs() < 1e-2);
    // Matérn tends to the RBF as ν grows: larger ν is closer to exp(−r²/2) at r = 1.
    let rbf = (-0.5_f64).exp();
    let at1 = |nu| Matern::new(1, nu).eval(&[0.0, 0.0], &[0.0], &[1.0_f64]);
    assert!((at1(Nu::FiveHalves) - rbf).abs() < (at1(Nu::ThreeHalves) - rbf).abs());
    assert!((at1(Nu::ThreeHalves) - rbf).abs() < (at1(Nu::Half) - rbf).abs());
}

#[test]
fn matern_is_finite_and_differentiable_at_r_zero_on_dual() {
    // Lanes: ln σ², ln ℓ_1, ln ℓ_2, x_1, x_2 (y = x as constants).
    type D5 = Dual<f64, 5>;
    let p = [0.3, -0.2, 0.4];
    let x = [0.7, -1.1];
    for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
        let k = Matern::new(2, nu);
        let pd: Vec<D5> = p.iter().enumerate().map(|(i, &v)| Dual::variable(v, i)).collect();
        let xd: Vec<D5> = x.iter().enumerate().map(|(i, &v)| Dual::variable(v, 3 + i)).collect();
        let yd: Vec<D5> = x.iter().map(|&v| Dual::constant(v)).collect();
        let v = k.eval(&pd, &xd, &yd);
        assert!(Scalar::is_finite(v), "{nu:?}: {v}");
        assert!((v.re - p[0].exp()).abs() < 1e-15);
        assert!((v.eps[0] - p[0].exp()).abs() < 1e-15, "∂/∂ln σ² = σ²");
        // At r = 0: no dependence on the lengthscales; input gradient 0 (exact for ν ≥ 3/2,
        // the documented subgradient convention for ν = 1/2).
        assert_eq!(&v.eps[1..], &[0.0; 4]);
        // Just off r = 0 the ν ≥ 3/2 gradient is small (∝ r), the ν = 1/2 one is not (cusp).
        let off: Vec<D5> = x.iter().enumerate().map(|(i, &v)| Dual::variable(v + 1e-7, 3 + i)).collect();
        let g = k.eval(&pd, &off, &yd).eps[3];
        if nu == Nu::Half {
            assert!(g.abs() > 0.1);
        } else {
            assert!(g.abs() < 1e-5);
        }
    }
}

#[test]
fn arc_cosine_closed_form_values() {
    // Order 0 is 1 − θ/π, independent of norms and ℓ.
    let k0 = ArcCosine::new(2, 0);
    let v = k0.eval(&[0.0, 0.7], &[2.0, 0.0], &[1.0, 1.0]);
    assert!((v - 0.75).abs() < 1e-14);
    // Order 1 on the diagonal: |x|²/ℓ²; order 2: 3|x|⁴/ℓ⁴.
    let x = [0.6, -0.8];
    let k1 = ArcCosine::new(2, 1).eval(&[0.0, 0.5_f64.ln()], &x, &x);
    let k2 = ArcCosine::new(2, 2).eval(&[0.0, 0.5_f64.ln()], &x, &x);
    assert!((k1 - 4.0).abs() < 1e-12);
    assert!((k2 - 48.0).abs() < 1e-10);
    // Opposite vectors: θ = π, every J_n vanishes.
    for n in 0..=2 {
        assert!(ArcCosine::new(2, n).eval(&[0.0, 0.0], &x, &[-0.6, 0.8]).abs() < 1e-12);
    }
}

#[test]
fn kernels_run_in_f32() {
    let x = [0.1_f32, 0.2, -0.3, 0.4];
    let mut g = [0.0_f32; 4];
    gram(&Matern::new(2, Nu::FiveHalves), &[0.0, 0.1, -0.1], &x, &mut g).unwrap();
    assert_eq!(g[1], g[2]);
    assert_eq!(g[0], 1.0);
}
