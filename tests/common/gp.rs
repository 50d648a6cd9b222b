//! Models and problems for the ELBO tests: a tiny random-Fourier feature map with a
//! hand-written adjoint, a kernel that only has the Dual default adjoint, random problems and
//! parameters, and the ELBO gradient by Dual forward mode and by the reverse sweep.

pub use super::oracle::grad_errors;
use super::oracle::{dual_gradient, D8};
use svgp::features::FeatureMap;
use svgp::gp::{ElboOptions, Prior, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::layout::SliceRef;
use svgp::likelihood::Likelihood;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::{Result, Scalar};

/// ψ_j(x) = √(2/J)·cos(Σ_d x_d W[d][j] / ℓ + b_j); params `[W (D × J) | b (J) | ln ℓ]`.
#[derive(Clone, Copy, Debug)]
pub struct TestRff {
    pub d: usize,
    pub j: usize,
}

impl TestRff {
    fn arg<S: Scalar>(&self, params: &[S], x: &[S], jj: usize) -> S {
        let (w, b, ll) =
            (&params[..self.d * self.j], &params[self.d * self.j..], params[self.d * self.j + self.j]);
        let inv_l = (-ll).exp();
        let mut s = S::zero();
        for q in 0..self.d {
            s += x[q] * w[q * self.j + jj];
        }
        s * inv_l + b[jj]
    }
}

impl FeatureMap for TestRff {
    type Params<C> = C;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        self.d
    }
    fn n_features(&self) -> usize {
        self.j
    }
    fn n_params(&self) -> usize {
        self.d * self.j + self.j + 1
    }
    fn workspace_len(&self, _n: usize) -> Result<usize> {
        Ok(0)
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], _ws: &mut [S]) -> Result<()> {
        let c = S::from_f64((2.0 / self.j as f64).sqrt());
        for (xi, row) in x.chunks_exact(self.d).zip(psi.chunks_exact_mut(self.j)) {
            for (jj, p) in row.iter_mut().enumerate() {
                *p = c * self.arg(params, xi, jj).cos();
            }
        }
        Ok(())
    }
    fn features_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi_bar: &[S],
        grad_params: &mut [S],
        mut grad_x: Option<&mut [S]>,
        _ws: &mut [S],
    ) -> Result<()> {
        let (d, j) = (self.d, self.j);
        let c = S::from_f64((2.0 / j as f64).sqrt());
        let inv_l = (-params[d * j + j]).exp();
        for (i, xi) in x.chunks_exact(d).enumerate() {
            for jj in 0..j {
                let u = self.arg(params, xi, jj);
                let ub = -psi_bar[i * j + jj] * c * u.sin();
                for q in 0..d {
                    grad_params[q * j + jj] += ub * xi[q] * inv_l;
                    if let Some(gx) = grad_x.as_deref_mut() {
                        gx[i * d + q] += ub * params[q * j + jj] * inv_l;
                    }
                }
                grad_params[d * j + jj] += ub;
                grad_params[d * j + j] -= ub * (u - params[d * j + jj]);
            }
        }
        Ok(())
    }
}

/// An RBF that only implements `eval`/`eval_diag`, so its adjoints are the Dual defaults.
#[derive(Clone, Copy, Debug)]
pub struct DualOnlyRbf(pub Rbf);

impl Kernel for DualOnlyRbf {
    type Params<C> = C;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        2
    }
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        self.0.eval(params, x, y)
    }
    fn eval_diag<S: Scalar>(&self, params: &[S], x: &[S]) -> S {
        self.0.eval_diag(params, x)
    }
}

/// n random inputs in [-1, 1]^d and targets sin(3 x₀) + x₁/2 + noise.
pub fn data(rng: &mut Xoshiro256, n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n * d).map(|_| uniform(rng, -1.0, 1.0)).collect();
    let y = x
        .chunks(d)
        .map(|r| (3.0 * r[0]).sin() + 0.5 * r.get(1).copied().unwrap_or(0.0) + 0.1 * standard_normal(rng))
        .collect();
    (x, y)
}

/// Random, non-trivial parameters: the given prior parameters, random Z, m, a random lower L
/// with diagonal entries of both signs, noise variance 0.05.
pub fn random_params<P: Prior>(model: &Svgp<P>, prior: &[f64], rng: &mut Xoshiro256) -> Vec<f64> {
    let mut p = vec![0.0; model.n_params()];
    let z: Vec<f64> = (0..model.n_inducing() * model.input_dim()).map(|_| uniform(rng, -1.0, 1.0)).collect();
    model.init_params(prior, &z, 0.05, &mut p).unwrap();
    randomise_guide(model, &mut p, rng);
    p
}

/// [`random_params`] for any likelihood: the likelihood's parameters are `lik` (raw values).
pub fn random_params_with<P: Prior, L: Likelihood>(
    model: &Svgp<P, L>,
    prior: &[f64],
    lik: &[f64],
    rng: &mut Xoshiro256,
) -> Vec<f64> {
    let mut p = vec![0.0; model.n_params()];
    let z: Vec<f64> = (0..model.n_inducing() * model.input_dim()).map(|_| uniform(rng, -1.0, 1.0)).collect();
    model.init(prior, &z, &mut p).unwrap();
    model.parts_mut(&mut p).unwrap().likelihood.copy_from_slice(lik);
    randomise_guide(model, &mut p, rng);
    p
}

/// A random guide: m ~ N(0, I), a random lower L with diagonal entries of both signs.
fn randomise_guide<P: Prior, L: Likelihood>(model: &Svgp<P, L>, p: &mut [f64], rng: &mut Xoshiro256) {
    let mut v = model.params_mut(p).unwrap();
    v.mean.iter_mut().for_each(|m| *m = standard_normal(rng));
    for i in 0..model.n_inducing() {
        for j in 0..=i {
            let l = if i == j {
                (0.5 + uniform(rng, 0.0, 0.5)) * if i % 3 == 1 { -1.0 } else { 1.0 }
            } else {
                0.3 * standard_normal(rng)
            };
            v.scale_tril.set(i, j, l);
        }
    }
}

/// ∂ELBO/∂params by forward mode ([`dual_gradient`], 8 lanes per pass).
pub fn dual_grad<P: Prior, L: Likelihood>(
    model: &Svgp<P, L>,
    params: &[f64],
    x: &[f64],
    y: &[f64],
    opts: ElboOptions,
) -> Vec<f64> {
    let xd: Vec<D8> = x.iter().map(|&v| D8::constant(v)).collect();
    let yd: Vec<D8> = y.iter().map(|&v| D8::constant(v)).collect();
    let mut ws = vec![D8::default(); model.workspace_len(y.len()).unwrap()];
    dual_gradient(|pd| model.elbo(pd, &xd, &yd, opts, &mut ws).unwrap(), params).1
}

/// ∂ELBO/∂params by the reverse sweep, and the ELBO.
pub fn reverse_grad<P: Prior, L: Likelihood>(
    model: &Svgp<P, L>,
    params: &[f64],
    x: &[f64],
    y: &[f64],
    opts: ElboOptions,
) -> (f64, Vec<f64>) {
    let mut ws = vec![0.0; model.workspace_len(y.len()).unwrap()];
    let mut g = vec![0.0; params.len()];
    let e = model.elbo_and_grad(params, x, y, opts, &mut g, &mut ws).unwrap();
    (e, g)
}
