//! The model shape [`Svgp`], its flat parameter layout and the [`Prior`] abstraction.

use crate::error::{check_finite, check_len, Error, Result};
use crate::layout::{Size, SliceRef};
use crate::likelihood::{Gaussian, GaussianParams, Likelihood};
use crate::linalg::{Jitter, PackedLower};
use crate::Scalar;

/// What a prior pass reads: the prior's parameters, the inducing inputs Z (M × D, row-major)
/// and the inputs x (N × D).
#[derive(Clone, Copy, Debug)]
pub struct PriorInputs<'a, S> {
    /// The prior's parameters ([`Prior::n_params`] values).
    pub params: &'a [S],
    /// Inducing inputs Z.
    pub z: &'a [S],
    /// Inputs x.
    pub x: &'a [S],
}

/// The whitened projection of the inducing prior, which [`Prior::forward`] writes and
/// [`Prior::backward`] reads (`T` = `&mut [S]` or `&[S]`): L_z = chol(K_zz + jitter·I) (M × M,
/// upper triangle zero), A = L_z⁻¹K_zx (M × N) and diag K_xx (N).
#[derive(Debug)]
pub struct PriorBlocks<T> {
    /// L_z.
    pub lz: T,
    /// A = L_z⁻¹K_zx.
    pub a: T,
    /// diag K_xx.
    pub kxx: T,
}

/// The adjoints the reverse sweep starts from: Ā = ∂ELBO/∂A (M × N, overwritten) and
/// k̄ = ∂ELBO/∂diag K_xx (N).
#[derive(Debug)]
pub struct PriorAdjoint<'a, S> {
    /// Ā.
    pub a: &'a mut [S],
    /// k̄.
    pub kxx: &'a [S],
}

/// Where the reverse sweep *adds* its gradients: ∂/∂(prior parameters) and ∂/∂Z (M × D).
#[derive(Debug)]
pub struct PriorGrad<'a, S> {
    /// ∂/∂(prior parameters).
    pub params: &'a mut [S],
    /// ∂/∂Z.
    pub z: &'a mut [S],
}

/// What the ELBO needs from a prior: the whitened projection of the inducing prior.
///
/// [`Prior::forward`] writes the [`PriorBlocks`] (L_z, A = L_z⁻¹K_zx, diag K_xx);
/// [`Prior::backward`] takes their adjoints ([`PriorAdjoint`]) and adds the prior's parameter
/// and inducing-input gradients ([`PriorGrad`]). Two implementations: [`Closed`](super::Closed)
/// (any closed-form [`Kernel`](crate::kernel::Kernel)) and [`Features`](super::Features)
/// (σ²·ψ(x)·ψ(x') for any [`FeatureMap`](crate::features::FeatureMap)).
pub trait Prior: Copy + core::fmt::Debug {
    /// The named view of the prior's parameters over `&[S]` or `&mut [S]` (the kernel's, or
    /// [`FeaturePriorParams`](super::FeaturePriorParams)).
    type Params<C>;
    /// Views `raw` ([`Prior::n_params`] values, checked) by name.
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>>;
    /// Refuses parameters the prior cannot use: non-finite, or whose transformed values are
    /// degenerate (a variance or lengthscale of 0 or ∞).
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()>;
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Number of prior (kernel) parameters at the front of the flat buffer.
    fn n_params(&self) -> usize;
    /// Scratch kept from [`Prior::forward`] to [`Prior::backward`] for `n` inputs and `m`
    /// inducing points (the backward pass's own scratch included).
    fn workspace_len(&self, n: usize, m: usize) -> Result<usize>;
    /// Writes the blocks for the inputs; keeps what the backward pass needs in `ws`. `jitter`
    /// is the policy K_zz is factored with.
    fn forward<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        jitter: Jitter,
        out: PriorBlocks<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()>;
    /// Reverse sweep from the blocks' adjoints; `ws` must be the forward pass's.
    fn backward<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        blocks: PriorBlocks<&[S]>,
        adjoint: PriorAdjoint<'_, S>,
        grad: PriorGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()>;
    /// Scratch for [`Prior::covariance`] on `n` inputs.
    fn covariance_workspace_len(&self, n: usize) -> Result<usize>;
    /// The prior covariance K(x, x) (n × n) into `out`.
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], ws: &mut [S]) -> Result<()>;
}

