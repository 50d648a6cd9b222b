//! Kernel derivatives from `Dual`: the block reverse rules (cross-covariance, Gram, diagonal)
//! against central finite differences, for the crate's kernels and for a user-defined kernel
//! that has no hand-written derivative anywhere.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use svgp::kernel::{
    cross_covariance, cross_covariance_adjoint, diagonal, diagonal_adjoint, gradient_workspace_len, gram,
    gram_adjoint, ArcCosine, Kernel, KernelDual, Matern, Nu, Rbf, RbfArd,
};
use svgp::rng::{uniform, Xoshiro256};
use svgp::Scalar;

/// A user's kernel, written once generically: rational quadratic
/// k = σ²·(1 + r²/(2αℓ²))^{−α}, parameters [ln σ², ln ℓ, ln α].
#[derive(Clone, Copy, Debug)]
struct RationalQuadratic;

impl Kernel for RationalQuadratic {
    type Params<C> = C;
    fn view<S: Scalar, C: svgp::layout::SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        2
    }
    fn n_params(&self) -> usize {
        3
    }
    fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
        let r2: S = x.iter().zip(y).map(|(&a, &b)| (a - b) * (a - b)).sum();
        let (l2, alpha) = ((p[1] + p[1]).exp(), p[2].exp());
        p[0].exp() * (S::one() + r2 / (S::from_f64(2.0) * alpha * l2)).powf(-alpha)
    }
}

fn rand_vec(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..n).map(|_| uniform(&mut rng, lo, hi)).collect()
}

/// Central difference of f at v along coordinate i.
fn fd(f: &dyn Fn(&[f64]) -> f64, v: &[f64], i: usize) -> f64 {
    let h = 1e-6 * v[i].abs().max(1.0);
    let (mut a, mut b) = (v.to_vec(), v.to_vec());
    a[i] += h;
    b[i] -= h;
    (f(&a) - f(&b)) / (2.0 * h)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-8, "{what}: degenerate test");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-6 * scale, "{what}[{i}]: reverse {a} vs finite difference {b}");
    }
}

/// All three block rules of `k` against finite differences of Σ K̄⊙K.
fn check_kernel<K: Kernel>(k: &K, params: &[f64]) {
    let d = k.input_dim();
    let (n1, n2) = (4, 3);
    let x1 = rand_vec(n1 * d, 1, -1.5, 1.5);
    let x2 = rand_vec(n2 * d, 2, -1.5, 1.5);
    let kb = rand_vec(n1 * n2, 3, -1.0, 1.0);
    let gb = rand_vec(n1 * n1, 4, -1.0, 1.0);
    let db = rand_vec(n1, 5, -1.0, 1.0);
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(k).unwrap()];
    let p = params.len();
    let dotp = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();

    // Cross-covariance: variables (params, x1, x2).
    let loss = |v: &[f64]| {
        let mut out = vec![0.0; n1 * n2];
        cross_covariance(k, &v[..p], &v[p..p + n1 * d], &v[p + n1 * d..], &mut out).unwrap();
        dotp(&out, &kb)
    };
    let v: Vec<f64> = params.iter().chain(&x1).chain(&x2).copied().collect();
    let (mut gp, mut g1, mut g2) = (vec![0.0; p], vec![0.0; n1 * d], vec![0.0; n2 * d]);
    cross_covariance_adjoint(k, params, &x1, &x2, &kb, &mut gp, Some(&mut g1), Some(&mut g2), &mut ws)
        .unwrap();
    let want: Vec<f64> = (0..v.len()).map(|i| fd(&loss, &v, i)).collect();
    let got: Vec<f64> = gp.iter().chain(&g1).chain(&g2).copied().collect();
    assert_close(&format!("{k:?} cross"), &got, &want);

    // Gram (K̄ not symmetric): variables (params, x1).
    let loss = |v: &[f64]| {
        let mut out = vec![0.0; n1 * n1];
        gram(k, &v[..p], &v[p..], &mut out).unwrap();
        dotp(&out, &gb)
    };
    let v: Vec<f64> = params.iter().chain(&x1).copied().collect();
    let (mut gp, mut gx) = (vec![0.0; p], vec![0.0; n1 * d]);
    gram_adjoint(k, params, &x1, &gb, &mut gp, Some(&mut gx), &mut ws).unwrap();
    let want: Vec<f64> = (0..v.len()).map(|i| fd(&loss, &v, i)).collect();
    let got: Vec<f64> = gp.iter().chain(&gx).copied().collect();
    assert_close(&format!("{k:?} gram"), &got, &want);
    // Without grad_x the parameter part is unchanged.
    let mut gp2 = vec![0.0; p];
    gram_adjoint(k, params, &x1, &gb, &mut gp2, None, &mut ws).unwrap();
    assert_eq!(gp, gp2);

    // Diagonal.
    let loss = |v: &[f64]| {
        let mut out = vec![0.0; n1];
        diagonal(k, &v[..p], &v[p..], &mut out).unwrap();
        dotp(&out, &db)
    };
    let (mut gp, mut gx) = (vec![0.0; p], vec![0.0; n1 * d]);
    diagonal_adjoint(k, params, &x1, &db, &mut gp, Some(&mut gx), &mut ws).unwrap();
    let want: Vec<f64> = (0..v.len()).map(|i| fd(&loss, &v, i)).collect();
    let got: Vec<f64> = gp.iter().chain(&gx).copied().collect();
    assert_close(&format!("{k:?} diagonal"), &got, &want);
}

