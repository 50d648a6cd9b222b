//! Cholesky factorisation in place, with a jitter policy.
//!
//! Two kernels: for `f32`/`f64` (and other scalars of [`Scalar::LANE_BYTES`] ≤ 8) up to
//! `crout::MAX_N` (256 with `std`, else 64), a blocked left-looking factorisation directly
//! in the lower triangle ([`crout`]); for wider scalars (`Dual`) and larger matrices, a
//! right-looking one on a transposed copy in the upper triangle ([`factor_upper`]). Both
//! leave the same results and the same input-restoring guarantee on failure.

use super::vector::axpy_kernel;
use super::MatMut;
use crate::arch::{dispatch, simd, Isa, Kernel};
use crate::error::{check_len, Error, Result};
use crate::Scalar;

mod crout;

/// What to add to the diagonal before factorising.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// Add exactly this value (may be 0) and fail if the matrix is still not positive definite.
    Fixed(f64),
    /// Try `Fixed(start)` first (0 allowed); on failure escalate from the diagonal's mean
    /// times the float type's epsilon, ×10 each try, up to `cap`.
    Escalate {
        /// The first jitter tried.
        start: f64,
        /// The largest jitter tried before giving up.
        cap: f64,
    },
}

/// What a successful factorisation used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CholeskyInfo {
    /// The jitter that was finally added to the diagonal.
    pub jitter: f64,
    /// How many factorisations were attempted.
    pub attempts: u32,
}

/// Factor the symmetric matrix `a` (n × n, lower triangle read) as `L·Lᵀ` in place.
///
/// On success the lower triangle holds `L` and the strict upper triangle is zeroed. On
/// failure `a` holds the input again, made symmetric from its lower triangle (the diagonal
/// to rounding: it is rebuilt from the partial factor). Only the lower triangle is read, so
/// the upper one may hold anything on entry.
///
/// Errors: [`Error::NonFinite`] for a NaN or infinite entry in the lower triangle,
/// [`Error::NotPositiveDefinite`] with the failing pivot (after the last jitter the policy
/// allowed), [`Error::InvalidParameter`] for a negative or non-finite jitter.
///
/// ```
/// use svgp::linalg::{cholesky_in_place, Jitter, MatMut};
/// let mut a = [4.0, 2.0, 2.0, 3.0];
/// let info = cholesky_in_place(MatMut::new(2, 2, &mut a)?, Jitter::Fixed(0.0))?;
/// assert_eq!(info.jitter, 0.0);
/// assert_eq!(a, [2.0, 0.0, 1.0, 2.0_f64.sqrt()]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn cholesky_in_place<S: Scalar>(mut a: MatMut<'_, S>, jitter: Jitter) -> Result<CholeskyInfo> {
    let n = a.rows();
    check_len("cholesky: square matrix", n, a.cols())?;
    let data = a.as_mut_slice();
    let (start, cap, escalate) = match jitter {
        Jitter::Fixed(j) => (j, j, false),
        Jitter::Escalate { start, cap } => (start, cap, true),
    };
    check_jitter(start)?;
    check_jitter(cap)?;
    let mut next = f64::NAN;
    let mut j = start;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(data, n, S::from_f64(j)) {
            Ok(()) => return Ok(CholeskyInfo { jitter: j, attempts }),
            Err(e) => {
                // A NaN or infinity anywhere in the lower triangle always makes some pivot
                // fail (entry (i, k) enters pivot i's sum), and a failed attempt leaves the
                // input in place, so the finiteness scan is only needed here, not up front.
                if attempts == 1 {
                    check_lower_finite(data, n)?;
                    next = (mean_abs_diag(data, n) * S::epsilon().re()).max(f64::MIN_POSITIVE);
                }
                if !escalate {
                    return Err(e);
                }
                while next <= j {
                    next *= 10.0;
                }
                if next > cap {
                    return Err(e);
                }
                j = next;
            }
        }
    }
}

/// [`Error::NonFinite`] for the first NaN or infinity in the lower triangle.
fn check_lower_finite<S: Scalar>(a: &[S], n: usize) -> Result<()> {
    for i in 0..n {
        if let Some((j, v)) = a[i * n..i * n + i + 1].iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "cholesky input", index: i * n + j, value: v.re() });
        }
    }
    Ok(())
}

