//! The forward-mode derivative helpers `gradient`, `jacobian` and `hvp`: against analytic
//! derivatives, against finite differences, across lane counts N (including N > P and P not a
//! multiple of N), the number of passes (ceil(P/N)), and typed errors on bad buffer sizes.
// A failed `unwrap` is a failed test here.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use svgp::diff::{gradient, hvp, jacobian, HvpDual};
use svgp::{Dual, Error, Scalar};

/// f(x) = Σ_i softplus(x_i)·x_{i+1 mod P} + log Σ e^{x_i}.
fn f<S: Scalar>(x: &[S]) -> S {
    let p = x.len();
    let ring: S = (0..p).map(|i| x[i].softplus() * x[(i + 1) % p]).sum();
    if p == 0 {
        ring
    } else {
        ring + S::log_sum_exp(x)
    }
}

/// ∂f/∂x_k = σ(x_k) x_{k+1} + softplus(x_{k−1}) + softmax(x)_k, written out in f64.
fn grad_exact(x: &[f64]) -> Vec<f64> {
    let p = x.len();
    let sp = |a: f64| (1.0 + a.exp()).ln();
    let sig = |a: f64| 1.0 / (1.0 + (-a).exp());
    let z: f64 = x.iter().map(|a| a.exp()).sum();
    (0..p).map(|k| sig(x[k]) * x[(k + 1) % p] + sp(x[(k + p - 1) % p]) + x[k].exp() / z).collect()
}

fn grad_n<const N: usize>(x: &[f64]) -> (f64, Vec<f64>, usize) {
    let mut work = vec![Dual::<f64, N>::default(); x.len() + 2]; // longer than needed is fine
    let mut g = vec![0.0; x.len()];
    let mut calls = 0;
    let v = gradient(
        |d| {
            calls += 1;
            f(d)
        },
        x,
        &mut work,
        &mut g,
    )
    .unwrap();
    (v, g, calls)
}

fn vec_close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0))
}

proptest! {
    #[test]
    fn gradient_matches_analytic_for_every_lane_count(x in prop::collection::vec(-4.0..4.0_f64, 0..12)) {
        let p = x.len();
        let exact = grad_exact(&x);
        let (v1, g1, c1) = grad_n::<1>(&x);
        let (v3, g3, c3) = grad_n::<3>(&x);
        let (v4, g4, c4) = grad_n::<4>(&x);
        let (v16, g16, c16) = grad_n::<16>(&x);
        for (v, g) in [(v1, &g1), (v3, &g3), (v4, &g4), (v16, &g16)] {
            prop_assert_eq!(v, f(&x));
            prop_assert!(vec_close(g, &exact, 1e-13), "{:?} vs {:?}", g, exact);
        }
        prop_assert_eq!(&g1, &g3);
        prop_assert_eq!(&g1, &g16);
        let passes = |n: usize| p.div_ceil(n).max(1);
        prop_assert_eq!((c1, c3, c4, c16), (passes(1), passes(3), passes(4), passes(16)));
    }

    #[test]
    fn hvp_is_symmetric_and_matches_finite_differences(
        x in prop::collection::vec(-2.0..2.0_f64, 1..8),
        seed in prop::collection::vec(-1.0..1.0_f64, 16),
    ) {
        let p = x.len();
        let (u, v) = (&seed[..p], &seed[8..8 + p]);
        let mut work = vec![HvpDual::<f64, 3>::default(); p];
        let (mut g, mut hu, mut hv) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
        let val = hvp(f, &x, u, &mut work, &mut g, &mut hu).unwrap();
        hvp(f, &x, v, &mut work, &mut g, &mut hv).unwrap();
        prop_assert_eq!(val, f(&x));
        prop_assert!(vec_close(&g, &grad_exact(&x), 1e-13));
        // uᵀ(Hv) = vᵀ(Hu)
        let (a, b): (f64, f64) = (u.iter().zip(&hv).map(|(p, q)| p * q).sum(), v.iter().zip(&hu).map(|(p, q)| p * q).sum());
        prop_assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{} vs {}", a, b);
        // Hv ≈ (∇f(x + hv) − ∇f(x − hv)) / 2h, the gradient from the analytic formula.
        let h = 1e-5;
        let shift = |s: f64| -> Vec<f64> { x.iter().zip(v).map(|(xi, vi)| xi + s * h * vi).collect() };
        let (gp, gm) = (grad_exact(&shift(1.0)), grad_exact(&shift(-1.0)));
        let fd: Vec<f64> = gp.iter().zip(&gm).map(|(a, b)| (a - b) / (2.0 * h)).collect();
        prop_assert!(vec_close(&hv, &fd, 1e-7), "{:?} vs {:?}", hv, fd);
    }
}