crate::parts! {
    /// The flat parameter buffer of an [`Svgp`], part by part (raw slices; [`SvgpParams`] is
    /// the same split with each part's named view): the prior's parameters, the inducing
    /// inputs Z (M × D, row-major), the whitened mean m (M), the packed lower triangle of the
    /// guide's scale L (M(M+1)/2, row by row) and the likelihood's parameters (the
    /// Gaussian's ln σ²_noise; [`Likelihood::n_params`] values).
    "SVGP parameters": pub struct SvgpParts {
        /// The prior's parameters.
        prior,
        /// Inducing inputs Z (M × D, row-major).
        z,
        /// Whitened variational mean m (M).
        mean,
        /// The guide's scale L, packed lower triangle (M(M+1)/2).
        scale_tril,
        /// The likelihood's parameters ([`Likelihood::n_params`] values).
        likelihood,
    }
}

/// An [`Svgp`]'s parameters by name, over `&[S]` ([`Svgp::params`]) or `&mut [S]`
/// ([`Svgp::params_mut`]); a gradient has the same layout, so the same view names its parts.
///
/// ```
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
/// let mut flat = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.5, 0.5), &[-1.0, 1.0], 0.01, &mut flat)?;
/// let p = model.params(&flat)?;
/// assert!((p.prior.variance() - 1.5).abs() < 1e-15 && (p.prior.lengthscale() - 0.5).abs() < 1e-15);
/// assert_eq!((p.z, p.mean), (&[-1.0, 1.0][..], &[0.0, 0.0][..]));
/// assert_eq!((p.scale_tril.diag(0), p.scale_tril.get(1, 0)), (1.0, 0.0)); // L = I
/// assert!((p.likelihood.noise_std() - 0.1).abs() < 1e-15);
/// let mut p = model.params_mut(&mut flat)?;
/// p.mean[1] = 0.5;
/// p.prior.set_lengthscale(0.25)?;
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct SvgpParams<C, PP, LP = GaussianParams<C>> {
    /// The prior's parameters, by name ([`Prior::Params`]).
    pub prior: PP,
    /// Inducing inputs Z, M × D row-major.
    pub z: C,
    /// Whitened variational mean m (M).
    pub mean: C,
    /// The guide's scale L, packed lower triangle.
    pub scale_tril: PackedLower<C>,
    /// The likelihood's parameters by name ([`Likelihood::Params`]: the Gaussian's
    /// [`GaussianParams`] with its noise accessors, the Student-t's scale, `()` for none).
    pub likelihood: LP,
}

/// [`SvgpParams`] over a read-only buffer, what [`Svgp::params`] returns.
pub type ParamsRef<'a, S, P, L = Gaussian> =
    SvgpParams<&'a [S], <P as Prior>::Params<&'a [S]>, <L as Likelihood>::Params<&'a [S]>>;
/// [`SvgpParams`] over a mutable buffer, what [`Svgp::params_mut`] returns.
pub type ParamsMut<'a, S, P, L = Gaussian> =
    SvgpParams<&'a mut [S], <P as Prior>::Params<&'a mut [S]>, <L as Likelihood>::Params<&'a mut [S]>>;

/// [`SvgpParams`] over any storage `C`.
type Named<C, P, L> = SvgpParams<C, <P as Prior>::Params<C>, <L as Likelihood>::Params<C>>;

/// A sparse variational GP: the model's *shape* (plain `Copy` data), a prior `P` and a
/// likelihood `L` ([`Gaussian`] unless [`Svgp::with_likelihood`] says otherwise).
///
/// Its trainable parameters live in one flat buffer, laid out as [`SvgpParts`] says and named by
/// [`Svgp::params`] / [`Svgp::params_mut`]:
///
/// | part | holds |
/// |---|---|
/// | `prior` | the prior's parameters (kernel, or ln σ² then the feature map's) |
/// | `z` | inducing inputs Z, M × D row-major |
/// | `mean` | whitened variational mean m (M) |
/// | `scale_tril` | L, the packed lower triangle row by row: L₀₀, L₁₀, L₁₁, L₂₀, … (M(M+1)/2) |
/// | `likelihood` | the likelihood's parameters: ln σ²_noise for the Gaussian |
///
/// The guide is q(v) = N(m, L·Lᵀ) over the whitened inducing values v = L_z⁻¹ u; with L stored
/// as a triangle the KL stays a true KL however training moves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Svgp<P, L = Gaussian> {
    prior: P,
    likelihood: L,
    m: usize,
    jitter: f64,
    lens: SvgpParts<usize>,
}

