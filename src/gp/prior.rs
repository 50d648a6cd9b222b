//! The two priors: a closed-form kernel ([`Closed`]) and a feature kernel ([`Features`]).

use super::model::{InducingBlocks, Prior, PriorAdjoint, PriorGrad, PriorInputs};
use crate::error::{check_finite, Result};
use crate::features::FeatureMap;
use crate::kernel::{check_log_param, cross_covariance, diagonal, log_of_positive, BlockGrad, Kernel};
use crate::layout::{Size, SliceRef};
use crate::linalg::{
    axpy, cholesky_adjoint, cholesky_in_place, dot, gemm, solve_triangular, solve_triangular_adjoint, Jitter,
    MatMut, MatRef, Side, Trans,
};
use crate::Scalar;
use core::ops::{Deref, DerefMut};

/// A closed-form kernel as an SVGP prior; its parameters are the kernel's (named by the
/// kernel's [`Kernel::Params`] view).
///
/// Forward: K_zz and K_zx by [`Kernel::cross_covariance_block`] (K_zz by the cross formula,
/// as the reference computes it; each block with its own kernel workspace, kept for the
/// reverse rule), L_z = chol(K_zz + jitter·I), A = L_z⁻¹K_zx by a triangular solve. Reverse:
/// K̄_zx = L_z⁻ᵀĀ, L̄_z = −tril(K̄_zx Aᵀ), the Cholesky adjoint for K̄_zz, then
/// [`Kernel::cross_covariance_adjoint`] and [`Kernel::diagonal_adjoint`] (closed forms for the
/// built-in kernels, Dual lanes by default for a user kernel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Closed<K>(pub K);

/// A feature kernel k(x, x') = σ²·ψ(x)·ψ(x') as an SVGP prior; its parameters are
/// `[ln σ² | the feature map's parameters]` (named by [`FeaturePriorParams`]).
///
/// K_zz = σ²Ψ_zΨ_zᵀ + jitter·I is factored as L_z L_zᵀ, B = L_z⁻¹Ψ_z (M × J) and
/// A = σ²·B·Ψ_xᵀ, so the three N·M·J products (A, and B̄ = σ²ĀΨ_x, Ψ̄_x = σ²ĀᵀB in the
/// reverse sweep) go through [`gemm`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Features<F>(pub F);

crate::parts! {
    /// A feature prior's parameters, raw: ln σ² (one value), then the map's.
    "feature prior parameters": pub struct FeaturePriorParts {
        /// ln σ² (one value).
        ln_variance,
        /// The feature map's parameters.
        map,
    }
}

/// A feature prior's parameters by name: ln σ² and the map's own view (`M`), over `&[S]` or
/// `&mut [S]`.
///
/// ```
/// use svgp::features::{DeepRff, FeatureMap};
/// use svgp::gp::{Features, Svgp};
/// use svgp::nn::{Activation, Mlp};
/// use svgp::rng::Xoshiro256;
/// let map = DeepRff::new(Mlp::equinox(2, 8, 1, 4, Activation::Tanh)?, 16)?;
/// let model = Svgp::new(Features(map), 3, 1e-4)?;
/// let mut flat = vec![0.0_f64; model.n_params()];
/// let mut p = model.params_mut(&mut flat)?;
/// p.prior.set_variance(2.0)?;
/// map.mlp().init(&mut Xoshiro256::from_u64(1), &mut *p.prior.map.mlp)?;
/// p.prior.map.w.fill(0.1);
/// p.prior.map.set_lengthscale(0.5)?;
/// let p = model.params(&flat)?;
/// assert!((p.prior.variance() - 2.0).abs() < 1e-15 && (p.prior.map.lengthscale() - 0.5).abs() < 1e-15);
/// assert_eq!(p.prior.map.w.len(), 4 * 16);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct FeaturePriorParams<C, M> {
    /// ln σ² (one value).
    pub ln_variance: C,
    /// The feature map's parameters by name ([`FeatureMap::Params`]).
    pub map: M,
}

