//! gemm, syrk, gemv, dot and axpy against naive loops, for every transpose combination,
//! sizes on both sides of the packed-kernel thresholds, f32 and f64, and Dual.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::linalg::{abs_scale, naive_gemm, randn};
use svgp::linalg::{axpy, dot, gemm, gemv, syrk, MatMut, MatRef, Trans};
use svgp::rng::Xoshiro256;
use svgp::{Dual, Error};

fn tr(t: bool) -> Trans {
    if t {
        Trans::Yes
    } else {
        Trans::No
    }
}

/// Shapes (m, n, k): tiny, odd edges, and the flagship's (N = 600, M = 30, J = 256).
const SHAPES: &[(usize, usize, usize)] = &[
    (0, 3, 2),
    (3, 0, 2),
    (2, 3, 0),
    (1, 1, 1),
    (7, 5, 3),
    (13, 17, 19),
    (37, 53, 71),
    (64, 64, 64),
    (30, 600, 256),
    (600, 30, 256),
    (30, 256, 600),
    (600, 256, 30),
    (5, 300, 290),
];

fn check_gemm_f64(m: usize, n: usize, k: usize, ta: bool, tb: bool, alpha: f64, beta: f64, seed: u64) {
    let mut rng = Xoshiro256::from_u64(seed);
    let a = randn(&mut rng, m * k);
    let b = randn(&mut rng, k * n);
    let c0 = randn(&mut rng, m * n);
    let (a_cols, b_cols) = (if ta { m } else { k }, if tb { k } else { n });
    let want = naive_gemm(alpha, &a, a_cols, ta, &b, b_cols, tb, beta, &c0, m, n, k);
    let scale = abs_scale(&a, a_cols, ta, &b, b_cols, tb, m, n, k);
    let mut c = if beta == 0.0 { vec![f64::NAN; m * n] } else { c0.clone() };
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    gemm(
        alpha,
        MatRef::new(ar, ac, &a).unwrap(),
        tr(ta),
        MatRef::new(br, bc, &b).unwrap(),
        tr(tb),
        beta,
        MatMut::new(m, n, &mut c).unwrap(),
    )
    .unwrap();
    for i in 0..m * n {
        let tol = 4.0
            * (k as f64 + 2.0)
            * f64::EPSILON
            * (alpha.abs() * scale[i] + beta.abs() * c0[i].abs() + 1e-300);
        assert!(
            (c[i] - want[i]).abs() <= tol,
            "m{m} n{n} k{k} ta{ta} tb{tb} at {i}: {} vs {}",
            c[i],
            want[i]
        );
    }
}

#[test]
fn gemm_f64_all_variants_match_naive() {
    let mut seed = 1;
    for &(m, n, k) in SHAPES {
        for ta in [false, true] {
            for tb in [false, true] {
                for (alpha, beta) in [(1.0, 0.0), (-0.7, 1.0), (2.0, 0.5)] {
                    seed += 1;
                    check_gemm_f64(m, n, k, ta, tb, alpha, beta, seed);
                }
            }
        }
    }
}

#[test]
fn gemm_f32_all_variants_match_naive() {
    let mut rng = Xoshiro256::from_u64(99);
    for &(m, n, k) in SHAPES {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randn(&mut rng, m * k);
                let b = randn(&mut rng, k * n);
                let (a_cols, b_cols) = (if ta { m } else { k }, if tb { k } else { n });
                let want = naive_gemm(1.0, &a, a_cols, ta, &b, b_cols, tb, 0.0, &[], m, n, k);
                let scale = abs_scale(&a, a_cols, ta, &b, b_cols, tb, m, n, k);
                let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                let mut c = vec![f32::NAN; m * n];
                let (ar, ac) = if ta { (k, m) } else { (m, k) };
                let (br, bc) = if tb { (n, k) } else { (k, n) };
                gemm(
                    1.0f32,
                    MatRef::new(ar, ac, &a32).unwrap(),
                    tr(ta),
                    MatRef::new(br, bc, &b32).unwrap(),
                    tr(tb),
                    0.0,
                    MatMut::new(m, n, &mut c).unwrap(),
                )
                .unwrap();
                for i in 0..m * n {
                    // Input rounding (2 eps per product) plus accumulation.
                    let tol = 4.0 * (k as f64 + 4.0) * f32::EPSILON as f64 * (scale[i] + 1e-30);
                    assert!((c[i] as f64 - want[i]).abs() <= tol, "f32 m{m} n{n} k{k} ta{ta} tb{tb} at {i}");
                }
            }
        }
    }
}

