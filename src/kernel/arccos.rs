//! The arc-cosine kernels of Cho & Saul (2009), the infinite-width limits of one-layer
//! threshold / ReLU / squared-ReLU networks.

use super::{IsoParams, Kernel};
use crate::layout::SliceRef;
use crate::Scalar;

/// Arc-cosine kernel of order n ∈ {0, 1, 2}, parameters `[ln σ², ln ℓ]` (named by [`IsoParams`]):
/// k_n(x, x') = σ²/π · |u|ⁿ|u'|ⁿ · J_n(θ), u = x/ℓ, u' = x'/ℓ, θ the angle between them, with
/// J₀ = π − θ, J₁ = sin θ + (π − θ) cos θ, J₂ = 3 sin θ cos θ + (π − θ)(1 + 2 cos² θ).
///
/// It is 2·E_w[Θ(w·u)Θ(w·u')(w·u)ⁿ(w·u')ⁿ] for w ~ N(0, I), the kernel that
/// [`ArcCosineFeatures`](crate::features::ArcCosineFeatures) approximates. Written without
/// divisions by the norms (|u||u'| sin θ = √(|u|²|u'|² − (u·u')²)), so it stays finite at the
/// origin; order 0 does not depend on ℓ. Not stationary: the diagonal depends on x for n ≥ 1.
///
/// **At the origin.** The angle to a zero input is undefined. As the expectation above with
/// the features' step Θ(0) = 0 says, k(0, ·) = 0 for every order (for n ≥ 1 the factor |u|ⁿ
/// gives it anyway). For order 0 this is a choice, and the one that keeps every Gram matrix
/// positive semi-definite: taking θ = 0 there (k(0, ·) = σ²) makes the origin "parallel" to
/// every input, and a Gram of the origin and two inputs at an angle is then indefinite.
///
/// Inputs so large that |u|² overflows are evaluated on rescaled copies (the angle does not
/// depend on the scale), so the result is the true value (∞ only if that overflows), never NaN.
///
/// ```
/// use svgp::kernel::{ArcCosine, Kernel};
/// let k = ArcCosine::new(2, 1);
/// let p = [0.0_f64, 0.0];
/// // Orthogonal unit vectors: θ = π/2, J₁ = 1, so k = 1/π.
/// let v = k.eval(&p, &[1.0, 0.0], &[0.0, 1.0]);
/// assert!((v - 1.0 / core::f64::consts::PI).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArcCosine {
    dim: usize,
    order: u8,
}

impl ArcCosine {
    /// An arc-cosine kernel of `order` (0, 1 or 2; larger orders are clamped to 2).
    pub fn new(dim: usize, order: u8) -> Self {
        Self { dim, order: order.min(2) }
    }
    /// The order n.
    pub fn order(&self) -> u8 {
        self.order
    }
}

impl ArcCosine {
    /// |u|ⁿ|u'|ⁿ·J_n(θ) from |u|², |u'|² and u·u'.
    #[inline]
    fn j<S: Scalar>(&self, xx: S, yy: S, xy: S) -> S {
        let cross2 = xx * yy - xy * xy;
        // |u||u'| sin θ; 0 (with no tangent) when u ∥ u', where √ has an infinite derivative.
        let s = if cross2 > S::zero() { cross2.sqrt() } else { S::zero() };
        let pi = S::from_f64(core::f64::consts::PI);
        let pi_minus_theta = pi - s.atan2(xy);
        match self.order {
            0 => pi_minus_theta,
            1 => s + pi_minus_theta * xy,
            _ => S::from_f64(3.0) * s * xy + pi_minus_theta * (xx * yy + S::from_f64(2.0) * xy * xy),
        }
    }

    /// The kernel on copies of x and y scaled to max-norm 1, with the scales put back as
    /// (a_x·a_y/ℓ²)ⁿ: for inputs whose squared norms overflow.
    #[cold]
    fn eval_rescaled<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let max_abs = |v: &[S]| v.iter().fold(S::zero(), |m, &t| m.max(t.abs()));
        let (ax, ay) = (max_abs(x), max_abs(y));
        if ax == S::zero() || ay == S::zero() {
            return S::zero();
        }
        let (mut xx, mut yy, mut xy) = (S::zero(), S::zero(), S::zero());
        for (&a, &b) in x.iter().zip(y) {
            let (a, b) = (a / ax, b / ay);
            xx += a * a;
            yy += b * b;
            xy += a * b;
        }
        let j = self.j(xx, yy, xy);
        if j == S::zero() {
            return S::zero();
        }
        let scale = (ax * ay * (S::from_f64(-2.0) * params[1]).exp()).powi(i32::from(self.order));
        params[0].exp() * j * scale / S::from_f64(core::f64::consts::PI)
    }
}

impl Kernel for ArcCosine {
    type Params<C> = IsoParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> crate::Result<IsoParams<C>> {
        IsoParams::new(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> crate::Result<()> {
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        2
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let (mut xx, mut yy, mut xy) = (S::zero(), S::zero(), S::zero());
        for (&a, &b) in x.iter().zip(y) {
            xx += a * a;
            yy += b * b;
            xy += a * b;
        }
        let inv_l2 = (S::from_f64(-2.0) * params[1]).exp();
        let (xx, yy, xy) = (xx * inv_l2, yy * inv_l2, xy * inv_l2);
        if self.order == 0 && (xx == S::zero() || yy == S::zero()) {
            return S::zero(); // the origin: no angle (see the type's docs)
        }
        let k = params[0].exp() * self.j(xx, yy, xy) / S::from_f64(core::f64::consts::PI);
        if k.is_finite() {
            k
        } else {
            self.eval_rescaled(params, x, y)
        }
    }
}
