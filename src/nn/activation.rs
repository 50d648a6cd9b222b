//! Element-wise activations and their hand-written derivatives.

use crate::Scalar;

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
            // Written as separate loops so each one stays a simple, vectorisable map; tanh
            // through its slice hook (libm's tanh would cost more than the MLP's gemms).
            Activation::Tanh => S::tanh_slice(a, h),
            Activation::Relu => h.iter_mut().zip(a).for_each(|(h, &a)| *h = Activation::Relu.apply(a)),
            _ => h.iter_mut().zip(a).for_each(|(h, &a)| *h = self.apply(a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dual;

    #[test]
    fn tanh_slice_is_the_scalar_hook() {
        // Two blocks of the f64 hook and a tail.
        let a: [f64; 514] = core::array::from_fn(|i| (i as f64 - 257.0) * 0.0123);
        let (mut h, mut want) = ([0.0; 514], [0.0; 514]);
        Activation::Tanh.apply_slice(&a, &mut h);
        f64::tanh_slice(&a, &mut want);
        assert!(h.iter().zip(&want).all(|(y, w)| y.to_bits() == w.to_bits()));
        let a32 = a.map(|v| v as f32);
        let (mut h32, mut want32) = ([0.0_f32; 514], [0.0_f32; 514]);
        Activation::Tanh.apply_slice(&a32, &mut h32);
        f32::tanh_slice(&a32, &mut want32);
        assert!(h32.iter().zip(&want32).all(|(y, w)| y.to_bits() == w.to_bits()));
        // Duals keep libm's tanh and its derivative.
        let ad = a.map(|v| Dual::<f64, 1>::variable(v, 0));
        let mut hd = [Dual::<f64, 1>::default(); 514];
        Activation::Tanh.apply_slice(&ad, &mut hd);
        for (&x, y) in a.iter().zip(&hd) {
            assert_eq!(y.re, libm::tanh(x));
            assert!((y.eps[0] - (1.0 - y.re * y.re)).abs() < 1e-15);
        }
    }
}
