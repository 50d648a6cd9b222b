//! The two priors: a closed-form kernel ([`Closed`]) and a feature kernel ([`Features`]).

use super::model::Prior;
use super::ws::take;
use crate::error::{check_buf, Result};
use crate::features::FeatureMap;
use crate::kernel::{cross_covariance, diagonal, Kernel};
use crate::linalg::{
    axpy, cholesky_adjoint, cholesky_in_place, dot, gemm, solve_triangular, solve_triangular_adjoint, Jitter,
    MatMut, MatRef, Side, Trans,
};
use crate::Scalar;

/// A closed-form kernel as an SVGP prior; its parameters are the kernel's.
///
/// Forward: K_zz and K_zx by [`Kernel::cross_covariance_block`] (K_zz by the cross formula,
/// as the reference computes it), L_z = chol(K_zz + jitter·I), A = L_z⁻¹K_zx by a triangular
/// solve. Reverse: K̄_zx = L_z⁻ᵀĀ, L̄_z = −tril(K̄_zx Aᵀ), the Cholesky adjoint for K̄_zz, then
/// [`Kernel::cross_covariance_adjoint`] and [`Kernel::diagonal_adjoint`] (Dual lanes by
/// default, closed form for [`Rbf`](crate::kernel::Rbf)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Closed<K>(pub K);

/// A feature kernel k(x, x') = σ²·ψ(x)·ψ(x') as an SVGP prior; its parameters are
/// `[ln σ² | the feature map's parameters]`.
///
/// K_zz = σ²Ψ_zΨ_zᵀ + jitter·I is factored as L_z L_zᵀ, B = L_z⁻¹Ψ_z (M × J) and
/// A = σ²·B·Ψ_xᵀ, so the three N·M·J products (A, and B̄ = σ²ĀΨ_x, Ψ̄_x = σ²ĀᵀB in the
/// reverse sweep) go through [`gemm`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Features<F>(pub F);

/// Writes K_zz (+ jitter on the diagonal) factored in place into `lz`.
fn factor_with_jitter<S: Scalar>(lz: &mut [S], m: usize, jitter: f64) -> Result<()> {
    let j = S::from_f64(jitter);
    for i in 0..m {
        lz[i * m + i] += j;
    }
    cholesky_in_place(MatMut::new(m, m, lz)?, Jitter::Fixed(0.0))?;
    Ok(())
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

impl<K: Kernel> Prior for Closed<K> {
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn workspace_len(&self, n: usize, m: usize) -> usize {
        2 * m * m + m * n + m * self.0.input_dim()
    }
    fn forward<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        x: &[S],
        jitter: f64,
        lz: &mut [S],
        a: &mut [S],
        kxx: &mut [S],
        mut ws: &mut [S],
    ) -> Result<()> {
        let (m, n) = (lz.len().isqrt(), kxx.len());
        check_buf("prior workspace", self.workspace_len(n, m), ws.len())?;
        let kzz = take(&mut ws, m * m);
        let kzx = take(&mut ws, m * n);
        // K(Z, Z) by the cross formula, as the reference computes it (sizes checked by the caller).
        self.0.cross_covariance_block(params, z, z, kzz);
        lz.copy_from_slice(kzz);
        factor_with_jitter(lz, m, jitter)?;
        self.0.cross_covariance_block(params, z, x, kzx);
        a.copy_from_slice(kzx);
        solve_triangular(MatRef::new(m, m, lz)?, Side::Lower, MatMut::new(m, n, a)?)?;
        diagonal(&self.0, params, x, kxx)
    }
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
        mut ws: &mut [S],
    ) -> Result<()> {
        let (m, n, d) = (lz.len().isqrt(), kxx_bar.len(), self.0.input_dim());
        check_buf("prior workspace", self.workspace_len(n, m), ws.len())?;
        let kzz = take(&mut ws, m * m);
        let kzx = take(&mut ws, m * n);
        let g = take(&mut ws, m * m);
        let gz2 = take(&mut ws, m * d);
        // A = L_z⁻¹ K_zx ⇒ K̄_zx = L_z⁻ᵀ Ā, L̄_z = −tril(K̄_zx Aᵀ), then K̄_zz = G.
        solve_cholesky_adjoint(lz, a, a_bar, n, m, g)?;
        self.0.cross_covariance_adjoint(params, z, x, kzx, a_bar, grad_params, grad_z, None)?;
        gz2.iter_mut().for_each(|v| *v = S::zero());
        self.0.cross_covariance_adjoint(params, z, z, kzz, g, grad_params, grad_z, Some(gz2))?;
        for (gv, &t) in grad_z.iter_mut().zip(gz2.iter()) {
            *gv += t;
        }
        self.0.diagonal_adjoint(params, x, kxx_bar, grad_params)
    }
    fn covariance_workspace_len(&self, _n: usize) -> usize {
        0
    }
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], _ws: &mut [S]) -> Result<()> {
        cross_covariance(&self.0, params, x, x, out)
    }
}

/// Sizes of the feature prior's workspace pieces.
struct FeatLayout {
    j: usize,
    wz: usize,
    wx: usize,
}

impl<F: FeatureMap> Features<F> {
    fn layout(&self, n: usize, m: usize) -> FeatLayout {
        FeatLayout { j: self.0.n_features(), wz: self.0.workspace_len(m), wx: self.0.workspace_len(n) }
    }
}