#[test]
fn user_defined_kernel_gets_gradients_from_dual() {
    check_kernel(&RationalQuadratic, &[0.2, -0.1, 0.5]);
}

#[test]
fn crate_kernels_block_gradients() {
    check_kernel(&Rbf::new(2), &[0.3, -0.2]);
    check_kernel(&RbfArd::new(3), &[0.3, -0.2, 0.1, 0.4]);
    for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
        check_kernel(&Matern::new(3, nu), &[0.1, 0.2, -0.3, 0.05]);
    }
    for order in 0..=2 {
        check_kernel(&ArcCosine::new(2, order), &[0.1, -0.2]);
    }
}

#[test]
fn adjoint_shape_errors() {
    let k = Rbf::new(2);
    let mut ws = vec![KernelDual::<f64>::default(); 3];
    let mut gp = [0.0; 2];
    let r =
        cross_covariance_adjoint(&k, &[0.0, 0.0], &[0.0; 2], &[0.0; 2], &[1.0], &mut gp, None, None, &mut ws);
    assert!(matches!(r, Err(svgp::Error::BufferTooSmall { .. })));
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(&k).unwrap()];
    let r = gram_adjoint(&k, &[0.0, 0.0], &[0.0; 3], &[1.0], &mut gp, None, &mut ws);
    assert!(matches!(r, Err(svgp::Error::DimensionMismatch { .. })));
}

/// The trait's default hooks (what `Closed<K>` calls for a kernel without a closed-form
/// adjoint) against the finite-difference-checked block rules above: the same numbers, and a
/// typed error past the stack workspace's caps.
#[test]
fn trait_default_adjoints_match_the_block_rules_and_report_caps() {
    let k = RationalQuadratic;
    let p = [0.2, -0.1, 0.5];
    let (x1, x2) = (rand_vec(8, 4, -1.0, 1.0), rand_vec(6, 5, -1.0, 1.0));
    let kb = rand_vec(12, 6, -1.0, 1.0);
    let mut kv = [0.0; 12];
    cross_covariance(&k, &p, &x1, &x2, &mut kv).unwrap();
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(&k).unwrap()];
    let (mut gp_a, mut g1_a, mut g2_a) = ([0.0; 3], [0.0; 8], [0.0; 6]);
    cross_covariance_adjoint(&k, &p, &x1, &x2, &kb, &mut gp_a, Some(&mut g1_a), Some(&mut g2_a), &mut ws)
        .unwrap();
    let (mut gp_b, mut g1_b, mut g2_b) = ([0.0; 3], [0.0; 8], [0.0; 6]);
    k.cross_covariance_adjoint(&p, &x1, &x2, &kv, &kb, &mut gp_b, &mut g1_b, Some(&mut g2_b)).unwrap();
    assert_eq!((gp_a, g1_a, g2_a), (gp_b, g1_b, g2_b));
    let db = rand_vec(4, 7, -1.0, 1.0);
    let (mut d_a, mut d_b) = ([0.0; 3], [0.0; 3]);
    diagonal_adjoint(&k, &p, &x1, &db, &mut d_a, None, &mut ws).unwrap();
    k.diagonal_adjoint(&p, &x1, &db, &mut d_b).unwrap();
    assert_eq!(d_a, d_b);
    assert!(gp_a.iter().all(|v| *v != 0.0) && d_a[0] != 0.0, "degenerate test");

    // 17 input dimensions: past MAX_DUAL_DIM = 16.
    let wide = Matern::new(svgp::kernel::MAX_DUAL_DIM + 1, Nu::ThreeHalves);
    let wp = vec![0.0; wide.n_params()];
    let x = vec![0.1; wide.input_dim()];
    let (mut g, mut gx) = (vec![0.0; wide.n_params()], vec![0.0; wide.input_dim()]);
    let r = wide.cross_covariance_adjoint(&wp, &x, &x, &[1.0], &[1.0], &mut g, &mut gx, None);
    assert!(matches!(r, Err(svgp::Error::BufferTooSmall { needed: 17, found: 16, .. })), "{r:?}");
}
