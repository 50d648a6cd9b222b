//! The model shape [`Svgp`], its flat parameter layout and the [`Prior`] abstraction.

use crate::error::{check_len, Error, Result};
use crate::Scalar;
use core::ops::Range;

/// What the ELBO needs from a prior: the whitened projection of the inducing prior.
///
/// [`Prior::forward`] writes L_z = chol(K_zz + jitter·I), A = L_z⁻¹ K_zx and diag K_xx;
/// [`Prior::backward`] takes Ā = ∂ELBO/∂A and k̄ = ∂ELBO/∂diag K_xx and adds the prior's
/// parameter and inducing-input gradients. Two implementations: [`Closed`](super::Closed) (any
/// closed-form [`Kernel`](crate::kernel::Kernel)) and [`Features`](super::Features) (σ²·ψ(x)·ψ(x')
/// for any [`FeatureMap`](crate::features::FeatureMap)).
pub trait Prior: Copy + core::fmt::Debug {
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Number of prior (kernel) parameters at the front of the flat buffer.
    fn n_params(&self) -> usize;
    /// Scratch kept from [`Prior::forward`] to [`Prior::backward`] for `n` inputs and `m`
    /// inducing points (the backward pass's own scratch included).
    fn workspace_len(&self, n: usize, m: usize) -> usize;
    /// Writes `lz` (m × m, lower Cholesky factor of K_zz + jitter·I, upper triangle zero),
    /// `a` = L_z⁻¹ K_zx (m × n) and `kxx` = diag K_xx (n); keeps what the backward pass needs in `ws`.
    fn forward<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        x: &[S],
        jitter: f64,
        lz: &mut [S],
        a: &mut [S],
        kxx: &mut [S],
        ws: &mut [S],
    ) -> Result<()>;
    /// Reverse sweep: from Ā (m × n, overwritten) and k̄_xx (n), *adds* ∂/∂params into
    /// `grad_params` and ∂/∂Z into `grad_z` (m × D). `ws` must be the forward pass's.
    fn backward<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        x: &[S],
        lz: &[S],
        a: &[S],
        a_bar: &mut [S],
        kxx_bar: &[S],
        grad_params: &mut [S],
        grad_z: &mut [S],
        ws: &mut [S],
    ) -> Result<()>;
    /// Scratch for [`Prior::covariance`] on `n` inputs.
    fn covariance_workspace_len(&self, n: usize) -> usize;
    /// The prior covariance K(x, x) (n × n) into `out`.
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], ws: &mut [S]) -> Result<()>;
}

/// A sparse variational GP with a Gaussian likelihood: the model's *shape* (plain `Copy` data).
///
/// Its trainable parameters live in one flat buffer, laid out as
///
/// | range | holds |
/// |---|---|
/// | [`Svgp::prior_range`] | the prior's parameters (kernel, or ln σ² then the feature map's) |
/// | [`Svgp::z_range`] | inducing inputs Z, M × D row-major |
/// | [`Svgp::mean_range`] | whitened variational mean m (M) |
/// | [`Svgp::scale_range`] | L, the packed lower triangle row by row: L₀₀, L₁₀, L₁₁, L₂₀, … (M(M+1)/2) |
/// | [`Svgp::noise_index`] | ln σ²_noise, the Gaussian noise variance's log |
///
/// The guide is q(v) = N(m, L·Lᵀ) over the whitened inducing values v = L_z⁻¹ u; with L stored
/// as a triangle the KL stays a true KL however training moves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Svgp<P> {
    /// The prior: [`Closed`](super::Closed) kernel or [`Features`](super::Features) map.
    pub prior: P,
    /// Number of inducing points M.
    pub m: usize,
    /// Added to the diagonal of K_zz before its Cholesky factorisation.
    pub jitter: f64,
}

/// Number of entries in the packed lower triangle of an m × m matrix.
#[inline]
pub const fn tri_len(m: usize) -> usize {
    m * (m + 1) / 2
}

impl<P: Prior> Svgp<P> {
    /// A model with `m ≥ 1` inducing points and a finite, non-negative `jitter`.
    pub fn new(prior: P, m: usize, jitter: f64) -> Result<Self> {
        if m == 0 {
            return Err(Error::InvalidParameter { what: "number of inducing points", value: 0.0 });
        }
        if !(jitter.is_finite() && jitter >= 0.0) {
            return Err(Error::InvalidParameter { what: "jitter", value: jitter });
        }
        if prior.input_dim() == 0 {
            return Err(Error::InvalidParameter { what: "input dimension", value: 0.0 });
        }
        Ok(Self { prior, m, jitter })
    }
    /// Input dimension D.
    #[inline]
    pub fn input_dim(&self) -> usize {
        self.prior.input_dim()
    }
    /// Length of the flat parameter buffer.
    #[inline]
    pub fn n_params(&self) -> usize {
        self.noise_index() + 1
    }
    /// The prior's parameters.
    #[inline]
    pub fn prior_range(&self) -> Range<usize> {
        0..self.prior.n_params()
    }
    /// Inducing inputs Z (M × D, row-major).
    #[inline]
    pub fn z_range(&self) -> Range<usize> {
        let s = self.prior.n_params();
        s..s + self.m * self.input_dim()
    }
    /// Whitened variational mean m.
    #[inline]
    pub fn mean_range(&self) -> Range<usize> {
        let s = self.z_range().end;
        s..s + self.m
    }
    /// Packed lower triangle of the guide's scale L.
    #[inline]
    pub fn scale_range(&self) -> Range<usize> {
        let s = self.mean_range().end;
        s..s + tri_len(self.m)
    }
    /// Index of ln σ²_noise.
    #[inline]
    pub fn noise_index(&self) -> usize {
        self.scale_range().end
    }
    /// Index of L_ij (j ≤ i) inside the packed triangle.
    #[inline]
    pub fn scale_index(i: usize, j: usize) -> usize {
        tri_len(i) + j
    }

    /// Fills `out` with initial parameters: the given prior parameters and inducing inputs,
    /// m = 0, L = I and the noise variance `noise_var` (> 0).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 1.0], 0.01, &mut p)?;
    /// assert_eq!(p[model.scale_range()], [1.0, 0.0, 1.0]);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn init_params<S: Scalar>(
        &self,
        prior_params: &[S],
        z: &[S],
        noise_var: f64,
        out: &mut [S],
    ) -> Result<()> {
        check_len("init: prior parameters", self.prior.n_params(), prior_params.len())?;
        check_len("init: inducing inputs Z", self.m * self.input_dim(), z.len())?;
        check_len("init: parameter buffer", self.n_params(), out.len())?;
        if !(noise_var.is_finite() && noise_var > 0.0) {
            return Err(Error::InvalidParameter { what: "noise variance", value: noise_var });
        }
        out[self.prior_range()].copy_from_slice(prior_params);
        out[self.z_range()].copy_from_slice(z);
        out[self.mean_range()].iter_mut().for_each(|v| *v = S::zero());
        let l = &mut out[self.scale_range()];
        l.iter_mut().for_each(|v| *v = S::zero());
        for i in 0..self.m {
            l[Self::scale_index(i, i)] = S::one();
        }
        out[self.noise_index()] = S::from_f64(noise_var.ln());
        Ok(())
    }
}
