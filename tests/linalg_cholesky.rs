//! Cholesky, the jitter policy, triangular solves, log-det and inverse: fixed cases and
//! error paths. (Randomised residual bounds are in linalg_props.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::linalg::{log_det_elimination, random_spd};
use svgp::linalg::{
    cholesky_in_place, cholesky_inverse, log_det_from_factor, solve_triangular, Jitter, MatMut, MatRef, Side,
};
use svgp::rng::{standard_normal, Xoshiro256};
use svgp::Error;

fn llt(l: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..=i.min(j)).map(|k| l[i * n + k] * l[j * n + k]).sum();
        }
    }
    out
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// A rank-one (positive semi-definite, singular) n × n matrix v·vᵀ.
fn rank_one(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    let v: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
    (0..n * n).map(|t| v[t / n] * v[t % n]).collect()
}

#[test]
fn factor_reproduces_matrix_and_zeroes_upper() {
    let mut rng = Xoshiro256::from_u64(1);
    for n in [1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 100] {
        let a = random_spd(&mut rng, n, 0.5);
        let mut l = a.clone();
        let info = cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
        assert_eq!(info, svgp::linalg::CholeskyInfo { jitter: 0.0, attempts: 1 });
        for i in 0..n {
            assert!(l[i * n + i] > 0.0);
            for j in i + 1..n {
                assert_eq!(l[i * n + j], 0.0);
            }
        }
        assert!(max_abs_diff(&llt(&l, n), &a) < 1e-13 * n as f64);
    }
}

#[test]
fn fixed_jitter_is_added_to_the_diagonal() {
    let n = 6;
    let a = rank_one(n, 2);
    let mut l = a.clone();
    let info = cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.25)).unwrap();
    assert_eq!(info.jitter, 0.25);
    let mut want = a.clone();
    (0..n).for_each(|i| want[i * n + i] += 0.25);
    assert!(max_abs_diff(&llt(&l, n), &want) < 1e-12);
}

#[test]
fn singular_matrix_fails_with_the_pivot_then_escalation_rescues_it() {
    let n = 8;
    let a = rank_one(n, 3);
    let mut l = a.clone();
    match cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)) {
        Err(Error::NotPositiveDefinite { pivot, value }) => {
            assert_eq!(pivot, 1, "rank one: the second pivot is (numerically) zero");
            assert!(value.abs() < 1e-12);
        }
        other => panic!("expected NotPositiveDefinite, got {other:?}"),
    }

    let mut l = a.clone();
    let info =
        cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Escalate { start: 0.0, cap: 1.0 })
            .unwrap();
    assert!(info.attempts >= 2);
    // The ladder starts at the mean diagonal times epsilon and multiplies by 10.
    let mean = (0..n).map(|i| a[i * n + i]).sum::<f64>() / n as f64;
    let rung = mean * f64::EPSILON * 10f64.powi(info.attempts as i32 - 2);
    assert!((info.jitter - rung).abs() <= 1e-12 * rung, "{} vs {rung}", info.jitter);
    // The escalated factor is the factor of the *original* matrix plus the jitter: the
    // restore between attempts put A back.
    let mut want = a.clone();
    (0..n).for_each(|i| want[i * n + i] += info.jitter);
    let mut again = a.clone();
    cholesky_in_place(MatMut::new(n, n, &mut again).unwrap(), Jitter::Fixed(info.jitter)).unwrap();
    assert!(max_abs_diff(&llt(&l, n), &want) < 1e-12);
    assert!(max_abs_diff(&l, &again) < 1e-6, "escalated factor differs from the direct one");
}

#[test]
fn escalation_restores_the_input_when_it_gives_up() {
    let n = 5;
    let mut rng = Xoshiro256::from_u64(4);
    let mut a = random_spd(&mut rng, n, 0.1);
    a[3 * n + 3] = -10.0; // indefinite: no small jitter helps
    let mut work = a.clone();
    let r =
        cholesky_in_place(MatMut::new(n, n, &mut work).unwrap(), Jitter::Escalate { start: 1e-8, cap: 1e-3 });
    assert!(matches!(r, Err(Error::NotPositiveDefinite { pivot: 3, .. })), "{r:?}");
    assert!(max_abs_diff(&work, &a) < 1e-12, "input not restored");
}

#[test]
fn escalation_starts_with_the_given_jitter() {
    let n = 4;
    let mut rng = Xoshiro256::from_u64(5);
    let a = random_spd(&mut rng, n, 1.0);
    let mut l = a.clone();
    let info =
        cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Escalate { start: 1e-6, cap: 1.0 })
            .unwrap();
    assert_eq!(info, svgp::linalg::CholeskyInfo { jitter: 1e-6, attempts: 1 });
}

