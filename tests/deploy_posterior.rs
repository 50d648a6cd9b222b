//! The compact posteriors against the SVGP's own prediction formulas and the JAX fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::deploy::*;
use common::fixture::*;
use svgp::deploy::{FeatureModel, FeaturePosterior, KernelModel, KernelPosterior};
use svgp::features::FeatureMap;
use svgp::gp::{Closed, Features, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, PackedLower, Side};
use svgp::Error;

/// The SVGP prediction straight from its definition (ARCHITECTURE.md): A = L_z⁻¹ K_zx,
/// mean = Aᵀm, var = k_xx − Σ A² + Σ (LᵀA)², with K given as a closure.
fn direct(
    kfn: &dyn Fn(&[f64], &[f64]) -> f64,
    z: &[f64],
    d: usize,
    mv: &[f64],
    l: PackedLower<&[f64]>,
    jitter: f64,
    x: &[f64],
) -> (f64, f64) {
    let m = mv.len();
    let mut kzz = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            kzz[i * m + k] = kfn(&z[i * d..(i + 1) * d], &z[k * d..(k + 1) * d]);
        }
    }
    cholesky_in_place(MatMut::new(m, m, &mut kzz).unwrap(), Jitter::Fixed(jitter)).unwrap();
    let mut a: Vec<f64> = (0..m).map(|i| kfn(&z[i * d..(i + 1) * d], x)).collect();
    solve_triangular(MatRef::new(m, m, &kzz).unwrap(), Side::Lower, MatMut::new(m, 1, &mut a).unwrap())
        .unwrap();
    let mean: f64 = a.iter().zip(mv).map(|(x, y)| x * y).sum();
    let lta: f64 = (0..m).map(|c| (c..m).map(|r| l.get(r, c) * a[r]).sum::<f64>().powi(2)).sum();
    let var = kfn(x, x) - a.iter().map(|v| v * v).sum::<f64>() + lta;
    (mean, var)
}

fn rel(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(b.abs())
}

#[test]
fn feature_posterior_matches_direct_svgp_prediction() {
    for (seed, d, j, m) in [(1, 2, 40, 7), (2, 3, 64, 12), (3, 1, 16, 16)] {
        let r = random_feature_model(seed, d, j, m);
        let jitter = 1e-6;
        let model = FeatureModel::from_flat(r.map, m, jitter, &r.flat).unwrap();
        let mut storage = vec![0.0; FeaturePosterior::<f64, PlainRff>::storage_len(&r.map, m).unwrap()];
        let mut ws = vec![0.0; model.build_workspace_len().unwrap()];
        let post = FeaturePosterior::build(&model, &mut storage, &mut ws).unwrap();
        let p = model.svgp.params(model.params).unwrap();
        let s2 = p.prior.variance();
        let kfn = |a: &[f64], b: &[f64]| {
            let (mut pa, mut pb) = (vec![0.0; j], vec![0.0; j]);
            r.map.features(p.prior.map, a, &mut pa, &mut []).unwrap();
            r.map.features(p.prior.map, b, &mut pb, &mut []).unwrap();
            s2 * pa.iter().zip(&pb).map(|(x, y)| x * y).sum::<f64>()
        };
        let mut pws = vec![0.0; post.workspace_len().unwrap()];
        let mut rng = svgp::rng::Xoshiro256::from_u64(seed + 100);
        for _ in 0..25 {
            let x: Vec<f64> = (0..d).map(|_| svgp::rng::uniform(&mut rng, -1.5, 1.5)).collect();
            let (mu, var) = direct(&kfn, p.z, d, p.mean, p.scale_tril, jitter, &x);
            let q = post.predict(&x, &mut pws).unwrap();
            assert!(rel(q.mean, mu, 1.0) < 1e-9, "mean {} vs {mu}", q.mean);
            assert!((q.variance - var.max(0.0)).abs() < 1e-9 * s2, "var {} vs {var}", q.variance);
            assert_eq!(post.predict_mean(&x, &mut pws).unwrap(), q.mean);
        }
    }
}

