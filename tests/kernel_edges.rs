//! Kernels at the edges of their domain.
//! - Extreme but finite inputs (‖x − x'‖ ~ 1e300, or |x|² alone overflowing) give the kernel's
//!   value — 0 for far-apart points of a stationary kernel, σ² for coincident ones — never NaN:
//!   `eval`, the block, the diagonal and both reverse rules (closed form and Dual).
//! - The arc-cosine kernels stay positive semi-definite on Gram matrices that include the
//!   origin (order 0 used not to: its angle to a zero input was taken as 0), and agree with
//!   their random features there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::features::{ArcCosineFeatures, FeatureMap};
use svgp::kernel::{
    cross_covariance, cross_covariance_adjoint, diagonal, gradient_workspace_len, gram, ArcCosine, Kernel,
    KernelDual, Matern, Nu, Rbf, RbfArd,
};
use svgp::linalg::{cholesky_in_place, Jitter, MatMut};
use svgp::rng::{standard_normal, Xoshiro256};

/// Pairs of 2-D inputs: far apart at 1e300, coincident at 1e300, |x|² overflowing at 1e160.
const FAR: [([f64; 2], [f64; 2]); 5] = [
    ([1e300, 0.0], [-1e300, 0.0]),
    ([1e300, 2e300], [0.0, 0.0]),
    ([1e200, 0.0], [0.5, -0.5]),
    ([1e160, 1e160], [1e160 + 1e145, 1e160]),
    ([-1e160, 3.0], [1e160, 3.0]),
];
const SAME: [([f64; 2], [f64; 2]); 2] =
    [([1e300, -1e300], [1e300, -1e300]), ([1e160, 1e160], [1e160, 1e160])];

/// Value, block, diagonal and both reverse rules at the extreme pairs: finite, with the value
/// `far` for far-apart pairs and `same` for coincident ones (`None`: only finiteness).
fn check_extreme<K: Kernel>(name: &str, k: K, params: &[f64], far: Option<f64>, same: Option<f64>) {
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(&k).unwrap()];
    for (pairs, want) in [(&FAR[..], far), (&SAME[..], same)] {
        for (x, y) in pairs {
            let v = k.eval(params, x, y);
            assert!(v.is_finite(), "{name} at {x:?}, {y:?}: {v}");
            if let Some(w) = want {
                assert_eq!(v, w, "{name} at {x:?}, {y:?}");
            }
            let mut block = [0.0];
            k.cross_covariance_block(params, x, y, &mut block);
            assert_eq!(block[0], v, "{name}: block and eval at {x:?}, {y:?}");
            let mut out = [0.0];
            cross_covariance(&k, params, x, y, &mut out).unwrap();
            diagonal(&k, params, x, &mut out).unwrap();
            assert!(out[0].is_finite(), "{name} diagonal at {x:?}");
            // The kernel's own reverse rule, with and without the x2 gradient, and the Dual one.
            let (mut gp, mut g1, mut g2) = (vec![0.0; k.n_params()], [0.0; 2], [0.0; 2]);
            k.cross_covariance_adjoint(params, x, y, &block, &[1.0], &mut gp, &mut g1, Some(&mut g2))
                .unwrap();
            k.cross_covariance_adjoint(params, x, y, &block, &[0.7], &mut gp, &mut g1, None).unwrap();
            k.diagonal_adjoint(params, x, &[1.0], &mut gp).unwrap();
            cross_covariance_adjoint(
                &k,
                params,
                x,
                y,
                &[1.0],
                &mut gp,
                Some(&mut g1),
                Some(&mut g2),
                &mut ws,
            )
            .unwrap();
            let all = gp.iter().chain(&g1).chain(&g2);
            assert!(
                all.clone().all(|g| g.is_finite()),
                "{name} gradient at {x:?}, {y:?}: {gp:?} {g1:?} {g2:?}"
            );
        }
    }
}

