//! Reduced-precision blobs against the `f64` model: the JAX-trained flagship deep kernel and
//! RBF kernel (vendored fixtures), every storage plan, every point of the 80 × 80 grid.
//!
//! Each plan's bound is asserted: the goal of the firmware issue (max |Δ mean| ≤ 1e-3 and
//! max |Δ variance| ≤ 1e-3·σ², σ² the prior variance) for the plans meant to meet it, and the
//! measured error with a margin for the others, so a change that makes any encoding less
//! accurate fails here. `cargo test --release --test deploy_precision -- --nocapture` prints
//! the table (firmware/README.md quotes it).
// Exports blobs with `feature_to_bytes`/`kernel_to_bytes`, which need `alloc`.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fixture::*;
use svgp::deploy::*;
use svgp::features::{DeepRff, FeatureMap};
use svgp::kernel::Rbf;

/// The 80 × 80 grid of the fixtures (x1 fastest).
fn grid_points(fx: &serde_json::Value) -> Vec<[f64; 2]> {
    let axis = floats(&fx["data"]["grid"]["axis"]);
    (0..axis.len() * axis.len()).map(|k| grid_point(&axis, k)).collect()
}

/// max |Δ mean| and max |Δ variance| / σ² of `got` against `want`.
fn worst(got: &[(f64, f64)], want: &[(f64, f64)], s2: f64) -> (f64, f64) {
    got.iter().zip(want).fold((0.0f64, 0.0f64), |(dm, dv), (g, w)| {
        (dm.max((g.0 - w.0).abs()), dv.max((g.1 - w.1).abs() / s2))
    })
}

struct Deep {
    storage: Vec<f64>,
    map: DeepRff,
    m: usize,
    points: Vec<[f64; 2]>,
    exact: Vec<(f64, f64)>,
}

fn deep() -> Deep {
    let fx = load(DEEP);
    let (map, flat, m, jitter) = deep_fixture_model(&fx, "final");
    let model = FeatureModel::from_flat(map, m, jitter, &flat).unwrap();
    let mut storage = vec![0.0f64; FeaturePosterior::<f64, DeepRff>::storage_len(&map, m).unwrap()];
    FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
        .unwrap();
    let points = grid_points(&fx);
    let post = FeaturePosterior::from_storage(map, m, &storage).unwrap();
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    let exact =
        points.iter().map(|x| post.predict(x, &mut ws).map(|p| (p.mean, p.variance)).unwrap()).collect();
    Deep { storage, map, m, points, exact }
}

/// The f32 posterior read in place from `plan`'s blob, on the grid: (predictions, blob bytes).
fn deep_under(d: &Deep, plan: &Plan) -> (Vec<(f64, f64)>, usize) {
    let post = FeaturePosterior::from_storage(d.map, d.m, &d.storage).unwrap();
    let blob = feature_to_bytes(&post, plan).unwrap();
    let view = view_feature::<f32, DeepRff>(&blob).unwrap();
    let mut ws = vec![0.0f32; view.workspace_len().unwrap()];
    let got = d
        .points
        .iter()
        .map(|x| {
            let p = view.predict(&[x[0] as f32, x[1] as f32], &mut ws).unwrap();
            (p.mean as f64, p.variance as f64)
        })
        .collect();
    (got, blob.len())
}

/// `f32` for the map's parameters and the scalars, `posterior` for the mean and variance rows.
fn f32_map(posterior: Encoding) -> Plan {
    Plan::uniform(Encoding::F32).with(Role::Mean, posterior).with(Role::Variance, posterior)
}

/// Every plan with its asserted (max |Δ mean|, max |Δ var|/σ²) bounds. The bounds of the
/// plans below the goal are ~2× the measured errors (firmware/README.md), so they guard
/// against regressions rather than bless them.
fn plans() -> Vec<(&'static str, Plan, f64, f64)> {
    let goal = 1e-3;
    vec![
        ("f32", Plan::uniform(Encoding::F32), 1e-5, 5e-6),
        ("compact (i16, f32 scalars)", Plan::compact(), goal, goal),
        ("i16", Plan::uniform(Encoding::I16), goal, goal),
        ("f16", Plan::uniform(Encoding::F16), 2e-2, 5e-4),
        ("bf16", Plan::uniform(Encoding::Bf16), 6e-2, 4e-3),
        ("i8", Plan::uniform(Encoding::I8), 2e-1, 1.2e-2),
        ("f32 map, f16 posterior", f32_map(Encoding::F16), goal, goal),
        ("f32 map, i8 posterior", f32_map(Encoding::I8), 1e-2, 4e-3),
    ]
}

#[test]
fn every_plan_on_the_deep_kernel_grid() {
    let d = deep();
    let s2 = d.storage[0];
    println!("deep kernel (JAX final), 6,400 grid points, σ² = {s2:.4}; f32 evaluation of each blob vs the f64 model");
    println!("| plan | blob bytes | max |Δ mean| | max |Δ var|/σ² |");
    for (name, plan, bound_mean, bound_var) in plans() {
        let (got, bytes) = deep_under(&d, &plan);
        let (dm, dv) = worst(&got, &d.exact, s2);
        println!("| {name} | {bytes} | {dm:.2e} | {dv:.2e} |");
        assert!(dm <= bound_mean, "{name}: max |Δ mean| {dm:e} > {bound_mean:e}");
        assert!(dv <= bound_var, "{name}: max |Δ var|/σ² {dv:e} > {bound_var:e}");
    }
}