impl<P: Prior> Svgp<P, Gaussian> {
    /// A model with the [`Gaussian`] likelihood, `m ≥ 1` inducing points and a finite,
    /// non-negative `jitter` (another likelihood: [`Svgp::with_likelihood`]).
    ///
    /// Errors: m = 0, a bad jitter, input dimension 0, or sizes whose products (M·D, M², the
    /// parameter count) overflow ([`Error::SizeOverflow`]).
    pub fn new(prior: P, m: usize, jitter: f64) -> Result<Self> {
        Self::with_likelihood(prior, Gaussian, m, jitter)
    }

    /// Fills `out` with initial parameters: the given prior parameters and inducing inputs,
    /// m = 0, L = I and the noise variance `noise_var` (> 0).
    ///
    /// Errors: wrong lengths, non-finite prior parameters or inputs, prior parameters whose
    /// transformed values are degenerate (e.g. a lengthscale of 0, i.e. ln ℓ = −∞, or one so
    /// large that 1/ℓ² underflows; see [`Prior::check_params`]), a bad noise variance.
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 1.0], 0.01, &mut p)?;
    /// assert_eq!(model.params(&p)?.scale_tril.as_slice(), [1.0, 0.0, 1.0]);
    /// assert!(model.init_params(&Rbf::params(1.0, 0.0), &[-1.0, 1.0], 0.01, &mut p).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn init_params<S: Scalar>(
        &self,
        prior_params: &[S],
        z: &[S],
        noise_var: f64,
        out: &mut [S],
    ) -> Result<()> {
        crate::kernel::log_of_positive("noise variance", noise_var)?;
        self.init(prior_params, z, out)?;
        self.params_mut(out)?.likelihood.set_noise_variance(noise_var)
    }
}

