//! Fuzz the model-blob reader: arbitrary bytes must give a posterior or a typed error, never a
//! panic, and any posterior the reader accepts must predict finite values or return an error.
//!
//! Raw bytes rarely get past the CRC-32, so half the inputs are *edits* of valid blobs (a deep
//! RFF blob and an RBF blob, in f32 and f64): the input's bytes are (offset, value) pairs
//! written over the blob, which is then resealed with a correct CRC so the shape, count and
//! value checks behind it get exercised.
//!
//! Wiring (fuzz/Cargo.toml belongs to the fuzz crate; it needs `libfuzzer-sys = "0.4"` and
//! `svgp = { path = ".." }` with default features, for the writers that build the seeds):
//!
//! ```toml
//! [[bin]]
//! name = "model_reader"
//! path = "fuzz_targets/model_reader.rs"
//! test = false
//! doc = false
//! bench = false
//! ```
//!
//! Run: `cargo +nightly fuzz run model_reader -- -max_total_time=60 -max_len=4096`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use svgp::deploy::{
    crc32, feature_to_bytes, kernel_to_bytes, read_feature, read_header, read_kernel, FeatureModel,
    FeaturePosterior, KernelModel, KernelPosterior, ModelKind, Prediction, StoredScalar,
};
use svgp::deploy::ModelShape;
use svgp::features::{DeepRff, FeatureMap, RandomFourier};
use svgp::gp::{Features, Svgp};
use svgp::kernel::{ArcCosine, Kernel, Matern, Rbf, RbfArd};
use svgp::nn::{Activation, Mlp};
use svgp::rng::{standard_normal, Xoshiro256};

/// Valid seed blobs: deep f32, deep f64, RBF f32, RBF f64.
fn seeds() -> &'static [Vec<u8>; 4] {
    static SEEDS: OnceLock<[Vec<u8>; 4]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut rng = Xoshiro256::from_u64(1);
        let map = DeepRff::new(Mlp::equinox(2, 4, 1, 2, Activation::Tanh).unwrap(), 8).unwrap();
        let m = 3;
        let svgp = Svgp::new(Features(map), m, 1e-4).unwrap();
        let mut flat: Vec<f64> = (0..svgp.n_params()).map(|_| 0.5 * standard_normal(&mut rng)).collect();
        let mut tril = svgp.params_mut(&mut flat).unwrap().scale_tril;
        (0..m).for_each(|i| tril.set(i, i, 1.0)); // L's diagonal
        let fm = FeatureModel::from_svgp(&svgp, &flat).unwrap();
        let deep = |bytes: &mut Vec<u8>, f64s: bool| {
            let mut ws = vec![0.0; fm.build_workspace_len().unwrap()];
            let len = FeaturePosterior::<f64, DeepRff>::storage_len(&map, m).unwrap();
            *bytes = if f64s {
                let mut s = vec![0.0f64; len];
                feature_to_bytes(&FeaturePosterior::build(&fm, &mut s, &mut ws).unwrap()).unwrap()
            } else {
                let mut s = vec![0.0f32; len];
                feature_to_bytes(&FeaturePosterior::build(&fm, &mut s, &mut ws).unwrap()).unwrap()
            };
        };
        let (mut d32, mut d64) = (Vec::new(), Vec::new());
        deep(&mut d32, false);
        deep(&mut d64, true);
        let kp = [0.0, -1.0, 0.1, 0.2, -0.3, 0.4, 1.0, -1.0, 1.0, 0.1, 0.5, -2.0];
        let km = KernelModel::from_flat(Rbf::new(2), 2, 1e-4, &kp).unwrap();
        let len = KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(2), 2).unwrap();
        let (mut s32, mut s64) = (vec![0.0f32; len], vec![0.0f64; len]);
        let k32 = kernel_to_bytes(&KernelPosterior::build(&km, &mut s32, &mut [0.0; 6]).unwrap()).unwrap();
        let k64 = kernel_to_bytes(&KernelPosterior::build(&km, &mut s64, &mut [0.0; 6]).unwrap()).unwrap();
        [d32, d64, k32, k64]
    })
}

fn check(p: svgp::Result<Prediction<impl StoredScalar>>) {
    if let Ok(p) = p {
        assert!(p.mean.is_finite() && p.variance.is_finite() && p.variance >= p.variance - p.variance);
    }
}

/// Reads as feature map `F`; predicts when the reader accepts (inputs up to D = 64).
fn feature<S: StoredScalar, F: FeatureMap + ModelShape>(bytes: &[u8], storage: &mut [S]) {
    if let Ok(post) = read_feature::<S, F>(bytes, storage) {
        let mut ws = vec![S::zero(); post.workspace_len().unwrap()];
        let x: Vec<S> = (0..post.map().input_dim().min(64)).map(|i| S::from_f64(0.1 * i as f64 - 0.3)).collect();
        check(post.predict(&x, &mut ws));
        check(post.predict_mean(&x, &mut ws).map(|m| Prediction { mean: m, variance: m - m }));
    }
}

/// Reads as kernel `K`; predicts when the reader accepts.
fn kernel<S: StoredScalar, K: Kernel + ModelShape>(bytes: &[u8], storage: &mut [S]) {
    if let Ok(post) = read_kernel::<S, K>(bytes, storage) {
        let mut ws = vec![S::zero(); post.workspace_len().unwrap()];
        let x: Vec<S> = (0..post.kernel().input_dim().min(64)).map(|i| S::from_f64(0.2 - 0.1 * i as f64)).collect();
        check(post.predict(&x, &mut ws));
    }
}

fn exercise<S: StoredScalar>(bytes: &[u8], count: usize, kind: ModelKind) {
    let mut storage = vec![S::zero(); count];
    match kind {
        ModelKind::Feature => {
            feature::<S, DeepRff>(bytes, &mut storage);
            feature::<S, RandomFourier>(bytes, &mut storage);
        }
        ModelKind::Kernel => {
            kernel::<S, Rbf>(bytes, &mut storage);
            kernel::<S, RbfArd>(bytes, &mut storage);
            kernel::<S, Matern>(bytes, &mut storage);
            kernel::<S, ArcCosine>(bytes, &mut storage);
        }
    }
}

fn read_any(bytes: &[u8]) {
    let Ok(h) = read_header(bytes) else { return };
    assert_eq!(bytes.len(), 108 + h.count * h.scalar_size as usize);
    match h.scalar_size {
        4 => exercise::<f32>(bytes, h.count, h.kind),
        _ => exercise::<f64>(bytes, h.count, h.kind),
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((&mode, edits)) if mode & 1 == 1 => {
            let mut blob = seeds()[(mode as usize >> 1) % 4].clone();
            for pair in edits.chunks_exact(3) {
                let at = u16::from_le_bytes([pair[0], pair[1]]) as usize % blob.len();
                blob[at] = pair[2];
            }
            if mode & 0x80 == 0 {
                let n = blob.len() - 4;
                let crc = crc32(&blob[..n]);
                blob[n..].copy_from_slice(&crc.to_le_bytes());
            }
            read_any(&blob);
        }
        _ => read_any(data),
    }
});