#[test]
fn gemm_on_duals_carries_tangents() {
    // d/dt (A + tE)·B = E·B.
    let mut rng = Xoshiro256::from_u64(5);
    let (m, n, k) = (4, 3, 5);
    let a = randn(&mut rng, m * k);
    let e = randn(&mut rng, m * k);
    let b = randn(&mut rng, k * n);
    let ad: Vec<Dual<f64, 1>> = a.iter().zip(&e).map(|(&x, &d)| Dual::new(x, [d])).collect();
    let bd: Vec<Dual<f64, 1>> = b.iter().map(|&x| Dual::constant(x)).collect();
    let mut c = vec![Dual::constant(0.0); m * n];
    gemm(
        Dual::constant(1.0),
        MatRef::new(m, k, &ad).unwrap(),
        Trans::No,
        MatRef::new(k, n, &bd).unwrap(),
        Trans::No,
        Dual::constant(0.0),
        MatMut::new(m, n, &mut c).unwrap(),
    )
    .unwrap();
    let want_re = naive_gemm(1.0, &a, k, false, &b, n, false, 0.0, &[], m, n, k);
    let want_eps = naive_gemm(1.0, &e, k, false, &b, n, false, 0.0, &[], m, n, k);
    for i in 0..m * n {
        assert!((c[i].re - want_re[i]).abs() < 1e-12);
        assert!((c[i].eps[0] - want_eps[i]).abs() < 1e-12);
    }
}

#[test]
fn gemm_rejects_bad_dimensions() {
    let a = [0.0; 6];
    let mut c = [0.0; 4];
    let r = gemm(
        1.0,
        MatRef::new(2, 3, &a).unwrap(),
        Trans::No,
        MatRef::new(2, 3, &a).unwrap(),
        Trans::No,
        0.0,
        MatMut::new(2, 2, &mut c).unwrap(),
    );
    assert!(matches!(
        r,
        Err(Error::DimensionMismatch { what: "gemm inner dimension", expected: 3, found: 2 })
    ));
    let r = gemm(
        1.0,
        MatRef::new(2, 3, &a).unwrap(),
        Trans::No,
        MatRef::new(2, 3, &a).unwrap(),
        Trans::Yes,
        0.0,
        MatMut::new(2, 2, &mut c[..4]).unwrap(),
    );
    assert!(r.is_ok());
    assert!(MatRef::new(2, 4, &a).is_err());
    assert!(MatRef::new(usize::MAX, 2, &a).is_err());
}

#[test]
fn syrk_matches_naive_and_is_symmetric() {
    let mut rng = Xoshiro256::from_u64(17);
    for &(m, k) in &[(1, 1), (5, 3), (30, 256), (64, 10), (97, 40), (100, 300)] {
        for ta in [false, true] {
            let a = randn(&mut rng, m * k);
            let a_cols = if ta { m } else { k };
            let c0 = randn(&mut rng, m * m);
            let mut c0s = c0.clone();
            for i in 0..m {
                for j in 0..i {
                    c0s[j * m + i] = c0s[i * m + j];
                }
            }
            let want = naive_gemm(0.5, &a, a_cols, ta, &a, a_cols, !ta, 2.0, &c0s, m, m, k);
            let scale = abs_scale(&a, a_cols, ta, &a, a_cols, !ta, m, m, k);
            let mut c = c0.clone();
            let (ar, ac) = if ta { (k, m) } else { (m, k) };
            syrk(0.5, MatRef::new(ar, ac, &a).unwrap(), tr(ta), 2.0, MatMut::new(m, m, &mut c).unwrap())
                .unwrap();
            for i in 0..m {
                for j in 0..m {
                    let x = c[i * m + j];
                    assert_eq!(x, c[j * m + i]);
                    let tol =
                        8.0 * (k as f64 + 2.0) * f64::EPSILON * (scale[i * m + j] + c0s[i * m + j].abs());
                    assert!((x - want[i * m + j]).abs() <= tol, "syrk m{m} k{k} ta{ta} ({i},{j})");
                }
            }
        }
    }
}

#[test]
fn gemv_dot_axpy_match_naive() {
    let mut rng = Xoshiro256::from_u64(3);
    for &(m, n) in &[(1, 1), (3, 7), (17, 33), (64, 200)] {
        let a = randn(&mut rng, m * n);
        for ta in [false, true] {
            let (rows, cols) = if ta { (n, m) } else { (m, n) };
            let x = randn(&mut rng, cols);
            let y0 = randn(&mut rng, rows);
            let mut y = y0.clone();
            gemv(1.5, MatRef::new(m, n, &a).unwrap(), tr(ta), &x, -1.0, &mut y).unwrap();
            let want = naive_gemm(1.5, &a, n, ta, &x, 1, false, -1.0, &y0, rows, 1, cols);
            for i in 0..rows {
                assert!((y[i] - want[i]).abs() < 1e-12 * (cols as f64 + 1.0) * 10.0, "gemv");
            }
        }
        let x = randn(&mut rng, n);
        let y = randn(&mut rng, n);
        let d = dot(&x, &y).unwrap();
        let want: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert!((d - want).abs() < 1e-12 * n as f64);
        let mut z = y.clone();
        axpy(-2.0, &x, &mut z).unwrap();
        for i in 0..n {
            assert_eq!(z[i], y[i] - 2.0 * x[i]);
        }
    }
    assert!(dot(&[1.0, 2.0], &[1.0]).is_err());
    assert!(axpy(1.0, &[1.0, 2.0], &mut [1.0]).is_err());
    assert!(gemv(1.0, MatRef::new(1, 2, &[1.0, 2.0]).unwrap(), Trans::No, &[1.0], 0.0, &mut [0.0]).is_err());
}
