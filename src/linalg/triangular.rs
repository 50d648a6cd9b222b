//! Triangular solves with a Cholesky factor, log-determinant and inverse.

use super::gemm::mirror_lower;
use super::vector::{axpy_kernel, dot_kernel};
use super::{MatMut, MatRef};
use crate::arch::simd;
use crate::error::{check_finite, check_len, Error, Result};
use crate::Scalar;

/// Which system a triangular solve answers, for lower-triangular `L`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `L·X = B`.
    Lower,
    /// `Lᵀ·X = B`.
    LowerTrans,
}

/// Solve `L·X = B` or `Lᵀ·X = B` in place (`B` is n × k, overwritten by `X`).
///
/// Only the lower triangle of `l` is read. The diagonal must be non-zero (a Cholesky
/// factor's is positive). A result that is not finite (a zero pivot, overflow, or NaN in
/// the inputs) is reported as [`Error::NonFinite`] naming the first bad entry of `X`;
/// `B` then holds unspecified values.
///
/// ```
/// use svgp::linalg::{solve_triangular, MatMut, MatRef, Side};
/// let l = [2.0, 0.0, 1.0, 1.0];
/// let mut b = [2.0, 3.0];
/// solve_triangular(MatRef::new(2, 2, &l)?, Side::Lower, MatMut::new(2, 1, &mut b)?)?;
/// assert_eq!(b, [1.0, 2.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn solve_triangular<S: Scalar>(l: MatRef<'_, S>, side: Side, mut b: MatMut<'_, S>) -> Result<()> {
    let n = l.rows();
    check_len("triangular solve: square factor", n, l.cols())?;
    check_len("triangular solve: right-hand side rows", n, b.rows())?;
    let k = b.cols();
    let ld = l.as_slice();
    let bd = b.as_mut_slice();
    simd(
        #[inline(always)]
        || {
            if k == 1 {
                solve_vector(ld, n, bd, side)
            } else {
                solve_many(ld, n, bd, k, side)
            }
        },
    );
    check_finite("triangular solve result", bd)
}

/// One right-hand side: forward substitution as dot products of contiguous rows of `L`;
/// back substitution as axpys with contiguous rows of `L` (never a strided column walk).
#[inline(always)]
fn solve_vector<S: Scalar>(ld: &[S], n: usize, x: &mut [S], side: Side) {
    match side {
        Side::Lower => {
            for i in 0..n {
                let (done, rest) = x.split_at_mut(i);
                rest[0] = (rest[0] - dot_kernel(&ld[i * n..i * n + i], done)) / ld[i * n + i];
            }
        }
        Side::LowerTrans => {
            for i in (0..n).rev() {
                let (head, rest) = x.split_at_mut(i);
                rest[0] /= ld[i * n + i];
                axpy_kernel(-rest[0], &ld[i * n..i * n + i], head);
            }
        }
    }
}

/// Right-hand-side columns handled per sweep: `W` accumulators stay in registers.
const W: usize = 16;

/// Many right-hand sides: sweep `W` columns at a time. Row `i` of the block is accumulated
/// in a local array (registers) while the finished rows stream past, so each
/// multiply-add costs one load; `L` is read by scalar broadcasts.
#[inline(always)]
fn solve_many<S: Scalar>(ld: &[S], n: usize, bd: &mut [S], k: usize, side: Side) {
    let mut j0 = 0;
    while j0 < k {
        let w = W.min(k - j0);
        for step in 0..n {
            let i = match side {
                Side::Lower => step,
                Side::LowerTrans => n - 1 - step,
            };
            // Finished rows p and the multipliers L_ip (Lower) or L_pi (LowerTrans).
            let (lo, hi) = match side {
                Side::Lower => (0, i),
                Side::LowerTrans => (i + 1, n),
            };
            let coef = |p: usize| match side {
                Side::Lower => ld[i * n + p],
                Side::LowerTrans => ld[p * n + i],
            };
            let d = ld[i * n + i];
            if w == W {
                let mut acc = [S::zero(); W];
                acc.copy_from_slice(&bd[i * k + j0..i * k + j0 + W]);
                for p in lo..hi {
                    let c = coef(p);
                    let xp = &bd[p * k + j0..p * k + j0 + W];
                    for t in 0..W {
                        acc[t] -= c * xp[t];
                    }
                }
                for (dst, &v) in bd[i * k + j0..i * k + j0 + W].iter_mut().zip(&acc) {
                    *dst = v / d;
                }
            } else {
                for p in lo..hi {
                    let c = coef(p);
                    for t in 0..w {
                        let xp = bd[p * k + j0 + t];
                        bd[i * k + j0 + t] -= c * xp;
                    }
                }
                bd[i * k + j0..i * k + j0 + w].iter_mut().for_each(|v| *v /= d);
            }
        }
        j0 += w;
    }
}

/// log det(L·Lᵀ) = 2 Σ ln L_ii for a Cholesky factor `L`.
///
/// A diagonal entry that is not positive and finite is reported as
/// [`Error::NotPositiveDefinite`] at that pivot (instead of a NaN result).
///
/// ```
/// use svgp::linalg::{log_det_from_factor, MatRef};
/// let l = [2.0, 0.0, 1.0, 3.0];
/// let ld = log_det_from_factor(MatRef::new(2, 2, &l)?)?;
/// assert!((ld - 36.0_f64.ln()).abs() < 1e-14);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn log_det_from_factor<S: Scalar>(l: MatRef<'_, S>) -> Result<S> {
    let n = l.rows();
    check_len("log-det: square factor", n, l.cols())?;
    let mut s = S::zero();
    for i in 0..n {
        let d = l.get(i, i);
        let positive = d > S::zero() && d.is_finite();
        if !positive {
            return Err(Error::NotPositiveDefinite { pivot: i, value: d.re() });
        }
        s += d.ln();
    }
    Ok(s + s)
}

/// (L·Lᵀ)⁻¹ written into `out` (n × n, full symmetric), from the factor `L`.
///
/// ```
/// use svgp::linalg::{cholesky_inverse, MatMut, MatRef};
/// let l = [2.0, 0.0, 1.0, 1.0]; // L·Lᵀ = [[4, 2], [2, 2]]
/// let mut inv = [0.0; 4];
/// cholesky_inverse(MatRef::new(2, 2, &l)?, MatMut::new(2, 2, &mut inv)?)?;
/// assert_eq!(inv, [0.5, -0.5, -0.5, 1.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn cholesky_inverse<S: Scalar>(l: MatRef<'_, S>, mut out: MatMut<'_, S>) -> Result<()> {
    let n = l.rows();
    check_len("inverse: square factor", n, l.cols())?;
    check_len("inverse: output rows", n, out.rows())?;
    check_len("inverse: output cols", n, out.cols())?;
    {
        let o = out.as_mut_slice();
        o.iter_mut().for_each(|v| *v = S::zero());
        for i in 0..n {
            o[i * n + i] = S::one();
        }
    }
    solve_triangular(l, Side::Lower, MatMut::new(n, n, out.as_mut_slice())?)?;
    solve_triangular(l, Side::LowerTrans, MatMut::new(n, n, out.as_mut_slice())?)?;
    // The two solves leave rounding-level asymmetry; make the result exactly symmetric.
    mirror_lower(out.as_mut_slice(), n);
    Ok(())
}
