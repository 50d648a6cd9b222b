//! `DeepRff`'s reverse rule against chunked forward-mode `Dual`, and reproducible init.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::oracle::{dual_gradient, D8};
use common::random;
use svgp::features::{DeepRff, FeatureMap};
use svgp::nn::{Activation, Mlp};
use svgp::rng::Xoshiro256;
use svgp::Dual;

/// L = Σ ψ ⊙ ψ̄ differentiated by `features_adjoint` and by forward mode (`dual_gradient`).
fn check(map: DeepRff, n: usize, lengthscale: f64, seed: u64) {
    let mut rng = Xoshiro256::from_u64(seed);
    let mut params = vec![0.0; map.n_params()];
    map.init(&mut rng, lengthscale, &mut params).unwrap();
    let x = random(&mut rng, n * map.input_dim(), -1.0, 1.0);
    let j = map.n_features();
    let psi_bar = random(&mut rng, n * j, -1.0, 1.0);

    let mut psi = vec![0.0; n * j];
    let mut ws = vec![f64::NAN; map.workspace_len(n).unwrap()];
    map.features(&params, &x, &mut psi, &mut ws).unwrap();
    let mut gp = vec![0.5; params.len()];
    let mut gx = vec![0.25; x.len()];
    map.features_adjoint(&params, &x, &psi_bar, &mut gp, Some(&mut gx), &mut ws).unwrap();
    gp.iter_mut().for_each(|g| *g -= 0.5);
    gx.iter_mut().for_each(|g| *g -= 0.25);
    let got: Vec<f64> = gp.iter().chain(&gx).copied().collect();

    let mut dws = vec![D8::default(); map.workspace_len(n).unwrap()];
    let mut dpsi = vec![D8::default(); n * j];
    let vars: Vec<f64> = params.iter().chain(&x).copied().collect();
    let (_, want) = dual_gradient(
        |v| {
            let (dp, dx) = v.split_at(params.len());
            map.features(dp, dx, &mut dpsi, &mut dws).unwrap();
            for (d, &p) in dpsi.iter().zip(&psi) {
                // Dual division multiplies by a reciprocal, so values may differ in the last bit.
                assert!((d.re - p).abs() <= 1e-14, "dual ψ value differs: {} vs {p}", d.re);
            }
            dpsi.iter().zip(&psi_bar).map(|(p, &b)| *p * b).sum()
        },
        &vars,
    );
    // Which named part index i of (params, x) falls in.
    let lens = map.view(&params[..]).unwrap();
    let ends: Vec<usize> = [lens.mlp.len(), lens.w.len(), lens.b.len(), 1]
        .into_iter()
        .scan(0, |e, l| {
            *e += l;
            Some(*e)
        })
        .collect();
    let names = |i: usize| -> &'static str {
        let k = ends.iter().position(|&e| i < e).unwrap_or(4);
        ["mlp", "W", "b", "ln ℓ", "x"][k]
    };
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-10 * (1.0 + w.abs()), "{} [{i}]: reverse {g} vs dual {w}", names(i));
    }
    // The ln ℓ gradient is the one computed by an identity, make sure it is exercised.
    assert!(map.view(&want[..map.n_params()]).unwrap().ln_lengthscale[0].abs() > 1e-3);
}

#[test]
fn deep_rff_adjoint_matches_dual() {
    let map = DeepRff::new(Mlp::new(&[2, 5, 4, 3], Activation::Tanh).unwrap(), 7).unwrap();
    check(map, 5, 0.5, 1);
}

#[test]
fn deep_rff_adjoint_matches_dual_other_shapes() {
    let map = DeepRff::new(Mlp::new(&[3, 4, 2], Activation::Gelu).unwrap(), 11).unwrap();
    check(map, 3, 1.7, 2);
    let map = DeepRff::new(Mlp::new(&[1, 3], Activation::Sin).unwrap(), 4).unwrap();
    check(map, 6, 0.3, 3);
}

#[test]
fn deep_rff_adjoint_matches_dual_over_several_row_blocks() {
    // 70 rows: two full blocks of 32 and a partial one.
    let map = DeepRff::new(Mlp::new(&[1, 2, 2], Activation::Tanh).unwrap(), 3).unwrap();
    check(map, 70, 0.8, 5);
}

#[test]
fn adjoint_can_be_repeated_after_one_forward() {
    let map = DeepRff::new(Mlp::new(&[2, 6, 3], Activation::Relu).unwrap(), 9).unwrap();
    let n = 4;
    let mut rng = Xoshiro256::from_u64(4);
    let mut params = vec![0.0; map.n_params()];
    map.init(&mut rng, 0.5, &mut params).unwrap();
    let x = random(&mut rng, n * 2, -1.0, 1.0);
    let pb = random(&mut rng, n * 9, -1.0, 1.0);
    let mut psi = vec![0.0; n * 9];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(&params, &x, &mut psi, &mut ws).unwrap();
    let mut g1 = vec![0.0; params.len()];
    map.features_adjoint(&params, &x, &pb, &mut g1, None, &mut ws).unwrap();
    let mut g2 = vec![0.0; params.len()];
    map.features_adjoint(&params, &x, &pb, &mut g2, None, &mut ws).unwrap();
    assert_eq!(g1, g2);
}

