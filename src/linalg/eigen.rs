//! Symmetric eigen-decomposition by cyclic Jacobi rotations.
//!
//! Small dense matrices only (O(n³) per sweep, a handful of sweeps): the deployment build
//! uses it on M × M matrices to turn the posterior's variance form into a sum of squares.
//! Jacobi is slow next to a tridiagonal QR, but short, allocation-free, and accurate to
//! working precision in every eigenvalue (relative to the matrix norm).

use super::{MatMut, MatRef};
use crate::error::{check_finite, check_len, Error, Result};
use crate::Scalar;

/// Sweeps after which [`sym_eigen`] gives up; Jacobi converges quadratically, so a
/// well-formed matrix needs 6–10.
const MAX_SWEEPS: usize = 60;

/// Eigenvalues and eigenvectors of the symmetric n × n matrix `a` (only its lower triangle is
/// read): `values` (n) gets the eigenvalues in descending order and the columns of `vectors`
/// (n × n, row-major) the matching orthonormal eigenvectors, so A = V diag(λ) Vᵀ. `a` is
/// overwritten (its diagonal ends up holding the unsorted eigenvalues). Returns the number of
/// sweeps taken.
///
/// ```
/// use svgp::linalg::{sym_eigen, MatMut};
/// let mut a = [2.0_f64, 1.0, 1.0, 2.0];
/// let (mut values, mut vectors) = ([0.0_f64; 2], [0.0_f64; 4]);
/// sym_eigen(MatMut::new(2, 2, &mut a)?, &mut values, MatMut::new(2, 2, &mut vectors)?)?;
/// assert!((values[0] - 3.0).abs() < 1e-15 && (values[1] - 1.0).abs() < 1e-15);
/// let h = 0.5f64.sqrt();
/// assert!((vectors[0].abs() - h).abs() < 1e-15 && (vectors[0] - vectors[2]).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn sym_eigen<S: Scalar>(
    mut a: MatMut<'_, S>,
    values: &mut [S],
    mut vectors: MatMut<'_, S>,
) -> Result<usize> {
    let n = a.rows();
    check_len("symmetric eigen matrix (square)", n, a.cols())?;
    check_len("eigenvalues", n, values.len())?;
    check_len("eigenvector rows", n, vectors.rows())?;
    check_len("eigenvector columns", n, vectors.cols())?;
    check_finite("symmetric eigen matrix", a.as_ref().as_slice())?;
    for i in 0..n {
        for j in 0..i {
            let v = a.get(i, j);
            a.set(j, i, v);
        }
    }
    vectors.as_mut_slice().iter_mut().for_each(|v| *v = S::zero());
    (0..n).for_each(|i| vectors.set(i, i, S::one()));

    let mut sweeps = 0;
    loop {
        let (off, norm) = off_and_norm(a.as_ref());
        if off <= S::epsilon() * S::epsilon() * norm || off == S::zero() {
            break;
        }
        if sweeps == MAX_SWEEPS {
            return Err(Error::InvalidParameter { what: "symmetric eigen: no convergence", value: off.re() });
        }
        sweeps += 1;
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut vectors, p, q);
            }
        }
    }
    // Selection sort by descending eigenvalue, swapping the vectors' columns along.
    (0..n).for_each(|i| values[i] = a.get(i, i));
    for i in 0..n {
        let k = (i..n).fold(i, |k, j| if values[j] > values[k] { j } else { k });
        if k != i {
            values.swap(i, k);
            for r in 0..n {
                let (x, y) = (vectors.get(r, i), vectors.get(r, k));
                vectors.set(r, i, y);
                vectors.set(r, k, x);
            }
        }
    }
    Ok(sweeps)
}

/// Σ_{i≠j} a_ij² and Σ a_ij².
fn off_and_norm<S: Scalar>(a: MatRef<'_, S>) -> (S, S) {
    let n = a.rows();
    let (mut off, mut all) = (S::zero(), S::zero());
    for i in 0..n {
        for j in 0..n {
            let v = a.get(i, j) * a.get(i, j);
            all += v;
            if i != j {
                off += v;
            }
        }
    }
    (off, all)
}

/// One Jacobi rotation zeroing a_pq (Golub & Van Loan, Algorithm 8.5.2's symmetric Schur
/// step), applied to both sides of `a` and accumulated into `v`.
fn rotate<S: Scalar>(a: &mut MatMut<'_, S>, v: &mut MatMut<'_, S>, p: usize, q: usize) {
    let apq = a.get(p, q);
    if apq == S::zero() {
        return;
    }
    let n = a.rows();
    let tau = (a.get(q, q) - a.get(p, p)) / (apq + apq);
    let one = S::one();
    // The smaller root of t² + 2τt − 1 = 0 (rotation angle ≤ π/4).
    let t = if tau >= S::zero() {
        one / (tau + (one + tau * tau).sqrt())
    } else {
        -one / (-tau + (one + tau * tau).sqrt())
    };
    let c = one / (one + t * t).sqrt();
    let s = t * c;
    for k in 0..n {
        let (akp, akq) = (a.get(k, p), a.get(k, q));
        a.set(k, p, c * akp - s * akq);
        a.set(k, q, s * akp + c * akq);
    }
    for k in 0..n {
        let (apk, aqk) = (a.get(p, k), a.get(q, k));
        a.set(p, k, c * apk - s * aqk);
        a.set(q, k, s * apk + c * aqk);
    }
    for k in 0..n {
        let (vkp, vkq) = (v.get(k, p), v.get(k, q));
        v.set(k, p, c * vkp - s * vkq);
        v.set(k, q, s * vkp + c * vkq);
    }
}
