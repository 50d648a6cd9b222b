//! Reverse rule of the Cholesky factorisation (Murray 2016, "Differentiation of the Cholesky
//! decomposition", the symmetric form), written on the crate's triangular solves.
//!
//! For Σ = L·Lᵀ and L̄ = ∂f/∂L (lower triangle read), with Φ(X) = tril(X) with its diagonal
//! halved: X = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹ and the symmetric gradient is Σ̄ = ½(X + Xᵀ), meaning
//! df = Σ_ij Σ̄_ij dΣ_ij over all (i, j) for symmetric perturbations.
//! Kept private to `gp` until the linalg layer grows its own adjoints.

use crate::error::Result;
use crate::linalg::{gemm, solve_triangular, MatMut, MatRef, Side, Trans};
use crate::Scalar;

/// Σ̄ (n × n, symmetric) into `out` from the factor `l` and `l_bar` (lower triangle read; its
/// strict upper triangle is overwritten with zeros). `tmp` holds n × n scratch.
pub(crate) fn cholesky_adjoint<S: Scalar>(
    l: &[S],
    l_bar: &mut [S],
    out: &mut [S],
    tmp: &mut [S],
    n: usize,
) -> Result<()> {
    for i in 0..n {
        for j in i + 1..n {
            l_bar[i * n + j] = S::zero();
        }
    }
    let lr = MatRef::new(n, n, l)?;
    // P = Φ(Lᵀ L̄) into tmp.
    gemm(S::one(), lr, Trans::Yes, MatRef::new(n, n, l_bar)?, Trans::No, S::zero(), MatMut::new(n, n, tmp)?)?;
    let half = S::from_f64(0.5);
    for i in 0..n {
        for j in i + 1..n {
            tmp[i * n + j] = S::zero();
        }
        tmp[i * n + i] *= half;
    }
    // Y = L⁻ᵀ P, then Yᵀ into out and Z = L⁻ᵀ Yᵀ = (Y L⁻¹)ᵀ = Xᵀ.
    solve_triangular(lr, Side::LowerTrans, MatMut::new(n, n, tmp)?)?;
    for i in 0..n {
        for j in 0..n {
            out[j * n + i] = tmp[i * n + j];
        }
    }
    solve_triangular(lr, Side::LowerTrans, MatMut::new(n, n, out)?)?;
    // Σ̄ = ½(X + Xᵀ), in place.
    for i in 0..n {
        for j in 0..i {
            let s = half * (out[i * n + j] + out[j * n + i]);
            out[i * n + j] = s;
            out[j * n + i] = s;
        }
    }
    Ok(())
}
