//! Cholesky factorisation in place, with a jitter policy.

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
    if let Some((index, v)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite { what: "cholesky input", index, value: v.re() });
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

/// Row-oriented (Cholesky–Banachiewicz) factorisation of the lower triangle with `jitter`
/// added to the diagonal. Never writes the strict upper triangle.
fn factor<S: Scalar>(a: &mut [S], n: usize, jitter: S) -> Result<()> {
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            if i == j {
                s += jitter;
            }
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            if i == j {
                if !(s > S::zero()) || !s.is_finite() {
                    return Err(Error::NotPositiveDefinite { pivot: i, value: s.re() });
                }
                a[i * n + i] = s.sqrt();
            } else {
                a[i * n + j] = s / a[j * n + j];
            }
        }
    }
    Ok(())
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