#[test]
fn feature_posterior_f32_tracks_f64() {
    let r = random_feature_model(9, 2, 128, 20);
    let model = FeatureModel::from_flat(r.map, 20, 1e-4, &r.flat).unwrap();
    let n = FeaturePosterior::<f64, PlainRff>::storage_len(&r.map, 20).unwrap();
    let mut ws = vec![0.0; model.build_workspace_len().unwrap()];
    let (mut s64, mut s32) = (vec![0.0f64; n], vec![0.0f32; n]);
    let p64 = FeaturePosterior::build(&model, &mut s64, &mut ws).unwrap();
    let p32 = FeaturePosterior::build(&model, &mut s32, &mut ws).unwrap();
    let (mut w64, mut w32) =
        (vec![0.0f64; p64.workspace_len().unwrap()], vec![0.0f32; p32.workspace_len().unwrap()]);
    for k in 0..100 {
        let x = [(k as f64 * 0.37).sin(), (k as f64 * 0.91).cos()];
        let a = p64.predict(&x, &mut w64).unwrap();
        let b = p32.predict(&[x[0] as f32, x[1] as f32], &mut w32).unwrap();
        // f32 rounding of O(J·M) sums of O(1) terms: a few 1e-5 at most here.
        assert!((a.mean - b.mean as f64).abs() < 1e-4, "mean {} vs {}", a.mean, b.mean);
        assert!((a.variance - b.variance as f64).abs() < 1e-4, "var {} vs {}", a.variance, b.variance);
    }
}

#[test]
fn kernel_posterior_matches_direct_svgp_prediction() {
    let r = random_feature_model(4, 2, 1, 9); // reuse its Z, m, L and noise
    let m = 9;
    let k = Rbf::new(2);
    let svgp = Svgp::new(Closed(k), m, 1e-6).unwrap();
    let mut flat = vec![0.0; svgp.n_params()];
    let from = Svgp::new(Features(r.map), m, 1e-6).unwrap().parts(&r.flat).unwrap();
    let to = svgp.parts_mut(&mut flat).unwrap();
    to.prior.copy_from_slice(&Rbf::params(1.3, 0.4));
    to.z.copy_from_slice(from.z);
    to.mean.copy_from_slice(from.mean);
    to.scale_tril.copy_from_slice(from.scale_tril);
    to.likelihood.copy_from_slice(from.likelihood);
    let model = KernelModel::from_svgp(&svgp, &flat).unwrap();
    let mut storage = vec![0.0; KernelPosterior::<f64, Rbf>::storage_len(&k, m).unwrap()];
    let post =
        KernelPosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let p = model.svgp.params(model.params).unwrap();
    let kfn = |a: &[f64], b: &[f64]| k.eval(p.prior.as_slice(), a, b);
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    for t in 0..30 {
        let x = [(t as f64 * 0.3).sin(), (t as f64 * 0.7).cos()];
        let (mu, var) = direct(&kfn, p.z, 2, p.mean, p.scale_tril, 1e-6, &x);
        let p = post.predict(&x, &mut ws).unwrap();
        assert!(rel(p.mean, mu, 1.0) < 1e-9, "mean {} vs {mu}", p.mean);
        assert!((p.variance - var.max(0.0)).abs() < 1e-9, "var {} vs {var}", p.variance);
        assert_eq!(post.predict_mean(&x, &mut ws).unwrap(), p.mean);
    }
}

/// JAX's posterior (fixture `final`) from its trained RBF parameters: an independent oracle;
/// and the same posterior in f32 stays within 1e-4 of it.
#[test]
fn kernel_posterior_reproduces_jax_rbf_fixture() {
    let fx = load(RBF);
    let p = &fx["final"]["params"];
    let m = 30;
    let flat = flat_params(p, "rbf");
    let jitter = fx["meta"]["jitter"].as_f64().unwrap();
    let model = KernelModel::from_flat(Rbf::new(2), m, jitter, &flat).unwrap();
    let mut storage = vec![0.0; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(2), m).unwrap()];
    let post =
        KernelPosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let axis = floats(&fx["data"]["grid"]["axis"]);
    let means = floats(&fx["final"]["grid_mean_first20"]);
    let vars = floats(&fx["final"]["grid_var_first20"]);
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    for kpt in 0..20 {
        let pr = post.predict(&grid_point(&axis, kpt), &mut ws).unwrap();
        assert!(rel(pr.mean, means[kpt], 1e-3) < 1e-9, "mean {kpt}: {} vs {}", pr.mean, means[kpt]);
        assert!(rel(pr.variance, vars[kpt], 1e-3) < 1e-8, "var {kpt}: {} vs {}", pr.variance, vars[kpt]);
    }
    let mut s32 = vec![0.0f32; storage.len()];
    let p32 = KernelPosterior::build(&model, &mut s32, &mut vec![0.0; model.build_workspace_len().unwrap()])
        .unwrap();
    let mut ws = vec![0.0f32; p32.workspace_len().unwrap()];
    for kpt in 0..20 {
        let x = grid_point(&axis, kpt);
        let pr = p32.predict(&[x[0] as f32, x[1] as f32], &mut ws).unwrap();
        assert!((pr.mean as f64 - means[kpt]).abs() < 1e-4, "f32 mean {kpt}: {} vs {}", pr.mean, means[kpt]);
        assert!(
            (pr.variance as f64 - vars[kpt]).abs() < 1e-4,
            "f32 var {kpt}: {} vs {}",
            pr.variance,
            vars[kpt]
        );
    }
}

