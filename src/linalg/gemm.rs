//! Matrix products: gemm in its transpose variants, gemv, dot, axpy.

use super::{MatMut, MatRef};
use crate::error::{check_len, Result};
use crate::Scalar;

/// Whether an operand enters a product as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    /// Use the matrix as stored.
    No,
    /// Use its transpose.
    Yes,
}

impl Trans {
    #[inline]
    fn dims<S: Copy>(self, m: &MatRef<'_, S>) -> (usize, usize) {
        match self {
            Trans::No => (m.rows(), m.cols()),
            Trans::Yes => (m.cols(), m.rows()),
        }
    }
}

/// `C ← α·op(A)·op(B) + β·C`. With `β = 0`, `C`'s old contents are ignored (NaN included).
///
/// ```
/// use svgp::linalg::{gemm, MatMut, MatRef, Trans};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [0.0; 4];
/// gemm(1.0, MatRef::new(2, 2, &a)?, Trans::Yes, MatRef::new(2, 2, &a)?, Trans::No, 0.0,
///      MatMut::new(2, 2, &mut c)?)?;
/// assert_eq!(c, [10.0, 14.0, 14.0, 20.0]); // AᵀA
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gemm<S: Scalar>(
    alpha: S,
    a: MatRef<'_, S>,
    ta: Trans,
    b: MatRef<'_, S>,
    tb: Trans,
    beta: S,
    mut c: MatMut<'_, S>,
) -> Result<()> {
    let (m, k) = ta.dims(&a);
    let (kb, n) = tb.dims(&b);
    check_len("gemm inner dimension", k, kb)?;
    check_len("gemm output rows", m, c.rows())?;
    check_len("gemm output cols", n, c.cols())?;
    let cs = c.as_mut_slice();
    if beta == S::zero() {
        cs.iter_mut().for_each(|v| *v = S::zero());
    } else if beta != S::one() {
        cs.iter_mut().for_each(|v| *v *= beta);
    }
    let (ad, bd) = (a.as_slice(), b.as_slice());
    let (lda, ldb) = (a.cols(), b.cols());
    for i in 0..m {
        let crow = &mut cs[i * n..(i + 1) * n];
        for p in 0..k {
            let aip = match ta {
                Trans::No => ad[i * lda + p],
                Trans::Yes => ad[p * lda + i],
            } * alpha;
            match tb {
                Trans::No => {
                    let brow = &bd[p * ldb..(p + 1) * ldb];
                    for (cv, &bv) in crow.iter_mut().zip(brow) {
                        *cv += aip * bv;
                    }
                }
                Trans::Yes => {
                    for (j, cv) in crow.iter_mut().enumerate() {
                        *cv += aip * bd[j * ldb + p];
                    }
                }
            }
        }
    }
    Ok(())
}

/// `y ← α·op(A)·x + β·y`.
pub fn gemv<S: Scalar>(alpha: S, a: MatRef<'_, S>, ta: Trans, x: &[S], beta: S, y: &mut [S]) -> Result<()> {
    let (m, n) = ta.dims(&a);
    check_len("gemv x", n, x.len())?;
    check_len("gemv y", m, y.len())?;
    if beta == S::zero() {
        y.iter_mut().for_each(|v| *v = S::zero());
    } else if beta != S::one() {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    match ta {
        Trans::No => {
            for (i, yi) in y.iter_mut().enumerate() {
                *yi += alpha * dot_unchecked(a.row(i), x);
            }
        }
        Trans::Yes => {
            for (p, &xp) in x.iter().enumerate().take(a.rows()) {
                let s = alpha * xp;
                for (yi, &av) in y.iter_mut().zip(a.row(p)) {
                    *yi += s * av;
                }
            }
        }
    }
    Ok(())
}

#[inline]
pub(crate) fn dot_unchecked<S: Scalar>(x: &[S], y: &[S]) -> S {
    let mut acc = S::zero();
    for (&a, &b) in x.iter().zip(y) {
        acc += a * b;
    }
    acc
}

/// x·y.
pub fn dot<S: Scalar>(x: &[S], y: &[S]) -> Result<S> {
    check_len("dot y", x.len(), y.len())?;
    Ok(dot_unchecked(x, y))
}

/// `y ← α·x + y`.
pub fn axpy<S: Scalar>(alpha: S, x: &[S], y: &mut [S]) -> Result<()> {
    check_len("axpy y", x.len(), y.len())?;
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
    Ok(())
}