/// Mean |A_ii|: the scale the escalating jitter starts from.
fn mean_abs_diag<S: Scalar>(a: &[S], n: usize) -> f64 {
    (0..n).map(|i| a[i * n + i].re().abs()).sum::<f64>() / (n.max(1) as f64)
}

fn check_jitter(j: f64) -> Result<()> {
    if j.is_finite() && j >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { what: "jitter", value: j })
    }
}

/// One factorisation with `jitter`, through the run-time SIMD dispatch. On failure the input
/// is restored (see [`restore`] and `crout`'s `restore`).
fn attempt<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> Result<()> {
    if n <= crout::MAX_N && S::LANE_BYTES <= 8 {
        /// The blocked kernel, compiled per level (it picks its block width by level).
        struct Crout<'a, S>(&'a mut [S], usize, S);
        impl<S: Scalar> Kernel for Crout<'_, S> {
            type Output = core::result::Result<(), Failure<S>>;
            #[inline(always)]
            fn run<I: Isa>(self) -> Self::Output {
                crout::attempt::<I, S>(self.0, self.1, self.2)
            }
        }
        return dispatch(Crout(a, n, jitter))
            .map_err(|f| Error::NotPositiveDefinite { pivot: f.pivot, value: f.value.re() });
    }
    simd(
        #[inline(always)]
        || {
            // Work on a transposed copy in the strict upper triangle (see `factor_upper`); the
            // strict lower triangle stays untouched as the backup for a retry, and so does
            // the diagonal of every row not yet factored.
            lower_to_upper(a, n);
            match factor_upper(a, n, jitter) {
                Ok(()) => {
                    upper_to_lower(a, n);
                    Ok(())
                }
                Err(f) => {
                    restore(a, n, f, jitter);
                    Err(Error::NotPositiveDefinite { pivot: f.pivot, value: f.value.re() })
                }
            }
        },
    )
}

/// Where a factorisation stopped: the failing pivot and its value.
#[derive(Clone, Copy)]
struct Failure<S> {
    pivot: usize,
    value: S,
}

/// Rows factored together; their rank-`KB` update of the trailing rows reads each
/// destination element once per `KB` multiply-adds.
const KB: usize = 4;

/// Right-looking Cholesky of `A + jitter·I`, where the strict lower triangle of `A` is stored
/// *column-major* in the row-major strict upper triangle (`U[k][j] = A[j][k]`, j > k) and
/// the diagonal in place, i.e. `A = Uᵀ·U` with `U` upper.
///
/// Why this layout: in it, row `k` of `U` (one column of `L`) is contiguous, and so is every
/// trailing row, so the O(n³) trailing update is a stream of axpys over contiguous slices
/// (vertical SIMD, no horizontal reductions, no strided access). `KB` rows are factored as a
/// panel and then applied to the trailing rows together, so each trailing element is loaded
/// and stored once per `KB` multiply-adds instead of once per one.
///
/// The updates skip the diagonal: pivot `j` is formed when it is needed, as
/// `A_jj + jitter − Σ_{k<j} U_kj²`, so the diagonal of every row not yet factored still
/// holds `A_jj` exactly if the factorisation fails (see [`restore`]).
#[inline(always)]
fn factor_upper<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> core::result::Result<(), Failure<S>> {
    let mut k = 0;
    while k < n {
        let kb = KB.min(n - k);
        // Panel: rows k..k+kb, updating each other only.
        for t in 0..kb {
            let r = k + t;
            let mut d = a[r * n + r] + jitter;
            for q in 0..r {
                let u = a[q * n + r];
                d -= u * u;
            }
            let positive = d > S::zero() && d.is_finite();
            if !positive {
                return Err(Failure { pivot: r, value: d });
            }
            let l = d.sqrt();
            a[r * n + r] = l;
            let inv = l.recip();
            a[r * n + r + 1..(r + 1) * n].iter_mut().for_each(|v| *v *= inv);
            for r2 in r + 1..k + kb {
                let (top, bottom) = a.split_at_mut(r2 * n);
                let c = top[r * n + r2];
                axpy_kernel(-c, &top[r * n + r2 + 1..(r + 1) * n], &mut bottom[r2 + 1..n]);
            }
        }
        // Trailing rows j ≥ k + kb: U[j][j+1..] −= Σ_t U[k+t][j]·U[k+t][j+1..].
        for j in k + kb..n {
            let (top, bottom) = a.split_at_mut(j * n);
            let dst = &mut bottom[j + 1..n];
            let len = n - j - 1;
            if kb == KB {
                let row = |t: usize| &top[(k + t) * n + j + 1..(k + t) * n + j + 1 + len];
                let c = |t: usize| top[(k + t) * n + j];
                let (c0, c1, c2, c3) = (c(0), c(1), c(2), c(3));
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                for ((((d, &x0), &x1), &x2), &x3) in dst.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                    *d -= (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3);
                }
            } else {
                for t in 0..kb {
                    let c = top[(k + t) * n + j];
                    axpy_kernel(-c, &top[(k + t) * n + j + 1..(k + t) * n + j + 1 + len], dst);
                }
            }
        }
        k += kb;
    }
    Ok(())
}