#[test]
fn identical_seeds_give_identical_draws() {
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap(), 256).unwrap();
    let draw = |seed| {
        let mut p = vec![0.0_f64; map.n_params()];
        map.init(&mut Xoshiro256::from_u64(seed), 0.5, &mut p).unwrap();
        p
    };
    let (a, b, c) = (draw(11), draw(11), draw(12));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // b ~ U(0, 2π), W ~ N(0, 1) (loose moment checks on 2048 draws), ln ℓ as given.
    let named = map.view(&a[..]).unwrap();
    let w = named.w;
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / w.len() as f64;
    assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.15, "W mean {mean}, var {var}");
    assert!(named.b.iter().all(|&v| (0.0..std::f64::consts::TAU).contains(&v)));
    assert_eq!(named.ln_lengthscale[0], 0.5_f64.ln());
    // f32 draws are the f64 draws rounded.
    let mut p32 = vec![0.0_f32; map.n_params()];
    map.init(&mut Xoshiro256::from_u64(11), 0.5, &mut p32).unwrap();
    assert!(p32.iter().zip(&a).all(|(&s, &d)| s == d as f32));
}

#[test]
fn rejects_bad_shapes_and_buffers() {
    use svgp::Error;
    let mlp = Mlp::new(&[2, 3], Activation::Tanh).unwrap();
    assert!(matches!(DeepRff::new(mlp, 0), Err(Error::InvalidParameter { .. })));
    let map = DeepRff::new(mlp, 4).unwrap();
    let mut p = vec![0.0; map.n_params()];
    assert!(map.init(&mut Xoshiro256::from_u64(0), -1.0, &mut p).is_err());
    assert!(map.init(&mut Xoshiro256::from_u64(0), 1.0, &mut p).is_ok());
    let mut psi = vec![0.0; 8];
    let mut ws = vec![0.0; map.workspace_len(2).unwrap()];
    assert!(matches!(map.features(&p, &[0.0; 3], &mut psi, &mut ws), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(
        map.features(&p, &[0.0; 4], &mut psi[..7], &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    let short = map.workspace_len(2).unwrap() - 1;
    assert!(matches!(
        map.features(&p, &[0.0; 4], &mut psi, &mut ws[..short]),
        Err(Error::BufferTooSmall { .. })
    ));
    let mut g = vec![0.0; map.n_params() + 1];
    assert!(map.features_adjoint(&p, &[0.0; 4], &psi, &mut g, None, &mut ws).is_err());
    // A wrong-length input gradient is an error that leaves the parameter gradient alone.
    let mut g = vec![0.0; map.n_params()];
    let psi_bar = vec![1.0; 8];
    map.features(&p, &[0.1; 4], &mut psi, &mut ws).unwrap();
    let r = map.features_adjoint(&p, &[0.1; 4], &psi_bar, &mut g, Some(&mut [0.0; 3]), &mut ws);
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })));
    assert!(g.iter().all(|&v| v == 0.0));
    // An empty batch is fine and contributes nothing.
    let mut g = vec![0.0; map.n_params()];
    let mut ws0 = vec![0.0; map.workspace_len(0).unwrap()];
    map.features(&p, &[], &mut [], &mut ws0).unwrap();
    map.features_adjoint(&p, &[], &[], &mut g, Some(&mut []), &mut ws0).unwrap();
    assert!(g.iter().all(|&v| v == 0.0));
}

#[test]
fn f32_map_tracks_the_f64_map() {
    // The firmware runs the same generic code in f32 (fast f32 sin/cos, libm tanhf).
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap(), 256).unwrap();
    let n = 40;
    let mut rng = Xoshiro256::from_u64(8);
    let mut p64 = vec![0.0_f64; map.n_params()];
    map.init(&mut rng, 0.5, &mut p64).unwrap();
    let x64 = random(&mut rng, 2 * n, -1.0, 1.0);
    let pb64 = random(&mut rng, n * 256, -1.0, 1.0);
    let (p32, x32, pb32): (Vec<f32>, Vec<f32>, Vec<f32>) = (
        p64.iter().map(|&v| v as f32).collect(),
        x64.iter().map(|&v| v as f32).collect(),
        pb64.iter().map(|&v| v as f32).collect(),
    );
    // Compare against f64 evaluated at the f32-rounded inputs, so only f32 arithmetic differs.
    let (p64, x64): (Vec<f64>, Vec<f64>) =
        (p32.iter().map(|&v| v as f64).collect(), x32.iter().map(|&v| v as f64).collect());
    let mut psi64 = vec![0.0; n * 256];
    let mut ws64 = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(&p64, &x64, &mut psi64, &mut ws64).unwrap();
    let mut psi32 = vec![0.0_f32; n * 256];
    let mut ws32 = vec![0.0_f32; map.workspace_len(n).unwrap()];
    map.features(&p32, &x32, &mut psi32, &mut ws32).unwrap();
    let err = psi32.iter().zip(&psi64).fold(0.0_f64, |m, (&a, &b)| m.max((a as f64 - b).abs()));
    // ψ entries are at most √(2/J) ≈ 0.088; the arguments |z| ≲ 10 carry f32 rounding ~1e-6.
    assert!(err < 2e-6, "max |ψ32 − ψ64| = {err:e}");

    let mut g64 = vec![0.0; map.n_params()];
    map.features_adjoint(&p64, &x64, &pb64, &mut g64, None, &mut ws64).unwrap();
    let mut g32 = vec![0.0_f32; map.n_params()];
    map.features_adjoint(&p32, &x32, &pb32, &mut g32, None, &mut ws32).unwrap();
    let scale = g64.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let gerr = g32.iter().zip(&g64).fold(0.0_f64, |m, (&a, &b)| m.max((a as f64 - b).abs()));
    assert!(gerr < 1e-4 * scale, "max gradient error {gerr:e} vs scale {scale:e}");
}