/// The JAX-trained deep kernel (fixture `final`): the compact f64 posterior reproduces JAX's
/// grid predictions, and the f32 one stays close.
#[test]
fn feature_posterior_reproduces_jax_deep_fixture() {
    let fx = load(DEEP);
    let (map, flat, m, jitter) = deep_fixture_model(&fx, "final");
    let model = FeatureModel::from_flat(map, m, jitter, &flat).unwrap();
    let n = FeaturePosterior::<f64, svgp::features::DeepRff>::storage_len(&map, m).unwrap();
    let mut ws = vec![0.0; model.build_workspace_len().unwrap()];
    let (mut s64, mut s32) = (vec![0.0f64; n], vec![0.0f32; n]);
    let p64 = FeaturePosterior::build(&model, &mut s64, &mut ws).unwrap();
    let p32 = FeaturePosterior::build(&model, &mut s32, &mut ws).unwrap();
    let axis = floats(&fx["data"]["grid"]["axis"]);
    let means = floats(&fx["final"]["grid_mean_first20"]);
    let vars = floats(&fx["final"]["grid_var_first20"]);
    let (mut w64, mut w32) =
        (vec![0.0; p64.workspace_len().unwrap()], vec![0.0f32; p32.workspace_len().unwrap()]);
    for k in 0..20 {
        let x = grid_point(&axis, k);
        let a = p64.predict(&x, &mut w64).unwrap();
        assert!(rel(a.mean, means[k], 1e-3) < 1e-8, "mean {k}: {} vs {}", a.mean, means[k]);
        assert!(
            (a.variance - vars[k]).abs() < 1e-8 * vars[k].max(1e-3),
            "var {k}: {} vs {}",
            a.variance,
            vars[k]
        );
        let b = p32.predict(&[x[0] as f32, x[1] as f32], &mut w32).unwrap();
        assert!((b.mean as f64 - means[k]).abs() < 1e-3, "f32 mean {k}: {} vs {}", b.mean, means[k]);
        assert!((b.variance as f64 - vars[k]).abs() < 1e-3, "f32 var {k}: {} vs {}", b.variance, vars[k]);
    }
}

/// A full-model prediction: inputs, mean out, variance out.
type PredictFn<'a> = dyn Fn(&[f64], &mut [f64], &mut [f64]) + 'a;