impl<S: Scalar, C: Deref<Target = [S]>, M> FeaturePriorParams<C, M> {
    /// The kernel variance σ².
    pub fn variance(&self) -> S {
        self.ln_variance[0].exp()
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>, M> FeaturePriorParams<C, M> {
    /// Sets σ² (finite, > 0).
    pub fn set_variance(&mut self, variance: f64) -> Result<()> {
        self.ln_variance[0] = S::from_f64(log_of_positive("feature kernel variance", variance)?);
        Ok(())
    }
}

impl<F: FeatureMap> Features<F> {
    /// The prior's parameters (exactly [`Prior::n_params`] values) split into ln σ² and the map's.
    pub fn parts<C: crate::layout::Carve>(&self, raw: C) -> Result<FeaturePriorParts<C>> {
        FeaturePriorParts { ln_variance: 1, map: self.0.n_params() }.carve_exact(raw)
    }
}

/// Reverse of U = L_z⁻¹V (m × cols) and L_z = chol(K_zz): `u_bar` (Ū) becomes V̄ = L_z⁻ᵀŪ,
/// and `lz_bar` gets K̄_zz (symmetric) from L̄_z = −tril(V̄Uᵀ) through the Cholesky adjoint.
fn solve_cholesky_adjoint<S: Scalar>(
    lz: &[S],
    u: &[S],
    u_bar: &mut [S],
    cols: usize,
    m: usize,
    lz_bar: &mut [S],
) -> Result<()> {
    lz_bar.iter_mut().for_each(|v| *v = S::zero());
    let l = MatRef::new(m, m, lz)?;
    solve_triangular_adjoint(
        l,
        Side::Lower,
        MatRef::new(m, cols, u)?,
        MatMut::new(m, cols, u_bar)?,
        MatMut::new(m, m, lz_bar)?,
    )?;
    cholesky_adjoint(l, MatMut::new(m, m, lz_bar)?)
}

crate::parts! {
    /// A closed-form prior's inducing state: K_zz and the kernel's workspace for that block
    /// (kept from the forward half), and the second Z gradient of the K_zz block (scratch of
    /// the reverse).
    "closed-form prior inducing state": struct ClosedZ { kzz, wzz, gz2 }
}

crate::parts! {
    /// A closed-form prior's data workspace: K_zx and the kernel's workspace for that block
    /// (kept from the forward half), and the kernel's workspace for the diagonal's reverse rule.
    "closed-form prior data workspace": struct ClosedX { kzx, wzx, wdiag }
}

impl<K: Kernel> Closed<K> {
    fn z_state(&self, m: usize) -> Result<ClosedZ<usize>> {
        ClosedZ {
            kzz: Size::of(m) * m,
            wzz: Size::from_result(self.0.block_workspace_len(m, m)),
            gz2: Size::of(m) * self.0.input_dim(),
        }
        .resolve()
    }
    fn x_ws(&self, n: usize, m: usize) -> Result<ClosedX<usize>> {
        ClosedX {
            kzx: Size::of(m) * n,
            wzx: Size::from_result(self.0.block_workspace_len(m, n)),
            wdiag: Size::from_result(self.0.diagonal_workspace_len(n)),
        }
        .resolve()
    }
}

impl<K: Kernel> Prior for Closed<K> {
    type Params<C> = K::Params<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<K::Params<C>> {
        self.0.view(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        self.0.check_params(params)
    }
    fn param_role(&self, i: usize) -> crate::kernel::ParamRole {
        self.0.param_role(i)
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn check_shape(&self) -> Result<()> {
        self.0.check_shape()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn inducing_state_len(&self, m: usize) -> Result<usize> {
        Ok(self.z_state(m)?.total())
    }
    /// L̄_z (M × M), which the reverse turns into K̄_zz in place.
    fn inducing_adjoint_len(&self, m: usize) -> Result<usize> {
        (Size::of(m) * m).get("closed-form prior inducing adjoint")
    }
    /// K_zx (M × N) and the kernel's block workspace, kept for the reverse.
    fn data_workspace_len(&self, n: usize, m: usize) -> Result<usize> {
        Ok(self.x_ws(n, m)?.total())
    }
    fn forward_inducing<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        jitter: Jitter,
        out: InducingBlocks<&mut [S]>,
    ) -> Result<()> {
        let InducingBlocks { lz, state } = out;
        let m = lz.len().isqrt();
        let ClosedZ { kzz, wzz, .. } = self.z_state(m)?.carve(state)?;
        // K(Z, Z) by the cross formula, as the reference computes it (sizes checked by the caller).
        self.0.cross_covariance_block(params, z, z, kzz, wzz)?;
        lz.copy_from_slice(kzz);
        cholesky_in_place(MatMut::new(m, m, lz)?, jitter)?;
        Ok(())
    }
    fn forward_data<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        inducing: InducingBlocks<&[S]>,
        a: &mut [S],
        kxx: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let PriorInputs { params, z, x } = inputs;
        let (m, n) = (inducing.lz.len().isqrt(), kxx.len());
        let ClosedX { kzx, wzx, .. } = self.x_ws(n, m)?.carve(ws)?;
        self.0.cross_covariance_block(params, z, x, kzx, wzx)?;
        a.copy_from_slice(kzx);
        solve_triangular(MatRef::new(m, m, inducing.lz)?, Side::Lower, MatMut::new(m, n, a)?)?;
        diagonal(&self.0, params, x, kxx)
    }
    fn backward_data<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        inducing: InducingBlocks<&[S]>,
        a: &[S],
        adjoint: PriorAdjoint<'_, S>,
        grad: PriorGrad<'_, S>,
        inducing_adjoint: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let PriorInputs { params, z, x } = inputs;
        let PriorAdjoint { a: a_bar, kxx: kxx_bar } = adjoint;
        let (m, n) = (inducing.lz.len().isqrt(), kxx_bar.len());
        let ClosedX { kzx, wzx, wdiag } = self.x_ws(n, m)?.carve(ws)?;
        // A = L_z⁻¹ K_zx ⇒ K̄_zx = L_z⁻ᵀ Ā and L̄_z = −tril(K̄_zx Aᵀ) (this data's share).
        inducing_adjoint.iter_mut().for_each(|v| *v = S::zero());
        solve_triangular_adjoint(
            MatRef::new(m, m, inducing.lz)?,
            Side::Lower,
            MatRef::new(m, n, a)?,
            MatMut::new(m, n, a_bar)?,
            MatMut::new(m, m, inducing_adjoint)?,
        )?;
        let PriorGrad { params: grad_params, z: grad_z } = grad;
        let grad_zx = BlockGrad { params: &mut *grad_params, x1: grad_z, x2: None };
        self.0.cross_covariance_adjoint(params, z, x, kzx, a_bar, grad_zx, wzx)?;
        self.0.diagonal_adjoint(params, x, kxx_bar, grad_params, wdiag)
    }
    fn backward_inducing<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        lz: &[S],
        state: &mut [S],
        inducing_adjoint: &mut [S],
        grad: PriorGrad<'_, S>,
    ) -> Result<()> {
        let m = lz.len().isqrt();
        let ClosedZ { kzz, wzz, gz2 } = self.z_state(m)?.carve(state)?;
        // L̄_z (summed over the data) → K̄_zz = G, then the K_zz block's reverse.
        let g = inducing_adjoint;
        cholesky_adjoint(MatRef::new(m, m, lz)?, MatMut::new(m, m, g)?)?;
        gz2.iter_mut().for_each(|v| *v = S::zero());
        let PriorGrad { params: grad_params, z: grad_z } = grad;
        let grad_zz = BlockGrad { params: grad_params, x1: &mut *grad_z, x2: Some(&mut *gz2) };
        self.0.cross_covariance_adjoint(params, z, z, kzz, g, grad_zz, wzz)?;
        for (gv, &t) in grad_z.iter_mut().zip(gz2.iter()) {
            *gv += t;
        }
        Ok(())
    }
    fn covariance_workspace_len(&self, _n: usize) -> Result<usize> {
        Ok(0)
    }
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], _ws: &mut [S]) -> Result<()> {
        cross_covariance(&self.0, params, x, x, out)
    }
}

