//! The squared-exponential (RBF) kernel with one lengthscale per input dimension (ARD).

use super::{ArdParams, Kernel};
use crate::layout::SliceRef;
use crate::Scalar;

/// k(x, x') = σ²·exp(−½·Σ_d (x_d − x'_d)²/ℓ_d²), parameters `[ln σ², ln ℓ_1, …, ln ℓ_D]`
/// (named by [`ArdParams`]).
///
/// Automatic relevance determination: a long lengthscale switches a dimension off. With all
/// ℓ_d equal it is the isotropic [`Rbf`](super::Rbf). Differences are formed directly (not via
/// |x|² + |x'|² − 2x·x'), so nearby points keep full relative precision.
///
/// ```
/// use svgp::kernel::{Kernel, RbfArd};
/// let k = RbfArd::new(2);
/// let params = [0.0_f64, 0.0, 10.0_f64.ln()]; // σ² = 1, ℓ = (1, 10)
/// let v = k.eval(&params, &[0.0, 0.0], &[1.0, 1.0]);
/// assert!((v - (-0.5_f64 * (1.0 + 0.01)).exp()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RbfArd {
    dim: usize,
}

impl RbfArd {
    /// An ARD RBF kernel on `dim`-dimensional inputs (`dim + 1` parameters; a model built on it
    /// checks the sizes).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

/// Σ_d ((x_d − y_d)/ℓ_d)² with ℓ_d = exp(log_l[d]). It overflows to ∞ only when the true
/// value does (far-apart points); the kernels then return their limit 0 (see [`far_apart`]).
#[inline]
pub(crate) fn scaled_sq_dist<S: Scalar>(log_l: &[S], x: &[S], y: &[S]) -> S {
    let mut r2 = S::zero();
    for ((&a, &b), &ll) in x.iter().zip(y).zip(log_l) {
        let t = (a - b) * (-ll).exp();
        r2 += t * t;
    }
    r2
}

/// Whether a squared distance is too large for any stationary kernel to be anything but 0: +∞
/// (where the value's tangents would be ∞·0 = NaN). The kernels return a constant 0 then; a
/// NaN is not "far" and stays NaN.
#[inline]
pub(crate) fn far_apart<S: Scalar>(r2: S) -> bool {
    r2.re() == f64::INFINITY
}

impl Kernel for RbfArd {
    type Params<C> = ArdParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> crate::Result<ArdParams<C>> {
        ArdParams::new(raw, self.dim)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> crate::Result<()> {
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        self.dim.saturating_add(1)
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let r2 = scaled_sq_dist(&params[1..], x, y);
        if far_apart(r2) {
            return S::zero();
        }
        (params[0] - S::from_f64(0.5) * r2).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
}
