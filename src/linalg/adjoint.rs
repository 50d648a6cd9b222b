//! Reverse-mode rules (adjoints) for gemm, Cholesky and the triangular solves.
//!
//! Each takes the forward inputs/outputs and the adjoint of the output (`x̄ = ∂ℓ/∂x` for some
//! scalar loss ℓ) and produces the adjoints of the inputs. They are generic over
//! [`Scalar`], allocate nothing, and are tested against `Dual` forward mode
//! (tests/linalg_adjoint.rs).

use super::engine::{product, Part, Product, Strides};
use super::gemm::mirror_lower;
use super::{gemm, solve_triangular, MatMut, MatRef, Side, Trans};
use crate::error::check_finite;
use crate::error::{check_len, Result};
use crate::Scalar;

/// Adjoint of `C = α·op(A)·op(B) + β·C₀`: adds `∂ℓ/∂A` into `a_bar` and `∂ℓ/∂B` into
/// `b_bar` (each shaped like the stored operand; pass `None` to skip one).
///
/// `Ā += α·C̄·op(B)ᵀ` (transposed back if `A` entered transposed) and `B̄ += α·op(A)ᵀ·C̄`:
/// two more gemms. The adjoint of `C₀` is `β·C̄`, left to the caller.
///
/// ```
/// use svgp::linalg::{gemm_adjoint, MatMut, MatRef, Trans};
/// // C = A·B with A = [1, 2] (1 × 2), B = [3, 4]ᵀ (2 × 1); ℓ = C.
/// let (a, b, cbar) = ([1.0, 2.0], [3.0, 4.0], [1.0]);
/// let (mut abar, mut bbar) = ([0.0; 2], [0.0; 2]);
/// gemm_adjoint(1.0, MatRef::new(1, 2, &a)?, Trans::No, MatRef::new(2, 1, &b)?, Trans::No,
///     MatRef::new(1, 1, &cbar)?, Some(MatMut::new(1, 2, &mut abar)?), Some(MatMut::new(2, 1, &mut bbar)?))?;
/// assert_eq!((abar, bbar), ([3.0, 4.0], [1.0, 2.0]));
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gemm_adjoint<S: Scalar>(
    alpha: S,
    a: MatRef<'_, S>,
    ta: Trans,
    b: MatRef<'_, S>,
    tb: Trans,
    c_bar: MatRef<'_, S>,
    a_bar: Option<MatMut<'_, S>>,
    b_bar: Option<MatMut<'_, S>>,
) -> Result<()> {
    let (m, k) = ta.dims(&a);
    let (kb, n) = tb.dims(&b);
    check_len("gemm adjoint inner dimension", k, kb)?;
    check_len("gemm adjoint C̄ rows", m, c_bar.rows())?;
    check_len("gemm adjoint C̄ cols", n, c_bar.cols())?;
    let one = S::one();
    if let Some(abar) = a_bar {
        match ta {
            // Ā (m × k) += α·C̄·op(B)ᵀ
            Trans::No => gemm(alpha, c_bar, Trans::No, b, tb.flip(), one, abar)?,
            // Ā (k × m) += α·op(B)·C̄ᵀ
            Trans::Yes => gemm(alpha, b, tb, c_bar, Trans::Yes, one, abar)?,
        }
    }
    if let Some(bbar) = b_bar {
        match tb {
            // B̄ (k × n) += α·op(A)ᵀ·C̄
            Trans::No => gemm(alpha, a, ta.flip(), c_bar, Trans::No, one, bbar)?,
            // B̄ (n × k) += α·C̄ᵀ·op(A)
            Trans::Yes => gemm(alpha, c_bar, Trans::Yes, a, ta, one, bbar)?,
        }
    }
    Ok(())
}

