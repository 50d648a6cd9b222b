//! What a compact posterior returns for one input.

/// Posterior mean and latent (noise-free) variance of f at one input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction<S> {
    /// E[f(x)].
    pub mean: S,
    /// Var[f(x)], clipped at 0 (rounding can make the exact formula dip below it).
    pub variance: S,
}
