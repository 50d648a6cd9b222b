//! Matrix products: gemm in its transpose variants, gemv, dot, axpy.

use super::engine::{product, Part, Product, Strides};
use super::vector::{axpy_kernel, dot_kernel};
use super::{MatMut, MatRef};
use crate::arch::simd;
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
    /// Where element `(i, j)` of `op(m)` lives in `m`'s slice.
    #[inline]
    pub(crate) fn strides<S: Copy>(self, m: &MatRef<'_, S>) -> Strides {
        match self {
            Trans::No => Strides::row_major(0, m.cols()),
            Trans::Yes => Strides::transposed(0, m.cols()),
        }
    }
    /// The flipped flag.
    #[inline]
    pub fn flip(self) -> Self {
        match self {
            Trans::No => Trans::Yes,
            Trans::Yes => Trans::No,
        }
    }

    #[inline]
    pub(crate) fn dims<S: Copy>(self, m: &MatRef<'_, S>) -> (usize, usize) {
        match self {
            Trans::No => (m.rows(), m.cols()),
            Trans::Yes => (m.cols(), m.rows()),
        }
    }
}

/// `C ← α·op(A)·op(B) + β·C`. With `β = 0`, `C`'s old contents are ignored (NaN included).
///
/// Every transpose combination runs through the same packed, register-blocked kernel for
/// large `f32`/`f64` products (see the `engine` module); values are not inspected, so NaN
/// and infinity propagate as IEEE arithmetic says.
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
    let p = Product {
        m,
        n,
        k,
        alpha,
        a: a.as_slice(),
        sa: ta.strides(&a),
        b: b.as_slice(),
        sb: tb.strides(&b),
        beta,
        c_off: 0,
        c_rs: n,
        part: Part::Full,
    };
    product(&p, c.as_mut_slice());
    Ok(())
}

/// `C ← α·op(A)·op(A)ᵀ + β·C` (symmetric rank-k update), `C` m × m with `op(A)` m × k.
///
/// Computes the lower triangle (half the work of [`gemm`]) and mirrors it, so `C` comes
/// back fully symmetric; `β·C` uses `C`'s lower triangle only.
///
/// ```
/// use svgp::linalg::{syrk, MatMut, MatRef, Trans};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [0.0; 4];
/// syrk(1.0, MatRef::new(2, 2, &a)?, Trans::No, 0.0, MatMut::new(2, 2, &mut c)?)?;
/// assert_eq!(c, [5.0, 11.0, 11.0, 25.0]); // AAᵀ
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn syrk<S: Scalar>(alpha: S, a: MatRef<'_, S>, ta: Trans, beta: S, mut c: MatMut<'_, S>) -> Result<()> {
    let (m, k) = ta.dims(&a);
    check_len("syrk output rows", m, c.rows())?;
    check_len("syrk output cols", m, c.cols())?;
    let p = Product {
        m,
        n: m,
        k,
        alpha,
        a: a.as_slice(),
        sa: ta.strides(&a),
        b: a.as_slice(),
        sb: ta.flip().strides(&a),
        beta,
        c_off: 0,
        c_rs: m,
        part: Part::Lower,
    };
    let cs = c.as_mut_slice();
    product(&p, cs);
    mirror_lower(cs, m);
    Ok(())
}

/// Copies the strict lower triangle of the n × n row-major `a` onto the upper one.
pub(crate) fn mirror_lower<S: Scalar>(a: &mut [S], n: usize) {
    for i in 0..n {
        for j in 0..i {
            a[j * n + i] = a[i * n + j];
        }
    }
}

/// `y ← α·op(A)·x + β·y`. With `β = 0`, `y`'s old contents are ignored.
///
/// ```
/// use svgp::linalg::{gemv, MatRef, Trans};
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let mut y = [0.0; 2];
/// gemv(1.0, MatRef::new(2, 2, &a)?, Trans::No, &[1.0, 1.0], 0.0, &mut y)?;
/// assert_eq!(y, [3.0, 7.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gemv<S: Scalar>(alpha: S, a: MatRef<'_, S>, ta: Trans, x: &[S], beta: S, y: &mut [S]) -> Result<()> {
    let (m, n) = ta.dims(&a);
    check_len("gemv x", n, x.len())?;
    check_len("gemv y", m, y.len())?;
    if beta == S::zero() {
        y.iter_mut().for_each(|v| *v = S::zero());
    } else if beta != S::one() {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    simd(
        #[inline(always)]
        || match ta {
            // Row i of A against x: one dot product per output.
            Trans::No => {
                for (i, yi) in y.iter_mut().enumerate() {
                    *yi += alpha * dot_kernel(a.row(i), x);
                }
            }
            // Aᵀx = Σ_p x_p·A_p: one axpy per row of A, contiguous.
            Trans::Yes => {
                for (p, &xp) in x.iter().enumerate() {
                    axpy_kernel(alpha * xp, a.row(p), y);
                }
            }
        },
    );
    Ok(())
}

/// x·y.
///
/// ```
/// assert_eq!(svgp::linalg::dot(&[1.0, 2.0], &[3.0, 4.0])?, 11.0);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn dot<S: Scalar>(x: &[S], y: &[S]) -> Result<S> {
    check_len("dot y", x.len(), y.len())?;
    Ok(simd(
        #[inline(always)]
        || dot_kernel(x, y),
    ))
}

/// `y ← α·x + y`.
///
/// ```
/// let mut y = [1.0, 1.0];
/// svgp::linalg::axpy(2.0, &[1.0, 2.0], &mut y)?;
/// assert_eq!(y, [3.0, 5.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn axpy<S: Scalar>(alpha: S, x: &[S], y: &mut [S]) -> Result<()> {
    check_len("axpy y", x.len(), y.len())?;
    simd(
        #[inline(always)]
        || axpy_kernel(alpha, x, y),
    );
    Ok(())
}
