//! Triangular solves with a Cholesky factor, log-determinant and inverse.

use super::{MatMut, MatRef};
use crate::error::{check_len, Result};
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
/// factor's is positive).
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
    match side {
        Side::Lower => {
            for i in 0..n {
                for p in 0..i {
                    let lip = ld[i * n + p];
                    let (done, rest) = bd.split_at_mut(i * k);
                    let src = &done[p * k..(p + 1) * k];
                    for (x, &s) in rest[..k].iter_mut().zip(src) {
                        *x -= lip * s;
                    }
                }
                let inv = ld[i * n + i].recip();
                bd[i * k..(i + 1) * k].iter_mut().for_each(|x| *x *= inv);
            }
        }
        Side::LowerTrans => {
            for i in (0..n).rev() {
                let inv = ld[i * n + i].recip();
                bd[i * k..(i + 1) * k].iter_mut().for_each(|x| *x *= inv);
                // Row i of X is final: subtract L[i][p]·X[i] from rows p < i.
                let (head, tail) = bd.split_at_mut(i * k);
                let xi = &tail[..k];
                for p in 0..i {
                    let lip = ld[i * n + p];
                    for (x, &s) in head[p * k..(p + 1) * k].iter_mut().zip(xi) {
                        *x -= lip * s;
                    }
                }
            }
        }
    }
    Ok(())
}

/// log det(L·Lᵀ) = 2 Σ ln L_ii for a Cholesky factor `L`.
pub fn log_det_from_factor<S: Scalar>(l: MatRef<'_, S>) -> Result<S> {
    let n = l.rows();
    check_len("log-det: square factor", n, l.cols())?;
    let s: S = (0..n).map(|i| l.get(i, i).ln()).sum();
    Ok(s + s)
}

/// (L·Lᵀ)⁻¹ written into `out` (n × n, full symmetric), from the factor `L`.
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
    Ok(())
}