/// Against the training model's own `Svgp::predict` (the flagship's prediction path), for the
/// JAX-trained deep kernel and the RBF kernel, on 400 grid points.
#[test]
fn compact_posteriors_match_svgp_predict() {
    use svgp::gp::{Closed, Features, Svgp};
    let fx = load(DEEP);
    let axis = floats(&fx["data"]["grid"]["axis"]);
    let xs: Vec<f64> = (0..400).flat_map(|k| grid_point(&axis, k * 16)).collect();
    let full = |model_pred: &PredictFn| -> (Vec<f64>, Vec<f64>) {
        let (mut mean, mut var) = (vec![0.0; 400], vec![0.0; 400]);
        model_pred(&xs, &mut mean, &mut var);
        (mean, var)
    };

    let (map, flat, m, jitter) = deep_fixture_model(&fx, "final");
    let svgp = Svgp::new(Features(map), m, jitter).unwrap();
    let (mean, var) = full(&|x, mu, v| {
        let mut ws = vec![0.0; svgp.predict_workspace_len(400).unwrap()];
        svgp.predict(&flat, x, mu, v, &mut ws).unwrap();
    });
    let model = FeatureModel::from_svgp(&svgp, &flat).unwrap();
    let mut storage =
        vec![0.0; FeaturePosterior::<f64, svgp::features::DeepRff>::storage_len(&map, m).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    for (i, x) in xs.chunks_exact(2).enumerate() {
        let p = post.predict(x, &mut ws).unwrap();
        assert!((p.mean - mean[i]).abs() < 1e-9, "deep mean {i}: {} vs {}", p.mean, mean[i]);
        assert!((p.variance - var[i]).abs() < 1e-9, "deep var {i}: {} vs {}", p.variance, var[i]);
    }

    let rfx = load(RBF);
    let rp = &rfx["final"]["params"];
    let rflat = flat_params(rp, "rbf");
    let rsvgp = Svgp::new(Closed(Rbf::new(2)), 30, 1e-4).unwrap();
    let (mean, var) = full(&|x, mu, v| {
        let mut ws = vec![0.0; rsvgp.predict_workspace_len(400).unwrap()];
        rsvgp.predict(&rflat, x, mu, v, &mut ws).unwrap();
    });
    let model = KernelModel::from_svgp(&rsvgp, &rflat).unwrap();
    let mut storage = vec![0.0; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(2), 30).unwrap()];
    let post =
        KernelPosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    for (i, x) in xs.chunks_exact(2).enumerate() {
        let p = post.predict(x, &mut ws).unwrap();
        assert!((p.mean - mean[i]).abs() < 1e-9, "rbf mean {i}: {} vs {}", p.mean, mean[i]);
        assert!((p.variance - var[i]).abs() < 1e-9, "rbf var {i}: {} vs {}", p.variance, var[i]);
    }
}

#[test]
fn prediction_rejects_bad_inputs() {
    let r = random_feature_model(5, 2, 8, 3);
    let model = FeatureModel::from_flat(r.map, 3, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0f32; FeaturePosterior::<f32, PlainRff>::storage_len(&r.map, 3).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let mut ws = vec![0.0f32; post.workspace_len().unwrap()];
    assert!(matches!(post.predict(&[0.0], &mut ws), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(post.predict(&[0.0, f32::NAN], &mut ws), Err(Error::NonFinite { index: 1, .. })));
    assert!(matches!(post.predict(&[0.0, 0.0], &mut ws[1..]), Err(Error::BufferTooSmall { .. })));
    let mut bad = storage.clone();
    bad[5] = f32::INFINITY;
    assert!(matches!(FeaturePosterior::from_storage(r.map, 3, &bad), Err(Error::NonFinite { index: 5, .. })));
}

#[test]
fn variance_never_negative_far_from_and_at_inducing_points() {
    // L = I·small: the posterior is nearly certain at Z, so the exact variance there is tiny and
    // rounding alone can make the unclipped formula negative.
    let r = random_feature_model(6, 2, 32, 10);
    let mut flat = r.flat.clone();
    let svgp = Svgp::new(Features(r.map), 10, 1e-8).unwrap();
    let mut l = svgp.params_mut(&mut flat).unwrap().scale_tril;
    l.set_identity();
    l.as_mut_slice().iter_mut().for_each(|v| *v *= 1e-4);
    let model = FeatureModel::from_svgp(&svgp, &flat).unwrap();
    let mut storage = vec![0.0f32; FeaturePosterior::<f32, PlainRff>::storage_len(&r.map, 10).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let mut ws = vec![0.0f32; post.workspace_len().unwrap()];
    for i in 0..10 {
        let z = svgp.params(&flat).unwrap().z;
        let x = [z[2 * i] as f32, z[2 * i + 1] as f32];
        assert!(post.predict(&x, &mut ws).unwrap().variance >= 0.0);
    }
}

#[test]
fn predict_batch_matches_single_predictions() {
    let r = random_feature_model(11, 2, 16, 4);
    let model = FeatureModel::from_flat(r.map, 4, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0; FeaturePosterior::<f64, PlainRff>::storage_len(&r.map, 4).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let x = [0.1, 0.2, -0.3, 0.4, 0.9, -0.8];
    let (mut mean, mut var) = ([0.0; 3], [0.0; 3]);
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    post.predict_batch(&x, &mut mean, &mut var, &mut ws).unwrap();
    for i in 0..3 {
        let p = post.predict(&x[2 * i..2 * i + 2], &mut ws).unwrap();
        assert_eq!((mean[i], var[i]), (p.mean, p.variance));
    }
    assert!(matches!(
        post.predict_batch(&x[..5], &mut mean, &mut var, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        post.predict_batch(&x, &mut mean, &mut var[..2], &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
}
