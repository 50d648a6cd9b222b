//! The Cholesky kernel for narrow scalars up to [`MAX_N`]: left-looking (Crout) by blocks of
//! `CB` columns, directly in the lower triangle, so no triangle transposes.
//!
//! For each block of columns `jb..jb+CB`, every row `i ≥ jb` needs
//! `A[i][jb+c] − Σ_{k<jb} L[i][k]·L[jb+c][k]`. Row `i` of `L` is contiguous; the `CB` rows
//! `L[jb+c][..jb]` are packed once, transposed, into a small stack buffer (`P[k][c]`), so the
//! sums for `R` rows at a time are `R × CB` independent accumulators fed by one broadcast of
//! `L[i][k]` and one contiguous load of `P[k]` — vertical SIMD, no horizontal reductions,
//! no dependency chains longer than `jb`. Then the `CB × CB` diagonal block is factored in
//! registers (the only serial square-root/division chain), and the rows below it are solved
//! against that block by vector column sweeps ([`solve_row`]).
//!
//! Retry guarantee: each `A[i][j]` (j < i) is copied into the strict upper triangle just
//! before it is overwritten (see [`backup_at`]; the solve already holds it in a register).
//! A failure can only happen while a diagonal block is factored, and nothing of that block
//! is written before it has succeeded, so on failure every row from the failing block on
//! still holds `A_jj`, earlier rows rebuild theirs from `L`, and the overwritten entries come
//! back from the backup (see [`restore`]).

use super::super::vector::transpose_into;
use super::{lower_to_upper, Failure};
use crate::arch::Isa;
use crate::Scalar;

/// Largest `n` this kernel handles: it bounds the stack packing buffer, 8 KiB at 256 (kept
/// to 2 KiB, n ≤ 64, without `std`, as the product engine does for small targets).
#[cfg(feature = "std")]
pub(super) const MAX_N: usize = 256;
/// Largest `n` this kernel handles: it bounds the stack packing buffer (2 KiB).
#[cfg(not(feature = "std"))]
pub(super) const MAX_N: usize = 64;

/// Factors `a + jitter·I` (n ≤ [`MAX_N`]) in place with the block width matched to the
/// scalar's [`Scalar::LANE_BYTES`] and the level (one register of accumulators per row: eight
/// columns, also for f64 on AVX-512 above n = 32, where they were measured faster than four;
/// f32 keeps eight there, sixteen measured slower). On success the strict upper
/// triangle is zeroed; on failure `a` is restored as [`restore`] describes.
#[inline(always)]
pub(super) fn attempt<I: Isa, S: Scalar>(
    a: &mut [S],
    n: usize,
    jitter: S,
) -> core::result::Result<(), Failure<S>> {
    let narrow = S::LANE_BYTES <= 4;
    let r = I::by_width(
        &mut *a,
        #[inline(always)]
        |a: &mut [S]| factor_w32::<I, S>(a, n, jitter),
        // AVX-512: f64 also in 8-column blocks above n = 32.
        #[inline(always)]
        |a: &mut [S]| match (narrow, n) {
            (false, 33..=64) => factor::<I, S, 8, 6, { 8 * (64 - 8) }>(a, n, jitter),
            #[cfg(feature = "std")]
            (false, 65..) => factor::<I, S, 8, 6, { 8 * (MAX_N - 8) }>(a, n, jitter),
            _ => factor_w32::<I, S>(a, n, jitter),
        },
    );
    match r {
        Ok(()) => {
            zero_upper(a, n);
            Ok(())
        }
        Err((f, block)) => {
            restore(a, n, block, jitter);
            Err(f)
        }
    }
}

