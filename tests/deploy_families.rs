//! Every deployable family: its shape survives the blob round trip, and its compact posterior
//! matches the training model's `Svgp::predict`.
// Exports blobs with `feature_to_bytes`/`kernel_to_bytes`, which need `alloc`.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::deploy::*;
use svgp::features::{Coupling, FeatureMap, FourierForm, RandomFourier, Spectrum};
use svgp::gp::{Closed, Features, Svgp};
use svgp::kernel::{ArcCosine, Kernel, Matern, Nu, Rbf, RbfArd};
use svgp::rng::{standard_normal, uniform, Xoshiro256};

const M: usize = 6;
const N: usize = 40;

/// Flat SVGP parameters: the given prior parameters, random Z in [-1, 1]^D, random m, and a
/// random lower-triangular L with a positive diagonal, ln σ_n² = ln 0.01.
fn flat(prior: &[f64], d: usize, rng: &mut Xoshiro256) -> Vec<f64> {
    let mut p = prior.to_vec();
    p.extend((0..M * d).map(|_| uniform(rng, -1.0, 1.0)));
    p.extend((0..M).map(|_| standard_normal(rng)));
    for i in 0..M {
        for k in 0..=i {
            p.push(if i == k { uniform(rng, 0.1, 0.8) } else { 0.3 * standard_normal(rng) });
        }
    }
    p.push(0.01f64.ln());
    p
}

fn inputs(d: usize, rng: &mut Xoshiro256) -> Vec<f64> {
    (0..N * d).map(|_| uniform(rng, -1.2, 1.2)).collect()
}

fn assert_close(what: &str, got: &[(f64, f64)], mean: &[f64], var: &[f64]) {
    for (i, g) in got.iter().enumerate() {
        let tol = 1e-9 * (1.0 + mean[i].abs());
        assert!((g.0 - mean[i]).abs() < tol, "{what} mean {i}: {} vs {}", g.0, mean[i]);
        assert!((g.1 - var[i]).abs() < 1e-9 * (1.0 + var[i]), "{what} var {i}: {} vs {}", g.1, var[i]);
    }
}

fn check_kernel<K: Kernel + ModelShape + PartialEq>(k: K, kernel_params: &[f64], seed: u64) {
    let mut rng = Xoshiro256::from_u64(seed);
    let d = k.input_dim();
    let params = flat(kernel_params, d, &mut rng);
    let svgp = Svgp::new(Closed(k), M, 1e-6).unwrap();
    let x = inputs(d, &mut rng);
    let (mut mean, mut var) = (vec![0.0; N], vec![0.0; N]);
    svgp.predict(&params, &x, &mut mean, &mut var, &mut vec![0.0; svgp.predict_workspace_len(N).unwrap()])
        .unwrap();

    let model = KernelModel::from_svgp(&svgp, &params).unwrap();
    let mut storage = vec![0.0; KernelPosterior::<f64, K>::storage_len(&k, M).unwrap()];
    let built =
        KernelPosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = kernel_to_bytes(&built, &Plan::uniform(Encoding::F64)).unwrap();
    let mut back = vec![0.0; read_header(&blob).unwrap().count];
    let read = read_kernel::<f64, K>(&blob, &mut back).unwrap();
    let view = view_kernel::<f64, K>(&blob).unwrap();
    for post in [read, view] {
        assert!(post.kernel() == &k, "{k:?}: shape changed in the round trip");
        let mut ws = vec![0.0; post.workspace_len().unwrap()];
        let got: Vec<_> = x
            .chunks_exact(d)
            .map(|xi| post.predict(xi, &mut ws).map(|p| (p.mean, p.variance)).unwrap())
            .collect();
        assert_close(&format!("{k:?}"), &got, &mean, &var);
    }
}