#[test]
fn hvp_of_a_quadratic_is_exact() {
    // f = ½ xᵀAx + bᵀx ⇒ H v = A v exactly (A symmetric, small integers).
    const A: [[f64; 3]; 3] = [[4.0, -1.0, 2.0], [-1.0, 3.0, 0.0], [2.0, 0.0, 5.0]];
    fn quad<S: Scalar>(x: &[S]) -> S {
        let mut acc = S::zero();
        for i in 0..3 {
            for j in 0..3 {
                acc += S::from_f64(0.5 * A[i][j]) * x[i] * x[j];
            }
            acc += S::from_f64(i as f64 + 1.0) * x[i];
        }
        acc
    }
    let x = [0.5, -1.0, 2.0];
    let v = [1.0, 2.0, -3.0];
    let mut work = [HvpDual::<f64, 2>::default(); 3];
    let (mut g, mut hv) = ([0.0; 3], [0.0; 3]);
    hvp(quad, &x, &v, &mut work, &mut g, &mut hv).unwrap();
    for i in 0..3 {
        let av: f64 = (0..3).map(|j| A[i][j] * v[j]).sum();
        let ax: f64 = (0..3).map(|j| A[i][j] * x[j]).sum();
        assert_eq!(hv[i], av);
        assert_eq!(g[i], ax + i as f64 + 1.0);
    }
}

/// A map R³ → R² written to accumulate into `out` (so a missing reset would double it).
fn map<S: Scalar>(x: &[S], out: &mut [S]) {
    out[0] += x[0] * x[1].sin() + x[2];
    out[1] += (x[0] - x[2]).exp() * x[1];
}

#[test]
fn jacobian_matches_analytic_for_several_lane_counts() {
    let x = [0.3, -1.2, 0.7];
    let (a, b, c) = (x[0], x[1], x[2]);
    let e = (a - c).exp();
    let exact = [b.sin(), a * b.cos(), 1.0, e * b, e, -e * b];
    fn run<const N: usize>(x: &[f64]) -> ([f64; 6], [f64; 2]) {
        let mut work = [Dual::<f64, N>::default(); 3];
        let mut out = [Dual::<f64, N>::default(); 2];
        let mut jac = [0.0; 6];
        jacobian(map, x, &mut work, &mut out, &mut jac).unwrap();
        (jac, [out[0].re, out[1].re])
    }
    let mut value = [0.0; 2];
    map(&x, &mut value);
    for (jac, val) in [run::<1>(&x), run::<2>(&x), run::<3>(&x), run::<8>(&x)] {
        assert!(vec_close(&jac, &exact, 1e-15), "{jac:?} vs {exact:?}");
        assert_eq!(val, value);
    }
}

#[test]
fn jacobian_rows_equal_gradients_in_f32() {
    let x = [0.3_f32, -1.2, 0.7];
    let mut work = [Dual::<f32, 2>::default(); 3];
    let mut out = [Dual::<f32, 2>::default(); 2];
    let mut jac = [0.0_f32; 6];
    jacobian(map, &x, &mut work, &mut out, &mut jac).unwrap();
    for row in 0..2 {
        let mut g = [0.0_f32; 3];
        let mut o = [Dual::<f32, 2>::default(); 2];
        gradient(
            |d| {
                o.fill(Dual::default());
                map(d, &mut o);
                o[row]
            },
            &x,
            &mut work,
            &mut g,
        )
        .unwrap();
        assert_eq!(&jac[3 * row..3 * row + 3], &g);
    }
}

#[test]
fn empty_input_still_evaluates_once() {
    let mut calls = 0;
    let v = gradient(
        |_: &[Dual<f64, 2>]| {
            calls += 1;
            Dual::constant(7.0)
        },
        &[],
        &mut [],
        &mut [],
    )
    .unwrap();
    assert_eq!((v, calls), (7.0, 1));
    let mut out = [Dual::<f64, 2>::default(); 1];
    jacobian(|_, o: &mut [Dual<f64, 2>]| o[0] = Dual::constant(2.0), &[], &mut [], &mut out, &mut [])
        .unwrap();
    assert_eq!(out[0].re, 2.0);
}

#[test]
fn bad_sizes_are_typed_errors() {
    let x = [1.0, 2.0, 3.0];
    let mut work = [Dual::<f64, 2>::default(); 2];
    let mut g = [0.0; 3];
    assert_eq!(
        gradient(f, &x, &mut work, &mut g),
        Err(Error::BufferTooSmall { what: "gradient work", needed: 3, found: 2 })
    );
    let mut work = [Dual::<f64, 2>::default(); 3];
    assert_eq!(
        gradient(f, &x, &mut work, &mut g[..2]),
        Err(Error::DimensionMismatch { what: "gradient grad", expected: 3, found: 2 })
    );
    let mut out = [Dual::<f64, 2>::default(); 2];
    assert_eq!(
        jacobian(map, &x, &mut work, &mut out, &mut [0.0; 5]),
        Err(Error::DimensionMismatch { what: "jacobian jac", expected: 6, found: 5 })
    );
    let mut hw = [HvpDual::<f64, 2>::default(); 3];
    let (mut hg, mut hv) = ([0.0; 3], [0.0; 3]);
    assert_eq!(
        hvp(f, &x, &[1.0; 2], &mut hw, &mut hg, &mut hv),
        Err(Error::DimensionMismatch { what: "hvp v", expected: 3, found: 2 })
    );
    assert_eq!(
        hvp(f, &x, &[1.0; 3], &mut hw[..1], &mut hg, &mut hv),
        Err(Error::BufferTooSmall { what: "hvp work", needed: 3, found: 1 })
    );
    assert_eq!(
        hvp(f, &x, &[1.0; 3], &mut hw, &mut hg, &mut hv[..2]),
        Err(Error::DimensionMismatch { what: "hvp hv", expected: 3, found: 2 })
    );
}