/// The block widths of the 32-byte-register levels (and of f32 and small n on AVX-512).
#[inline(always)]
fn factor_w32<I: Isa, S: Scalar>(
    a: &mut [S],
    n: usize,
    jitter: S,
) -> core::result::Result<(), (Failure<S>, usize)> {
    // The packing buffer holds CB·(n − CB) values at most; it is zero-initialised on every
    // call, so it comes in sizes. Narrow scalars use 8-column blocks (a full AVX2 register)
    // except for n ≤ 16, where the shorter 4-column blocks were measured faster.
    match (S::LANE_BYTES <= 4, n) {
        (true, ..=8) => factor::<I, S, 4, 8, { 4 * 4 }>(a, n, jitter),
        (true, ..=16) => factor::<I, S, 4, 8, { 4 * 12 }>(a, n, jitter),
        (false, ..=8) => factor::<I, S, 4, 8, { 4 * 4 }>(a, n, jitter),
        (false, ..=16) => factor::<I, S, 4, 8, { 4 * 12 }>(a, n, jitter),
        #[cfg(feature = "std")]
        (true, 65..) => factor::<I, S, 8, 6, { 8 * (MAX_N - 8) }>(a, n, jitter),
        #[cfg(feature = "std")]
        (false, 65..) => factor::<I, S, 4, 8, { 4 * (MAX_N - 4) }>(a, n, jitter),
        (true, _) => factor::<I, S, 8, 6, { 8 * (64 - 8) }>(a, n, jitter),
        (false, _) => factor::<I, S, 4, 8, { 4 * (64 - 4) }>(a, n, jitter),
    }
}

/// Where the backup of `A[i][j]` (j < i) lives: entry `n − i + j` of row `n − 1 − i`, so
/// row `i`'s strict lower part maps onto the last `i` entries of that row (all strictly
/// upper, and each row's backup is contiguous).
#[inline(always)]
fn backup_at(n: usize, i: usize, j: usize) -> usize {
    (n - 1 - i) * n + n - i + j
}

/// Zeroes the strict upper triangle. The zero goes through `black_box` so the optimiser
/// cannot turn each row's loop into a `memset` call, whose overhead dominates rows this
/// short; it stays an inline (vectorised) loop instead.
#[inline(always)]
fn zero_upper<S: Scalar>(a: &mut [S], n: usize) {
    let zero = core::hint::black_box(S::zero());
    for i in 0..n {
        for v in &mut a[i * n + i + 1..(i + 1) * n] {
            *v = zero;
        }
    }
}

/// Undo a failed [`factor`] that stopped in the block of columns starting at `block`: rows
/// before it rebuild their diagonal from `L` as a sum of non-negative terms (no
/// cancellation), `A_jj = Σ_{k≤j} L_jk² − jitter`; the overwritten entries (columns before
/// `block`) come back from the backup; then the upper triangle is made symmetric again.
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
        let m = i.min(block);
        a.copy_within(backup_at(n, i, 0)..backup_at(n, i, m), i * n);
    }
    lower_to_upper(a, n);
}

/// `acc[r][c] = Σ_{k<kn} a[(i0+r)·n + k] · p[k·CB + c]` for `R` rows from `i0`.
#[inline(always)]
fn dots<I: Isa, S: Scalar, const R: usize, const CB: usize>(
    a: &[S],
    n: usize,
    i0: usize,
    kn: usize,
    p: &[S],
) -> [[S; CB]; R] {
    let mut acc = [[S::zero(); CB]; R];
    // Each row sliced to exactly `kn` (in a loop the optimiser unrolls, so it sees every
    // length and drops the bounds checks from the inner loop).
    let mut rows: [&[S]; R] = [&[]; R];
    for r in 0..R {
        rows[r] = &a[(i0 + r) * n..][..kn];
    }
    for (k, pk) in (0..kn).zip(p.chunks_exact(CB)) {
        unrolled!(R, |r| {
            let x = rows[r][k];
            let row = &mut acc[r];
            for c in 0..CB {
                row[c] = I::madd(x, pk[c], row[c]);
            }
        });
    }
    acc
}

