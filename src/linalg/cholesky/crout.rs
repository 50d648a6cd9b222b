//! The small-matrix Cholesky kernel: left-looking (Crout) by blocks of `CB` columns, directly
//! in the lower triangle, so no triangle transposes.
//!
//! For each block of columns `jb..jb+CB`, every row `i ≥ jb` needs
//! `A[i][jb+c] − Σ_{k<jb} L[i][k]·L[jb+c][k]`. Row `i` of `L` is contiguous; the `CB` rows
//! `L[jb+c][..jb]` are packed once, transposed, into a small stack buffer (`P[k][c]`), so the
//! sums for `R` rows at a time are `R × CB` independent accumulators fed by one broadcast of
//! `L[i][k]` and one contiguous load of `P[k]` — vertical SIMD, no horizontal reductions,
//! no dependency chains longer than `jb`. Then the `CB × CB` diagonal block is factored in
//! registers (the only serial square-root/division chain), and the rows below it are solved
//! against that block with precomputed reciprocal pivots.
//!
//! Retry guarantee: the strict lower triangle is first copied into the strict upper one
//! (row `i` of the lower triangle, `i` entries, into the last `i` entries of row `n−1−i`:
//! one contiguous copy per row). The diagonal of a block's rows is written only once the
//! whole block has factored, so on failure every row from the failing block on still holds
//! `A_jj`, earlier rows rebuild theirs from `L` (see [`restore`]), and the strict lower
//! triangle comes back from the copy.

use super::{lower_to_upper, Failure};
use crate::linalg::simd::sqrt as simd_sqrt;
use crate::Scalar;

/// Largest `n` this kernel handles (it bounds the packing buffer).
pub(super) const MAX_N: usize = 64;

/// Factors `a + jitter·I` (n ≤ [`MAX_N`]) in place with the block width matched to the
/// scalar's size (one AVX2 register of accumulators per row). On success the strict upper
/// triangle is zeroed; on failure `a` is restored as [`restore`] describes.
#[inline(always)]
pub(super) fn attempt<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> core::result::Result<(), Failure<S>> {
    backup(a, n);
    let narrow = core::mem::size_of::<S>() <= 4;
    let r = if narrow {
        if n <= 16 {
            factor::<S, 8, 6, { 8 * 16 }>(a, n, jitter)
        } else {
            factor::<S, 8, 6, { 8 * MAX_N }>(a, n, jitter)
        }
    } else if n <= 16 {
        factor::<S, 4, 8, { 4 * 16 }>(a, n, jitter)
    } else {
        factor::<S, 4, 8, { 4 * MAX_N }>(a, n, jitter)
    };
    match r {
        Ok(()) => {
            for i in 0..n {
                a[i * n + i + 1..(i + 1) * n].iter_mut().for_each(|v| *v = S::zero());
            }
            Ok(())
        }
        Err(f) => {
            let cb = if narrow { 8 } else { 4 };
            restore(a, n, f.pivot - f.pivot % cb, jitter);
            Err(f)
        }
    }
}

/// Strict lower row `i` → the last `i` entries of row `n − 1 − i` (all strictly upper).
#[inline(always)]
fn backup<S: Scalar>(a: &mut [S], n: usize) {
    for i in 1..n {
        a.copy_within(i * n..i * n + i, (n - 1 - i) * n + n - i);
    }
}

/// Undo a failed [`factor`] that stopped in the block starting at row `block`: rows before
/// it rebuild their diagonal from `L` as a sum of non-negative terms (no cancellation),
/// `A_jj = Σ_{k≤j} L_jk² − jitter`; the strict lower triangle is copied back from the
/// backup; then the upper triangle is made symmetric again.
#[inline(always)]
fn restore<S: Scalar>(a: &mut [S], n: usize, block: usize, jitter: S) {
    for j in 0..block {
        let mut s = S::zero();
        for &v in &a[j * n..j * n + j + 1] {
            s += v * v;
        }
        a[j * n + j] = s - jitter;
    }
    for i in 1..n {
        a.copy_within((n - 1 - i) * n + n - i..(n - i) * n, i * n);
    }
    lower_to_upper(a, n);
}

