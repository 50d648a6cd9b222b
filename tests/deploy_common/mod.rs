//! Shared helpers for the deploy tests: a small random-Fourier feature map and fixture loading.
#![allow(dead_code)]

use svgp::deploy::{check_size, check_unused, dim_word, ModelShape, SHAPE_WORDS};
use svgp::features::FeatureMap;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::{Result, Scalar};

/// ψ_j(x) = √(2/J)·cos(x·W_j + b_j), params [W (D × J) | b (J)]: the simplest feature map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestRff {
    pub d: usize,
    pub j: usize,
}

impl FeatureMap for TestRff {
    fn input_dim(&self) -> usize {
        self.d
    }
    fn n_features(&self) -> usize {
        self.j
    }
    fn n_params(&self) -> usize {
        (self.d + 1) * self.j
    }
    fn workspace_len(&self, _n: usize) -> usize {
        0
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

impl ModelShape for TestRff {
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

/// A random trained-looking feature model: params, Z, m, packed L (well away from I).
pub struct Random {
    pub map: TestRff,
    pub flat: Vec<f64>,
    pub m: usize,
}

pub fn random_feature_model(seed: u64, d: usize, j: usize, m: usize) -> Random {
    let mut rng = Xoshiro256::from_u64(seed);
    let map = TestRff { d, j };
    let mut flat = vec![(0.7f64).ln()]; // ln σ²
    flat.extend((0..d * j).map(|_| 2.0 * standard_normal(&mut rng)));
    flat.extend((0..j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    flat.extend((0..m * d).map(|_| uniform(&mut rng, -1.0, 1.0)));
    flat.extend((0..m).map(|_| standard_normal(&mut rng)));
    for i in 0..m {
        for k in 0..=i {
            flat.push(if k == i { uniform(&mut rng, 0.05, 0.6) } else { 0.2 * standard_normal(&mut rng) });
        }
    }
    flat.push((0.01f64).ln());
    Random { map, flat, m }
}

pub fn fixture(name: &str) -> serde_json::Value {
    // The shared fixtures sit next to the repository (../shared) or where SVGP_FIXTURES says.
    let dirs = [
        std::env::var("SVGP_FIXTURES").unwrap_or_default(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures").into(),
    ];
    let dir =
        dirs.iter().find(|d| !d.is_empty() && std::path::Path::new(d).is_dir()).expect("fixtures directory");
    let path = format!("{dir}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(floats).collect(),
        serde_json::Value::Number(n) => vec![n.as_f64().expect("number")],
        _ => panic!("not numeric: {v}"),
    }
}

/// Packed lower triangle of a full row-major M × M matrix.
pub fn pack_lower(full: &[f64], m: usize) -> Vec<f64> {
    (0..m).flat_map(|i| (0..=i).map(move |k| (i, k))).map(|(i, k)| full[i * m + k]).collect()
}

/// Grid point k of the fixture's 80 × 80 grid.
pub fn grid_point(axis: &[f64], k: usize) -> [f64; 2] {
    [axis[k % axis.len()], axis[k / axis.len()]]
}

/// The fixture's deep-kernel SVGP as (map, flat params [ln σ² | map | Z | m | L packed | ln σ_n²], M, jitter).
pub fn deep_fixture_model(
    fx: &serde_json::Value,
    section: &str,
) -> (svgp::features::DeepRff, Vec<f64>, usize, f64) {
    use svgp::nn::{Activation, Mlp};
    let p = if section == "init" { &fx["init"] } else { &fx["final"]["params"] };
    let k = &p["kernel"];
    let m = floats(&p["guide"]["m"]).len();
    let j = floats(&k["b"]).len();
    let map = svgp::features::DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap(), j).unwrap();
    let mut flat = floats(&k["log_variance"]);
    for layer in k["mlp"].as_array().unwrap() {
        flat.extend(floats(&layer["weight"]));
        flat.extend(floats(&layer["bias"]));
    }
    flat.extend(floats(&k["W"]));
    flat.extend(floats(&k["b"]));
    flat.extend(floats(&k["log_feature_lengthscale"]));
    assert_eq!(flat.len(), 1 + svgp::features::FeatureMap::n_params(&map));
    flat.extend(floats(&p["Z"]));
    flat.extend(floats(&p["guide"]["m"]));
    flat.extend(pack_lower(&floats(&p["guide"]["L"]), m));
    flat.extend(floats(&p["log_noise_var"]));
    (map, flat, m, fx["meta"]["jitter"].as_f64().unwrap())
}