#[test]
fn bad_inputs_get_typed_errors() {
    let mut a = [4.0, 2.0, f64::NAN, 3.0];
    let r = cholesky_in_place(MatMut::new(2, 2, &mut a).unwrap(), Jitter::Fixed(0.0));
    assert!(matches!(r, Err(Error::NonFinite { index: 2, .. })), "{r:?}");
    let mut a = [4.0, 2.0, 2.0, f64::INFINITY];
    assert!(matches!(
        cholesky_in_place(MatMut::new(2, 2, &mut a).unwrap(), Jitter::Fixed(0.0)),
        Err(Error::NonFinite { index: 3, .. })
    ));
    // Fixed reads only the lower triangle, so junk above the diagonal is fine ...
    let mut a = [4.0, f64::NAN, 2.0, 3.0];
    assert!(cholesky_in_place(MatMut::new(2, 2, &mut a).unwrap(), Jitter::Fixed(0.0)).is_ok());
    // ... for Escalate too (a failed attempt restores the input from its own backup).
    let mut a = [4.0, f64::NAN, 2.0, 3.0];
    assert!(cholesky_in_place(MatMut::new(2, 2, &mut a).unwrap(), Jitter::Escalate { start: 0.0, cap: 1.0 })
        .is_ok());
    assert_eq!(a, [2.0, 0.0, 1.0, 2.0_f64.sqrt()]);
    for j in [-1.0, f64::NAN, f64::INFINITY] {
        let mut a = [1.0];
        assert!(matches!(
            cholesky_in_place(MatMut::new(1, 1, &mut a).unwrap(), Jitter::Fixed(j)),
            Err(Error::InvalidParameter { what: "jitter", .. })
        ));
    }
    let mut a = [1.0; 6];
    assert!(matches!(
        cholesky_in_place(MatMut::new(2, 3, &mut a).unwrap(), Jitter::Fixed(0.0)),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut a = [1.0, 2.0, 2.0, 1.0];
    assert!(matches!(
        cholesky_in_place(MatMut::new(2, 2, &mut a).unwrap(), Jitter::Fixed(0.0)),
        Err(Error::NotPositiveDefinite { pivot: 1, value }) if value == -3.0
    ));
    // A failed factorisation gives the input back.
    assert_eq!(a, [1.0, 2.0, 2.0, 1.0]);
    let mut empty: [f64; 0] = [];
    assert!(cholesky_in_place(MatMut::new(0, 0, &mut empty).unwrap(), Jitter::Fixed(0.0)).is_ok());
}

#[test]
fn solves_inverse_and_log_det_agree_with_the_matrix() {
    let mut rng = Xoshiro256::from_u64(6);
    for n in [1, 2, 5, 16, 33] {
        let a = random_spd(&mut rng, n, 0.5);
        let mut l = a.clone();
        cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
        let lr = MatRef::new(n, n, &l).unwrap();
        // A⁻¹ via the factor, times A, is the identity.
        let mut inv = vec![0.0; n * n];
        cholesky_inverse(lr, MatMut::new(n, n, &mut inv).unwrap()).unwrap();
        for i in 0..n {
            for j in 0..n {
                let s: f64 = (0..n).map(|k| inv[i * n + k] * a[k * n + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10, "n{n} ({i},{j})");
                assert_eq!(inv[i * n + j], inv[j * n + i]);
            }
        }
        // Solving L·Lᵀ·x = b with both sides, for 1 and 19 right-hand sides.
        for k in [1, 19] {
            let b: Vec<f64> = (0..n * k).map(|_| standard_normal(&mut rng)).collect();
            let mut x = b.clone();
            solve_triangular(lr, Side::Lower, MatMut::new(n, k, &mut x).unwrap()).unwrap();
            solve_triangular(lr, Side::LowerTrans, MatMut::new(n, k, &mut x).unwrap()).unwrap();
            for i in 0..n {
                for c in 0..k {
                    let s: f64 = (0..n).map(|p| a[i * n + p] * x[p * k + c]).sum();
                    assert!((s - b[i * k + c]).abs() < 1e-9, "n{n} k{k}");
                }
            }
        }
        // log det from Gaussian elimination, independently of the factor.
        let ld = log_det_elimination(&a, n);
        assert!((log_det_from_factor(lr).unwrap() - ld).abs() < 1e-10 * (1.0 + ld.abs()));
    }
}

#[test]
fn solve_reports_non_finite_results() {
    let l = [0.0, 0.0, 1.0, 1.0]; // zero pivot
    let mut b = [1.0, 1.0];
    let r = solve_triangular(MatRef::new(2, 2, &l).unwrap(), Side::Lower, MatMut::new(2, 1, &mut b).unwrap());
    assert!(matches!(r, Err(Error::NonFinite { what: "triangular solve result", index: 0, .. })), "{r:?}");
    let l = [1.0, 0.0, 1.0, 1.0];
    let mut b = [f64::NAN, 1.0, 2.0, 3.0];
    let r = solve_triangular(
        MatRef::new(2, 2, &l).unwrap(),
        Side::LowerTrans,
        MatMut::new(2, 2, &mut b).unwrap(),
    );
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    let mut b = [1.0; 3];
    assert!(matches!(
        solve_triangular(MatRef::new(2, 2, &l).unwrap(), Side::Lower, MatMut::new(3, 1, &mut b).unwrap()),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        log_det_from_factor(MatRef::new(2, 2, &[1.0, 0.0, 0.0, -1.0]).unwrap()),
        Err(Error::NotPositiveDefinite { pivot: 1, .. })
    ));
}

#[test]
fn escalation_after_a_tiny_pivot_keeps_the_input_exact() {
    // Pinned from a fuzz crash: a tiny (but positive) pivot makes the next row's factor
    // entries huge, then a later pivot fails. Rebuilding that row's diagonal by subtracting
    // the huge squares lost ~1e-9; the diagonal of unfactored rows must stay untouched.
    let n = 3;
    let a = vec![1.0, 1.0, 1.0, 1.0, 1.0 + 1e-10, 0.0, 1.0, 0.0, 1.0];
    let mut l = a.clone();
    let info =
        cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Escalate { start: 0.0, cap: 10.0 })
            .unwrap();
    assert!(info.attempts > 1);
    let mut want = a.clone();
    (0..n).for_each(|i| want[i * n + i] += info.jitter);
    assert!(max_abs_diff(&llt(&l, n), &want) <= 1e-14 * (1.0 + info.jitter), "{:?}", llt(&l, n));
    // And a failed Fixed attempt hands back exactly the input.
    let mut w = a.clone();
    assert!(cholesky_in_place(MatMut::new(n, n, &mut w).unwrap(), Jitter::Fixed(0.0)).is_err());
    assert_eq!(w[8], a[8]);
    assert_eq!(w[4], a[4]);
}
