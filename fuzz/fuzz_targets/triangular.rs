//! Triangular solves with an arbitrary lower-triangular L (zero, tiny, huge, NaN, ∞ on the
//! diagonal or off it) and arbitrary right-hand sides, in f64 and f32.
//!
//! Invariants: no panic; `Ok` ⇒ the solution is finite and meets the componentwise
//! backward-error bound; `Err` ⇒ `NonFinite` (the only failure a solve has).
#![no_main]

mod common;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use svgp::linalg::{solve_triangular, MatMut, MatRef, Side};
use svgp::{Error, Scalar};

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = (b.u8() % 20) as usize;
    let flags = b.u8();
    let raw = flags & 1 != 0;
    let side = if flags & 2 != 0 { Side::LowerTrans } else { Side::Lower };
    let k = (flags >> 2) as usize % 24;
    let l: Vec<f64> = (0..n * n).map(|_| b.f64(raw)).collect();
    let rhs: Vec<f64> = (0..n * k).map(|_| b.f64(raw)).collect();
    if flags & 128 != 0 {
        run::<f32>(&l, &rhs, n, k, side);
    } else {
        run::<f64>(&l, &rhs, n, k, side);
    }
});

fn run<T: Scalar>(l: &[f64], rhs: &[f64], n: usize, k: usize, side: Side) {
    let l: Vec<T> = l.iter().map(|&v| T::from_f64(v)).collect();
    let b: Vec<T> = rhs.iter().map(|&v| T::from_f64(v)).collect();
    let mut x = b.clone();
    match solve_triangular(MatRef::new(n, n, &l).unwrap(), side, MatMut::new(n, k, &mut x).unwrap()) {
        Ok(()) => {
            assert!(x.iter().all(|v| v.is_finite()), "Ok with non-finite solution");
            let eps = T::epsilon().re();
            for c in 0..k {
                for i in 0..n {
                    let (mut r, mut bound, mut lsum) = (0.0f64, 0.0f64, 0.0f64);
                    for p in 0..n {
                        let lv = match side {
                            Side::Lower if p <= i => l[i * n + p].re(),
                            Side::LowerTrans if p >= i => l[p * n + i].re(),
                            _ => 0.0,
                        };
                        r += lv * x[p * k + c].re();
                        bound += (lv * x[p * k + c].re()).abs();
                        lsum += lv.abs();
                    }
                    if !bound.is_finite() || !r.is_finite() || !lsum.is_finite() {
                        continue; // the f64 check overflowed, not the solve
                    }
                    // Backward error γ·|L||x|, plus underflow: a subnormal x_p is off by up to
                    // the smallest subnormal `tiny`, which |L| can magnify, and a product that
                    // underflows is off by up to `tiny` absolutely.
                    let tiny = if eps > 1e-10 { 1.5e-45 } else { 5e-324 };
                    let tol = 4.0 * (n + 2) as f64 * (eps * bound + tiny * (1.0 + lsum));
                    assert!(
                        (r - b[i * k + c].re()).abs() <= tol,
                        "residual row {i} col {c}: {r} vs {}",
                        b[i * k + c].re()
                    );
                }
            }
        }
        Err(Error::NonFinite { .. }) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
}
