//! Fuzz the model-blob reader (format version 2): arbitrary bytes must give a posterior or a
//! typed error, never a panic, and any posterior the reader accepts must predict finite values
//! or return an error, both read in place (`view_*`) and decoded into storage (`read_*`), in
//! f32 and f64.
//!
//! Raw bytes rarely get past the CRC-32, so most inputs are *edits* of valid blobs (a deep RFF
//! blob in every storage encoding — f64, f32, f16, bf16, i16 and i8 with row scales, the mixed
//! compact plan — and RBF blobs in f64, f32, f16 and compact): the input's bytes are
//! (offset, value) pairs written over the blob, which is then resealed with a correct CRC so
//! the table, shape, encoding, likelihood and value checks behind it get exercised.
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
use svgp::deploy::ModelShape;
use svgp::deploy::{
    crc32, feature_to_bytes, kernel_to_bytes, read_feature, read_header, read_kernel, view_feature, view_kernel,
    DeployMap, Encoding, FeatureModel, FeaturePosterior, KernelModel, KernelPosterior, ModelKind, Plan,
    Prediction, StoredScalar,
};
use svgp::features::{DeepRff, RandomFourier};
use svgp::gp::{Features, Svgp};
use svgp::kernel::{ArcCosine, Kernel, Matern, Rbf, RbfArd};
use svgp::nn::{Activation, Mlp};
use svgp::rng::{standard_normal, Xoshiro256};

/// The storage plans of the seeds: one per encoding, and the mixed compact plan.
fn plans() -> Vec<Plan> {
    let mut p: Vec<Plan> = Encoding::ALL.iter().map(|&e| Plan::uniform(e)).collect();
    p.push(Plan::compact());
    p
}

/// Valid seed blobs: the deep model under every plan, then the RBF model under every plan.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut rng = Xoshiro256::from_u64(1);
        let map = DeepRff::new(Mlp::equinox(2, 4, 1, 2, Activation::Tanh).unwrap(), 8).unwrap();
        let m = 3;
        let svgp = Svgp::new(Features(map), m, 1e-4).unwrap();
        let mut flat: Vec<f64> = (0..svgp.n_params()).map(|_| 0.5 * standard_normal(&mut rng)).collect();
        let mut tril = svgp.params_mut(&mut flat).unwrap().scale_tril;
        (0..m).for_each(|i| tril.set(i, i, 1.0)); // L's diagonal
        let fm = FeatureModel::from_svgp(&svgp, &flat).unwrap();
        let mut s = vec![0.0f64; FeaturePosterior::<f64, DeepRff>::storage_len(&map, m).unwrap()];
        let deep = FeaturePosterior::build(&fm, &mut s, &mut vec![0.0; fm.build_workspace_len().unwrap()]).unwrap();
        let kp = [0.0, -1.0, 0.1, 0.2, -0.3, 0.4, 1.0, -1.0, 1.0, 0.1, 0.5, -2.0];
        let km = KernelModel::from_flat(Rbf::new(2), 2, 1e-4, &kp).unwrap();
        let mut s = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(2), 2).unwrap()];
        let rbf = KernelPosterior::build(&km, &mut s, &mut vec![0.0; km.build_workspace_len().unwrap()]).unwrap();
        let mut seeds: Vec<Vec<u8>> = plans().iter().map(|p| feature_to_bytes(&deep, p).unwrap()).collect();
        seeds.extend(plans().iter().map(|p| kernel_to_bytes(&rbf, p).unwrap()));
        seeds
    })
}

fn check(p: svgp::Result<Prediction<impl StoredScalar>>) {
    if let Ok(p) = p {
        assert!(p.mean.is_finite() && p.variance.is_finite() && p.variance >= p.variance - p.variance);
    }
}

/// Predicts at a fixed input of the map's dimension (up to D = 64).
fn feature_predicts<S: StoredScalar, F: DeployMap + ModelShape>(post: &FeaturePosterior<'_, S, F>) {
    let mut ws = vec![S::zero(); post.workspace_len().unwrap()];
    let x: Vec<S> = (0..post.map().input_dim().min(64)).map(|i| S::from_f64(0.1 * i as f64 - 0.3)).collect();
    check(post.predict(&x, &mut ws));
    check(post.predict_observation(&x, &mut ws));
    check(post.predict_mean(&x, &mut ws).map(|m| Prediction { mean: m, variance: m - m }));
}

/// Reads as feature map `F`, in place and into storage; predicts when the reader accepts.
fn feature<S: StoredScalar, F: DeployMap + ModelShape>(bytes: &[u8], storage: &mut [S]) {
    if let Ok(post) = view_feature::<S, F>(bytes) {
        feature_predicts(&post);
    }
    if let Ok(post) = read_feature::<S, F>(bytes, storage) {
        feature_predicts(&post);
    }
}

fn kernel_predicts<S: StoredScalar, K: Kernel + ModelShape>(post: &KernelPosterior<'_, S, K>) {
    let mut ws = vec![S::zero(); post.workspace_len().unwrap()];
    let x: Vec<S> = (0..post.kernel().input_dim().min(64)).map(|i| S::from_f64(0.2 - 0.1 * i as f64)).collect();
    check(post.predict(&x, &mut ws));
    check(post.predict_observation(&x, &mut ws));
    check(post.predict_mean(&x, &mut ws).map(|m| Prediction { mean: m, variance: m - m }));
}

/// Reads as kernel `K`, in place and into storage; predicts when the reader accepts.
fn kernel<S: StoredScalar, K: Kernel + ModelShape>(bytes: &[u8], storage: &mut [S]) {
    if let Ok(post) = view_kernel::<S, K>(bytes) {
        kernel_predicts(&post);
    }
    if let Ok(post) = read_kernel::<S, K>(bytes, storage) {
        kernel_predicts(&post);
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
    assert_eq!(bytes.len(), h.len);
    // Bound the storage a damaged count could ask for (the reader checked it against the bytes).
    if h.count <= 1 << 20 {
        exercise::<f32>(bytes, h.count, h.kind);
        exercise::<f64>(bytes, h.count, h.kind);
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((&mode, edits)) if mode & 1 == 1 => {
            let mut blob = seeds()[(mode as usize >> 1) % seeds().len()].clone();
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
