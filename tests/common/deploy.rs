//! Models for the deploy tests: the simplest random-Fourier feature map (no lengthscale) with a
//! blob family of its own, and random trained-looking models built on it.

use svgp::deploy::{check_size, check_unused, dim_word, DeployMap, ModelShape, SHAPE_WORDS};
use svgp::features::FeatureMap;
use svgp::gp::{Features, Svgp};
use svgp::layout::SliceRef;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::{Result, Scalar};

/// ψ_j(x) = √(2/J)·cos(x·W_j + b_j), params [W (D × J) | b (J)]: the simplest feature map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlainRff {
    pub d: usize,
    pub j: usize,
}

impl FeatureMap for PlainRff {
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
        (self.d + 1) * self.j
    }
    fn workspace_len(&self, _n: usize) -> Result<usize> {
        Ok(0)
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], _ws: &mut [S]) -> Result<()> {
        let (d, j) = (self.d, self.j);
        let scale = S::from_f64((2.0 / j as f64).sqrt());
        for (xi, row) in x.chunks_exact(d).zip(psi.chunks_exact_mut(j)) {
            for (k, out) in row.iter_mut().enumerate() {
                let mut z = params[d * j + k];
                for h in 0..d {
                    z += xi[h] * params[h * j + k];
                }
                *out = scale * z.cos();
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
        _grad_x: Option<&mut [S]>,
        _ws: &mut [S],
    ) -> Result<()> {
        let (d, j) = (self.d, self.j);
        let scale = S::from_f64((2.0 / j as f64).sqrt());
        for (xi, bar) in x.chunks_exact(d).zip(psi_bar.chunks_exact(j)) {
            for k in 0..j {
                let mut z = params[d * j + k];
                for h in 0..d {
                    z += xi[h] * params[h * j + k];
                }
                let g = -scale * z.sin() * bar[k];
                grad_params[d * j + k] += g;
                for h in 0..d {
                    grad_params[h * j + k] += g * xi[h];
                }
            }
        }
        Ok(())
    }
}

impl ModelShape for PlainRff {
    const FAMILY: u32 = 0xFFFF_0001;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        words[0] = dim_word(self.d)?;
        words[1] = dim_word(self.j)?;
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "test map input dimension")?;
        let j = check_size(words, 1, "test map features")?;
        check_unused(words, 2)?;
        Ok(Self { d, j })
    }
}

/// The default deployment: one parameter block, decoded into the workspace.
impl DeployMap for PlainRff {}

/// A random trained-looking feature model: params, Z, m, packed L (well away from I).
pub struct Random {
    pub map: PlainRff,
    pub flat: Vec<f64>,
    pub m: usize,
}

/// Written by name, in the order the generator draws: σ² = 0.7, the map's W then b, Z, m, L
/// row by row, σ²_noise = 0.01.
pub fn random_feature_model(seed: u64, d: usize, j: usize, m: usize) -> Random {
    let mut rng = Xoshiro256::from_u64(seed);
    let map = PlainRff { d, j };
    let svgp = Svgp::new(Features(map), m, 1e-4).unwrap();
    let mut flat = vec![0.0; svgp.n_params()];
    let mut p = svgp.params_mut(&mut flat).unwrap();
    p.prior.ln_variance[0] = (0.7f64).ln();
    let (w, b) = p.prior.map.split_at_mut(d * j);
    w.iter_mut().for_each(|v| *v = 2.0 * standard_normal(&mut rng));
    b.iter_mut().for_each(|v| *v = uniform(&mut rng, 0.0, std::f64::consts::TAU));
    p.z.iter_mut().for_each(|v| *v = uniform(&mut rng, -1.0, 1.0));
    p.mean.iter_mut().for_each(|v| *v = standard_normal(&mut rng));
    for i in 0..m {
        for k in 0..=i {
            let v = if k == i { uniform(&mut rng, 0.05, 0.6) } else { 0.2 * standard_normal(&mut rng) };
            p.scale_tril.set(i, k, v);
        }
    }
    *p.likelihood.ln_noise_variance_mut() = (0.01f64).ln();
    Random { map, flat, m }
}