/// An `f64` blob read as `f64` reproduces the native posterior bit for bit; the deployment
/// forward (one input, blocks) agrees with `DeepRff::features_inference` to rounding.
#[test]
fn f64_blob_is_exact_and_the_deploy_forward_is_the_map() {
    let d = deep();
    let post = FeaturePosterior::from_storage(d.map, d.m, &d.storage).unwrap();
    let blob = feature_to_bytes(&post, &Plan::uniform(Encoding::F64)).unwrap();
    let view = view_feature::<f64, DeepRff>(&blob).unwrap();
    let mut ws = vec![0.0; view.workspace_len().unwrap()];
    for (x, want) in d.points.iter().zip(&d.exact).step_by(37) {
        let p = view.predict(x, &mut ws).unwrap();
        assert_eq!((p.mean, p.variance), *want);
    }
    let params = post.map_params().as_native().unwrap();
    let (j, mut psi, mut psi_ref) = (d.map.n_features(), vec![0.0; 256], vec![0.0; 256]);
    let mut ws_ref = vec![0.0; d.map.inference_workspace_len(1).unwrap()];
    let mut ws = vec![0.0; d.map.deploy_workspace_len().unwrap()];
    for x in d.points.iter().step_by(101) {
        d.map.deploy_features(post.map_params(), x, &mut psi[..j], &mut ws).unwrap();
        d.map.features_inference(params, x, &mut psi_ref[..j], &mut ws_ref).unwrap();
        for (a, b) in psi.iter().zip(&psi_ref) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
    }
}

/// The rank tolerance drops rows with a bound that holds: the variance moves by at most
/// tolerance·σ²|ψ|² at every grid point, and the mean not at all.
#[test]
fn rank_tolerance_bound_holds() {
    let d = deep();
    let post = FeaturePosterior::from_storage(d.map, d.m, &d.storage).unwrap();
    let s2 = post.kernel_variance();
    let mut kept = Vec::new();
    for tol in [1e-3, 1e-2, 0.1, 1.0] {
        let blob = feature_to_bytes(&post, &Plan::uniform(Encoding::F64).with_rank_tolerance(tol)).unwrap();
        let view = view_feature::<f64, DeepRff>(&blob).unwrap();
        assert!(view.rank() <= d.m);
        let mut ws = vec![0.0; view.workspace_len().unwrap()];
        let mut psi = vec![0.0; 256];
        let mut mws = vec![0.0; d.map.deploy_workspace_len().unwrap()];
        for (x, want) in d.points.iter().zip(&d.exact).step_by(7) {
            let p = view.predict(x, &mut ws).unwrap();
            d.map.deploy_features(post.map_params(), x, &mut psi, &mut mws).unwrap();
            let prior = s2 * psi.iter().map(|v| v * v).sum::<f64>();
            assert_eq!(p.mean, want.0);
            assert!(
                (p.variance - want.1).abs() <= tol * prior + 1e-12,
                "tol {tol}: {} vs {}",
                p.variance,
                want.1
            );
        }
        println!("rank tolerance {tol:e}: {} of {} rows kept", view.rank(), d.m);
        kept.push(view.rank());
    }
    // Larger tolerances keep fewer rows, and the largest drops some.
    assert!(kept.windows(2).all(|w| w[1] <= w[0]) && kept[3] < d.m, "{kept:?}");
}

#[test]
fn every_plan_on_the_rbf_kernel_grid() {
    let fx = load(RBF);
    let flat = flat_params(&fx["final"]["params"], "rbf");
    let jitter = fx["meta"]["jitter"].as_f64().unwrap();
    let model = KernelModel::from_flat(Rbf::new(2), 30, jitter, &flat).unwrap();
    let mut storage = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(2), 30).unwrap()];
    let post =
        KernelPosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let points = grid_points(&fx);
    let mut ws = vec![0.0; post.workspace_len().unwrap()];
    let exact: Vec<_> =
        points.iter().map(|x| post.predict(x, &mut ws).map(|p| (p.mean, p.variance)).unwrap()).collect();
    let s2 = flat[0].exp();
    println!("RBF kernel (JAX final), 6,400 grid points, σ² = {s2:.4}");
    println!("| plan | blob bytes | max |Δ mean| | max |Δ var|/σ² |");
    let plans = [
        ("f32", Plan::uniform(Encoding::F32), 3e-5, 1.5e-5),
        ("f16", Plan::uniform(Encoding::F16), 8e-3, 3e-3),
    ];
    for (name, plan, bm, bv) in plans {
        let blob = kernel_to_bytes(&post, &plan).unwrap();
        let view = view_kernel::<f32, Rbf>(&blob).unwrap();
        let mut ws = vec![0.0f32; view.workspace_len().unwrap()];
        let got: Vec<_> = points
            .iter()
            .map(|x| {
                let p = view.predict(&[x[0] as f32, x[1] as f32], &mut ws).unwrap();
                (p.mean as f64, p.variance as f64)
            })
            .collect();
        let (dm, dv) = worst(&got, &exact, s2);
        println!("| {name} | {} | {dm:.2e} | {dv:.2e} |", blob.len());
        assert!(dm <= bm && dv <= bv, "{name}: {dm:e}, {dv:e}");
    }
}