/// Left-looking Cholesky of `a + jitter·I` in the lower triangle, `CB` columns at a time,
/// `R` rows per accumulator tile. The packing buffer must hold `CB·jb` values for the last
/// block start `jb`: `PB = CB·(T − CB)` serves every `n ≤ T` for `T` a multiple of `CB` (a
/// smaller one would silently drop terms; the tests cover each tier's largest `n`). Reads
/// only the lower triangle and writes only its strict part until a block's diagonal has
/// factored. A failure comes with the start of the block it happened in.
#[inline(always)]
fn factor<I: Isa, S: Scalar, const CB: usize, const R: usize, const PB: usize>(
    a: &mut [S],
    n: usize,
    jitter: S,
) -> core::result::Result<(), (Failure<S>, usize)> {
    let mut p = [S::zero(); PB];
    let mut jb = 0;
    while jb < n {
        let w = CB.min(n - jb);
        // Pack P[k][c] = L[jb+c][k] for k < jb (in a partial block, columns c ≥ w keep
        // stale values; their results are never used).
        transpose_into(a, jb * n, n, w, jb, &mut p, CB);
        // Diagonal block: S = A − (rows jb.. of L)·Pᵀ, then factor it in registers.
        let mut s = [[S::zero(); CB]; CB];
        if w == CB {
            s = dots::<I, S, CB, CB>(a, n, jb, jb, &p);
        } else {
            for r in 0..w {
                s[r] = dots::<I, S, 1, CB>(a, n, jb + r, jb, &p)[0];
            }
        }
        // The block minus its sums, padded to CB × CB with the identity so the factor loops
        // below have constant bounds (the optimiser unrolls them; padded pivots are 1). The
        // jitter goes on the diagonal entry before the sums come off, (A_jj + jitter) − Σ, as
        // factoring A + jitter·I literally does (and as `factor_upper` does), so a caller that
        // adds the jitter itself and one that asks for it get the same bits.
        // The strict lower part is backed up here already (it is overwritten only once the
        // block has factored, and its backup slots are free until then).
        let mut m = [[S::zero(); CB]; CB];
        for r in 0..CB {
            if r < w {
                let i = jb + r;
                for c in 0..r {
                    m[r][c] = a[i * n + jb + c] - s[r][c];
                }
                m[r][r] = (a[i * n + i] + jitter) - s[r][r];
                a.copy_within(i * n + jb..i * n + i, backup_at(n, i, jb));
            } else {
                m[r][r] = S::one();
            }
        }
        let mut l = [[S::zero(); CB]; CB];
        let mut inv = [S::zero(); CB];
        for c in 0..CB {
            let mut d = m[c][c];
            for q in 0..c {
                d -= l[c][q] * l[c][q];
            }
            let positive = d > S::zero() && d.is_finite();
            if !positive {
                return Err((Failure { pivot: jb + c, value: d }, jb));
            }
            // √d and 1/d are independent, so they overlap; 1/√d = √d · (1/d) then costs one
            // multiply instead of a division after the square root on the pivot chain. 1/d
            // overflows for a subnormal d (and is subnormal for a huge one): then divide.
            let lc = d.sqrt();
            l[c][c] = lc;
            let mut ic = lc * d.recip();
            let accurate = (lc * ic - S::one()).abs() <= S::from_f64(8.0 * S::epsilon().re());
            if !accurate {
                ic = lc.recip();
            }
            inv[c] = ic;
            for r in c + 1..CB {
                let mut t = m[r][c];
                for q in 0..c {
                    t -= l[r][q] * l[c][q];
                }
                l[r][c] = t * inv[c];
            }
        }
        for r in 0..CB {
            if r < w {
                let i = jb + r;
                a[i * n + jb..][..r + 1].copy_from_slice(&l[r][..r + 1]);
            }
        }
        // Rows below the block (only when the block is full: a partial block is the last).
        let mut lcol = [[S::zero(); CB]; CB];
        for q in 0..CB {
            for c in q + 1..CB {
                lcol[q][c] = inv[q] * l[c][q];
            }
        }
        let mut i = jb + w;
        while i + R <= n {
            let acc = dots::<I, S, R, CB>(a, n, i, jb, &p);
            for r in 0..R {
                solve_row(a, n, i + r, jb, &acc[r], &lcol, &inv);
            }
            i += R;
        }
        if i + 4 <= n && R > 4 {
            let acc = dots::<I, S, 4, CB>(a, n, i, jb, &p);
            for r in 0..4 {
                solve_row(a, n, i + r, jb, &acc[r], &lcol, &inv);
            }
            i += 4;
        }
        while i < n {
            let acc = dots::<I, S, 1, CB>(a, n, i, jb, &p);
            solve_row(a, n, i, jb, &acc[0], &lcol, &inv);
            i += 1;
        }
        jb += w;
    }
    Ok(())
}