impl<P: Prior, L: Likelihood> Svgp<P, L> {
    /// A model with the likelihood `likelihood`, `m ≥ 1` inducing points and a finite,
    /// non-negative `jitter`. Errors as [`Svgp::new`].
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::likelihood::{Bernoulli, Likelihood, LikelihoodId};
    /// let model = Svgp::with_likelihood(Closed(Rbf::new(2)), Bernoulli::probit(), 10, 1e-6)?;
    /// assert_eq!(model.likelihood().id(), LikelihoodId::BernoulliProbit);
    /// assert_eq!(model.layout().likelihood, 0); // no likelihood parameters
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn with_likelihood(prior: P, likelihood: L, m: usize, jitter: f64) -> Result<Self> {
        if m == 0 {
            return Err(Error::InvalidParameter { what: "number of inducing points", value: 0.0 });
        }
        if !(jitter.is_finite() && jitter >= 0.0) {
            return Err(Error::InvalidParameter { what: "jitter", value: jitter });
        }
        if prior.input_dim() == 0 {
            return Err(Error::InvalidParameter { what: "input dimension", value: 0.0 });
        }
        // M² too: every M × M block of the workspace is then addressable.
        (Size::of(m) * m).get("inducing points M²")?;
        let lens = SvgpParts {
            prior: Size::of(prior.n_params()),
            z: Size::of(m) * prior.input_dim(),
            mean: Size::of(m),
            scale_tril: PackedLower::size(m),
            likelihood: Size::of(likelihood.n_params()),
        }
        .resolve()?;
        Ok(Self { prior, likelihood, m, jitter, lens })
    }
    /// The prior.
    #[inline]
    pub fn prior(&self) -> &P {
        &self.prior
    }
    /// The likelihood.
    #[inline]
    pub fn likelihood(&self) -> &L {
        &self.likelihood
    }
    /// Number of inducing points M.
    #[inline]
    pub fn n_inducing(&self) -> usize {
        self.m
    }
    /// The jitter added to the diagonal of K_zz before its Cholesky factorisation.
    #[inline]
    pub fn jitter(&self) -> f64 {
        self.jitter
    }
    /// Input dimension D.
    #[inline]
    pub fn input_dim(&self) -> usize {
        self.prior.input_dim()
    }
    /// Length of the flat parameter buffer.
    #[inline]
    pub fn n_params(&self) -> usize {
        self.lens.total()
    }
    /// The lengths of the buffer's parts.
    #[inline]
    pub fn layout(&self) -> SvgpParts<usize> {
        self.lens
    }
    /// The flat buffer (exactly [`Svgp::n_params`] long) split into its raw parts.
    #[inline]
    pub fn parts<'a, S>(&self, flat: &'a [S]) -> Result<SvgpParts<&'a [S]>> {
        self.lens.carve_exact(flat)
    }
    /// The flat buffer split into its raw parts, mutably.
    #[inline]
    pub fn parts_mut<'a, S>(&self, flat: &'a mut [S]) -> Result<SvgpParts<&'a mut [S]>> {
        self.lens.carve_exact(flat)
    }
    /// The parameters (or a gradient) by name: see [`SvgpParams`].
    pub fn params<'a, S: Scalar>(&self, flat: &'a [S]) -> Result<ParamsRef<'a, S, P, L>> {
        self.named(self.parts(flat)?)
    }
    /// The parameters by name, mutably: see [`SvgpParams`].
    pub fn params_mut<'a, S: Scalar>(&self, flat: &'a mut [S]) -> Result<ParamsMut<'a, S, P, L>> {
        self.named(self.parts_mut(flat)?)
    }
    fn named<S: Scalar, C: SliceRef<S>>(&self, parts: SvgpParts<C>) -> Result<Named<C, P, L>> {
        Ok(SvgpParams {
            prior: self.prior.view(parts.prior)?,
            z: parts.z,
            mean: parts.mean,
            scale_tril: PackedLower::new(self.m, parts.scale_tril)?,
            likelihood: self.likelihood.view(parts.likelihood)?,
        })
    }

    /// Fills `out` with initial parameters: the given prior parameters and inducing inputs,
    /// m = 0, L = I and the likelihood's initial parameters ([`Likelihood::init_params`]: for
    /// the Gaussian a noise variance of 1, which [`Svgp::init_params`] sets instead). Set a
    /// likelihood parameter by name afterwards with [`Svgp::params_mut`].
    ///
    /// Errors: wrong lengths, non-finite prior parameters or inputs, prior parameters whose
    /// transformed values are degenerate (see [`Prior::check_params`]).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::likelihood::StudentT;
    /// let model = Svgp::with_likelihood(Closed(Rbf::new(1)), StudentT::new(4.0)?, 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init(&Rbf::params(1.0, 0.5), &[-1.0, 1.0], &mut p)?;
    /// model.params_mut(&mut p)?.likelihood.set_scale(0.1)?;
    /// assert!((model.params(&p)?.likelihood.scale() - 0.1).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn init<S: Scalar>(&self, prior_params: &[S], z: &[S], out: &mut [S]) -> Result<()> {
        check_len("init: prior parameters", self.lens.prior, prior_params.len())?;
        check_len("init: inducing inputs Z", self.lens.z, z.len())?;
        check_finite("init: prior parameters", prior_params)?;
        check_finite("init: inducing inputs Z", z)?;
        self.prior.check_params(prior_params)?;
        let SvgpParts { prior, z: z_out, mean, scale_tril, likelihood } = self.parts_mut(out)?;
        self.likelihood.init_params(likelihood)?;
        prior.copy_from_slice(prior_params);
        z_out.copy_from_slice(z);
        mean.iter_mut().for_each(|v| *v = S::zero());
        PackedLower::new(self.m, scale_tril)?.set_identity();
        Ok(())
    }

    /// Checks targets for this model's likelihood: every value finite, and each one that the
    /// likelihood accepts ([`Likelihood::check_target`]: a Bernoulli target is 0 or 1, a
    /// Poisson one a non-negative integer). Errors name the index and the value
    /// ([`Error::NonFinite`], [`Error::InvalidTarget`]). Every ELBO evaluation does this on its
    /// batch; the training entry points do it once on the whole data set first.
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::likelihood::Poisson;
    /// let model = Svgp::with_likelihood(Closed(Rbf::new(1)), Poisson::new(), 2, 1e-6)?;
    /// assert!(model.check_targets(&[0.0, 3.0, 12.0]).is_ok());
    /// let err = model.check_targets(&[0.0, 3.0, 1.5]).unwrap_err();
    /// assert!(matches!(err, svgp::Error::InvalidTarget { index: 2, value, .. } if value == 1.5));
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn check_targets<S: Scalar>(&self, y: &[S]) -> Result<()> {
        check_finite("targets y", y)?;
        for (i, v) in y.iter().enumerate() {
            self.likelihood.check_target(i, v.re())?;
        }
        Ok(())
    }
}
