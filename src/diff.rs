//! Derivatives of plain functions by forward mode: [`gradient`], [`jacobian`] and the
//! Hessian-vector product [`hvp`].
//!
//! Each helper lifts the input `x` into dual numbers in a caller-provided `work` buffer, seeds
//! `N` tangent lanes at a time and calls the function once per chunk: ceil(P/N) calls for P
//! inputs, each call carrying N directional derivatives. Nothing is allocated, so the helpers
//! run under `no_std`. Pick `N` to trade calls against the cost of wider duals (4–16 is
//! typical); `N` must be at least 1 (checked at compile time).
//!
//! The function to differentiate is written once, generic over [`Scalar`], and handed to a
//! helper as a closure over the dual type.

use crate::error::{check_buf, check_len};
use crate::{Dual, Result, Scalar};

/// The nested dual [`hvp`] evaluates with: the inner lane carries the direction `v`, the
/// `N` outer lanes carry a chunk of the gradient.
pub type HvpDual<T, const N: usize> = Dual<Dual<T, 1>, N>;

/// Seeds `work[i]` with `x[i]`, tangent 1 in lane `i - start` for `start <= i < start + N`.
#[inline]
fn seed<T: Scalar, const N: usize>(x: &[T], work: &mut [Dual<T, N>], start: usize) {
    for (i, (w, &xi)) in work.iter_mut().zip(x).enumerate() {
        *w = Dual::variable(xi, i.wrapping_sub(start));
    }
}

/// The gradient of `f: Rᴾ → R` at `x`, in ceil(P/N) forward passes; returns `f(x)`.
///
/// `work` needs at least `x.len()` entries (only that prefix is used and passed to `f`);
/// `grad` must have exactly `x.len()`. `f` is called at least once, even when `x` is empty.
///
/// ```
/// use svgp::diff::gradient;
/// use svgp::{Dual, Scalar};
///
/// // f(x) = Σ sin(x_i) x_{i+1} over 5 inputs, gradient in 2 passes of 3 lanes.
/// fn f<S: Scalar>(x: &[S]) -> S {
///     x.windows(2).map(|w| w[0].sin() * w[1]).sum()
/// }
/// let x = [0.1, 0.2, 0.3, 0.4, 0.5];
/// let mut work = [Dual::<f64, 3>::default(); 5];
/// let mut grad = [0.0; 5];
/// let value = gradient(f, &x, &mut work, &mut grad)?;
/// assert_eq!(value, f(&x));
/// // ∂f/∂x_2 = cos(x_2) x_3 + sin(x_1)
/// assert!((grad[2] - (0.3_f64.cos() * 0.4 + 0.2_f64.sin())).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gradient<T, const N: usize, F>(mut f: F, x: &[T], work: &mut [Dual<T, N>], grad: &mut [T]) -> Result<T>
where
    T: Scalar,
    F: FnMut(&[Dual<T, N>]) -> Dual<T, N>,
{
    const { assert!(N > 0, "a forward-mode helper needs at least one tangent lane") };
    let p = x.len();
    check_buf("gradient work", p, work.len())?;
    check_len("gradient grad", p, grad.len())?;
    let work = &mut work[..p];
    let mut value = T::zero();
    let mut start = 0;
    loop {
        seed(x, work, start);
        let y = f(work);
        if start == 0 {
            value = y.re;
        }
        let end = p.min(start + N);
        grad[start..end].copy_from_slice(&y.eps[..end - start]);
        start = end;
        if start >= p {
            return Ok(value);
        }
    }
}