/// Adjoint of the Cholesky factorisation `A = L·Lᵀ`, in place: `bar` holds `L̄` on entry
/// (its lower triangle is read) and `Ā` on return.
///
/// Convention: `Ā` is the *symmetric* gradient, `Ā = ½·L⁻ᵀ·(P + Pᵀ)·L⁻¹` with
/// `P = Φ(Lᵀ·L̄)` (Φ keeps the lower triangle and halves the diagonal; Murray 2016,
/// "Differentiation of the Cholesky decomposition", eq. 10, symmetrised). A symmetric
/// perturbation `dA` then changes ℓ by `Σ_ij Ā_ij·dA_ij`; if the caller parametrises `A`
/// by its lower triangle only, the derivative for an off-diagonal entry is `2·Ā_ij`.
///
/// Cost: one triangular product (n³/6) and two triangular solves with n right-hand sides.
///
/// ```
/// use svgp::linalg::{cholesky_adjoint, MatMut, MatRef};
/// // n = 1: L = √a, so ∂L/∂a = 1/(2√a) = 1/4 at a = 4.
/// let l = [2.0];
/// let mut bar = [1.0];
/// cholesky_adjoint(MatRef::new(1, 1, &l)?, MatMut::new(1, 1, &mut bar)?)?;
/// assert_eq!(bar, [0.25]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn cholesky_adjoint<S: Scalar>(l: MatRef<'_, S>, mut bar: MatMut<'_, S>) -> Result<()> {
    let n = l.rows();
    check_len("cholesky adjoint: square factor", n, l.cols())?;
    check_len("cholesky adjoint: L̄ rows", n, bar.rows())?;
    check_len("cholesky adjoint: L̄ cols", n, bar.cols())?;
    let ld = l.as_slice();
    let b = bar.as_mut_slice();
    // 1. tril(Lᵀ·L̄) in place, row by row from the top: row i needs rows k ≥ i of L̄,
    //    which are not yet overwritten. P_ij = Σ_{k≥i} L_ki·L̄_kj (j ≤ i).
    for i in 0..n {
        let lii = ld[i * n + i];
        b[i * n..i * n + i + 1].iter_mut().for_each(|v| *v *= lii);
        for k in i + 1..n {
            let lki = ld[k * n + i];
            let (top, bottom) = b.split_at_mut(k * n);
            for (dst, &src) in top[i * n..i * n + i + 1].iter_mut().zip(&bottom[..i + 1]) {
                *dst += lki * src;
            }
        }
    }
    // 2. M = P + Pᵀ: the lower triangle of LᵀL̄ mirrored (diagonal kept once).
    mirror_lower(b, n);
    // 3. Z = L⁻ᵀ·M·L⁻¹ (= L⁻ᵀ·(L⁻ᵀ·M)ᵀ since M is symmetric), then Ā = ½·Z, symmetrised.
    solve_triangular(l, Side::LowerTrans, MatMut::new(n, n, b)?)?;
    transpose_in_place(b, n);
    solve_triangular(l, Side::LowerTrans, MatMut::new(n, n, b)?)?;
    let half = S::from_f64(0.5);
    for i in 0..n {
        for j in 0..=i {
            let v = half * half * (b[i * n + j] + b[j * n + i]);
            b[i * n + j] = v;
            b[j * n + i] = v;
        }
    }
    check_finite("cholesky adjoint result", b)
}

fn transpose_in_place<S: Scalar>(a: &mut [S], n: usize) {
    for i in 0..n {
        for j in 0..i {
            a.swap(i * n + j, j * n + i);
        }
    }
}

/// Adjoint of [`solve_triangular`]: given `L`, the solution `X` and `X̄`, overwrites `x_bar`
/// with `B̄` and adds `L̄` into the lower triangle of `l_bar` (its strict upper triangle is
/// left alone).
///
/// For `L·X = B`: `B̄ = L⁻ᵀ·X̄`, `L̄ = −tril(B̄·Xᵀ)`. For `Lᵀ·X = B`: `B̄ = L⁻¹·X̄`,
/// `L̄ = −tril(X·B̄ᵀ)`.
///
/// ```
/// use svgp::linalg::{solve_triangular_adjoint, MatMut, MatRef, Side};
/// // 1 × 1: x = b / l, so ∂x/∂b = 1/l and ∂x/∂l = −x/l.
/// let (l, x) = ([2.0], [3.0]);
/// let (mut xbar, mut lbar) = ([1.0], [0.0]);
/// solve_triangular_adjoint(MatRef::new(1, 1, &l)?, Side::Lower, MatRef::new(1, 1, &x)?,
///     MatMut::new(1, 1, &mut xbar)?, MatMut::new(1, 1, &mut lbar)?)?;
/// assert_eq!((xbar, lbar), ([0.5], [-1.5]));
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn solve_triangular_adjoint<S: Scalar>(
    l: MatRef<'_, S>,
    side: Side,
    x: MatRef<'_, S>,
    mut x_bar: MatMut<'_, S>,
    mut l_bar: MatMut<'_, S>,
) -> Result<()> {
    let n = l.rows();
    check_len("triangular adjoint: square factor", n, l.cols())?;
    check_len("triangular adjoint: X rows", n, x.rows())?;
    check_len("triangular adjoint: X̄ rows", n, x_bar.rows())?;
    check_len("triangular adjoint: X̄ cols", x.cols(), x_bar.cols())?;
    check_len("triangular adjoint: L̄ rows", n, l_bar.rows())?;
    check_len("triangular adjoint: L̄ cols", n, l_bar.cols())?;
    let k = x.cols();
    let adjoint_side = match side {
        Side::Lower => Side::LowerTrans,
        Side::LowerTrans => Side::Lower,
    };
    solve_triangular(l, adjoint_side, MatMut::new(n, k, x_bar.as_mut_slice())?)?;
    let bb = x_bar.as_ref().as_slice();
    let xs = x.as_slice();
    // L̄ −= B̄·Xᵀ (Lower) or X·B̄ᵀ (LowerTrans), lower triangle only.
    let (a_op, b_op) = match side {
        Side::Lower => (bb, xs),
        Side::LowerTrans => (xs, bb),
    };
    let p = Product {
        m: n,
        n,
        k,
        alpha: -S::one(),
        a: a_op,
        sa: Strides::row_major(0, k),
        b: b_op,
        sb: Strides::transposed(0, k),
        beta: S::one(),
        c_off: 0,
        c_rs: n,
        part: Part::Lower,
    };
    product(&p, l_bar.as_mut_slice());
    Ok(())
}