/// Row `i` of the panel below a factored diagonal block at `jb`:
/// `L[i][jb+c] = z[c]·inv[c]` with `z[c] = A[i][jb+c] − acc[c] − Σ_{q<c} z[q]·inv[q]·l[c][q]`,
/// by column sweeps (`lcol[q][c] = inv[q]·l[c][q]` below the diagonal, 0 elsewhere) so each
/// step is one broadcast and one vector multiply-subtract over the row; the `A` values it
/// replaces go to their backup.
#[inline(always)]
fn solve_row<S: Scalar, const CB: usize>(
    a: &mut [S],
    n: usize,
    i: usize,
    jb: usize,
    acc: &[S; CB],
    lcol: &[[S; CB]; CB],
    inv: &[S; CB],
) {
    let mut x = [S::zero(); CB];
    x.copy_from_slice(&a[i * n + jb..][..CB]);
    let mut z = [S::zero(); CB];
    for c in 0..CB {
        z[c] = x[c] - acc[c];
    }
    for q in 0..CB - 1 {
        let zq = z[q];
        for c in 0..CB {
            z[c] -= zq * lcol[q][c];
        }
    }
    for c in 0..CB {
        z[c] *= inv[c];
    }
    a[i * n + jb..][..CB].copy_from_slice(&z);
    a[backup_at(n, i, jb)..][..CB].copy_from_slice(&x);
}

#[cfg(all(test, feature = "std"))]
mod tests {
    //! The blocked left-looking kernel against the right-looking one it replaced for these
    //! sizes (still used for wide scalars and large n), through the public entry point so
    //! the SIMD copy is the one tested, across every block/tile remainder and buffer tier.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::super::{factor_upper, lower_to_upper, upper_to_lower};
    use crate::linalg::{cholesky_in_place, Jitter, MatMut};
    use crate::rng::{standard_normal, Xoshiro256};
    use crate::{Error, Scalar};
    use std::vec::Vec;

    fn sizes() -> impl Iterator<Item = usize> {
        (1..=72).chain([96, 127, 128, 129, 200, 255, 256])
    }

