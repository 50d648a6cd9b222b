//! Element-wise activations and their hand-written derivatives.

use crate::{fastmath, Scalar};
use core::any::{Any, TypeId};

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

/// Entries per call of the f64 kernel in [`tanh_slice`].
const CHUNK: usize = 64;

/// `h = tanh(a)` element-wise. `Scalar` has no slice-tanh hook, so for `S = f64` a downcast
/// through `Any` (decided at compile time once monomorphised, and safe) hands fixed-size
/// chunks to the vectorised [`fastmath::tanh_slice`]: libm's tanh would cost more than the
/// MLP's gemms. Every other type loops over [`Scalar::tanh`].
fn tanh_slice<S: Scalar>(a: &[S], h: &mut [S]) {
    if TypeId::of::<S>() != TypeId::of::<f64>() {
        h.iter_mut().zip(a).for_each(|(h, &a)| *h = a.tanh());
        return;
    }
    let mut a_chunks = a.chunks_exact(CHUNK);
    let mut h_chunks = h.chunks_exact_mut(CHUNK);
    for (ac, hc) in (&mut a_chunks).zip(&mut h_chunks) {
        if let (Some(x), Some(y)) = (as_f64_array(ac), as_f64_array_mut(hc)) {
            fastmath::tanh_slice(x, y);
        }
    }
    for (hv, av) in h_chunks.into_remainder().iter_mut().zip(a_chunks.remainder()) {
        if let (Some(y), Some(&x)) =
            ((hv as &mut dyn Any).downcast_mut::<f64>(), (av as &dyn Any).downcast_ref::<f64>())
        {
            *y = fastmath::tanh(x);
        }
    }
}

fn as_f64_array<S: 'static>(c: &[S]) -> Option<&[f64; CHUNK]> {
    let arr: &[S; CHUNK] = c.try_into().ok()?;
    (arr as &dyn Any).downcast_ref()
}

fn as_f64_array_mut<S: 'static>(c: &mut [S]) -> Option<&mut [f64; CHUNK]> {
    let arr: &mut [S; CHUNK] = c.try_into().ok()?;
    (arr as &mut dyn Any).downcast_mut()
}
