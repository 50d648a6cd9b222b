//! Element-wise activations and their hand-written derivatives.

use crate::{fastmath, Scalar};

/// √(2/π), the scale inside the tanh approximation of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_A: f64 = 0.044_715;

/// An element-wise nonlinearity for the hidden layers of an [`Mlp`](super::Mlp).
///
/// The names and formulas follow `jax.nn` (what `eqx.nn.MLP` is usually given):
///
/// ```
/// use svgp::nn::Activation;
/// assert_eq!(Activation::Relu.apply(-2.0_f64), 0.0);
/// assert!((Activation::Tanh.apply(0.5_f64) - 0.5_f64.tanh()).abs() < 1e-16);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// tanh(a).
    #[default]
    Tanh,
    /// max(a, 0); the derivative at 0 is taken as 0 (as `jax.nn.relu`).
    Relu,
    /// The tanh approximation ½·a·(1 + tanh(√(2/π)·(a + 0.044715·a³))), `jax.nn.gelu`'s default.
    Gelu,
    /// ln(1 + eᵃ).
    Softplus,
    /// sin(a) (SIREN-style layers).
    Sin,
}

impl Activation {
    /// The activation at `a`.
    #[inline]
    pub fn apply<S: Scalar>(self, a: S) -> S {
        match self {
            Activation::Tanh => a.tanh(),
            Activation::Relu => {
                if a > S::zero() {
                    a
                } else {
                    S::zero()
                }
            }
            Activation::Gelu => {
                let (c, k, half) = (S::from_f64(GELU_C), S::from_f64(GELU_A), S::from_f64(0.5));
                let t = (c * (a + k * (a * a * a))).tanh();
                half * a * (S::one() + t)
            }
            Activation::Softplus => a.softplus(),
            Activation::Sin => a.sin(),
        }
    }

    /// The derivative at pre-activation `a`, given the value `h = apply(a)` (tanh and relu
    /// reuse it and need no transcendental call).
    #[inline]
    pub fn derivative<S: Scalar>(self, a: S, h: S) -> S {
        match self {
            Activation::Tanh => S::one() - h * h,
            Activation::Relu => {
                if a > S::zero() {
                    S::one()
                } else {
                    S::zero()
                }
            }
            Activation::Gelu => {
                let (c, k, half) = (S::from_f64(GELU_C), S::from_f64(GELU_A), S::from_f64(0.5));
                let a2 = a * a;
                let t = (c * (a + k * (a2 * a))).tanh();
                let dinner = c * (S::one() + S::from_f64(3.0 * GELU_A) * a2);
                half * (S::one() + t) + half * a * (S::one() - t * t) * dinner
            }
            Activation::Softplus => a.sigmoid(),
            Activation::Sin => a.cos(),
        }
    }

    /// `g[i] *= derivative(a[i], h[i])` over slices of one length (the activation's reverse
    /// rule), with the match outside the loop so tanh and relu vectorise.
    #[inline]
    pub(crate) fn backprop_slice<S: Scalar>(self, a: &[S], h: &[S], g: &mut [S]) {
        match self {
            Activation::Tanh => g.iter_mut().zip(h).for_each(|(g, &h)| *g *= S::one() - h * h),
            Activation::Relu => {
                g.iter_mut().zip(a).for_each(|(g, &a)| *g = if a > S::zero() { *g } else { S::zero() })
            }
            _ => g.iter_mut().zip(a).zip(h).for_each(|((g, &a), &h)| *g *= self.derivative(a, h)),
        }
    }

    /// `h[i] = apply(a[i])` over a slice (the slices have equal lengths).
    #[inline]
    pub(crate) fn apply_slice<S: Scalar>(self, a: &[S], h: &mut [S]) {
        match self {
            // Written as separate loops so each one stays a simple, vectorisable map.
            Activation::Tanh => tanh_slice(a, h),
            Activation::Relu => h.iter_mut().zip(a).for_each(|(h, &a)| *h = Activation::Relu.apply(a)),
            _ => h.iter_mut().zip(a).for_each(|(h, &a)| *h = self.apply(a)),
        }
    }
}

/// `h = tanh(a)` element-wise. `Scalar` has no slice-tanh hook, so for `S = f64` or `f32` a
/// downcast through `Any` ([`fastmath::map_as`], decided at compile time once monomorphised,
/// and safe) reaches the vectorised [`fastmath::tanh_slice`] / [`fastmath::tanh_slice_f32`]:
/// libm's tanh would cost more than the MLP's gemms. Other types loop over [`Scalar::tanh`].
fn tanh_slice<S: Scalar>(a: &[S], h: &mut [S]) {
    if !(fastmath::map_as(a, h, fastmath::tanh_slice, fastmath::tanh)
        || fastmath::map_as(a, h, fastmath::tanh_slice_f32, fastmath::tanh_f32))
    {
        h.iter_mut().zip(a).for_each(|(h, &a)| *h = a.tanh());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two whole dispatch chunks and a tail, so both downcast paths run.
    const LEN: usize = 2 * fastmath::CHUNK + 2;
    const WHOLE: usize = 2 * fastmath::CHUNK;

    fn inputs() -> [f64; LEN] {
        core::array::from_fn(|i| (i as f64 - 257.0) * 0.0123)
    }

    #[test]
    fn tanh_slice_takes_the_fast_kernels_for_floats() {
        // Whole chunks through the slice kernel (which may fuse multiply-adds), the tail
        // through the one-value function.
        let a = inputs();
        let mut h = [0.0; LEN];
        Activation::Tanh.apply_slice(&a, &mut h);
        let mut want = [0.0; LEN];
        fastmath::tanh_slice(&a[..WHOLE], &mut want[..WHOLE]);
        want[WHOLE..].iter_mut().zip(&a[WHOLE..]).for_each(|(w, &x)| *w = fastmath::tanh(x));
        assert!(h.iter().zip(&want).all(|(y, w)| y.to_bits() == w.to_bits()));
        let a32 = a.map(|v| v as f32);
        let mut h32 = [0.0_f32; LEN];
        Activation::Tanh.apply_slice(&a32, &mut h32);
        for (&x, &y) in a32.iter().zip(&h32) {
            assert_eq!(y.to_bits(), fastmath::tanh_f32(x).to_bits(), "f32 at {x}");
        }
        // Duals keep libm's tanh and its derivative.
        let ad = a.map(|v| crate::Dual::<f64, 1>::variable(v, 0));
        let mut hd = [crate::Dual::<f64, 1>::default(); LEN];
        Activation::Tanh.apply_slice(&ad, &mut hd);
        for (&x, y) in a.iter().zip(&hd) {
            assert_eq!(y.re, libm::tanh(x));
            assert!((y.eps[0] - (1.0 - y.re * y.re)).abs() < 1e-15);
        }
    }
}