#[test]
fn stationary_kernels_are_zero_far_apart_and_finite_everywhere() {
    let s2 = 1.7_f64;
    let iso = [s2.ln(), 0.3_f64.ln()];
    let ard = [s2.ln(), 0.3_f64.ln(), 2.0_f64.ln()];
    // Coincident points: exp(−0) = 1 exactly for the ARD forms; the RBF's |x|²+|y|²−2x·y
    // form is only as good as its rounding at 1e300, so its value is checked finite there.
    check_extreme("RBF", Rbf::new(2), &iso, Some(0.0), None);
    check_extreme("ARD RBF", RbfArd::new(2), &ard, Some(0.0), Some(s2.ln().exp()));
    for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
        check_extreme("Matern", Matern::new(2, nu), &ard, Some(0.0), Some(s2.ln().exp()));
    }
    // The RBF at two coincident points of norm 1e160 (|x|² overflows): σ², from the differences.
    let x = [1e160, -1e160];
    assert_eq!(Rbf::new(2).eval(&iso, &x, &x), s2.ln().exp());
}

#[test]
fn arc_cosine_kernels_are_finite_at_extreme_inputs() {
    let p = [0.3, 0.5_f64.ln()];
    for order in 0..3 {
        let k = ArcCosine::new(2, order);
        // Order 0 is bounded; orders 1 and 2 grow like |x|ⁿ|x'|ⁿ, so only opposite or far
        // pairs stay finite: check those, and NaN-freedom on every pair.
        let opposite = ([1e300, 0.0], [-1e300, 0.0]);
        assert_eq!(k.eval(&p, &opposite.0, &opposite.1), 0.0, "order {order}: θ = π");
        for (x, y) in FAR.iter().chain(&SAME) {
            let v = k.eval(&p, x, y);
            assert!(!v.is_nan(), "order {order} at {x:?}, {y:?}");
            if order == 0 {
                assert!(v.is_finite() && v >= 0.0);
            }
        }
    }
    check_extreme("arc-cosine 0", ArcCosine::new(2, 0), &p, None, Some(p[0].exp()));
}

/// The Gram of `points` (n × 2) plus `eps`·I factors, and vᵀKv ≥ −1e-12·|v|² for random v.
fn assert_psd<K: Kernel>(name: &str, k: &K, params: &[f64], points: &[f64]) {
    let n = points.len() / 2;
    let mut g = vec![0.0; n * n];
    gram(k, params, points, &mut g).unwrap();
    let mut rng = Xoshiro256::from_u64(11);
    for _ in 0..200 {
        let v: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let q: f64 = (0..n).map(|i| (0..n).map(|j| v[i] * g[i * n + j] * v[j]).sum::<f64>()).sum();
        let vv: f64 = v.iter().map(|a| a * a).sum();
        assert!(q >= -1e-12 * vv, "{name}: vᵀKv = {q} < 0, K = {g:?}");
    }
    let mut l = g.clone();
    let r = cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(1e-9));
    assert!(r.is_ok(), "{name}: K + 1e-9·I is not positive definite ({r:?}), K = {g:?}");
}

#[test]
fn arc_cosine_grams_with_the_origin_are_positive_semi_definite() {
    // The origin, three directions, a repeated origin and a point near it.
    let points = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.7, 0.7, -1.0, 0.5, 0.0, 0.0, 1e-3, -2e-3];
    for order in 0..3 {
        let k = ArcCosine::new(2, order);
        let p = [0.0, 0.8_f64.ln()];
        assert_psd(&format!("arc-cosine order {order}"), &k, &p, &points);
        // k(0, ·) = 0, as the features' expectation with Θ(0) = 0 says.
        for j in 0..points.len() / 2 {
            assert_eq!(k.eval(&p, &[0.0, 0.0], &points[2 * j..2 * j + 2]), 0.0, "order {order}");
        }
    }
}

#[test]
fn arc_cosine_features_vanish_at_the_origin_like_their_kernel() {
    for order in 0..3 {
        let map = ArcCosineFeatures::new(2, 64, order).unwrap();
        let mut p = vec![0.0; map.n_params()];
        map.draw(&mut Xoshiro256::from_u64(4), 0.8, &mut p).unwrap();
        let x = [0.0, 0.0, 0.6, -0.3];
        let mut psi = vec![1.0; 2 * 64];
        map.features(&p, &x, &mut psi, &mut vec![0.0; map.workspace_len(2).unwrap()]).unwrap();
        assert!(psi[..64].iter().all(|&v| v == 0.0), "order {order}: ψ(0) = 0");
        let k = ArcCosine::new(2, order);
        assert_eq!(k.eval(&[0.0, 0.8_f64.ln()], &x[..2], &x[2..]), 0.0);
    }
}
