//! Property tests, instantiated for f32 and f64 by one macro: the factor reproduces A to a
//! relative residual of about 100·eps·n, solves meet their backward-error bounds, and the
//! log-determinant matches the pivots' (computed independently by elimination in f64).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::linalg::log_det_elimination;
use proptest::prelude::*;
use svgp::linalg::{cholesky_in_place, log_det_from_factor, solve_triangular, Jitter, MatMut, MatRef, Side};
use svgp::rng::{standard_normal, Xoshiro256};

/// A random SPD matrix with a chosen spread of eigenvalue scales: Q·diag(d)·Qᵀ-like via
/// G·D·Gᵀ/n + shift·I, where `spread` sets how ill-conditioned it gets.
fn spd(n: usize, seed: u64, spread: f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    let g: Vec<f64> = (0..n * n).map(|_| standard_normal(&mut rng)).collect();
    let d: Vec<f64> = (0..n).map(|k| 10f64.powf(-spread * k as f64 / n as f64)).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let s: f64 = (0..n).map(|k| g[i * n + k] * d[k] * g[j * n + k]).sum();
            a[i * n + j] = s / n as f64 + if i == j { 1e-2 } else { 0.0 };
        }
    }
    a
}

fn fro(x: impl Iterator<Item = f64>) -> f64 {
    x.map(|v| v * v).sum::<f64>().sqrt()
}

macro_rules! gen_props {
    ($name:ident, $t:ty) => {
        mod $name {
            use super::*;
            type T = $t;
            const EPS: f64 = <$t>::EPSILON as f64;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]

                #[test]
                fn factor_residual(n in 1usize..=48, seed in any::<u64>(), spread in 0.0f64..4.0) {
                    let a64 = spd(n, seed, spread);
                    let a: Vec<T> = a64.iter().map(|&v| v as T).collect();
                    let mut l = a.clone();
                    cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
                    // ‖L·Lᵀ − A‖_F ≤ 100·eps·n·‖A‖_F, with A as stored in T.
                    let mut r = 0.0;
                    for i in 0..n {
                        for j in 0..=i {
                            let s: f64 = (0..=j).map(|k| l[i * n + k] as f64 * l[j * n + k] as f64).sum();
                            let d = s - a[i * n + j] as f64;
                            r += if i == j { d * d } else { 2.0 * d * d };
                        }
                    }
                    let norm = fro(a.iter().map(|&v| v as f64));
                    prop_assert!(r.sqrt() <= 100.0 * EPS * n as f64 * norm, "residual {} vs {}", r.sqrt(), norm);
                    prop_assert!(l.iter().all(|v| v.is_finite()));
                }

                #[test]
                fn solve_residual(n in 1usize..=48, k in 1usize..=20, seed in any::<u64>(), trans in any::<bool>()) {
                    let a64 = spd(n, seed, 2.0);
                    let mut l: Vec<T> = a64.iter().map(|&v| v as T).collect();
                    cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
                    let mut rng = Xoshiro256::from_u64(seed ^ 0x5eed);
                    let b: Vec<T> = (0..n * k).map(|_| standard_normal(&mut rng) as T).collect();
                    let mut x = b.clone();
                    let side = if trans { Side::LowerTrans } else { Side::Lower };
                    solve_triangular(MatRef::new(n, n, &l).unwrap(), side, MatMut::new(n, k, &mut x).unwrap()).unwrap();
                    // Backward error, per column: ‖op(L)·x − b‖ ≤ 10·n·eps·‖L‖_F·‖x‖.
                    let lnorm = fro(l.iter().map(|&v| v as f64));
                    for c in 0..k {
                        let mut r2 = 0.0;
                        for i in 0..n {
                            let s: f64 = (0..n)
                                .map(|p| {
                                    let lv = if trans { l[p * n + i] } else { l[i * n + p] };
                                    lv as f64 * x[p * k + c] as f64
                                })
                                .sum();
                            r2 += (s - b[i * k + c] as f64).powi(2);
                        }
                        let xn = fro((0..n).map(|i| x[i * k + c] as f64));
                        prop_assert!(r2.sqrt() <= 10.0 * n as f64 * EPS * lnorm * xn, "column {c}");
                    }
                }

                #[test]
                fn log_det_matches_elimination(n in 1usize..=48, seed in any::<u64>(), spread in 0.0f64..3.0) {
                    let a64 = spd(n, seed, spread);
                    let a: Vec<T> = a64.iter().map(|&v| v as T).collect();
                    let mut l = a.clone();
                    cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
                    let ld = log_det_from_factor(MatRef::new(n, n, &l).unwrap()).unwrap() as f64;
                    let a_stored: Vec<f64> = a.iter().map(|&v| v as f64).collect();
                    let want = log_det_elimination(&a_stored, n);
                    // Each pivot carries a relative error of about n·eps·κ-ish; allow n²·eps·10^spread.
                    let tol = 50.0 * (n * n) as f64 * EPS * 10f64.powf(spread) * (1.0 + want.abs());
                    prop_assert!((ld - want).abs() <= tol, "{ld} vs {want}");
                }
            }
        }
    };
}

gen_props!(f64_props, f64);
gen_props!(f32_props, f32);
