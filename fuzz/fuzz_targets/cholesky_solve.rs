//! Cholesky (fixed or escalating jitter) then a solve with the factor, on arbitrary bytes:
//! any size, NaN and infinity, non-symmetric, indefinite, badly scaled.
//!
//! Invariants: no panic; an `Ok` factor is finite and reproduces A (+ jitter) to the
//! backward-error bound; `NonFinite` only for non-finite input; `NotPositiveDefinite` never for
//! a strictly diagonally dominant matrix with a positive diagonal (those are PD); an `Ok`
//! solve meets its residual bound and an `Err` one is `NonFinite`.
#![no_main]

mod common;

use common::{pow2_scale, Bytes};
use libfuzzer_sys::fuzz_target;
use svgp::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, Side};
use svgp::Error;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = (b.u8() % 24) as usize;
    let flags = b.u8();
    let raw = flags & 1 != 0;
    let symmetrise = flags & 2 != 0;
    let dominant = flags & 4 != 0;
    let escalate = flags & 8 != 0;
    let k = 1 + (flags >> 4) as usize % 4;
    let mut a: Vec<f64> = (0..n * n).map(|_| b.f64(raw)).collect();
    if symmetrise {
        for i in 0..n {
            for j in 0..i {
                a[j * n + i] = a[i * n + j];
            }
        }
    }
    if dominant {
        // Row sums over the lower triangle as read (symmetric view), doubled plus one.
        for i in 0..n {
            let s: f64 = (0..n).filter(|&j| j != i).map(|j| a[i.max(j) * n + i.min(j)].abs()).sum();
            a[i * n + i] = 2.0 * s + 1.0;
        }
    }
    let jitter = if escalate { Jitter::Escalate { start: 0.0, cap: 1e6 } } else { Jitter::Fixed(0.0) };
    let lower_finite = (0..n).all(|i| (0..=i).all(|j| a[i * n + j].is_finite()));
    let all_finite = a.iter().all(|v| v.is_finite());
    let mut l = a.clone();
    match cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), jitter) {
        Ok(info) => {
            assert!(l.iter().all(|v| v.is_finite()), "Ok factor with non-finite entries");
            check_factor(&a, &l, n, info.jitter);
            let rhs: Vec<f64> = (0..n * k).map(|_| b.f64(false)).collect();
            let mut x = rhs.clone();
            for side in [Side::Lower, Side::LowerTrans] {
                x.copy_from_slice(&rhs);
                match solve_triangular(
                    MatRef::new(n, n, &l).unwrap(),
                    side,
                    MatMut::new(n, k, &mut x).unwrap(),
                ) {
                    Ok(()) => check_solve(&l, &x, &rhs, n, k, side),
                    Err(Error::NonFinite { .. }) => {}
                    Err(e) => panic!("unexpected solve error {e:?}"),
                }
            }
        }
        Err(Error::NonFinite { .. }) => {
            let read_finite = if escalate { all_finite } else { lower_finite };
            assert!(!read_finite, "NonFinite for finite input");
        }
        Err(Error::NotPositiveDefinite { .. }) => {
            // Strictly diagonally dominant, positive diagonal, not overflowing: PD for sure.
            let tame = a.iter().all(|v| v.abs() < 1e150);
            assert!(!(dominant && lower_finite && tame), "NotPositiveDefinite for a dominant matrix");
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
});

/// |L·Lᵀ − (A + jI)|_ij ≤ 4(n+1)·eps·(|L|·|Lᵀ|)_ij (the backward-error bound of Cholesky, plus
/// an allowance for gradual underflow), in power-of-two-scaled arithmetic so the check
/// itself cannot overflow.
fn check_factor(a: &[f64], l: &[f64], n: usize, jitter: f64) {
    let s = pow2_scale(l.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let ls: Vec<f64> = l.iter().map(|v| v * s).collect();
    for i in 0..n {
        for j in 0..=i {
            let llt: f64 = (0..=j).map(|k| ls[i * n + k] * ls[j * n + k]).sum();
            // (|L|·|Lᵀ|)_ij: the componentwise scale of Cholesky's backward error.
            let abs: f64 = (0..=j).map(|k| (ls[i * n + k] * ls[j * n + k]).abs()).sum();
            let want = (a[i * n + j] + if i == j { jitter } else { 0.0 }) * s * s;
            // Plus gradual underflow: an operation below the smallest normal loses about one
            // subnormal ulp (4.9e-324) absolutely, in the factorisation (scaled here by s²) or
            // in this check's own scaled arithmetic.
            let underflow = 4.0 * (n + 1) as f64 * ((4.9e-324 * s) * s).max(4.9e-324);
            let bound = 4.0 * (n + 1) as f64 * f64::EPSILON * abs + underflow;
            // On the diagonal: the jitter is rounded when added, and each failed escalation
            // attempt rebuilds the factored rows' diagonals from sums of squares (≈ n·eps·‖L_i‖²).
            let slack = if i == j {
                4.0 * f64::EPSILON * want.abs() + 2.0 * (n + 1) as f64 * f64::EPSILON * abs
            } else {
                0.0
            };
            assert!((llt - want).abs() <= bound + slack, "residual at ({i},{j}): {llt} vs {want}");
        }
    }
}

/// |op(L)·x − b|_i ≤ 2(n+1)·eps·(|op(L)|·|x|)_i (componentwise backward error).
fn check_solve(l: &[f64], x: &[f64], b: &[f64], n: usize, k: usize, side: Side) {
    for c in 0..k {
        for i in 0..n {
            let (mut r, mut bound, mut lsum) = (0.0, 0.0, 0.0f64);
            for p in 0..n {
                let lv = match side {
                    Side::Lower if p <= i => l[i * n + p],
                    Side::LowerTrans if p >= i => l[p * n + i],
                    _ => 0.0,
                };
                r += lv * x[p * k + c];
                bound += (lv * x[p * k + c]).abs();
                lsum += lv.abs();
            }
            if !bound.is_finite() || !r.is_finite() || !lsum.is_finite() {
                continue; // the check overflowed, not the solve
            }
            // Backward error plus gradual underflow (a subnormal x_p is off by ~4.9e-324).
            let tol = 2.0 * (n + 1) as f64 * (f64::EPSILON * bound + 4.9e-324 * lsum) + 1e-300;
            assert!((r - b[i * k + c]).abs() <= tol, "solve residual row {i} col {c}");
        }
    }
}