/// The Jacobian of `f: Rᴾ → Rᴹ` at `x`, row-major M×P into `jac`, in ceil(P/N) passes.
///
/// `f(x, out)` writes its M outputs into `out` (reset to zero before each pass, so `f` may
/// accumulate). `work` needs at least `x.len()` entries; `jac` exactly `out.len() · x.len()`.
/// On return the real parts of `out` hold `f(x)`.
///
/// ```
/// use svgp::diff::jacobian;
/// use svgp::{Dual, Scalar};
///
/// // Polar to Cartesian: (r, θ) ↦ (r cos θ, r sin θ).
/// fn polar<S: Scalar>(x: &[S], out: &mut [S]) {
///     let (s, c) = x[1].sin_cos();
///     out[0] = x[0] * c;
///     out[1] = x[0] * s;
/// }
/// let (r, t) = (2.0_f64, 0.5_f64);
/// let mut work = [Dual::<f64, 2>::default(); 2];
/// let mut out = [Dual::<f64, 2>::default(); 2];
/// let mut jac = [0.0; 4];
/// jacobian(polar, &[r, t], &mut work, &mut out, &mut jac)?;
/// let exact = [t.cos(), -r * t.sin(), t.sin(), r * t.cos()];
/// for (a, b) in jac.iter().zip(exact) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// assert_eq!(out[0].re, r * t.cos());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn jacobian<T, const N: usize, F>(
    mut f: F,
    x: &[T],
    work: &mut [Dual<T, N>],
    out: &mut [Dual<T, N>],
    jac: &mut [T],
) -> Result<()>
where
    T: Scalar,
    F: FnMut(&[Dual<T, N>], &mut [Dual<T, N>]),
{
    const { assert!(N > 0, "a forward-mode helper needs at least one tangent lane") };
    let (p, m) = (x.len(), out.len());
    check_buf("jacobian work", p, work.len())?;
    check_len("jacobian jac", m.saturating_mul(p), jac.len())?;
    let work = &mut work[..p];
    let mut start = 0;
    loop {
        seed(x, work, start);
        out.fill(Dual::default());
        f(work, out);
        let end = p.min(start + N);
        if p > 0 {
            for (row, y) in jac.chunks_exact_mut(p).zip(out.iter()) {
                row[start..end].copy_from_slice(&y.eps[..end - start]);
            }
        }
        start = end;
        if start >= p {
            return Ok(());
        }
    }
}

/// The Hessian-vector product H(x)·v of `f: Rᴾ → R`, by forward over forward mode.
///
/// Each of the ceil(P/N) passes evaluates `f` on [`HvpDual<T, N>`]: the inner lane carries
/// the direction `v`, the outer lanes a chunk of coordinate directions, so outer lane k of
/// the result holds ∂f/∂x_k and, in its inner tangent, (H v)_k. Fills `grad` with ∇f(x) as a
/// by-product and returns f(x). `work` needs at least `x.len()` entries; `v`, `grad` and `hv`
/// exactly `x.len()`.
///
/// ```
/// use svgp::diff::{hvp, HvpDual};
/// use svgp::Scalar;
///
/// // Rosenbrock: f = (1 − a)² + 100 (b − a²)².
/// fn rosen<S: Scalar>(x: &[S]) -> S {
///     let (a, b) = (x[0], x[1]);
///     let t = b - a * a;
///     (S::one() - a).powi(2) + S::from_f64(100.0) * t * t
/// }
/// let (a, b) = (0.5_f64, -0.25_f64);
/// let v = [1.0, 2.0];
/// let mut work = [HvpDual::<f64, 2>::default(); 2];
/// let (mut grad, mut hv) = ([0.0; 2], [0.0; 2]);
/// let value = hvp(rosen, &[a, b], &v, &mut work, &mut grad, &mut hv)?;
/// assert_eq!(value, rosen(&[a, b]));
/// // H = [[2 − 400(b − a²) + 800a², −400a], [−400a, 200]]
/// let h = [[2.0 - 400.0 * (b - a * a) + 800.0 * a * a, -400.0 * a], [-400.0 * a, 200.0]];
/// for k in 0..2 {
///     assert!((hv[k] - (h[k][0] * v[0] + h[k][1] * v[1])).abs() < 1e-12);
/// }
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn hvp<T, const N: usize, F>(
    mut f: F,
    x: &[T],
    v: &[T],
    work: &mut [HvpDual<T, N>],
    grad: &mut [T],
    hv: &mut [T],
) -> Result<T>
where
    T: Scalar,
    F: FnMut(&[HvpDual<T, N>]) -> HvpDual<T, N>,
{
    const { assert!(N > 0, "a forward-mode helper needs at least one tangent lane") };
    let p = x.len();
    check_len("hvp v", p, v.len())?;
    check_buf("hvp work", p, work.len())?;
    check_len("hvp grad", p, grad.len())?;
    check_len("hvp hv", p, hv.len())?;
    let work = &mut work[..p];
    let mut value = T::zero();
    let mut start = 0;
    loop {
        for (i, w) in work.iter_mut().enumerate() {
            *w = Dual::variable(Dual::new(x[i], [v[i]]), i.wrapping_sub(start));
        }
        let y = f(work);
        if start == 0 {
            value = y.re.re;
        }
        let end = p.min(start + N);
        for (k, e) in y.eps[..end - start].iter().enumerate() {
            grad[start + k] = e.re;
            hv[start + k] = e.eps[0];
        }
        start = end;
        if start >= p {
            return Ok(value);
        }
    }
}