#[test]
fn inference_path_matches_the_training_forward() {
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap(), 256).unwrap();
    let n = 70; // three row blocks
    let mut rng = Xoshiro256::from_u64(13);
    let mut p = vec![0.0_f64; map.n_params()];
    map.init(&mut rng, 0.5, &mut p).unwrap();
    let x = random(&mut rng, 2 * n, -1.0, 1.0);
    let mut psi = vec![0.0; n * 256];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(&p, &x, &mut psi, &mut ws).unwrap();
    let mut psi_i = vec![0.0; n * 256];
    let mut ws_i = vec![0.0; map.inference_workspace_len(n).unwrap()];
    assert!(ws_i.len() < ws.len() / 4);
    map.features_inference(&p, &x, &mut psi_i, &mut ws_i).unwrap();
    let err = psi.iter().zip(&psi_i).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(err <= 1e-16, "f64 inference vs training forward: {err:e}");
    // f32: the cos-only kernel is bit-identical to the sin/cos kernel's cosines.
    let (p32, x32): (Vec<f32>, Vec<f32>) =
        (p.iter().map(|&v| v as f32).collect(), x.iter().map(|&v| v as f32).collect());
    let mut psi32 = vec![0.0_f32; n * 256];
    let mut ws32 = vec![0.0_f32; map.workspace_len(n).unwrap()];
    map.features(&p32, &x32, &mut psi32, &mut ws32).unwrap();
    let mut psi32_i = vec![0.0_f32; n * 256];
    let mut ws32_i = vec![0.0_f32; map.inference_workspace_len(n).unwrap()];
    map.features_inference(&p32, &x32, &mut psi32_i, &mut ws32_i).unwrap();
    assert!(psi32.iter().zip(&psi32_i).all(|(a, b)| a.to_bits() == b.to_bits()));
    // Duals: the generic path (Scalar::cos), same values.
    type D1 = Dual<f64, 1>;
    let xd: Vec<D1> = x[..6].iter().map(|&v| D1::variable(v, 0)).collect();
    let pd: Vec<D1> = p.iter().map(|&v| D1::constant(v)).collect();
    let mut psid = vec![D1::default(); 3 * 256];
    let mut wsd = vec![D1::default(); map.inference_workspace_len(3).unwrap()];
    map.features_inference(&pd, &xd, &mut psid, &mut wsd).unwrap();
    let mut psid_t = vec![D1::default(); 3 * 256];
    let mut wsd_t = vec![D1::default(); map.workspace_len(3).unwrap()];
    map.features(&pd, &xd, &mut psid_t, &mut wsd_t).unwrap();
    for (a, b) in psid.iter().zip(&psid_t) {
        assert_eq!(a.re, b.re);
        assert_eq!(a.eps[0], b.eps[0]);
    }
    // J = 300 rows are not whole dispatch chunks: the per-entry tail path runs too.
    let small = DeepRff::new(Mlp::new(&[2, 4, 3], Activation::Tanh).unwrap(), 300).unwrap();
    let mut ps = vec![0.0_f64; small.n_params()];
    small.init(&mut rng, 0.7, &mut ps).unwrap();
    let xs = random(&mut rng, 2 * 5, -1.0, 1.0);
    let (mut a, mut b) = (vec![0.0; 5 * 300], vec![0.0; 5 * 300]);
    small.features(&ps, &xs, &mut a, &mut vec![0.0; small.workspace_len(5).unwrap()]).unwrap();
    small
        .features_inference(&ps, &xs, &mut b, &mut vec![0.0; small.inference_workspace_len(5).unwrap()])
        .unwrap();
    assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() <= 1e-16));
    // The workspace it asks for is enough, and one less is an error.
    let short = map.inference_workspace_len(n).unwrap() - 1;
    let r = map.features_inference(&p, &x, &mut psi_i, &mut ws_i[..short]);
    assert!(matches!(r, Err(svgp::Error::BufferTooSmall { .. })));
}
