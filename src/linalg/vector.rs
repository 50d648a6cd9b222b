//! Level-1 kernels (dot, axpy) shaped for vectorisation, and the transposing copy of the packing
//! routines.
//!
//! IEEE addition is not associative, so LLVM will not vectorise a plain `sum += x*y` loop.
//! [`dot_kernel`] keeps `LANES` independent partial sums in a local array instead: each
//! iteration is then a vertical (SIMD) multiply and add, and the eight lanes also hide the
//! add latency. The partial sums are combined pairwise at the end.

use crate::Scalar;

/// Partial sums kept in flight by [`dot_kernel`] (two AVX2 registers of f64, one of f32).
const LANES: usize = 8;

/// x·y over the common length, with `LANES` partial sums.
#[inline(always)]
pub(crate) fn dot_kernel<S: Scalar>(x: &[S], y: &[S]) -> S {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [S::zero(); LANES];
    let xc = x.chunks_exact(LANES);
    let yc = y.chunks_exact(LANES);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..LANES {
            acc[l] += a[l] * b[l];
        }
    }
    for (l, (&a, &b)) in xr.iter().zip(yr).enumerate() {
        acc[l] += a * b;
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            let hi = acc[l + w];
            acc[l] += hi;
        }
    }
    acc[0]
}

/// y ← y + α·x over the common length (element-wise, so it vectorises as written).
#[inline(always)]
pub(crate) fn axpy_kernel<S: Scalar>(alpha: S, x: &[S], y: &mut [S]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `dst[q·dst_stride + r] = src[start + r·src_stride + q]` for `r < rows`, `q < len`: `rows`
/// contiguous runs of `src`, written across `dst` (the transposing copies of the product
/// engine's packing and the Cholesky's panel).
///
/// Out of line, so it is compiled for the baseline target only: inlined into the AVX-512
/// copies, LLVM vectorised these strided writes with scatter instructions, which the
/// measured Zen 4 runs slower than scalar stores. Reads stream; the writes land in a small,
/// L1-resident buffer.
#[inline(never)]
pub(crate) fn transpose_into<S: Scalar>(
    src: &[S],
    start: usize,
    src_stride: usize,
    rows: usize,
    len: usize,
    dst: &mut [S],
    dst_stride: usize,
) {
    let dst = &mut dst[..len * dst_stride];
    for r in 0..rows {
        let run = &src[start + r * src_stride..][..len];
        for (d, &v) in dst.chunks_exact_mut(dst_stride).zip(run) {
            d[r] = v;
        }
    }
}
