//! Cholesky factorisation in place, with a jitter policy.

use super::simd::simd;
use super::vector::dot_kernel;
use super::MatMut;
use crate::error::{check_len, Error, Result};
use crate::Scalar;

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
/// On success the lower triangle holds `L` and the strict upper triangle is zeroed.
/// The escalating policy needs the original matrix again after a failed attempt, so it
/// restores `a` from its upper triangle (which the algorithm leaves alone until success);
/// callers must therefore pass a fully symmetric matrix for `Jitter::Escalate`.
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
    // Fixed reads the lower triangle only; Escalate also restores from the upper one.
    let whole = matches!(jitter, Jitter::Escalate { .. });
    for i in 0..n {
        let row = &data[i * n..if whole { (i + 1) * n } else { i * n + i + 1 }];
        if let Some((j, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "cholesky input", index: i * n + j, value: v.re() });
        }
    }
    match jitter {
        Jitter::Fixed(j) => {
            check_jitter(j)?;
            factor(data, n, S::from_f64(j))?;
            zero_upper(data, n);
            Ok(CholeskyInfo { jitter: j, attempts: 1 })
        }
        Jitter::Escalate { start, cap } => {
            check_jitter(start)?;
            check_jitter(cap)?;
            let mean_diag = (0..n).map(|i| data[i * n + i].re().abs()).sum::<f64>() / (n.max(1) as f64);
            let mut j = start;
            let mut next = (mean_diag * S::epsilon().re()).max(f64::MIN_POSITIVE);
            let mut attempts = 0;
            loop {
                attempts += 1;
                match factor(data, n, S::from_f64(j)) {
                    Ok(()) => {
                        zero_upper(data, n);
                        return Ok(CholeskyInfo { jitter: j, attempts });
                    }
                    Err(e) => {
                        let pivot = match e {
                            Error::NotPositiveDefinite { pivot, .. } => pivot,
                            _ => n,
                        };
                        restore(data, n, pivot, S::from_f64(j));
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
    }
}

fn check_jitter(j: f64) -> Result<()> {
    if j.is_finite() && j >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { what: "jitter", value: j })
    }
}

/// Left-looking, column-by-column (Crout) factorisation of the lower triangle with `jitter`
/// added to the diagonal. Never writes the strict upper triangle.
///
/// Column `j` needs, for every row `i ≥ j`, the dot product of the finished parts of rows `i`
/// and `j` (both contiguous in row-major storage). Those dot products are independent of one
/// another, so they are computed four rows at a time against one load of row `j`, each with
/// eight partial sums: the loop is throughput-bound rather than waiting on one reduction.
///
/// On failure at pivot `p`, columns `< p` hold `L` and the diagonal of rows `≥ p` is intact
/// (which is what [`restore`] relies on).
#[inline(always)]
fn factor_kernel<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> Result<()> {
    for j in 0..n {
        let rj = j * n;
        let d = a[rj + j] + jitter - dot_kernel(&a[rj..rj + j], &a[rj..rj + j]);
        if !(d > S::zero()) || !d.is_finite() {
            return Err(Error::NotPositiveDefinite { pivot: j, value: d.re() });
        }
        let ljj = d.sqrt();
        a[rj + j] = ljj;
        let inv = ljj.recip();
        let mut i = j + 1;
        while i + 4 <= n {
            let dots = dot4(a, rj, j, [i * n, (i + 1) * n, (i + 2) * n, (i + 3) * n]);
            for (r, dv) in dots.iter().enumerate() {
                let at = (i + r) * n + j;
                a[at] = (a[at] - *dv) * inv;
            }
            i += 4;
        }
        while i < n {
            let at = i * n + j;
            let dv = dot_kernel(&a[i * n..at], &a[rj..rj + j]);
            a[at] = (a[at] - dv) * inv;
            i += 1;
        }
    }
    Ok(())
}

/// Four dot products of `a[r_t..r_t + len]` with the shared `a[rj..rj + len]`.
#[inline(always)]
fn dot4<S: Scalar>(a: &[S], rj: usize, len: usize, rows: [usize; 4]) -> [S; 4] {
    const L: usize = 8;
    let x = &a[rj..rj + len];
    let r = [
        &a[rows[0]..rows[0] + len],
        &a[rows[1]..rows[1] + len],
        &a[rows[2]..rows[2] + len],
        &a[rows[3]..rows[3] + len],
    ];
    let mut acc = [[S::zero(); L]; 4];
    let full = len / L * L;
    let mut q = 0;
    while q < full {
        let xs = &x[q..q + L];
        for t in 0..4 {
            let ys = &r[t][q..q + L];
            for l in 0..L {
                acc[t][l] += xs[l] * ys[l];
            }
        }
        q += L;
    }
    let mut out = [S::zero(); 4];
    for t in 0..4 {
        for l in 0..len - full {
            acc[t][l] += x[full + l] * r[t][full + l];
        }
        let v = &acc[t];
        out[t] = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    }
    out
}

/// [`factor_kernel`] through the run-time SIMD dispatch.
fn factor<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> Result<()> {
    simd(
        #[inline(always)]
        || factor_kernel(a, n, jitter),
    )
}

fn zero_upper<S: Scalar>(a: &mut [S], n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            a[i * n + j] = S::zero();
        }
    }
}

/// Undo a failed factorisation that stopped at row `pivot`: rows before it hold `L`, whose
/// squared row norms give back the original diagonal (minus the jitter, to rounding); the
/// strict lower triangle is copied back from the untouched strict upper one.
fn restore<S: Scalar>(a: &mut [S], n: usize, pivot: usize, jitter: S) {
    for i in 0..pivot.min(n) {
        let d: S = a[i * n..i * n + i + 1].iter().map(|&v| v * v).sum();
        a[i * n + i] = d - jitter;
    }
    for i in 0..n {
        for j in 0..i {
            a[i * n + j] = a[j * n + i];
        }
    }
}