/// Tile edge for the triangle transposes: an 8 × 8 tile touches 8 cache lines on each side
/// instead of one line per element of a column walk.
const TILE: usize = 8;

/// Copies the strict lower triangle onto the strict upper one (`a[j][i] = a[i][j]`, j < i),
/// tile by tile; with `upper_to_lower`, the other way round (`a[i][j] = a[j][i]`).
#[inline(always)]
fn transpose_triangle<S: Scalar>(a: &mut [S], n: usize, upper_to_lower: bool) {
    let mut ib = 0;
    while ib < n {
        let ie = (ib + TILE).min(n);
        let mut jb = 0;
        while jb <= ib {
            let je = (jb + TILE).min(n);
            if jb + TILE <= ib && ie - ib == TILE {
                // A full tile off the diagonal: gather it through a local array, one bounds
                // check per row, so the copies compile to plain (vectorisable) moves.
                let (src_r, src_c, dst_r, dst_c) =
                    if upper_to_lower { (jb, ib, ib, jb) } else { (ib, jb, jb, ib) };
                let mut t = [[S::zero(); TILE]; TILE];
                for (r, tr) in t.iter_mut().enumerate() {
                    tr.copy_from_slice(&a[(src_r + r) * n + src_c..(src_r + r) * n + src_c + TILE]);
                }
                for c in 0..TILE {
                    let dst = &mut a[(dst_r + c) * n + dst_c..(dst_r + c) * n + dst_c + TILE];
                    for r in 0..TILE {
                        dst[r] = t[r][c];
                    }
                }
            } else {
                for i in ib..ie {
                    for j in jb..je.min(i) {
                        if upper_to_lower {
                            a[i * n + j] = a[j * n + i];
                        } else {
                            a[j * n + i] = a[i * n + j];
                        }
                    }
                }
            }
            jb += TILE;
        }
        ib += TILE;
    }
}

/// Strict upper ← strict lower, transposed.
#[inline(always)]
fn lower_to_upper<S: Scalar>(a: &mut [S], n: usize) {
    transpose_triangle(a, n, false);
}

/// The factor from the upper triangle into the lower one (`L[i][j] = U[j][i]`); the strict
/// upper triangle is zeroed.
#[inline(always)]
fn upper_to_lower<S: Scalar>(a: &mut [S], n: usize) {
    transpose_triangle(a, n, true);
    // Zero row by row afterwards: contiguous fills rather than strided stores in the tiles.
    for i in 0..n {
        a[i * n + i + 1..(i + 1) * n].iter_mut().for_each(|v| *v = S::zero());
    }
}

/// Undo a failed [`factor_upper`]: the strict lower triangle was never written and rows from
/// the failing pivot on still hold their diagonal, so only the factored rows' diagonals need
/// rebuilding, from a sum of non-negative terms (no cancellation):
/// `A_jj = L_jj² + Σ_{k<j} U_kj² − jitter`. Then the upper triangle is made symmetric again.
#[inline(always)]
fn restore<S: Scalar>(a: &mut [S], n: usize, f: Failure<S>, jitter: S) {
    for j in 0..f.pivot {
        let mut s = S::zero();
        for k in 0..=j {
            let u = a[k * n + j];
            s += u * u;
        }
        a[j * n + j] = s - jitter;
    }
    lower_to_upper(a, n);
}