    /// G·Gᵀ/n + I with junk (NaN) in the strict upper triangle: only the lower one is read.
    fn spd<T: Scalar>(n: usize, seed: u64) -> (Vec<T>, Vec<f64>) {
        let mut rng = Xoshiro256::from_u64(seed);
        let g: Vec<f64> = (0..n * n).map(|_| standard_normal(&mut rng)).collect();
        let mut a = std::vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..n).map(|k| g[i * n + k] * g[j * n + k]).sum::<f64>() / n as f64;
                a[i * n + j] = s + if i == j { 1.0 } else { 0.0 };
            }
        }
        let t = (0..n * n).map(|t| if t % n > t / n { T::from_f64(f64::NAN) } else { T::from_f64(a[t]) });
        (t.collect(), a)
    }

    /// The right-looking kernel on the same input (what `attempt` runs for wide scalars).
    fn reference<T: Scalar>(a: &mut [T], n: usize, jitter: T) -> Option<usize> {
        lower_to_upper(a, n);
        match factor_upper(a, n, jitter) {
            Ok(()) => {
                upper_to_lower(a, n);
                None
            }
            Err(f) => Some(f.pivot),
        }
    }

    fn agrees<T: Scalar>(tol: f64) {
        for n in sizes() {
            let (a, _) = spd::<T>(n, n as u64);
            let mut ours = a.clone();
            cholesky_in_place(MatMut::new(n, n, &mut ours).unwrap(), Jitter::Fixed(0.125)).unwrap();
            let mut theirs = a.clone();
            assert_eq!(reference(&mut theirs, n, T::from_f64(0.125)), None);
            for i in 0..n {
                for j in 0..n {
                    let (x, y) = (ours[i * n + j].re(), theirs[i * n + j].re());
                    if j > i {
                        assert_eq!(x, 0.0, "n{n} upper ({i},{j})");
                    } else {
                        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "n{n} ({i},{j}): {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_right_looking_kernel_f64() {
        agrees::<f64>(1e-12);
    }

    #[test]
    fn agrees_with_the_right_looking_kernel_f32() {
        agrees::<f32>(1e-4);
    }

    /// A pivot made negative fails exactly there, with the reference's value, and the input
    /// comes back: the strict lower triangle bit for bit, the diagonal exactly from the
    /// failing block on and to rounding before it, the upper triangle mirrored.
    fn failure_restores<T: Scalar>(block: fn(usize) -> usize, tol: f64) {
        for n in sizes() {
            let cb = block(n);
            for p in [0, n / 3, n / 2, n - 1] {
                let (mut a, _) = spd::<T>(n, 7 + n as u64);
                a[p * n + p] = T::from_f64(-1.0);
                let mut ours = a.clone();
                let r = cholesky_in_place(MatMut::new(n, n, &mut ours).unwrap(), Jitter::Fixed(0.0));
                let value = match r {
                    Err(Error::NotPositiveDefinite { pivot, value }) => {
                        assert_eq!(pivot, p, "n{n}");
                        value
                    }
                    other => panic!("n{n} p{p}: {other:?}"),
                };
                let mut theirs = a.clone();
                assert_eq!(reference(&mut theirs, n, T::zero()), Some(p));
                let want = theirs[p * n + p].re();
                // The reference leaves A_pp; its pivot value is A_pp − Σ L_pk².
                let sum: f64 = (0..p).map(|k| theirs[k * n + p].re().powi(2)).sum();
                assert!((value - (want - sum)).abs() <= tol * (1.0 + sum), "n{n} p{p}: {value}");
                for i in 0..n {
                    for j in 0..i {
                        assert_eq!(
                            ours[i * n + j].re().to_bits(),
                            a[i * n + j].re().to_bits(),
                            "n{n} ({i},{j})"
                        );
                        assert_eq!(
                            ours[j * n + i].re().to_bits(),
                            a[i * n + j].re().to_bits(),
                            "n{n} ({j},{i})"
                        );
                    }
                    let (x, y) = (ours[i * n + i].re(), a[i * n + i].re());
                    if i >= p - p % cb {
                        assert_eq!(x.to_bits(), y.to_bits(), "n{n} p{p} diag {i}");
                    } else {
                        assert!((x - y).abs() <= tol * y.abs(), "n{n} p{p} diag {i}: {x} vs {y}");
                    }
                }
            }
        }
    }

    /// Whether this thread's dispatch runs the AVX-512 copy (wider blocks above n = 16).
    fn wide() -> bool {
        crate::arch::level() >= crate::arch::Level::Avx512
    }

    #[test]
    fn failure_restores_the_input_f64() {
        failure_restores::<f64>(|n| if n > 32 && wide() { 8 } else { 4 }, 1e-13);
    }

    #[test]
    fn failure_restores_the_input_f32() {
        failure_restores::<f32>(|n| if n <= 16 { 4 } else { 8 }, 1e-5);
    }

    #[test]
    fn extreme_pivots_keep_full_precision() {
        // A subnormal pivot (1/d overflows) and a huge one (1/d is subnormal).
        for (d0, off) in [(1e-310, 3e-311), (1e308, 1e153), (f64::MAX, 1e153)] {
            let a = [d0, f64::NAN, off, 1.0];
            let mut l = a;
            cholesky_in_place(MatMut::new(2, 2, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
            let (l00, l10) = (d0.sqrt(), off / d0.sqrt());
            assert_eq!(l[0], l00);
            assert!((l[2] - l10).abs() <= 2.0 * f64::EPSILON * l10.abs(), "{d0}: {} vs {l10}", l[2]);
            assert!((l[3] - (1.0 - l10 * l10).sqrt()).abs() <= 4.0 * f64::EPSILON, "{d0}");
        }
        let (d0, off) = (1e-40_f32, 3e-41_f32);
        let mut l = [d0, 0.0, off, 1.0];
        cholesky_in_place(MatMut::new(2, 2, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
        let l10 = off / d0.sqrt();
        assert!((l[2] - l10).abs() <= 2.0 * f32::EPSILON * l10, "{} vs {l10}", l[2]);
    }

    #[test]
    fn non_finite_entries_are_reported_where_they_are() {
        for n in [1, 5, 16, 33, 70] {
            for (i, j) in [(n - 1, 0), (n / 2, n / 3), (n - 1, n - 1)] {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let (mut a, _) = spd::<f64>(n, 3);
                    a[i * n + j] = bad;
                    let r = cholesky_in_place(MatMut::new(n, n, &mut a).unwrap(), Jitter::Fixed(0.0));
                    assert!(
                        matches!(r, Err(Error::NonFinite { index, .. }) if index == i * n + j),
                        "n{n} ({i},{j}) {bad}: {r:?}"
                    );
                }
            }
        }
    }
}