fn check_map<F: DeployMap>(map: F, map_params: &[f64], seed: u64) -> F {
    let mut rng = Xoshiro256::from_u64(seed);
    let d = map.input_dim();
    let prior = [&[0.3f64][..], map_params].concat();
    let params = flat(&prior, d, &mut rng);
    let svgp = Svgp::new(Features(map), M, 1e-6).unwrap();
    let x = inputs(d, &mut rng);
    let (mut mean, mut var) = (vec![0.0; N], vec![0.0; N]);
    svgp.predict(&params, &x, &mut mean, &mut var, &mut vec![0.0; svgp.predict_workspace_len(N).unwrap()])
        .unwrap();

    let model = FeatureModel::from_svgp(&svgp, &params).unwrap();
    let mut storage = vec![0.0; FeaturePosterior::<f64, F>::storage_len(&map, M).unwrap()];
    let built =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = feature_to_bytes(&built, &Plan::uniform(Encoding::F64)).unwrap();
    let mut back = vec![0.0; read_header(&blob).unwrap().count];
    let read = read_feature::<f64, F>(&blob, &mut back).unwrap();
    let view = view_feature::<f64, F>(&blob).unwrap();
    for post in [read, view] {
        let mut ws = vec![0.0; post.workspace_len().unwrap()];
        let got: Vec<_> = x
            .chunks_exact(d)
            .map(|xi| post.predict(xi, &mut ws).map(|p| (p.mean, p.variance)).unwrap())
            .collect();
        assert_close(&format!("{map:?}"), &got, &mean, &var);
    }
    *view.map()
}

#[test]
fn closed_form_kernels() {
    check_kernel(Rbf::new(2), &Rbf::params(1.2, 0.5), 1);
    check_kernel(RbfArd::new(3), &[0.2, -0.5, 0.1, -1.0], 2);
    for (i, nu) in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves].into_iter().enumerate() {
        check_kernel(Matern::new(2, nu), &[0.0, -0.7, -0.3], 3 + i as u64);
    }
    for order in 0..3u8 {
        let k = ArcCosine::new(2, order);
        let p: Vec<f64> = (0..k.n_params()).map(|i| 0.1 * i as f64 - 0.2).collect();
        check_kernel(k, &p, 10 + order as u64);
    }
}

#[test]
fn random_fourier_maps() {
    let spectra =
        [Spectrum::Rbf, Spectrum::Matern(Nu::Half), Spectrum::Matern(Nu::FiveHalves), Spectrum::Laplace];
    for (i, spectrum) in spectra.into_iter().enumerate() {
        for form in [FourierForm::CosPhase, FourierForm::CosSin] {
            let map = RandomFourier::new(2, 32, form, spectrum, Coupling::Iid).unwrap();
            let mut p = vec![0.0; map.n_params()];
            map.draw(&mut Xoshiro256::from_u64(i as u64), 0.6, &mut p).unwrap();
            let back = check_map(map, &p, 20 + i as u64);
            assert_eq!(back, map);
        }
    }
    // The coupling is a drawing-time choice: not stored, evaluation unchanged.
    let orth = RandomFourier::new(2, 16, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Orthogonal).unwrap();
    let mut p = vec![0.0; orth.n_params()];
    orth.draw(&mut Xoshiro256::from_u64(5), 0.6, &mut p).unwrap();
    let back = check_map(orth, &p, 30);
    assert_eq!(back, RandomFourier::new(2, 16, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid).unwrap());
}

#[test]
fn bad_shape_words_are_rejected() {
    let mut w = [0u32; SHAPE_WORDS];
    w[0] = 2;
    w[1] = 2; // 2ν = 2 is not a Matérn we have
    assert_eq!(
        Matern::decode_shape(&w),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("Matern smoothness"), at: 20 })
    );
    w[1] = 4;
    assert_eq!(
        ArcCosine::decode_shape(&w),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("arc-cosine order"), at: 20 })
    );
    w[1] = 1;
    w[2] = 5;
    assert_eq!(
        RbfArd::decode_shape(&w),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("non-zero unused shape word"), at: 20 })
    );
    let mut r = [0u32; SHAPE_WORDS];
    r[..4].copy_from_slice(&[2, 32, 3, 1]);
    assert_eq!(
        RandomFourier::decode_shape(&r),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("random Fourier form"), at: 24 })
    );
    r[2] = 1;
    r[3] = 3;
    assert_eq!(
        RandomFourier::decode_shape(&r),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("random Fourier spectrum"), at: 28 })
    );
    r[3] = 1;
    r[1] = 33;
    r[2] = 2; // cos-sin needs an even J
    assert_eq!(
        RandomFourier::decode_shape(&r),
        Err(Error::InvalidModel { kind: BlobError::BadShapeWord("random Fourier features"), at: 20 })
    );
    r[0] = MAX_DIM;
    r[1] = MAX_DIM;
    assert_eq!(
        RandomFourier::decode_shape(&r),
        Err(Error::InvalidModel {
            kind: BlobError::BadShapeWord("random Fourier too many parameters"),
            at: 20
        })
    );
}