crate::parts! {
    /// A feature prior's inducing state: Ψ_z and B = L_z⁻¹Ψ_z (M × J each, B then GΨ_z in the
    /// reverse), the map's workspace for Z and K̄_zz (M × M, the reverse's).
    "feature prior inducing state": struct FeatureZ { psi_z, b, wz, g }
}

crate::parts! {
    /// A feature prior's data workspace: Ψ_x (N × J) and the map's workspace for x (kept from
    /// the forward half), Ψ̄_x (N × J) for the reverse.
    "feature prior data workspace": struct FeatureX { psi_x, wx, psi_x_bar }
}

impl<F: FeatureMap> Features<F> {
    fn z_state(&self, m: usize) -> Result<FeatureZ<usize>> {
        let mj = Size::of(m) * self.0.n_features();
        FeatureZ { psi_z: mj, b: mj, wz: Size::from_result(self.0.workspace_len(m)), g: Size::of(m) * m }
            .resolve()
    }
    fn x_ws(&self, n: usize) -> Result<FeatureX<usize>> {
        let nj = Size::of(n) * self.0.n_features();
        FeatureX { psi_x: nj, wx: Size::from_result(self.0.workspace_len(n)), psi_x_bar: nj }.resolve()
    }
}

impl<F: FeatureMap> Prior for Features<F> {
    type Params<C> = FeaturePriorParams<C, F::Params<C>>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>> {
        let FeaturePriorParts { ln_variance, map } = self.parts(raw)?;
        Ok(FeaturePriorParams { ln_variance, map: self.0.view(map)? })
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        let FeaturePriorParts { ln_variance, map } = self.parts(params)?;
        check_finite("feature kernel ln variance", ln_variance)?;
        check_log_param("feature kernel ln variance", ln_variance[0], 1.0)?;
        self.0.check_params(map)
    }
    fn param_role(&self, i: usize) -> crate::kernel::ParamRole {
        match i {
            0 => crate::kernel::ParamRole::LnVariance,
            _ => self.0.param_role(i - 1),
        }
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        self.0.n_params().saturating_add(1)
    }
    fn inducing_state_len(&self, m: usize) -> Result<usize> {
        Ok(self.z_state(m)?.total())
    }
    /// B̄ (M × J), which the reverse turns into Ψ̄_z in place.
    fn inducing_adjoint_len(&self, m: usize) -> Result<usize> {
        (Size::of(m) * self.0.n_features()).get("feature prior inducing adjoint")
    }
    fn data_workspace_len(&self, n: usize, _m: usize) -> Result<usize> {
        Ok(self.x_ws(n)?.total())
    }
    fn forward_inducing<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        jitter: Jitter,
        out: InducingBlocks<&mut [S]>,
    ) -> Result<()> {
        let InducingBlocks { lz, state } = out;
        let (m, j) = (lz.len().isqrt(), self.0.n_features());
        let FeaturePriorParts { ln_variance, map: fp } = self.parts(params)?;
        let s2 = ln_variance[0].exp();
        let FeatureZ { psi_z, b, wz, .. } = self.z_state(m)?.carve(state)?;
        self.0.features(fp, z, psi_z, wz)?;
        let pz = MatRef::new(m, j, psi_z)?;
        gemm(s2, pz, Trans::No, pz, Trans::Yes, S::zero(), MatMut::new(m, m, lz)?)?;
        cholesky_in_place(MatMut::new(m, m, lz)?, jitter)?;
        b.copy_from_slice(psi_z);
        solve_triangular(MatRef::new(m, m, lz)?, Side::Lower, MatMut::new(m, j, b)?)?;
        Ok(())
    }
    fn forward_data<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        inducing: InducingBlocks<&[S]>,
        a: &mut [S],
        kxx: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let PriorInputs { params, x, .. } = inputs;
        let (m, n, j) = (inducing.lz.len().isqrt(), kxx.len(), self.0.n_features());
        let FeaturePriorParts { ln_variance, map: fp } = self.parts(params)?;
        let s2 = ln_variance[0].exp();
        let FeatureZ { b, .. } = self.z_state(m)?.carve(inducing.state)?;
        let FeatureX { psi_x, wx, .. } = self.x_ws(n)?.carve(ws)?;
        self.0.features(fp, x, psi_x, wx)?;
        gemm(
            s2,
            MatRef::new(m, j, b)?,
            Trans::No,
            MatRef::new(n, j, psi_x)?,
            Trans::Yes,
            S::zero(),
            MatMut::new(m, n, a)?,
        )?;
        for (k, p) in kxx.iter_mut().zip(psi_x.chunks_exact(j)) {
            *k = s2 * dot(p, p)?;
        }
        Ok(())
    }
    fn backward_data<S: Scalar>(
        &self,
        inputs: PriorInputs<'_, S>,
        inducing: InducingBlocks<&[S]>,
        a: &[S],
        adjoint: PriorAdjoint<'_, S>,
        grad: PriorGrad<'_, S>,
        inducing_adjoint: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let PriorInputs { params, x, .. } = inputs;
        let PriorAdjoint { a: a_bar, kxx: kxx_bar } = adjoint;
        let (m, n, j) = (inducing.lz.len().isqrt(), kxx_bar.len(), self.0.n_features());
        let FeaturePriorParts { ln_variance, map: fp } = self.parts(params)?;
        let s2 = ln_variance[0].exp();
        let FeaturePriorParts { ln_variance: g_ln_variance, map: gfp } = self.parts(grad.params)?;
        let FeatureZ { b, .. } = self.z_state(m)?.carve(inducing.state)?;
        let FeatureX { psi_x, wx, psi_x_bar } = self.x_ws(n)?.carve(ws)?;

        // ∂/∂ln σ² through A = σ²BΨ_xᵀ and diag K_xx = σ²|ψ|²: Σ Ā∘A + Σ k̄·k.
        let mut g_s2: S = dot(a_bar, a)?;
        let (ab, bm) = (MatRef::new(m, n, a_bar)?, MatRef::new(m, j, b)?);
        let px = MatRef::new(n, j, psi_x)?;
        // B̄ = σ²ĀΨ_x (this data's share), Ψ̄_x = σ²ĀᵀB (+ 2σ²k̄_i ψ_i).
        gemm(s2, ab, Trans::No, px, Trans::No, S::zero(), MatMut::new(m, j, inducing_adjoint)?)?;
        gemm(s2, ab, Trans::Yes, bm, Trans::No, S::zero(), MatMut::new(n, j, psi_x_bar)?)?;
        for i in 0..n {
            let (p, pb) = (&psi_x[i * j..(i + 1) * j], &mut psi_x_bar[i * j..(i + 1) * j]);
            let kb = kxx_bar[i];
            axpy(S::from_f64(2.0) * s2 * kb, p, pb)?;
            g_s2 += kb * s2 * dot(p, p)?;
        }
        g_ln_variance[0] += g_s2;
        self.0.features_adjoint(fp, x, psi_x_bar, gfp, None, wx)
    }
    fn backward_inducing<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        lz: &[S],
        state: &mut [S],
        inducing_adjoint: &mut [S],
        grad: PriorGrad<'_, S>,
    ) -> Result<()> {
        let (m, j) = (lz.len().isqrt(), self.0.n_features());
        let FeaturePriorParts { ln_variance, map: fp } = self.parts(params)?;
        let s2 = ln_variance[0].exp();
        let FeaturePriorParts { ln_variance: g_ln_variance, map: gfp } = self.parts(grad.params)?;
        let FeatureZ { psi_z, b, wz, g } = self.z_state(m)?.carve(state)?;
        let b_bar = inducing_adjoint;
        // B = L_z⁻¹Ψ_z ⇒ Ψ̄_z = L_z⁻ᵀB̄, L̄_z = −tril(Ψ̄_z Bᵀ); then the Cholesky adjoint G.
        solve_cholesky_adjoint(lz, b, b_bar, j, m, g)?;
        // K_zz = σ²Ψ_zΨ_zᵀ + jitter·I with G symmetric: Ψ̄_z += 2σ²GΨ_z, ∂ln σ² += σ²Σ(GΨ_z)∘Ψ_z.
        // B is dead now: reuse it for GΨ_z.
        let pz = MatRef::new(m, j, psi_z)?;
        gemm(S::one(), MatRef::new(m, m, g)?, Trans::No, pz, Trans::No, S::zero(), MatMut::new(m, j, b)?)?;
        axpy(S::from_f64(2.0) * s2, b, b_bar)?;
        g_ln_variance[0] += s2 * dot(b, psi_z)?;
        self.0.features_adjoint(fp, z, b_bar, gfp, Some(grad.z), wz)
    }
    fn covariance_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.covariance_ws(n)?.total())
    }
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], ws: &mut [S]) -> Result<()> {
        let j = self.0.n_features();
        let n = out.len().isqrt();
        let FeaturePriorParts { ln_variance, map } = self.parts(params)?;
        let CovarianceWs { psi, map: map_ws } = self.covariance_ws(n)?.carve(ws)?;
        self.0.features(map, x, psi, map_ws)?;
        let p = MatRef::new(n, j, psi)?;
        gemm(ln_variance[0].exp(), p, Trans::No, p, Trans::Yes, S::zero(), MatMut::new(n, n, out)?)
    }
}

crate::parts! {
    /// A feature prior's covariance workspace: Ψ (n × J) and the map's workspace.
    "feature covariance workspace": struct CovarianceWs { psi, map }
}

impl<F: FeatureMap> Features<F> {
    fn covariance_ws(&self, n: usize) -> Result<CovarianceWs<usize>> {
        let psi = Size::of(n) * self.0.n_features();
        CovarianceWs { psi, map: Size::from_result(self.0.workspace_len(n)) }.resolve()
    }
}