/// `acc[r][c] = Σ_{k<kn} a[(i0+r)·n + k] · p[k·CB + c]` for `R` rows from `i0`.
#[inline(always)]
fn dots<S: Scalar, const R: usize, const CB: usize>(
    a: &[S],
    n: usize,
    i0: usize,
    kn: usize,
    p: &[S],
) -> [[S; CB]; R] {
    let mut acc = [[S::zero(); CB]; R];
    let rows: [&[S]; R] = core::array::from_fn(|r| &a[(i0 + r) * n..(i0 + r) * n + kn]);
    for (k, pk) in p[..kn * CB].chunks_exact(CB).enumerate() {
        for r in 0..R {
            let x = rows[r][k];
            for c in 0..CB {
                acc[r][c] += x * pk[c];
            }
        }
    }
    acc
}

/// Left-looking Cholesky of `a + jitter·I` in the lower triangle, `CB` columns at a time,
/// `R` rows per accumulator tile; `PB ≥ CB·n` sizes the packing buffer. Reads only the
/// lower triangle and writes only its strict part until a block's diagonal has factored.
#[inline(always)]
fn factor<S: Scalar, const CB: usize, const R: usize, const PB: usize>(
    a: &mut [S],
    n: usize,
    jitter: S,
) -> core::result::Result<(), Failure<S>> {
    let mut p = [S::zero(); PB];
    let mut jb = 0;
    while jb < n {
        let w = CB.min(n - jb);
        // Pack P[k][c] = L[jb+c][k] for k < jb (columns c ≥ w keep stale values; their
        // results are never used).
        for c in 0..w {
            let row = &a[(jb + c) * n..(jb + c) * n + jb];
            for (k, &v) in row.iter().enumerate() {
                p[k * CB + c] = v;
            }
        }
        // Diagonal block: S = A − (rows jb.. of L)·Pᵀ, then factor it in registers.
        let mut s = [[S::zero(); CB]; CB];
        if w == CB {
            s = dots::<S, CB, CB>(a, n, jb, jb, &p);
        } else {
            for r in 0..w {
                s[r] = dots::<S, 1, CB>(a, n, jb + r, jb, &p)[0];
            }
        }
        let mut l = [[S::zero(); CB]; CB];
        let mut inv = [S::zero(); CB];
        for c in 0..w {
            let mut d = a[(jb + c) * n + jb + c] - s[c][c] + jitter;
            for q in 0..c {
                d -= l[c][q] * l[c][q];
            }
            let positive = d > S::zero() && d.is_finite();
            if !positive {
                return Err(Failure { pivot: jb + c, value: d });
            }
            let lc = simd_sqrt(d);
            l[c][c] = lc;
            inv[c] = lc.recip();
            for r in c + 1..w {
                let mut t = a[(jb + r) * n + jb + c] - s[r][c];
                for q in 0..c {
                    t -= l[r][q] * l[c][q];
                }
                l[r][c] = t * inv[c];
            }
        }
        for r in 0..w {
            a[(jb + r) * n + jb..(jb + r) * n + jb + r + 1].copy_from_slice(&l[r][..r + 1]);
        }
        // Rows below the block (only when the block is full: a partial block is the last).
        let mut i = jb + w;
        while i + R <= n {
            let acc = dots::<S, R, CB>(a, n, i, jb, &p);
            for r in 0..R {
                solve_row(&mut a[(i + r) * n + jb..(i + r) * n + jb + CB], &acc[r], &l, &inv);
            }
            i += R;
        }
        while i < n {
            let acc = dots::<S, 1, CB>(a, n, i, jb, &p);
            solve_row(&mut a[i * n + jb..i * n + jb + CB], &acc[0], &l, &inv);
            i += 1;
        }
        jb += w;
    }
    Ok(())
}

/// `x[c] = (x[c] − acc[c] − Σ_{q<c} x[q]·l[c][q]) · inv[c]`: one row of the panel below a
/// factored diagonal block.
#[inline(always)]
fn solve_row<S: Scalar, const CB: usize>(x: &mut [S], acc: &[S; CB], l: &[[S; CB]; CB], inv: &[S; CB]) {
    let mut y = [S::zero(); CB];
    for c in 0..CB {
        let mut t = x[c] - acc[c];
        for q in 0..c {
            t -= y[q] * l[c][q];
        }
        y[c] = t * inv[c];
    }
    x[..CB].copy_from_slice(&y);
}