impl<F: FeatureMap> Prior for Features<F> {
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        1 + self.0.n_params()
    }
    fn workspace_len(&self, n: usize, m: usize) -> usize {
        let l = self.layout(n, m);
        // ψ_z, ψ_x, B, map scratch (z, x), B̄, Ψ̄_x, G.
        2 * m * l.j + n * l.j + l.wz + l.wx + m * l.j + n * l.j + m * m
    }
    fn forward<S: Scalar>(
        &self,
        params: &[S],
        z: &[S],
        x: &[S],
        jitter: f64,
        lz: &mut [S],
        a: &mut [S],
        kxx: &mut [S],
        mut ws: &mut [S],
    ) -> Result<()> {
        let (m, n) = (lz.len().isqrt(), kxx.len());
        check_buf("prior workspace", self.workspace_len(n, m), ws.len())?;
        let l = self.layout(n, m);
        let (s2, fp) = (params[0].exp(), &params[1..]);
        let psi_z = take(&mut ws, m * l.j);
        let psi_x = take(&mut ws, n * l.j);
        let b = take(&mut ws, m * l.j);
        let wz = take(&mut ws, l.wz);
        let wx = take(&mut ws, l.wx);
        self.0.features(fp, z, psi_z, wz)?;
        self.0.features(fp, x, psi_x, wx)?;
        let pz = MatRef::new(m, l.j, psi_z)?;
        gemm(s2, pz, Trans::No, pz, Trans::Yes, S::zero(), MatMut::new(m, m, lz)?)?;
        factor_with_jitter(lz, m, jitter)?;
        b.copy_from_slice(psi_z);
        solve_triangular(MatRef::new(m, m, lz)?, Side::Lower, MatMut::new(m, l.j, b)?)?;
        gemm(
            s2,
            MatRef::new(m, l.j, b)?,
            Trans::No,
            MatRef::new(n, l.j, psi_x)?,
            Trans::Yes,
            S::zero(),
            MatMut::new(m, n, a)?,
        )?;
        for (k, p) in kxx.iter_mut().zip(psi_x.chunks_exact(l.j)) {
            *k = s2 * dot(p, p)?;
        }
        Ok(())
    }
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
        mut ws: &mut [S],
    ) -> Result<()> {
        let (m, n) = (lz.len().isqrt(), kxx_bar.len());
        check_buf("prior workspace", self.workspace_len(n, m), ws.len())?;
        let l = self.layout(n, m);
        let j = l.j;
        let (s2, fp) = (params[0].exp(), &params[1..]);
        let psi_z = take(&mut ws, m * j);
        let psi_x = take(&mut ws, n * j);
        let b = take(&mut ws, m * j);
        let wz = take(&mut ws, l.wz);
        let wx = take(&mut ws, l.wx);
        let b_bar = take(&mut ws, m * j);
        let psi_x_bar = take(&mut ws, n * j);
        let g = take(&mut ws, m * m);

        // ∂/∂ln σ² through A = σ²BΨ_xᵀ and diag K_xx = σ²|ψ|²: Σ Ā∘A + Σ k̄·k.
        let mut g_s2: S = dot(a_bar, a)?;
        let (ab, bm) = (MatRef::new(m, n, a_bar)?, MatRef::new(m, j, b)?);
        let (px, pz) = (MatRef::new(n, j, psi_x)?, MatRef::new(m, j, psi_z)?);
        // B̄ = σ²ĀΨ_x, Ψ̄_x = σ²ĀᵀB (+ 2σ²k̄_i ψ_i).
        gemm(s2, ab, Trans::No, px, Trans::No, S::zero(), MatMut::new(m, j, b_bar)?)?;
        gemm(s2, ab, Trans::Yes, bm, Trans::No, S::zero(), MatMut::new(n, j, psi_x_bar)?)?;
        for i in 0..n {
            let (p, pb) = (&psi_x[i * j..(i + 1) * j], &mut psi_x_bar[i * j..(i + 1) * j]);
            let kb = kxx_bar[i];
            axpy(S::from_f64(2.0) * s2 * kb, p, pb)?;
            g_s2 += kb * s2 * dot(p, p)?;
        }
        // B = L_z⁻¹Ψ_z ⇒ Ψ̄_z = L_z⁻ᵀB̄, L̄_z = −tril(Ψ̄_z Bᵀ); then the Cholesky adjoint G.
        solve_cholesky_adjoint(lz, b, b_bar, j, m, g)?;
        // K_zz = σ²Ψ_zΨ_zᵀ + jitter·I with G symmetric: Ψ̄_z += 2σ²GΨ_z, ∂ln σ² += σ²Σ(GΨ_z)∘Ψ_z.
        // B is dead now: reuse it for GΨ_z.
        gemm(S::one(), MatRef::new(m, m, g)?, Trans::No, pz, Trans::No, S::zero(), MatMut::new(m, j, b)?)?;
        axpy(S::from_f64(2.0) * s2, b, b_bar)?;
        g_s2 += s2 * dot(b, psi_z)?;
        grad_params[0] += g_s2;
        let (_, gfp) = grad_params.split_at_mut(1);
        self.0.features_adjoint(fp, x, psi_x_bar, gfp, None, wx)?;
        self.0.features_adjoint(fp, z, b_bar, gfp, Some(grad_z), wz)?;
        Ok(())
    }
    fn covariance_workspace_len(&self, n: usize) -> usize {
        n * self.0.n_features() + self.0.workspace_len(n)
    }
    fn covariance<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], mut ws: &mut [S]) -> Result<()> {
        let j = self.0.n_features();
        let n = out.len().isqrt();
        check_buf("covariance workspace", self.covariance_workspace_len(n), ws.len())?;
        let psi = take(&mut ws, n * j);
        self.0.features(&params[1..], x, psi, ws)?;
        let p = MatRef::new(n, j, psi)?;
        gemm(params[0].exp(), p, Trans::No, p, Trans::Yes, S::zero(), MatMut::new(n, n, out)?)
    }
}
